"""Batch extraction with the semantics of Amazon Comprehend Medical's batch jobs: one
``<input>.out`` per file, plus Manifest.json, success.json and unprocessed.json.

Each file is one job: read → (store original, decode, dedupe) → extract → store → write .out.
With ``--workers N`` whole jobs run in N processes, each with its own engine and its own
SQLite connection (WAL serialises the short write transactions), so the work scales instead
of queueing behind one process that owns the store.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from services.config import Settings
from services.domain import ExtractionResult
from services.errors import ErrorCode, NoteLensError
from services.extraction import Extractor, get_extractor
from services.ingest import check_name, decode_bytes
from services.notes import NoteService


@dataclass
class BatchReport:
    input_count: int = 0
    success: list[dict[str, Any]] = field(default_factory=list)
    unprocessed: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    characters: int = 0
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.unprocessed and not self.success:
            return "FAILED"
        return "PARTIAL_SUCCESS" if self.unprocessed else "COMPLETED"

    def manifest(self, engine: str) -> dict[str, Any]:
        return {
            "Summary": {
                "Status": self.status,
                "InputFileCount": self.input_count,
                "SuccessFilesCount": len(self.success),
                "UnprocessedFilesCount": len(self.unprocessed),
                "SkippedFilesCount": self.skipped,
                "TotalMeteredCharacters": self.characters,
                "TotalDurationSeconds": round(self.seconds, 3),
                "Engine": engine,
            }
        }


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal, every 50 files otherwise)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty()

    def step(self, failed: int) -> None:
        self.done += 1
        if not self.tty and self.done != self.total and self.done % 50:
            return
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} files, {failed} failed"
        self.stream.write(("\r" if self.tty else "") + line + ("" if self.tty else "\n"))
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def input_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


@dataclass(frozen=True)
class _Job:
    path: str
    rel: str
    out: str
    force: bool


@dataclass
class _Outcome:
    rel: str
    size: int = 0
    error: tuple[str, str] | None = None
    skipped: bool = False
    characters: int = 0


# -- per process: the engine and (unless --no-store) a note service with its own connection ---
_engine: Extractor | None = None
_service: NoteService | None = None


def _init_worker(engine_name: str, settings_json: str | None) -> None:
    global _engine, _service
    _engine = get_extractor(engine_name)
    _service = None
    if settings_json is not None:
        from services.wiring import build_backends, build_recordings, build_search

        settings = Settings.model_validate_json(settings_json)
        stores = build_backends(settings)  # its own connection / clients, in the backend the settings name
        # Each worker keeps the search index in step with what it stores.
        _service = NoteService(stores.store, stores.blobs, _engine, settings.max_note_bytes,
                               on_change=build_search(settings, stores).update)
        # Recordings are transcribed in the worker (its own Whisper model, loaded on its first recording).
        _service.audio = build_recordings(_service, stores.transcripts, settings)


def out_payload(rel: str, note_id: str | None, text: str, result: ExtractionResult,
                segments: list[dict[str, Any]] | None = None) -> bytes:
    """The bytes of one ``.out`` file: the same for the local batch and the distributed one (services/distributed)."""
    payload: dict[str, Any] = {
        "file": rel,
        "note_id": note_id,
        "text": text,
        "engine": result.engine,
        "model_id": result.model_id,
        "prompt_version": result.prompt_version,
        "entities": [e.model_dump(mode="json") for e in result.entities],
        "fields": result.fields.model_dump(mode="json"),
    }
    if segments is not None:  # a recording: its transcript is the text; timed segments with speakers
        payload["segments"] = segments
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _write_out(out: Path, rel: str, note_id: str | None, text: str, result: ExtractionResult,
               segments: list[dict[str, Any]] | None = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(out_payload(rel, note_id, text, result, segments))
    os.replace(tmp, out)  # a crash never leaves a half-written .out that a re-run would skip


def _run_job(job: _Job) -> _Outcome:
    assert _engine is not None
    outcome = _Outcome(job.rel)
    out = Path(job.out)
    try:
        data = Path(job.path).read_bytes()
    except OSError as exc:
        outcome.error = (ErrorCode.READ_FAILED.value, f"Cannot read the file: {exc.strerror}.")
        return outcome
    outcome.size = len(data)
    if out.exists() and not job.force:
        try:
            json.loads(out.read_text(encoding="utf-8"))
            outcome.skipped = True
            return outcome
        except (OSError, json.JSONDecodeError):
            pass  # a broken .out from an interrupted run is redone
    try:
        note_id, text, result = _extract_file(Path(job.path).name, data, job.force)
    except NoteLensError as err:
        outcome.error = (err.code.value, err.message)
        return outcome
    _write_out(out, job.rel, note_id, text, result, _segments(note_id))
    outcome.characters = len(text)
    return outcome


def _segments(note_id: str | None) -> list[dict[str, Any]] | None:
    if _service is None or _service.audio is None or note_id is None:
        return None
    return _service.audio.segments(note_id) or None


def _extract_file(name: str, data: bytes, force: bool) -> tuple[str | None, str, ExtractionResult]:
    assert _engine is not None
    if _service is None:  # --no-store
        check_name(name)
        text = decode_bytes(data).text
        return None, text, _engine.extract(text)
    ingested = _service.ingest(name, data, source="batch", process=False)
    if ingested.error is not None:
        raise ingested.error
    note = ingested.note
    assert note.text is not None
    if ingested.duplicate and not force:
        versions = _service.store.extractions(note.id)
        if versions:
            return note.id, note.text, versions[-1].result()
        # Its twin is still being processed by another worker: extract, but store one version only.
        return note.id, note.text, _engine.extract(note.text)
    processed = _service.process(note.id)
    if processed.error is not None:
        raise processed.error
    assert processed.extraction is not None
    return note.id, note.text, processed.extraction.result()


def run_batch(
    input_dir: Path,
    output_dir: Path,
    engine: str = "local",
    workers: int = 1,
    force: bool = False,
    service: NoteService | None = None,
    settings: Settings | None = None,
    progress: bool = True,
) -> BatchReport:
    """Process every file under input_dir. Results go into the store when ``service`` (one
    process) or ``settings`` (worker processes build their own service) is given."""
    global _engine, _service
    started = time.perf_counter()
    output_dir.mkdir(parents=True, exist_ok=True)
    files = [p for p in input_files(input_dir) if output_dir not in p.parents]
    jobs = [_Job(str(p), rel, str(output_dir / f"{rel}.out"), force)
            for p in files for rel in [p.relative_to(input_dir).as_posix()]]
    report = BatchReport(input_count=len(files))
    bar = Progress(len(files)) if progress else None
    if workers > 1:
        if service is not None and settings is None:
            raise ValueError("worker processes need settings to open their own store")
        init_args = (engine, settings.model_dump_json() if (settings is not None and service is not None) else None)
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=init_args) as pool:
            _collect(pool.map(_run_job, jobs, chunksize=8), report, bar)
    else:
        _engine = service.extractor if service is not None else get_extractor(engine)
        _service = service
        _collect(map(_run_job, jobs), report, bar)
    report.seconds = time.perf_counter() - started
    (output_dir / "Manifest.json").write_text(json.dumps(report.manifest(engine), indent=2), encoding="utf-8")
    (output_dir / "success.json").write_text(
        json.dumps({"Files": report.success}, ensure_ascii=False, indent=2), encoding="utf-8")
    (output_dir / "unprocessed.json").write_text(
        json.dumps({"Files": report.unprocessed}, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def _collect(outcomes: Any, report: BatchReport, bar: Progress | None) -> None:
    for o in outcomes:
        if o.error is not None:
            report.unprocessed.append({"Input": o.rel, "ErrorCode": o.error[0], "ErrorMessage": o.error[1]})
        else:
            report.success.append({"Input": o.rel, "Output": f"{o.rel}.out", "InputSize": o.size})
            report.skipped += o.skipped
            report.characters += o.characters
        if bar:
            bar.step(len(report.unprocessed))
