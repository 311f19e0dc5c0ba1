"""AppTest for recordings on the pages: Upload takes mp3/wav/m4a files and a browser recording (with real
decoding; the speech engine is the stand-in of tests/audio_helpers.py), and Review shows the player, the
timed segments, plays from a chosen segment or entity, and saves speaker names and a corrected transcript."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_helpers import DICTATION, FakeTranscriber, wav
from streamlit.testing.v1 import AppTest

import services.wiring
from services.wiring import App

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeTranscriber:
    fake = FakeTranscriber()
    # Every App built from here on (the page's and the test's) transcribes with the stand-in.
    monkeypatch.setattr(services.wiring, "build_transcriber", lambda settings: fake)
    return fake


def test_upload_page_takes_recordings_and_reports_bad_ones(fake_engine: FakeTranscriber, app: App) -> None:
    at = AppTest.from_file(str(ROOT / "pages/1_Upload.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="process").disabled
    at.file_uploader(key="upload_files").set_value([
        ("visit.mp3", DICTATION.read_bytes(), "audio/mpeg"),
        ("short.wav", wav(2.0), "audio/wav"),
        ("broken.m4a", b"\x00\x00\x00\x18ftypM4A garbage", "audio/mp4"),
    ])
    at.audio_input(key="rec_audio_input").set_value(("audio.wav", wav(3.0, freq=330.0), "audio/wav"))
    at.run()
    at.button(key="process").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "AUDIO_CORRUPT" in errors
    assert sum(s.value == "완료" for s in at.success) == 3  # two files and the browser recording
    notes = {n.filename: n for n in app.store.list_notes()}
    assert notes["visit.mp3"].source == "audio" and notes["visit.mp3"].status.value == "done"
    assert notes["visit.mp3"].text and notes["visit.mp3"].text.startswith("기침이 계속 나요.")
    recorded = [n for name, n in notes.items() if name.startswith("recording-") and name.endswith(".wav")]
    assert len(recorded) == 1 and recorded[0].status.value == "done"
    assert notes["broken.m4a"].status.value == "failed" and notes["broken.m4a"].error_code == "AUDIO_CORRUPT"
    assert fake_engine.calls == 3
    assert any("녹음" in c.value for c in at.caption)


def _segment_table(at: AppTest):  # type: ignore[no-untyped-def]
    return next(d.value for d in at.dataframe if "time" in d.value.columns)


def _audio(at: AppTest) -> list:  # type: ignore[type-arg]
    return list(at.get("audio"))


def test_review_shows_player_segments_and_plays_from_an_entity(fake_engine: FakeTranscriber, app: App) -> None:
    note_id = app.notes.ingest("visit.mp3", DICTATION.read_bytes()).note.id
    rec = app.recordings.view(note_id)
    assert rec is not None
    at = AppTest.from_file(str(ROOT / "pages/2_Review.py"), default_timeout=TIMEOUT)
    at.session_state["review_note"] = note_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    players = _audio(at)
    assert len(players) == 1 and players[0].proto.start_time == 0
    assert not players[0].proto.autoplay
    segments = _segment_table(at)
    assert list(segments["text"]) == [s.text for s in rec.segments]
    assert list(segments["time"]) == ["00:00", "00:10", "00:20"]

    play = at.selectbox(key=f"rec_play_from_{note_id}")
    labels = list(play.options)  # as shown; the value is the option's index
    tylenol = next(i for i, label in enumerate(labels) if "타이레놀" in label and "약물" in label)
    play.set_value(tylenol).run()
    assert not at.exception
    players = _audio(at)
    assert players[0].proto.start_time == int(rec.segments[2].start) and players[0].proto.autoplay
    second = next(i for i, label in enumerate(labels) if label.startswith("00:10"))
    at.selectbox(key=f"rec_play_from_{note_id}").set_value(second).run()
    assert _audio(at)[0].proto.start_time == int(rec.segments[1].start)


def test_review_saves_speaker_names_and_a_corrected_transcript(fake_engine: FakeTranscriber, app: App) -> None:
    note_id = app.notes.ingest("visit.mp3", DICTATION.read_bytes()).note.id
    at = AppTest.from_file(str(ROOT / "pages/2_Review.py"), default_timeout=TIMEOUT)
    at.session_state["review_note"] = note_id
    at.run()
    at.text_input(key=f"rec_name_{note_id}_spk_0").set_value("의사")
    at.text_input(key=f"rec_name_{note_id}_spk_1").set_value("환자")
    at.session_state[f"rec_editor_{note_id}"] = {
        "edited_rows": {2: {"text": "아목시실린 500mg 처방하겠습니다."}}, "added_rows": [], "deleted_rows": []}
    at.button(key=f"rec_save_{note_id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("수정한 사람" in w.value for w in at.warning)  # a name is required
    at.text_input(key=f"rec_author_{note_id}").set_value("Dr. Lee")
    at.session_state[f"rec_editor_{note_id}"] = {
        "edited_rows": {2: {"text": "아목시실린 500mg 처방하겠습니다."}}, "added_rows": [], "deleted_rows": []}
    at.button(key=f"rec_save_{note_id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    rec = app.recordings.view(note_id)
    assert rec is not None and rec.transcript.version == 2 and rec.transcript.author == "Dr. Lee"
    assert rec.speakers == {"spk_0": "의사", "spk_1": "환자"}
    assert len(app.store.extractions(note_id)) == 2
    assert any("새 전사 버전" in s.value for s in at.success)
    segments = _segment_table(at)
    assert list(segments["speaker"]) == ["환자", "의사", "의사"]
    assert segments["text"][2] == "아목시실린 500mg 처방하겠습니다."


def test_review_of_a_text_note_has_no_recording_panel(fake_engine: FakeTranscriber, app: App) -> None:
    note_id = app.notes.ingest("n.txt", "두통 호소.".encode()).note.id
    at = AppTest.from_file(str(ROOT / "pages/2_Review.py"), default_timeout=TIMEOUT)
    at.session_state["review_note"] = note_id
    at.run()
    assert not at.exception and not _audio(at)
    assert fake_engine.calls == 0
