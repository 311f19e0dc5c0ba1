"""Recordings become notes: the original audio is stored first, checked and decoded, transcribed by the
configured engine (services/transcription), and the transcript becomes the note's text, which then goes
through the normal extraction. Failures are recorded on the note with a code and can be retried; one
bad file never stops a batch (each call returns its outcome instead of raising).

The user can name the speakers and correct the transcript: a correction is a new transcript version and
a new text for the note, and the extraction is re-run (earlier versions are kept).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.domain import Entity, Note, NoteStatus
from services.errors import ErrorCode, NoteLensError
from services.notes import IngestOutcome, NoteService, sha256
from services.store import NoteExists
from services.transcription import ProgressFn, Segment, Transcriber, Transcript, join_segments
from services.transcription.audio import check_audio, is_audio_name, mime_for
from services.transcription.store import TranscriptStore, TranscriptVersion

log = logging.getLogger(__name__)

SOURCE = "audio"  # the notes.source of every recording


@dataclass
class RecordingView:
    """An audio note's current transcript with its segments, the names given to its speakers, and
    every earlier version."""

    note_id: str
    transcript: TranscriptVersion
    versions: list[TranscriptVersion]
    speakers: dict[str, str] = field(default_factory=dict)

    @property
    def segments(self) -> list[Segment]:
        return self.transcript.segments

    @property
    def mime(self) -> str:
        return self.transcript.media_type

    def speaker_name(self, label: str | None) -> str:
        if not label:
            return ""
        return self.speakers.get(label, label)

    def segment_at(self, offset: int) -> int | None:
        """The index of the segment holding character ``offset`` of the note text."""
        for i, (begin, end) in enumerate(self.transcript.spans):
            if begin <= offset <= end and end > begin:
                return i
        return None

    def time_of(self, entity: Entity) -> float | None:
        """Where in the recording an entity was said (its segment's start)."""
        if not entity.grounded:
            return None
        i = self.segment_at(entity.begin)
        return self.segments[i].start if i is not None else None

    def labels(self) -> list[str]:
        return sorted({s.speaker for s in self.segments if s.speaker})


def _text_key(data: bytes, text: str) -> str:
    """The note's text hash, salted with the recording's: recordings are deduplicated by their audio, so two
    recordings that happen to say the same words (a short "네.") are two notes, not one."""
    return sha256(f"audio:{sha256(data)}\n{text}".encode())


class RecordingService:
    def __init__(self, notes: NoteService, transcripts: TranscriptStore, transcriber: Callable[[], Transcriber],
                 max_audio_bytes: int, max_audio_seconds: float) -> None:
        self.notes = notes
        self.transcripts = transcripts
        self._transcriber = transcriber  # built on first use: the model is loaded, or the clients made, then
        self.max_audio_bytes = max_audio_bytes
        self.max_audio_seconds = max_audio_seconds

    @staticmethod
    def handles(filename: str) -> bool:
        return is_audio_name(filename)

    def _changed(self, note_id: str) -> None:
        if self.notes.on_change is not None:
            self.notes.on_change(note_id)

    # -- ingest -----------------------------------------------------------------------------------

    def ingest(self, filename: str, data: bytes, source: str = "upload", process: bool = True,
               progress: ProgressFn | None = None) -> IngestOutcome:
        store = self.notes.store
        raw = sha256(data)
        existing = store.note_for_source(raw)
        if existing is not None and existing.status is not NoteStatus.FAILED:
            return IngestOutcome(existing, duplicate=True)
        if len(data) > self.max_audio_bytes:
            err = NoteLensError(ErrorCode.TOO_LARGE, f"The recording is {len(data):,} bytes; the limit is "
                                                     f"{self.max_audio_bytes:,} (NOTELENS_MAX_AUDIO_BYTES).")
            if existing is not None:
                store.set_status(existing.id, NoteStatus.FAILED, err.code, err.message)
                return IngestOutcome(self.notes._get(existing.id), error=err)
            return IngestOutcome(self._create_failed(raw, filename, len(data), False, err), error=err)
        self.notes.blobs.put(data)  # the original is kept before anything else can fail
        if existing is not None:
            store.link_source(raw, existing.id, filename, len(data), stored=True)
            return self.retry(existing.id, process=process, progress=progress, origin=source)
        try:
            note = store.create_note(note_id=raw[:12], filename=filename, raw_sha256=raw, size=len(data), source=SOURCE,
                                     stored=True)
        except NoteExists:  # another batch worker stored the same recording a moment ago
            twin = store.note_for_source(raw)
            if twin is None:
                raise
            return IngestOutcome(twin, duplicate=True)
        return self._transcribe(note.id, filename, data, source, process, progress)

    def _create_failed(self, raw: str, filename: str, size: int, stored: bool, err: NoteLensError) -> Note:
        try:
            return self.notes.store.create_note(note_id=raw[:12], filename=filename, raw_sha256=raw, size=size,
                                                source=SOURCE, stored=stored, error=(err.code.value, err.message))
        except NoteExists:
            return self.notes._get(raw[:12])

    def _fail(self, note_id: str, err: NoteLensError) -> IngestOutcome:
        self.notes.store.set_status(note_id, NoteStatus.FAILED, err.code, err.message)
        self._changed(note_id)
        return IngestOutcome(self.notes._get(note_id), error=err)

    def _transcribe(self, note_id: str, filename: str, data: bytes, origin: str, process: bool,
                    progress: ProgressFn | None) -> IngestOutcome:
        store = self.notes.store
        store.set_status(note_id, NoteStatus.PROCESSING)
        # Transcription takes most of the time; extraction the last few percent.
        share = 0.9 if process else 1.0
        try:
            audio = check_audio(filename, data, self.max_audio_seconds)
            transcriber = self._transcriber()
            transcript = transcriber.transcribe(audio, None if progress is None else (lambda p: progress(share * p)))
        except NoteLensError as err:
            log.warning("recording %s not transcribed: %s", note_id, err.code.value)
            return self._fail(note_id, err)
        except Exception as exc:  # an engine failure must not lose the note
            log.warning("recording %s: transcription failed: %s", note_id, type(exc).__name__)
            log.debug("transcription failure detail", exc_info=True)
            return self._fail(note_id, NoteLensError(ErrorCode.TRANSCRIPTION_FAILED, f"{type(exc).__name__}: {exc}"))
        text = transcript.text
        store.set_text(note_id, text, audio.mime, _text_key(data, text))
        self.transcripts.add(note_id, transcript, audio.mime, origin=origin)
        log.info("recording %s transcribed: %.1f s, %d segments", note_id, transcript.duration, len(transcript.segments))
        if not process:
            store.set_status(note_id, NoteStatus.STORED)
            self._changed(note_id)
            return IngestOutcome(self.notes._get(note_id))
        outcome = self.notes.process(note_id)
        if progress is not None:
            progress(1.0)
        return outcome

    def retry(self, note_id: str, process: bool = True, progress: ProgressFn | None = None,
              origin: str = "retry") -> IngestOutcome:
        """Transcribe a failed recording again from its stored original (or only extract, when the
        transcript is already there)."""
        note = self.notes._get(note_id)
        if note.text is not None:
            return self.notes.process(note_id) if process else IngestOutcome(note)
        data = self.notes.blobs.get(note.raw_sha256)
        if data is None:
            err = NoteLensError(ErrorCode.ORIGINAL_MISSING,
                                "The original recording was not stored (too large?); upload it again.")
            return IngestOutcome(note, error=err)
        return self._transcribe(note_id, note.filename, data, origin, process, progress)

    # -- reading ----------------------------------------------------------------------------------

    def view(self, note_id: str) -> RecordingView | None:
        """None for a note that did not come from a recording (or has no transcript yet)."""
        versions = self.transcripts.versions(note_id)
        if not versions:
            return None
        return RecordingView(note_id, versions[-1], versions, self.transcripts.speakers(note_id))

    def audio(self, note_id: str) -> tuple[bytes, str] | None:
        """The original recording and its MIME type, for the player."""
        note = self.notes._get(note_id)
        data = self.notes.blobs.get(note.raw_sha256)
        return (data, mime_for(note.filename)) if data is not None else None

    def segments(self, note_id: str) -> list[dict[str, Any]]:
        """The current segments with the speakers' names (for a batch .out or an export)."""
        view = self.view(note_id)
        if view is None:
            return []
        spans = view.transcript.spans
        return [dict(s.as_dict(), speaker_name=view.speaker_name(s.speaker) or None, begin=b, end=e)
                for s, (b, e) in zip(view.segments, spans, strict=True)]

    # -- corrections ------------------------------------------------------------------------------

    def name_speakers(self, note_id: str, names: dict[str, str]) -> None:
        self.transcripts.set_speakers(note_id, names)
        self._changed(note_id)

    def correct(self, note_id: str, author: str, rows: list[dict[str, Any]],
                speakers: dict[str, str] | None = None) -> IngestOutcome | None:
        """Save speaker names and, when the segments' words changed, a new transcript version that becomes
        the note's text; the extraction is then re-run (earlier versions kept). ``rows`` are the segments
        as the editor returns them (start, end, speaker, text). Returns None when only names changed."""
        author = author.strip()
        if not author:
            raise ValueError("A name is required to correct a transcript.")
        view = self.view(note_id)
        if view is None:
            raise ValueError("This note has no transcript.")
        if speakers:
            self.name_speakers(note_id, speakers)
        segments = [
            Segment(float(r.get("start") or 0.0), float(r.get("end") or 0.0), " ".join(str(r.get("text") or "").split()),
                    (str(r["speaker"]).strip() or None) if r.get("speaker") not in (None, "") else None)
            for r in rows
        ]
        segments = [s for s in segments if s.text]
        text, _ = join_segments(segments)
        same_words = text == view.transcript.text
        same_speakers = [s.speaker for s in segments] == [s.speaker for s in view.segments]
        if same_words and same_speakers:
            return None
        if not text.strip():
            raise ValueError("The corrected transcript is empty.")
        if same_words:  # only who said what changed: a new version, no new extraction
            self._add_version(note_id, view, segments, author)
            return None
        if self.notes.store.reviews(note_id):
            raise ValueError("This note's entities were already reviewed against the current transcript; "
                             "correct the transcript before the review.")
        raw = self.notes._get(note_id).raw_sha256
        self.notes.store.set_text(note_id, text, view.mime, sha256(f"audio:{raw}\n{text}".encode()))
        self._add_version(note_id, view, segments, author)
        return self.notes.process(note_id)

    def _add_version(self, note_id: str, view: RecordingView, segments: list[Segment], author: str) -> None:
        current = view.transcript
        self.transcripts.add(
            note_id, Transcript(segments=segments, engine=current.engine, model=current.model, language=current.language,
                                duration=current.duration), current.media_type, origin="correction", author=author)
        self._changed(note_id)
