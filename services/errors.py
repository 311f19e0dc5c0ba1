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
    NOT_PROCESSED = "NOT_PROCESSED"  # a cloud batch job left the file unprocessed
    OUTPUT_INVALID = "OUTPUT_INVALID"  # a cloud batch job's result for the file is missing or unreadable
    CLOUD_NOT_CONFIGURED = "CLOUD_NOT_CONFIGURED"  # no AWS credentials or region
    CLOUD_REQUEST_FAILED = "CLOUD_REQUEST_FAILED"  # the cloud service refused or failed a call


class NoteLensError(Exception):
    """An error with a stable code (for the UI, the CLI's unprocessed.json and tests)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CloudError(NoteLensError):
    """A cloud call that could not be made (no credentials or region) or that the service refused."""
