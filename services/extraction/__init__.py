"""Extraction port: one small interface every engine implements, and the registry that picks
an engine by name from configuration."""

from __future__ import annotations

import threading
from importlib import import_module
from typing import Any, Protocol

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


class LazyExtractor:
    """An engine built on its first use. Pages that never extract (Search, Analytics, the map, Home) then do not pay
    the engine's start-up (the local engine loads kiwipiepy's model, about a second) on a fresh process."""

    def __init__(self, name: str) -> None:
        if name not in ENGINES:
            raise ValueError(f"unknown extraction engine {name!r}; choose one of {sorted(ENGINES)}")
        self.name = name
        self._engine: Extractor | None = None
        self._cache: Any = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Extractor:
        if self._engine is None:
            with self._lock:  # Streamlit sessions share the app: build once
                if self._engine is None:
                    engine = get_extractor(self.name)
                    if self._cache is not None and hasattr(engine, "attach_cache"):
                        engine.attach_cache(self._cache)
                    self._engine = engine
        return self._engine

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def attach_cache(self, cache: Any) -> None:
        self._cache = cache
        if self._engine is not None and hasattr(self._engine, "attach_cache"):
            self._engine.attach_cache(cache)

    def extract(self, text: str) -> ExtractionResult:
        return self.engine.extract(text)

    def __getattr__(self, item: str) -> Any:  # anything else an engine offers (stream, prompt, model_id…)
        if item.startswith("_"):
            raise AttributeError(item)
        return getattr(self.engine, item)
