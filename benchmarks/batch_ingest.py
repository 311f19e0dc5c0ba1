"""Batch-ingest benchmark: notes/s for N notes (default 1,000) through `run_batch` with the
local engine, into a fresh SQLite store, plus kiwipiepy's raw tokenize rate on the same notes
and peak memory. Prints figures; asserts nothing.

    python benchmarks/batch_ingest.py [--notes 1000] [--workers 1]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.batch import run_batch  # noqa: E402
from services.config import load_settings  # noqa: E402
from services.wiring import build_app  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "notes"


def make_notes(folder: Path, n: int) -> list[str]:
    """n distinct ~1 KB notes built from the samples (a serial line keeps each one unique)."""
    base = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]
    texts = []
    for i in range(n):
        # An even mix: note i starts at sample i and continues with the following samples.
        body, k = base[i % len(base)], 1
        while len(body) < 900:
            body += "\n" + base[(i + k) % len(base)]
            k += 1
        text = f"기록번호 {i:06d}\n{body[:1000]}"
        (folder / f"note{i:05d}.txt").write_text(text, encoding="utf-8")
        texts.append(text)
    return texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        texts = make_notes(root / "in", args.notes)
        app = build_app(load_settings(data_dir=root / "data"), seed=False)
        # Warm the long-lived parts (vocabulary automaton, kiwipiepy model) as a running app has them.
        from services.extraction.local.engine import LocalKoreanEngine

        LocalKoreanEngine().extract(texts[0])
        started = time.perf_counter()
        report = run_batch(root / "in", root / "out", workers=args.workers, service=app.notes, progress=False)
        seconds = time.perf_counter() - started
        print(f"notes            {args.notes} (~{sum(map(len, texts)) // len(texts)} chars each)")
        print(f"workers          {args.workers}")
        print(f"success          {len(report.success)}  failed {len(report.unprocessed)}")
        print(f"batch ingest     {args.notes / seconds:,.1f} notes/s  ({seconds:.2f} s, store + .out files)")
        started = time.perf_counter()
        run_batch(root / "in", root / "out-nostore", workers=args.workers, service=None, progress=False)
        seconds = time.perf_counter() - started
        print(f"batch --no-store {args.notes / seconds:,.1f} notes/s  (decode + extract + .out files)")

        engine = LocalKoreanEngine()
        engine.extract(texts[0])
        t0 = time.perf_counter()
        for text in texts:
            engine.extract(text)
        print(f"engine only      {len(texts) / (time.perf_counter() - t0):,.1f} notes/s (one core)")

        from kiwipiepy import Kiwi

        kiwi = Kiwi(load_typo_dict=False, load_multi_dict=False)
        t0 = time.perf_counter()
        for text in texts[:300]:
            kiwi.tokenize(text)
        print(f"kiwi tokenize    {300 / (time.perf_counter() - t0):,.1f} notes/s (full morphology, for comparison)")
        print(f"peak RSS         {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB (this process)")


if __name__ == "__main__":
    main()
