"""What the Home page shows: counts by status, the notes changed last, what needs attention (failed notes to retry,
notes not reviewed yet) and whether each configured engine and backend can be used. Engine checks are local (no
model is called to render Home); cloud backends (S3, DynamoDB, OpenSearch, SQS) get one short call each, remembered
for 30 seconds."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.config import Settings
from services.domain import Note, NoteStatus
from services.store import NoteStore

# A cloud backend's reachability: (ok | missing | unreachable, detail). One short call (HeadBucket, DescribeTable, …).
Probe = Callable[[], tuple[str, str]]
PROBE_TTL_S = 30.0  # Home reruns on every click; a backend is asked at most this often
_probe_cache: dict[str, tuple[float, tuple[str, str]]] = {}  # by backend: search and analytics share a cluster
_probe_lock = threading.Lock()


@dataclass(frozen=True)
class Check:
    component: str  # extraction | storage | search | transcription
    backend: str
    status: str  # ok | configured | missing | unreachable
    detail: str = ""


@dataclass
class Overview:
    counts: dict[str, int]
    recent: list[Note]
    failed: list[Note]
    unreviewed_total: int
    unreviewed: list[Note]
    checks: list[Check] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.counts.get("notes", 0) == 0


def _aws_ready() -> tuple[str, str]:
    """Whether boto3's standard chain finds credentials and a region, without calling AWS."""
    try:
        import boto3

        session = boto3.session.Session()
        creds = session.get_credentials()
    except Exception as exc:  # a broken profile file is a configuration problem, not a crash
        return "missing", type(exc).__name__
    if creds is None:
        return "missing", "no AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    if not session.region_name:
        return "missing", "no AWS region (AWS_DEFAULT_REGION or the profile's region)"
    return "configured", f"region {session.region_name}"


def _reachable(url: str, timeout: float = 1.0) -> tuple[str, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - the configured endpoint
            return "ok", url
    except Exception as exc:  # anything that is not an answer means the page should say so
        return "unreachable", f"{url}: {type(exc).__name__}"


def engine_check(settings: Settings) -> Check:
    engine = settings.extraction_engine
    if engine == "local":
        return Check("extraction", "local", "ok")
    if engine in ("claude", "comprehend-medical"):
        status, detail = _aws_ready()
        model = settings.claude_model_id if engine == "claude" else "DetectEntitiesV2"
        endpoint = os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME" if engine == "claude" else "AWS_ENDPOINT_URL_COMPREHENDMEDICAL")
        return Check("extraction", f"{engine} ({model})", status, detail + (f", endpoint {endpoint}" if endpoint else ""))
    status, detail = _reachable(settings.llm_base_url.rstrip("/") + "/models")
    return Check("extraction", f"llm ({settings.llm_model})", status, detail)


def transcription_check(settings: Settings, backend: str) -> Check:
    if settings.transcription_engine == "transcribe":
        status, detail = _aws_ready()
        if not settings.transcribe_bucket:
            status, detail = "missing", "no S3 bucket (NOTELENS_TRANSCRIBE_BUCKET)"
        return Check("transcription", backend, status, detail)
    from services.errors import NoteLensError
    from services.transcription.whisper import resolve_model

    try:
        where = resolve_model(settings.whisper_model, settings.data_dir)
    except NoteLensError as exc:
        return Check("transcription", backend, "missing", exc.message)
    if not (Path(where) / "model.bin").is_file():  # not a local folder: faster-whisper would have to download it
        return Check("transcription", backend, "missing",
                     "no local Whisper model: python scripts/assemble_whisper_base.py, or NOTELENS_WHISPER_MODEL=<folder>")
    return Check("transcription", backend, "ok", where)


def probe_check(component: str, backend: str, probe: Probe, aws: bool = True) -> Check:
    """A cloud backend's state: missing AWS configuration first (no call), else one short call, remembered."""
    if aws:
        status, detail = _aws_ready()
        if status == "missing":
            return Check(component, backend, status, detail)
    key = backend
    now = time.monotonic()
    with _probe_lock:
        hit = _probe_cache.get(key)
    if hit is not None and now - hit[0] < PROBE_TTL_S:
        status, detail = hit[1]
    else:
        try:
            status, detail = probe()
        except Exception as exc:  # whatever the SDK raises, Home says the backend does not answer
            status, detail = "unreachable", type(exc).__name__
        with _probe_lock:
            _probe_cache[key] = (now, (status, detail))
    return Check(component, backend, status, detail)


def queue_check(queue_url: str) -> tuple[str, str]:
    """Whether the batch queue answers (GetQueueAttributes), with its visible and in-flight message counts."""
    from services import aws

    attrs = aws.client("sqs", quick=True).get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return "ok", (f"{attrs.get('ApproximateNumberOfMessages', '?')} waiting, "
                  f"{attrs.get('ApproximateNumberOfMessagesNotVisible', '?')} in progress")


def overview(store: NoteStore, settings: Settings, backends: dict[str, str], limit: int = 8,
             probes: dict[str, Probe] | None = None) -> Overview:
    total, unreviewed = store.unreviewed(limit)
    probes = probes or {}
    checks = [engine_check(settings)]
    for component, backend in backends.items():
        if component == "transcription":
            checks.append(transcription_check(settings, backend))
        elif component in probes:
            # OpenSearch with basic auth needs no AWS configuration; everything else probed here is an AWS service.
            opensearch_basic = component in ("search", "analytics") and settings.opensearch_auth == "basic"
            checks.append(probe_check(component, backend, probes[component], aws=not opensearch_basic))
        elif component != "extraction" and backend not in ("—", ""):
            checks.append(Check(component, backend, "ok"))
    return Overview(counts=store.counts(), recent=store.recent(limit),
                    failed=store.list_notes(status=NoteStatus.FAILED, limit=limit, with_text=False),
                    unreviewed_total=total, unreviewed=unreviewed, checks=checks)
