"""Dump the local engine's output for every note as JSON lines; compare with a saved dump. A speed change must leave
every line identical.

    python benchmarks/engine_equivalence.py OUT.jsonl [--compare BASELINE.jsonl]

Notes: every sample_data/**/*.txt, then every row of ../shared/data/synthetic-notes-ko/notes.csv (when ../shared is
beside the project). Each line is {"note": <source>, "result": <ExtractionResult.model_dump_json()>}.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_NOTES = ROOT.parent / "shared" / "data" / "synthetic-notes-ko" / "notes.csv"


def notes() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "sample_data").rglob("*.txt")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    if SHARED_NOTES.is_file():
        with SHARED_NOTES.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                yield f"synthetic-notes-ko/{row['id']}", row["text"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--compare", type=Path, help="a saved dump; exit 1 when any line differs")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from services.extraction.local.engine import LocalKoreanEngine

    engine = LocalKoreanEngine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for source, text in notes():
            fh.write(json.dumps({"note": source, "result": engine.extract(text).model_dump_json()}, ensure_ascii=False) + "\n")
    lines = args.out.read_text(encoding="utf-8").splitlines()
    print(f"{len(lines)} notes → {args.out}")
    if args.compare is None:
        return 0
    saved = args.compare.read_text(encoding="utf-8").splitlines()
    differ = [json.loads(a)["note"] for a, b in zip(lines, saved, strict=False) if a != b]
    if len(lines) != len(saved):
        print(f"DIFFERENT: {len(lines)} notes now, {len(saved)} in {args.compare}")
        return 1
    if differ:
        print(f"DIFFERENT: {len(differ)} notes, first {differ[:5]}")
        return 1
    print(f"identical to {args.compare}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
