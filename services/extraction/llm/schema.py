"""The tool the model must call, derived from the one entity schema, and the pydantic models that validate
what comes back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.domain import Category

CLINICAL = [c.value for c in Category if c is not Category.PHI]
TOOL_NAME = "record_entities"


class LLMEntity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    category: Literal["symptom", "diagnosis", "medication", "test", "procedure", "anatomy"]
    text: str = Field(min_length=1)
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    experiencer: Literal["patient", "family", "other"] = "patient"
    attributes: dict[str, str] = Field(default_factory=dict)
    offset_hint: int | None = None


class LLMFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    visit_date: str | None = None
    age: int | None = None
    sex: Literal["M", "F"] | None = None
    department: str | None = None
    summary: str | None = None


class LLMAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entities: list[LLMEntity]
    fields: LLMFields = Field(default_factory=LLMFields)


def tool_spec() -> dict[str, Any]:
    """Bedrock Converse toolSpec: a JSON schema the model fills (tool use is the structured output)."""
    entity = {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": CLINICAL},
            "text": {"type": "string", "description": "the mention exactly as written in the note"},
            "negated": {"type": "boolean"},
            "uncertain": {"type": "boolean"},
            "historical": {"type": "boolean"},
            "experiencer": {"type": "string", "enum": ["patient", "family", "other"]},
            "attributes": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "dosage, frequency, route, duration, value — copied literally"},
            "offset_hint": {"type": "integer", "description": "approximate character offset in the note"},
        },
        "required": ["category", "text"],
    }
    fields = {
        "type": "object",
        "properties": {
            "visit_date": {"type": "string", "description": "YYYY-MM-DD"},
            "age": {"type": "integer"},
            "sex": {"type": "string", "enum": ["M", "F"]},
            "department": {"type": "string"},
            "summary": {"type": "string"},
        },
    }
    return {
        "name": TOOL_NAME,
        "description": "Record every clinical mention of the note and the note fields.",
        "inputSchema": {"json": {"type": "object", "properties": {"entities": {"type": "array", "items": entity},
                                                                   "fields": fields}, "required": ["entities"]}},
    }
