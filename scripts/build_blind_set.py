"""Copy the blind evaluation notes out of ../shared into sample_data/blind/.

    python scripts/build_blind_set.py [--shared PATH]

30 notes from ../shared/data/synthetic-notes-ko (LLM-written by another hand), one per adverse-event
case so that no two notes share a case (the source has 4 variants per case), drawn with a fixed seed
and split 15/15 into ``dev`` (used while tuning) and ``test`` (the locked split: scored, never read
while tuning); then one more split per later round of tuning, each annotated before its round: 10 cases into
``dev2``, 15 each into ``dev3``, ``dev4``, ``dev5`` and ``dev6`` (LATER). The notes in new styles
(sample_data/blind/*/new*_*.txt) were written for the project by helpers who did not write the engine's rules; this
script leaves them alone.
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
# Later tuning splits, one per round, each drawn from the cases no earlier draw used: (folder, cases). Split i uses
# seed SEED + 2i + 1 for its cases and SEED + 2i + 2 + case for the variant, so adding one never moves the others.
LATER = [("dev2", 10), ("dev3", 15), ("dev4", 15), ("dev5", 15), ("dev6", 15)]


def _write(notes: dict[int, str], split: str, note_id: int) -> None:
    out = ROOT / "sample_data" / "blind" / split / f"syn_{note_id:04d}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(notes[note_id].strip() + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    with (args.shared / "synthetic-notes-ko" / "notes.csv").open(encoding="utf-8", newline="") as fh:
        notes = {int(r["id"]): r["text"] for r in csv.DictReader(fh)}
    rng = random.Random(SEED)
    cases = rng.sample(range(500), 2 * PER_SPLIT)
    picked = [case * 4 + 1 + rng.randrange(4) for case in cases]
    for i, note_id in enumerate(picked):
        _write(notes, "dev" if i < PER_SPLIT else "test", note_id)
    used = set(cases)
    counts = [f"{len(picked)} synthetic notes → sample_data/blind/{{dev,test}}"]
    for i, (split, size) in enumerate(LATER):
        later = random.Random(SEED + 2 * i + 1).sample([c for c in range(500) if c not in used], size)
        used |= set(later)
        for case in later:
            _write(notes, split, case * 4 + 1 + random.Random(SEED + 2 * i + 2 + case).randrange(4))
        counts.append(f"{size} → sample_data/blind/{split}")
    print(", ".join(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
