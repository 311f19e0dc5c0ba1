"""Real local transcription: faster-whisper (base, CPU int8) on the real human Korean dictation in
../shared/fixtures/audio, then the normal extraction. The model is the one scripts/assemble_whisper_base.py
puts together offline from PyPI (scripts/test.sh runs it before the tests); NOTELENS_WHISPER_MODEL may name
another local folder. Without a model the test is skipped on a developer machine and fails under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from audio_helpers import DICTATION

from services.config import load_settings
from services.transcription.whisper import model_folders
from services.wiring import build_app


def _model() -> Path | None:
    configured = os.environ.get("NOTELENS_WHISPER_MODEL", "")
    candidates = [Path(configured).expanduser()] if configured else []
    candidates += model_folders("base", load_settings().data_dir)
    return next((c for c in candidates if (c / "model.bin").is_file()), None)


MODEL = _model()
if MODEL is None:
    if os.environ.get("CI"):
        raise RuntimeError("no Whisper model for the real transcription test: scripts/test.sh assembles one with "
                           "scripts/assemble_whisper_base.py")
    pytest.skip("no local Whisper model: run `python scripts/assemble_whisper_base.py` (or set NOTELENS_WHISPER_MODEL "
                "to a CTranslate2 model folder) to run the real transcription test", allow_module_level=True)


def test_the_real_dictation_is_transcribed_and_extracted(data_dir: Path) -> None:
    app = build_app(load_settings(data_dir=data_dir, whisper_model=str(MODEL), whisper_cpu_threads=2), seed=False)
    progress: list[float] = []
    outcome = app.notes.ingest(DICTATION.name, DICTATION.read_bytes(), progress=progress.append)
    assert outcome.ok, outcome.error
    text = outcome.note.text or ""
    # The key clinical words of the dictation (not the exact transcript, which depends on the model).
    for word in ("기침", "발열", "처방", "항생제"):
        assert word in text, (word, text)
    view = app.notes.view(outcome.note.id)
    symptoms = {e.text for e in view.entities if e.category.value == "symptom"}
    assert {"기침", "발열"} <= symptoms, symptoms
    assert any(e.category.value == "medication" and "항생제" in e.text for e in view.entities)

    rec = app.recordings.view(outcome.note.id)
    assert rec is not None and rec.transcript.engine == "whisper" and 30 < rec.transcript.duration < 31.5
    # Timestamps per segment: several sentences, in order, inside the recording.
    starts = [s.start for s in rec.segments]
    assert len(rec.segments) >= 3 and starts == sorted(starts)
    assert all(0 <= s.start < s.end <= 31.5 for s in rec.segments)
    cough = next(e for e in view.entities if e.text == "기침")
    fever = next(e for e in view.entities if e.text == "발열")
    assert 0 < (rec.time_of(cough) or 0) <= (rec.time_of(fever) or 0) < 31
    assert len(progress) >= 3 and progress == sorted(progress) and progress[-1] == 1.0

