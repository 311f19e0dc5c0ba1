"""Original upload bytes in S3 (backend aws): the same content addressing as LocalBlobStore, so a blob's key is
its SHA-256 wherever it lives and a migration copies each original once.

Key: ``<prefix>originals/<sha[:2]>/<sha>``. Every object is written with server-side encryption (SSE-S3 AES-256,
or SSE-KMS with the configured key) and never with an ACL: access is the bucket policy's and IAM's alone.
Credentials, region and endpoint come from boto3's standard chain (``AWS_PROFILE``, ``AWS_DEFAULT_REGION``,
``AWS_ENDPOINT_URL_S3``, instance roles); the client is made on first use, not at import.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from services import aws


class S3BlobStore:
    """BlobStore on S3: put skips an object already there (HeadObject), get returns None for a missing key."""

    def __init__(self, bucket: str, prefix: str = "notelens/", kms_key_id: str = "") -> None:
        if not bucket:
            raise ValueError("S3BlobStore needs a bucket (NOTELENS_S3_BUCKET).")
        self.bucket = bucket
        self.prefix = prefix
        self.kms_key_id = kms_key_id
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        # boto3 clients are thread-safe once made; making one is not, hence the lock.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = aws.client("s3")
        return self._client

    def key(self, sha256: str) -> str:
        return f"{self.prefix}originals/{sha256[:2]}/{sha256}"

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except Exception as exc:
            if aws.error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        # Content-addressed: an object under this key already holds these bytes, so a re-run writes nothing.
        if not self.exists(sha):
            self.client.put_object(Bucket=self.bucket, Key=self.key(sha), Body=data,
                                   ContentType="application/octet-stream", **aws.encryption(self.kms_key_id))
        return sha

    def get(self, sha256: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except Exception as exc:
            if aws.error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        body: bytes = response["Body"].read()
        return body

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def check(self) -> tuple[str, str]:
        """(status, detail) for Home: ok, missing (no such bucket) or unreachable (credentials, permission,
        network)."""
        try:
            aws.client("s3", quick=True).head_bucket(Bucket=self.bucket)
        except Exception as exc:
            code = aws.error_code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return "missing", f"bucket {self.bucket} does not exist"
            if code in ("403", "AccessDenied"):
                return "unreachable", f"access to bucket {self.bucket} denied (s3:ListBucket is needed for HeadBucket)"
            return "unreachable", f"{type(exc).__name__}: {str(exc)[:200]}"
        return "ok", self.describe()
