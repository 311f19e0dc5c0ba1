"""Copy the blind evaluation notes out of ../shared into sample_data/blind/.

    python scripts/build_blind_set.py [--shared PATH]

30 notes from ../shared/data/synthetic-notes-ko (LLM-written by another hand), one per adverse-event
case so that no two notes share a case (the source has 4 variants per case), drawn with a fixed seed
and split 15/15 into ``dev`` (used while tuning) and ``test`` (the locked split: scored, never read
while tuning); then 10 more cases into ``dev2``, a second tuning split annotated after the first round of tuning, 15 more
into ``dev3`` (round four) 15 more into ``dev4`` (round five) and 15 more into ``dev5`` (round six). The 10 notes in new styles (sample_data/blind/*/new_*.txt) were written for the
project by a helper who did not write the engine's rules; this script leaves them alone.
Re-running it reproduces the same files.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261123
PER_SPLIT = 15
DEV2 = 10
DEV3 = 15
DEV4 = 15
DEV5 = 15


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    with (args.shared / "synthetic-notes-ko" / "notes.csv").open(encoding="utf-8", newline="") as fh:
        notes = {int(r["id"]): r["text"] for r in csv.DictReader(fh)}
    rng = random.Random(SEED)
    cases = rng.sample(range(500), 2 * PER_SPLIT)
    picked = [case * 4 + 1 + rng.randrange(4) for case in cases]
    # A second tuning split, drawn later from the cases not used above (same seed, so reproducible).
    rest = [c for c in range(500) if c not in set(cases)]
    cases2 = random.Random(SEED + 1).sample(rest, DEV2)
    picked2 = [case * 4 + 1 + random.Random(SEED + 2 + case).randrange(4) for case in cases2]
    # A third tuning split (round four), from the cases used by neither draw above.
    used = set(cases) | set(cases2)
    cases3 = random.Random(SEED + 3).sample([c for c in range(500) if c not in used], DEV3)
    picked3 = [case * 4 + 1 + random.Random(SEED + 4 + case).randrange(4) for case in cases3]
    # A fourth (round five), from the cases none of the draws above used.
    used |= set(cases3)
    cases4 = random.Random(SEED + 5).sample([c for c in range(500) if c not in used], DEV4)
    picked4 = [case * 4 + 1 + random.Random(SEED + 6 + case).randrange(4) for case in cases4]
    # A fifth (round six), from the cases none of the draws above used.
    used |= set(cases4)
    cases5 = random.Random(SEED + 7).sample([c for c in range(500) if c not in used], DEV5)
    picked5 = [case * 4 + 1 + random.Random(SEED + 8 + case).randrange(4) for case in cases5]
    for note_id in picked5:
        out = ROOT / "sample_data" / "blind" / "dev5" / f"syn_{note_id:04d}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notes[note_id].strip() + "\n", encoding="utf-8")
    for note_id in picked4:
        out = ROOT / "sample_data" / "blind" / "dev4" / f"syn_{note_id:04d}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notes[note_id].strip() + "\n", encoding="utf-8")
    for note_id in picked3:
        out = ROOT / "sample_data" / "blind" / "dev3" / f"syn_{note_id:04d}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notes[note_id].strip() + "\n", encoding="utf-8")
    for note_id in picked2:
        out = ROOT / "sample_data" / "blind" / "dev2" / f"syn_{note_id:04d}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notes[note_id].strip() + "\n", encoding="utf-8")
    for i, note_id in enumerate(picked):
        split = "dev" if i < PER_SPLIT else "test"
        out = ROOT / "sample_data" / "blind" / split / f"syn_{note_id:04d}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notes[note_id].strip() + "\n", encoding="utf-8")
    print(f"{len(picked)} synthetic notes → sample_data/blind/{{dev,test}}, {len(picked2)} → sample_data/blind/dev2,"
          f" {len(picked3)} → sample_data/blind/dev3, {len(picked4)} → sample_data/blind/dev4,"
          f" {len(picked5)} → sample_data/blind/dev5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
