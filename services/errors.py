"""Error codes shared by ingest, the pipeline, the batch CLI and the UI."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    EMPTY_FILE = "EMPTY_FILE"
    WHITESPACE_ONLY = "WHITESPACE_ONLY"
    BINARY_FILE = "BINARY_FILE"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    UNKNOWN_ENCODING = "UNKNOWN_ENCODING"
    EXTRACTION_FAILED = "EXTRACTION_FAILED"
    ORIGINAL_MISSING = "ORIGINAL_MISSING"
    READ_FAILED = "READ_FAILED"


class NoteLensError(Exception):
    """An error with a stable code (for the UI, the CLI's unprocessed.json and tests)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
