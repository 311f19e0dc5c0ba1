"""The note workflow every page and the CLI use: store the original, decode, dedupe, extract,
review, export. Failures are recorded on the note and can be retried."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.domain import Category, Entity, Extraction, Note, NoteFields, NoteStatus, Review
from services.errors import ErrorCode, NoteLensError, explain_engine_error
from services.extraction import Extractor
from services.ingest import DecodedNote, check_name, decode_bytes, decode_with
from services.store import BlobStore, NoteExists, NoteStore

if TYPE_CHECKING:
    from services.recordings import RecordingService

log = logging.getLogger(__name__)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class IngestOutcome:
    note: Note
    duplicate: bool = False
    error: NoteLensError | None = None
    extraction: Extraction | None = None  # the version this call stored, if any

    @property
    def ok(self) -> bool:
        return self.error is None and self.note.status is NoteStatus.DONE


@dataclass
class NoteView:
    """A note with the entities in force (latest review, else latest extraction)."""

    note: Note
    extraction: Extraction | None
    review: Review | None
    extractions: list[Extraction] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    @property
    def entities(self) -> list[Entity]:
        if self.review is not None:
            return self.review.entities
        return self.extraction.entities if self.extraction else []

    @property
    def fields(self) -> NoteFields:
        if self.review is not None:
            return self.review.fields
        return self.extraction.fields if self.extraction else NoteFields()


class NoteService:
    # Recordings go through services/recordings.py when the wiring attaches it (transcribed, then extracted).
    audio: RecordingService | None = None

    def __init__(self, store: NoteStore, blobs: BlobStore, extractor: Extractor, max_note_bytes: int,
                 on_change: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.blobs = blobs
        self.extractor = extractor
        self.max_note_bytes = max_note_bytes
        # Told the id of every note whose text, entities or review changed (the search index keeps in step).
        self.on_change = on_change

    def _changed(self, note_id: str) -> None:
        if self.on_change is not None:
            self.on_change(note_id)

    # -- ingest ------------------------------------------------------------------------------

    def ingest(self, filename: str, data: bytes, source: str = "upload", process: bool = True,
               progress: Callable[[float], None] | None = None) -> IngestOutcome:
        if self.audio is not None and self.audio.handles(filename):
            return self.audio.ingest(filename, data, source=source, process=process, progress=progress)
        raw = sha256(data)
        existing = self.store.note_for_source(raw)
        if existing is not None and existing.status is not NoteStatus.FAILED:
            return IngestOutcome(existing, duplicate=True)
        if len(data) > self.max_note_bytes:
            err = NoteLensError(
                ErrorCode.TOO_LARGE,
                f"The file is {len(data):,} bytes; the limit is {self.max_note_bytes:,} (NOTELENS_MAX_NOTE_BYTES).",
            )
            if existing is not None:
                self.store.set_status(existing.id, NoteStatus.FAILED, err.code, err.message)
                return IngestOutcome(self._get(existing.id), error=err)
            return IngestOutcome(self._create_failed(raw, filename, len(data), source, False, err), error=err)
        # The original is kept before anything else can fail.
        self.blobs.put(data)
        if existing is not None:
            self.store.link_source(raw, existing.id, filename, len(data), stored=True)
            return self.retry(existing.id, process=process)
        try:
            check_name(filename)
            decoded = decode_bytes(data)
        except NoteLensError as err:
            return IngestOutcome(self._create_failed(raw, filename, len(data), source, True, err), error=err)
        text_sha = sha256(decoded.text.encode("utf-8"))
        twin = self.store.note_for_text(text_sha)
        if twin is not None:
            # Same text in another encoding or with a BOM: one note, two sources.
            self.store.link_source(raw, twin.id, filename, len(data), stored=True)
            return IngestOutcome(twin, duplicate=True)
        try:
            note = self.store.create_note(
                note_id=raw[:12], filename=filename, raw_sha256=raw, size=len(data), source=source, stored=True,
                text=decoded.text, encoding=decoded.encoding, text_sha256=text_sha,
            )
        except NoteExists:
            # Another batch worker stored the same content between our lookup and insert.
            twin = self.store.note_for_source(raw) or self.store.note_for_text(text_sha)
            if twin is None:
                raise
            self.store.link_source(raw, twin.id, filename, len(data), stored=True)
            return IngestOutcome(twin, duplicate=True)
        if not process:
            self._changed(note.id)
            return IngestOutcome(self._get(note.id))
        return self._process(note.id)

    def _create_failed(self, raw: str, filename: str, size: int, source: str, stored: bool, err: NoteLensError) -> Note:
        try:
            return self.store.create_note(note_id=raw[:12], filename=filename, raw_sha256=raw, size=size,
                                          source=source, stored=stored, error=(err.code.value, err.message))
        except NoteExists:  # the same bad file, recorded by another batch worker a moment ago
            return self._get(raw[:12])

    def _set_text(self, note_id: str, decoded: DecodedNote) -> None:
        self.store.set_text(note_id, decoded.text, decoded.encoding, sha256(decoded.text.encode("utf-8")))

    def _get(self, note_id: str) -> Note:
        note = self.store.get_note(note_id)
        if note is None:
            raise KeyError(note_id)
        return note

    def _process(self, note_id: str, claimed: bool = False) -> IngestOutcome:
        note = self._get(note_id)
        assert note.text is not None
        if not claimed:  # a claim (store.claim) already set processing and counted the attempt
            self.store.set_status(note_id, NoteStatus.PROCESSING)
        started = time.perf_counter()
        try:
            result = self.extractor.extract(note.text)
        except Exception as exc:  # an engine failure must not lose the note
            log.warning("extraction failed for note %s: %s", note_id, type(exc).__name__)
            log.debug("extraction failure detail", exc_info=True)
            # What to do about it (credentials, region, model access, endpoint), stored on the note for the UI.
            err = NoteLensError(ErrorCode.EXTRACTION_FAILED,
                                f"The {self.extractor.name} engine failed: {explain_engine_error(exc)}")
            self.store.set_status(note_id, NoteStatus.FAILED, err.code, err.message)
            self._changed(note_id)
            return IngestOutcome(self._get(note_id), error=err)
        extraction = self.store.add_extraction(note_id, result, (time.perf_counter() - started) * 1000)
        self._changed(note_id)
        return IngestOutcome(self._get(note_id), extraction=extraction)

    def process(self, note_id: str, claimed: bool = False) -> IngestOutcome:
        """Run the configured engine again; earlier extractions are kept as versions. ``claimed``: the caller took
        the note with ``store.claim`` (queue workers), so the attempt is not counted twice."""
        return self._process(note_id, claimed)

    def retry(self, note_id: str, encoding: str | None = None, process: bool = True,
              claimed: bool = False) -> IngestOutcome:
        """Retry a failed note from its stored original, optionally with a chosen encoding. ``process=False`` only
        decodes (or transcribes) again: a queue worker extracts after it has claimed the note."""
        note = self._get(note_id)
        if note.text is not None and encoding is None:
            return self._process(note_id, claimed) if process else IngestOutcome(note)
        if self.audio is not None and self.audio.handles(note.filename):
            return self.audio.retry(note_id, process=process)
        data = self.blobs.get(note.raw_sha256)
        if data is None:
            err = NoteLensError(ErrorCode.ORIGINAL_MISSING, "The original file was not stored (too large?); upload it again.")
            return IngestOutcome(note, error=err)
        try:
            check_name(note.filename)
            decoded = decode_with(data, encoding) if encoding else decode_bytes(data)
        except NoteLensError as err:
            self.store.set_status(note_id, NoteStatus.FAILED, err.code, err.message)
            return IngestOutcome(self._get(note_id), error=err)
        twin = self.store.note_for_text(sha256(decoded.text.encode("utf-8")))
        if twin is not None and twin.id != note_id:
            return IngestOutcome(twin, duplicate=True)
        self._set_text(note_id, decoded)
        return self._process(note_id, claimed) if process else IngestOutcome(self._get(note_id))

    def ingest_path(self, path: Path, source: str = "upload", process: bool = True) -> IngestOutcome:
        return self.ingest(path.name, path.read_bytes(), source=source, process=process)

    def seed(self, folder: Path) -> int:
        """Load sample notes once (first start); returns how many new notes were added."""
        added = 0
        for path in sorted(folder.glob("*.txt")):
            outcome = self.ingest_path(path, source="sample")
            added += int(not outcome.duplicate and outcome.ok)
        return added

    # -- reading -----------------------------------------------------------------------------

    def view(self, note_id: str) -> NoteView:
        note = self._get(note_id)
        extractions = self.store.extractions(note_id)
        reviews = self.store.reviews(note_id)
        return NoteView(
            note=note,
            extraction=extractions[-1] if extractions else None,
            review=reviews[-1] if reviews else None,
            extractions=extractions,
            reviews=reviews,
        )

    # -- review ------------------------------------------------------------------------------

    def save_review(self, note_id: str, reviewer: str, rows: list[dict[str, Any]], fields: NoteFields | None = None,
                    base_version: int | None = None) -> Review:
        """Store a clinician's review as a new version. ``rows`` are entity dicts with an
        optional ``status`` of accept/reject; rows without offsets are located in the text.
        ``base_version`` is the review version the reviewer started from (0: none): if someone saved
        after it, ReviewConflict is raised and nothing is written."""
        reviewer = reviewer.strip()
        if not reviewer:
            raise ValueError("A reviewer name is required.")
        view = self.view(note_id)
        if view.extraction is None or view.note.text is None:
            raise ValueError("This note has no extraction to review yet.")
        text = view.note.text
        base = {(e.category.value, e.begin, e.end): e for e in view.entities}
        kept: list[Entity] = []
        changes: dict[str, list[dict[str, Any]]] = {"accepted": [], "rejected": [], "edited": [], "added": []}
        for row in rows:
            status = str(row.get("status") or "accept")
            entity = self._entity_from_row(text, row)
            if entity is None:
                continue
            ob, oe = row.get("orig_begin"), row.get("orig_end")
            original = None
            if ob is not None and oe is not None and ob == ob:  # NaN for added rows
                original = base.get((str(row.get("orig_category") or entity.category.value), int(ob), int(oe)))
            summary = {"category": entity.category.value, "text": entity.text, "begin": entity.begin}
            if status == "reject":
                changes["rejected"].append(summary)
                continue
            kept.append(entity)
            if original is None:
                changes["added"].append(summary)
            elif _differs(original, entity):
                changes["edited"].append(summary)
            else:
                changes["accepted"].append(summary)
        counts = {k: len(v) for k, v in changes.items()}
        review = self.store.add_review(
            note_id, view.extraction.id, reviewer, sorted(kept, key=lambda e: (e.begin, e.end)),
            fields or view.fields, {"counts": counts, **changes}, expected_version=base_version,
        )
        self._changed(note_id)
        return review

    @staticmethod
    def _entity_from_row(text: str, row: dict[str, Any]) -> Entity | None:
        mention = str(row.get("text") or "").strip()
        category = str(row.get("category") or "").strip()
        if not mention or category not in {c.value for c in Category}:
            return None
        begin = row.get("begin")
        begin = int(begin) if begin is not None and str(begin) not in ("", "nan", "None") else None
        grounded = True
        if begin is None or text[begin:begin + len(mention)] != mention:
            # Edited or added text: find it nearest to where it was, else flag it.
            hint = begin or 0
            candidates = [i for i in _find_all(text, mention)]
            if candidates:
                begin = min(candidates, key=lambda i: abs(i - hint))
            else:
                begin, grounded = 0, False
        end = begin + len(mention) if grounded else 0
        attrs = row.get("attributes") or {}
        if isinstance(attrs, str):
            try:
                attrs = json.loads(attrs) if attrs.strip() else {}
            except json.JSONDecodeError:
                attrs = {}
        return Entity(
            category=Category(category), text=mention, begin=begin, end=end,
            negated=_truthy(row.get("negated")), uncertain=_truthy(row.get("uncertain")),
            historical=_truthy(row.get("historical")), family=_truthy(row.get("family")),
            section=row.get("section") or None, attributes={str(k): str(v) for k, v in dict(attrs).items()},
            normalized=(str(row.get("normalized")).strip() or None) if row.get("normalized") not in (None, "") else None,
            code=(str(row.get("code")).strip() or None) if row.get("code") not in (None, "") else None,
            code_system=row.get("code_system") or None,
            score=1.0, engine="review", grounded=grounded,
        )

    # -- export ------------------------------------------------------------------------------

    def export_json(self, note_id: str, view: NoteView | None = None) -> str:
        view = view or self.view(note_id)
        payload = {
            "note_id": view.note.id,
            "file": view.note.filename,
            "text": view.note.text,
            "engine": view.extraction.engine if view.extraction else None,
            "review_version": view.review.version if view.review else None,
            "reviewer": view.review.reviewer if view.review else None,
            "entities": [e.model_dump(mode="json") for e in view.entities],
            "fields": view.fields.model_dump(mode="json"),
        }
        return json.dumps(payload, ensure_ascii=False, indent=2)

    def export_csv(self, note_id: str, view: NoteView | None = None) -> str:
        buf = io.StringIO()
        cols = ["category", "text", "begin", "end", "negated", "uncertain", "historical", "family", "section",
                "normalized", "code", "code_system", "score", "engine", "grounded", "attributes"]
        writer = csv.DictWriter(buf, fieldnames=cols)
        writer.writeheader()
        for e in (view or self.view(note_id)).entities:
            row = e.model_dump(mode="json")
            row["attributes"] = json.dumps(row["attributes"], ensure_ascii=False)
            writer.writerow({c: row.get(c) for c in cols})
        # A BOM so Excel (the usual tool in Korean hospitals) opens Hangul correctly.
        return "\ufeff" + buf.getvalue()


def _find_all(text: str, needle: str) -> list[int]:
    out, i = [], text.find(needle)
    while i >= 0:
        out.append(i)
        i = text.find(needle, i + 1)
    return out


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y")
    return bool(value) and value == value  # NaN is falsy here


def _differs(a: Entity, b: Entity) -> bool:
    keys = ("category", "text", "begin", "end", "negated", "uncertain", "historical", "family", "normalized", "code")
    return any(getattr(a, k) != getattr(b, k) for k in keys) or a.attributes != b.attributes
