"""What the Home page shows: counts by status, the notes changed last, what needs attention (failed notes to retry,
notes not reviewed yet) and whether each configured engine and backend can be used. Checks are local and quick:
no cloud call is made to render Home."""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from services.config import Settings
from services.domain import Note, NoteStatus
from services.store.sqlite import SQLiteStore


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


def overview(store: SQLiteStore, settings: Settings, backends: dict[str, str], limit: int = 8) -> Overview:
    total, unreviewed = store.unreviewed(limit)
    checks = [engine_check(settings)]
    for component, backend in backends.items():
        if component == "transcription":
            checks.append(transcription_check(settings, backend))
        elif component != "extraction" and backend not in ("—", ""):
            checks.append(Check(component, backend, "ok"))
    return Overview(counts=store.counts(), recent=store.recent(limit),
                    failed=store.list_notes(status=NoteStatus.FAILED, limit=limit, with_text=False),
                    unreviewed_total=total, unreviewed=unreviewed, checks=checks)
