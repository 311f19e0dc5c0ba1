"""AWS Lambda entry point of the distributed batch (handler: ``services.lambda_handler.handler``), calling the same
per-object code as the queue worker (services/distributed/worker.py):

- **S3 ObjectCreated events** (the Korean pipeline's shape: S3 → Lambda): each record's object is processed and its
  ``.out`` written under ``NOTELENS_OUTPUT_URI``; the object's key (URL-decoded, ``+`` is a space) is its path
  there. A record that failed transiently makes the invocation fail, so Lambda retries it (objects already done
  are skipped by their ``.out``); then its on-failure destination gets it.
- **SQS event-source batches**: bodies are messages from ``batch --queue`` or S3 event notifications sent to the
  queue. Returns ``batchItemFailures`` (enable ReportBatchItemFailures on the event source mapping) so only the
  failed messages are retried and, after maxReceiveCount, moved to the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote_plus

from services.distributed import Task, clean_etag, parse_s3_uri
from services.distributed.worker import Processor, Result, ServiceCache

log = logging.getLogger(__name__)

OUTPUT_ENV = "NOTELENS_OUTPUT_URI"  # s3://bucket/prefix/ for the .out files of S3-event invocations

_processor: Processor | None = None  # kept across warm invocations: the engine and clients are built once


def _get_processor() -> Processor:
    global _processor
    if _processor is None:
        from services.config import load_settings

        settings = load_settings()
        _processor = Processor(ServiceCache(settings), kms_key_id=settings.s3_kms_key_id)
    return _processor


def tasks_from_s3_event(event: dict[str, Any], output_uri: str) -> list[Task]:
    """One task per created object. Folder markers, hidden names and objects under the output prefix (a .out
    written to the same bucket must not trigger another run) are left out."""
    out_bucket, out_prefix = parse_s3_uri(output_uri)
    tasks = []
    for record in event.get("Records") or []:
        s3 = record.get("s3")
        if not s3 or not str(record.get("eventName", "ObjectCreated")).startswith("ObjectCreated"):
            continue
        bucket = s3["bucket"]["name"]
        key = unquote_plus(s3["object"]["key"])
        if key.endswith("/") or any(part.startswith(".") for part in key.split("/")):
            continue
        if bucket == out_bucket and key.startswith(out_prefix):
            continue
        tasks.append(Task(bucket, key, clean_etag(s3["object"].get("eTag")), out_bucket, out_prefix, key,
                          size=int(s3["object"].get("size") or 0)))
    return tasks


def _output_uri() -> str:
    from services.config import load_settings

    uri = load_settings().output_uri
    if not uri:
        raise RuntimeError(f"{OUTPUT_ENV} is not set: the S3 URI where .out files are written (s3://bucket/prefix/)")
    return uri


def _run(tasks: list[Task]) -> list[Result]:
    processor = _get_processor()
    return [processor.process(task) for task in tasks]


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    records = event.get("Records") or []
    if any(r.get("eventSource") == "aws:sqs" for r in records):
        return _sqs_batch(records)
    results = _run(tasks_from_s3_event(event, _output_uri()))
    failed = [r for r in results if not r.finished]
    summary = {"processed": len(results), "failed": len(failed),
               "outcomes": [r.outcome.value for r in results]}
    if failed:
        # Failing the invocation is how an S3 event is retried (objects already done are skipped then).
        raise RuntimeError(f"{len(failed)} of {len(results)} objects failed and will be retried: "
                           f"{', '.join(sorted({r.error[0] for r in failed if r.error}))}")
    return summary


def _sqs_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    failures = []
    for record in records:
        try:
            tasks = _tasks_from_body(record.get("body", ""))
            ok = all(r.finished for r in _run(tasks))
        except ValueError as exc:  # not a batch message nor an S3 event: the dead-letter queue keeps it
            log.warning("message %s: %s", record.get("messageId"), exc)
            ok = False
        if not ok:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _tasks_from_body(body: str) -> list[Task]:
    try:
        return [Task.from_body(body)]
    except ValueError:
        pass
    try:
        event = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError("a message body that is not JSON") from exc
    if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
        return []  # S3 sends it once when the notification is configured
    if not isinstance(event, dict) or not any("s3" in r for r in event.get("Records") or []):
        raise ValueError("neither a NoteLens batch message nor an S3 event")
    return tasks_from_s3_event(event, _output_uri())
