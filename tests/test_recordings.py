"""Recordings as notes (issue 12): audio checks with real decoding, the original kept before processing,
failures recorded with a code and retryable, transcript → extraction, corrections as versions, speakers,
batch folders with audio. The speech engine here is a stand-in (tests/audio_helpers.py); the real Whisper
run on the real dictation is tests/test_whisper_real.py, Amazon Transcribe is tests/test_transcribe_aws.py."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from audio_helpers import DICTATION, FakeTranscriber, video_only_webm, wav

from services.batch import run_batch
from services.errors import ErrorCode, NoteLensError
from services.transcription.audio import check_audio
from services.transcription.whisper import (
    WhisperTranscriber,
    Window,
    blocks,
    looping,
    resolve_model,
    sentences,
    silence,
    speech_windows,
    timed_sentences,
)
from services.wiring import App


@pytest.fixture
def fake() -> FakeTranscriber:
    return FakeTranscriber()


@pytest.fixture
def rec_app(app: App, fake: FakeTranscriber) -> App:
    app.__dict__["transcriber"] = fake  # the cached_property the wiring reads on the first recording
    return app


def _dictation() -> bytes:
    return DICTATION.read_bytes()


# -- checking and decoding -----------------------------------------------------------------------

def test_the_real_dictation_decodes_to_16k_mono() -> None:
    audio = check_audio("p56789-1.mp3", _dictation(), 3600)
    assert 30 < audio.duration < 31.5
    assert audio.samples.dtype.name == "float32" and audio.mime == "audio/mpeg" and audio.media_format == "mp3"


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("empty.mp3", lambda: b"", ErrorCode.EMPTY_FILE),
        ("garbage.mp3", lambda: b"ID3" + bytes(range(256)) * 8, ErrorCode.AUDIO_CORRUPT),
        ("text.m4a", lambda: "기침 발열".encode() * 50, ErrorCode.AUDIO_CORRUPT),
        ("cut.mp3", lambda: _dictation()[: len(_dictation()) // 3], ErrorCode.AUDIO_TRUNCATED),
        ("cut.wav", lambda: wav(3.0)[:20_000], ErrorCode.AUDIO_TRUNCATED),
        ("silence.wav", lambda: wav(2.0, amplitude=0.0), ErrorCode.AUDIO_SILENT),
        ("long.wav", lambda: wav(5.0), ErrorCode.AUDIO_TOO_LONG),
        ("screen.webm", video_only_webm, ErrorCode.UNSUPPORTED_CODEC),
        ("voice.flac", lambda: wav(1.0), ErrorCode.UNSUPPORTED_TYPE),
    ],
)
def test_bad_audio_is_refused_with_a_code(name: str, make, code: ErrorCode) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoteLensError) as info:
        check_audio(name, make(), max_seconds=4 if name == "long.wav" else 60)
    assert info.value.code is code
    assert info.value.message


def test_a_complete_short_wav_passes() -> None:
    assert abs(check_audio("ok.wav", wav(2.0), max_seconds=4).duration - 2.0) < 0.05


# -- recordings become notes -----------------------------------------------------------------------

def test_a_recording_becomes_an_extracted_note_with_timed_segments(rec_app: App) -> None:
    seen: list[float] = []
    outcome = rec_app.notes.ingest("visit.mp3", _dictation(), progress=seen.append)
    assert outcome.ok and outcome.error is None, outcome.error
    note = outcome.note
    assert note.source == "audio" and note.encoding == "audio/mpeg"
    assert note.text == "기침이 계속 나요.\n열은 좀 내렸나요?\n타이레놀 500mg 처방하겠습니다."
    assert rec_app.notes.blobs.get(note.raw_sha256) == _dictation()  # the original audio is kept
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    view = rec_app.notes.view(note.id)
    texts = {e.text for e in view.entities}
    assert "기침" in texts and "타이레놀" in texts
    rec = rec_app.recordings.view(note.id)
    assert rec is not None and rec.transcript.version == 1 and rec.transcript.author is None
    assert [s.speaker for s in rec.segments] == ["spk_1", "spk_0", "spk_0"]
    tylenol = next(e for e in view.entities if e.text == "타이레놀")
    assert rec.time_of(tylenol) == pytest.approx(rec.segments[2].start)
    cough = next(e for e in view.entities if e.text == "기침")
    assert rec.time_of(cough) == 0.0
    assert rec_app.backends()["transcription"] == "fake (tests)"
    # The same recording again is the same note.
    assert rec_app.notes.ingest("visit-copy.mp3", _dictation()).duplicate
    assert rec_app.recordings.view(rec_app.notes.ingest("x.txt", "두통.".encode()).note.id) is None


@pytest.mark.parametrize(("name", "data", "code"), [
    ("broken.mp3", b"ID3" + bytes(500), "AUDIO_CORRUPT"),
    ("quiet.wav", wav(1.0, amplitude=0.0), "AUDIO_SILENT"),
])
def test_bad_recordings_fail_with_code_and_keep_their_original(rec_app: App, name: str, data: bytes, code: str) -> None:
    outcome = rec_app.notes.ingest(name, data)
    assert outcome.error is not None and outcome.error.code == code
    note = rec_app.store.get_note(outcome.note.id)
    assert note is not None and note.status.value == "failed" and note.error_code == code and note.source == "audio"
    assert rec_app.notes.blobs.get(note.raw_sha256) == data


def test_an_engine_failure_is_recorded_and_retried_from_the_stored_original(app: App) -> None:
    flaky = FakeTranscriber(fail=1)
    app.__dict__["transcriber"] = flaky
    first = app.notes.ingest("visit.wav", wav(3.0))
    assert first.error is not None and first.error.code == "TRANSCRIPTION_FAILED"
    assert app.store.get_note(first.note.id).status.value == "failed"  # type: ignore[union-attr]
    again = app.notes.retry(first.note.id)  # the Upload page's retry button
    assert again.ok and again.note.id == first.note.id and again.note.text
    assert flaky.calls == 2 and len(app.store.extractions(first.note.id)) == 1


def test_too_large_is_refused_before_storing_and_works_once_the_limit_allows(rec_app: App) -> None:
    rec_app.recordings.max_audio_bytes = 1000
    big = rec_app.notes.ingest("big.wav", wav(1.0))
    assert big.error is not None and big.error.code == "TOO_LARGE"
    assert rec_app.notes.blobs.get(big.note.raw_sha256) is None
    rec_app.recordings.max_audio_bytes = 10_000_000
    ok = rec_app.notes.ingest("big.wav", wav(1.0))
    assert ok.ok and ok.note.id == big.note.id


def test_one_bad_recording_never_stops_a_batch_and_outs_hold_the_segments(rec_app: App, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "visit.mp3").write_bytes(_dictation())
    (folder / "broken.m4a").write_bytes(b"not audio at all")
    (folder / "note.txt").write_text("두통 호소, 발열 없음.", encoding="utf-8")
    out = tmp_path / "out"
    report = run_batch(folder, out, service=rec_app.notes, progress=False)
    assert report.status == "PARTIAL_SUCCESS"
    assert {f["Input"]: f["ErrorCode"] for f in report.unprocessed} == {"broken.m4a": "AUDIO_CORRUPT"}
    payload = json.loads((out / "visit.mp3.out").read_text(encoding="utf-8"))
    assert payload["text"].startswith("기침이 계속 나요.")
    assert [s["speaker"] for s in payload["segments"]] == ["spk_1", "spk_0", "spk_0"]
    for seg in payload["segments"]:
        assert payload["text"][seg["begin"]:seg["end"]] == seg["text"] and seg["end"] > seg["start"] >= 0
    assert any(e["text"] == "타이레놀" for e in payload["entities"])
    assert "segments" not in json.loads((out / "note.txt.out").read_text(encoding="utf-8"))


# -- speakers and corrections ------------------------------------------------------------------

def test_correcting_the_transcript_is_a_new_version_and_reruns_the_extraction(rec_app: App) -> None:
    note_id = rec_app.notes.ingest("visit.mp3", _dictation()).note.id
    rec = rec_app.recordings.view(note_id)
    assert rec is not None
    rows = [s.as_dict() for s in rec.segments]
    # Naming the speakers only: no new text, no new extraction.
    assert rec_app.recordings.correct(note_id, "Dr. Lee", rows, {"spk_0": "의사", "spk_1": "환자"}) is None
    assert len(rec_app.store.extractions(note_id)) == 1
    named = rec_app.recordings.view(note_id)
    assert named is not None and named.speaker_name("spk_0") == "의사" and named.speaker_name("spk_1") == "환자"
    rows[2]["text"] = "아목시실린 500mg 처방하겠습니다."
    outcome = rec_app.recordings.correct(note_id, "Dr. Lee", rows)
    assert outcome is not None and outcome.ok
    after = rec_app.recordings.view(note_id)
    assert after is not None and [v.version for v in after.versions] == [1, 2]
    assert after.transcript.author == "Dr. Lee" and after.versions[0].text.endswith("타이레놀 500mg 처방하겠습니다.")
    assert rec_app.store.get_note(note_id).text.endswith("아목시실린 500mg 처방하겠습니다.")  # type: ignore[union-attr]
    extractions = rec_app.store.extractions(note_id)
    assert len(extractions) == 2  # the earlier one is kept
    assert "타이레놀" in {e.text for e in extractions[0].entities}
    assert "타이레놀" not in {e.text for e in extractions[1].entities}
    with pytest.raises(ValueError):
        rec_app.recordings.correct(note_id, " ", rows)


def test_a_reviewed_recording_is_not_corrected_under_its_review(rec_app: App) -> None:
    note_id = rec_app.notes.ingest("visit.mp3", _dictation()).note.id
    view = rec_app.notes.view(note_id)
    rec_app.notes.save_review(note_id, "Dr. Kim", [e.model_dump() for e in view.entities])
    rec = rec_app.recordings.view(note_id)
    assert rec is not None
    rows = [dict(s.as_dict(), text=s.text + " 추가") for s in rec.segments]
    with pytest.raises(ValueError, match="reviewed"):
        rec_app.recordings.correct(note_id, "Dr. Lee", rows)


# -- Whisper adapter pieces that need no model -----------------------------------------------------

def test_whisper_segments_are_split_into_sentences_by_word_times() -> None:
    words = [SimpleNamespace(word=w, start=s, end=s + 0.4) for w, s in
             [(" 기침은", 1.0), (" 여전합니다.", 1.5), (" 발열은", 3.0), (" 내렸어요.", 3.5), (" 재진", 5.0)]]
    piece = SimpleNamespace(text="…", start=1.0, end=5.4, words=words)
    got = sentences(piece)
    assert [(s.start, s.text) for s in got] == [(1.0, "기침은 여전합니다."), (3.0, "발열은 내렸어요."), (5.0, "재진")]
    assert got[0].end == pytest.approx(1.9)
    plain = sentences(SimpleNamespace(text=" 기침. ", start=0.0, end=2.0, words=None))
    assert [(s.start, s.end, s.text) for s in plain] == [(0.0, 2.0, "기침.")]


def test_speech_is_cut_at_pauses_into_windows_of_at_most_15_seconds() -> None:
    regions = [(1.4, 2.7), (3.0, 8.5), (8.6, 14.7), (14.7, 20.7), (20.7, 26.6), (26.6, 29.9), (31.0, 47.0)]
    got = speech_windows(regions)
    assert [(w.start, w.end) for w in got] == [(1.4, 14.7), (14.7, 26.6), (26.6, 29.9), (31.0, 47.0)]
    assert got[0].starts == (1.4, 3.0, 8.6) and got[3].starts == (31.0,)  # a longer region stays whole
    assert all(w.end - w.start <= 15 for w in got[:3])
    assert speech_windows([]) == []
    # Decoded in even runs: 17 windows for two decoders of 8 are 9 + 8, not 16 + a lone one.
    assert [len(b) for b in blocks(got * 4 + got[:1], 16)] == [9, 8]
    assert [len(b) for b in blocks(got, 16)] == [4] and list(blocks([], 16)) == []


def test_sentences_in_a_window_start_at_the_pause_nearest_their_share_of_the_text() -> None:
    window = Window(1.36, 14.72, (1.36, 2.99, 8.59))
    text = "환자 피오 678구, 날짜는 2023년 8월 1일입니다. 환자 기침은 여전히 지속되고 있고 발열은 조금 내려갔는데 여전히 전시합니다."
    got = timed_sentences(text, window)
    # By characters the break would fall at 6.3 s; the speaker paused at 8.59 s (2.99 is nearer the start).
    assert [(s.start, s.end) for s in got] == [(1.36, 8.59), (8.59, 14.72)]
    assert got[1].text.startswith("환자 기침은")
    # More sentences than pauses: one pause is taken by the nearest break, the others keep their estimate.
    three = timed_sentences("가나다라. 마바사아. 자차카타.", Window(0.0, 12.0, (0.0, 7.5)))
    assert [s.start for s in three] == [0.0, pytest.approx(4.0), 7.5] and three[-1].end == 12.0
    assert timed_sentences(" 기침. ", window) == [type(got[0])(1.36, 14.72, "기침.")]
    assert timed_sentences("  ", window) == []


def test_a_looping_or_silent_window_is_recognised() -> None:
    assert looping("환자, " * 60, hit_limit=False)
    assert looping("환자 기침은 여전히 지속되고 있고", hit_limit=True)
    assert not looping("환자 기침은 여전히 지속되고 있고 발열은 조금 내려갔는데 여전히 전시합니다.", hit_limit=False)
    assert silence(0.9, -1.5) and not silence(0.9, -0.3) and not silence(0.1, -1.5)


def test_a_missing_whisper_model_is_a_clear_error_and_nothing_is_downloaded(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.cache/notelens model either
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(NoteLensError) as info:
        resolve_model(str(tmp_path / "no-such-folder"), tmp_path)
    assert info.value.code is ErrorCode.TRANSCRIBER_NOT_CONFIGURED
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(NoteLensError):
        resolve_model(str(tmp_path / "empty-model"), tmp_path)
    audio = check_audio("a.wav", wav(1.0), 60)
    with pytest.raises(NoteLensError) as info:
        WhisperTranscriber("tiny", tmp_path).transcribe(audio)
    assert info.value.code is ErrorCode.TRANSCRIBER_NOT_CONFIGURED
    assert "assemble_whisper_base.py" in info.value.message


def test_cli_transcribe_reports_a_bad_file_and_goes_on(data_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from services.__main__ import main

    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"ID3 nothing")
    silent = tmp_path / "quiet.wav"
    silent.write_bytes(wav(1.0, amplitude=0.0))
    assert main(["transcribe", str(bad), str(silent)]) == 1
    err = capsys.readouterr().err
    assert "AUDIO_CORRUPT" in err and "AUDIO_SILENT" in err
