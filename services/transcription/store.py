"""Transcript versions and speaker names in the notes database (migration 007)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from services.domain import utcnow
from services.store.sqlite import SQLiteStore
from services.transcription import Segment, Transcript, join_segments


@dataclass
class TranscriptVersion:
    id: int
    note_id: str
    version: int
    engine: str
    model: str | None
    language: str | None
    duration: float
    author: str | None  # None: the engine's own transcript
    origin: str
    media_type: str
    text: str
    segments: list[Segment]
    created_at: str

    @property
    def spans(self) -> list[tuple[int, int]]:
        return join_segments(self.segments)[1]


class TranscriptStore(Protocol):
    """Transcript versions and speaker names of notes: SQLite (here) or DynamoDB (services/transcription/dynamodb.py)."""

    def add(self, note_id: str, transcript: Transcript, media_type: str, origin: str = "upload",
            author: str | None = None) -> TranscriptVersion: ...
    def versions(self, note_id: str) -> list[TranscriptVersion]: ...
    def speakers(self, note_id: str) -> dict[str, str]: ...
    def set_speakers(self, note_id: str, names: dict[str, str]) -> None: ...
    def import_versions(self, note_id: str, versions: list[TranscriptVersion]) -> int:
        """Write versions as they are in another store (ids, versions, times); those already here are skipped.
        Returns how many were written (migration)."""
        ...


class SQLiteTranscripts:
    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def add(self, note_id: str, transcript: Transcript, media_type: str, origin: str = "upload",
            author: str | None = None) -> TranscriptVersion:
        now = utcnow()
        text = transcript.text
        segments_json = json.dumps([s.as_dict() for s in transcript.segments], ensure_ascii=False)
        with self.store.connection() as con:
            version = int(con.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM transcripts WHERE note_id = ?",
                                      (note_id,)).fetchone()[0])
            cur = con.execute(
                "INSERT INTO transcripts (note_id, version, engine, model, language, duration_s, author, origin,"
                " media_type, text, segments_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (note_id, version, transcript.engine, transcript.model, transcript.language, transcript.duration,
                 author, origin, media_type, text, segments_json, now),
            )
            row_id = int(cur.lastrowid or 0)
        return TranscriptVersion(row_id, note_id, version, transcript.engine, transcript.model, transcript.language,
                                 transcript.duration, author, origin, media_type, text, list(transcript.segments), now)

    def versions(self, note_id: str) -> list[TranscriptVersion]:
        with self.store.connection() as con:
            rows = con.execute("SELECT * FROM transcripts WHERE note_id = ? ORDER BY version", (note_id,)).fetchall()
        return [self._version(r) for r in rows]

    @staticmethod
    def _version(r: Any) -> TranscriptVersion:
        return TranscriptVersion(
            id=r["id"], note_id=r["note_id"], version=r["version"], engine=r["engine"], model=r["model"],
            language=r["language"], duration=r["duration_s"], author=r["author"], origin=r["origin"],
            media_type=r["media_type"], text=r["text"],
            segments=[Segment.from_dict(d) for d in json.loads(r["segments_json"])], created_at=r["created_at"],
        )

    def speakers(self, note_id: str) -> dict[str, str]:
        with self.store.connection() as con:
            rows = con.execute("SELECT label, name FROM transcript_speakers WHERE note_id = ? ORDER BY label",
                               (note_id,)).fetchall()
        return {r["label"]: r["name"] for r in rows}

    def set_speakers(self, note_id: str, names: dict[str, str]) -> None:
        with self.store.connection() as con:
            for label, name in names.items():
                if name.strip():
                    con.execute("INSERT INTO transcript_speakers VALUES (?, ?, ?) ON CONFLICT (note_id, label)"
                                " DO UPDATE SET name = excluded.name", (note_id, label, name.strip()))
                else:
                    con.execute("DELETE FROM transcript_speakers WHERE note_id = ? AND label = ?", (note_id, label))

    def import_versions(self, note_id: str, versions: list[TranscriptVersion]) -> int:
        written = 0
        with self.store.connection() as con:
            for v in versions:
                cur = con.execute(
                    "INSERT OR IGNORE INTO transcripts (id, note_id, version, engine, model, language, duration_s, author,"
                    " origin, media_type, text, segments_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (v.id, note_id, v.version, v.engine, v.model, v.language, v.duration, v.author, v.origin,
                     v.media_type, v.text, json.dumps([s.as_dict() for s in v.segments], ensure_ascii=False),
                     v.created_at))
                written += cur.rowcount
        return written
