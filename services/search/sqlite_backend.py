"""Embedded search backend: SQLite FTS5 over kiwipiepy morphemes (BM25), an entity table with SQL indexes, facet
counts with GROUP BY over the result set. Lives in the store's file (tables from migration 003)."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services.search import (
    NOTE_FIELDS,
    EntityClause,
    Plan,
    SearchDoc,
    SearchEntity,
    SearchHit,
    SearchResults,
    TextClause,
    age_band,
)
from services.search.morph import index_tokens, query_tokens, spans
from services.search.snippet import chips, entity_matches, snippet

_NOTE_FACETS = {
    "department": "d.department",
    "age_band": "d.age_band",
    "sex": "d.sex",
    "engine": "d.engine",
    "prompt_version": "d.prompt_version",
    "review_status": "d.review_status",
    "visit_month": "substr(d.visit_date, 1, 7)",
}
TERM_FACET_SIZE = 20
_HANGUL_ONLY = re.compile(r"^[\uac00-\ud7a3\s]+$")


def fts_phrase(tokens: list[str]) -> str:
    return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'


def fts_expression(clauses: list[TextClause]) -> tuple[str, set[str]]:
    """The FTS5 MATCH expression for the text clauses (AND of ORs of phrases) and the tokens to highlight."""
    parts: list[str] = []
    wanted: set[str] = set()
    for clause in clauses:
        alts: list[str] = []
        for i, alt in enumerate(clause.alternatives):
            tokens = query_tokens(alt)
            if not tokens:
                continue
            # The user's own words are marked word by word; an expanded form only as a whole (가슴 통증 → 가슴통증,
            # which the spans finder also sees across a space), not every word it shares with other text.
            wanted.update(tokens if i == 0 or len(tokens) == 1 else ["".join(tokens)])
            alts.append(fts_phrase(tokens))
            if len(tokens) > 1 and " " in alt.strip() and _HANGUL_ONLY.match(alt.strip()):
                # A spaced Korean phrase also matches written without the spaces (호흡 곤란 ↔ 호흡곤란).
                glued = query_tokens(alt.replace(" ", ""))
                if glued and glued != tokens:
                    alts.append(fts_phrase(glued))
        if alts:
            parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(dict.fromkeys(alts)) + ")")
    return " AND ".join(parts), wanted


def _code_range(code: str) -> tuple[str, str]:
    return code, code + "~"  # '~' sorts after every character a code holds: a prefix range


def entity_sql(clause: EntityClause, with_assertion: bool = True) -> tuple[str, list[Any]]:
    """WHERE conditions on search_entities for one clause."""
    conds: list[str] = []
    args: list[Any] = []
    alts: list[str] = []
    if clause.terms:
        alts.append(f"term IN ({', '.join('?' * len(clause.terms))})")
        args.extend(sorted(clause.terms))
    for code in sorted(clause.codes):
        alts.append("(code >= ? AND code < ?)")
        args.extend(_code_range(code))
    if alts:
        conds.append("(" + " OR ".join(alts) + ")")
    if clause.categories:
        conds.append(f"category IN ({', '.join('?' * len(clause.categories))})")
        args.extend(sorted(clause.categories))
    if with_assertion and clause.assertions:
        conds.append(f"assertion IN ({', '.join('?' * len(clause.assertions))})")
        args.extend(sorted(clause.assertions))
    return " AND ".join(conds) or "1", args


def _in(column: str, values: list[str], conds: list[str], args: list[Any]) -> None:
    if values:
        conds.append(f"{column} IN ({', '.join('?' * len(values))})")
        args.extend(values)


def note_filters(plan: Plan) -> tuple[list[str], list[Any]]:
    q = plan.query
    conds: list[str] = []
    args: list[Any] = []
    if q.date_from:
        conds.append("d.visit_date >= ?")
        args.append(q.date_from)
    if q.date_to:
        conds.append("d.visit_date <= ?")
        args.append(q.date_to)
    _in("d.department", q.departments, conds, args)
    _in("d.age_band", q.age_bands, conds, args)
    _in("d.sex", q.sexes, conds, args)
    _in("d.engine", q.engines, conds, args)
    _in("d.prompt_version", q.prompt_versions, conds, args)
    _in("d.review_status", q.review_statuses, conds, args)
    for clause in plan.entities:
        where, more = entity_sql(clause)
        conds.append(f"d.doc IN (SELECT doc FROM search_entities WHERE {where})")
        args.extend(more)
    return conds, args


class SQLiteSearch:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA temp_store=MEMORY")
            con.execute("CREATE TEMP TABLE IF NOT EXISTS hits (doc INTEGER PRIMARY KEY, score REAL NOT NULL)")
            self._local.con = con
        with con:
            yield con

    # -- writing ------------------------------------------------------------------------------

    @staticmethod
    def _write(con: sqlite3.Connection, doc: SearchDoc) -> None:
        row = con.execute(
            "INSERT INTO search_notes (note_id, filename, visit_date, department, age, age_band, sex, engine,"
            " prompt_version, review_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (note_id) DO UPDATE SET"
            " filename = excluded.filename, visit_date = excluded.visit_date, department = excluded.department,"
            " age = excluded.age, age_band = excluded.age_band, sex = excluded.sex, engine = excluded.engine,"
            " prompt_version = excluded.prompt_version, review_status = excluded.review_status RETURNING doc",
            (doc.note_id, doc.filename, doc.visit_date, doc.department, doc.age, age_band(doc.age), doc.sex,
             doc.engine, doc.prompt_version, doc.review_status),
        ).fetchone()
        doc_id = int(row[0])
        con.execute("DELETE FROM search_fts WHERE rowid = ?", (doc_id,))
        con.execute("INSERT INTO search_fts (rowid, body) VALUES (?, ?)", (doc_id, " ".join(index_tokens(doc.text))))
        con.execute("DELETE FROM search_entities WHERE doc = ?", (doc_id,))
        con.executemany(
            "INSERT INTO search_entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(doc_id, e.category, e.term, e.text, (e.code or "").upper() or None, e.assertion,
              int(e.negated), int(e.uncertain), int(e.historical), int(e.family), e.section, e.begin, e.end)
             for e in doc.entities],
        )

    def index(self, docs: Iterable[SearchDoc]) -> int:
        n = 0
        with self._conn() as con:
            for doc in docs:
                self._write(con, doc)
                n += 1
        return n

    def delete(self, note_ids: Iterable[str]) -> None:
        with self._conn() as con:
            for note_id in note_ids:
                row = con.execute("DELETE FROM search_notes WHERE note_id = ? RETURNING doc", (note_id,)).fetchone()
                if row:
                    con.execute("DELETE FROM search_fts WHERE rowid = ?", (row[0],))
                    con.execute("DELETE FROM search_entities WHERE doc = ?", (row[0],))

    def rebuild(self, docs: Iterable[SearchDoc], batch: int = 1000) -> int:
        """Empty the index and write every note again, a batch per transaction (readers see the old or the new
        batch, never a half-written note)."""
        with self._conn() as con:
            con.execute("DELETE FROM search_entities")
            con.execute("DELETE FROM search_notes")
            con.execute("DELETE FROM search_fts")
        n = 0
        pending: list[SearchDoc] = []
        for doc in docs:
            pending.append(doc)
            if len(pending) >= batch:
                n += self.index(pending)
                pending = []
        n += self.index(pending)
        with self._conn() as con:
            con.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
            con.execute("ANALYZE")
        return n

    def values(self, name: str) -> list[str]:
        if name not in NOTE_FIELDS:
            raise ValueError(f"not a note field: {name}")
        with self._conn() as con:
            rows = con.execute(f"SELECT DISTINCT {name} FROM search_notes WHERE {name} IS NOT NULL ORDER BY 1")
            return [str(r[0]) for r in rows]

    def count(self) -> int:
        with self._conn() as con:
            return int(con.execute("SELECT COUNT(*) FROM search_notes").fetchone()[0])

    # -- reading ------------------------------------------------------------------------------

    def search(self, plan: Plan) -> SearchResults:
        started = time.perf_counter()
        q = plan.query
        expression, wanted = fts_expression(plan.text)
        conds, args = note_filters(plan)
        if expression:
            sql = ("SELECT d.doc, -bm25(search_fts) FROM search_fts JOIN search_notes d ON d.doc = search_fts.rowid"
                   " WHERE search_fts MATCH ?")
            args = [expression, *args]
        else:
            sql = "SELECT d.doc, 0.0 FROM search_notes d WHERE 1"
        sql += "".join(f" AND {c}" for c in conds)
        order = ("h.score DESC, d.visit_date IS NULL, d.visit_date DESC, d.doc" if q.sort == "relevance"
                 else "d.visit_date IS NULL, d.visit_date DESC, h.score DESC, d.doc")
        with self._conn() as con:
            con.execute("DELETE FROM temp.hits")
            if plan.text and not expression:
                total = 0  # the words left nothing to search for (particles only)
            else:
                con.execute(f"INSERT INTO temp.hits {sql}", args)
                total = int(con.execute("SELECT COUNT(*) FROM temp.hits").fetchone()[0])
            rows = con.execute(
                "SELECT h.doc, h.score, d.*, n.text FROM temp.hits h JOIN search_notes d ON d.doc = h.doc"
                f" LEFT JOIN notes n ON n.id = d.note_id ORDER BY {order} LIMIT ? OFFSET ?",
                (q.page_size, (q.page - 1) * q.page_size),
            ).fetchall()
            entities = self._entities(con, [int(r["doc"]) for r in rows])
            facets = self._facets(con, plan) if plan.want_facets and total else {}
        hits = []
        for r in rows:
            text = r["text"] or ""
            ents = entities.get(int(r["doc"]), [])
            marked = spans(text, wanted) if wanted else []
            focus = marked or sorted((e.begin, e.end) for e in ents
                                     if any(entity_matches(e, c) for c in plan.entities if not c.is_open()))
            html_snip, plain = snippet(text, marked or focus[:1])
            hits.append(SearchHit(
                note_id=r["note_id"], filename=r["filename"], score=float(r["score"]), visit_date=r["visit_date"],
                department=r["department"], age=r["age"], sex=r["sex"], review_status=r["review_status"],
                snippet_html=html_snip, snippet_text=plain, entities=chips(ents, plan, marked),
            ))
        return SearchResults(total=total, hits=hits, facets=facets, page=q.page, page_size=q.page_size,
                             took_ms=(time.perf_counter() - started) * 1000)

    @staticmethod
    def _entities(con: sqlite3.Connection, docs: list[int]) -> dict[int, list[SearchEntity]]:
        out: dict[int, list[SearchEntity]] = {}
        if not docs:
            return out
        rows = con.execute(
            f"SELECT * FROM search_entities WHERE doc IN ({', '.join('?' * len(docs))}) ORDER BY doc, begin", docs)
        for r in rows:
            out.setdefault(int(r["doc"]), []).append(SearchEntity(
                category=r["category"], text=r["surface"], normalized=r["term"],
                code=r["code"], negated=bool(r["negated"]), uncertain=bool(r["uncertain"]),
                historical=bool(r["historical"]), family=bool(r["family"]), section=r["section"],
                begin=int(r["begin"]), end=int(r["end"])))
        return out

    @staticmethod
    def _facets(con: sqlite3.Connection, plan: Plan) -> dict[str, list[tuple[str, int]]]:
        facets: dict[str, list[tuple[str, int]]] = {}
        for name, expr in _NOTE_FACETS.items():
            rows = con.execute(
                f"SELECT {expr} AS v, COUNT(*) AS n FROM temp.hits h JOIN search_notes d ON d.doc = h.doc"
                " WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT 60").fetchall()
            facets[name] = [(str(r["v"]), int(r["n"])) for r in rows]
        assertions = set(plan.query.assertions) or {"present"}
        a_marks = ", ".join("?" * len(assertions))
        rows = con.execute(
            "SELECT e.category AS v, COUNT(DISTINCT e.doc) AS n FROM temp.hits h JOIN search_entities e ON e.doc = h.doc"
            f" WHERE e.assertion IN ({a_marks}) GROUP BY v ORDER BY n DESC", sorted(assertions)).fetchall()
        facets["category"] = [(str(r["v"]), int(r["n"])) for r in rows]
        cats = set(plan.query.categories) - {"phi"}
        cat_sql = f" AND e.category IN ({', '.join('?' * len(cats))})" if cats else " AND e.category != 'phi'"
        rows = con.execute(
            "SELECT e.term AS v, COUNT(DISTINCT e.doc) AS n FROM temp.hits h JOIN search_entities e ON e.doc = h.doc"
            f" WHERE e.assertion IN ({a_marks}){cat_sql} GROUP BY v ORDER BY n DESC, v LIMIT {TERM_FACET_SIZE}",
            [*sorted(assertions), *sorted(cats)]).fetchall()
        facets["term"] = [(str(r["v"]), int(r["n"])) for r in rows]
        # Assertions of the mentions the query names (its term/category clauses), else of every mention.
        named = [c for c in plan.entities if not c.is_open()]
        where, args = entity_sql(named[0], with_assertion=False) if named else ("e.category != 'phi'", [])
        rows = con.execute(
            "SELECT e.assertion AS v, COUNT(DISTINCT e.doc) AS n FROM temp.hits h JOIN search_entities e"
            f" ON e.doc = h.doc WHERE {where} GROUP BY v ORDER BY n DESC", args).fetchall()
        facets["assertion"] = [(str(r["v"]), int(r["n"])) for r in rows]
        return facets
