"""Accuracy on the gold sets: batch the notes with an engine, score them, print the figures next to the
targets of the local-engine issue. Prints; asserts nothing.

    python benchmarks/accuracy.py                      # dev, blind dev and the locked blind test split
    python benchmarks/accuracy.py --set blind_dev --errors 40
    python benchmarks/accuracy.py --gold G.jsonl --notes DIR

The locked split (blind_test) is scored but its misses are never printed: it is not read while tuning.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.batch import run_batch  # noqa: E402
from services.evaluate import Scores, evaluate, format_report  # noqa: E402
from services.promptlab import gold_sets  # noqa: E402

# The committed gold sets as sample_data/gold/sets.tsv names them (the Prompt Lab reads the same registry).
_REGISTRY = gold_sets()
SETS = {g.name: (g.path, g.notes_dir) for g in _REGISTRY}
LOCKED = {g.name for g in _REGISTRY if g.locked}
TARGETS = {"micro_f1": 0.80, "micro_recall": 0.75, "negation_accuracy": 0.90, "phi_recall": 0.95}
CATEGORY_RECALL = 0.60


def score(gold: Path, notes: Path, engine: str) -> Scores:
    with tempfile.TemporaryDirectory() as tmp:
        run_batch(notes, Path(tmp), engine=engine, progress=False)
        return evaluate(gold, Path(tmp))


def report(name: str, scores: Scores, errors: int) -> None:
    print(f"== {name}")
    print(format_report(scores))
    summary = scores.summary()
    for key, target in TARGETS.items():
        mark = "meets" if summary[key] >= target else "BELOW"
        print(f"{key:<20} {summary[key]:.3f}  target ≥ {target:.2f}  {mark}")
    low = [c for c, m in summary["per_category"].items() if m["recall"] < CATEGORY_RECALL]
    print(f"category recall      {'all ≥ 0.60' if not low else 'BELOW 0.60: ' + ', '.join(low)}")
    if name in LOCKED:
        if errors:
            print("(locked split: misses are not printed)")
    else:
        for err in scores.errors[:errors]:
            print(f"  {err['kind']:<4} {err['category']:<10} {err['file']}: {err['text']}")
    print()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", choices=sorted(SETS), help="gold set(s) to score (default: all)")
    ap.add_argument("--gold", type=Path, help="another gold file (with --notes)")
    ap.add_argument("--notes", type=Path)
    ap.add_argument("--engine", default="local")
    ap.add_argument("--errors", type=int, default=0, help="also list up to N misses and false hits (not for the locked split)")
    args = ap.parse_args()
    if args.gold:
        report(args.gold.name, score(args.gold, args.notes or SETS["dev"][1], args.engine), args.errors)
        return
    for name in args.set or list(SETS):
        gold, notes = SETS[name]
        report(name, score(gold, notes, args.engine), args.errors)


if __name__ == "__main__":
    main()
