"""``python -m services migrate --to aws``: copy the local backends (SQLite records, the folder of originals,
transcripts, saved searches, the LLM cache) to the AWS ones (DynamoDB, S3), or between any two sets of stores that
implement the protocols and the export/import pair.

Every note keeps its id, versions, ids, reviewers and timestamps. A re-run skips what is already there and
completes what a failed run left: a note's originals are copied before the note, the note item is the last thing
its import writes (so a note present in the destination has its versions and originals), and transcripts, speaker
names, saved searches and cache entries are compared one by one on every run.
One failure never stops the run: it is counted and reported (type and code only, never note text), and the next
run retries it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, cast

from services.aws import error_code
from services.config import Settings
from services.search.service import SavedSearchStore
from services.store.bundle import CacheEntry, NoteBundle
from services.transcription.store import TranscriptStore

log = logging.getLogger(__name__)


class RecordStore(Protocol):
    """What a migration needs of a record store beyond reading notes: both SQLiteStore and DynamoDBStore have it."""

    def scan_notes(self, after: str = "", limit: int = 500, with_text: bool = True) -> list[Any]: ...
    def get_note(self, note_id: str) -> Any: ...
    def export_note(self, note_id: str) -> NoteBundle | None: ...
    def import_note(self, bundle: NoteBundle) -> bool: ...
    def cache_scan(self) -> Iterator[CacheEntry]: ...
    def cache_get(self, key: str) -> tuple[str, str] | None: ...
    def cache_put(self, key: str, engine: str, model_id: str, prompt_ref: str, result_json: str, usage_json: str) -> None: ...


class Blobs(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes | None: ...
    def exists(self, sha256: str) -> bool: ...


@dataclass
class Backends:
    store: RecordStore
    blobs: Blobs
    transcripts: TranscriptStore
    saved: SavedSearchStore


@dataclass
class Tally:
    copied: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass
class MigrationReport:
    dry_run: bool = False
    notes: Tally = field(default_factory=Tally)
    originals: Tally = field(default_factory=Tally)
    transcripts: Tally = field(default_factory=Tally)  # transcript versions (and speaker names, per note)
    saved_searches: Tally = field(default_factory=Tally)
    cache: Tally = field(default_factory=Tally)
    missing_originals: list[str] = field(default_factory=list)  # marked stored in the source, but not in its folder
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(t.failed for t in (self.notes, self.originals, self.transcripts, self.saved_searches, self.cache))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _describe(exc: BaseException) -> str:
    # Type and service error code, never the message of an arbitrary exception (it could quote note text).
    code = error_code(exc)
    return f"{type(exc).__name__}{f' ({code})' if code != type(exc).__name__ else ''}"


def migrate(src: Backends, dst: Backends, dry_run: bool = False, page: int = 200,
            progress: Callable[[int], None] | None = None) -> MigrationReport:
    report = MigrationReport(dry_run=dry_run)

    def failed(tally: Tally, kind: str, ident: str, exc: BaseException) -> None:
        tally.failed += 1
        report.failures.append({"kind": kind, "id": ident, "error": _describe(exc)})
        log.warning("migrate: %s %s failed: %s", kind, ident, _describe(exc))

    after, done = "", 0
    while True:
        notes = src.store.scan_notes(after=after, limit=page, with_text=False)
        if not notes:
            break
        for note in notes:
            try:
                _copy_note(src, dst, note.id, report, dry_run, failed)
            except Exception as exc:  # the note is retried by the next run
                failed(report.notes, "note", note.id, exc)
            done += 1
        after = notes[-1].id
        if progress:
            progress(done)

    for name, query in src.saved.all():
        try:
            if dst.saved.get(name) == query:
                report.saved_searches.skipped += 1
            else:
                if not dry_run:
                    dst.saved.save(name, query)
                report.saved_searches.copied += 1
        except Exception as exc:
            failed(report.saved_searches, "saved_search", name, exc)

    for key, engine, model_id, prompt_ref, result_json, usage_json in src.store.cache_scan():
        try:
            if dst.store.cache_get(key) == (result_json, usage_json):
                report.cache.skipped += 1
            else:
                if not dry_run:
                    dst.store.cache_put(key, engine, model_id, prompt_ref, result_json, usage_json)
                report.cache.copied += 1
        except Exception as exc:
            failed(report.cache, "cache", key, exc)
    return report


def _copy_note(src: Backends, dst: Backends, note_id: str, report: MigrationReport, dry_run: bool,
               failed: Callable[[Tally, str, str, BaseException], None]) -> None:
    bundle = src.store.export_note(note_id)
    if bundle is None:  # gone since the scan
        return
    # Originals first: a note in the destination has the bytes it points at.
    for source in bundle.sources:
        if not source.stored:
            continue
        try:
            if dst.blobs.exists(source.raw_sha256):
                report.originals.skipped += 1
                continue
            data = src.blobs.get(source.raw_sha256)
            if data is None:
                report.missing_originals.append(source.raw_sha256)
                continue
            if not dry_run:
                dst.blobs.put(data)
            report.originals.copied += 1
        except Exception as exc:
            failed(report.originals, "original", source.raw_sha256, exc)
            raise  # the note waits for its original: the next run copies both

    if dry_run:
        there = dst.store.export_note(note_id)
        up_to_date = there is not None and there.extraction_version >= bundle.extraction_version and (
            there.review_version >= bundle.review_version)
        copied = not up_to_date
    else:
        copied = dst.store.import_note(bundle)
    if copied:
        report.notes.copied += 1
    else:
        report.notes.skipped += 1

    # After the note: SQLite's transcripts refer to it. Every run compares versions, so order is no shortcut.
    try:
        versions = src.transcripts.versions(note_id)
        if versions:
            have = {v.version for v in dst.transcripts.versions(note_id)}
            new = [v for v in versions if v.version not in have]
            if new and not dry_run:
                dst.transcripts.import_versions(note_id, new)
            report.transcripts.copied += len(new)
            report.transcripts.skipped += len(versions) - len(new)
        speakers = src.transcripts.speakers(note_id)
        if speakers and not dry_run and dst.transcripts.speakers(note_id) != speakers:
            dst.transcripts.set_speakers(note_id, speakers)
    except Exception as exc:  # the note is there; the next run copies what is missing
        failed(report.transcripts, "transcript", note_id, exc)


# -- command line --------------------------------------------------------------------------------------------

def backends(settings: Settings, kind: str) -> Backends:
    """The local or aws stores as services/wiring.py builds them for the app (the one place that picks adapters)."""
    from services.wiring import build_backends

    built = build_backends(settings, kind)
    # Both record stores and both blob stores have the export/import side (tests/test_store_contract.py).
    return Backends(cast(RecordStore, built.store), cast(Blobs, built.blobs), built.transcripts, built.saved)


def local_backends(settings: Settings) -> Backends:
    return backends(settings, "local")


def aws_backends(settings: Settings) -> Backends:
    """The AWS stores the settings name (S3 bucket and prefix, KMS key, DynamoDB table)."""
    if not settings.s3_bucket:
        raise SystemExit("migrate --to aws needs NOTELENS_S3_BUCKET (originals and large note texts go there).")
    return backends(settings, "aws")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("migrate", help="copy local data (notes and every version, originals, transcripts, saved "
                                       "searches, LLM cache) to the AWS backends; a re-run completes a failed one")
    p.add_argument("--to", required=True, choices=["aws"], help="destination backends (from NOTELENS_S3_BUCKET, "
                                                                "NOTELENS_DYNAMODB_TABLE and the AWS configuration)")
    p.add_argument("--dry-run", action="store_true", help="count what would be copied, write nothing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from services.config import load_settings

    settings = settings or load_settings()
    src, dst = local_backends(settings), aws_backends(settings)
    report = migrate(src, dst, dry_run=args.dry_run,
                     progress=lambda n: print(f"{n} notes", file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        verb = "would copy" if args.dry_run else "copied"
        for name in ("notes", "originals", "transcripts", "saved_searches", "cache"):
            t: Tally = getattr(report, name)
            print(f"{name:15} {verb} {t.copied:6}  already there {t.skipped:6}  failed {t.failed:4}")
        if report.missing_originals:
            print(f"{len(report.missing_originals)} originals marked stored are missing from the local folder")
        for f in report.failures[:20]:
            print(f"failed: {f['kind']} {f['id']}: {f['error']}", file=sys.stderr)
        if report.failed:
            print("Run the same command again to retry what failed.", file=sys.stderr)
    return 1 if report.failed else 0
