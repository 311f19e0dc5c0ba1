"""The search service every page and the CLI use: turns a SearchQuery into a Plan (codes recognised, concepts
expanded when asked), asks the configured backend, keeps the index in step with the store, rebuilds it, exports
results as CSV and keeps saved searches."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.domain import utcnow
from services.search import EntityClause, Plan, SearchBackend, SearchHit, SearchQuery, SearchResults, TextClause
from services.search.concepts import Vocabulary, is_code, vocabulary
from services.search.source import DocSource
from services.store.sqlite import ThreadConnections

log = logging.getLogger(__name__)
_QUOTED = re.compile(r'"([^"]+)"')
EXPORT_LIMIT = 10_000


def compile_plan(query: SearchQuery, vocab: Callable[[], Vocabulary] = vocabulary, facets: bool = True) -> Plan:
    """What the query means, independent of the backend."""
    plan = Plan(query=query, want_facets=facets)
    assertions = set(query.assertions)
    text = query.text.strip()
    phrases = [p.strip() for p in _QUOTED.findall(text) if p.strip()]
    rest = _QUOTED.sub(" ", text).split()
    codes = [w for w in rest if is_code(w)]
    words = [w for w in rest if not is_code(w)]
    for phrase in phrases:
        alts = [phrase] + (sorted(vocab().expand(phrase).surfaces - {phrase}) if query.expand else [])
        plan.text.append(TextClause(alts, phrase=True, concept=query.expand))
    whole = vocab().expand(" ".join(words)) if query.expand and len(words) > 1 else None
    if whole:
        plan.text.append(TextClause([" ".join(words), *sorted(whole.surfaces - {" ".join(words)})], phrase=True,
                                    concept=True))
    else:
        for word in words:
            alts = [word] + (sorted(vocab().expand(word).surfaces - {word}) if query.expand else [])
            plan.text.append(TextClause(alts, concept=query.expand))
    for code in codes:
        clause = EntityClause(codes={code.upper()}, assertions=assertions)
        if query.expand:
            found = vocab().expand(code)
            clause.codes |= found.codes
            clause.terms |= found.terms
        plan.entities.append(clause)
    term = query.term.strip()
    if term or query.categories:
        clause = EntityClause(categories=set(query.categories), assertions=assertions)
        if term:
            found = vocab().expand(term)
            if is_code(term):
                clause.codes.add(term.upper())
            else:
                # The engine folds synonyms into one normalized name (가슴 통증 → 흉통): a written form finds it.
                clause.terms.add(" ".join(term.lower().split()))
                clause.terms |= found.terms
            if query.expand:
                clause.codes |= found.codes
                clause.terms |= found.terms
        plan.entities.append(clause)
    plan.highlight = [alt for c in plan.text for alt in c.alternatives]
    return plan


@dataclass
class ReindexReport:
    backend: str
    notes: int
    seconds: float


class SavedSearchStore(Protocol):
    """Named queries: SQLite (SavedSearches) or DynamoDB (services/search/dynamodb_saved.py)."""

    def save(self, name: str, query: SearchQuery) -> None: ...
    def all(self) -> list[tuple[str, SearchQuery]]: ...
    def get(self, name: str) -> SearchQuery | None: ...
    def delete(self, name: str) -> None: ...


class SavedSearches:
    """Named queries, kept in the store's SQLite file (table saved_searches, migration 003)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = ThreadConnections(path)

    def save(self, name: str, query: SearchQuery) -> None:
        name = name.strip()
        if not name:
            raise ValueError("A saved search needs a name.")
        body = query.model_copy(update={"page": 1}).model_dump_json()
        with self._conn() as con:
            con.execute("INSERT INTO saved_searches VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                        " query_json = excluded.query_json, created_at = excluded.created_at", (name, body, utcnow()))

    def all(self) -> list[tuple[str, SearchQuery]]:
        with self._conn() as con:
            rows = con.execute("SELECT name, query_json FROM saved_searches ORDER BY name").fetchall()
        return [(r[0], SearchQuery.model_validate_json(r[1])) for r in rows]

    def get(self, name: str) -> SearchQuery | None:
        return dict(self.all()).get(name)

    def delete(self, name: str) -> None:
        with self._conn() as con:
            con.execute("DELETE FROM saved_searches WHERE name = ?", (name,))


def hit_record(hit: SearchHit) -> dict[str, Any]:
    """A result as the CLI's JSON lines and the CSV export carry it."""
    return {
        "note_id": hit.note_id,
        "file": hit.filename,
        "score": round(hit.score, 4),
        "visit_date": hit.visit_date,
        "department": hit.department,
        "review_status": hit.review_status,
        "snippet": hit.snippet_text,
        "entities": [{"category": c.category, "text": c.text, "normalized": c.normalized, "code": c.code,
                      "assertion": c.assertion} for c in hit.entities if c.matched],
    }


class SearchService:
    def __init__(self, backend: SearchBackend, docs: DocSource, saved: SavedSearchStore,
                 vocab: Callable[[], Vocabulary] = vocabulary) -> None:
        self.backend = backend
        self.docs = docs
        self.saved = saved
        self._vocab = vocab

    @property
    def name(self) -> str:
        return self.backend.name

    def plan(self, query: SearchQuery, facets: bool = True) -> Plan:
        return compile_plan(query, self._vocab, facets)

    def search(self, query: SearchQuery, facets: bool = True) -> SearchResults:
        return self.backend.search(self.plan(query, facets))

    def values(self, name: str) -> list[str]:
        return self.backend.values(name)

    def update(self, note_id: str) -> None:
        """Bring one note's index entry in step with the store (after ingest, re-extraction or review). A failing
        backend never fails the note: it is logged, and ``reindex`` repairs it."""
        try:
            docs = self.docs.get([note_id])
            if docs:
                self.backend.index(docs)
            else:
                self.backend.delete([note_id])
        except Exception as exc:  # noqa: BLE001 - the note itself is safe in the store
            log.warning("search index update failed for note %s: %s", note_id, type(exc).__name__)
            log.debug("search index failure detail", exc_info=True)

    def reindex(self) -> ReindexReport:
        import time

        started = time.perf_counter()
        n = self.backend.rebuild(self.docs.all())
        return ReindexReport(self.backend.name, n, time.perf_counter() - started)

    def export_csv(self, query: SearchQuery, limit: int = EXPORT_LIMIT) -> str:
        """Every result (up to ``limit``) as CSV, with a BOM for Excel."""
        results = self.search(query.model_copy(update={"page": 1, "page_size": limit}), facets=False)
        buf = io.StringIO()
        cols = ["note_id", "file", "visit_date", "department", "review_status", "score", "snippet", "entities"]
        writer = csv.DictWriter(buf, fieldnames=cols)
        writer.writeheader()
        for hit in results.hits:
            row = hit_record(hit)
            row["entities"] = "; ".join(
                f"{e['text']} ({e['category']}, {e['assertion']}{', ' + e['code'] if e['code'] else ''})"
                for e in row["entities"])
            writer.writerow({c: row.get(c) for c in cols})
        return "\ufeff" + buf.getvalue()

    def json_lines(self, query: SearchQuery) -> Iterator[str]:
        for hit in self.search(query, facets=False).hits:
            yield json.dumps(hit_record(hit), ensure_ascii=False)
