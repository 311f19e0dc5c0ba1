"""Real browser: Debian chromium driven by Playwright against `streamlit run Home.py`.

Skipped when chromium is missing on a developer machine; under CI (CI=true) a missing browser
is a failure, because the README test command installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("chromium is required for the browser test in CI")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_app(**env_extra: str) -> Iterator[str]:
    """`streamlit run Home.py` on a free port with extra environment; yields its URL once healthy."""
    port = _free_port()
    env = dict(os.environ, **env_extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_app(NOTELENS_DATA_DIR=str(tmp_path_factory.mktemp("data")), NOTELENS_SEED_SAMPLES="false") as url:
        yield url


def test_upload_then_review_shows_highlights_and_never_runs_note_html(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    note = tmp_path / "xss_note.txt"
    note.write_text("C.C: 두통 호소, 발열 없음.\n<script>alert(1)</script> <img src=x onerror=alert(1)>\n", encoding="cp949")
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server}/Upload", wait_until="networkidle")
        page.locator("input[type=file]").set_input_files(str(note))
        page.get_by_role("button", name="처리 시작").click()
        page.get_by_role("button", name="검토 열기").click(timeout=60_000)
        mark = page.locator("mark.nl-ent[data-category=symptom]").first
        mark.wait_for(timeout=60_000)
        assert mark.inner_text() == "두통"
        negated = page.locator("mark.nl-ent[data-assertion=negated]").first
        assert negated.inner_text() == "발열"
        source = page.locator(".nl-source").first
        assert "<script>alert(1)</script>" in source.inner_text()
        assert source.locator("script, img").count() == 0
        if os.environ.get("NOTELENS_SCREENSHOT"):
            page.set_viewport_size({"width": 1400, "height": 900})
            page.screenshot(path=os.environ["NOTELENS_SCREENSHOT"], full_page=False)
        browser.close()
    assert dialogs == []


def test_navigation_is_grouped_by_role_and_relabelled_by_the_language_switch(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server, wait_until="networkidle")
        nav = page.locator("[data-testid=stSidebarNav]")
        nav.get_by_text("업로드", exact=True).wait_for(timeout=60_000)
        for label in ("임상의", "프롬프트", "관리자", "검토", "프롬프트 랩"):
            assert nav.get_by_text(label, exact=True).count() >= 1, label
        assert page.get_by_role("button", name="Deploy").count() == 0  # viewer toolbar for clinicians
        page.get_by_text("English", exact=True).click()
        nav.get_by_text("Upload", exact=True).wait_for(timeout=60_000)
        assert nav.get_by_text("Clinicians", exact=True).count() == 1
        assert nav.get_by_text("업로드", exact=True).count() == 0
        # The URL a page had before the shell. Streamlit navigates client-side (no load event), so check the link
        # and then the location after the click.
        assert (nav.get_by_role("link", name="Review").first.get_attribute("href") or "").endswith("/Review")
        nav.get_by_text("Review", exact=True).click()
        page.wait_for_function("location.pathname.endsWith('/Review')", timeout=60_000)
        if os.environ.get("NOTELENS_SCREENSHOT_HOME"):
            page.goto(server, wait_until="networkidle")
            page.get_by_text("어디서 시작할까요", exact=True).wait_for(timeout=60_000)
            page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=60_000)
            time.sleep(1)
            page.screenshot(path=os.environ["NOTELENS_SCREENSHOT_HOME"], full_page=False)
        browser.close()


def test_prompt_lab_streams_the_answer_from_bedrock(tmp_path: Path) -> None:
    """The live run in a real browser: Bedrock's ConverseStream answered from a loopback endpoint set through
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME, the streamed JSON shown, then the entities highlighted in the source."""
    from playwright.sync_api import sync_playwright

    from services.config import load_settings
    from services.wiring import build_app
    from tests.bedrock_stream import router
    from tests.loopback import LoopbackServer

    data = tmp_path / "data"
    build_app(load_settings(data_dir=data), seed=False).notes.ingest(
        "lab.txt", "환자 김민수 (M/45) 3일 전부터 두통, 발열은 없음. 타이레놀 500mg 복용.".encode())
    bedrock = LoopbackServer()
    bedrock.route = router({"entities": [{"category": "symptom", "text": "두통"},
                                         {"category": "symptom", "text": "발열", "negated": True},
                                         {"category": "medication", "text": "타이레놀"}],
                            "fields": {"department": "신경과"}})
    aws = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url, "AWS_DEFAULT_REGION": "ap-northeast-2",
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    try:
        with streamlit_app(NOTELENS_DATA_DIR=str(data), NOTELENS_SEED_SAMPLES="false", **aws) as url, \
                sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/Prompt_Lab", wait_until="networkidle")
            page.get_by_role("button", name="실행", exact=True).click(timeout=60_000)
            streamed = page.locator("code").filter(has_text='"타이레놀"').first
            streamed.wait_for(timeout=60_000)
            mark = page.locator(".nl-source mark.nl-ent[data-category=medication]").first
            mark.wait_for(timeout=60_000)
            assert mark.inner_text() == "타이레놀"
            assert page.locator(".nl-source mark.nl-ent[data-assertion=negated]").first.inner_text() == "발열"
            assert bedrock.requests and bedrock.requests[0]["path"].endswith("/converse-stream")
            assert "김민수" not in str(bedrock.requests[0]["body"])
            if os.environ.get("NOTELENS_SCREENSHOT_LAB"):
                mark.scroll_into_view_if_needed()
                page.screenshot(path=os.environ["NOTELENS_SCREENSHOT_LAB"], full_page=True)
            browser.close()
    finally:
        bedrock.close()


def test_search_finds_an_uploaded_note_and_opens_it_in_review(server: str, tmp_path: Path) -> None:
    """Search (issue 8): a morpheme match (어지러움 in 어지러움과) with an escaped, marked snippet, then Review."""
    from playwright.sync_api import sync_playwright

    note = tmp_path / "search_note.txt"
    note.write_text("C.C: 어지러움과 두통이 심함. 흉통은 없음.\n<img src=x onerror=alert(1)>\n", encoding="utf-8")
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server}/Upload", wait_until="networkidle")
        page.locator("input[type=file]").set_input_files(str(note))
        page.get_by_role("button", name="처리 시작").click()
        page.get_by_role("button", name="검토 열기").first.wait_for(timeout=60_000)
        page.goto(f"{server}/Search", wait_until="networkidle")
        box = page.get_by_label("검색어")
        box.fill("어지러움")
        box.press("Enter")
        card = page.locator(".nl-hit").filter(has_text="search_note.txt").first
        card.wait_for(timeout=60_000)
        assert card.locator(".nl-snippet mark").first.inner_text() == "어지러움"
        assert card.locator("img, script").count() == 0 and "<img src=x" in card.inner_text()
        assert card.locator(".nl-chip[data-assertion=negated]").filter(has_text="흉통").count() == 1
        if os.environ.get("NOTELENS_SCREENSHOT_SEARCH"):
            page.screenshot(path=os.environ["NOTELENS_SCREENSHOT_SEARCH"], full_page=False)
        page.get_by_role("button", name="검토에서 열기").first.click()
        page.wait_for_url("**/Review**", timeout=60_000)
        mark = page.locator("mark.nl-ent[data-category=symptom]").first
        mark.wait_for(timeout=60_000)
        assert "어지러움" in page.locator(".nl-source").first.inner_text()
        browser.close()
    assert dialogs == []


def test_analytics_charts_render_and_a_click_drills_down_to_review(tmp_path: Path) -> None:
    """Analytics over the 42 sample notes in a real browser: the five charts draw, a click on a ranking bar lists
    the notes behind it with a link that opens the note in Review, the chart's toolbar saves a PNG, and a note
    that arrives while the page is open reaches the ranking by itself (the fragment's run_every)."""
    import re

    from playwright.sync_api import sync_playwright

    from services.config import load_settings
    from services.wiring import build_app

    data = tmp_path / "data"
    notes = build_app(load_settings(data_dir=data), seed=True).notes
    with streamlit_app(NOTELENS_DATA_DIR=str(data), NOTELENS_SEED_SAMPLES="false") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.goto(f"{url}/Analytics", wait_until="networkidle")
        charts = page.locator(".js-plotly-plot")
        charts.nth(4).wait_for(timeout=60_000)
        assert charts.count() == 5
        ranking = charts.first
        bars = ranking.locator(".barlayer .point path")
        assert bars.count() == 10
        assert charts.nth(1).locator(".scatterlayer .trace").count() >= 2  # term lines beside the notes bars
        # Rank 1 is drawn at the top, the last bar of the trace; its label is "1. <term>".
        label = ranking.locator(".yaxislayer-above .ytick text").last.text_content() or ""
        term = label.split(". ", 1)[1]
        box = bars.last.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        heading = page.get_by_text(re.compile(r"^선택: ")).first
        heading.wait_for(timeout=60_000)
        assert heading.inner_text().startswith(f"선택: {term} — 기록 ")
        drill = page.locator("[data-testid=stDataFrame]").last
        found: list[str] = []
        for _ in range(60):  # the grid fills its cells a moment after it appears
            found = re.findall(r"Review\?note=(\w+)", drill.inner_html())
            if found:
                break
            time.sleep(0.5)
        assert found
        if os.environ.get("NOTELENS_SCREENSHOT_ANALYTICS"):
            page.screenshot(path=os.environ["NOTELENS_SCREENSHOT_ANALYTICS"], full_page=False)

        # PNG from the chart's own toolbar.
        ranking.hover()
        with page.expect_download(timeout=60_000) as download:
            ranking.locator(".modebar-btn[data-title^='Download plot']").click()
        assert download.value.suggested_filename == "notelens-ranking.png"
        assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        # A new note in the period: the ranking's caption counts it without a click or reload (every 10 s).
        page.get_by_role("radio", name="10초마다", exact=True).click()
        caption = page.get_by_text(re.compile(r"^2025-10-21 ~ 2025-11-19 · 기록 \d+건")).first
        before = int(re.search(r"기록 (\d+)건", caption.inner_text()).group(1))  # type: ignore[union-attr]
        notes.ingest("live.txt", "방문일: 2025-11-19\n기침과 발열로 내원.".encode())
        page.get_by_text(f"2025-10-21 ~ 2025-11-19 · 기록 {before + 1}건").first.wait_for(timeout=60_000)

        # The drill-down's link opens the note in Review.
        page.goto(f"{url}/Review?note={found[0]}", wait_until="networkidle")
        page.locator(".nl-source").first.wait_for(timeout=60_000)
        note = notes.store.get_note(found[0])
        picked = page.locator("[data-testid=stSelectbox] input").first.input_value()
        assert note is not None and note.filename in picked, picked
        browser.close()
