"""The one place that turns settings into concrete adapters (storage, blobs, engine)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from services.config import Settings, load_settings
from services.extraction import get_extractor
from services.notes import NoteService
from services.store.sqlite import LocalBlobStore, SQLiteStore


@dataclass
class App:
    settings: Settings
    notes: NoteService
    store: SQLiteStore

    def backends(self) -> dict[str, str]:
        return {
            "extraction": self.settings.extraction_engine,
            "storage": f"{self.settings.storage_backend} ({self.settings.db_path})",
            "search": "sqlite-fts5",
            "transcription": "—",
        }


def build_app(settings: Settings | None = None, seed: bool | None = None) -> App:
    settings = settings or load_settings()
    logging.getLogger("services").setLevel(settings.log_level.upper())
    store = SQLiteStore(settings.db_path)
    blobs = LocalBlobStore(settings.originals_dir)
    extractor = get_extractor(settings.extraction_engine)
    if hasattr(extractor, "attach_cache"):
        extractor.attach_cache(store)  # LLM engines keep their results in the store: no second call for a note
    notes = NoteService(store, blobs, extractor, settings.max_note_bytes)
    app = App(settings=settings, notes=notes, store=store)
    if (settings.seed_samples if seed is None else seed) and store.counts()["notes"] == 0 and settings.sample_dir.is_dir():
        notes.seed(settings.sample_dir)
    return app
