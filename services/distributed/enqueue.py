"""Enqueue a batch (one SQS message per input object) and create a queue with its dead-letter queue."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from services.aws import encryption
from services.distributed import JOB_RECORD, Task, clean_etag, message_id, parse_s3_uri, s3_uri
from services.domain import utcnow

log = logging.getLogger(__name__)

SEND_BATCH = 10  # SendMessageBatch's limit


@dataclass(frozen=True)
class InputObject:
    key: str
    rel: str
    etag: str
    size: int


@dataclass
class EnqueueReport:
    job_id: str
    input_uri: str
    output_uri: str
    sent: int = 0
    inputs: list[InputObject] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"JobId": self.job_id, "InputUri": self.input_uri, "OutputUri": self.output_uri,
                "InputFileCount": len(self.inputs), "MessagesSent": self.sent}


class EnqueueError(Exception):
    """Some messages could not be sent; the ones that were are listed so a re-run (idempotent) can finish."""


def list_inputs(s3: Any, bucket: str, prefix: str, exclude: str | None = None, page_size: int = 1000) -> list[InputObject]:
    """Every object under the prefix, page by page: no "folder" markers, no hidden names (a path part starting
    with "."), nothing under ``exclude`` (the output prefix when it lies inside the input)."""
    found = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size})
    for page in pages:
        for obj in page.get("Contents", []):
            key = obj["Key"]
            rel = key[len(prefix):]
            if not rel or key.endswith("/") or any(part.startswith(".") for part in rel.split("/")):
                continue
            if exclude is not None and key.startswith(exclude):
                continue
            found.append(InputObject(key, rel, clean_etag(obj.get("ETag")), int(obj.get("Size", 0))))
    return found


def job_id_for(input_uri: str, output_uri: str, engine: str, inputs: list[InputObject]) -> str:
    """The same objects enqueued again into the same output make the same job (the record is rewritten, not
    doubled)."""
    digest = hashlib.sha256(json.dumps([input_uri, output_uri, engine, [(o.key, o.etag) for o in inputs]]).encode())
    return "job-" + digest.hexdigest()[:20]


def enqueue(input_uri: str, output_uri: str, queue_url: str, engine: str = "", *, s3: Any, sqs: Any,
            kms_key_id: str = "", page_size: int = 1000, send_attempts: int = 5) -> EnqueueReport:
    in_bucket, in_prefix = parse_s3_uri(input_uri)
    out_bucket, out_prefix = parse_s3_uri(output_uri)
    input_uri, output_uri = s3_uri(in_bucket, in_prefix), s3_uri(out_bucket, out_prefix)
    exclude = out_prefix if out_bucket == in_bucket and out_prefix.startswith(in_prefix) else None
    inputs = list_inputs(s3, in_bucket, in_prefix, exclude, page_size)
    report = EnqueueReport(job_id_for(input_uri, output_uri, engine, inputs), input_uri, output_uri, inputs=inputs)
    # The record goes first: a worker or batch-status never sees results of a job it cannot account for.
    record = {"JobId": report.job_id, "InputUri": input_uri, "OutputUri": output_uri, "Engine": engine,
              "QueueUrl": queue_url, "SubmitTime": utcnow(),
              "Inputs": [{"Key": o.key, "Input": o.rel, "ETag": o.etag, "Size": o.size} for o in inputs]}
    s3.put_object(Bucket=out_bucket, Key=out_prefix + JOB_RECORD, ContentType="application/json",
                  Body=json.dumps(record, ensure_ascii=False).encode("utf-8"), **encryption(kms_key_id))
    fifo = queue_url.endswith(".fifo")
    tasks = [Task(in_bucket, o.key, o.etag, out_bucket, out_prefix, o.rel, engine, report.job_id, o.size) for o in inputs]
    for start in range(0, len(tasks), SEND_BATCH):
        report.sent += _send(sqs, queue_url, tasks[start:start + SEND_BATCH], fifo, send_attempts)
    log.info("job %s: %d messages sent", report.job_id, report.sent)
    return report


def _send(sqs: Any, queue_url: str, tasks: list[Task], fifo: bool, attempts: int) -> int:
    """One SendMessageBatch of up to ten, resending only the entries SQS reports failed (with backoff)."""
    entries = {}
    for task in tasks:
        mid = message_id(task.bucket, task.key, task.etag)
        entry: dict[str, Any] = {"Id": mid, "MessageBody": task.body()}
        if fifo:  # SQS drops a resend with the same id within five minutes; one group per object keeps it parallel
            entry.update(MessageDeduplicationId=mid, MessageGroupId=mid)
        entries[mid] = entry
    pending = list(entries.values())
    for attempt in range(attempts):
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=pending)
        failed = response.get("Failed", [])
        fatal = [f for f in failed if f.get("SenderFault")]
        if fatal:
            raise EnqueueError(f"SQS refused {len(fatal)} messages: {fatal[0].get('Code')}: {fatal[0].get('Message')}")
        if not failed:
            return len(tasks)
        retry_ids = {f["Id"] for f in failed}
        pending = [entries[i] for i in retry_ids]
        time.sleep(min(0.2 * 2 ** attempt, 5.0))
    raise EnqueueError(f"{len(pending)} messages were not accepted by SQS after {attempts} attempts; enqueue again "
                       "(objects already sent are only skipped by the workers)")


def create_queue(sqs: Any, name: str, visibility_timeout: int = 120, max_receive_count: int = 5,
                 retention_days: int = 14) -> tuple[str, str]:
    """The queue and its dead-letter queue ``<name>-dlq`` (RedrivePolicy: after ``max_receive_count`` receives a
    message moves there instead of being retried for ever). Idempotent: the same call returns the same URLs.
    Returns (queue URL, dead-letter queue URL)."""
    fifo = name.endswith(".fifo")
    base = name[:-5] if fifo else name
    dlq_name = f"{base}-dlq" + (".fifo" if fifo else "")
    common = {"MessageRetentionPeriod": str(retention_days * 86400), "SqsManagedSseEnabled": "true"}
    if fifo:
        common["FifoQueue"] = "true"
    dlq_url = sqs.create_queue(QueueName=dlq_name, Attributes=common)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = dict(common, VisibilityTimeout=str(visibility_timeout), ReceiveMessageWaitTimeSeconds="20",
                      RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}))
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, dlq_url
