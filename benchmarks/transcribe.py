"""Local transcription speed, memory and what it costs in words: faster-whisper on the real Korean dictation
(../shared/fixtures/audio), two CPU threads, int8, Korean, VAD, clinical prompt. Side by side in one run: the app's
defaults (NOTELENS_WHISPER_BEAM_SIZE, NOTELENS_WHISPER_WORD_TIMESTAMPS), the batched speech windows with beam 5, 2
and 1 (greedy), and faster-whisper's window-by-window decoding with word timestamps (the earlier default). Prints the model
load time, the real-time factor (processing time / audio length; "×" is how many times faster than real time), the
CPU time, the dictation's clinical words each variant heard, and the process's peak memory.

    python benchmarks/transcribe.py                        # the model scripts/assemble_whisper_base.py made
    python benchmarks/transcribe.py --model DIR --runs 5 --threads 2 --show
    python benchmarks/transcribe.py --repeat 4             # the dictation 4 times over: a 2-minute recording
    python benchmarks/transcribe.py --default-only --runs 5

The machine's load average is printed with every figure: on a shared machine the wall time includes waiting for
a core.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.config import load_settings  # noqa: E402
from services.transcription.audio import SAMPLE_RATE, check_audio  # noqa: E402
from services.transcription.whisper import WhisperTranscriber, model_folders, resolve_model  # noqa: E402

DICTATION = ROOT.parent / "shared" / "fixtures" / "audio" / "p56789-1.mp3"
# What the dictation says (../shared/fixtures/audio/SOURCE.md): cough, fever, sputum test, infection, pneumonia
# signs, antibiotics prescribed, a cough suppressant added, revisit in three days. The CI test checks the first
# four of these words; the others show what a faster setting loses.
WORDS = ("기침", "발열", "처방", "항생제", "객담", "감염", "폐렴", "억제제", "3일", "방문")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder or size name (default: the assembled base model)")
    parser.add_argument("--audio", type=Path, default=DICTATION)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per variant (after one warm-up), interleaved")
    parser.add_argument("--show", action="store_true", help="print each variant's segments")
    parser.add_argument("--repeat", type=int, default=1, help="play the recording this many times, 1 s apart")
    parser.add_argument("--default-only", action="store_true",
                        help="time only the app's defaults (a short run that fits between other work's bursts)")
    args = parser.parse_args()

    settings = load_settings()
    model = args.model or next((str(f) for f in model_folders("base", settings.data_dir) if (f / "model.bin").is_file()),
                               settings.whisper_model)
    print(f"model {resolve_model(model, settings.data_dir)} · {args.threads} threads · int8 · {load()} on "
          f"{os.cpu_count()} cores")
    audio = check_audio(args.audio.name, args.audio.read_bytes(), 4 * 3600)
    if args.repeat > 1:
        pause = np.zeros(SAMPLE_RATE, dtype=np.float32)
        samples = np.concatenate([audio.samples, *([pause, audio.samples] * (args.repeat - 1))])
        audio = dataclasses.replace(audio, samples=samples)
    print(f"audio {args.audio.name}{f' × {args.repeat}' if args.repeat > 1 else ''}: {audio.duration:.1f} s · peak memory before the model {peak_mb():.0f} MB")

    started = time.perf_counter()
    engine = WhisperTranscriber(model, settings.data_dir, cpu_threads=args.threads)
    engine._load()
    print(f"model load {time.perf_counter() - started:.2f} s · peak memory {peak_mb():.0f} MB")

    default = (f"app default (beam {settings.whisper_beam_size}, "
               f"{'word timestamps' if settings.whisper_word_timestamps else 'batched windows'})",
               settings.whisper_beam_size, settings.whisper_word_timestamps)
    variants = [default] + [v for v in (("batched windows, beam 5", 5, False), ("batched windows, beam 2", 2, False),
                                        ("batched windows, greedy", 1, False),
                                        ("window by window, beam 5, word timestamps", 5, True))
                            if v[1:] != default[1:] and not args.default_only]
    for _, beam, words in variants:  # warm-up: the first decoding of each kind allocates its buffers
        engine.beam_size, engine.word_timestamps = beam, words
        engine.transcribe(audio)
    # Runs interleaved, so a burst of load from other work spreads over the variants instead of hitting one.
    wall: dict[str, list[float]] = {v[0]: [] for v in variants}
    cpu: dict[str, list[float]] = {v[0]: [] for v in variants}
    loads: dict[str, list[float]] = {v[0]: [] for v in variants}
    texts: dict[str, tuple[str, int, str]] = {}
    for _ in range(args.runs):
        for label, beam, words in variants:
            engine.beam_size, engine.word_timestamps = beam, words
            t0, c0 = time.perf_counter(), time.process_time()
            transcript = engine.transcribe(audio)
            wall[label].append(time.perf_counter() - t0)
            cpu[label].append(time.process_time() - c0)
            loads[label].append(os.getloadavg()[0])
            segments = "\n".join(f"      [{s.start:5.2f}–{s.end:5.2f}] {s.text}" for s in transcript.segments)
            texts[label] = (transcript.text, len(transcript.segments), segments)
    for label, _, _ in variants:
        median, best = statistics.median(wall[label]), min(wall[label])
        text, n, segments = texts[label]
        heard = [w for w in WORDS if w in text]
        print(f"{label}: {median:.2f} s median, {best:.2f} s best · RTF {median / audio.duration:.3f} "
              f"({audio.duration / median:.1f}× real time median, {audio.duration / best:.1f}× best) · "
              f"target ≥10×: {'met' if audio.duration / median >= 10 else 'NOT met'} · load "
              f"{min(loads[label]):.2f}–{max(loads[label]):.2f}")
        # CPU time / threads bounds what the same run takes with the cores to itself (an estimate: not every
        # step uses both threads).
        alone = statistics.median(cpu[label]) / args.threads
        print(f"    CPU {statistics.median(cpu[label]):.2f} s (≥ {alone:.2f} s on {args.threads} idle cores) · {n} segments"
              f" · clinical words {len(heard)}/{len(WORDS)}"
              + (f", missing {' '.join(w for w in WORDS if w not in heard)}" if len(heard) < len(WORDS) else ""))
        if args.show:
            print(segments)
    print(f"peak memory (process) {peak_mb():.0f} MB · {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
