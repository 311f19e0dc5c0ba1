"""The one entity schema every engine produces, and the note-level records around it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Category(StrEnum):
    SYMPTOM = "symptom"
    DIAGNOSIS = "diagnosis"
    MEDICATION = "medication"
    TEST = "test"
    PROCEDURE = "procedure"
    ANATOMY = "anatomy"
    PHI = "phi"


class NoteStatus(StrEnum):
    STORED = "stored"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class Entity(BaseModel):
    """One mention in a note. ``begin``/``end`` are character offsets into the note text
    (Python ``str`` indices), so ``text == note_text[begin:end]`` for every grounded entity."""

    model_config = ConfigDict(extra="forbid")

    category: Category
    text: str
    begin: int = Field(ge=0)
    end: int = Field(ge=0)
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    section: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    normalized: str | None = None
    code: str | None = None
    code_system: str | None = None
    score: float = Field(1.0, ge=0.0, le=1.0)
    engine: str = "local"
    prompt_version: str | None = None
    model_id: str | None = None
    # False when an engine (an LLM) returned text that is not in the source: kept, flagged.
    grounded: bool = True

    @property
    def assertion(self) -> str:
        for flag in ("negated", "uncertain", "family", "historical"):
            if getattr(self, flag):
                return flag
        return "present"


class NoteFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visit_date: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    age: int | None = Field(None, ge=0, le=130)
    sex: str | None = Field(None, pattern=r"^[MF]$")
    department: str | None = None
    summary: str | None = None


class ExtractionResult(BaseModel):
    """What an engine returns for one text."""

    engine: str
    model_id: str | None = None
    prompt_version: str | None = None
    entities: list[Entity] = Field(default_factory=list)
    fields: NoteFields = Field(default_factory=NoteFields)
    # LLM engines: the call's tokens, latency and estimated cost, and whether the result came from the cache.
    usage: dict[str, float] = Field(default_factory=dict)
    cached: bool = False


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Note(BaseModel):
    id: str
    filename: str
    status: NoteStatus
    text: str | None = None
    encoding: str | None = None
    size: int = 0
    raw_sha256: str
    error_code: str | None = None
    error_message: str | None = None
    source: str = "upload"
    created_at: str
    updated_at: str
    attempts: int = 0
    fields: NoteFields = Field(default_factory=NoteFields)


class Extraction(BaseModel):
    id: int
    note_id: str
    version: int
    engine: str
    model_id: str | None = None
    prompt_version: str | None = None
    created_at: str
    duration_ms: float = 0.0
    entities: list[Entity]
    fields: NoteFields
    usage: dict[str, float] = Field(default_factory=dict)
    cached: bool = False

    def result(self) -> ExtractionResult:
        return ExtractionResult(engine=self.engine, model_id=self.model_id, prompt_version=self.prompt_version,
                                entities=self.entities, fields=self.fields, usage=self.usage, cached=self.cached)


class Review(BaseModel):
    id: int
    note_id: str
    extraction_id: int
    version: int
    reviewer: str
    created_at: str
    entities: list[Entity]
    fields: NoteFields
    changes: dict[str, Any] = Field(default_factory=dict)
