"""Real browser (Debian chromium via Playwright) on the hospital map: clustered markers render without any CDN, a click
on the map picks the point and lists and highlights the nearest institutions, and a hostile name stays text."""

from __future__ import annotations

import os
import random
from pathlib import Path

from services.hospitals import Institution
from tests.hospital_fixtures import prepared_store
from tests.test_browser import ARGS, CHROMIUM, streamlit_app

HOSTILE = "<img src=x onerror=alert(1)>서해의원"


def places() -> list[Institution]:
    rng = random.Random(3)
    out = []
    for i, (lat, lon, city) in enumerate([(37.52, 127.0, "서울")] * 300 + [(35.15, 129.05, "부산")] * 200):
        out.append(Institution(key=f"k{i}", name=f"{city}의원{i}", kind="의원", lat=lat + rng.gauss(0, 0.04),
                               lon=lon + rng.gauss(0, 0.04), sido=city, sigungu="구", addr=f"{city} 주소 {i}",
                               tel="02-0000", departments=[("내과", 1)], source="test"))
    # Alone on the west coast: the nearest to a click in the Yellow Sea.
    out.append(Institution(key="hostile", name=HOSTILE, kind="의원", lat=36.35, lon=124.6, sido="충남", sigungu="구",
                           addr="<script>alert(2)</script>", tel="041-0000", departments=[("내과", 0)], source="test"))
    return out


def test_map_clusters_and_a_click_lists_the_nearest(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    prepared_store(data / "hospitals.sqlite3", places())
    dialogs: list[str] = []
    with streamlit_app(NOTELENS_DATA_DIR=str(data), NOTELENS_SEED_SAMPLES="false") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/Hospital_Map", wait_until="domcontentloaded")
        frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
        cluster = frame.locator(".marker-cluster").first
        cluster.wait_for(timeout=120_000)
        counts = [int(c) for c in frame.locator(".marker-cluster span").all_inner_texts()]
        assert sum(counts) >= 450 and len(counts) < 20  # 500 markers drawn as a few clusters
        box = page.locator("iframe[title='streamlit_folium.st_folium']").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 40, box["y"] + box["height"] / 2)  # the sea west of the peninsula
        near = frame.locator(".nl-near")
        near.first.wait_for(timeout=120_000)
        page.get_by_text("가장 가까운 10곳").wait_for(timeout=60_000)
        assert near.count() == 10 and frame.locator(".nl-here").count() == 1
        grid = page.locator("[data-testid=stDataFrame]:visible [role=grid]").first  # the nearest list (its a11y table)
        grid.wait_for(state="attached", timeout=30_000)
        assert grid.get_attribute("aria-rowcount") == "11"  # header and ten institutions
        assert HOSTILE in (grid.text_content() or "")  # the nearest to the click, listed first
        frame.locator(".nl-near", has_text="1").first.click()
        popup = frame.locator(".leaflet-popup-content")
        popup.wait_for(timeout=30_000)
        assert HOSTILE in popup.inner_text() and popup.locator("img, script").count() == 0
        if os.environ.get("NOTELENS_SCREENSHOT_MAP"):
            page.screenshot(path=os.environ["NOTELENS_SCREENSHOT_MAP"], full_page=True)
        browser.close()
    assert dialogs == []
