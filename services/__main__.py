"""Command line: ``python -m services batch|worker|batch-status|queue|migrate|evaluate|check-gold|seed|build-vocab|cm-job|search|reindex|transcribe|rank|hospitals``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from services.extraction import ENGINES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services", description="NoteLens command line")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("batch", help="extract every file in INPUT_DIR into OUTPUT_DIR (Comprehend Medical batch layout); "
                                     "s3://in/ s3://out/ --queue URL: one SQS message per object, for workers")
    b.add_argument("input_dir", help="folder, or s3://bucket/prefix/ with --queue")
    b.add_argument("output_dir", help="folder, or s3://bucket/prefix/ with --queue")
    b.add_argument("--engine", default=None, choices=sorted(ENGINES), help="extraction engine (default: settings)")
    b.add_argument("--workers", type=int, default=1, help="worker processes for extraction")
    b.add_argument("--force", action="store_true", help="redo files whose .out already exists")
    b.add_argument("--no-store", action="store_true", help="do not write results into the NoteLens store")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--prompt", help="prompt for the claude/llm engines: TASK or TASK@VERSION (default: settings)")
    b.add_argument("--model", help="model id for the claude/llm engines (default: settings)")

    e = sub.add_parser("evaluate", help="score a batch output folder against a gold JSONL file")
    e.add_argument("gold", type=Path)
    e.add_argument("out_dir", type=Path)
    e.add_argument("--json", action="store_true", help="print the scores as JSON")
    e.add_argument("--errors", type=int, default=0, help="also print up to N misses and false hits")

    c = sub.add_parser("check-gold", help="check a gold JSONL file against its notes (format, exact substrings)")
    c.add_argument("gold", type=Path)
    c.add_argument("notes_dir", type=Path)
    from services.analytics.cli import add_parser as add_rank_parser

    add_rank_parser(sub)  # rank

    sub.add_parser("seed", help="load the sample notes into the store")
    sub.add_parser("build-vocab", help="rebuild generated vocabularies from ../shared/data", add_help=False)
    from services.search.cli import add_parsers as add_search_parsers

    add_search_parsers(sub)  # search, reindex
    from services.transcription.cli import add_parser as add_transcribe_parser

    add_transcribe_parser(sub)  # transcribe
    from services.hospitals.cli import add_parsers as add_hospital_parsers

    add_hospital_parsers(sub)  # hospitals import|near|build|reset

    from services import migrate as migrate_cli
    from services.distributed.cli import add_parsers as add_queue_parsers

    migrate_cli.add_parser(sub)  # migrate --to aws
    add_queue_parsers(sub)  # worker, batch-status, queue create

    j = sub.add_parser("cm-job", help="Amazon Comprehend Medical S3 batch jobs: start, status, list, stop, collect")
    jsub = j.add_subparsers(dest="action", required=True)
    js = jsub.add_parser("start", help="start an entity-detection job over every object under INPUT_S3_URI")
    js.add_argument("input_s3_uri", help="s3://bucket/prefix of the notes (English text, UTF-8)")
    js.add_argument("output_s3_uri", help="s3://bucket/prefix for the job's output folder")
    js.add_argument("--role", required=True, help="ARN of the data access role Comprehend Medical assumes")
    js.add_argument("--name", default=None, help="job name")
    js.add_argument("--kms-key", default=None, help="KMS key for the output")
    js.add_argument("--token", default=None, help="ClientRequestToken (default: derived from the request, so a "
                                                 "retried start returns the same job)")
    jsub.add_parser("status", help="describe one job").add_argument("job_id")
    jl = jsub.add_parser("list", help="list jobs (all pages)")
    jl.add_argument("--status", default=None, choices=["SUBMITTED", "IN_PROGRESS", "COMPLETED", "PARTIAL_SUCCESS",
                                                       "FAILED", "STOP_REQUESTED", "STOPPED"])
    jl.add_argument("--name", default=None, help="job name")
    jsub.add_parser("stop", help="stop a job in progress").add_argument("job_id")
    jsub.add_parser("collect", help="import a finished job's .out files into the store").add_argument("job_id")

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["build-vocab"]:
        from services.extraction.local.build_vocab import main as build_vocab

        return build_vocab(argv[1:])
    from services.distributed.cli import add_batch_arguments, uses_queue

    add_batch_arguments(b)
    args = parser.parse_args(argv)
    if args.command == "batch" and uses_queue(args):
        from services.distributed.cli import run as run_queue

        return run_queue(args)
    if args.command in ("worker", "batch-status", "queue"):
        from services.distributed.cli import run as run_queue

        return run_queue(args)
    if args.command == "migrate":
        return migrate_cli.run(args)
    if args.command == "batch":
        args.input_dir, args.output_dir = Path(args.input_dir), Path(args.output_dir)
        from services.batch import run_batch
        from services.config import load_settings

        engine = args.engine or load_settings().extraction_engine
        # Through the environment, so worker processes build the same engine.
        if args.prompt:
            os.environ["NOTELENS_CLAUDE_PROMPT"] = args.prompt
        if args.model:
            os.environ["NOTELENS_CLAUDE_MODEL_ID" if engine == "claude" else "NOTELENS_LLM_MODEL"] = args.model
        # The store's service must run the engine asked for, not the one the settings name.
        settings = load_settings(extraction_engine=engine)
        service = None
        if not args.no_store:
            from services.wiring import build_app

            service = build_app(settings, seed=False).notes
        if not args.input_dir.is_dir():
            print(f"error: {args.input_dir} is not a folder", file=sys.stderr)
            return 2
        report = run_batch(args.input_dir, args.output_dir, engine=engine, workers=max(1, args.workers),
                           force=args.force, service=service, settings=settings, progress=not args.quiet)
        print(json.dumps(report.manifest(engine)["Summary"], ensure_ascii=False))
        return 0 if report.status != "FAILED" or report.input_count == 0 else 1
    if args.command == "evaluate":
        from services.evaluate import evaluate, format_report

        scores = evaluate(args.gold, args.out_dir)
        print(json.dumps(scores.summary(), ensure_ascii=False, indent=2) if args.json else format_report(scores))
        for err in scores.errors[: args.errors]:
            print(f"  {err['kind']:<4} {err['category']:<10} {err['file']}: {err['text']}")
        return 0
    if args.command == "check-gold":
        from services.evaluate import check_gold, load_gold

        problems = check_gold(args.gold, args.notes_dir)
        for problem in problems:
            print(problem)
        gold = load_gold(args.gold)
        mentions = sum(len(g.get("entities", [])) for g in gold)
        print(f"{len(gold)} notes, {mentions} clinical mentions ({mentions / max(1, len(gold)):.1f} a note), "
              f"{sum(len(g.get('phi', [])) for g in gold)} PHI, {len(problems)} problems")
        return 1 if problems else 0
    if args.command in ("search", "reindex"):
        from services.search.cli import run as run_search

        return run_search(args)
    if args.command == "transcribe":
        from services.transcription.cli import run as run_transcribe

        return run_transcribe(args)
    if args.command == "rank":
        from services.analytics.cli import run as run_rank

        return run_rank(args)
    if args.command == "hospitals":
        from services.hospitals.cli import run as run_hospitals

        return run_hospitals(args)
    if args.command == "seed":
        from services.wiring import build_app

        app = build_app(seed=False)
        print(f"added {app.notes.seed(app.settings.sample_dir)} notes")
        return 0
    if args.command == "cm-job":
        return _cm_job(args)
    return 2


def _cm_job(args: argparse.Namespace) -> int:
    from services.errors import NoteLensError
    from services.extraction.comprehend_medical_jobs import ComprehendMedicalJobs

    try:
        if args.action == "collect":
            from services.wiring import build_app

            report = ComprehendMedicalJobs(notes=build_app(seed=False).notes).collect(args.job_id)
            print(json.dumps(report.as_summary(), ensure_ascii=False, indent=2))
            for failed in report.failed:
                print(f"  failed {failed['Input']}: {failed['ErrorCode']}: {failed['ErrorMessage']}")
            return 1 if report.failed and not (report.imported or report.skipped) else 0
        jobs = ComprehendMedicalJobs()
        if args.action == "start":
            print(jobs.start(args.input_s3_uri, args.output_s3_uri, args.role, job_name=args.name, kms_key=args.kms_key,
                             client_request_token=args.token))
        elif args.action == "status":
            print(json.dumps(jobs.describe(args.job_id), ensure_ascii=False, indent=2, default=str))
        elif args.action == "list":
            for job in jobs.list(status=args.status, name=args.name):
                print(f"{job.get('JobId')}\t{job.get('JobStatus')}\t{job.get('SubmitTime', '')}\t{job.get('JobName', '')}")
        elif args.action == "stop":
            print(jobs.stop(args.job_id))
    except (NoteLensError, ValueError) as err:
        print(f"error: {getattr(err, 'message', err)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
