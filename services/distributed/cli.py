"""Command line of the distributed batch: ``batch s3://in/ s3://out/ --queue URL``, ``worker``, ``batch-status``,
``queue create``. services/__main__.py wires these into ``python -m services``; ``python -m services.distributed``
runs them on their own."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from services.distributed import is_s3_uri

COMMANDS = ("worker", "batch-status", "queue")


def add_batch_arguments(b: argparse.ArgumentParser) -> None:
    """The queue options of ``batch`` (the local batch's parser keeps its own arguments)."""
    b.add_argument("--queue", default=None, metavar="URL",
                   help="S3 input and output: enqueue one SQS message per object for workers (default: "
                        "NOTELENS_QUEUE_URL)")
    b.add_argument("--wait", action="store_true", help="with --queue: wait for the workers, then write the manifests")
    b.add_argument("--timeout", type=float, default=3600.0, help="with --wait: give up after this many seconds")


def add_parsers(sub: Any) -> None:
    w = sub.add_parser("worker", help="process distributed batch messages from an SQS queue (run any number of them)")
    w.add_argument("--queue", default=None, metavar="URL", help="queue URL (default: NOTELENS_QUEUE_URL)")
    w.add_argument("--max-messages", type=int, default=None, metavar="N", help="exit after handling N messages")
    w.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                   help="exit when no message has come for this long (default: run until SIGTERM/SIGINT)")
    w.add_argument("--wait-seconds", type=int, default=20, choices=range(0, 21), metavar="0-20",
                   help="long-poll time of each receive")
    w.add_argument("--lease", type=float, default=900.0, metavar="SECONDS",
                   help="how long a claimed note stays another worker's (longer than any one extraction)")
    s = sub.add_parser("batch-status", help="write Manifest.json, success.json, unprocessed.json of a distributed "
                                            "batch and print how many inputs are pending")
    s.add_argument("output_uri", help="the batch's s3://bucket/prefix/")
    s.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="poll while inputs are pending")
    s.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    q = sub.add_parser("queue", help="SQS queues for the distributed batch")
    qsub = q.add_subparsers(dest="action", required=True)
    c = qsub.add_parser("create", help="create NAME and its dead-letter queue NAME-dlq (NAME.fifo for FIFO)")
    c.add_argument("name")
    c.add_argument("--visibility-timeout", type=int, default=120, help="seconds a received message stays hidden")
    c.add_argument("--max-receive-count", type=int, default=5, help="receives before a message goes to the DLQ")


def uses_queue(args: argparse.Namespace) -> bool:
    """Whether a ``batch`` command is the distributed one (S3 input or output, or --queue)."""
    return bool(getattr(args, "queue", None)) or is_s3_uri(args.input_dir) or is_s3_uri(args.output_dir)


def run(args: argparse.Namespace) -> int:
    from services.aws import client
    from services.config import load_settings
    from services.errors import NoteLensError

    settings = load_settings()
    logging.getLogger("services").setLevel(settings.log_level.upper())
    try:
        if args.command == "batch":
            return _batch(args, settings, client)
        if args.command == "worker":
            return _worker(args, settings)
        if args.command == "batch-status":
            from services.distributed.status import NoJob, build

            try:
                state = build(args.output_uri, s3=client("s3"), sqs=client("sqs"), kms_key_id=settings.s3_kms_key_id,
                              wait=args.wait, interval=args.interval)
            except NoJob as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(json.dumps(state.manifest()["Summary"], ensure_ascii=False))
            return 0
        if args.command == "queue":
            from services.distributed.enqueue import create_queue

            url, dlq = create_queue(client("sqs"), args.name, args.visibility_timeout, args.max_receive_count)
            print(json.dumps({"QueueUrl": url, "DeadLetterQueueUrl": dlq}))
            return 0
    except NoteLensError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 2


def _batch(args: argparse.Namespace, settings: Any, client: Any) -> int:
    from services.distributed.enqueue import enqueue
    from services.distributed.status import build

    queue = args.queue or settings.queue_url
    if not queue:
        print("error: an S3 batch needs a queue: --queue URL or NOTELENS_QUEUE_URL", file=sys.stderr)
        return 2
    if not (is_s3_uri(args.input_dir) and is_s3_uri(args.output_dir)):
        print("error: a queued batch reads s3://bucket/prefix/ and writes s3://bucket/prefix/", file=sys.stderr)
        return 2
    s3, sqs = client("s3"), client("sqs")
    engine = args.engine or settings.extraction_engine
    report = enqueue(str(args.input_dir), str(args.output_dir), queue, engine, s3=s3, sqs=sqs,
                     kms_key_id=settings.s3_kms_key_id)
    print(json.dumps(report.summary(), ensure_ascii=False))
    if args.wait:
        state = build(report.output_uri, s3=s3, sqs=sqs, kms_key_id=settings.s3_kms_key_id, wait=args.timeout)
        print(json.dumps(state.manifest()["Summary"], ensure_ascii=False))
        return 1 if state.pending or state.status == "FAILED" else 0
    return 0


def _worker(args: argparse.Namespace, settings: Any) -> int:
    from services.distributed.worker import Processor, ServiceCache, Worker

    queue = args.queue or settings.queue_url
    if not queue:
        print("error: no queue: --queue URL or NOTELENS_QUEUE_URL", file=sys.stderr)
        return 2
    # A long-running service: its log lines (outcomes, never note text) go to stderr with a time.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    processor = Processor(ServiceCache(settings), lease_seconds=args.lease, kms_key_id=settings.s3_kms_key_id)
    worker = Worker(queue, processor, wait_seconds=args.wait_seconds, max_messages=args.max_messages,
                    idle_exit=args.idle_exit)
    worker.install_signal_handlers()
    try:
        processor.warm_up()
        worker.run()
    except KeyboardInterrupt:  # a second SIGTERM/SIGINT: the message in hand was released, not finished
        print(json.dumps(worker.report.summary()))
        return 130
    print(json.dumps(worker.report.summary()))
    return 0
