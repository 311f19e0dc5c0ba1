"""Checking and decoding uploaded recordings, or refusing them with a clear error code.

Decoding is PyAV (FFmpeg, installed with faster-whisper) into 16 kHz mono float32, which is what Whisper
takes; the same check runs before a file goes to Amazon Transcribe, so a corrupt, truncated, silent or
over-long recording is refused here, with its original kept, instead of failing in the cloud.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import numpy.typing as npt

from services.errors import ErrorCode, NoteLensError

SAMPLE_RATE = 16_000

#: Accepted recording types: suffix → (MIME type for the player, MediaFormat for Amazon Transcribe).
AUDIO_TYPES: dict[str, tuple[str, str]] = {
    ".mp3": ("audio/mpeg", "mp3"),
    ".wav": ("audio/wav", "wav"),
    ".m4a": ("audio/mp4", "mp4"),
    ".ogg": ("audio/ogg", "ogg"),
    ".webm": ("audio/webm", "webm"),
}

# Below this RMS level (about -60 dBFS) over the whole recording there is nothing to transcribe.
SILENCE_RMS = 1e-3


def is_audio_name(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in AUDIO_TYPES


@dataclass(frozen=True)
class CheckedAudio:
    """A recording that decoded: its original bytes and suffix, and 16 kHz mono samples."""

    data: bytes
    suffix: str
    samples: npt.NDArray[np.float32]

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def mime(self) -> str:
        return AUDIO_TYPES[self.suffix][0]

    @property
    def media_format(self) -> str:
        return AUDIO_TYPES[self.suffix][1]


def mime_for(filename: str) -> str:
    return AUDIO_TYPES.get(PurePath(filename).suffix.lower(), ("application/octet-stream", ""))[0]


def check_audio(filename: str, data: bytes, max_seconds: float) -> CheckedAudio:
    """Decode a recording, or raise NoteLensError: UNSUPPORTED_TYPE, EMPTY_FILE, AUDIO_CORRUPT,
    AUDIO_TRUNCATED, UNSUPPORTED_CODEC, AUDIO_TOO_LONG or AUDIO_SILENT."""
    import av  # FFmpeg bindings: imported on first use, not when the app starts

    suffix = PurePath(filename).suffix.lower()
    if suffix not in AUDIO_TYPES:
        raise NoteLensError(ErrorCode.UNSUPPORTED_TYPE,
                            f"'{suffix or 'no extension'}' is not a supported recording; use {', '.join(AUDIO_TYPES)}.")
    if not data:
        raise NoteLensError(ErrorCode.EMPTY_FILE, "The recording is empty.")
    _check_wav_header(suffix, data)
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise NoteLensError(ErrorCode.AUDIO_CORRUPT,
                            f"The file cannot be read as {suffix[1:]} audio (corrupt or not a recording).") from exc
    with container:
        if not container.streams.audio:
            raise NoteLensError(ErrorCode.UNSUPPORTED_CODEC, "The file has no audio track that can be decoded.")
        stream = container.streams.audio[0]
        declared = _declared_seconds(container, stream)
        if declared is not None and declared > max_seconds:
            raise _too_long(declared, max_seconds)
        samples = _decode(av, container, stream, max_seconds)
    seconds = len(samples) / SAMPLE_RATE
    if seconds > max_seconds:
        raise _too_long(seconds, max_seconds)
    if seconds < 0.1:
        raise NoteLensError(ErrorCode.AUDIO_CORRUPT, "No audio could be decoded from the file (corrupt or empty).")
    if declared is not None and declared - seconds > max(1.0, 0.1 * declared):
        raise NoteLensError(ErrorCode.AUDIO_TRUNCATED,
                            f"The recording is cut off: its header says {declared:.1f} s but only {seconds:.1f} s "
                            "could be decoded. Upload the complete file.")
    if float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) < SILENCE_RMS:
        raise NoteLensError(ErrorCode.AUDIO_SILENT, f"The recording ({seconds:.1f} s) is silent: nothing to transcribe.")
    return CheckedAudio(data=data, suffix=suffix, samples=samples)


def _too_long(seconds: float, max_seconds: float) -> NoteLensError:
    return NoteLensError(ErrorCode.AUDIO_TOO_LONG,
                         f"The recording is {seconds / 60:.1f} min; the limit is {max_seconds / 60:.1f} min "
                         "(NOTELENS_MAX_AUDIO_SECONDS). Split it and upload the parts.")


def _declared_seconds(container: Any, stream: Any) -> float | None:
    """The length the file's headers claim (used to find cut-off files and to refuse long ones early)."""
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return None


def _check_wav_header(suffix: str, data: bytes) -> None:
    # FFmpeg takes a WAV's length from the file size, so a cut-off WAV would decode without complaint;
    # its data chunk still says how many bytes there should have been.
    if suffix != ".wav" or len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"data":
            have = len(data) - pos - 8
            if size not in (0, 0xFFFFFFFF) and have < size * 0.98:
                raise NoteLensError(ErrorCode.AUDIO_TRUNCATED,
                                    f"The WAV file is cut off: {have:,} of {size:,} bytes of audio are there. "
                                    "Upload the complete file.")
            return
        pos += 8 + size + (size & 1)


def _decode(av: Any, container: Any, stream: Any, max_seconds: float) -> npt.NDArray[np.float32]:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[npt.NDArray[np.int16]] = []
    have = 0
    limit = int((max_seconds + 1) * SAMPLE_RATE)
    decoded_any = False
    try:
        for frame in container.decode(stream):
            decoded_any = True
            for out in resampler.resample(frame):
                arr = out.to_ndarray().reshape(-1)
                chunks.append(arr)
                have += len(arr)
            if have > limit:
                break  # over the limit: the caller refuses it; no need to decode the rest
    except (av.error.InvalidDataError, av.error.EOFError):
        pass  # a damaged frame ends decoding; a cut-off file is caught by the length check
    except av.error.FFmpegError as exc:
        if not decoded_any:
            raise NoteLensError(ErrorCode.UNSUPPORTED_CODEC,
                                f"The audio codec ({stream.codec_context.name}) cannot be decoded here.") from exc
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return (np.concatenate(chunks).astype(np.float32) / 32768.0).astype(np.float32)
