"""Local transcription with faster-whisper (CTranslate2, CPU int8): Korean, VAD, timestamps per segment,
an initial prompt of clinical words, progress as segments come in.

By default the speech the VAD finds is cut at pauses into windows of at most 15 s, which are encoded at their
own length (not padded to Whisper's 30 s) and decoded in batches, one decoder per core, where faster-whisper's
30-second windows one after the other mostly keep one core busy. Each window's sentences are timed by the pauses
inside it. ``word_timestamps`` switches to faster-whisper's own decoding with a
time for every word (about 4-5x slower).

The model is a size name or a local CTranslate2 folder (``NOTELENS_WHISPER_MODEL``). Closed hospital
networks have no internet, so nothing is ever downloaded: a name is looked up in the folders that
``scripts/assemble_whisper_base.py`` fills, then in the Hugging Face cache with ``local_files_only``.
The model is loaded on first use and once per process (and per model, device and thread count).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from services.errors import ErrorCode, NoteLensError
from services.transcription import ProgressFn, Segment, Transcript
from services.transcription.audio import SAMPLE_RATE, CheckedAudio
from services.transcription.terms import whisper_prompt

log = logging.getLogger(__name__)

_SENTENCE_END = (".", "?", "!", "。")
_SENTENCE_BREAK = re.compile(r"(?<=[.?!。])\s+")
#: Longest window of speech decoded as one piece. Shorter windows lose context (on the dictation, 6-10 s
#: windows misheard words and looped on a lone short phrase); longer ones take more decoder steps in turn.
WINDOW_S = 15.0
BATCH = 8  # windows per decoder at once (greedy, 2-minute recording: 20% less CPU time than one by one)
#: faster-whisper's own limits: above this compression ratio a decoding is a loop; below the no-speech and
#: log-probability thresholds together, a window is silence the VAD let through.
_MAX_COMPRESSION = 2.4
_NO_SPEECH, _LOW_LOGPROB = 0.6, -1.0
_TOKENS_PER_S = 12  # about 3x the dictation's 4.5 tokens/s: a decoding still going past this is looping
_models: dict[tuple[str, str, int, int], Any] = {}
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


@dataclass(frozen=True)
class Window:
    """A stretch of speech decoded as one piece: from the first VAD region's start to the last one's end;
    ``starts`` are where each region (speech after a pause) starts."""

    start: float
    end: float
    starts: tuple[float, ...]


def speech_windows(regions: list[tuple[float, float]], longest: float = WINDOW_S) -> list[Window]:
    """VAD speech regions (seconds, in order) grouped into windows of at most ``longest`` seconds, cut only
    at pauses; a region longer than that is a window of its own (the VAD already splits at ``longest``)."""
    windows: list[Window] = []
    for start, end in regions:
        if windows and end - windows[-1].start <= longest:
            last = windows[-1]
            windows[-1] = Window(last.start, end, (*last.starts, start))
        else:
            windows.append(Window(start, end, (start,)))
    return windows


def timed_sentences(text: str, window: Window) -> list[Segment]:
    """A window's text as one segment per sentence. A sentence boundary is first placed by its share of the
    characters, then moved to the nearest pause (a VAD region's start) when that pause is also nearer to this
    boundary than to any other: sentences mostly end where the speaker pauses, and a mention then plays from
    the start of its sentence without timing every word."""
    parts = [p for p in _SENTENCE_BREAK.split(text.strip()) if p]
    if len(parts) <= 1:
        return [Segment(window.start, window.end, parts[0])] if parts else []
    span, total = window.end - window.start, sum(len(p) for p in parts)
    guesses, seen = [], 0
    for part in parts[:-1]:
        seen += len(part)
        guesses.append(window.start + span * seen / total)
    pauses = window.starts[1:]
    bounds = [window.start]
    for guess in guesses:
        time = guess
        if pauses:
            pause = min(pauses, key=lambda p: abs(p - guess))
            if min(guesses, key=lambda g: abs(g - pause)) == guess:
                time = pause
        bounds.append(min(window.end, max(bounds[-1], time)))
    bounds.append(window.end)
    return [Segment(bounds[i], bounds[i + 1], part) for i, part in enumerate(parts)]


def looping(text: str, hit_limit: bool) -> bool:
    """A decoding that ran to its length limit or repeats itself (a compression ratio above faster-whisper's)."""
    from faster_whisper.transcribe import get_compression_ratio

    return hit_limit or get_compression_ratio(text) > _MAX_COMPRESSION


def silence(no_speech_prob: float, avg_logprob: float) -> bool:
    """A window Whisper itself finds silent and decodes with little confidence: noise the VAD let through, on
    which Whisper would invent a 감사합니다 (faster-whisper drops such windows the same way)."""
    return no_speech_prob > _NO_SPEECH and avg_logprob < _LOW_LOGPROB


def blocks(windows: list[Window], most: int) -> Iterator[list[Window]]:
    """The windows in order, in as few runs of at most ``most`` as possible, of even sizes (so the last run is not
    a lone window that leaves the other decoders idle)."""
    count = -(-len(windows) // most)
    size = -(-len(windows) // count) if count else 0
    for i in range(0, len(windows), size or 1):
        yield windows[i:i + size]


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
                 beam_size: int = 1, compute_type: str = "int8", word_timestamps: bool = False) -> None:
        self.model = model
        self.data_dir = data_dir
        self.language = language
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.word_timestamps = word_timestamps

    def describe(self) -> str:
        return f"whisper ({self.model}, cpu {self.compute_type})"

    def threads(self) -> int:
        """``cpu_threads``, or one per core up to 4 (CTranslate2's own default of 4 would crowd two cores)."""
        return self.cpu_threads or min(4, os.cpu_count() or 1)

    def _load(self) -> Any:
        where = resolve_model(self.model, self.data_dir)
        # Batched windows: one decoder per thread, each on its own core (a decoder step on a few windows is too
        # small to share between cores: on the dictation, two one-thread decoders took 27% less time than one
        # decoder on two threads). Word timestamps: faster-whisper's single decoder on every thread.
        intra, workers = (self.threads(), 1) if self.word_timestamps else (1, self.threads())
        key = (where, self.compute_type, intra, workers)
        with _lock:
            if key not in _models:
                from faster_whisper import WhisperModel

                try:
                    _models[key] = WhisperModel(where, device="cpu", compute_type=self.compute_type,
                                                cpu_threads=intra, num_workers=workers, local_files_only=True)
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
        total = max(audio.duration, 1e-6)

        def report(seconds: float) -> None:  # how far into the recording the transcript has come
            if progress is not None:
                progress(min(1.0, seconds / total))

        try:
            if self.word_timestamps:
                segments = self._by_window(model, audio, report)
            else:
                segments = self._batched(model, audio, report)
        except NoteLensError:
            raise
        except Exception as exc:
            log.warning("Whisper failed on a recording: %s", type(exc).__name__)
            raise NoteLensError(ErrorCode.TRANSCRIPTION_FAILED, f"Whisper failed: {type(exc).__name__}: {exc}") from exc
        if progress is not None:
            progress(1.0)
        if not segments:
            raise NoteLensError(ErrorCode.NO_SPEECH, "No speech was found in the recording.")
        return Transcript(segments=segments, engine=self.name, model=Path(self.model).name or self.model,
                          language=self.language, duration=audio.duration)

    def _options(self) -> dict[str, Any]:
        return {"language": self.language, "task": "transcribe", "beam_size": self.beam_size,
                "initial_prompt": whisper_prompt(self.language), "condition_on_previous_text": False}

    def _by_window(self, model: Any, audio: CheckedAudio, report: Callable[[float], None]) -> list[Segment]:
        """faster-whisper's own decoding, 30-second window after window, every word timed."""
        pieces, _ = model.transcribe(audio.samples, vad_filter=True, vad_parameters={"min_silence_duration_ms": 500},
                                     word_timestamps=True, **self._options())
        segments: list[Segment] = []
        for piece in pieces:  # a generator: decoding happens here, segment by segment
            segments.extend(sentences(piece))
            report(float(piece.end))
        return segments

    def _batched(self, model: Any, audio: CheckedAudio, report: Callable[[float], None]) -> list[Segment]:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        samples = audio.samples
        found = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=500, max_speech_duration_s=WINDOW_S))
        windows = speech_windows([(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in found])
        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                              language=self.language)
        initial = whisper_prompt(self.language)
        prompt = model.get_prompt(tokenizer, previous_tokens=tokenizer.encode(initial) if initial else [],
                                  without_timestamps=True)
        suppress = get_suppressed_tokens(tokenizer, [-1])

        def decode(batch: list[Window]) -> list[str]:
            spans = [(int(w.start * SAMPLE_RATE), int(w.end * SAMPLE_RATE)) for w in batch]
            frames = max(b - a for a, b in spans)
            # Padded with silence to the batch's longest window only: the encoder's cost grows faster than
            # the audio's length, and a 15-second window decodes as well as one padded to 30 seconds.
            features = np.stack([model.feature_extractor(np.pad(samples[a:b], (0, frames - (b - a))))[..., :-1]
                                 for a, b in spans])
            limit = min(model.max_length, len(prompt) + int(_TOKENS_PER_S * frames / SAMPLE_RATE) + 16)
            results = model.model.generate(
                model.encode(features), [prompt] * len(batch), beam_size=self.beam_size,
                max_length=limit, suppress_blank=True, suppress_tokens=suppress,
                return_scores=True, return_no_speech_prob=True)
            texts: list[str] = []
            for window, result in zip(batch, results, strict=True):
                tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
                text = tokenizer.decode(tokens).strip()
                if silence(result.no_speech_prob, result.scores[0] * len(tokens) / (len(tokens) + 1)):
                    text = ""
                elif looping(text, len(prompt) + len(tokens) >= limit):
                    text = self._again(model, samples, window)
                texts.append(text)
            return texts

        workers = self.threads()
        segments: list[Segment] = []
        with ThreadPoolExecutor(workers) as pool:  # CTranslate2 runs the workers' calls in parallel, without the GIL
            for block in blocks(windows, BATCH * workers):
                # Windows dealt out in turn, so each decoder gets long and short ones alike.
                batches = [block[i::workers] for i in range(workers) if block[i::workers]]
                texts: dict[Window, str] = {}
                for batch, decoded in zip(batches, pool.map(decode, batches), strict=True):
                    texts.update(zip(batch, decoded, strict=True))
                for window in block:  # in order of time, and progress from the caller's thread (Streamlit's)
                    segments.extend(timed_sentences(texts[window], window))
                    report(window.end)
        return segments

    def _again(self, model: Any, samples: Any, window: Window) -> str:
        """A window whose decoding looped, decoded again by faster-whisper's own loop, which retries at
        higher temperatures until the text stops repeating."""
        log.info("Whisper looped on a window; decoding it again with temperature fallback")
        piece = samples[int(window.start * SAMPLE_RATE):int(window.end * SAMPLE_RATE)]
        found, _ = model.transcribe(piece, vad_filter=False, **self._options())
        return " ".join(p.text.strip() for p in found).strip()
