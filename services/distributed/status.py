"""``batch-status``: Manifest.json, success.json and unprocessed.json of a distributed batch, from its job record and
what the workers wrote (the same fields as services/batch.py's BatchReport.manifest), and what is still pending."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.aws import encryption, error_code
from services.batch import BatchReport
from services.distributed import JOB_RECORD, UNPROCESSED_DIR, parse_s3_uri
from services.errors import ErrorCode

log = logging.getLogger(__name__)


class NoJob(Exception):
    """The output prefix has no job record (nothing was enqueued to it)."""


@dataclass
class BatchStatus:
    job: dict[str, Any]
    report: BatchReport
    pending: list[str] = field(default_factory=list)
    queue: dict[str, int] = field(default_factory=dict)  # approximate message counts, when the queue could be read

    @property
    def status(self) -> str:
        return "IN_PROGRESS" if self.pending else self.report.status

    def manifest(self) -> dict[str, Any]:
        manifest = self.report.manifest(str(self.job.get("Engine") or ""))
        summary = manifest["Summary"]
        summary["Status"] = self.status
        # Counting them would mean reading every .out; the distributed batch does not meter characters.
        summary["TotalMeteredCharacters"] = None
        summary.update(PendingFilesCount=len(self.pending), JobId=self.job.get("JobId"),
                       InputUri=self.job.get("InputUri"), OutputUri=self.job.get("OutputUri"))
        if self.queue:
            summary["Queue"] = self.queue
        return manifest


def _listing(s3: Any, bucket: str, prefix: str) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = obj["LastModified"]
    return found


def collect(output_uri: str, *, s3: Any, sqs: Any | None = None) -> BatchStatus:
    bucket, prefix = parse_s3_uri(output_uri)
    from botocore.exceptions import ClientError

    try:
        job = json.loads(s3.get_object(Bucket=bucket, Key=prefix + JOB_RECORD)["Body"].read())
    except ClientError as exc:
        if error_code(exc) in ("NoSuchKey", "404"):
            raise NoJob(f"no {JOB_RECORD} under s3://{bucket}/{prefix}: enqueue a batch to it first") from exc
        raise
    keys = _listing(s3, bucket, prefix)
    report = BatchReport(input_count=len(job.get("Inputs", [])))
    state = BatchStatus(job, report)
    finished = []
    for item in job.get("Inputs", []):
        rel = item["Input"]
        out = f"{prefix}{rel}.out"
        record = f"{prefix}{UNPROCESSED_DIR}{rel}.json"
        if out in keys:  # a .out wins over a failure record from an earlier attempt
            report.success.append({"Input": rel, "Output": f"{rel}.out", "InputSize": item.get("Size", 0)})
            finished.append(keys[out])
        elif record in keys:
            report.unprocessed.append(_unprocessed(s3, bucket, record, rel))
        else:
            state.pending.append(rel)
    if finished:
        try:
            report.seconds = max(0.0, (max(finished) - datetime.fromisoformat(job["SubmitTime"])).total_seconds())
        except (KeyError, ValueError, TypeError):
            pass
    if sqs is not None and job.get("QueueUrl"):
        state.queue = _queue_counts(sqs, job["QueueUrl"])
    return state


def _unprocessed(s3: Any, bucket: str, key: str, rel: str) -> dict[str, Any]:
    try:
        record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return {"Input": rel, "ErrorCode": record.get("ErrorCode"), "ErrorMessage": record.get("ErrorMessage"),
                "Retryable": bool(record.get("Retryable"))}
    except Exception as exc:  # one unreadable record must not hide the rest
        return {"Input": rel, "ErrorCode": ErrorCode.OUTPUT_INVALID.value,
                "ErrorMessage": f"The failure record could not be read ({error_code(exc)}).", "Retryable": True}


def _queue_counts(sqs: Any, queue_url: str) -> dict[str, int]:
    """Messages waiting and in flight, and in the dead-letter queue (approximate, as SQS reports them)."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    try:
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[*names, "RedrivePolicy"])["Attributes"]
        counts = {"Waiting": int(attrs.get(names[0], 0)), "InFlight": int(attrs.get(names[1], 0))}
        if "RedrivePolicy" in attrs:
            arn = json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"]
            account, name = arn.split(":")[4], arn.split(":")[5]
            dlq = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            dlq_attrs = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=[names[0]])["Attributes"]
            counts["DeadLetter"] = int(dlq_attrs.get(names[0], 0))
        return counts
    except Exception as exc:  # the manifest does not depend on the queue
        log.warning("queue counts unavailable (%s)", error_code(exc))
        return {}


def write_manifest(state: BatchStatus, output_uri: str, *, s3: Any, kms_key_id: str = "") -> None:
    bucket, prefix = parse_s3_uri(output_uri)
    files = {"Manifest.json": state.manifest(), "success.json": {"Files": state.report.success},
             "unprocessed.json": {"Files": state.report.unprocessed}}
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=prefix + name, ContentType="application/json",
                      Body=json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"), **encryption(kms_key_id))


def build(output_uri: str, *, s3: Any, sqs: Any | None = None, kms_key_id: str = "", wait: float = 0.0,
          interval: float = 10.0) -> BatchStatus:
    """Collect the state (polling up to ``wait`` seconds while inputs are pending) and write the manifests."""
    deadline = time.monotonic() + wait
    state = collect(output_uri, s3=s3, sqs=sqs)
    while state.pending and time.monotonic() < deadline:
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        state = collect(output_uri, s3=s3, sqs=sqs)
    write_manifest(state, output_uri, s3=s3, kms_key_id=kms_key_id)
    return state
