"""Distributed batch over SQS (issue 13): the Comprehend Medical batch layout of services/batch.py, with the inputs
in S3, one SQS message per input object and any number of workers on any number of machines.

- ``enqueue`` (``python -m services batch s3://in/ s3://out/ --queue URL``) lists the input prefix, writes the job
  record ``<out>/job.json`` and sends one message per object.
- ``worker`` (``python -m services worker --queue URL``) takes messages, ingests each object into the configured
  NoteService, claims the note (``NoteStore.claim``: no note is extracted by two workers) and writes
  ``<out>/<rel>.out``; a bad file becomes ``<out>/unprocessed/<rel>.json``. A transient failure leaves the message
  in the queue: it is retried, and after the queue's maxReceiveCount SQS moves it to the dead-letter queue.
- ``status`` (``python -m services batch-status s3://out/``) writes Manifest.json, success.json, unprocessed.json.
- services/lambda_handler.py runs the same per-object code for S3 events and SQS event-source batches.

Clients come from boto3's standard configuration only (env vars, profiles, instance roles, ``AWS_ENDPOINT_URL_*``)
and are made on first use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

JOB_RECORD = "job.json"
UNPROCESSED_DIR = "unprocessed/"
# User metadata on each .out: the ETag of the input it was made from, so a redelivered or re-enqueued message for
# the same object version is skipped without downloading anything.
SOURCE_ETAG = "source-etag"
MESSAGE_VERSION = 1


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix as a folder: "" or ending in "/"). Also accepts the ``s3:/bucket``
    that a ``pathlib.Path`` argument makes of it."""
    if uri.startswith("s3:/") and not uri.startswith("s3://"):
        uri = "s3://" + uri[4:]
    if not uri.startswith("s3://") or not uri[5:].partition("/")[0]:
        raise ValueError(f"not an S3 URI: {uri!r} (expected s3://bucket/prefix/)")
    bucket, _, prefix = uri[5:].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # a folder: s3://b/notes must not take s3://b/notes2/...
    return bucket, prefix


def s3_uri(bucket: str, prefix: str) -> str:
    return f"s3://{bucket}/{prefix}"


def is_s3_uri(value: object) -> bool:
    return str(value).startswith("s3:/")


def clean_etag(etag: str | None) -> str:
    """S3's API quotes ETags, S3 event records do not."""
    return (etag or "").strip('"')


def message_id(bucket: str, key: str, etag: str) -> str:
    """One id per object version: the batch entry id, and the deduplication id on a FIFO queue."""
    return hashlib.sha256(f"{bucket}\n{key}\n{clean_etag(etag)}".encode()).hexdigest()[:64]


@dataclass(frozen=True)
class Task:
    """One input object to process: the body of a queue message."""

    bucket: str
    key: str
    etag: str  # "" when unknown (an S3 event without eTag): the object's own is read on download
    out_bucket: str
    out_prefix: str
    rel: str  # the key relative to the input prefix: the .out is <out_prefix><rel>.out
    engine: str = ""  # "" = the worker's configured engine
    job_id: str = ""
    size: int = 0

    @property
    def out_key(self) -> str:
        return f"{self.out_prefix}{self.rel}.out"

    @property
    def unprocessed_key(self) -> str:
        return f"{self.out_prefix}{UNPROCESSED_DIR}{self.rel}.json"

    def body(self) -> str:
        return json.dumps({"v": MESSAGE_VERSION, **asdict(self)}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_body(cls, body: str) -> Task:
        """Raises ValueError for a body that is not a task (a poison message: left to the dead-letter queue)."""
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or data.get("v") != MESSAGE_VERSION:
                raise ValueError("not a NoteLens batch message")
            fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            task = cls(**fields)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a NoteLens batch message: {type(exc).__name__}") from exc
        if not (task.bucket and task.key and task.out_bucket and task.rel):
            raise ValueError("a NoteLens batch message without bucket, key, output or path")
        return task
