"""The per-object work (``Processor``: shared with the Lambda handler) and the SQS worker loop (``Worker``).

A message is deleted only when its object has a final result in S3: a ``.out`` (done, or already done) or an
unprocessed record for a bad file. Anything else (S3, the store or the engine failing) leaves it in the queue: it
becomes visible again, is retried, and after the queue's maxReceiveCount SQS moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import PurePosixPath
from types import FrameType
from typing import Any

from services.aws import client, encryption, error_code
from services.batch import out_payload
from services.config import Settings
from services.distributed import SOURCE_ETAG, Task, clean_etag
from services.domain import ExtractionResult, Note, NoteStatus, utcnow
from services.errors import ErrorCode, NoteLensError
from services.notes import IngestOutcome, NoteService

log = logging.getLogger(__name__)

SOURCE = "batch"  # notes.source, as for the local batch
# Errors that are the input file's own: retrying the same bytes gives the same answer, so the message is done
# (recorded as unprocessed). Every other code (engine, cloud, configuration) is retried through the queue.
PERMANENT = frozenset({
    ErrorCode.EMPTY_FILE, ErrorCode.WHITESPACE_ONLY, ErrorCode.BINARY_FILE, ErrorCode.TOO_LARGE,
    ErrorCode.UNSUPPORTED_TYPE, ErrorCode.UNKNOWN_ENCODING, ErrorCode.READ_FAILED, ErrorCode.AUDIO_CORRUPT,
    ErrorCode.AUDIO_TRUNCATED, ErrorCode.AUDIO_SILENT, ErrorCode.AUDIO_TOO_LONG, ErrorCode.UNSUPPORTED_CODEC,
    ErrorCode.NO_SPEECH,
})
MAX_VISIBILITY = 43_200  # SQS's limit: 12 hours
# A message whose note another worker holds is looked at again after the holder's lease, but at least this often:
# the holder usually finishes long before its lease runs out (the same file twice under two names, say).
BUSY_RECHECK = 30


class Outcome(StrEnum):
    DONE = "done"  # extracted now, .out written
    SKIPPED = "skipped"  # this object version already has its .out (a redelivered or re-enqueued message)
    UNPROCESSED = "unprocessed"  # a bad file: recorded, the message is finished
    RETRY = "retry"  # a transient failure: the message stays and is received again
    BUSY = "busy"  # another live worker holds the note: try again when its lease runs out


@dataclass
class Result:
    outcome: Outcome
    note_id: str | None = None
    error: tuple[str, str] | None = None
    delay: int = 0  # BUSY: seconds until the holder's lease expires

    @property
    def finished(self) -> bool:
        """The message can be deleted."""
        return self.outcome in (Outcome.DONE, Outcome.SKIPPED, Outcome.UNPROCESSED)


class ServiceCache:
    """One NoteService per extraction engine named by messages, built by the wiring (so NOTELENS_BACKEND picks the
    stores) on first use and kept for the life of the worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._services: dict[str, NoteService] = {}
        self._lock = threading.Lock()

    def __call__(self, engine: str) -> NoteService:
        engine = engine or self.settings.extraction_engine
        with self._lock:
            if engine not in self._services:
                from services.wiring import build_app

                settings = self.settings.model_copy(update={"extraction_engine": engine})
                self._services[engine] = build_app(settings, seed=False).notes
            return self._services[engine]


class Processor:
    """Download one object, ingest it, extract it under a claim, write its .out (or its unprocessed record)."""

    def __init__(self, services: Callable[[str], NoteService], s3: Any | None = None, lease_seconds: float = 900,
                 kms_key_id: str = "") -> None:
        self.services = services
        self._s3 = s3
        # Longer than any single extraction: a live worker's note is never taken from it, and a dead worker's is
        # taken again this long after its last write.
        self.lease_seconds = lease_seconds
        self.kms_key_id = kms_key_id

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = client("s3")
        return self._s3

    def warm_up(self, engine: str = "") -> None:
        """Build the note service and its engine before the first message: loading a model can stall a process for
        seconds (heartbeats included), which must not happen while a message and a note's claim are held."""
        extractor = self.services(engine).extractor
        getattr(extractor, "engine", None)  # a LazyExtractor builds its engine here (no model call is made)

    def process(self, task: Task) -> Result:
        try:
            return self._process(task)
        except Exception as exc:  # S3, the store, anything transient: the message is retried, nothing is lost
            code = error_code(exc)
            log.warning("job %s: an object failed (%s), left in the queue", task.job_id or "-", code)
            log.debug("failure detail", exc_info=True)
            err = (ErrorCode.CLOUD_REQUEST_FAILED.value,
                   f"{type(exc).__name__} ({code}); the message is retried until it succeeds or reaches the "
                   "dead-letter queue.")
            self._record(task, err, retryable=True)
            return Result(Outcome.RETRY, error=err)

    def _process(self, task: Task) -> Result:
        expected = clean_etag(task.etag)
        if expected and self._has_out(task, expected):
            return Result(Outcome.SKIPPED)
        data, etag = self._download(task)
        if data is None:
            err = (ErrorCode.READ_FAILED.value, "The object no longer exists in S3.")
            self._record(task, err, retryable=False)
            return Result(Outcome.UNPROCESSED, error=err)
        if not expected and self._has_out(task, etag):
            return Result(Outcome.SKIPPED)
        service = self.services(task.engine)
        name = PurePosixPath(task.key).name
        ingested = service.ingest(name, data, source=SOURCE, process=False)
        if ingested.error is not None:
            return self._failed(task, ingested.note.id, ingested.error)
        note = ingested.note
        if note.status is NoteStatus.DONE:
            result = self._latest(service, note.id)
        elif service.store.claim(note.id, self.lease_seconds):
            outcome = self._extract_claimed(service, note)
            if outcome.error is not None:
                return self._failed(task, note.id, outcome.error)
            note = outcome.note
            assert outcome.extraction is not None
            result = outcome.extraction.result()
        else:
            current = service.store.get_note(note.id)
            if current is None or current.status is not NoteStatus.DONE:
                return Result(Outcome.BUSY, note.id, delay=self._lease_left(current or note))
            note, result = current, self._latest(service, note.id)
        self._write_out(task, service, note, result, etag)
        return Result(Outcome.DONE, note.id)

    def _extract_claimed(self, service: NoteService, note: Note) -> IngestOutcome:
        try:
            if note.text is None:  # a recording whose worker died before its transcript was stored
                return service.retry(note.id, claimed=True)
            return service.process(note.id, claimed=True)
        except BaseException as exc:
            # Let the next worker take the note at once instead of after the lease (failed notes are claimable).
            try:
                current = service.store.get_note(note.id)
                if current is not None and current.status is NoteStatus.PROCESSING:
                    service.store.set_status(note.id, NoteStatus.FAILED, ErrorCode.CLOUD_REQUEST_FAILED,
                                             f"Interrupted: {type(exc).__name__} ({error_code(exc)}); retried by the queue.")
            except Exception:  # the store itself is down: the lease runs out instead
                log.debug("could not release note %s", note.id, exc_info=True)
            raise

    @staticmethod
    def _latest(service: NoteService, note_id: str) -> ExtractionResult:
        versions = service.store.extractions(note_id)
        if not versions:
            raise RuntimeError(f"note {note_id} is done without an extraction")
        return versions[-1].result()

    def _lease_left(self, note: Note) -> int:
        try:
            age = (datetime.now(UTC) - datetime.fromisoformat(note.updated_at)).total_seconds()
        except ValueError:
            age = 0.0
        return min(MAX_VISIBILITY, max(1, math.ceil(self.lease_seconds - age) + 1))

    def _failed(self, task: Task, note_id: str, err: NoteLensError) -> Result:
        error = (err.code.value, err.message)
        if err.code in PERMANENT:
            self._record(task, error, retryable=False, note_id=note_id)
            return Result(Outcome.UNPROCESSED, note_id, error)
        # The failure is on the note too (status failed, retryable); the message brings it back.
        self._record(task, error, retryable=True, note_id=note_id)
        return Result(Outcome.RETRY, note_id, error)

    # -- S3 ----------------------------------------------------------------------------------------

    def _has_out(self, task: Task, etag: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            head = self.s3.head_object(Bucket=task.out_bucket, Key=task.out_key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return bool(head.get("Metadata", {}).get(SOURCE_ETAG) == etag)

    def _download(self, task: Task) -> tuple[bytes | None, str]:
        from botocore.exceptions import ClientError

        try:
            obj = self.s3.get_object(Bucket=task.bucket, Key=task.key)
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None, ""
            raise
        return obj["Body"].read(), clean_etag(obj.get("ETag"))

    def _write_out(self, task: Task, service: NoteService, note: Note, result: ExtractionResult, etag: str) -> None:
        assert note.text is not None
        segments = None
        if service.audio is not None and service.audio.handles(note.filename):
            segments = service.audio.segments(note.id) or None
        self.s3.put_object(
            Bucket=task.out_bucket, Key=task.out_key, Body=out_payload(task.rel, note.id, note.text, result, segments),
            ContentType="application/json", Metadata={SOURCE_ETAG: etag, "note-id": note.id, "job-id": task.job_id},
            **encryption(self.kms_key_id))
        try:  # an earlier attempt's failure record would contradict the .out (batch-status prefers the .out anyway)
            self.s3.delete_object(Bucket=task.out_bucket, Key=task.unprocessed_key)
        except Exception:
            log.debug("could not delete a stale unprocessed record", exc_info=True)

    def _record(self, task: Task, error: tuple[str, str], retryable: bool, note_id: str | None = None) -> None:
        """``<out>/unprocessed/<rel>.json``: read by batch-status. Best effort for a transient failure (S3 may be
        what failed); a bad file's record must be written before its message is deleted, so that raises."""
        body = {"Input": task.rel, "Key": task.key, "ETag": clean_etag(task.etag), "ErrorCode": error[0],
                "ErrorMessage": error[1], "NoteId": note_id, "Retryable": retryable, "JobId": task.job_id,
                "Time": utcnow()}
        try:
            self.s3.put_object(Bucket=task.out_bucket, Key=task.unprocessed_key, ContentType="application/json",
                               Body=json.dumps(body, ensure_ascii=False).encode("utf-8"), **encryption(self.kms_key_id))
        except Exception:
            if not retryable:
                raise
            log.debug("could not record a transient failure", exc_info=True)


# -- the queue worker -------------------------------------------------------------------------------


@dataclass
class WorkerReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    poison: int = 0  # bodies that are not batch messages: left for the dead-letter queue

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values()) + self.poison

    def summary(self) -> dict[str, int]:
        return {**{o.value: self.outcomes.get(o.value, 0) for o in Outcome}, "poison": self.poison}


class _Heartbeat:
    """Keeps a message invisible while it is processed (a long recording can take longer than the queue's
    visibility timeout), by ChangeMessageVisibility every third of it."""

    def __init__(self, sqs: Any, queue_url: str, receipt: str, visibility: int) -> None:
        self.sqs, self.queue_url, self.receipt, self.visibility = sqs, queue_url, receipt, visibility
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sqs-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = max(1.0, self.visibility / 3)
        while not self._done.wait(interval):
            try:
                self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=self.receipt,
                                                   VisibilityTimeout=self.visibility)
            except Exception as exc:  # the message may reappear; the claim still keeps the note single
                log.warning("heartbeat failed (%s)", error_code(exc))


class Worker:
    """Receives messages one at a time (so a message never waits invisible behind another) and processes them until
    stopped, ``max_messages`` are handled, or the queue stays empty for ``idle_exit`` seconds."""

    def __init__(self, queue_url: str, processor: Processor, sqs: Any | None = None, wait_seconds: int = 20,
                 max_messages: int | None = None, idle_exit: float | None = None,
                 visibility_timeout: int | None = None) -> None:
        self.queue_url = queue_url
        self.processor = processor
        self._sqs = sqs
        self.wait_seconds = wait_seconds
        self.max_messages = max_messages
        self.idle_exit = idle_exit
        self.visibility_timeout = visibility_timeout
        self.report = WorkerReport()
        self._stop = threading.Event()
        self._signals = 0

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = client("sqs")
        return self._sqs

    def stop(self) -> None:
        """Finish the message in hand, then exit."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT: finish the current message and exit; a second signal releases it at once."""

        def handle(signum: int, frame: FrameType | None) -> None:
            self._signals += 1
            self.stop()
            if self._signals > 1:
                raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def run(self) -> WorkerReport:
        visibility = self.visibility_timeout or int(self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"])
        idle_since = time.monotonic()
        failures = 0
        while not self._stop.is_set():
            if self.max_messages is not None and self.report.handled >= self.max_messages:
                break
            wait = self.wait_seconds
            if self.idle_exit is not None:
                wait = min(wait, max(0, math.ceil(self.idle_exit - (time.monotonic() - idle_since))))
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=wait,
                    MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
                failures = 0
            except Exception as exc:  # SQS unreachable for a moment: back off, do not die
                failures += 1
                log.warning("receive failed (%s)", error_code(exc))
                time.sleep(min(2.0 ** failures, 30.0))
                messages = []
            if not messages:
                if self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit:
                    break
                continue
            for message in messages:
                if self._stop.is_set():
                    self._release(message)
                else:
                    self._handle(message, visibility)
            idle_since = time.monotonic()
        return self.report

    def _handle(self, message: dict[str, Any], visibility: int) -> None:
        receipt = message["ReceiptHandle"]
        try:
            task = Task.from_body(message["Body"])
        except ValueError as exc:
            log.warning("message %s is not a batch message (%s): left for the dead-letter queue",
                        message.get("MessageId"), exc)
            self.report.poison += 1
            return
        try:
            with _Heartbeat(self.sqs, self.queue_url, receipt, visibility):
                result = self.processor.process(task)
        except BaseException:  # a second SIGINT/SIGTERM: hand the message back now rather than after its timeout
            self._release(message)
            raise
        self.report.outcomes[result.outcome.value] += 1
        log.info("message %s: %s (note %s, receive %s)", message.get("MessageId"), result.outcome.value,
                 result.note_id or "-", message.get("Attributes", {}).get("ApproximateReceiveCount", "?"))
        try:
            if result.finished:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
            elif result.outcome is Outcome.BUSY:
                self._postpone(message, result.delay)
        except Exception as exc:  # the message comes back and is skipped (its .out exists): nothing lost
            log.warning("message %s: could not delete or postpone (%s)", message.get("MessageId"), error_code(exc))

    def _postpone(self, message: dict[str, Any], delay: int) -> None:
        """Look at the message again in ``delay`` seconds (at most BUSY_RECHECK). On a standard queue a delayed copy
        replaces it, so waiting for another worker does not count towards maxReceiveCount (the dead-letter queue is
        for failures); the copy is sent before the original is deleted, so a failure in between only duplicates it.
        A FIFO queue has no per-message delay: the message stays hidden instead."""
        delay = max(1, min(delay, BUSY_RECHECK))
        receipt = message["ReceiptHandle"]
        if self.queue_url.endswith(".fifo"):
            self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=delay)
            return
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=message["Body"], DelaySeconds=delay)
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)

    def _release(self, message: dict[str, Any]) -> None:
        try:
            self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                               VisibilityTimeout=0)
        except Exception as exc:
            log.warning("could not release message %s (%s)", message.get("MessageId"), error_code(exc))
