"""Storage ports. The embedded SQLite adapter is the default; cloud adapters implement the
same protocols (see services/wiring.py, the one place that picks an adapter)."""

from __future__ import annotations

from typing import Any, Protocol

from services.domain import Entity, Extraction, ExtractionResult, Note, NoteFields, NoteStatus, Review


class NoteExists(Exception):
    """create_note lost a race: another process stored the same content first."""


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
    ) -> Review: ...
    def reviews(self, note_id: str) -> list[Review]: ...
    def counts(self) -> dict[str, int]: ...
