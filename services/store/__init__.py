"""Storage ports. The embedded SQLite adapter is the default; cloud adapters implement the
same protocols (see services/wiring.py, the one place that picks an adapter)."""

from __future__ import annotations

from typing import Any, Protocol

from services.domain import Entity, Extraction, ExtractionResult, Note, NoteFields, NoteStatus, Review


class NoteExists(Exception):
    """create_note lost a race: another process stored the same content first."""


class ReviewConflict(Exception):
    """Another reviewer saved this note after the version this review started from: nothing was written. The
    caller reloads the note (its latest review) and saves again."""

    def __init__(self, note_id: str, expected: int, found: int) -> None:
        super().__init__(f"note {note_id}: review version {found} was saved after version {expected}")
        self.note_id, self.expected, self.found = note_id, expected, found


class BlobStore(Protocol):
    """Content-addressed store for original upload bytes."""

    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes | None: ...


class NoteStore(Protocol):
    def note_for_source(self, raw_sha256: str) -> Note | None: ...
    def note_for_text(self, text_sha256: str) -> Note | None: ...
    def create_note(
        self, *, note_id: str, filename: str, raw_sha256: str, size: int, source: str, stored: bool,
        text: str | None = None, encoding: str | None = None, text_sha256: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> Note: ...
    def link_source(self, raw_sha256: str, note_id: str, filename: str, size: int, stored: bool) -> None: ...
    def set_text(self, note_id: str, text: str, encoding: str, text_sha256: str) -> None: ...
    def set_status(
        self, note_id: str, status: NoteStatus, error_code: str | None = None, error_message: str | None = None
    ) -> None: ...
    def claim(self, note_id: str, lease_seconds: float) -> bool:
        """Take a note for processing, atomically: True (status processing, attempts + 1) when it is stored or
        failed, or processing under a lease older than ``lease_seconds`` (its worker died); False when it is done or
        another live worker holds it. Queue workers call this so no note is processed twice."""
        ...
    def get_note(self, note_id: str) -> Note | None: ...
    def list_notes(self, status: NoteStatus | None = None, limit: int = 1000, with_text: bool = True) -> list[Note]: ...
    def add_extraction(self, note_id: str, result: ExtractionResult, duration_ms: float) -> Extraction:
        """Store a new extraction version and mark the note done, in one transaction."""
        ...
    def extractions(self, note_id: str) -> list[Extraction]: ...
    def add_review(
        self,
        note_id: str,
        extraction_id: int,
        reviewer: str,
        entities: list[Entity],
        fields: NoteFields,
        changes: dict[str, Any],
        expected_version: int | None = None,
    ) -> Review:
        """Store a review as the next version. With ``expected_version`` (the latest review version the reviewer
        started from, 0 for none) a review saved by someone else in between raises ReviewConflict instead."""
        ...
    def reviews(self, note_id: str) -> list[Review]: ...
    def counts(self) -> dict[str, int]: ...
    def recent(self, limit: int = 10) -> list[Note]: ...
    def unreviewed(self, limit: int = 10) -> tuple[int, list[Note]]: ...
    def scan_notes(self, after: str = "", limit: int = 500, with_text: bool = True) -> list[Note]:
        """Notes in id order after ``after``: every note, page by page (migration, reindex)."""
        ...
    def cache_get(self, key: str) -> tuple[str, str] | None: ...
    def cache_put(self, key: str, engine: str, model_id: str, prompt_ref: str, result_json: str, usage_json: str) -> None: ...
