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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ, NOTELENS_DATA_DIR=str(tmp_path_factory.mktemp("data")), NOTELENS_SEED_SAMPLES="false")
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
