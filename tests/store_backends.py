"""The two sets of stores the contract and migration tests run against: SQLite + a folder (tmp_path), and
DynamoDB + S3 (moto, in process), built the same way the app builds them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.migrate import Backends
from services.search.dynamodb_saved import DynamoDBSavedSearches
from services.search.service import SavedSearches
from services.store.dynamodb import DynamoDBStore
from services.store.s3 import S3BlobStore
from services.store.sqlite import LocalBlobStore, SQLiteStore
from services.transcription.dynamodb import DynamoDBTranscripts
from services.transcription.store import SQLiteTranscripts

REGION = "ap-northeast-2"
BUCKET = "notelens-contract"
TABLE = "notelens-contract"


def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers; fake keys so nothing real is ever signed for, no endpoint override left from the shell."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB",
                 "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def sqlite_backends(root: Path) -> Backends:
    store = SQLiteStore(root / "notelens.sqlite3")
    return Backends(store, LocalBlobStore(root / "originals"), SQLiteTranscripts(store),
                    SavedSearches(root / "notelens.sqlite3"))


def aws_backends(table: str = TABLE, page_size: int | None = 2, inline_limit: int = 100_000) -> Backends:
    import boto3

    s3 = boto3.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    blobs = S3BlobStore(BUCKET, "nl/")
    # page_size 2: every listing crosses pages (LastEvaluatedKey) with a handful of notes.
    store = DynamoDBStore(table, blobs, page_size=page_size, inline_limit=inline_limit, sleep=lambda _s: None)
    return Backends(store, blobs, DynamoDBTranscripts(store), DynamoDBSavedSearches(store))


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    fake_aws_env(monkeypatch)
    with mock_aws():
        yield


@dataclass
class Clock:
    """utcnow for both stores: one second later on every call, from a fixed day, so orders do not depend on how
    fast the machine is."""

    start: datetime = datetime(2024, 3, 1, tzinfo=UTC)
    calls: int = 0

    def __call__(self) -> str:
        self.calls += 1
        return (self.start + timedelta(seconds=self.calls)).isoformat(timespec="seconds")


def install_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in ("services.store.sqlite", "services.store.dynamodb", "services.transcription.store",
                   "services.transcription.dynamodb", "services.search.service", "services.search.dynamodb_saved"):
        monkeypatch.setattr(f"{module}.utcnow", clock)
    return clock


def hook_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every call of ``operation`` the client makes from now on."""
    seen: list[dict[str, Any]] = []
    client.meta.events.register(f"provide-client-params.*.{operation}", lambda params, **_: seen.append(dict(params)))
    return seen
