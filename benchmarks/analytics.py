"""Analytics benchmark: 100,000 notes with about 1,000,000 entity rows in a real SQLite store; prints the
ranking query's latency (p50 / p95 over repeated runs, several periods and filters) and the time of a whole
Analytics page run under Streamlit's AppTest. Asserts nothing; targets: ranking p95 ≤ 200 ms, page ≤ 2 s.

    python benchmarks/analytics.py [--notes 100000] [--entities-per-note 10] [--repeat 30] [--page-runs 5] [--rebuild]

How the data is made (once, then cached in benchmarks/out/analytics-<notes>/ until this script's data
recipe or the migrations change):

1. The local engine extracts the sample notes, the blind tuning notes and the first 400 synthetic notes of
   ../shared/data/synthetic-notes-ko (when that folder is there). That gives real entity tuples
   (category, text, normalized, code, assertion flags), real entities-per-note counts and real note fields.
2. Each synthetic note copies one real note's shape: its number of entities in each category, its
   department and sex, and its age ± 5 years. Real notes carry ≈ 28 mentions (PHI included); each mention of
   the shape is kept with the probability that brings the mean to ``--entities-per-note`` (10: the issue's
   1,000,000 rows for 100,000 notes), so the category mix stays the real one. Each entity is drawn from that category's real tuples with
   their real frequencies; 5 % of diagnoses instead take a KCD name (../shared/data/kcd-codebook-auw) so the
   vocabulary has a long tail. Respiratory symptoms (기침, 발열, 콧물, 객담, 인후통 …) are weighted up in
   winter and down in summer, so the trend charts have a season to show.
3. Visit dates spread over the 365 days before the last one, weekdays three times as busy as weekends.
   Rows go straight into ``notes`` and ``current_entities`` (the tables every aggregation reads). Note rows get
   no text: no aggregation reads it; the plan test in tests/test_analytics.py checks that the queries answer
   from covering indexes, so the text's size cannot matter.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.analytics import Drill, Filter, Period  # noqa: E402
from services.store.sqlite import SQLiteStore, migrations  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RECIPE = 2  # bump when the data recipe below changes: the cached dataset is rebuilt
LAST_DAY = date(2025, 12, 31)
RESPIRATORY = {"기침", "발열", "콧물", "객담", "인후통", "코막힘", "가래", "오한", "호흡곤란", "인후두통"}


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "sample_data").rglob("*.txt"))
             if "README" not in p.name]
    synthetic = SHARED / "synthetic-notes-ko" / "notes.csv"
    if synthetic.is_file():
        with synthetic.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        texts += [r["text"] for r in rows[:400]]
    return texts


def real_extractions() -> list[dict[str, Any]]:
    from services.extraction.local.engine import LocalKoreanEngine

    engine = LocalKoreanEngine()
    out = []
    for text in _texts():
        result = engine.extract(text)
        out.append({
            "fields": result.fields.model_dump(),
            "entities": [(e.category.value, e.text, e.normalized, e.code, int(e.negated), int(e.uncertain),
                          int(e.historical), int(e.family)) for e in result.entities],
        })
    return out


def kcd_tail() -> list[str]:
    path = SHARED / "kcd-codebook-auw" / "kcd.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [r["ko"] for r in csv.DictReader(fh) if len(r["kcd"]) == 3][:3000]


def _season(term: str | None, month: int) -> float:
    if term not in RESPIRATORY:
        return 1.0
    return {12: 2.2, 1: 2.4, 2: 2.0, 3: 1.4, 11: 1.5, 10: 1.1, 6: 0.6, 7: 0.5, 8: 0.5}.get(month, 0.9)


def build(db: Path, notes: int, per_note: float, seed: int = 9) -> dict[str, Any]:
    rng = random.Random(seed)
    real = real_extractions()
    tail = kcd_tail()
    tuples: dict[str, Counter[tuple[Any, ...]]] = {}
    for r in real:
        for e in r["entities"]:
            tuples.setdefault(e[0], Counter())[e] += 1
    pools = {cat: (list(c), list(c.values())) for cat, c in tuples.items()}
    keep = min(1.0, per_note / (sum(len(r["entities"]) for r in real) / len(real)))
    # Per month, the symptom weights with the season applied.
    seasonal = {m: [w * _season(t[2], m) for t, w in zip(*pools["symptom"], strict=True)] for m in range(1, 13)}
    days = [LAST_DAY - timedelta(days=i) for i in range(365)]
    day_weights = [1.0 if d.weekday() < 5 else 0.33 for d in days]

    if db.parent.exists():
        shutil.rmtree(db.parent)
    SQLiteStore(db)  # the app's own schema and migrations
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    visit_dates = rng.choices(days, weights=day_weights, k=notes)
    entity_rows = 0
    batch: list[tuple[Any, ...]] = []
    con.execute("BEGIN")
    for i in range(notes):
        shape = rng.choice(real)
        f = shape["fields"]
        note_id = f"b{i:011d}"
        day = visit_dates[i]
        age = None if f["age"] is None else max(0, min(100, f["age"] + rng.randint(-5, 5)))
        con.execute(
            "INSERT INTO notes (id, filename, status, raw_sha256, size, source, created_at, updated_at, visit_date,"
            " age, sex, department) VALUES (?, ?, 'done', ?, 1000, 'benchmark', ?, ?, ?, ?, ?, ?)",
            (note_id, f"bench_{i:06d}.txt", note_id, day.isoformat(), day.isoformat(), day.isoformat(), age, f["sex"],
             f["department"]),
        )
        per_cat = Counter(e[0] for e in shape["entities"] if rng.random() < keep)
        offset = 0
        for cat, k in per_cat.items():
            population, weights = pools[cat]
            if cat == "symptom":
                weights = seasonal[day.month]
            for ent in rng.choices(population, weights=weights, k=k):
                cat_, text, norm, code = ent[0], ent[1], ent[2], ent[3]
                if cat == "diagnosis" and tail and rng.random() < 0.05:
                    text = norm = rng.choice(tail)
                    code = None
                batch.append((note_id, cat_, text, norm, code, *ent[4:], offset, offset + len(text)))
                offset += len(text) + 5
        if len(batch) >= 50_000:
            con.executemany("INSERT INTO current_entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            entity_rows += len(batch)
            batch.clear()
    con.executemany("INSERT INTO current_entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
    entity_rows += len(batch)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return {"notes": notes, "entities": entity_rows, "real_notes": len(real),
            "distinct_tuples": sum(len(c) for c in tuples.values())}


def dataset(notes: int, per_note: float, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    folder = ROOT / "benchmarks" / "out" / f"analytics-{notes}"
    db = folder / "notelens.sqlite3"
    key = hashlib.sha256(json.dumps([RECIPE, notes, per_note, migrations()]).encode()).hexdigest()
    stamp = folder / "dataset.json"
    if not rebuild and stamp.is_file() and db.is_file():
        info = json.loads(stamp.read_text(encoding="utf-8"))
        if info.get("key") == key:
            return folder, info
    started = time.perf_counter()
    info = build(db, notes, per_note)
    info.update(key=key, build_seconds=round(time.perf_counter() - started, 1))
    stamp.write_text(json.dumps(info), encoding="utf-8")
    return folder, info


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   max {ordered[-1] * 1000:6.1f} ms"


def timed(fn: Any, repeat: int) -> list[float]:
    fn()  # warm the page cache
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_queries(folder: Path, repeat: int) -> None:
    from services.analytics import AnalyticsService
    from services.analytics.sqlite import SQLiteAnalytics

    store = SQLiteStore(folder / "notelens.sqlite3")
    service = AnalyticsService(SQLiteAnalytics(store))
    backend = service.backend
    d30 = service.default_period(30)
    depts = service.departments()
    print(f"default period {d30.start} … {d30.end}; {backend.note_count(Filter(), d30)} notes in it")
    cases: list[tuple[str, Filter, Period]] = [
        ("symptoms, 30 days", Filter(), d30),
        ("diagnoses, 30 days", Filter(category="diagnosis"), d30),
        ("medications, 30 days", Filter(category="medication"), d30),
        ("tests, 30 days", Filter(category="test"), d30),
        ("symptoms, 30 days, + negated/uncertain", Filter(include=frozenset({"negated", "uncertain"})), d30),
        ("symptoms, 30 days, 2 departments", Filter(departments=tuple(depts[:2])), d30),
        ("symptoms, 30 days, 60–79 F", Filter(age_bands=(6, 7), sexes=("F",)), d30),
        ("symptoms, 7 days", Filter(), service.default_period(7)),
        ("symptoms, 90 days", Filter(), service.default_period(90)),
        ("symptoms, 365 days", Filter(), service.default_period(365)),
    ]
    print("\nranking query (one GROUP BY: top 10 terms of the period)")
    everything: list[float] = []
    for name, flt, period in cases:
        samples = timed(lambda f=flt, p=period: backend.term_counts(f, p, limit=10), repeat)
        if period.days <= 30:
            everything += samples
        print(f"  {name:<42} {_ms(samples)}")
    print(f"  {'all 30-day-or-shorter cases together':<42} {_ms(everything)}")
    print("\nranking with rank change (service.ranking: this and the previous period, note counts)")
    for name, flt, period in cases[:1] + cases[5:7] + cases[-2:]:
        print(f"  {name:<42} {_ms(timed(lambda f=flt, p=period: service.ranking(f, p, 10), repeat))}")
    top = service.top_terms(Filter(), d30, 5)
    d90 = service.default_period(90)
    print("\nthe page's other aggregations")
    others = {
        "term trends, 5 terms, 90 days by week": lambda: service.term_trends(Filter(), d90, "week", top),
        "department mix, 90 days by week": lambda: service.department_mix(Filter(), d90, "week"),
        "co-occurrence of the top 10, 30 days": lambda: service.cooccurrence(Filter(), d30, 10),
        "age × sex for the top term, 30 days": lambda: service.pyramid(Filter(), d30, top[0]),
        "drill-down: notes with the top term, 30 days": lambda: service.notes(Filter(), d30, Drill(term=top[0])),
    }
    for name, fn in others.items():
        print(f"  {name:<42} {_ms(timed(fn, max(5, repeat // 3)))}")


def bench_page(folder: Path, runs: int) -> None:
    os.environ["NOTELENS_DATA_DIR"] = str(folder)
    os.environ["NOTELENS_SEED_SAMPLES"] = "false"
    from streamlit.testing.v1 import AppTest

    # AppTest.from_file outside a script run logs "missing ScriptRunContext" each time: noise here.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True

    samples = []
    for i in range(runs + 1):
        at = AppTest.from_file(str(ROOT / "pages" / "5_Analytics.py"), default_timeout=120)
        t = time.perf_counter()
        at.run()
        took = time.perf_counter() - t
        if at.exception:
            raise SystemExit(f"page failed: {[e.value for e in at.exception]}")
        if i == 0:
            print(f"  first run of a fresh process (App build, migrations check) {took * 1000:7.0f} ms")
        else:
            samples.append(took)
    print(f"  later runs, each a fresh AppTest session ({runs})       {_ms(samples)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=100_000)
    ap.add_argument("--entities-per-note", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--page-runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--skip-page", action="store_true")
    args = ap.parse_args()
    folder, info = dataset(args.notes, args.entities_per_note, args.rebuild)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          "(other work on the machine shows up in the slowest runs)")
    print(f"dataset {folder}: {info['notes']:,} notes, {info['entities']:,} entity rows "
          f"(from {info['real_notes']} real extractions, {info['distinct_tuples']:,} distinct entity tuples; "
          f"built in {info['build_seconds']} s, cached)")
    bench_queries(folder, args.repeat)
    if not args.skip_page:
        print("\nwhole Analytics page under AppTest (default view: 30 days, symptoms, every chart)")
        bench_page(folder, args.page_runs)


if __name__ == "__main__":
    main()
