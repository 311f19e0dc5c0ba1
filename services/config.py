"""One typed settings object, read from ``NOTELENS_*`` environment variables and
``.streamlit/secrets.toml`` (a ``[notelens]`` table). Environment wins over the file.

AWS credentials are never configured here: cloud backends use boto3's standard chain
(env vars, profiles, ``AWS_ENDPOINT_URL_*``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _SecretsTomlSource(PydanticBaseSettingsSource):
    """Reads the ``[notelens]`` table of ``.streamlit/secrets.toml`` if it exists."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self._values: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as fh:
                table = tomllib.load(fh).get("notelens", {})
            if isinstance(table, dict):
                self._values = {k.lower(): v for k, v in table.items()}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._values.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Every knob of the app. Each field is documented in the README table."""

    model_config = SettingsConfigDict(env_prefix="NOTELENS_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Everything the app writes: database, originals.")
    language: Literal["ko", "en"] = Field("ko", description="Default UI language.")
    extraction_engine: Literal["local", "claude", "llm", "comprehend-medical"] = Field("local", description="Extraction engine.")
    comprehend_english_only: bool = Field(False, description="Send only a mixed note's English sentences to Comprehend Medical.")
    llm_base_url: str = Field("http://localhost:11434/v1", description="OpenAI-compatible endpoint for the llm engine.")
    llm_model: str = Field("qwen2.5:14b-instruct", description="Model name for the llm engine.")
    claude_model_id: str = Field("global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                 description="Bedrock model or inference profile id for the claude engine.")
    claude_prompt: str = Field("extraction", description="Prompt file (task or task@version) for the LLM engines.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Versioned prompt files (prompts/<task>/<version>.md).")
    cloud_mask_phi: bool = Field(True, description="Mask PHI locally before any note text goes to a cloud engine.")
    backend: Literal["local", "aws"] = Field(
        "local", description="local: SQLite records, a folder of originals, SQLite search (offline). aws: S3, DynamoDB, "
        "OpenSearch search and analytics, through the standard AWS configuration.")
    s3_bucket: str = Field("", description="S3 bucket for originals, audio and batch output (backend aws).")
    s3_prefix: str = Field("notelens/", description="Key prefix for everything NoteLens writes to the bucket.")
    s3_kms_key_id: str = Field("", description="KMS key for server-side encryption (empty: SSE-S3, AES-256).")
    dynamodb_table: str = Field("notelens", description="DynamoDB table for records (backend aws), created on first "
                                "use when missing.")
    queue_url: str = Field("", description="SQS queue of the distributed batch (batch --queue and worker default).")
    output_uri: str = Field("", description="s3://bucket/prefix/ where the S3-event Lambda writes .out files and "
                            "unprocessed records.")
    search_backend: Literal["sqlite", "opensearch"] = Field(
        "sqlite", description="Search backend: embedded SQLite FTS5, or OpenSearch at OPENSEARCH_URL.")
    opensearch_index: str = Field("notelens-notes", description="OpenSearch alias searched and swapped on reindex.")
    opensearch_auth: Literal["basic", "sigv4"] = Field(
        "basic", description="OpenSearch auth: basic (user:password in OPENSEARCH_URL) or SigV4 from the AWS config.")
    max_note_bytes: int = Field(2_000_000, ge=1, description="Largest accepted note file, in bytes.")
    transcription_engine: Literal["whisper", "transcribe"] = Field(
        "whisper", description="Speech to text for recordings: local faster-whisper, or Amazon Transcribe.")
    whisper_model: str = Field("base", description="Whisper size name or local CTranslate2 model folder (no download).")
    whisper_cpu_threads: int = Field(
        0, ge=0, description="CPU threads for Whisper, each decoding its own windows (0: one per core, at most 4).")
    whisper_beam_size: int = Field(
        1, ge=1, description="Whisper beam size: 1 (greedy) keeps 10x real time on two cores; 5 is slower, a little "
        "more accurate.")
    whisper_word_timestamps: bool = Field(
        False, description="Time every word (window-by-window decoding, about 4-5x slower); off: sentences are timed "
        "by the speaker's pauses.")
    max_audio_bytes: int = Field(200_000_000, ge=1, description="Largest accepted recording, in bytes.")
    max_audio_seconds: int = Field(3600, ge=1, description="Longest accepted recording, in seconds.")
    transcribe_bucket: str = Field("", description="S3 bucket Amazon Transcribe reads recordings from and writes to.")
    transcribe_prefix: str = Field("notelens/transcribe/", description="S3 key prefix for recordings and transcripts.")
    transcription_language: Literal["ko-KR", "en-US"] = Field(
        "ko-KR", description="Language of recordings (both engines); on Amazon, en-US uses Transcribe Medical.")
    transcribe_vocabulary: str = Field(
        "", description="Custom vocabulary name, created from the clinical terms list if missing (empty: none).")
    transcribe_cleanup: bool = Field(False, description="Delete the uploaded recording, transcript and job afterwards.")
    transcribe_timeout_s: int = Field(1800, ge=1, description="How long to poll a Transcribe job before giving up.")
    seed_samples: bool = Field(True, description="Load sample notes on first start when the store is empty.")
    sample_dir: Path = Field(PROJECT_ROOT / "sample_data" / "notes", description="Notes loaded on first start.")
    log_level: str = Field("WARNING", description="Python logging level for services.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets = _SecretsTomlSource(settings_cls, Path(".streamlit") / "secrets.toml")
        return (init_settings, env_settings, secrets)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "notelens.sqlite3"

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
