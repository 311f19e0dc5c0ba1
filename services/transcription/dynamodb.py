"""Transcript versions and speaker names in the DynamoDB table (backend aws), in the note's own partition:
``NOTE#<id> / TRN#<version:06d>`` (text and segments compressed, in S3 when large) and ``NOTE#<id> / SPK#<label>``."""

from __future__ import annotations

import json
from typing import Any

from services.domain import utcnow
from services.store.dynamodb import DynamoDBStore
from services.transcription import Segment, Transcript
from services.transcription.store import TranscriptVersion


class DynamoDBTranscripts:
    def __init__(self, store: DynamoDBStore) -> None:
        self.store = store

    def _item(self, note_id: str, v: TranscriptVersion) -> dict[str, Any]:
        segments = json.dumps([s.as_dict() for s in v.segments], ensure_ascii=False)
        return {"PK": f"NOTE#{note_id}", "SK": f"TRN#{v.version:06d}", "id": v.id, "note_id": note_id,
                "version": v.version, "engine": v.engine, "model": v.model, "language": v.language,
                "duration_s": float(v.duration), "author": v.author, "origin": v.origin, "media_type": v.media_type,
                "created_at": v.created_at, **self.store.pack("text", v.text), **self.store.pack("segments", segments)}

    def add(self, note_id: str, transcript: Transcript, media_type: str, origin: str = "upload",
            author: str | None = None) -> TranscriptVersion:
        row_id = self.store.next_id("transcript")
        while True:
            latest = next(iter(self.store.partition(f"NOTE#{note_id}", "TRN#", forward=False)), None)
            version = int(latest["version"]) + 1 if latest else 1
            made = TranscriptVersion(row_id, note_id, version, transcript.engine, transcript.model, transcript.language,
                                     transcript.duration, author, origin, media_type, transcript.text,
                                     list(transcript.segments), utcnow())
            # Conditional on the version being new: two corrections at once get consecutive versions.
            if self.store.put_new(self._item(note_id, made)):
                return made

    def versions(self, note_id: str) -> list[TranscriptVersion]:
        out = []
        for item in self.store.partition(f"NOTE#{note_id}", "TRN#"):
            out.append(TranscriptVersion(
                id=item["id"], note_id=note_id, version=item["version"], engine=item["engine"], model=item.get("model"),
                language=item.get("language"), duration=float(item.get("duration_s", 0.0)), author=item.get("author"),
                origin=item.get("origin", "upload"), media_type=item["media_type"],
                text=self.store.unpack(item, "text") or "",
                segments=[Segment.from_dict(d) for d in json.loads(self.store.unpack(item, "segments") or "[]")],
                created_at=item["created_at"]))
        return out

    def speakers(self, note_id: str) -> dict[str, str]:
        return {str(i["SK"]).removeprefix("SPK#"): str(i["name"])
                for i in self.store.partition(f"NOTE#{note_id}", "SPK#")}

    def set_speakers(self, note_id: str, names: dict[str, str]) -> None:
        puts = [{"PK": f"NOTE#{note_id}", "SK": f"SPK#{label}", "name": name.strip()}
                for label, name in names.items() if name.strip()]
        deletes = [{"PK": f"NOTE#{note_id}", "SK": f"SPK#{label}"} for label, name in names.items() if not name.strip()]
        self.store.batch_write(puts=puts, deletes=deletes)

    def import_versions(self, note_id: str, versions: list[TranscriptVersion]) -> int:
        written = sum(self.store.put_new(self._item(note_id, v)) for v in versions)
        if versions:
            self.store.raise_seq("transcript", max(v.id for v in versions))
        return written

