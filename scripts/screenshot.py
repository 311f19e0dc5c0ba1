"""Regenerate docs/review.png: start the app on the sample data and capture the Review page.

    python scripts/screenshot.py [NOTE_FILE_NAME]
Needs Debian chromium and the playwright package (both installed by scripts/test.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from services.config import load_settings
    from services.wiring import build_app

    name = sys.argv[1] if len(sys.argv) > 1 else "op_002_cardio.txt"
    data = Path(tempfile.mkdtemp())
    app = build_app(load_settings(data_dir=data), seed=True)
    note = next(n for n in app.store.list_notes() if n.filename == name)
    env = dict(os.environ, NOTELENS_DATA_DIR=str(data))
    port = "8597"
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", port,
                             "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu",
                                        "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1500, "height": 980})
            page.goto(f"http://127.0.0.1:{port}/Review?note={note.id}", wait_until="networkidle")
            page.locator("mark.nl-ent").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ROOT / "docs" / "review.png"))
            browser.close()
    finally:
        proc.terminate()
    print("wrote docs/review.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
