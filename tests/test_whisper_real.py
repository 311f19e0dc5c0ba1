"""Real local transcription: faster-whisper (base, CPU int8) on the real human Korean dictation in
../shared/fixtures/audio, then the normal extraction. The model is the one scripts/assemble_whisper_base.py
puts together offline from PyPI (scripts/test.sh runs it before the tests); NOTELENS_WHISPER_MODEL may name
another local folder. Without a model the test is skipped on a developer machine and fails under CI."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from audio_helpers import DICTATION

from services.config import load_settings
from services.transcription.audio import check_audio
from services.transcription.whisper import WhisperTranscriber, model_folders
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
    # A mention plays from its sentence, not from the start of a long stretch: the cough is reported at about
    # 9 s, the antibiotic at about 21 s (one segment for the whole dictation would start both at 1.4 s).
    antibiotic = next(e for e in view.entities if e.category.value == "medication" and "항생제" in e.text)
    assert 5 < (rec.time_of(cough) or 0) < 12 and 14 < (rec.time_of(antibiotic) or 0) < 26
    assert all(s.end - s.start <= 16 for s in rec.segments)
    assert len(progress) >= 3 and progress == sorted(progress) and progress[-1] == 1.0



class _Looping:
    """The loaded CTranslate2 model, except that its first decoding loops on its first window ("환자, 환자, …")."""

    def __init__(self, real: Any, tokenizer: Any) -> None:
        self._real, self._tokenizer, self.calls, self._lock = real, tokenizer, 0, threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def generate(self, features: Any, prompts: Any, **kwargs: Any) -> Any:
        results = self._real.generate(features, prompts, **kwargs)
        with self._lock:  # the windows are decoded by two workers at once
            self.calls += 1
            if self.calls > 1:
                return results
        loop = self._tokenizer.encode(" 환자," * 80, add_special_tokens=False).ids
        first = SimpleNamespace(sequences_ids=[loop], scores=results[0].scores, no_speech_prob=0.0)
        return [first, *results[1:]]


def test_a_window_the_decoder_loops_on_is_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = WhisperTranscriber(str(MODEL), cpu_threads=2)
    loaded = engine._load()
    looping = _Looping(loaded.model, loaded.hf_tokenizer)
    monkeypatch.setattr(loaded, "model", looping)
    transcript = engine.transcribe(check_audio(DICTATION.name, DICTATION.read_bytes(), 60))
    # Two batches, then faster-whisper's own decoding of the window that looped (one call or more).
    assert looping.calls >= 3
    assert "환자, 환자, 환자" not in transcript.text
    for words in ("8월", "기침", "항생제", "3일"):  # every window's words are there, the looping one's decoded again
        assert words in transcript.text, (words, transcript.text)
