"""Local engine speed against kiwipiepy's own tokenize, side by side in one run on the same notes, plus
start-up time and peak memory of a fresh process. Prints figures; asserts nothing.

    python benchmarks/engine_speed.py [--notes 600] [--rounds 3]

Notes are ~1 KB, mixed from the sample notes, the blind set and (when ../shared is beside the project)
the synthetic notes by another hand. Targets (issue 6): ratio ≥ 1.0, ≥ 300 notes/s on one core,
start-up ≤ 2 s, peak memory ≤ 600 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_NOTES = ROOT.parent / "shared" / "data" / "synthetic-notes-ko" / "notes.csv"

# Runs in a fresh interpreter: what a worker or the app pays before its first note.
_STARTUP = """
import json, sys, time
t0 = time.perf_counter()
from services.extraction.local.engine import LocalKoreanEngine
engine = LocalKoreanEngine()
engine.extract("두통과 발열로 내원. 대장 내시경 예정.")
startup = time.perf_counter() - t0
texts = json.load(sys.stdin)
for text in texts:
    engine.extract(text)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so it would report the parent benchmark's size.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"startup": startup, "peak_mb": hwm / 1024}))
"""


def notes(n: int) -> list[str]:
    base = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "sample_data").rglob("*.txt"))]
    if SHARED_NOTES.is_file():
        with SHARED_NOTES.open(encoding="utf-8", newline="") as fh:
            base += [r["text"] for r in csv.DictReader(fh)][: n]
    out = []
    for i in range(n):
        body, k = base[i % len(base)], 1
        while len(body) < 950:
            body += "\n" + base[(i * 7 + k) % len(base)]
            k += 1
        out.append(f"기록번호 {i:06d}\n{body[:1000]}")
    return out


def rate(fn: Callable[[str], object], texts: list[str]) -> tuple[float, float]:
    """(notes per wall-clock second, notes per CPU second of this process) over one pass. CPU time leaves out
    the other processes of a shared machine; the ratio uses wall-clock time, both sides measured alike."""
    t0, c0 = time.perf_counter(), time.process_time()
    for text in texts:
        fn(text)
    return len(texts) / (time.perf_counter() - t0), len(texts) / (time.process_time() - c0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from kiwipiepy import Kiwi

    from services.extraction.local.colloquial import analyse
    from services.extraction.local.engine import LocalKoreanEngine

    texts = notes(args.notes)
    engine = LocalKoreanEngine()
    kiwi = Kiwi(load_typo_dict=False, load_multi_dict=False)
    engine.extract(texts[0])
    kiwi.tokenize(texts[0])
    # Interleaved rounds, so both see the same machine load. The engine's cache of kiwipiepy windows starts empty
    # each round: a phrase repeated within the notes is a hit (as in real notes), the previous round's are not.
    engine_rate = kiwi_rate = engine_cpu = kiwi_cpu = 0.0
    for _ in range(args.rounds):
        analyse.cache_clear()
        wall, cpu = rate(engine.extract, texts)
        engine_rate, engine_cpu = max(engine_rate, wall), max(engine_cpu, cpu)
        wall, cpu = rate(kiwi.tokenize, texts)
        kiwi_rate, kiwi_cpu = max(kiwi_rate, wall), max(kiwi_cpu, cpu)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").is_file() else "?"
    proc = subprocess.run([sys.executable, "-c", _STARTUP], input=json.dumps(texts), capture_output=True, text=True,
                          cwd=ROOT, check=True)
    fresh = json.loads(proc.stdout)
    print(f"notes               {len(texts)} (~{sum(map(len, texts)) // len(texts)} chars each), best of {args.rounds}, one core")
    print(f"engine              {engine_rate:,.1f} notes/s   target ≥ 300   ({engine_cpu:,.1f} per CPU-second)")
    print(f"kiwipiepy tokenize  {kiwi_rate:,.1f} notes/s   (same notes, same run; {kiwi_cpu:,.1f} per CPU-second)")
    print(f"ratio engine/kiwi   {engine_rate / kiwi_rate:.2f}          target ≥ 1.0")
    print(f"start-up            {fresh['startup']:.2f} s          target ≤ 2 s (import, vocabularies, first note)")
    print(f"peak memory         {fresh['peak_mb']:,.0f} MB         target ≤ 600 MB (fresh process after all notes)")
    print(f"load average        {load}            (1 min, at the end of the timed rounds; 2 cores shared)")


if __name__ == "__main__":
    main()
