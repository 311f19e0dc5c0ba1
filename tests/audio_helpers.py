"""Recordings for tests: the real Korean dictation from ../shared, generated WAVs, and a stand-in
transcriber for tests about the workflow rather than about speech recognition."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from services.errors import ErrorCode, NoteLensError
from services.transcription import ProgressFn, Segment, Transcript
from services.transcription.audio import CheckedAudio

ROOT = Path(__file__).resolve().parent.parent
DICTATION = ROOT.parent / "shared" / "fixtures" / "audio" / "p56789-1.mp3"


def wav(seconds: float = 2.0, amplitude: float = 0.3, rate: int = 16_000, freq: float = 220.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    samples = (amplitude * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def video_only_webm() -> bytes:
    """A WebM with a video track and no audio (what a screen recording exported by mistake looks like)."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


SEGMENTS = [
    ("기침이 계속 나요.", "spk_1"),
    ("열은 좀 내렸나요?", "spk_0"),
    ("타이레놀 500mg 처방하겠습니다.", "spk_0"),
]


class FakeTranscriber:
    """Says the same three timed sentences (two speakers) for any recording, spread over its length; fails
    the first ``fail`` calls the way an engine would."""

    name = "fake"

    def __init__(self, fail: int = 0, segments: list[tuple[str, str]] | None = None) -> None:
        self.fail = fail
        self.calls = 0
        self.segments = segments if segments is not None else SEGMENTS

    def describe(self) -> str:
        return "fake (tests)"

    def transcribe(self, audio: CheckedAudio, progress: ProgressFn | None = None) -> Transcript:
        self.calls += 1
        if self.calls <= self.fail:
            raise NoteLensError(ErrorCode.TRANSCRIPTION_FAILED, "engine unavailable")
        step = audio.duration / max(len(self.segments), 1)
        out = []
        for i, (text, speaker) in enumerate(self.segments):
            out.append(Segment(i * step, (i + 1) * step, text, speaker))
            if progress is not None:
                progress((i + 1) / len(self.segments))
        return Transcript(segments=out, engine=self.name, model="test", language="ko", duration=audio.duration)
