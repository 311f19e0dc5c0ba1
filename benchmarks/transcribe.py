"""Local transcription speed and memory: faster-whisper on the real Korean dictation (../shared/fixtures/audio),
on two CPU threads, int8, with the settings the app uses (Korean, VAD, clinical prompt, beam 5, word
timestamps), then without word timestamps, then greedy (beam 1). Prints the model load time, the real-time factor (processing time / audio length;
"×" is how many times faster than real time) and the process's peak memory.

    python benchmarks/transcribe.py                        # the model scripts/assemble_whisper_base.py made
    python benchmarks/transcribe.py --model DIR --runs 3 --threads 2

Numbers depend on what else the machine is doing: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.config import load_settings  # noqa: E402
from services.transcription.audio import check_audio  # noqa: E402
from services.transcription.whisper import WhisperTranscriber, model_folders, resolve_model  # noqa: E402

DICTATION = ROOT.parent / "shared" / "fixtures" / "audio" / "p56789-1.mp3"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder or size name (default: the assembled base model)")
    parser.add_argument("--audio", type=Path, default=DICTATION)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="timed runs per configuration (after one warm-up)")
    args = parser.parse_args()

    settings = load_settings()
    model = args.model or next((str(f) for f in model_folders("base", settings.data_dir) if (f / "model.bin").is_file()),
                               settings.whisper_model)
    print(f"model {resolve_model(model, settings.data_dir)} · {args.threads} threads · int8 · "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    audio = check_audio(args.audio.name, args.audio.read_bytes(), 4 * 3600)
    print(f"audio {args.audio.name}: {audio.duration:.1f} s · peak memory before the model {peak_mb():.0f} MB")

    started = time.perf_counter()
    engine = WhisperTranscriber(model, settings.data_dir, cpu_threads=args.threads)
    engine._load()
    print(f"model load {time.perf_counter() - started:.2f} s · peak memory {peak_mb():.0f} MB")
    engine.transcribe(audio)  # warm-up

    # The app's default (beam 5, word timestamps), without word timestamps, and greedy decoding.
    for beam, words in ((5, True), (5, False), (1, False)):
        engine.beam_size, engine.word_timestamps = beam, words
        times, cpu = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            transcript = engine.transcribe(audio)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        best, median = min(times), statistics.median(times)
        print(f"beam {beam}, word timestamps {'on ' if words else 'off'}: {median:.2f} s median, {best:.2f} s best · "
              f"RTF {median / audio.duration:.3f} ({audio.duration / median:.1f}× real time) · "
              f"{len(transcript.segments)} segments · target ≥10×: {'met' if audio.duration / median >= 10 else 'NOT met'}")
        # On a busy machine the wall time includes waiting for a core; CPU time / threads bounds what the same
        # run takes with the cores to itself.
        alone = statistics.median(cpu) / args.threads
        print(f"    CPU {statistics.median(cpu):.2f} s → with {args.threads} idle cores ≈ {alone:.2f} s "
              f"({audio.duration / alone:.1f}× real time, an estimate)")
    print(f"peak memory (process) {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
