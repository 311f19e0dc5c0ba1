"""Embedded default storage: SQLite in WAL mode plus a content-addressed folder of originals."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from services.domain import Entity, Extraction, ExtractionResult, Note, NoteFields, NoteStatus, Review, utcnow
from services.store import NoteExists, ReviewConflict
from services.store.bundle import CacheEntry, NoteBundle, SourceRecord


def migrations() -> list[tuple[int, str]]:
    """(version, sql) for every ``NNN_name.sql`` in the migrations folder, in order."""
    folder = resources.files("services.store") / "migrations"
    found = []
    for item in folder.iterdir():
        name = item.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), item.read_text(encoding="utf-8")))
    return sorted(found)


_NOTE_COLUMNS = ("id", "filename", "status", "text", "encoding", "size", "raw_sha256", "error_code", "error_message",
                 "source", "created_at", "updated_at", "attempts", "visit_date", "age", "sex", "department", "summary")

_IMPORT_COLUMNS = ("id", "filename", "status", "text", "encoding", "text_sha256", "raw_sha256", "size", "error_code",
                   "error_message", "source", "attempts", "visit_date", "age", "sex", "department", "summary",
                   "created_at", "updated_at")


class LocalBlobStore:
    """Original upload bytes, one file per SHA-256, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return sha

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        return path.read_bytes() if path.exists() else None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


class ThreadConnections:
    """One long-lived connection per thread to a SQLite file (safe across Streamlit's script threads). Long-lived
    because closing the last WAL connection checkpoints, which made every call pay for a sync. ``setup`` runs once
    on each new connection (row factory, pragmas)."""

    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None] | None = None) -> None:
        self.path = path
        self.setup = setup
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        """This thread's connection, outside any transaction (for readers)."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            if self.setup is not None:
                self.setup(con)
            self._local.con = con
        return con

    @contextmanager
    def __call__(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, in a transaction."""
        con = self.get()
        with con:
            yield con


def _store_setup(con: sqlite3.Connection) -> None:
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA synchronous=NORMAL")


class SQLiteStore:
    """Records and versions in one SQLite file (the search index lives in it too: services/search).

    A connection per call keeps it safe across Streamlit's script threads; WAL lets the
    dashboard read while a batch writes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = ThreadConnections(path, _store_setup)
        with self._conn() as con:
            con.execute("PRAGMA journal_mode=WAL")
            self._migrate(con)

    @staticmethod
    def _migrate(con: sqlite3.Connection) -> None:
        # Each migration is recorded by number, so one that lands after a higher-numbered one (parallel work) is
        # still applied; user_version keeps the highest number for tools that read it.
        con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        applied = {r[0] for r in con.execute("SELECT version FROM schema_migrations")}
        if not applied:  # a database from before the table: everything up to user_version is in
            legacy = con.execute("PRAGMA user_version").fetchone()[0]
            applied = {v for v, _ in migrations() if v <= legacy}
            con.executemany("INSERT INTO schema_migrations VALUES (?, ?)", [(v, utcnow()) for v in sorted(applied)])
            con.commit()
        for version, sql in migrations():
            if version not in applied:
                top = max(version, con.execute("PRAGMA user_version").fetchone()[0])
                con.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES ({version}, '{utcnow()}');\n"
                                  f"PRAGMA user_version = {top};\nCOMMIT;")

    def schema_version(self) -> int:
        with self._conn() as con:
            return int(con.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, for adapters that query the same file (services/analytics/sqlite.py)."""
        with self._conn() as con:
            yield con

    # -- notes -------------------------------------------------------------------------------

    @staticmethod
    def _note(row: sqlite3.Row) -> Note:
        return Note(
            id=row["id"],
            filename=row["filename"],
            status=NoteStatus(row["status"]),
            text=row["text"],
            encoding=row["encoding"],
            size=row["size"],
            raw_sha256=row["raw_sha256"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            source=row["source"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            attempts=row["attempts"],
            fields=NoteFields(
                visit_date=row["visit_date"],
                age=row["age"],
                sex=row["sex"],
                department=row["department"],
                summary=row["summary"],
            ),
        )

    def note_for_source(self, raw_sha256: str) -> Note | None:
        with self._conn() as con:
            row = con.execute(
                "SELECT n.* FROM notes n JOIN note_sources s ON s.note_id = n.id WHERE s.raw_sha256 = ?",
                (raw_sha256,),
            ).fetchone()
        return self._note(row) if row else None

    def note_for_text(self, text_sha256: str) -> Note | None:
        with self._conn() as con:
            row = con.execute("SELECT * FROM notes WHERE text_sha256 = ?", (text_sha256,)).fetchone()
        return self._note(row) if row else None

    def create_note(
        self, *, note_id: str, filename: str, raw_sha256: str, size: int, source: str, stored: bool,
        text: str | None = None, encoding: str | None = None, text_sha256: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> Note:
        now = utcnow()
        try:
            self._insert_note(note_id, filename, raw_sha256, size, source, stored, text, encoding, text_sha256, now,
                              error)
        except sqlite3.IntegrityError as exc:
            raise NoteExists(note_id) from exc
        note = self.get_note(note_id)
        assert note is not None
        return note

    def _insert_note(
        self, note_id: str, filename: str, raw_sha256: str, size: int, source: str, stored: bool,
        text: str | None, encoding: str | None, text_sha256: str | None, now: str, error: tuple[str, str] | None,
    ) -> None:
        # A note that failed on arrival is inserted as failed: no other process may see it as
        # "stored" without text in between.
        status, code, message = ("failed", *error) if error else ("stored", None, None)
        with self._conn() as con:
            con.execute(
                "INSERT INTO notes (id, filename, status, raw_sha256, size, source, text, encoding, text_sha256,"
                " error_code, error_message, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (note_id, filename, status, raw_sha256, size, source, text, encoding, text_sha256, code, message, now, now),
            )
            con.execute(
                "INSERT INTO note_sources (raw_sha256, note_id, filename, size, stored, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (raw_sha256, note_id, filename, size, int(stored), now),
            )

    def link_source(self, raw_sha256: str, note_id: str, filename: str, size: int, stored: bool) -> None:
        with self._conn() as con:
            con.execute(
                "INSERT INTO note_sources (raw_sha256, note_id, filename, size, stored, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (raw_sha256) DO UPDATE SET stored = MAX(stored, excluded.stored)",
                (raw_sha256, note_id, filename, size, int(stored), utcnow()),
            )

    def set_text(self, note_id: str, text: str, encoding: str, text_sha256: str) -> None:
        with self._conn() as con:
            con.execute(
                "UPDATE notes SET text = ?, encoding = ?, text_sha256 = ?, updated_at = ? WHERE id = ?",
                (text, encoding, text_sha256, utcnow(), note_id),
            )

    def set_status(
        self, note_id: str, status: NoteStatus, error_code: str | None = None, error_message: str | None = None
    ) -> None:
        with self._conn() as con:
            con.execute(
                "UPDATE notes SET status = ?, error_code = ?, error_message = ?, updated_at = ?,"
                " attempts = attempts + (? = 'processing') WHERE id = ?",
                (status.value, error_code, error_message, utcnow(), status.value, note_id),
            )

    def claim(self, note_id: str, lease_seconds: float) -> bool:
        now = datetime.now(UTC)
        stale = (now - timedelta(seconds=lease_seconds)).isoformat(timespec="seconds")
        with self._conn() as con:
            cur = con.execute(
                "UPDATE notes SET status = 'processing', attempts = attempts + 1, updated_at = ? WHERE id = ? AND"
                " (status IN ('stored', 'failed') OR (status = 'processing' AND updated_at < ?))",
                (now.isoformat(timespec="seconds"), note_id, stale))
            return cur.rowcount == 1

    def get_note(self, note_id: str) -> Note | None:
        with self._conn() as con:
            row = con.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
        return self._note(row) if row else None

    def list_notes(self, status: NoteStatus | None = None, limit: int = 1000, with_text: bool = True) -> list[Note]:
        # Pickers only need the header columns; note texts stay in the database.
        sql = "SELECT *" if with_text else "SELECT " + ", ".join("NULL AS text" if c == "text" else c for c in _NOTE_COLUMNS)
        sql += " FROM notes"
        args: list[Any] = []
        if status is not None:
            sql += " WHERE status = ?"
            args.append(status.value)
        sql += " ORDER BY COALESCE(visit_date, '') DESC, created_at DESC, id LIMIT ?"
        args.append(limit)
        with self._conn() as con:
            return [self._note(r) for r in con.execute(sql, args)]

    def recent(self, limit: int = 10) -> list[Note]:
        """The notes changed last (processed, failed or reviewed), newest first, without their text."""
        cols = ", ".join("NULL AS text" if c == "text" else c for c in _NOTE_COLUMNS)
        with self._conn() as con:
            return [self._note(r) for r in con.execute(
                f"SELECT {cols} FROM notes ORDER BY updated_at DESC, id LIMIT ?", (limit,))]

    def unreviewed(self, limit: int = 10) -> tuple[int, list[Note]]:
        """How many processed notes no clinician has reviewed yet, and the latest of them."""
        cols = ", ".join("NULL AS text" if c == "text" else "n." + c for c in _NOTE_COLUMNS)
        where = "FROM notes n WHERE n.status = 'done' AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.note_id = n.id)"
        with self._conn() as con:
            total = int(con.execute(f"SELECT COUNT(*) {where}").fetchone()[0])
            rows = con.execute(f"SELECT {cols} {where} ORDER BY n.updated_at DESC, n.id LIMIT ?", (limit,)).fetchall()
        return total, [self._note(r) for r in rows]

    def scan_notes(self, after: str = "", limit: int = 500, with_text: bool = True) -> list[Note]:
        cols = "*" if with_text else ", ".join("NULL AS text" if c == "text" else c for c in _NOTE_COLUMNS)
        with self._conn() as con:
            return [self._note(r) for r in con.execute(
                f"SELECT {cols} FROM notes WHERE id > ? ORDER BY id LIMIT ?", (after, limit))]

    def counts(self) -> dict[str, int]:
        with self._conn() as con:
            out = {s.value: 0 for s in NoteStatus}
            for row in con.execute("SELECT status, COUNT(*) AS n FROM notes GROUP BY status"):
                out[row["status"]] = row["n"]
            out["notes"] = sum(out[s.value] for s in NoteStatus)
            out["entities"] = con.execute("SELECT COUNT(*) FROM current_entities").fetchone()[0]
            out["reviews"] = con.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
            out["extractions"] = con.execute("SELECT COUNT(*) FROM extractions").fetchone()[0]
        return out

    def cache_get(self, key: str) -> tuple[str, str] | None:
        """(result JSON, usage JSON) of a cached LLM call."""
        with self._conn() as con:
            row = con.execute("SELECT result_json, usage_json FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return (row["result_json"], row["usage_json"]) if row else None

    def cache_put(self, key: str, engine: str, model_id: str, prompt_ref: str, result_json: str, usage_json: str) -> None:
        with self._conn() as con:
            con.execute("INSERT OR REPLACE INTO llm_cache VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (key, engine, model_id, prompt_ref, result_json, usage_json, utcnow()))

    # -- extractions and reviews ------------------------------------------------------------

    @staticmethod
    def _entities_json(entities: list[Entity]) -> str:
        return json.dumps([e.model_dump(mode="json") for e in entities], ensure_ascii=False)

    def _replace_current(self, con: sqlite3.Connection, note_id: str, entities: list[Entity], fields: NoteFields) -> None:
        con.execute("DELETE FROM current_entities WHERE note_id = ?", (note_id,))
        con.executemany(
            "INSERT INTO current_entities (note_id, category, text, normalized, code, negated, uncertain,"
            ' historical, family, begin, "end") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [
                (note_id, e.category.value, e.text, e.normalized, e.code, int(e.negated), int(e.uncertain),
                 int(e.historical), int(e.family), e.begin, e.end)
                for e in entities
            ],
        )
        con.execute(
            "UPDATE notes SET visit_date = ?, age = ?, sex = ?, department = ?, summary = ?, updated_at = ? WHERE id = ?",
            (fields.visit_date, fields.age, fields.sex, fields.department, fields.summary, utcnow(), note_id),
        )

    def add_extraction(self, note_id: str, result: ExtractionResult, duration_ms: float) -> Extraction:
        now = utcnow()
        with self._conn() as con:
            version = con.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM extractions WHERE note_id = ?", (note_id,)
            ).fetchone()[0]
            cur = con.execute(
                "INSERT INTO extractions (note_id, version, engine, model_id, prompt_version, created_at, duration_ms,"
                " entities_json, fields_json, usage_json, cached) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (note_id, version, result.engine, result.model_id, result.prompt_version, now, duration_ms,
                 self._entities_json(result.entities), result.fields.model_dump_json(), json.dumps(result.usage),
                 int(result.cached)),
            )
            con.execute("UPDATE notes SET status = 'done', error_code = NULL, error_message = NULL WHERE id = ?",
                        (note_id,))
            # A clinician's review stays in force over any later machine run.
            reviewed = con.execute("SELECT 1 FROM reviews WHERE note_id = ? LIMIT 1", (note_id,)).fetchone()
            if not reviewed:
                self._replace_current(con, note_id, result.entities, result.fields)
            ext_id = int(cur.lastrowid or 0)
        return Extraction(
            id=ext_id, note_id=note_id, version=version, engine=result.engine, model_id=result.model_id,
            prompt_version=result.prompt_version, created_at=now, duration_ms=duration_ms,
            entities=result.entities, fields=result.fields, usage=result.usage, cached=result.cached,
        )

    def extractions(self, note_id: str) -> list[Extraction]:
        with self._conn() as con:
            rows = con.execute("SELECT * FROM extractions WHERE note_id = ? ORDER BY version", (note_id,)).fetchall()
        return [
            Extraction(
                id=r["id"], note_id=r["note_id"], version=r["version"], engine=r["engine"], model_id=r["model_id"],
                prompt_version=r["prompt_version"], created_at=r["created_at"], duration_ms=r["duration_ms"],
                entities=[Entity.model_validate(e) for e in json.loads(r["entities_json"])],
                fields=NoteFields.model_validate_json(r["fields_json"]), usage=json.loads(r["usage_json"]),
                cached=bool(r["cached"]),
            )
            for r in rows
        ]

    def add_review(
        self,
        note_id: str,
        extraction_id: int,
        reviewer: str,
        entities: list[Entity],
        fields: NoteFields,
        changes: dict[str, Any],
        expected_version: int | None = None,
    ) -> Review:
        now = utcnow()
        with self._conn() as con:
            # BEGIN IMMEDIATE: the version check and the insert see no other writer in between.
            con.execute("BEGIN IMMEDIATE")
            version = con.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM reviews WHERE note_id = ?", (note_id,)
            ).fetchone()[0]
            if expected_version is not None and version - 1 != expected_version:
                raise ReviewConflict(note_id, expected_version, version - 1)
            cur = con.execute(
                "INSERT INTO reviews (note_id, extraction_id, version, reviewer, created_at, entities_json, fields_json,"
                " changes_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (note_id, extraction_id, version, reviewer, now, self._entities_json(entities),
                 fields.model_dump_json(), json.dumps(changes, ensure_ascii=False)),
            )
            self._replace_current(con, note_id, entities, fields)
            review_id = int(cur.lastrowid or 0)
        return Review(
            id=review_id, note_id=note_id, extraction_id=extraction_id, version=version, reviewer=reviewer,
            created_at=now, entities=entities, fields=fields, changes=changes,
        )

    def reviews(self, note_id: str) -> list[Review]:
        with self._conn() as con:
            rows = con.execute("SELECT * FROM reviews WHERE note_id = ? ORDER BY version", (note_id,)).fetchall()
        return [
            Review(
                id=r["id"], note_id=r["note_id"], extraction_id=r["extraction_id"], version=r["version"],
                reviewer=r["reviewer"], created_at=r["created_at"],
                entities=[Entity.model_validate(e) for e in json.loads(r["entities_json"])],
                fields=NoteFields.model_validate_json(r["fields_json"]),
                changes=json.loads(r["changes_json"]),
            )
            for r in rows
        ]

    # -- migration (services/migrate.py) -----------------------------------------------------

    def export_note(self, note_id: str) -> NoteBundle | None:
        """The note with its sources and every version, as import_note takes it."""
        note = self.get_note(note_id)
        if note is None:
            return None
        with self._conn() as con:
            text_sha = con.execute("SELECT text_sha256 FROM notes WHERE id = ?", (note_id,)).fetchone()[0]
            sources = [SourceRecord(r["raw_sha256"], r["note_id"], r["filename"], r["size"], bool(r["stored"]),
                                    r["received_at"])
                       for r in con.execute("SELECT * FROM note_sources WHERE note_id = ? ORDER BY received_at, raw_sha256",
                                            (note_id,))]
        return NoteBundle(note=note, text_sha256=text_sha, sources=sources, extractions=self.extractions(note_id),
                          reviews=self.reviews(note_id))

    def import_note(self, bundle: NoteBundle) -> bool:
        """Write a note as another store has it (ids, versions, timestamps kept), in one transaction. False when
        it is here with every version already."""
        note, fields = bundle.note, bundle.note.fields
        in_force = bundle.in_force()
        with self._conn() as con:
            con.execute("BEGIN IMMEDIATE")
            have = con.execute(
                "SELECT (SELECT COALESCE(MAX(version), 0) FROM extractions WHERE note_id = ?),"
                " (SELECT COALESCE(MAX(version), 0) FROM reviews WHERE note_id = ?),"
                " EXISTS (SELECT 1 FROM notes WHERE id = ?)", (note.id, note.id, note.id)).fetchone()
            if have[2] and have[0] >= bundle.extraction_version and have[1] >= bundle.review_version:
                return False
            con.execute(
                f"INSERT INTO notes ({', '.join(_IMPORT_COLUMNS)}) VALUES ({', '.join('?' * len(_IMPORT_COLUMNS))})"
                " ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _IMPORT_COLUMNS[1:]),
                (note.id, note.filename, note.status.value, note.text, note.encoding, bundle.text_sha256,
                 note.raw_sha256, note.size, note.error_code, note.error_message, note.source, note.attempts,
                 fields.visit_date, fields.age, fields.sex, fields.department, fields.summary, note.created_at,
                 note.updated_at))
            con.executemany(
                "INSERT OR IGNORE INTO note_sources (raw_sha256, note_id, filename, size, stored, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(s.raw_sha256, s.note_id, s.filename, s.size, int(s.stored), s.received_at) for s in bundle.sources])
            con.executemany(
                "INSERT OR IGNORE INTO extractions (id, note_id, version, engine, model_id, prompt_version, created_at,"
                " duration_ms, entities_json, fields_json, usage_json, cached) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(e.id, note.id, e.version, e.engine, e.model_id, e.prompt_version, e.created_at, e.duration_ms,
                  self._entities_json(e.entities), e.fields.model_dump_json(), json.dumps(e.usage), int(e.cached))
                 for e in bundle.extractions])
            con.executemany(
                "INSERT OR IGNORE INTO reviews (id, note_id, extraction_id, version, reviewer, created_at, entities_json,"
                " fields_json, changes_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.id, note.id, r.extraction_id, r.version, r.reviewer, r.created_at, self._entities_json(r.entities),
                  r.fields.model_dump_json(), json.dumps(r.changes, ensure_ascii=False)) for r in bundle.reviews])
            if in_force is not None:
                # The note row already carries its fields and updated_at: only the entity rows are replaced.
                con.execute("DELETE FROM current_entities WHERE note_id = ?", (note.id,))
                con.executemany(
                    "INSERT INTO current_entities (note_id, category, text, normalized, code, negated, uncertain,"
                    ' historical, family, begin, "end") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                    [(note.id, e.category.value, e.text, e.normalized, e.code, int(e.negated), int(e.uncertain),
                      int(e.historical), int(e.family), e.begin, e.end) for e in in_force[0]])
        return True

    def cache_scan(self) -> Iterator[CacheEntry]:
        """Every LLM cache entry, in key order (migration)."""
        after = ""
        while True:
            with self._conn() as con:
                rows = con.execute("SELECT key, engine, model_id, prompt_ref, result_json, usage_json FROM llm_cache"
                                   " WHERE key > ? ORDER BY key LIMIT 200", (after,)).fetchall()
            if not rows:
                return
            for r in rows:
                yield (r[0], r[1], r[2], r[3], r[4], r[5])
            after = rows[-1][0]
