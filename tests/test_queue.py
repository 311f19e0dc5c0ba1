"""Distributed batch over SQS (issue 13), in process against moto: enqueue, the worker, manifests, injected S3 and
store faults, the dead-letter queue, the heartbeat, and the Lambda handler. Two worker processes and a SIGKILL are
in tests/test_queue_workers.py."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from services.distributed import SOURCE_ETAG, Task, message_id
from services.distributed import status as batch_status
from services.distributed.enqueue import create_queue, enqueue
from services.distributed.worker import Outcome, Processor, Worker
from services.domain import ExtractionResult, NoteStatus
from services.notes import NoteService, sha256
from services.wiring import App

NOTES = {
    "2024/note1.txt": "두통 호소, 발열 없음. 타이레놀 500mg tid.".encode(),
    "2024/note2.txt": "흉통 호소. 고혈압 과거력.".encode("cp949"),
    "2024/ward 3/note3.txt": "복통과 설사. 대장 내시경 예정.".encode(),
    "note4.txt": "기침 3일. 가래 동반.".encode(),
}
BAD = {"empty.txt": b"", "scan.png": b"\x89PNG\r\n\x1a\n\x00"}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Fake credentials for moto; nothing reaches AWS."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true"),
                        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none")),
                        ("AWS_CONFIG_FILE", str(tmp_path / "none"))):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        for bucket in ("notes-in", "notes-out"):
            s3.create_bucket(Bucket=bucket)
        yield s3, sqs


def _put_inputs(s3: Any, files: dict[str, bytes], prefix: str = "inbox/") -> None:
    for rel, body in files.items():
        s3.put_object(Bucket="notes-in", Key=prefix + rel, Body=body)


def _out_keys(s3: Any, prefix: str = "run/") -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="notes-out", Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def _json(s3: Any, key: str, bucket: str = "notes-out") -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _queue_size(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _worker(app: App | NoteService, s3: Any, sqs: Any, url: str, idle: float = 0.3, lease: float = 60) -> Worker:
    service = app.notes if isinstance(app, App) else app
    return Worker(url, Processor(lambda engine: service, s3=s3, lease_seconds=lease), sqs=sqs, wait_seconds=0,
                  idle_exit=idle)


def _extractions(app: App) -> dict[str, int]:
    return {n.id: len(app.store.extractions(n.id)) for n in app.store.list_notes(with_text=False)}


# -- the queue ---------------------------------------------------------------------------------------


def test_create_queue_makes_a_dead_letter_queue_and_is_idempotent(aws: Any) -> None:
    _, sqs = aws
    url, dlq = create_queue(sqs, "notelens-batch", visibility_timeout=30, max_receive_count=4)
    assert create_queue(sqs, "notelens-batch", visibility_timeout=30, max_receive_count=4) == (url, dlq)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 4 and redrive["deadLetterTargetArn"].endswith(":notelens-batch-dlq")
    assert attrs["VisibilityTimeout"] == "30"
    fifo, fifo_dlq = create_queue(sqs, "notelens-batch.fifo")
    assert fifo.endswith("notelens-batch.fifo") and fifo_dlq.endswith("notelens-batch-dlq.fifo")


# -- enqueue -----------------------------------------------------------------------------------------


def test_enqueue_sends_one_message_per_object_across_listing_pages(aws: Any) -> None:
    s3, sqs = aws
    url, _ = create_queue(sqs, "q")
    _put_inputs(s3, NOTES)
    # Not inputs: a folder marker, hidden names, and the batch's own output inside the input prefix.
    for key in ("inbox/2024/", "inbox/.DS_Store", "inbox/2024/.cache/x.txt"):
        s3.put_object(Bucket="notes-in", Key=key, Body=b"x")
    s3.put_object(Bucket="notes-in", Key="inbox/out/old.txt.out", Body=b"{}")
    lists: list[int] = []
    s3.meta.events.register("before-parameter-build.s3.ListObjectsV2", lambda **kw: lists.append(kw["params"]["MaxKeys"]))
    report = enqueue("s3://notes-in/inbox", "s3://notes-in/inbox/out/", url, "local", s3=s3, sqs=sqs, page_size=2)
    assert len(lists) >= 4 and set(lists) == {2}  # 9 keys, 2 a page: the paginator followed every page
    assert report.sent == len(NOTES) == len(report.inputs)
    messages = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
        messages += batch
    tasks = sorted((Task.from_body(m["Body"]) for m in messages), key=lambda t: t.rel)
    assert [t.rel for t in tasks] == sorted(NOTES)
    etags = {k: s3.head_object(Bucket="notes-in", Key="inbox/" + k)["ETag"].strip('"') for k in NOTES}
    assert all(t.etag == etags[t.rel] and t.key == "inbox/" + t.rel and t.out_prefix == "inbox/out/" for t in tasks)
    assert {t.job_id for t in tasks} == {report.job_id} and {t.engine for t in tasks} == {"local"}
    job = _json(s3, "inbox/out/job.json", bucket="notes-in")
    assert job["JobId"] == report.job_id and job["QueueUrl"] == url and job["Engine"] == "local"
    assert sorted(i["Input"] for i in job["Inputs"]) == sorted(NOTES)
    assert {i["Input"]: i["Size"] for i in job["Inputs"]} == {k: len(v) for k, v in NOTES.items()}
    head = s3.head_object(Bucket="notes-in", Key="inbox/out/job.json")
    assert head["ServerSideEncryption"] == "AES256"


def test_send_retries_only_the_entries_sqs_failed(aws: Any) -> None:
    s3, sqs = aws
    url, _ = create_queue(sqs, "q")
    _put_inputs(s3, NOTES)
    calls: list[int] = []
    real = sqs.send_message_batch

    def flaky(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Entries"]))
        if len(calls) == 1:  # the service accepts the first entry and fails the rest (throttled, say)
            first, *rest = kwargs["Entries"]
            response = real(QueueUrl=kwargs["QueueUrl"], Entries=[first])
            response["Failed"] = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in rest]
            return response
        return real(**kwargs)

    sqs.send_message_batch = flaky
    report = enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    assert calls == [4, 3] and report.sent == 4 and _queue_size(sqs, url) == 4


def test_reenqueue_is_idempotent_in_effect(aws: Any, app: App) -> None:
    s3, sqs = aws
    url, _ = create_queue(sqs, "q", visibility_timeout=5)
    fifo, _ = create_queue(sqs, "q.fifo", visibility_timeout=5)
    _put_inputs(s3, NOTES)
    first = enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, "local", s3=s3, sqs=sqs)
    again = enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, "local", s3=s3, sqs=sqs)
    assert first.job_id == again.job_id and _queue_size(sqs, url) == 2 * len(NOTES)
    report = _worker(app, s3, sqs, url).run()
    # The second message of each object finds its .out (same ETag) and is only deleted.
    assert report.outcomes == {"done": len(NOTES), "skipped": len(NOTES)}
    assert _queue_size(sqs, url) == 0
    assert sorted(k for k in _out_keys(s3) if k.endswith(".out")) == sorted(f"run/{k}.out" for k in NOTES)
    assert set(_extractions(app).values()) == {1} and len(_extractions(app)) == len(NOTES)
    # A FIFO queue drops the resend itself: the message id is derived from bucket, key and ETag.
    enqueue("s3://notes-in/inbox/", "s3://notes-out/fifo/", fifo, "local", s3=s3, sqs=sqs)
    enqueue("s3://notes-in/inbox/", "s3://notes-out/fifo/", fifo, "local", s3=s3, sqs=sqs)
    assert _queue_size(sqs, fifo) == len(NOTES)
    # A changed object is a new version: processed again.
    s3.put_object(Bucket="notes-in", Key="inbox/note4.txt", Body="기침 3일. 가래 동반. 해열제 복용.".encode())
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, "local", s3=s3, sqs=sqs)
    assert _worker(app, s3, sqs, url).run().outcomes == {"done": 1, "skipped": len(NOTES) - 1}
    assert "해열제" in _json(s3, "run/note4.txt.out")["text"]


def test_message_id_is_per_object_version() -> None:
    assert message_id("b", "k", '"e1"') == message_id("b", "k", "e1")
    assert len({message_id("b", "k", "e1"), message_id("b", "k", "e2"), message_id("b", "k2", "e1")}) == 3


# -- the worker end to end ---------------------------------------------------------------------------


def test_worker_writes_outs_unprocessed_records_and_manifest(aws: Any, app: App) -> None:
    s3, sqs = aws
    url, dlq = create_queue(sqs, "q", visibility_timeout=5)
    _put_inputs(s3, {**NOTES, **BAD})
    job = enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, "local", s3=s3, sqs=sqs)
    pending = batch_status.build("s3://notes-out/run/", s3=s3, sqs=sqs)
    assert pending.status == "IN_PROGRESS" and len(pending.pending) == 6 and pending.queue["Waiting"] == 6
    report = _worker(app, s3, sqs, url).run()
    assert report.outcomes == {"done": 4, "unprocessed": 2}
    assert _queue_size(sqs, url) == 0 and _queue_size(sqs, dlq) == 0
    out = _json(s3, "run/2024/note1.txt.out")
    assert out["file"] == "2024/note1.txt" and out["engine"] == "local"
    assert {"두통", "타이레놀"} <= {e["text"] for e in out["entities"]}
    assert all(out["text"][e["begin"]:e["end"]] == e["text"] for e in out["entities"])
    assert _json(s3, "run/2024/note2.txt.out")["text"] == "흉통 호소. 고혈압 과거력."  # CP949 decoded
    head = s3.head_object(Bucket="notes-out", Key="run/2024/ward 3/note3.txt.out")
    assert head["Metadata"][SOURCE_ETAG] == job.inputs[[i.rel for i in job.inputs].index("2024/ward 3/note3.txt")].etag
    assert head["ServerSideEncryption"] == "AES256"
    # The .out is what the local batch writes for the same note.
    note = app.store.get_note(out["note_id"])
    assert note is not None and note.status is NoteStatus.DONE and note.attempts == 1 and note.source == "batch"
    bad = _json(s3, "run/unprocessed/empty.txt.json")
    assert (bad["ErrorCode"], bad["Retryable"]) == ("EMPTY_FILE", False)
    assert _json(s3, "run/unprocessed/scan.png.json")["ErrorCode"] == "UNSUPPORTED_TYPE"
    # The failed notes stay in the store with their reason; the bad original is kept for a retry.
    failed = {n.filename: n for n in app.store.list_notes(NoteStatus.FAILED)}
    assert failed["scan.png"].error_code == "UNSUPPORTED_TYPE"
    assert app.notes.blobs.get(sha256(BAD["scan.png"])) == BAD["scan.png"]
    assert app.notes.blobs.get(sha256(NOTES["note4.txt"])) == NOTES["note4.txt"]
    state = batch_status.build("s3://notes-out/run/", s3=s3, sqs=sqs)
    manifest = _json(s3, "run/Manifest.json")["Summary"]
    assert manifest == state.manifest()["Summary"]
    assert manifest["Status"] == "PARTIAL_SUCCESS" and manifest["PendingFilesCount"] == 0
    assert (manifest["InputFileCount"], manifest["SuccessFilesCount"], manifest["UnprocessedFilesCount"]) == (6, 4, 2)
    assert manifest["JobId"] == job.job_id and manifest["Engine"] == "local"
    assert manifest["Queue"] == {"Waiting": 0, "InFlight": 0, "DeadLetter": 0}
    success = {f["Input"]: f for f in _json(s3, "run/success.json")["Files"]}
    assert success["note4.txt"] == {"Input": "note4.txt", "Output": "note4.txt.out", "InputSize": len(NOTES["note4.txt"])}
    unprocessed = {f["Input"]: f["ErrorCode"] for f in _json(s3, "run/unprocessed.json")["Files"]}
    assert unprocessed == {"empty.txt": "EMPTY_FILE", "scan.png": "UNSUPPORTED_TYPE"}


def test_out_payload_matches_the_local_batch(aws: Any, app: App, tmp_path: Path) -> None:
    from services.batch import run_batch

    s3, sqs = aws
    url, _ = create_queue(sqs, "q", visibility_timeout=5)
    _put_inputs(s3, {"note4.txt": NOTES["note4.txt"]})
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    _worker(app, s3, sqs, url).run()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note4.txt").write_bytes(NOTES["note4.txt"])
    run_batch(tmp_path / "in", tmp_path / "out", service=app.notes, progress=False)
    local = (tmp_path / "out" / "note4.txt.out").read_bytes()
    assert s3.get_object(Bucket="notes-out", Key="run/note4.txt.out")["Body"].read() == local


def test_a_note_claimed_by_a_live_worker_is_postponed_not_done_twice(aws: Any, app: App) -> None:
    s3, sqs = aws
    url, _ = create_queue(sqs, "q", visibility_timeout=5)
    _put_inputs(s3, {"note4.txt": NOTES["note4.txt"]})
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    note = app.notes.ingest("note4.txt", NOTES["note4.txt"], process=False).note
    assert app.store.claim(note.id, 600)  # another worker holds it
    task = Task.from_body(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["Body"])
    result = Processor(lambda e: app.notes, s3=s3, lease_seconds=600).process(task)
    assert result.outcome is Outcome.BUSY and 590 <= result.delay <= 602
    # The worker looks again in 30 s with a delayed copy: waiting is no failure, the receive count starts again.
    assert _worker(app, s3, sqs, url, lease=600).run().outcomes == {"busy": 1}
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"],
            attrs["ApproximateNumberOfMessagesDelayed"]) == ("0", "0", "1")
    assert app.store.extractions(note.id) == [] and "run/note4.txt.out" not in _out_keys(s3)
    # Its holder died: after the lease the note is taken again (the store keeps whole seconds).
    time.sleep(1.05)
    result = Processor(lambda e: app.notes, s3=s3, lease_seconds=0).process(task)
    assert result.outcome is Outcome.DONE and len(app.store.extractions(note.id)) == 1


# -- injected faults ---------------------------------------------------------------------------------


def test_s3_write_failures_mid_batch_lose_nothing_and_a_second_pass_completes(aws: Any, app: App) -> None:
    s3, sqs = aws
    url, dlq = create_queue(sqs, "q", visibility_timeout=2, max_receive_count=10)
    files = {f"n{i}.txt": f"두통 {i}일째. 타이레놀 복용.".encode() for i in range(6)}
    _put_inputs(s3, files)
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    broken = {"run/n1.txt.out", "run/n4.txt.out"}

    def fail_put(params: dict[str, Any], **_: Any) -> None:
        if params["Key"] in broken:
            raise RuntimeError("injected S3 PutObject failure")

    s3.meta.events.register("before-parameter-build.s3.PutObject", fail_put)
    first = _worker(app, s3, sqs, url, idle=0.2).run()
    assert first.outcomes["done"] == 4 and first.outcomes["retry"] >= 2
    state = batch_status.build("s3://notes-out/run/", s3=s3, sqs=sqs)
    assert state.status == "PARTIAL_SUCCESS" and len(state.report.success) == 4
    failed = {f["Input"]: f for f in state.report.unprocessed}
    assert set(failed) == {"n1.txt", "n4.txt"}
    assert all(f["ErrorCode"] == "CLOUD_REQUEST_FAILED" and f["Retryable"] for f in failed.values())
    assert _queue_size(sqs, url) == 2 and _queue_size(sqs, dlq) == 0  # nothing lost: both still queued
    s3.meta.events.unregister("before-parameter-build.s3.PutObject", fail_put)
    time.sleep(2.1)  # the failed messages become visible again
    second = _worker(app, s3, sqs, url, idle=0.2).run()
    assert second.outcomes == {"done": 2}
    state = batch_status.build("s3://notes-out/run/", s3=s3, sqs=sqs)
    assert state.status == "COMPLETED" and len(state.report.success) == 6 and not state.report.unprocessed
    assert not any("unprocessed/" in k for k in _out_keys(s3))  # the stale failure records were removed
    # The extraction stored before the .out failed was reused, not redone.
    assert list(_extractions(app).values()) == [1] * 6 and _queue_size(sqs, url) == 0


class FlakyStore:
    """The real store, with a chosen method raising on chosen calls (a DynamoDB outage in the middle of a batch)."""

    def __init__(self, inner: Any, method: str, fail_on: set[int]) -> None:
        self.inner, self.method, self.fail_on, self.calls = inner, method, fail_on, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name != self.method:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls in self.fail_on:
                raise ConnectionError("injected store failure")
            return attr(*args, **kwargs)

        return call


@pytest.mark.parametrize("method", ["add_extraction", "claim", "create_note"])
def test_store_failures_mid_batch_are_retried_to_completion(aws: Any, app: App, method: str) -> None:
    s3, sqs = aws
    url, dlq = create_queue(sqs, "q", visibility_timeout=1, max_receive_count=10)
    files = {f"n{i}.txt": f"흉통 {i}시간. 니트로글리세린 투여.".encode() for i in range(5)}
    _put_inputs(s3, files)
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    flaky = FlakyStore(app.store, method, {2, 4})
    service = NoteService(flaky, app.notes.blobs, app.notes.extractor, app.settings.max_note_bytes)  # type: ignore[arg-type]
    first = _worker(service, s3, sqs, url, idle=0.1).run()
    assert first.outcomes["retry"] >= 1 and first.outcomes["done"] >= 3
    state = batch_status.collect("s3://notes-out/run/", s3=s3)
    assert len(state.report.success) + len(state.report.unprocessed) + len(state.pending) == 5
    assert all(f["Retryable"] for f in state.report.unprocessed)
    if method == "add_extraction":  # the note it failed on was released at once, not left to its lease
        released = [n for n in app.store.list_notes() if n.status is NoteStatus.FAILED]
        assert released and all(n.error_code == "CLOUD_REQUEST_FAILED" for n in released)
    time.sleep(1.1)
    _worker(service, s3, sqs, url, idle=1.5).run()
    state = batch_status.build("s3://notes-out/run/", s3=s3, sqs=sqs)
    assert state.status == "COMPLETED" and len(state.report.success) == 5
    assert list(_extractions(app).values()) == [1] * 5
    assert _queue_size(sqs, url) == 0 and _queue_size(sqs, dlq) == 0


def test_a_message_failing_every_time_goes_to_the_dead_letter_queue(aws: Any, app: App) -> None:
    s3, sqs = aws
    url, dlq = create_queue(sqs, "q", visibility_timeout=1, max_receive_count=2)
    _put_inputs(s3, {"note4.txt": NOTES["note4.txt"]})
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    sqs.send_message(QueueUrl=url, MessageBody="not a batch message")

    class Broken:
        name = "broken"

        def extract(self, text: str) -> ExtractionResult:
            raise TimeoutError("engine down")

    service = NoteService(app.store, app.notes.blobs, Broken(), app.settings.max_note_bytes)  # type: ignore[arg-type]
    report = _worker(service, s3, sqs, url, idle=2.5).run()
    assert report.outcomes == {"retry": 2} and report.poison == 2
    assert _queue_size(sqs, url) == 0
    moved = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"][:3] for m in moved) == ["not", '{"v']
    note = app.store.list_notes()[0]
    assert note.status is NoteStatus.FAILED and note.error_code == "EXTRACTION_FAILED" and note.attempts == 2
    record = _json(s3, "run/unprocessed/note4.txt.json")
    assert record["ErrorCode"] == "EXTRACTION_FAILED" and record["Retryable"]
    # Redriven from the dead-letter queue once the engine works, it completes.
    sqs.send_message(QueueUrl=url, MessageBody=next(m["Body"] for m in moved if m["Body"].startswith("{")))
    assert _worker(app, s3, sqs, url).run().outcomes == {"done": 1}
    assert len(app.store.extractions(note.id)) == 1


def test_heartbeat_keeps_a_long_message_invisible(aws: Any, app: App) -> None:
    s3, sqs = aws
    url, _ = create_queue(sqs, "q", visibility_timeout=1)
    _put_inputs(s3, {"note4.txt": NOTES["note4.txt"]})
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    started = threading.Event()

    class Slow:
        name = "local"

        def extract(self, text: str) -> ExtractionResult:
            started.set()
            time.sleep(2.5)  # longer than the visibility timeout
            return app.notes.extractor.extract(text)

    service = NoteService(app.store, app.notes.blobs, Slow(), app.settings.max_note_bytes)  # type: ignore[arg-type]
    worker = _worker(service, s3, sqs, url, idle=0.1)
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(10)
    seen = []
    while thread.is_alive():
        seen += sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])
        time.sleep(0.2)
    thread.join()
    assert seen == [] and worker.report.outcomes == {"done": 1} and _queue_size(sqs, url) == 0


def test_stop_finishes_the_current_message_and_releases_the_rest(aws: Any, app: App) -> None:
    s3, sqs = aws
    url, _ = create_queue(sqs, "q", visibility_timeout=30)
    _put_inputs(s3, NOTES)
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    worker = _worker(app, s3, sqs, url, idle=5)
    real = worker.processor.process

    def process_then_stop(task: Task) -> Any:
        worker.stop()  # SIGTERM arrives while the first message is being processed
        return real(task)

    worker.processor.process = process_then_stop  # type: ignore[method-assign]
    assert worker.run().outcomes == {"done": 1}
    # The rest were never taken: all still visible now, not after a 30 s timeout.
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == str(len(NOTES) - 1)


def test_recordings_through_the_queue_transient_transcription_failure_then_segments(aws: Any, app: App) -> None:
    from tests.audio_helpers import FakeTranscriber, wav

    s3, sqs = aws
    fake = FakeTranscriber(fail=1)  # the engine fails once, the way a cloud transcriber would
    app.__dict__["transcriber"] = fake
    url, dlq = create_queue(sqs, "q", visibility_timeout=1, max_receive_count=5)
    _put_inputs(s3, {"visit.wav": wav(2.0), "broken.m4a": b"not audio at all"})
    enqueue("s3://notes-in/inbox/", "s3://notes-out/run/", url, s3=s3, sqs=sqs)
    first = _worker(app, s3, sqs, url, idle=0.2).run()
    assert first.outcomes == {"retry": 1, "unprocessed": 1}
    assert _json(s3, "run/unprocessed/broken.m4a.json")["ErrorCode"] == "AUDIO_CORRUPT"
    assert _json(s3, "run/unprocessed/visit.wav.json")["Retryable"]
    time.sleep(1.1)
    assert _worker(app, s3, sqs, url, idle=0.5).run().outcomes == {"done": 1}
    out = _json(s3, "run/visit.wav.out")
    assert out["text"].startswith("기침이 계속 나요.") and [s["speaker"] for s in out["segments"]] == [
        "spk_1", "spk_0", "spk_0"]
    assert fake.calls == 2 and len(app.store.extractions(out["note_id"])) == 1
    assert _queue_size(sqs, url) == 0 and _queue_size(sqs, dlq) == 0


# -- NoteService support for claimed notes -----------------------------------------------------------


def test_claimed_processing_counts_one_attempt_and_ingest_without_processing_never_extracts(app: App) -> None:
    note = app.notes.ingest("a.txt", "두통.".encode(), process=False).note
    assert app.store.claim(note.id, 60)
    done = app.notes.process(note.id, claimed=True)
    assert done.note.status is NoteStatus.DONE and done.note.attempts == 1
    # A failed note that arrives again is not extracted by ingest(process=False): the worker claims it first.
    bad = app.notes.ingest("b.txt", "흉통.".encode(), process=False).note
    app.store.set_status(bad.id, NoteStatus.FAILED, "EXTRACTION_FAILED", "engine down")
    again = app.notes.ingest("b.txt", "흉통.".encode(), process=False)
    assert again.error is None and again.note.status is NoteStatus.FAILED and app.store.extractions(bad.id) == []
    assert app.notes.ingest("b.txt", "흉통.".encode()).note.status is NoteStatus.DONE  # the default still processes


# -- Lambda ------------------------------------------------------------------------------------------


@pytest.fixture
def lam(aws: Any, app: App, monkeypatch: pytest.MonkeyPatch) -> Any:
    import services.lambda_handler as handler_module

    s3, _ = aws
    monkeypatch.setenv("NOTELENS_OUTPUT_URI", "s3://notes-out/lambda/")
    monkeypatch.setattr(handler_module, "_processor", Processor(lambda e: app.notes, s3=s3))
    return handler_module


def _s3_event(bucket: str, key: str, etag: str = "", event: str = "ObjectCreated:Put") -> dict[str, Any]:
    return {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": event, "awsRegion": "us-east-1",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                   "object": {"key": quote_plus(key, safe="/"), "size": 1, "eTag": etag}}}


def test_lambda_s3_event_with_an_url_encoded_key(aws: Any, app: App, lam: Any) -> None:
    s3, _ = aws
    key = "upload/2024 03/두통 환자+재진.txt"
    s3.put_object(Bucket="notes-in", Key=key, Body=NOTES["2024/note1.txt"])
    etag = s3.head_object(Bucket="notes-in", Key=key)["ETag"].strip('"')
    event = {"Records": [_s3_event("notes-in", key, etag),
                         _s3_event("notes-out", "lambda/x.txt.out"),  # its own output: no loop
                         _s3_event("notes-in", "upload/", event="ObjectCreated:Put"),
                         _s3_event("notes-in", key, etag, event="ObjectRemoved:Delete")]}
    assert "+" in event["Records"][0]["s3"]["object"]["key"] and "%2B" in event["Records"][0]["s3"]["object"]["key"]
    assert lam.handler(event, None) == {"processed": 1, "failed": 0, "outcomes": ["done"]}
    out = _json(s3, f"lambda/{key}.out")
    assert out["file"] == key and "두통" in {e["text"] for e in out["entities"]}
    assert lam.handler({"Records": [_s3_event("notes-in", key, etag)]}, None)["outcomes"] == ["skipped"]
    # A transient failure fails the invocation, so Lambda retries it.
    with pytest.raises(RuntimeError, match="retried"):
        lam.handler({"Records": [_s3_event("no-such-bucket", "a.txt", "e")]}, None)


def test_lambda_sqs_batch_reports_only_the_failed_records(aws: Any, app: App, lam: Any) -> None:
    s3, _ = aws
    _put_inputs(s3, {"note4.txt": NOTES["note4.txt"], "empty.txt": b""})
    etag = s3.head_object(Bucket="notes-in", Key="inbox/note4.txt")["ETag"]

    def task(key: str, bucket: str = "notes-in") -> str:
        return Task(bucket, "inbox/" + key, "", "notes-out", "sqs/", key, "local", "job-1").body()

    s3_note = "upload/s3 event.txt"
    s3.put_object(Bucket="notes-in", Key=s3_note, Body="복통 호소.".encode())
    records = [
        {"messageId": "good", "body": task("note4.txt"), "eventSource": "aws:sqs"},
        {"messageId": "bad-file", "body": task("empty.txt"), "eventSource": "aws:sqs"},  # unprocessed: finished
        {"messageId": "garbage", "body": "{not json", "eventSource": "aws:sqs"},
        {"messageId": "unreachable", "body": task("x.txt", bucket="no-such-bucket"), "eventSource": "aws:sqs"},
        {"messageId": "s3-via-sqs", "body": json.dumps({"Records": [_s3_event("notes-in", s3_note)]}),
         "eventSource": "aws:sqs"},
        {"messageId": "s3-test", "body": json.dumps({"Event": "s3:TestEvent"}), "eventSource": "aws:sqs"},
    ]
    response = lam.handler({"Records": records}, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": "garbage"}, {"itemIdentifier": "unreachable"}]}
    assert _json(s3, "sqs/note4.txt.out")["file"] == "note4.txt"
    assert s3.head_object(Bucket="notes-out", Key="sqs/note4.txt.out")["Metadata"][SOURCE_ETAG] == etag.strip('"')
    assert _json(s3, "sqs/unprocessed/empty.txt.json")["ErrorCode"] == "EMPTY_FILE"
    assert _json(s3, f"lambda/{s3_note}.out")["text"] == "복통 호소."


# -- the command line --------------------------------------------------------------------------------


def test_command_line_queue_batch_worker_and_status(aws: Any, data_dir: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    from services.__main__ import main

    s3, sqs = aws
    _put_inputs(s3, {**NOTES, **BAD})
    assert main(["queue", "create", "cli-batch", "--visibility-timeout", "30", "--max-receive-count", "3"]) == 0
    urls = json.loads(capsys.readouterr().out)
    assert urls["DeadLetterQueueUrl"].endswith("cli-batch-dlq")
    monkeypatch.setenv("NOTELENS_QUEUE_URL", urls["QueueUrl"])  # the default queue of batch and worker
    assert main(["batch", "s3://notes-in/inbox/", "s3://notes-out/cli/", "--engine", "local"]) == 0
    assert json.loads(capsys.readouterr().out)["MessagesSent"] == 6
    assert main(["batch-status", "s3://notes-out/cli/"]) == 0
    assert json.loads(capsys.readouterr().out)["PendingFilesCount"] == 6
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        assert main(["worker", "--idle-exit", "0.5", "--wait-seconds", "0"]) == 0
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert json.loads(capsys.readouterr().out) == {"done": 4, "skipped": 0, "unprocessed": 2, "retry": 0, "busy": 0,
                                                   "poison": 0}
    assert main(["batch-status", "s3://notes-out/cli/"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["Status"], summary["SuccessFilesCount"], summary["UnprocessedFilesCount"]) == ("PARTIAL_SUCCESS", 4, 2)
    assert _json(s3, "cli/Manifest.json")["Summary"]["JobId"] == summary["JobId"]
    # The worker used the configured store (NOTELENS_DATA_DIR): the notes are there.
    from services.config import load_settings
    from services.wiring import build_app

    assert build_app(load_settings(), seed=False).store.counts()["done"] == 4
    # batch --wait: enqueued again, everything already has its result, so the manifest is written at once.
    assert main(["batch", "s3://notes-in/inbox/", "s3://notes-out/cli/", "--engine", "local", "--wait",
                 "--timeout", "5"]) == 0
    enqueued, waited = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert enqueued["JobId"] == summary["JobId"] and waited["Status"] == "PARTIAL_SUCCESS"
    assert main(["batch-status", "s3://notes-out/nothing/"]) == 2
    assert "no job.json" in capsys.readouterr().err


def test_s3_uris_survive_a_path_argument() -> None:
    from services.distributed import parse_s3_uri

    assert parse_s3_uri(str(Path("s3://bucket/notes/2024/"))) == ("bucket", "notes/2024/")
    assert parse_s3_uri("s3://bucket/notes") == ("bucket", "notes/")  # a folder, never a name prefix
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    with pytest.raises(ValueError):
        parse_s3_uri("/local/folder")
