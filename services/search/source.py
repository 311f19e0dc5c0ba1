"""Search documents read from the SQLite store in bulk: each note's text and fields, the entities in force (latest
review, else latest extraction), the engine and prompt version of the latest extraction, and whether a clinician
reviewed it. Read with plain SQL so a rebuild of 100,000 notes needs no per-note round trips."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from services.search import SearchDoc, SearchEntity
from services.store.sqlite import ThreadConnections

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
