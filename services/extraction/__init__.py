"""Extraction port: one small interface every engine implements, and the registry that picks
an engine by name from configuration."""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from services.domain import ExtractionResult


class Extractor(Protocol):
    name: str

    def extract(self, text: str) -> ExtractionResult: ...


# name -> "module:factory". Cloud engines register here when their issue lands; importing
# lazily keeps boto3 and model loading out of start-up for users of other engines.
ENGINES: dict[str, str] = {
    "local": "services.extraction.local.engine:LocalKoreanEngine",
    "claude": "services.extraction.llm.claude:from_settings",
    "llm": "services.extraction.llm.openai_compat:from_settings",
    "comprehend-medical": "services.extraction.comprehend_medical:from_settings",
}


def get_extractor(name: str) -> Extractor:
    try:
        target = ENGINES[name]
    except KeyError as exc:
        raise ValueError(f"unknown extraction engine {name!r}; choose one of {sorted(ENGINES)}") from exc
    module_name, _, factory = target.partition(":")
    engine: Extractor = getattr(import_module(module_name), factory)()
    return engine
