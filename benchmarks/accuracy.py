"""Accuracy on a gold set: batch the notes with an engine, score them, print the figures next
to the targets of the local-engine issue. Prints; asserts nothing.

    python benchmarks/accuracy.py [--gold sample_data/gold/dev.jsonl] [--notes sample_data/notes] [--engine local]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.batch import run_batch  # noqa: E402
from services.evaluate import evaluate, format_report  # noqa: E402

TARGETS = {"micro_f1": 0.85, "negation_accuracy": 0.90, "phi_recall": 0.95}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=ROOT / "sample_data" / "gold" / "dev.jsonl")
    ap.add_argument("--notes", type=Path, default=ROOT / "sample_data" / "notes")
    ap.add_argument("--engine", default="local")
    ap.add_argument("--errors", type=int, default=0, help="also list up to N misses and false hits")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_batch(args.notes, Path(tmp), engine=args.engine, progress=False)
        scores = evaluate(args.gold, Path(tmp))
    print(format_report(scores))
    print()
    summary = scores.summary()
    for key, target in TARGETS.items():
        mark = "meets" if summary[key] >= target else "BELOW"
        print(f"{key:<18} {summary[key]:.3f}  target ≥ {target:.2f}  {mark}")
    for err in scores.errors[: args.errors]:
        print(f"  {err['kind']:<4} {err['category']:<10} {err['file']}: {err['text']}")


if __name__ == "__main__":
    main()
