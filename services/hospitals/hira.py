"""Importer for the official HIRA files a user downloads ("전국 병의원 및 약국 현황").

Recognised by their header row, in CSV (CP949/EUC-KR or UTF-8, with or without BOM) or XLSX:

- ``1.병원정보서비스``: 암호화요양기호, 요양기관명, 종별코드, 종별코드명, 시도코드명, 시군구코드명, 읍면동, 주소,
  전화번호, 병원홈페이지, 총의사수, 좌표(X) (longitude), 좌표(Y) (latitude) …
- ``2.약국정보서비스``: the same without the doctor counts; 종별코드명 약국.
- ``…_03_진료과목정보``: 암호화요양기호, 요양기관명, 진료과목코드, 진료과목코드명, 과목별 전문의수, 선택진료 의사수.
- ``…_01_시설정보`` (응급실병상수) and ``…_02_세부정보`` (응급실_주간_운영여부 / 응급실_야간_운영여부): emergency rooms.

A hospital list replaces every non-pharmacy institution, a pharmacy list every pharmacy; department and emergency
files update the institutions they name (by 암호화요양기호). Where no department file comes with a hospital list,
departments are inferred from the kind and the name ("…정형외과의원") and marked as inferred.
"""

from __future__ import annotations

import csv
import importlib
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.hospitals.model import DATA_DIR, PHARMACY, Institution, tsv_rows
from services.hospitals.sqlite import SQLiteHospitals


class HiraFileError(ValueError):
    """A file the importer cannot read or does not recognise (the message says why)."""


KEY = "암호화요양기호"
_HOSPITALS = "hospitals"
_PHARMACIES = "pharmacies"
_DEPARTMENTS = "departments"
_FACILITIES = "facilities"
_DETAILS = "details"


def _norm(header: str) -> str:
    return "".join(str(header).replace("\ufeff", "").split()).lower()


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else CP949 (a superset of EUC-KR)."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise HiraFileError("the file is neither UTF-8 nor CP949/EUC-KR text")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(name: str, raw: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (keyed by the normalised header) of a CSV or XLSX file."""
    if raw[:2] == b"PK":  # a zip container: XLSX
        try:
            openpyxl: Any = importlib.import_module("openpyxl")
        except ModuleNotFoundError as err:
            raise HiraFileError(f"{name}: reading XLSX needs openpyxl (pip install openpyxl), or save it as CSV") from err
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            sheet_rows = book.worksheets[0].iter_rows(values_only=True)
            header = [_cell(h) for h in next(sheet_rows, ())]
            rows = [[_cell(v) for v in r] for r in sheet_rows]
        finally:
            book.close()
    else:
        text = decode(raw)
        sample = text[:4096]
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        header = [h.strip() for h in next(reader, [])]
        rows = [[c.strip() for c in r] for r in reader]
    keys = [_norm(h) for h in header]
    out = [dict(zip(keys, r, strict=False)) for r in rows if any(c for c in r)]
    return header, out


def classify(header: Iterable[str]) -> str:
    cols = {_norm(h) for h in header}
    if _norm(KEY) not in cols:
        raise HiraFileError(f"no {KEY} column: not a HIRA 병원/약국 file (columns: {', '.join(list(header)[:8])} …)")
    if "진료과목코드명" in cols:
        return _DEPARTMENTS
    if "응급실병상수" in cols:
        return _FACILITIES
    if "응급실_주간_운영여부" in cols or "응급실_야간_운영여부" in cols:
        return _DETAILS
    if "좌표(x)" in cols and "요양기관명" in cols:
        return _HOSPITALS if "총의사수" in cols else _PHARMACIES
    raise HiraFileError(f"unrecognised HIRA file (columns: {', '.join(list(header)[:8])} …)")


def _int(value: str) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _coord(value: str, low: float, high: float) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if low <= v <= high and v != 0 else None


# -- department inference -------------------------------------------------------------------

def _inference_rules(path: Path = DATA_DIR / "inference.tsv") -> tuple[list[tuple[str, str]], dict[str, str]]:
    by_name, by_kind = [], {}
    for row in tsv_rows(path):
        if len(row) < 2:
            continue
        if len(row) > 2 and row[2].strip() == "kind":
            by_kind[row[0].strip()] = row[1].strip()
        else:
            by_name.append((row[0].strip(), row[1].strip()))
    by_name.sort(key=lambda r: len(r[0]), reverse=True)
    return by_name, by_kind


_RULES = _inference_rules()


def infer_departments(name: str, kind: str) -> list[str]:
    """Departments guessed from a name ("바른정형외과의원" → 정형외과) or else the kind (치과의원 → 치과)."""
    by_name, by_kind = _RULES
    compact = "".join(name.split())
    for word, dept in by_name:  # longest word first: 정형외과 before 외과
        if word in compact:
            return [dept]
    return [by_kind[kind]] if kind in by_kind else []


# -- import ---------------------------------------------------------------------------------

@dataclass
class FileReport:
    name: str
    kind: str
    rows: int


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    hospitals: int = 0
    pharmacies: int = 0
    without_coordinates: int = 0
    departments_from_file: int = 0
    departments_inferred: int = 0
    emergency_rooms: int = 0
    unknown_keys: int = 0

    def summary(self) -> dict[str, Any]:
        return {"files": [f.__dict__ for f in self.files], "hospitals": self.hospitals, "pharmacies": self.pharmacies,
                "without_coordinates": self.without_coordinates, "departments_from_file": self.departments_from_file,
                "departments_inferred": self.departments_inferred, "emergency_rooms": self.emergency_rooms,
                "unknown_keys": self.unknown_keys}


def _institution(r: dict[str, str], pharmacy: bool) -> Institution:
    g = r.get
    return Institution(
        key=g(_norm(KEY), ""), name=g("요양기관명", ""), kind=PHARMACY if pharmacy else (g("종별코드명") or "기타"),
        lat=_coord(g("좌표(y)", ""), -90, 90), lon=_coord(g("좌표(x)", ""), -180, 180),
        sido=g("시도코드명", ""), sigungu=g("시군구코드명", ""), emd=g("읍면동", ""), addr=g("주소", ""),
        tel=g("전화번호", ""), url=g("병원홈페이지", ""), doctors=_int(g("총의사수", "")), source="hira-import")


def _departments(rows: Iterable[dict[str, str]]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        key, dept = r.get(_norm(KEY), ""), r.get("진료과목코드명", "")
        if key and dept:
            out[key][dept] = out[key].get(dept, 0) + _int(r.get("과목별전문의수", ""))
    return {k: list(v.items()) for k, v in out.items()}


def _emergency(kind: str, rows: Iterable[dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in rows:
        key = r.get(_norm(KEY), "")
        if not key:
            continue
        if kind == _FACILITIES and _int(r.get("응급실병상수", "")) > 0:
            out[key] = f"응급실 병상 {_int(r.get('응급실병상수', ''))}"
        elif kind == _DETAILS and "Y" in (r.get("응급실_주간_운영여부", "").upper(), r.get("응급실_야간_운영여부", "").upper()):
            out.setdefault(key, "")
    return out


def read_files(files: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, str, list[dict[str, str]]]]:
    for name, raw in files:
        header, rows = read_table(name, raw)
        try:
            kind = classify(header)
        except HiraFileError as err:
            raise HiraFileError(f"{name}: {err}") from err
        yield name, kind, rows


def import_files(store: SQLiteHospitals, files: Iterable[tuple[str, bytes]]) -> ImportReport:
    """Import HIRA files (name, bytes) into the store in one go: see the module docstring."""
    report = ImportReport()
    tables: dict[str, list[dict[str, str]]] = defaultdict(list)
    for name, kind, rows in read_files(files):
        report.files.append(FileReport(name, kind, len(rows)))
        tables[kind] += rows
    depts = _departments(tables[_DEPARTMENTS])
    emergency = _emergency(_FACILITIES, tables[_FACILITIES])
    for key, note in _emergency(_DETAILS, tables[_DETAILS]).items():
        emergency.setdefault(key, note)
    used_depts: set[str] = set()
    used_er: set[str] = set()
    if tables[_HOSPITALS]:
        institutions = []
        for r in tables[_HOSPITALS]:
            inst = _institution(r, pharmacy=False)
            if not inst.key or not inst.name:
                continue
            if inst.key in depts:
                inst.departments = depts[inst.key]
                used_depts.add(inst.key)
                report.departments_from_file += 1
            else:
                inferred = infer_departments(inst.name, inst.kind)
                if inferred:
                    inst.departments = [(d, 0) for d in inferred]
                    inst.dept_inferred = True
                    report.departments_inferred += 1
            if inst.key in emergency:
                inst.er, inst.er_note = True, emergency[inst.key]
                used_er.add(inst.key)
            report.without_coordinates += inst.lat is None or inst.lon is None
            institutions.append(inst)
        replaced = [k for k, _ in store.kinds() if k != PHARMACY] + sorted({i.kind for i in institutions})
        report.hospitals = store.replace(institutions, kinds=replaced)
    if tables[_PHARMACIES]:
        pharmacies = [p for p in (_institution(r, pharmacy=True) for r in tables[_PHARMACIES]) if p.key and p.name]
        report.without_coordinates += sum(p.lat is None or p.lon is None for p in pharmacies)
        report.pharmacies = store.replace(pharmacies, kinds=[PHARMACY])
    rest = {k: v for k, v in depts.items() if k not in used_depts}
    if rest:
        updated, unknown = store.set_departments(rest)
        report.departments_from_file += updated
        report.unknown_keys += unknown
    report.emergency_rooms = len(used_er)
    rest_er = {k: v for k, v in emergency.items() if k not in used_er}
    if rest_er:
        er_updated, er_unknown = store.set_emergency(rest_er)
        report.emergency_rooms += er_updated
        report.unknown_keys += er_unknown
    return report
