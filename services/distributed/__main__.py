"""``python -m services.distributed batch|worker|batch-status|queue``: the distributed batch on its own (the same
commands as ``python -m services``, which also has the local batch)."""

from __future__ import annotations

import argparse
import sys

from services.distributed.cli import add_batch_arguments, add_parsers, run
from services.extraction import ENGINES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.distributed", description="NoteLens distributed batch")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("batch", help="enqueue every object under INPUT_URI for workers writing to OUTPUT_URI")
    b.add_argument("input_dir", metavar="INPUT_URI", help="s3://bucket/prefix/ of the notes")
    b.add_argument("output_dir", metavar="OUTPUT_URI", help="s3://bucket/prefix/ for .out files and manifests")
    b.add_argument("--engine", default=None, choices=sorted(ENGINES), help="extraction engine (default: settings)")
    add_batch_arguments(b)
    add_parsers(sub)
    return run(parser.parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
