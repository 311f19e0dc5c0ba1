"""``python -m services transcribe FILE...``: transcribe recordings with the configured engine. Prints each
transcript (or JSON with the segments); with ``--store`` the recordings become notes and are extracted,
as an upload would. One bad file is reported and the rest go on; the exit code is 1 if any failed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("transcribe", help="transcribe recordings (mp3, wav, m4a, ogg, webm) with the configured engine")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object per file, with timed segments")
    p.add_argument("--store", action="store_true", help="add each recording to the store as a note and extract it")


def run(args: argparse.Namespace) -> int:
    from services.config import load_settings
    from services.errors import NoteLensError
    from services.transcription.audio import check_audio
    from services.wiring import build_app, build_transcriber

    settings = load_settings()
    failed = 0
    if args.store:
        app = build_app(settings, seed=False)
        for path in args.files:
            outcome = app.notes.ingest(path.name, path.read_bytes(), source="cli")
            if outcome.error is not None:
                failed += 1
                print(f"{path}: {outcome.error.code.value}: {outcome.error.message}", file=sys.stderr)
                continue
            entities = len(app.notes.view(outcome.note.id).entities)
            print(f"{path}: note {outcome.note.id}{' (duplicate)' if outcome.duplicate else ''}, {entities} entities")
        return 1 if failed else 0
    transcriber = build_transcriber(settings)
    for path in args.files:
        try:
            audio = check_audio(path.name, path.read_bytes(), settings.max_audio_seconds)
            started = time.perf_counter()
            transcript = transcriber.transcribe(audio)
        except (NoteLensError, OSError) as err:
            failed += 1
            code = err.code.value if isinstance(err, NoteLensError) else "READ_FAILED"
            print(f"{path}: {code}: {getattr(err, 'message', err)}", file=sys.stderr)
            continue
        seconds = time.perf_counter() - started
        if args.json:
            print(json.dumps({"file": str(path), "engine": transcript.engine, "model": transcript.model,
                              "duration": round(transcript.duration, 3), "seconds": round(seconds, 3),
                              "text": transcript.text, "segments": [s.as_dict() for s in transcript.segments]},
                             ensure_ascii=False))
        else:
            print(f"# {path} ({transcript.duration:.1f} s of audio in {seconds:.1f} s, {transcriber.describe()})")
            print(transcript.text)
    return 1 if failed else 0
