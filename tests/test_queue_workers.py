"""Two worker processes on one queue (issue 13 acceptance): 200 notes in S3, a moto server on loopback for S3 and SQS,
one shared store (SQLite; DynamoDB too when the records store is present); a third worker is SIGKILLed mid-message. Every note is extracted exactly once, every
input has its .out, nothing is left in the queue or the dead-letter queue."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from services.config import load_settings
from services.distributed import status as batch_status
from services.distributed.enqueue import create_queue, enqueue
from services.domain import NoteStatus
from services.store import NoteStore
from services.wiring import build_app

ROOT = Path(__file__).resolve().parent.parent
NOTES = 200
VISIBILITY = 3  # seconds: the killed worker's message is visible again soon
# Seconds: its claimed note can be taken again after this. Longer than any stall of a live worker on a busy machine
# (a lease shorter than one extraction would let a second worker take a note still being worked on).
LEASE = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true"),
                        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none")),
                        ("AWS_CONFIG_FILE", str(tmp_path / "none")), ("AWS_ENDPOINT_URL", endpoint)):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    # moto's state is per process, not per server: start from nothing, leave nothing.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    try:
        yield endpoint
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
        server.stop()


def _note(i: int) -> bytes:
    return (f"{i}번 환자. 두통 {i % 9 + 1}일째, 발열 {'없음' if i % 2 else '있음'}. "
            f"타이레놀 {100 + i}mg 복용. 혈압 {110 + i % 40}/{70 + i % 20}.").encode()


def _start(data_dir: Path, queue: str, log: Path, marker: Path | None = None,
           extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, NOTELENS_DATA_DIR=str(data_dir), NOTELENS_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
               **(extra or {}))
    env.pop("NOTELENS_TEST_HANG_MARKER", None)
    if marker is not None:
        env["NOTELENS_TEST_HANG_MARKER"] = str(marker)
    args = [sys.executable, str(ROOT / "tests" / "queue_worker.py"), "worker", "--queue", queue,
            "--wait-seconds", "1", "--lease", str(LEASE)]
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(tmp_path.glob("*.log")))


def _shared_store(backend: str, data_dir: Path, s3: Any) -> tuple[NoteStore, dict[str, str]]:
    """The store both workers share, as the test reads it, and the environment that gives it to the workers."""
    if backend == "sqlite":
        # The schema exists before two processes open the file.
        return build_app(load_settings(data_dir=data_dir), seed=False).store, {}
    pytest.importorskip("services.store.dynamodb")
    from services.wiring import build_backends

    s3.create_bucket(Bucket="notes-store")
    env = {"NOTELENS_BACKEND": "aws", "NOTELENS_S3_BUCKET": "notes-store", "NOTELENS_DYNAMODB_TABLE": "queue-test",
           "NOTELENS_TEST_NO_SEARCH": "1"}
    store = build_backends(load_settings(data_dir=data_dir, backend="aws", s3_bucket="notes-store",
                                         dynamodb_table="queue-test")).store
    store.counts()  # the table exists before two processes race to create it
    return store, env


def _queued(sqs: Any, url: str) -> int:
    """Messages waiting, in flight or delayed on the queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attrs.get(n, 0)) for n in names)


# moto's DynamoDB copies the whole table for every transaction (and its server is not thread-safe there: some calls
# fail with a 500 and are retried), so its time grows with the square of the notes: fewer notes there.
@pytest.mark.parametrize(("backend", "count"), [("sqlite", NOTES), ("dynamodb", 30)])
def test_two_workers_process_every_note_once_with_one_killed_mid_message(
        moto_server: str, tmp_path: Path, backend: str, count: int) -> None:
    s3: Any = boto3.client("s3")
    sqs: Any = boto3.client("sqs")
    s3.create_bucket(Bucket="notes-in")
    s3.create_bucket(Bucket="notes-out")
    for i in range(count):
        s3.put_object(Bucket="notes-in", Key=f"notes/{i:03d}.txt", Body=_note(i))
    url, dlq = create_queue(sqs, "batch", visibility_timeout=VISIBILITY, max_receive_count=10)
    data_dir = tmp_path / "data"
    store, env = _shared_store(backend, data_dir, s3)
    job = enqueue("s3://notes-in/notes/", "s3://notes-out/run/", url, "local", s3=s3, sqs=sqs)
    assert job.sent == count

    marker = tmp_path / "hung-note"
    # Two workers and a third that will be killed in its first message; all start together (a process's start-up
    # is most of this test's time on a busy machine).
    doomed = _start(data_dir, url, tmp_path / "a.log", marker, env)
    workers = [doomed, *(_start(data_dir, url, tmp_path / f"{name}.log", extra=env) for name in "bc")]
    try:
        deadline = time.monotonic() + 40
        while not marker.exists():
            assert time.monotonic() < deadline and doomed.poll() is None, _logs(tmp_path)
            time.sleep(0.1)
        hung = marker.read_text()
        doomed.send_signal(signal.SIGKILL)  # claimed, mid-message: no chance to release anything
        assert doomed.wait(10) == -signal.SIGKILL

        deadline = time.monotonic() + 90
        while (state := batch_status.collect("s3://notes-out/run/", s3=s3)).pending:
            assert time.monotonic() < deadline, f"{len(state.pending)} pending\n{_logs(tmp_path)}"
            assert all(w.poll() is None for w in workers[1:]), _logs(tmp_path)
            time.sleep(2)
        # Every .out is written, but the killed worker's message (visible again after its timeout) or a delayed
        # re-send may still be on its way: the live workers must drain it (a skip) before they are stopped.
        while _queued(sqs, url):
            assert time.monotonic() < deadline, f"queue not drained\n{_logs(tmp_path)}"
            time.sleep(1)
        for worker in workers[1:]:  # SIGTERM: each finishes what it holds and exits cleanly
            worker.send_signal(signal.SIGTERM)
        assert [w.wait(30) for w in workers[1:]] == [0, 0], _logs(tmp_path)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    state = batch_status.build("s3://notes-out/run/", s3=s3, sqs=sqs)
    summary = state.manifest()["Summary"]
    assert (summary["Status"], summary["SuccessFilesCount"], summary["PendingFilesCount"]) == ("COMPLETED", count, 0)
    assert summary["Queue"] == {"Waiting": 0, "InFlight": 0, "DeadLetter": 0}, summary
    notes = store.list_notes(limit=10 * count, with_text=False)
    assert len(notes) == count and {n.status for n in notes} == {NoteStatus.DONE}
    versions = {n.id: len(store.extractions(n.id)) for n in notes}
    assert set(versions.values()) == {1}, {k: v for k, v in versions.items() if v != 1}  # none done twice
    killed = store.get_note(hung)
    others = [n.attempts for n in notes if n.id != hung]
    assert killed is not None
    if backend == "sqlite":  # no failures here: one attempt a note, two for the one claimed by the killed worker
        assert killed.attempts == 2 and set(others) == {1}, sorted(others)
    else:  # moto's failed calls were retried: more attempts, still one extraction
        assert killed.attempts >= 2 and min(others) >= 1
    # Every .out names its own note: 200 distinct notes, none lost.
    heads = [s3.head_object(Bucket="notes-out", Key=f"run/{i:03d}.txt.out") for i in range(count)]
    assert len({h["Metadata"]["note-id"] for h in heads}) == count
    # Both live workers took a share; the killed one finished nothing. (A message can be delivered twice when a
    # stalled worker's heartbeat comes late: the second delivery then finds the note done and only writes its .out,
    # so the invariant is one extraction a note, checked above, not one delivery a message.)
    done = {name: set(re.findall(r": done \(note (\w+)", (tmp_path / name).read_text(errors="replace")))
            for name in ("b.log", "c.log")}
    assert done["b.log"] | done["c.log"] == {n.id for n in notes} and all(done.values())
    assert ": done (note" not in (tmp_path / "a.log").read_text(errors="replace")


def test_a_second_sigterm_releases_the_message_and_the_note_at_once(moto_server: str, tmp_path: Path) -> None:
    s3: Any = boto3.client("s3")
    sqs: Any = boto3.client("sqs")
    s3.create_bucket(Bucket="notes-in")
    s3.create_bucket(Bucket="notes-out")
    s3.put_object(Bucket="notes-in", Key="notes/one.txt", Body=_note(1))
    url, _ = create_queue(sqs, "batch", visibility_timeout=120)  # only a release makes it visible within the test
    store, _ = _shared_store("sqlite", tmp_path / "data", s3)
    enqueue("s3://notes-in/notes/", "s3://notes-out/run/", url, "local", s3=s3, sqs=sqs)
    marker = tmp_path / "hung-note"
    worker = _start(tmp_path / "data", url, tmp_path / "a.log", marker)
    try:
        deadline = time.monotonic() + 40
        while not marker.exists():
            assert time.monotonic() < deadline and worker.poll() is None, _logs(tmp_path)
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)  # the first: finish the message (it hangs, so it does not)
        time.sleep(0.5)
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)  # the second: give everything back now
        assert worker.wait(20) == 130, _logs(tmp_path)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])
    assert len(messages) == 1  # visible again at once, not after its 120 s
    note = store.get_note(marker.read_text())
    assert note is not None and note.status is NoteStatus.FAILED and "Interrupted" in (note.error_message or "")
    assert store.claim(note.id, 3600)  # free for the next worker, whatever its lease
