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
    # Recordings (services/transcription): the original is kept and the note can be retried.
    AUDIO_CORRUPT = "AUDIO_CORRUPT"  # not decodable as the audio type its name says
    AUDIO_TRUNCATED = "AUDIO_TRUNCATED"  # the headers promise more audio than the file holds
    AUDIO_SILENT = "AUDIO_SILENT"  # decodes, but there is nothing to hear
    AUDIO_TOO_LONG = "AUDIO_TOO_LONG"  # over NOTELENS_MAX_AUDIO_SECONDS
    UNSUPPORTED_CODEC = "UNSUPPORTED_CODEC"  # a container without a decodable audio track
    NO_SPEECH = "NO_SPEECH"  # the engine heard no speech in it
    TRANSCRIBER_NOT_CONFIGURED = "TRANSCRIBER_NOT_CONFIGURED"  # no local Whisper model, no S3 bucket
    TRANSCRIPTION_FAILED = "TRANSCRIPTION_FAILED"  # the engine failed on this recording
    SEARCH_UNAVAILABLE = "SEARCH_UNAVAILABLE"  # the OpenSearch cluster behind search and analytics does not answer


class NoteLensError(Exception):
    """An error with a stable code (for the UI, the CLI's unprocessed.json and tests)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CloudError(NoteLensError):
    """A cloud call that could not be made (no credentials or region) or that the service refused."""


def explain_engine_error(exc: BaseException) -> str:
    """A message a user can act on for an engine failure: missing credentials, region or model access, an
    unreachable endpoint, throttling, an answer that did not fit the schema."""
    if isinstance(exc, NoteLensError):
        return exc.message
    name = type(exc).__name__
    text = str(exc)
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
    if name in ("NoCredentialsError", "PartialCredentialsError", "UnrecognizedClientException") or code in (
            "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"):
        return ("AWS 자격 증명이 없거나 만료되었습니다 / AWS credentials are missing or expired: set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (see README, Bedrock).")
    if name == "NoRegionError":
        return "AWS 리전이 없습니다 / No AWS region: set AWS_DEFAULT_REGION (e.g. ap-northeast-2) or a profile with a region."
    if code == "AccessDeniedException":
        return ("접근이 거부되었습니다 / Access denied: for Claude, enable the model under Bedrock → Model access and "
                "allow bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream (README lists each engine's IAM actions).")
    if code in ("ValidationException", "ResourceNotFoundException"):
        return f"모델 ID 또는 요청이 잘못되었습니다 / The model id or request was rejected: {text[:300]}"
    if code == "ThrottlingException":
        return "요청이 너무 많습니다 / Throttled after retries: try again shortly or lower the parallel calls."
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "URLError", "ConnectionRefusedError", "TimeoutError"):
        return f"엔드포인트에 연결할 수 없습니다 / Cannot reach the endpoint: {text[:300]}"
    if name == "LLMOutputError":
        return f"모델 응답이 스키마에 맞지 않습니다 / The answer did not fit the schema: {text[:300]}"
    return f"{name}: {text[:300]}"
