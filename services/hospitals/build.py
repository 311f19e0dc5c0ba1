"""Build the compact copy the app ships (``services/hospitals/data/``) from ``../shared/data``.

``python -m services hospitals build`` (or ``python scripts/build_hospitals.py``) writes

- ``institutions.csv.gz``: every institution of ``hospitals-national`` (HIRA 2026.3) and its pharmacies, departments as
  ``code:specialists`` pairs, emergency rooms from the HIRA bed counts (응급실 beds) and the designated emergency
  institutions of ``gyeonggi-emergency-facilities`` and ``seoul-hospitals-nmc`` matched by name and distance;
- ``dept_diagnosis_stats.tsv.gz``: HIRA's 2023 patients per (진료과목 × 3-character KCD) (``hira-dept-diagnosis-stats``).

Run it again when the publisher releases new files; the SOURCE.md beside the copy says where each came from.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from services.config import PROJECT_ROOT
from services.hospitals.hira import infer_departments
from services.hospitals.model import DATA_DIR, PHARMACY, canonical_department, department_by_code, haversine_km

SHARED = PROJECT_ROOT.parent / "shared" / "data"
INSTITUTIONS = "institutions.csv.gz"
STATS = "dept_diagnosis_stats.tsv.gz"
COLUMNS = ["key", "name", "kind", "sido", "sigungu", "emd", "addr", "tel", "url", "doctors", "beds", "lat", "lon", "er",
           "er_note", "departments", "dept_inferred"]
_ER_KINDS = {"상급종합", "종합병원", "병원", "요양병원", "정신병원", "한방병원", "의원", "보건의료원"}
_GG_NOTES = {"권역센터": "권역응급의료센터", "지역센터": "지역응급의료센터", "지역기관": "지역응급의료기관"}


def _key(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def _bigrams(name: str) -> set[str]:
    s = re.sub(r"\(.*?\)|의료법인|의료재단|재단법인|학교법인|[^0-9A-Za-z가-힣]", "", name)
    return {s[i:i + 2] for i in range(max(1, len(s) - 1))}


def _similar(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def _match(rows: list[dict[str, Any]], grid: dict[tuple[int, int], list[int]], name: str, lat: float, lon: float) -> int | None:
    """The row of a hospital named like ``name`` within 1.5 km of (lat, lon), or None."""
    best: int | None = None
    best_score = 0.0
    cell = (int(lat * 50), int(lon * 50))
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            for i in grid.get((cell[0] + dy, cell[1] + dx), []):
                r = rows[i]
                km = haversine_km(lat, lon, r["lat"], r["lon"])
                if km > 1.5:
                    continue
                score = _similar(name, r["name"]) - km / 10
                if score > best_score:
                    best, best_score = i, score
    return best if best_score >= 0.35 else None


def _read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def build(shared: Path = SHARED, out: Path = DATA_DIR) -> dict[str, Any]:
    nat = shared / "hospitals-national"
    names = department_by_code()
    hospitals = _read_csv(nat / "hospitals.csv")
    depts: dict[int, list[str]] = defaultdict(list)
    for d in _read_csv(nat / "departments.csv"):
        if d["dept_code"] not in names:
            raise ValueError(f"department code {d['dept_code']} ({d['dept_name']}) is not in departments.tsv")
        depts[int(d["hospital_row"])].append(f"{d['dept_code']}:{int(d['specialists'] or 0)}")
    by_name = {v: k for k, v in names.items()}
    rows: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    for n, h in enumerate(hospitals, start=1):
        base = _key("hn:", h["name"], h["addr"])
        seen[base] += 1
        er_beds = 0
        for part in filter(None, h["beds_detail"].split(";")):
            category, _, count = part.partition(":")
            if category == "er":
                er_beds = int(count or 0)
        row: dict[str, Any] = {
            "key": base if seen[base] == 1 else f"{base}-{seen[base]}", "name": h["name"], "kind": h["kind"],
            "sido": h["sido"], "sigungu": h["sigungu"], "emd": h["emd"], "addr": h["addr"], "tel": h["tel"],
            "url": h["url"], "doctors": int(h["doctors"] or 0), "beds": int(h["beds"] or 0),
            "lat": float(h["lat"]) if h["lat"] else None, "lon": float(h["lon"]) if h["lon"] else None,
            "er": int(er_beds > 0), "er_note": f"응급실 병상 {er_beds}" if er_beds else "",
            "departments": ";".join(depts.get(n, [])), "dept_inferred": 0}
        if not row["departments"]:
            inferred = [by_name[d] for d in infer_departments(h["name"], h["kind"]) if d in by_name]
            if inferred:
                row["departments"], row["dept_inferred"] = ";".join(f"{c}:0" for c in inferred), 1
                stats["departments inferred"] += 1
        stats["er from HIRA beds"] += row["er"]
        rows.append(row)
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["lat"] is not None and r["kind"] in _ER_KINDS:
            grid[(int(r["lat"] * 50), int(r["lon"] * 50))].append(i)
    gg = shared / "gyeonggi-emergency-facilities" / "응급의료기관및응급의료지원센터현황.csv"
    for f in _read_csv(gg, encoding="cp949"):
        note = _GG_NOTES.get(f["업무구분명"])
        if not note or not f["위도"]:
            continue
        hit = _match(rows, grid, f["병원명/센터명"], float(f["위도"]), float(f["경도"]))
        stats["gyeonggi designated"] += 1
        if hit is not None:
            rows[hit]["er"], rows[hit]["er_note"] = 1, note
            stats["gyeonggi matched"] += 1
    for s in _read_csv(shared / "seoul-hospitals-nmc" / "hospitals.csv"):
        has_er = s["응급실가능여부"].strip() == "Y" or (s["응급실"].strip().isdigit() and int(s["응급실"]) > 0)
        if not has_er or not s["위도"]:
            continue
        stats["seoul nmc with er"] += 1
        hit = _match(rows, grid, s["기관명"], float(s["위도"]), float(s["경도"]))
        if hit is not None:
            if not rows[hit]["er"]:
                rows[hit]["er"], rows[hit]["er_note"] = 1, "응급실 (국립중앙의료원)"
            stats["seoul nmc matched"] += 1
    pseen: Counter[str] = Counter()
    for p in _read_csv(nat / "pharmacies.csv"):
        base = _key("ph:", p["name"], p["addr"])
        pseen[base] += 1
        rows.append({"key": base if pseen[base] == 1 else f"{base}-{pseen[base]}", "name": p["name"], "kind": PHARMACY,
                     "sido": p["sido"], "sigungu": p["sigungu"], "emd": p["emd"], "addr": p["addr"], "tel": p["tel"],
                     "url": "", "doctors": 0, "beds": 0, "lat": float(p["lat"]) if p["lat"] else None,
                     "lon": float(p["lon"]) if p["lon"] else None, "er": 0, "er_note": "", "departments": "",
                     "dept_inferred": 0})
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "lat": "" if r["lat"] is None else f"{r['lat']:.6f}",
                    "lon": "" if r["lon"] is None else f"{r['lon']:.6f}"})
    _write_gz(out / INSTITUTIONS, buf.getvalue())
    stats["institutions"] = len(rows) - sum(1 for r in rows if r["kind"] == PHARMACY)
    stats["pharmacies"] = sum(1 for r in rows if r["kind"] == PHARMACY)
    stats["with emergency room"] = sum(r["er"] for r in rows)
    stats["dept x kcd rows"] = _build_stats(shared, out)
    stats["institutions.csv.gz bytes"] = (out / INSTITUTIONS).stat().st_size
    stats["dept_diagnosis_stats.tsv.gz bytes"] = (out / STATS).stat().st_size
    return dict(stats)


def _write_gz(path: Path, text: str) -> None:
    # mtime 0: the same input gives the same bytes, so a rebuild without new data changes nothing in git.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as fh:
        fh.write(text.encode("utf-8"))


def _build_stats(shared: Path, out: Path) -> int:
    src = next((shared / "hira-dept-diagnosis-stats").glob("*.csv"))
    lines = ["# HIRA 병원급이상 진료과목별 상병 통계 2023: kcd3\tdepartment (HIRA 진료과목 as in departments.tsv)\tpatients"]
    totals: Counter[tuple[str, str]] = Counter()
    for r in _read_csv(src):
        dept = canonical_department(r["진료과목"].strip()) or r["진료과목"].strip()
        code = r["주상병코드"].strip().upper()
        patients = int(float(r["환자수"].strip() or 0))
        if code and patients > 0:
            totals[(code, dept)] += patients
    for (code, dept), n in sorted(totals.items()):
        lines.append(f"{code}\t{dept}\t{n}")
    _write_gz(out / STATS, "\n".join(lines) + "\n")
    return len(totals)


def read_shipped(path: Path = DATA_DIR / INSTITUTIONS) -> Iterable[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m services hospitals build", description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--out", type=Path, default=DATA_DIR, help="where the compact copy goes")
    args = p.parse_args(argv)
    for key, value in build(args.shared, args.out).items():
        print(f"{key}: {value}")
    return 0
