"""Search speed at scale (issue 8): build an index over 100,000 varied notes and time typical queries.

    python benchmarks/search.py [--notes 100000] [--queries 200] [--work /tmp/notelens-bench-search]

1. The base notes — the 42 samples and ../shared/data/synthetic-notes-ko (2,000 LLM-written notes, when that
   folder is beside the project) — go through the local engine once (cached in --work).
2. 100,000 notes are recombined from their lines: each new note takes the first half of one base note and the
   second half of another, plus a line of a third, with the engine's entities carried along at their new offsets, and
   a random visit date (2024–2025), department, age and sex. They are written straight into a fresh store as one
   extraction each ("entities already extracted"); the store is kept in --work for the next run.
3. The index is built from the store as ``python -m services reindex`` does, in this fresh process (kiwipiepy's word
   cache starts cold), and timed: notes/s, and the index's size on disk (SQLite's dbstat over the search tables).
4. Three kinds of query, each run --queries times with different terms, through the search service exactly as the
   page calls it (first page of 20, facet counts, snippets): one term + assertion filter (affirmed); term + date
   range + department; free text (one or two words). p50/p95 in ms.

Wall-clock figures depend on what else the machine runs; the CPU time of this process (SQLite runs inside it) is
printed beside them, which is what two idle cores would see.

Targets for the embedded backend: build ≥ 500 notes/s; p95 ≤ 50 ms for one term + filter at 100,000 notes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import pickle
import random
import re
import sqlite3
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.search import SearchQuery  # noqa: E402
from services.search.morph import query_tokens  # noqa: E402
from services.search.service import SavedSearches, SearchService  # noqa: E402
from services.search.source import StoreDocs  # noqa: E402
from services.search.sqlite_backend import SQLiteSearch  # noqa: E402
from services.store.sqlite import SQLiteStore  # noqa: E402

SHARED_NOTES = ROOT.parent / "shared" / "data" / "synthetic-notes-ko" / "notes.csv"
_HANGUL_WORD = re.compile(r"^[\uac00-\ud7a3]{2,}")
DEPARTMENTS = ["내과", "순환기내과", "소화기내과", "호흡기내과", "내분비내과", "신경과", "정형외과", "피부과", "소아청소년과",
               "이비인후과", "응급의학과", "가정의학과", "외과", "산부인과", "비뇨의학과", "정신건강의학과"]


def base_notes() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "sample_data" / "notes").glob("*.txt"))]
    if SHARED_NOTES.is_file():
        with SHARED_NOTES.open(encoding="utf-8") as fh:
            texts += [r["text"] for r in csv.DictReader(fh) if r.get("text", "").strip()]
    return texts


def extracted(work: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    cache = work / "base.pkl"
    if cache.is_file():
        data: list[tuple[str, list[dict[str, Any]]]] = pickle.loads(cache.read_bytes())
        return data
    from services.extraction.local.engine import LocalKoreanEngine

    engine = LocalKoreanEngine()
    out = []
    started = time.perf_counter()
    for text in base_notes():
        result = engine.extract(text)
        out.append((text, [e.model_dump(mode="json") for e in result.entities]))
    print(f"base notes: {len(out)} extracted in {time.perf_counter() - started:.0f} s (cached in {cache})")
    cache.write_bytes(pickle.dumps(out))
    return out


def lines_of(text: str, entities: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    out = []
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        ents = [dict(e, begin=e["begin"] - pos, end=e["end"] - pos) for e in entities
                if e["begin"] >= pos and e["end"] <= end]
        out.append((line, ents))
        pos = end + 1
    return out


def recombine(base: list[tuple[str, list[dict[str, Any]]]], seed: int = 8) -> Any:
    """An endless stream of recombined notes (the caller stops it)."""
    rng = random.Random(seed)
    split = [lines_of(t, e) for t, e in base]
    split = [s for s in split if len(s) >= 2]
    for i in itertools.count():
        a, b, c = rng.choice(split), rng.choice(split), rng.choice(split)
        parts = a[: max(1, len(a) // 2)] + b[len(b) // 2:] + [rng.choice(c)]
        text_parts: list[str] = []
        entities: list[dict[str, Any]] = []
        pos = 0
        for line, ents in parts:
            text_parts.append(line)
            entities += [dict(e, begin=e["begin"] + pos, end=e["end"] + pos) for e in ents]
            pos += len(line) + 1
        day = rng.randrange(730)
        visit = time.strftime("%Y-%m-%d", time.gmtime(1704067200 + day * 86400))  # 2024-01-01 + day
        fields = {"visit_date": visit, "age": rng.randrange(1, 96), "sex": rng.choice("MF"),
                  "department": rng.choice(DEPARTMENTS), "summary": None}
        yield f"b{i:06d}", "\n".join(text_parts), entities, fields


def build_store(work: Path, n: int) -> Path:
    """A store with exactly ``n`` distinct recombined notes, each with one extraction (kept for the next run)."""
    path = work / f"store-{n}.sqlite3"
    if path.is_file() and sqlite3.connect(path).execute("SELECT COUNT(*) FROM notes").fetchone()[0] >= n:
        return path
    base = extracted(work)
    SQLiteStore(path)  # the real migrations
    con = sqlite3.connect(path)
    have = {r[0] for r in con.execute("SELECT id FROM notes")}
    started = time.perf_counter()
    now = "2026-01-01T00:00:00+00:00"
    with con:
        for note_id, text, entities, fields in recombine(base):
            if len(have) >= n:
                break
            if note_id in have:
                continue
            sha = hashlib.sha256(text.encode()).hexdigest()
            cur = con.execute(
                "INSERT OR IGNORE INTO notes (id, filename, status, text, encoding, text_sha256, raw_sha256, size, source,"
                " visit_date, age, sex, department, created_at, updated_at) VALUES (?, ?, 'done', ?, 'utf-8', ?, ?, ?,"
                " 'bench', ?, ?, ?, ?, ?, ?)",
                (note_id, f"{note_id}.txt", text, sha, sha, len(text.encode()), fields["visit_date"], fields["age"],
                 fields["sex"], fields["department"], now, now))
            if cur.rowcount != 1:
                continue  # the same recombination twice: draw another
            have.add(note_id)
            con.execute(
                "INSERT INTO extractions (note_id, version, engine, prompt_version, created_at, entities_json, fields_json)"
                " VALUES (?, 1, 'local', NULL, ?, ?, ?)",
                (note_id, now, json.dumps(entities, ensure_ascii=False), json.dumps(fields, ensure_ascii=False)))
    con.close()
    print(f"store: {len(have):,} recombined notes in {path} ({time.perf_counter() - started:.0f} s to write)")
    return path


def index_size(path: Path) -> tuple[int, int]:
    con = sqlite3.connect(path)
    rows = con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    search = sum(size for name, size in rows if name.startswith(("search_", "sqlite_autoindex_search")))
    return search, path.stat().st_size


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/notelens-bench-search"))
    parser.add_argument("--skip-build", action="store_true", help="query an index built by an earlier run")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    path = build_store(args.work, args.notes)
    backend = SQLiteSearch(path)
    docs = StoreDocs(path)
    service = SearchService(backend, docs, SavedSearches(path))
    print(f"notes in store: {docs.count():,}")
    if not args.skip_build or backend.count() == 0:
        started, cpu = time.perf_counter(), time.process_time()
        built = backend.rebuild(docs.all())
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"index build: {built:,} notes in {seconds:.1f} s = {built / seconds:,.0f} notes/s (target ≥ 500); "
              f"CPU {cpu:.1f} s = {built / cpu:,.0f} notes per CPU-second")
    search_bytes, file_bytes = index_size(path)
    print(f"index size on disk: {search_bytes / 2**20:,.0f} MiB (search tables and indexes; the whole store file "
          f"{file_bytes / 2**20:,.0f} MiB)")

    con = sqlite3.connect(path)
    terms = [t for t, n in con.execute(
        "SELECT term, COUNT(*) AS n FROM search_entities WHERE category IN ('symptom', 'diagnosis', 'medication', 'test')"
        " AND assertion = 'present' GROUP BY term HAVING n >= 50 ORDER BY n DESC LIMIT 400")]
    departments = [d for (d,) in con.execute("SELECT DISTINCT department FROM search_notes WHERE department IS NOT NULL")]
    rng = random.Random(42)
    # Free text as a user types it: Korean words seen in the notes (their noun stems), one or two from one note.
    texts = [t for (t,) in con.execute("SELECT text FROM notes ORDER BY random() LIMIT 2000")]
    words = [[w for w in (query_tokens(word)[:1] for word in text.split() if _HANGUL_WORD.match(word))
              if w and not w[0].endswith("다")]
             for text in texts]
    words = [ws for ws in words if len(ws) >= 2]
    kinds: dict[str, list[SearchQuery]] = {"one term + assertion filter": [], "term + date + department": [],
                                           "free text": []}
    for _ in range(args.queries):
        kinds["one term + assertion filter"].append(SearchQuery(term=rng.choice(terms)))
        start = rng.randrange(640)
        d_from = time.strftime("%Y-%m-%d", time.gmtime(1704067200 + start * 86400))
        d_to = time.strftime("%Y-%m-%d", time.gmtime(1704067200 + (start + 90) * 86400))
        kinds["term + date + department"].append(SearchQuery(term=rng.choice(terms), date_from=d_from, date_to=d_to,
                                                             departments=[rng.choice(departments)]))
        note_words = rng.choice(words)
        picked = rng.sample(note_words, 1 if rng.random() < 0.6 else 2)
        kinds["free text"].append(SearchQuery(text=" ".join(w[0] for w in picked)))
    service.search(SearchQuery(term=terms[0]))  # warm the vocabulary and the connection
    print(f"queries: {args.queries} of each kind, first page of 20 with facet counts and snippets "
          f"(terms drawn from the {len(terms)} affirmed terms seen ≥ 50 times)")
    for kind, queries in kinds.items():
        times: list[float] = []
        totals: list[int] = []
        sampled = 0
        cpus: list[float] = []
        for q in queries:
            started, cpu = time.perf_counter(), time.process_time()
            results = service.search(q)
            times.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            totals.append(results.total)
            sampled += bool(results.facet_sample)
        target = "  (target p95 ≤ 50 ms)" if kind.startswith("one term") else ""
        print(f"  {kind:<28} p50 {pct(times, 0.5):6.1f} ms   p95 {pct(times, 0.95):6.1f} ms   "
              f"(CPU p50 {pct(cpus, 0.5):5.1f} ms, p95 {pct(cpus, 0.95):5.1f} ms)   "
              f"median hits {statistics.median(totals):,.0f}, max {max(totals):,}; "
              f"entity facets estimated for {sampled}{target}")
    top = Counter(len(q.text.split()) for q in kinds["free text"])
    print(f"  (free text: {top[1]} one-word and {top[2]} two-word queries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
