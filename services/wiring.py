"""The one place that turns settings into concrete adapters (storage, blobs, engine)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from services.analytics import AnalyticsService
from services.analytics.model import AnalyticsBackend
from services.config import Settings, load_settings
from services.extraction import LazyExtractor, get_extractor
from services.extraction.llm.base import LLMEngine
from services.extraction.llm.prompts import Prompt
from services.hospitals import HospitalService
from services.notes import NoteService
from services.overview import Overview, Probe, overview, queue_check
from services.promptlab import EngineFactory, PromptLab
from services.recordings import RecordingService
from services.search import SearchBackend
from services.search.service import SavedSearches, SavedSearchStore, SearchService
from services.search.source import DocSource, RecordDocs, StoreDocs
from services.search.sqlite_backend import SQLiteSearch
from services.store import BlobStore, NoteStore
from services.store.sqlite import LocalBlobStore, SQLiteStore
from services.transcription import Transcriber
from services.transcription.store import SQLiteTranscripts, TranscriptStore


@dataclass
class Backends:
    """Where records, originals, transcripts and saved searches live, as NOTELENS_BACKEND picks them, with what Home
    shows of each (a name, and for a cloud backend one short reachability call)."""

    kind: str  # local | aws
    store: NoteStore
    blobs: BlobStore
    transcripts: TranscriptStore
    saved: SavedSearchStore
    docs: DocSource  # what the search index is built from
    names: dict[str, str]
    probes: dict[str, Probe]


def build_backends(settings: Settings, kind: str | None = None) -> Backends:
    """The record, blob, transcript and saved-search stores of ``kind`` (default: the settings' backend)."""
    kind = kind or settings.backend
    if kind == "aws":
        from services.search.dynamodb_saved import DynamoDBSavedSearches
        from services.store.dynamodb import DynamoDBStore
        from services.store.s3 import S3BlobStore
        from services.transcription.dynamodb import DynamoDBTranscripts

        if not settings.s3_bucket:
            raise ValueError("NOTELENS_BACKEND=aws needs NOTELENS_S3_BUCKET (originals and large note texts go there)")
        blobs = S3BlobStore(settings.s3_bucket, settings.s3_prefix, settings.s3_kms_key_id)
        dynamo = DynamoDBStore(settings.dynamodb_table, blobs)
        return Backends(
            "aws", dynamo, blobs, DynamoDBTranscripts(dynamo), DynamoDBSavedSearches(dynamo),
            RecordDocs(dynamo, workers=8),  # a rebuild overlaps the per-note reads of a remote store
            {"storage": f"dynamodb ({settings.dynamodb_table})",
             "originals": f"s3 (s3://{settings.s3_bucket}/{settings.s3_prefix})"},
            {"storage": dynamo.check, "originals": blobs.check},
        )
    store = SQLiteStore(settings.db_path)
    return Backends("local", store, LocalBlobStore(settings.originals_dir), SQLiteTranscripts(store),
                    SavedSearches(settings.db_path), StoreDocs(settings.db_path),
                    {"storage": f"sqlite ({settings.db_path})", "originals": f"folder ({settings.originals_dir})"}, {})


@dataclass
class App:
    settings: Settings
    notes: NoteService
    store: NoteStore
    search: SearchService
    stores: Backends

    def backends(self) -> dict[str, str]:
        names = {
            "extraction": self.settings.extraction_engine,
            **self.stores.names,
            "search": self.search.name,
            "analytics": "opensearch" if self._opensearch else "sqlite",
            "transcription": self.transcriber.describe(),
        }
        if self.settings.queue_url:
            names["queue"] = f"sqs ({self.settings.queue_url.rsplit('/', 1)[-1]})"
        return names

    def probes(self) -> dict[str, Probe]:
        """One short call per cloud backend, for Home."""
        probes = dict(self.stores.probes)
        if self._opensearch:
            from services.search.opensearch_backend import check

            probes["search"] = lambda: check(self.settings.opensearch_index, self.settings.opensearch_auth)
            if self.settings.backend == "aws":  # the analytics aggregations ask the same cluster
                probes["analytics"] = probes["search"]
        if self.settings.queue_url:
            probes["queue"] = lambda: queue_check(self.settings.queue_url)
        return probes

    @property
    def _opensearch(self) -> bool:
        return self.settings.backend == "aws" or self.settings.search_backend == "opensearch"

    @cached_property
    def analytics(self) -> AnalyticsService:
        # Rankings and trends run where the entity rows are indexed: SQL in the SQLite file (issue 9), or OpenSearch
        # aggregations when the records are on AWS (issue 13).
        backend: AnalyticsBackend
        if self.settings.backend == "aws":
            from services.analytics.opensearch import OpenSearchAnalytics
            from services.search.opensearch_backend import OpenSearchBackend

            search = self.search.backend
            assert isinstance(search, OpenSearchBackend)  # build_search picks it whenever the records are on AWS
            backend = OpenSearchAnalytics(search.client, alias=search.alias)  # one client, one pool for the cluster
        else:
            from services.analytics.sqlite import SQLiteAnalytics

            assert isinstance(self.store, SQLiteStore)
            backend = SQLiteAnalytics(self.store)
        return AnalyticsService(backend)

    def overview(self) -> Overview:
        """What Home shows: counts, recent notes, what needs attention, which backends can be used."""
        return overview(self.store, self.settings, self.backends(), probes=self.probes())

    @cached_property
    def transcriber(self) -> Transcriber:
        # Cheap to build: the Whisper model is loaded by the first recording (once per process), not here.
        return build_transcriber(self.settings)

    @cached_property
    def recordings(self) -> RecordingService:
        return build_recordings(self.notes, self.stores.transcripts, self.settings, lambda: self.transcriber)

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


def build_recordings(notes: NoteService, transcripts: TranscriptStore, settings: Settings,
                     transcriber: Callable[[], Transcriber] | None = None) -> RecordingService:
    """Recordings for a note service (the app's, or a batch worker's): transcribed, then extracted."""
    return RecordingService(notes, transcripts, transcriber or cache(lambda: build_transcriber(settings)),
                            settings.max_audio_bytes, settings.max_audio_seconds)


def build_hospitals(settings: Settings, notes: NoteService | None = None) -> HospitalService:
    """Institutions in <data_dir>/hospitals.sqlite3 (R-tree); edited rule tables in <data_dir>/hospital_rules/ win."""
    return HospitalService(settings.data_dir / "hospitals.sqlite3", notes, settings.data_dir / "hospital_rules")


def build_search(settings: Settings, stores: Backends | None = None) -> SearchService:
    """The search backend the settings name (OpenSearch whenever the records are on AWS). Documents and saved
    searches come from the record store."""
    stores = stores or build_backends(settings)
    backend: SearchBackend
    if settings.backend == "aws" or settings.search_backend == "opensearch":
        from services.search.opensearch_backend import OpenSearchBackend

        backend = OpenSearchBackend.from_settings(settings)
    else:
        backend = SQLiteSearch(settings.db_path)
    return SearchService(backend, stores.docs, stores.saved)


def build_app(settings: Settings | None = None, seed: bool | None = None) -> App:
    settings = settings or load_settings()
    logging.getLogger("services").setLevel(settings.log_level.upper())
    stores = build_backends(settings)
    store = stores.store
    extractor = LazyExtractor(settings.extraction_engine)  # loaded by the first note to extract, not by every page
    extractor.attach_cache(store)  # LLM engines keep their results in the store: no second call for a note
    search = build_search(settings, stores)
    notes = NoteService(store, stores.blobs, extractor, settings.max_note_bytes, on_change=search.update)
    app = App(settings=settings, notes=notes, store=store, search=search, stores=stores)
    notes.audio = app.recordings  # audio uploads are transcribed, then extracted like any note
    if (settings.seed_samples if seed is None else seed) and store.counts()["notes"] == 0 and settings.sample_dir.is_dir():
        notes.seed(settings.sample_dir)
    return app
