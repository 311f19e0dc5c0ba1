"""Hospital map benchmark on the national data (the shipped copy: 79,562 institutions and 25,589 pharmacies).
Prints figures, asserts nothing. Targets (issue 11): nearest-10 p95 ≤ 20 ms; the map page's first render ≤ 3 s;
the HTML it sends at the national zoom ≤ 5 MB.

    python benchmarks/hospital_map.py [--queries 300] [--page-runs 3] [--browser] [--rebuild]

1. The hospital database is built once from services/hospitals/data/institutions.csv.gz into
   benchmarks/out/hospital_map/hospitals.sqlite3 (the build time is printed: it happens once, on the first use of
   a data folder).
2. Nearest-10 from random points over South Korea (seeded), without a filter, with a random department, with the
   emergency-room filter and with kinds: p50 / p95 / max of each.
3. The page: Streamlit's AppTest runs pages/6_Hospital_Map.py against that data folder (no notes); the first run is
   "first render": once in a cold process (the App with its extraction engine is built as well) and once as a new
   session of a running app (a new AppTest: the App is cached); later runs are printed too. st_folium's arguments are captured as the page sends them (script,
   header, html, feature groups) and their UTF-8 size is "the HTML it sends" at the national zoom, with the default
   kinds (medical institutions: 45,000 markers) and with every kind (105,000 with pharmacies).
4. ``--browser``: Debian chromium opens the page of a real `streamlit run` and the time until the first cluster icon
   shows is printed, for the national data and, as the baseline of Streamlit's own page load, for 500 institutions
   (needs chromium; the machine's load makes it noisy).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.hospitals import DEFAULT_KINDS, EMERGENCY, KINDS, PHARMACY, Filters  # noqa: E402
from services.hospitals.service import HospitalService  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "hospital_map"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def nearest(hs: HospitalService, queries: int) -> None:
    rng = random.Random(42)
    depts = hs.departments()
    page_kinds = DEFAULT_KINDS
    cases: dict[str, Any] = {
        "no filter": lambda: Filters(),
        "page default kinds": lambda: Filters(kinds=page_kinds),
        "+ a department": lambda: Filters(kinds=page_kinds, department=rng.choice(depts)),
        "a department": lambda: Filters(department=rng.choice(depts)),
        "emergency room": lambda: Filters(department=EMERGENCY),
        "hospital kinds": lambda: Filters(kinds=("상급종합", "종합병원", "병원")),
        "a name": lambda: Filters(name=rng.choice(["내과", "서울", "연세", "365", "소아"])),
    }
    for name, make in cases.items():
        times = []
        for _ in range(queries):
            lat, lon = rng.uniform(34.5, 38.2), rng.uniform(126.3, 129.4)
            f = make()
            t0 = time.perf_counter()
            hs.near(lat, lon, f, 10)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"nearest-10, {name:18s}: p50 {pct(times, .5):6.2f} ms  p95 {pct(times, .95):6.2f} ms  "
              f"max {max(times):6.1f} ms  ({queries} points)   target p95 ≤ 20 ms")


def page(data: Path, runs: int) -> None:
    import streamlit_folium
    from streamlit.testing.v1 import AppTest

    sent: list[int] = []
    original = streamlit_folium._component_func

    def capture(**kwargs: Any) -> Any:
        size = sum(len(str(kwargs.get(k) or "").encode()) for k in ("script", "header", "html", "feature_group",
                                                                      "layer_control"))
        sent.append(size)
        return original(**kwargs)

    streamlit_folium._component_func = capture
    os.environ["NOTELENS_DATA_DIR"] = str(data)
    os.environ["NOTELENS_SEED_SAMPLES"] = "false"
    for label in ("a cold process: the App is built too", "a new session, the app already running"):
        at = AppTest.from_file(str(ROOT / "pages" / "6_Hospital_Map.py"), default_timeout=300)
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        assert not at.exception, [e.value for e in at.exception]
        print(f"page first render, {label}: {first:.2f} s (national view, default kinds)   target ≤ 3 s")
    print(f"sent to the browser at the national zoom: {sent[-1] / 1e6:.2f} MB (default kinds: medical institutions, "
          f"{at.session_state['map_kinds'].__len__()} kinds)   target ≤ 5 MB")
    later = []
    for _ in range(max(0, runs - 1)):
        t0 = time.perf_counter()
        at.run()
        later.append(time.perf_counter() - t0)
    if later:
        print(f"page later runs: median {statistics.median(later):.2f} s over {len(later)}")
    at.multiselect(key="map_kinds").set_value(list(KINDS))
    t0 = time.perf_counter()
    at.run()
    print(f"every kind incl. pharmacies: {sent[-1] / 1e6:.2f} MB sent, run {time.perf_counter() - t0:.2f} s")
    at.session_state["hospital_map"] = {"bounds": {"_southWest": {"lat": 37.49, "lng": 127.00},
                                                   "_northEast": {"lat": 37.52, "lng": 127.06}}}
    at.run()
    print(f"a Seoul district in view: {sent[-1] / 1e6:.2f} MB sent (full popups when ≤ 1,500 markers)")
    streamlit_folium._component_func = original


def browser(data: Path, label: str) -> None:
    import shutil as sh
    import subprocess
    import urllib.request

    from playwright.sync_api import sync_playwright

    chromium = sh.which("chromium") or "/usr/bin/chromium"
    port = "8659"
    env = dict(os.environ, NOTELENS_DATA_DIR=str(data), NOTELENS_SEED_SAMPLES="false")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", port,
                             "--server.headless", "true", "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
            pg = b.new_page(viewport={"width": 1400, "height": 1000})
            for which in ("cold server", "warm server"):
                t0 = time.perf_counter()
                pg.goto(f"http://127.0.0.1:{port}/Hospital_Map", wait_until="domcontentloaded")
                pg.frame_locator("iframe[title='streamlit_folium.st_folium']").locator(".marker-cluster").first.wait_for(
                    timeout=180_000)
                print(f"browser, {label}, page open to first cluster icon ({which}): {time.perf_counter() - t0:.2f} s")
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--page-runs", type=int, default=3)
    ap.add_argument("--browser", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} (2 cores shared with other work)")
    if args.rebuild:
        shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    existed = (OUT / "hospitals.sqlite3").is_file()
    hs = HospitalService(OUT / "hospitals.sqlite3")
    t0 = time.perf_counter()
    n = hs.store.count()
    took = time.perf_counter() - t0
    size = (OUT / "hospitals.sqlite3").stat().st_size / 1e6
    print(f"hospital database: {n:,} rows ({hs.store.count([PHARMACY]):,} pharmacies), {size:.0f} MB; "
          f"{'opened' if existed else 'built from the shipped copy'} in {took:.1f} s")
    nearest(hs, args.queries)
    page(OUT, args.page_runs)
    if args.browser:
        browser(OUT, "national data")
        tiny = OUT.parent / "hospital_map_500"
        shutil.rmtree(tiny, ignore_errors=True)
        from tests.hospital_fixtures import prepared_store, synthetic

        prepared_store(tiny / "hospitals.sqlite3", synthetic(500))
        browser(tiny, "500 institutions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
