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


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        texts = make_notes(root / "in", args.notes)
        settings = load_settings(data_dir=root / "data")
        app = build_app(settings, seed=False)
        print(f"notes            {args.notes} (~{sum(map(len, texts)) // len(texts)} chars each), workers {args.workers}")

        # Engine alone, one core, after warm-up (the vocabulary automaton and kiwipiepy load once).
        from services.extraction.local.engine import LocalKoreanEngine

        engine = LocalKoreanEngine()
        engine.extract(texts[0])
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for text in texts:
                engine.extract(text)
            best = min(best, time.perf_counter() - t0)
        print(f"engine only      {len(texts) / best:,.1f} notes/s (one core, best of 3)")

        started = time.perf_counter()
        report = run_batch(root / "in", root / "out", workers=args.workers, service=app.notes, settings=settings,
                           progress=False)
        seconds = time.perf_counter() - started
        print(f"batch ingest     {args.notes / seconds:,.1f} notes/s  ({seconds:.2f} s: originals, SQLite, .out files;"
              f" {len(report.success)} ok, {len(report.unprocessed)} failed; worker start-up included)")
        started = time.perf_counter()
        run_batch(root / "in", root / "out-nostore", workers=args.workers, service=None, progress=False)
        seconds = time.perf_counter() - started
        print(f"batch --no-store {args.notes / seconds:,.1f} notes/s  (decode, extract, .out files)")
        print(f"peak RSS         {_rss_mb(resource.RUSAGE_SELF):,.0f} MB this process"
              + (f", {_rss_mb(resource.RUSAGE_CHILDREN):,.0f} MB largest worker" if args.workers > 1 else ""))

        from kiwipiepy import Kiwi

        kiwi = Kiwi(load_typo_dict=False, load_multi_dict=False)
        t0 = time.perf_counter()
        for text in texts[:300]:
            kiwi.tokenize(text)
        print(f"kiwi tokenize    {300 / (time.perf_counter() - t0):,.1f} notes/s (full morphology of every note, for comparison)")


if __name__ == "__main__":
    main()
