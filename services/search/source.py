"""Where search documents come from: each note's text and fields, the entities in force (latest review, else latest
extraction), the engine and prompt version of the latest extraction, and whether a clinician reviewed it.

``StoreDocs`` reads the SQLite store's file in bulk with plain SQL, so a rebuild of 100,000 notes needs no per-note
round trips. ``RecordDocs`` asks any NoteStore (DynamoDB too) through its protocol only. SearchService takes either
(``DocSource``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from services.domain import Entity, Note
from services.search import SearchDoc, SearchEntity
from services.store import NoteStore
from services.store.sqlite import ThreadConnections


class DocSource(Protocol):
    """What SearchService reads documents through: a few notes after a change, every note for a rebuild."""

    def get(self, note_ids: list[str]) -> list[SearchDoc]:
        """The documents of these notes that have text (others are left out)."""
        ...

    def all(self, batch: int = 2000) -> Iterator[SearchDoc]:
        """Every note with text, in note id order, streamed."""
        ...

    def count(self) -> int:
        """How many notes have text (what a rebuild indexes)."""
        ...

_SQL = """
SELECT n.id, n.filename, n.text, n.visit_date, n.age, n.sex, n.department,
       x.engine, x.prompt_version, x.entities_json AS ext_json,
       (SELECT r.entities_json FROM reviews r WHERE r.note_id = n.id ORDER BY r.version DESC LIMIT 1) AS review_json
FROM notes n
LEFT JOIN extractions x ON x.id = (SELECT e.id FROM extractions e WHERE e.note_id = n.id ORDER BY e.version DESC LIMIT 1)
WHERE n.text IS NOT NULL
"""


def _entity(raw: dict[str, Any]) -> SearchEntity:
    return SearchEntity(
        category=str(raw.get("category")), text=str(raw.get("text") or ""), normalized=raw.get("normalized"),
        code=raw.get("code"), negated=bool(raw.get("negated")), uncertain=bool(raw.get("uncertain")),
        historical=bool(raw.get("historical")), family=bool(raw.get("family")), section=raw.get("section"),
        begin=int(raw.get("begin") or 0), end=int(raw.get("end") or 0),
    )


def _rows(con: sqlite3.Connection) -> None:
    con.row_factory = sqlite3.Row


class StoreDocs:
    """Documents from the store's SQLite file (its own read connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connections = ThreadConnections(path, _rows)

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def _docs(self, rows: Iterable[sqlite3.Row]) -> Iterator[SearchDoc]:
        for r in rows:
            raw = r["review_json"] or r["ext_json"]
            entities = [_entity(e) for e in json.loads(raw)] if raw else []
            yield SearchDoc(
                note_id=r["id"], filename=r["filename"], text=r["text"], visit_date=r["visit_date"],
                department=r["department"], age=r["age"], sex=r["sex"], engine=r["engine"],
                prompt_version=r["prompt_version"],
                review_status="reviewed" if r["review_json"] else ("machine" if r["ext_json"] else "none"),
                entities=entities,
            )

    def get(self, note_ids: list[str]) -> list[SearchDoc]:
        if not note_ids:
            return []
        marks = ", ".join("?" * len(note_ids))
        rows = self._conn().execute(f"{_SQL} AND n.id IN ({marks})", note_ids).fetchall()
        return list(self._docs(rows))

    def all(self, batch: int = 2000) -> Iterator[SearchDoc]:
        """Every note with text, streamed in batches (a consistent read per batch)."""
        con = self._conn()
        last = ""
        while True:
            rows = con.execute(f"{_SQL} AND n.id > ? ORDER BY n.id LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1]["id"]
            yield from self._docs(rows)

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM notes WHERE text IS NOT NULL").fetchone()[0])


def _search_entity(e: Entity) -> SearchEntity:
    return SearchEntity(
        category=e.category.value, text=e.text, normalized=e.normalized, code=e.code, negated=e.negated,
        uncertain=e.uncertain, historical=e.historical, family=e.family, section=e.section, begin=e.begin, end=e.end,
    )


class RecordDocs:
    """Documents from any NoteStore, through the protocol alone: ``scan_notes`` pages, then each note's extractions
    and reviews (two reads per note; ``workers`` > 1 overlaps them for a remote store such as DynamoDB)."""

    def __init__(self, store: NoteStore, workers: int = 1) -> None:
        self.store = store
        self.workers = max(1, workers)

    def _doc(self, note: Note) -> SearchDoc | None:
        if note.text is None:  # failed on arrival: nothing to search
            return None
        extractions = self.store.extractions(note.id)
        reviews = self.store.reviews(note.id)
        latest = max(extractions, key=lambda x: x.version) if extractions else None
        review = max(reviews, key=lambda r: r.version) if reviews else None
        entities = review.entities if review is not None else (latest.entities if latest is not None else [])
        f = note.fields
        return SearchDoc(
            note_id=note.id, filename=note.filename, text=note.text, visit_date=f.visit_date,
            department=f.department, age=f.age, sex=f.sex, engine=latest.engine if latest else None,
            prompt_version=latest.prompt_version if latest else None,
            review_status="reviewed" if review is not None else ("machine" if latest is not None else "none"),
            entities=[_search_entity(e) for e in entities],
        )

    def _docs(self, notes: list[Note]) -> Iterator[SearchDoc]:
        if self.workers == 1 or len(notes) < 2:
            found: Iterable[SearchDoc | None] = map(self._doc, notes)
        else:
            with ThreadPoolExecutor(self.workers) as pool:
                found = list(pool.map(self._doc, notes))
        yield from (d for d in found if d is not None)

    def get(self, note_ids: list[str]) -> list[SearchDoc]:
        notes = [n for n in (self.store.get_note(i) for i in note_ids) if n is not None]
        return list(self._docs(notes))

    def all(self, batch: int = 2000) -> Iterator[SearchDoc]:
        after = ""
        while True:
            page = self.store.scan_notes(after=after, limit=batch, with_text=True)
            if not page:
                return
            after = page[-1].id
            yield from self._docs(page)

    def count(self) -> int:
        # The protocol has no count of notes with text (a note failed on arrival has none), so the notes are read
        # page by page; reindex never calls this.
        n, after = 0, ""
        while page := self.store.scan_notes(after=after, limit=2000, with_text=True):
            n += sum(1 for note in page if note.text is not None)
            after = page[-1].id
        return n
