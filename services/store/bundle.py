"""A note with everything stored about it, as one value: what ``export_note`` gives and ``import_note`` takes, so a
migration copies a note between any two stores with its versions, ids, reviewers and timestamps as they were."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.domain import Entity, Extraction, Note, NoteFields, Review

#: (key, engine, model_id, prompt_ref, result_json, usage_json): one LLM cache entry.
CacheEntry = tuple[str, str, str, str, str, str]


@dataclass
class SourceRecord:
    """One uploaded byte string and the note it became (several encodings of a note are several sources)."""

    raw_sha256: str
    note_id: str
    filename: str
    size: int
    stored: bool
    received_at: str


@dataclass
class NoteBundle:
    note: Note  # with its text
    text_sha256: str | None
    sources: list[SourceRecord] = field(default_factory=list)
    extractions: list[Extraction] = field(default_factory=list)  # by version
    reviews: list[Review] = field(default_factory=list)  # by version

    @property
    def extraction_version(self) -> int:
        return max((e.version for e in self.extractions), default=0)

    @property
    def review_version(self) -> int:
        return max((r.version for r in self.reviews), default=0)

    def in_force(self) -> tuple[list[Entity], NoteFields] | None:
        """The entities in force: the latest review's, else the latest extraction's (None: neither exists)."""
        if self.reviews:
            latest = max(self.reviews, key=lambda r: r.version)
            return latest.entities, latest.fields
        if self.extractions:
            last = max(self.extractions, key=lambda e: e.version)
            return last.entities, last.fields
        return None


def entity_term(entity: Entity) -> str:
    """The term an entity is counted and found under: its normalized name, else its text without whitespace (the
    same rule as the analytics table note_terms, migration 004)."""
    if entity.normalized:
        return entity.normalized
    return "".join(ch for ch in entity.text if ch not in " \t\n\r\u00a0\u3000")
