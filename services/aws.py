"""The few things every AWS adapter needs (S3 and DynamoDB stores, queue workers, Home's probes): a boto3 client
from the standard configuration, server-side encryption arguments, and an error's AWS code. Credentials, region and
endpoints only ever come from boto3's standard chain (env vars, profiles, ``AWS_ENDPOINT_URL_*``, instance roles)."""

from __future__ import annotations

from typing import Any

from services.errors import CloudError, ErrorCode

_NO_REGION = ("No AWS region is set. Set AWS_DEFAULT_REGION (boto3 does not read AWS_REGION) or a region in your AWS "
              "profile.")


def client(service: str, quick: bool = False) -> Any:
    """A boto3 client with botocore's standard retries (throttling and 5xx are retried with backoff, so a burst of
    workers does not fail on the first SlowDown). ``quick``: one attempt and short timeouts, for reachability
    checks a page waits for. Made when called, never at import."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    config = (Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=3, read_timeout=5) if quick
              else Config(retries={"mode": "standard", "max_attempts": 8}))
    try:
        return boto3.client(service, config=config)
    except NoRegionError as exc:
        raise CloudError(ErrorCode.CLOUD_NOT_CONFIGURED, _NO_REGION) from exc


def encryption(kms_key_id: str) -> dict[str, str]:
    """PutObject arguments for server-side encryption: SSE-KMS with the configured key, else SSE-S3."""
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {"ServerSideEncryption": "AES256"}


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else the exception's type name (never its text: it may
    quote a key or a note)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
