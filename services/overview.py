"""What the Home page shows: counts by status, the notes changed last, what needs attention (failed notes to retry,
notes not reviewed yet) and whether each configured engine and backend can be used. Checks are local and quick:
no cloud call is made to render Home."""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass, field

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


def overview(store: SQLiteStore, settings: Settings, backends: dict[str, str], limit: int = 8) -> Overview:
    total, unreviewed = store.unreviewed(limit)
    checks = [engine_check(settings)]
    checks += [Check(component, backend, "ok") for component, backend in backends.items()
               if component != "extraction" and backend not in ("—", "")]
    return Overview(counts=store.counts(), recent=store.recent(limit),
                    failed=store.list_notes(status=NoteStatus.FAILED, limit=limit, with_text=False),
                    unreviewed_total=total, unreviewed=unreviewed, checks=checks)
