"""Embedded search backend: SQLite FTS5 over kiwipiepy morphemes (BM25), an entity table with SQL indexes, facet
counts with GROUP BY over the result set. Lives in the store's file (tables from migration 003)."""

from __future__ import annotations

import heapq
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable
from operator import itemgetter
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
from services.store.sqlite import ThreadConnections

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
# What a result card needs from search_notes (not the facet columns: the page query sorts these rows).
_PAGE_COLUMNS = "d.note_id, d.filename, d.visit_date, d.department, d.age, d.sex, d.review_status"
# Above this many matching notes, facets are estimated from a sample of about this many (see _facets).
FACET_SAMPLE = 500
# Without free text, a result set holding more than 1/BROAD of the notes is paged by walking the date index.
BROAD = 20
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


def facet_columns(doc: SearchDoc) -> tuple[str, str, str, str]:
    """search_notes.facets, present_categories, present_terms, assertions for a note (see migration 003)."""
    keys = {f"{e.assertion}|{e.category}|{e.term.replace(chr(10), ' ')}|{(e.code or '').upper()}" for e in doc.entities}
    present = [e for e in doc.entities if e.assertion == "present"]
    return ("\n".join(sorted(keys)), "\n".join(sorted({e.category for e in present})),
            "\n".join(sorted({e.term.replace(chr(10), " ") for e in present if e.category != "phi"})),
            "\n".join(sorted({e.assertion for e in doc.entities if e.category != "phi"})))


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
    return conds, args


def entity_filters(clauses: list[EntityClause], column: str) -> tuple[list[str], list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    for clause in clauses:
        where, more = entity_sql(clause)
        conds.append(f"{column} IN (SELECT doc FROM search_entities WHERE {where})")
        args.extend(more)
    return conds, args


def hits_sql(plan: Plan, expression: str) -> tuple[str, list[Any]]:
    """SELECT (doc, score) of every matching note. Free text drives from FTS5; otherwise the first entity clause
    drives from its index (a note table lookup only when a note field is filtered); otherwise the note table."""
    note_conds, note_args = note_filters(plan)
    if expression:
        ent_conds, ent_args = entity_filters(plan.entities, "d.doc")
        sql = ("SELECT d.doc, -bm25(search_fts) FROM search_fts JOIN search_notes d ON d.doc = search_fts.rowid"
               " WHERE search_fts MATCH ?")
        args: list[Any] = [expression, *note_args, *ent_args]
        conds = note_conds + ent_conds
    elif plan.entities:
        first, more = entity_sql(plan.entities[0])
        ent_conds, ent_args = entity_filters(plan.entities[1:], "e.doc")
        join = " CROSS JOIN search_notes d ON d.doc = e.doc" if note_conds else ""
        sql = f"SELECT e.doc, 0.0 FROM search_entities e{join} WHERE {first}"  # duplicates: INSERT OR IGNORE
        args = [*more, *note_args, *ent_args]
        conds = note_conds + ent_conds
    else:
        sql = "SELECT d.doc, 0.0 FROM search_notes d WHERE 1"
        args = note_args
        conds = note_conds
    return sql + "".join(f" AND {c}" for c in conds), args


def _search_setup(con: sqlite3.Connection) -> None:
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA temp_store=MEMORY")
    # The result set in temp.hits has no statistics: never let the planner build an index or a Bloom
    # filter over a whole search table for it.
    con.execute("PRAGMA automatic_index=OFF")
    con.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: the search tables' hot parts stay in memory
    con.execute("CREATE TEMP TABLE IF NOT EXISTS hits (doc INTEGER PRIMARY KEY, score REAL NOT NULL)")


class SQLiteSearch:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = ThreadConnections(path, _search_setup)

    # -- writing ------------------------------------------------------------------------------

    @staticmethod
    def _write(con: sqlite3.Connection, doc: SearchDoc) -> None:
        row = con.execute(
            "INSERT INTO search_notes (note_id, filename, visit_date, department, age, age_band, sex, engine,"
            " prompt_version, review_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (note_id) DO"
            " UPDATE SET filename = excluded.filename, visit_date = excluded.visit_date, department = excluded.department,"
            " age = excluded.age, age_band = excluded.age_band, sex = excluded.sex, engine = excluded.engine,"
            " prompt_version = excluded.prompt_version, review_status = excluded.review_status RETURNING doc",
            (doc.note_id, doc.filename, doc.visit_date, doc.department, doc.age, age_band(doc.age), doc.sex,
             doc.engine, doc.prompt_version, doc.review_status),
        ).fetchone()
        doc_id = int(row[0])
        con.execute("INSERT OR REPLACE INTO search_facets VALUES (?, ?, ?, ?, ?)", (doc_id, *facet_columns(doc)))
        con.execute("DELETE FROM search_fts WHERE rowid = ?", (doc_id,))
        con.execute("INSERT INTO search_fts (rowid, body) VALUES (?, ?)", (doc_id, " ".join(index_tokens(doc.text))))
        con.execute("DELETE FROM search_entities WHERE doc = ?", (doc_id,))
        con.executemany("INSERT INTO search_entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        SQLiteSearch._entity_rows(doc_id, doc))

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
                    con.execute("DELETE FROM search_facets WHERE doc = ?", (row[0],))

    @staticmethod
    def _entity_rows(doc_id: int, doc: SearchDoc) -> list[tuple[Any, ...]]:
        return [(doc_id, e.category, e.term, e.text, (e.code or "").upper() or None, e.assertion, int(e.negated),
                 int(e.uncertain), int(e.historical), int(e.family), e.section, e.begin, e.end) for e in doc.entities]

    def rebuild(self, docs: Iterable[SearchDoc], batch: int = 2000) -> int:
        """Rebuild the whole index from ``docs`` in one transaction: searches running meanwhile (WAL readers) keep
        seeing the old index until the new one commits. Bulk path: secondary indexes are dropped and created again
        after the rows are in (sorting once beats updating them row by row), the FTS table is created anew."""
        n = 0
        with self._conn() as con:
            # Explicitly: Python's sqlite3 would run the DROP statements below outside any transaction.
            con.execute("BEGIN IMMEDIATE")
            ddl = [r[0] for r in con.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('search_notes', 'search_entities')"
                " AND sql IS NOT NULL")]
            fts = con.execute("SELECT sql FROM sqlite_master WHERE name = 'search_fts'").fetchone()[0]
            for name in [r[0] for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('search_notes', 'search_entities')"
                    " AND sql IS NOT NULL")]:
                con.execute(f"DROP INDEX {name}")
            con.execute("DROP TABLE search_fts")
            con.execute(fts)
            con.execute("DELETE FROM search_entities")
            con.execute("DELETE FROM search_facets")
            con.execute("DELETE FROM search_notes")
            notes: list[tuple[Any, ...]] = []
            facets: list[tuple[Any, ...]] = []
            bodies: list[tuple[int, str]] = []
            entities: list[tuple[Any, ...]] = []

            def flush() -> None:
                con.executemany("INSERT INTO search_notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", notes)
                con.executemany("INSERT INTO search_facets VALUES (?, ?, ?, ?, ?)", facets)
                con.executemany("INSERT INTO search_fts (rowid, body) VALUES (?, ?)", bodies)
                con.executemany("INSERT INTO search_entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entities)
                notes.clear()
                facets.clear()
                bodies.clear()
                entities.clear()

            for doc in docs:
                n += 1
                notes.append((n, doc.note_id, doc.filename, doc.visit_date, doc.department, doc.age, age_band(doc.age),
                              doc.sex, doc.engine, doc.prompt_version, doc.review_status))
                facets.append((n, *facet_columns(doc)))
                bodies.append((n, " ".join(index_tokens(doc.text))))
                entities.extend(self._entity_rows(n, doc))
                if len(notes) >= batch:
                    flush()
            flush()
            for sql in ddl:
                con.execute(sql)
            con.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
            con.execute("ANALYZE search_notes")
            con.execute("ANALYZE search_entities")
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

    @staticmethod
    def _size(con: sqlite3.Connection) -> int:
        """About how many notes are indexed (the largest doc id: no count over the table)."""
        return int(con.execute("SELECT COALESCE(MAX(doc), 0) FROM search_notes").fetchone()[0])

    # -- reading ------------------------------------------------------------------------------

    def search(self, plan: Plan) -> SearchResults:
        started = time.perf_counter()
        q = plan.query
        expression, wanted = fts_expression(plan.text)
        sql, args = hits_sql(plan, expression)
        order = ("h.score DESC, d.visit_date DESC, d.doc DESC" if q.sort == "relevance" and expression
                 else "d.visit_date DESC, h.score DESC, d.doc DESC")
        page_args = (q.page_size, (q.page - 1) * q.page_size)
        with self._conn() as con:
            con.execute("DELETE FROM temp.hits")
            if plan.text and not expression:
                total = 0  # the words left nothing to search for (particles only)
            else:
                con.execute(f"INSERT OR IGNORE INTO temp.hits {sql}", args)
                total = int(con.execute("SELECT COUNT(*) FROM temp.hits").fetchone()[0])
            if not expression and total * BROAD > self._size(con):
                # Most notes match: walk the visit-date index newest first and keep the matching ones (the page
                # is found after a few rows instead of sorting every hit). Same order as the sort below.
                page = (f"SELECT d.doc, 0.0 AS score, {_PAGE_COLUMNS} FROM search_notes d INDEXED BY search_notes_date"
                        " WHERE d.doc IN (SELECT doc FROM temp.hits) ORDER BY d.visit_date DESC, d.doc DESC"
                        " LIMIT ? OFFSET ?")
            else:
                page = (f"SELECT h.doc, h.score, {_PAGE_COLUMNS} FROM temp.hits h CROSS JOIN search_notes d ON d.doc = h.doc"
                        f" ORDER BY {order} LIMIT ? OFFSET ?")
            # The page is chosen on the small search rows; only its notes' texts are read.
            rows = con.execute(f"SELECT p.*, n.text FROM ({page}) p LEFT JOIN notes n ON n.id = p.note_id",
                               page_args).fetchall()
            entities = self._entities(con, [int(r["doc"]) for r in rows])
            facets, sample = self._facets(con, plan, total) if plan.want_facets and total else ({}, 0)
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
                             took_ms=(time.perf_counter() - started) * 1000, facet_sample=sample)

    @staticmethod
    def _entities(con: sqlite3.Connection, docs: list[int]) -> dict[int, list[SearchEntity]]:
        out: dict[int, list[SearchEntity]] = {}
        if not docs:
            return out
        cur = con.cursor()
        cur.row_factory = None  # plain tuples: this builds a few hundred objects per page
        cur.execute("SELECT doc, category, surface, term, code, negated, uncertain, historical, family, section, begin,"
                    f' "end" FROM search_entities WHERE doc IN ({", ".join("?" * len(docs))}) ORDER BY doc, begin', docs)
        for doc, *fields in cur:
            out.setdefault(doc, []).append(SearchEntity(*fields))
        return out

    @staticmethod
    def _facets(con: sqlite3.Connection, plan: Plan, total: int) -> tuple[dict[str, list[tuple[str, int]]], int]:
        """Facet counts over the result set, and how many notes they were estimated from (0: exact).

        One pass over the matching notes' search rows: the note fields, and the entity facets (category, term,
        assertion) from each note's distinct mention keys. Up to FACET_SAMPLE matching notes every count is exact;
        above that the notes whose doc id falls on a stride (about FACET_SAMPLE of them, the same on every rerun) are
        counted and scaled to the total, so a query matching half of 100,000 notes stays interactive. The page marks
        estimated counts."""
        counters: dict[str, Counter[str]] = {name: Counter() for name in [*_NOTE_FACETS, "category", "term", "assertion"]}
        names = list(_NOTE_FACETS)
        stride = -(-total // FACET_SAMPLE) if total > FACET_SAMPLE else 1
        where = f" WHERE h.doc % {stride} = 0" if stride > 1 else ""
        assertions = set(plan.query.assertions) or {"present"}
        cats = set(plan.query.categories) - {"phi"}
        named = [c for c in plan.entities if not c.is_open()]
        named_terms = set().union(*(c.terms for c in named)) if named else set()
        named_codes = tuple(sorted(set().union(*(c.codes for c in named)))) if named else ()
        named_cats = set().union(*(c.categories for c in named)) if named else set()
        # The usual question (affirmed mentions, any category, no term named) reads the precomputed sets.
        fast = assertions == {"present"} and not cats
        columns = "f.present_categories, f.present_terms, f.assertions" if fast else "f.keys"
        rows: list[Any] = con.execute(
            f"SELECT {', '.join(_NOTE_FACETS.values())}, {columns} FROM temp.hits h CROSS JOIN search_notes d"
            f" ON d.doc = h.doc CROSS JOIN search_facets f ON f.doc = h.doc{where}").fetchall()
        n_fields = len(names)
        sampled = len(rows)
        # Counted column by column in C (itemgetter, one join and split per facet), not row by row in Python.
        for i, name in enumerate(names):
            counters[name] = Counter(map(itemgetter(i), rows))
            counters[name].pop(None, None)  # type: ignore[call-overload]
        if fast:
            for i, name in enumerate(("category", "term", "assertion"), start=n_fields):
                if not (named and name == "assertion"):
                    joined = "\n".join(filter(None, map(itemgetter(i), rows)))
                    counters[name] = Counter(joined.split("\n")) if joined else Counter()
            rows = []
        for row in rows:
            if not row[-1]:
                continue
            categories: set[str] = set()
            terms: set[str] = set()
            states: set[str] = set()
            for key in row[-1].split("\n"):
                assertion, category, term, code = key.split("|", 3)
                if assertion in assertions:
                    categories.add(category)
                    if (category in cats) if cats else (category != "phi"):
                        terms.add(term)
                if named:
                    if named_cats and category not in named_cats:
                        continue
                    if (named_terms or named_codes) and not (
                            term in named_terms or (code and code.startswith(named_codes))):
                        continue
                    states.add(assertion)
                elif category != "phi":
                    states.add(assertion)
            counters["category"].update(categories)
            counters["term"].update(terms)
            counters["assertion"].update(states)
        if fast and named:
            # The assertions of the named term's mentions: from its own index entries, not from every mention.
            # Driven from the (sampled) matching notes, so a term written in most notes costs no more than a rare one.
            counters["assertion"] = Counter()
            for clause in named[:1]:
                cond, args = entity_sql(clause, with_assertion=False)
                # (temp.hits has no term/code/category column: the clause's bare names are the entity's.)
                for value, n in con.execute(
                        "SELECT e.assertion, COUNT(DISTINCT e.doc) FROM temp.hits h CROSS JOIN search_entities e"
                        f" INDEXED BY search_entities_doc ON e.doc = h.doc WHERE {cond}"
                        f"{where.replace(' WHERE ', ' AND ')} GROUP BY e.assertion", args):
                    counters["assertion"][value] = n
        scale = total / sampled if stride > 1 and sampled else 1.0
        facets: dict[str, list[tuple[str, int]]] = {}
        for name, counter in counters.items():
            limit = TERM_FACET_SIZE if name == "term" else 60
            ranked = heapq.nsmallest(limit, counter.items(), key=lambda kv: (-kv[1], kv[0]))
            if scale != 1.0:
                ranked = [(v, max(1, round(n * scale))) for v, n in ranked]
            facets[name] = [(str(v), n) for v, n in ranked]
        return facets, sampled if stride > 1 else 0
