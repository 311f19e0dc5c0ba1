"""Recordings in a real browser (Debian chromium through Playwright): Review of a recording shows a working
audio player of the stored original beside the transcript and its entities; choosing an entity moves the
player to where it was said; transcript text that looks like HTML stays text. The note is stored beforehand
with the stand-in transcriber (the server process cannot be given one), the audio decoding is real."""

from __future__ import annotations

import os
import time
from pathlib import Path

from audio_helpers import DICTATION, FakeTranscriber
from test_browser import ARGS, CHROMIUM, streamlit_app

from services.config import load_settings
from services.wiring import build_app


def test_review_plays_a_recording_from_an_entity(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    app = build_app(load_settings(data_dir=data), seed=False)
    app.__dict__["transcriber"] = FakeTranscriber(segments=[
        ("환자 기침은 여전히 지속되고 있고, 발열은 조금 내려갔습니다.", "spk_0"),
        ("<img src=x onerror=alert(1)> 객담 검사 결과 경미한 감염 소견입니다.", "spk_0"),
        ("항생제 처방했고 기침 억제제 추가했습니다. 3일 후 재진 예정입니다.", "spk_0"),
    ])
    note_id = app.notes.ingest("p56789-1.mp3", DICTATION.read_bytes()).note.id
    app.recordings.name_speakers(note_id, {"spk_0": "의사"})
    dialogs: list[str] = []
    with streamlit_app(NOTELENS_DATA_DIR=str(data), NOTELENS_SEED_SAMPLES="false") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/Review?note={note_id}", wait_until="networkidle")
        audio = page.locator("audio").first
        audio.wait_for(state="attached", timeout=60_000)
        # The player has the stored original: the browser reads its length from the served file.
        page.wait_for_function("() => document.querySelector('audio') && document.querySelector('audio').duration > 30",
                               timeout=60_000)
        source = page.locator(".nl-source").first
        assert "<img src=x onerror=alert(1)>" in source.inner_text() and source.locator("img").count() == 0
        assert source.locator("mark.nl-ent[data-category=symptom]").first.inner_text() == "기침"
        # Choose the entity 항생제 in the play-from box: the player moves to its sentence (the third, from 20.5 s).
        page.get_by_label("재생 위치", exact=False).click()
        page.get_by_role("option").filter(has_text="약물 · 항생제").first.click()
        page.wait_for_function("() => document.querySelector('audio').currentTime >= 20", timeout=60_000)
        time.sleep(0.5)
        if os.environ.get("NOTELENS_SCREENSHOT_RECORDING"):
            page.screenshot(path=os.environ["NOTELENS_SCREENSHOT_RECORDING"], full_page=True)
        browser.close()
    assert dialogs == []
