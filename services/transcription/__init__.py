"""Transcription port: one small interface, two adapters chosen by configuration in services/wiring.py.

- ``whisper``: faster-whisper on the CPU (embedded default), a model name or a local CTranslate2 folder;
- ``transcribe``: Amazon Transcribe (ko-KR, or Transcribe Medical for en-US) through S3.

Both take audio that services/transcription/audio.py has already checked and decoded, and return the
same :class:`Transcript`: the text and its timed segments (with a speaker label where the engine has one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.transcription.audio import CheckedAudio

#: Told the fraction of the recording transcribed so far (0.0 … 1.0), as segments come in.
ProgressFn = Callable[[float], None]


@dataclass
class Segment:
    start: float  # seconds from the start of the recording
    end: float
    text: str
    speaker: str | None = None  # the engine's label (spk_0, spk_1…); names are kept per note (services/recordings.py)

    def as_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text, "speaker": self.speaker}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Segment:
        speaker = d.get("speaker")
        return Segment(float(d["start"]), float(d["end"]), str(d["text"]), str(speaker) if speaker else None)


@dataclass
class Transcript:
    segments: list[Segment]
    engine: str
    model: str | None = None
    language: str | None = None
    duration: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return join_segments(self.segments)[0]


def join_segments(segments: list[Segment]) -> tuple[str, list[tuple[int, int]]]:
    """The note text (one line per segment) and each segment's character span in it, so an entity found
    in the text leads back to a time in the recording."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for seg in segments:
        text = " ".join(seg.text.split())
        if not text:
            spans.append((pos, pos))
            continue
        if parts:
            pos += 1  # the newline
        spans.append((pos, pos + len(text)))
        parts.append(text)
        pos += len(text)
    return "\n".join(parts), spans


class Transcriber(Protocol):
    name: str

    def describe(self) -> str:
        """What the app's backends() shows: engine and model or bucket."""
        ...

    def transcribe(self, audio: CheckedAudio, progress: ProgressFn | None = None) -> Transcript: ...
