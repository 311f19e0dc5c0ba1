"""The one place that turns settings into concrete adapters (storage, blobs, engine)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from services.analytics import AnalyticsService
from services.analytics.sqlite import SQLiteAnalytics
from services.config import Settings, load_settings
from services.extraction import LazyExtractor, get_extractor
from services.extraction.llm.base import LLMEngine
from services.extraction.llm.prompts import Prompt
from services.hospitals import HospitalService
from services.notes import NoteService
from services.overview import Overview, overview
from services.promptlab import EngineFactory, PromptLab
from services.recordings import RecordingService
from services.search import SearchBackend
from services.search.service import SavedSearches, SearchService
from services.search.source import StoreDocs
from services.search.sqlite_backend import SQLiteSearch
from services.store.sqlite import LocalBlobStore, SQLiteStore
from services.transcription import Transcriber
from services.transcription.store import SQLiteTranscripts


@dataclass
class App:
    settings: Settings
    notes: NoteService
    store: SQLiteStore
    search: SearchService

    def backends(self) -> dict[str, str]:
        return {
            "extraction": self.settings.extraction_engine,
            "storage": f"sqlite ({self.settings.db_path})",
            "search": self.search.name,
            "transcription": self.transcriber.describe(),
        }

    @cached_property
    def analytics(self) -> AnalyticsService:
        # Rankings and trends run as SQL in the same SQLite file (issue 9); another store brings its own backend.
        return AnalyticsService(SQLiteAnalytics(self.store))

    def overview(self) -> Overview:
        """What Home shows: counts, recent notes, what needs attention, which backends can be used."""
        return overview(self.store, self.settings, self.backends())

    @cached_property
    def transcriber(self) -> Transcriber:
        # Cheap to build: the Whisper model is loaded by the first recording (once per process), not here.
        return build_transcriber(self.settings)

    @cached_property
    def recordings(self) -> RecordingService:
        return build_recordings(self.notes, self.store, self.settings, lambda: self.transcriber)

    @cached_property
    def promptlab(self) -> PromptLab:
        # The baseline is always the local engine, whichever engine processes uploads.
        local = self.notes.extractor if self.settings.extraction_engine == "local" else get_extractor("local")
        return PromptLab(self.store, lab_engines(self.settings), local, self.settings.data_dir / "gold",
                         self.settings.prompts_dir)

    @cached_property
    def hospitals(self) -> HospitalService:
        # Its own SQLite file, built from the shipped national copy on first use (issue 11).
        return build_hospitals(self.settings, self.notes)


def lab_engines(settings: Settings) -> EngineFactory:
    """How the Prompt Lab builds an LLM engine for a prompt (saved or draft) and a model id."""

    def build(kind: str, prompt: Prompt, model: str) -> LLMEngine:
        if kind == "claude":
            from services.extraction.llm.claude import ClaudeEngine

            return ClaudeEngine(model_id=model or settings.claude_model_id, prompt=prompt, mask_phi=settings.cloud_mask_phi)
        if kind == "llm":
            from services.extraction.llm.openai_compat import OpenAICompatibleEngine

            return OpenAICompatibleEngine(settings.llm_base_url, model or settings.llm_model, prompt=prompt,
                                          mask_phi=settings.cloud_mask_phi)
        raise ValueError(f"the Prompt Lab runs LLM engines (claude, llm), not {kind!r}")

    return build


def build_transcriber(settings: Settings) -> Transcriber:
    """The speech-to-text engine the settings name (issue 12)."""
    if settings.transcription_engine == "transcribe":
        from services.transcription.aws import AmazonTranscriber

        return AmazonTranscriber(settings.transcribe_bucket, settings.transcribe_prefix, settings.transcription_language,
                                 vocabulary=settings.transcribe_vocabulary, cleanup=settings.transcribe_cleanup,
                                 timeout_s=settings.transcribe_timeout_s)
    from services.transcription.whisper import WhisperTranscriber

    return WhisperTranscriber(settings.whisper_model, settings.data_dir, language=settings.transcription_language[:2],
                              cpu_threads=settings.whisper_cpu_threads, beam_size=settings.whisper_beam_size,
                              word_timestamps=settings.whisper_word_timestamps)


def build_recordings(notes: NoteService, store: SQLiteStore, settings: Settings,
                     transcriber: Callable[[], Transcriber] | None = None) -> RecordingService:
    """Recordings for a note service (the app's, or a batch worker's): transcribed, then extracted."""
    return RecordingService(notes, SQLiteTranscripts(store), transcriber or cache(lambda: build_transcriber(settings)),
                            settings.max_audio_bytes, settings.max_audio_seconds)


def build_hospitals(settings: Settings, notes: NoteService | None = None) -> HospitalService:
    """Institutions in <data_dir>/hospitals.sqlite3 (R-tree); edited rule tables in <data_dir>/hospital_rules/ win."""
    return HospitalService(settings.data_dir / "hospitals.sqlite3", notes, settings.data_dir / "hospital_rules")


def build_search(settings: Settings) -> SearchService:
    """The search backend the settings name. Documents and saved searches always come from the store."""
    backend: SearchBackend
    if settings.search_backend == "opensearch":
        from services.search.opensearch_backend import OpenSearchBackend

        backend = OpenSearchBackend.from_settings(settings)
    else:
        backend = SQLiteSearch(settings.db_path)
    return SearchService(backend, StoreDocs(settings.db_path), SavedSearches(settings.db_path))


def build_app(settings: Settings | None = None, seed: bool | None = None) -> App:
    settings = settings or load_settings()
    logging.getLogger("services").setLevel(settings.log_level.upper())
    store = SQLiteStore(settings.db_path)
    blobs = LocalBlobStore(settings.originals_dir)
    extractor = LazyExtractor(settings.extraction_engine)  # loaded by the first note to extract, not by every page
    extractor.attach_cache(store)  # LLM engines keep their results in the store: no second call for a note
    search = build_search(settings)
    notes = NoteService(store, blobs, extractor, settings.max_note_bytes, on_change=search.update)
    app = App(settings=settings, notes=notes, store=store, search=search)
    notes.audio = app.recordings  # audio uploads are transcribed, then extracted like any note
    if (settings.seed_samples if seed is None else seed) and store.counts()["notes"] == 0 and settings.sample_dir.is_dir():
        notes.seed(settings.sample_dir)
    return app
