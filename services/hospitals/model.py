"""Institutions, filters and the small tables (departments, kinds) the hospital map works with."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
EARTH_KM = 6371.0088

# 종별코드명 as HIRA names them, most specialised first; 약국 comes from 약국정보서비스.
KINDS = ("상급종합", "종합병원", "병원", "요양병원", "정신병원", "의원", "치과병원", "치과의원", "한방병원", "한의원",
         "보건소", "보건의료원", "보건지소", "보건진료소", "조산원", "약국")
PHARMACY = "약국"
# What the map shows until the user picks kinds: medical institutions; dental and Korean-medicine clinics and
# pharmacies (another 60,000 markers) are one click away.
DEFAULT_KINDS = tuple(k for k in KINDS if k not in ("치과의원", "한의원", "조산원", PHARMACY))
EMERGENCY = "응급실"  # a pseudo-department: institutions with an emergency room


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    aliases: tuple[str, ...]
    guide: bool


@dataclass
class Institution:
    key: str  # 암호화요양기호 for HIRA imports, a stable hash for the shipped copy
    name: str
    kind: str
    lat: float | None
    lon: float | None
    sido: str = ""
    sigungu: str = ""
    emd: str = ""
    addr: str = ""
    tel: str = ""
    url: str = ""
    doctors: int = 0
    beds: int = 0
    er: bool = False
    er_note: str = ""
    # (department, specialists) in HIRA's order; specialists 0 when none or unknown.
    departments: list[tuple[str, int]] = field(default_factory=list)
    dept_inferred: bool = False
    source: str = ""
    id: int | None = None

    @property
    def department_names(self) -> list[str]:
        return [d for d, _ in self.departments]


@dataclass(frozen=True)
class Filters:
    """What the map and the nearest lookup keep. Empty means no restriction."""

    kinds: tuple[str, ...] = ()
    department: str = ""  # a HIRA 진료과목 name, or EMERGENCY
    er_only: bool = False
    name: str = ""
    sido: str = ""
    sigungu: str = ""


NO_FILTERS = Filters()


@dataclass
class Nearby:
    institution: Institution
    km: float


@dataclass(frozen=True)
class Bounds:
    south: float
    west: float
    north: float
    east: float

    @classmethod
    def from_leaflet(cls, raw: object) -> Bounds | None:
        """st_folium's ``bounds`` ({"_southWest": {"lat", "lng"}, "_northEast": {...}}), or None when incomplete."""
        if not isinstance(raw, dict):
            return None
        sw, ne = raw.get("_southWest") or {}, raw.get("_northEast") or {}
        try:
            values = [float(sw["lat"]), float(sw["lng"]), float(ne["lat"]), float(ne["lng"])]
        except (KeyError, TypeError, ValueError):
            return None
        if any(math.isnan(v) for v in values):
            return None
        return cls(*values)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def tsv_rows(path: Path) -> list[list[str]]:
    """Tab-separated rows of a data file, skipping blanks and ``#`` comments."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.split("\t"))
    return out


@lru_cache(maxsize=4)
def departments(path: Path = DATA_DIR / "departments.tsv") -> tuple[Department, ...]:
    out = []
    for row in tsv_rows(path):
        row += [""] * (4 - len(row))
        aliases = tuple(a.strip() for a in row[2].split(",") if a.strip())
        out.append(Department(row[0].strip(), row[1].strip(), aliases, row[3].strip().lower() != "no"))
    return tuple(out)


def department_by_code(path: Path = DATA_DIR / "departments.tsv") -> dict[str, str]:
    return {d.code: d.name for d in departments(path)}


def canonical_department(name: str, path: Path = DATA_DIR / "departments.tsv") -> str | None:
    """The HIRA 진료과목 a department name (a subspecialty such as 순환기내과, or 흉부외과) belongs to."""
    name = name.strip()
    for d in departments(path):
        if name == d.name or name in d.aliases:
            return d.name
    return None
