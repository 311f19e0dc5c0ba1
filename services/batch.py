"""Batch extraction with the semantics of Amazon Comprehend Medical's batch jobs: one
``<input>.out`` per file, plus Manifest.json, success.json and unprocessed.json."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from services.domain import ExtractionResult, NoteStatus
from services.errors import ErrorCode, NoteLensError
from services.extraction import Extractor, get_extractor
from services.ingest import check_name, decode_bytes
from services.notes import NoteService

_REPORT_FILES = {"Manifest.json", "success.json", "unprocessed.json"}


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
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty()

    def step(self, failed: int) -> None:
        self.done += 1
        if not self.tty and self.done not in (self.total,) and self.done % 50:
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


# -- worker side: one engine per process -------------------------------------------------------
_worker_engine: Extractor | None = None


def _init_worker(engine_name: str) -> None:
    global _worker_engine
    _worker_engine = get_extractor(engine_name)


def _extract_here(text: str) -> tuple[ExtractionResult, float]:
    assert _worker_engine is not None
    started = time.perf_counter()
    return _worker_engine.extract(text), (time.perf_counter() - started) * 1000


def _extract(text: str) -> tuple[dict[str, Any], float]:
    """In a worker process: results cross the process boundary as plain dicts."""
    assert _worker_engine is not None
    started = time.perf_counter()
    result = _worker_engine.extract(text)
    return result.model_dump(mode="json"), (time.perf_counter() - started) * 1000


@dataclass
class _Job:
    path: Path
    rel: str
    size: int
    note_id: str | None = None
    text: str | None = None
    result: ExtractionResult | None = None
    error: NoteLensError | None = None


def _chunks(items: list[_Job], size: int) -> Iterator[list[_Job]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def run_batch(
    input_dir: Path,
    output_dir: Path,
    engine: str = "local",
    workers: int = 1,
    force: bool = False,
    service: NoteService | None = None,
    progress: bool = True,
) -> BatchReport:
    """Process every file under input_dir. ``service`` None means --no-store."""
    started = time.perf_counter()
    output_dir.mkdir(parents=True, exist_ok=True)
    files = [p for p in input_files(input_dir) if output_dir not in p.parents]
    report = BatchReport(input_count=len(files))
    bar = Progress(len(files)) if progress else None
    pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(engine,)) if workers > 1 else None
    if pool is None:
        _init_worker(engine)
    try:
        for chunk in _chunks([_Job(p, p.relative_to(input_dir).as_posix(), 0) for p in files], 64 * max(workers, 1)):
            _prepare(chunk, output_dir, force, service, report)
            todo = [j for j in chunk if j.error is None and j.result is None and j.text is not None]
            texts = [j.text or "" for j in todo]
            results: Iterable[tuple[ExtractionResult | dict[str, Any], float]]
            results = pool.map(_extract, texts, chunksize=8) if pool else map(_extract_here, texts)
            for job, (payload, ms) in zip(todo, results, strict=True):
                job.result = payload if isinstance(payload, ExtractionResult) else ExtractionResult.model_validate(payload)
                if service is not None and job.note_id is not None:
                    service.store.add_extraction(job.note_id, job.result, ms)
            for job in chunk:
                _finish(job, output_dir, engine, report)
                if bar:
                    bar.step(len(report.unprocessed))
    finally:
        if pool is not None:
            pool.shutdown()
    report.seconds = time.perf_counter() - started
    (output_dir / "Manifest.json").write_text(json.dumps(report.manifest(engine), indent=2), encoding="utf-8")
    (output_dir / "success.json").write_text(
        json.dumps({"Files": report.success}, ensure_ascii=False, indent=2), encoding="utf-8")
    (output_dir / "unprocessed.json").write_text(
        json.dumps({"Files": report.unprocessed}, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def _out_path(output_dir: Path, rel: str) -> Path:
    return output_dir / f"{rel}.out"


def _prepare(chunk: list[_Job], output_dir: Path, force: bool, service: NoteService | None, report: BatchReport) -> None:
    for job in chunk:
        out = _out_path(output_dir, job.rel)
        try:
            data = job.path.read_bytes()
        except OSError as exc:
            job.error = NoteLensError(ErrorCode.READ_FAILED, f"Cannot read the file: {exc.strerror}.")
            continue
        job.size = len(data)
        if out.exists() and not force:
            try:
                json.loads(out.read_text(encoding="utf-8"))
                job.result = ExtractionResult(engine="skipped")
                report.skipped += 1
                continue
            except (OSError, json.JSONDecodeError):
                pass  # a broken .out from an interrupted run is redone
        if service is None:
            try:
                check_name(job.path.name)
                job.text = decode_bytes(data).text
            except NoteLensError as err:
                job.error = err
            continue
        outcome = service.ingest(job.path.name, data, source="batch", process=False)
        job.note_id = outcome.note.id
        if outcome.error is not None:
            job.error = outcome.error
            continue
        job.text = outcome.note.text
        if outcome.duplicate and not force:
            latest = service.store.extractions(outcome.note.id)
            if latest:
                last = latest[-1]
                job.result = ExtractionResult(engine=last.engine, model_id=last.model_id,
                                              prompt_version=last.prompt_version, entities=last.entities, fields=last.fields)
                continue
        service.store.set_status(outcome.note.id, NoteStatus.PROCESSING)


def _finish(job: _Job, output_dir: Path, engine: str, report: BatchReport) -> None:
    out = _out_path(output_dir, job.rel)
    rel_out = out.relative_to(output_dir).as_posix()
    if job.error is not None:
        report.unprocessed.append({"Input": job.rel, "ErrorCode": job.error.code.value, "ErrorMessage": job.error.message})
        return
    assert job.result is not None
    if job.result.engine != "skipped":
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "file": job.rel,
            "note_id": job.note_id,
            "text": job.text,
            "engine": job.result.engine,
            "model_id": job.result.model_id,
            "prompt_version": job.result.prompt_version,
            "entities": [e.model_dump(mode="json") for e in job.result.entities],
            "fields": job.result.fields.model_dump(mode="json"),
        }
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, out)
        report.characters += len(job.text or "")
    report.success.append({"Input": job.rel, "Output": rel_out, "InputSize": job.size})
