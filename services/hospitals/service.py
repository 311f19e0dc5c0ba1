"""What the hospital map page and the CLI call: the store built from the shipped copy on first use, nearest-N,
markers for the visible bounds, districts typed by name, department guidance for a note, imports, managers' layers."""

from __future__ import annotations

import csv
import gzip
import io
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from services.domain import Entity
from services.hospitals.build import COLUMNS, INSTITUTIONS
from services.hospitals.guidance import Guidance, Guide
from services.hospitals.hira import ImportReport, import_files
from services.hospitals.model import (
    DATA_DIR,
    KINDS,
    NO_FILTERS,
    Bounds,
    Filters,
    Institution,
    Nearby,
    canonical_department,
    department_by_code,
    departments,
)
from services.hospitals.sqlite import Region, SQLiteHospitals, decode_departments, dept_mask, encode_departments, stamp
from services.notes import NoteService

log = logging.getLogger(__name__)
T = TypeVar("T")
DETAIL_LIMIT = 1500

_SIDO_LONG = {
    "서울특별시": "서울", "서울시": "서울", "부산광역시": "부산", "대구광역시": "대구", "인천광역시": "인천",
    "광주광역시": "광주", "대전광역시": "대전", "울산광역시": "울산", "세종특별자치시": "세종시", "세종": "세종시",
    "경기도": "경기", "강원도": "강원", "강원특별자치도": "강원", "충청북도": "충북", "충청남도": "충남",
    "전라북도": "전북", "전북특별자치도": "전북", "전라남도": "전남", "경상북도": "경북", "경상남도": "경남",
    "제주특별자치도": "제주", "제주도": "제주",
}


@dataclass
class Markers:
    points: list[tuple[int, float, float, str, str]]
    details: dict[int, Institution] | None  # full rows when few enough for full popups

    @property
    def detailed(self) -> bool:
        return self.details is not None


@dataclass
class MapView:
    """What the map page renders: the base map (never changes, so the browser keeps it), the layers for the current
    bounds and point, and the nearest institutions listed beside it."""

    map: Any
    layers: list[Any]
    markers: Markers
    nearby: list[Nearby]


KOREA = Bounds(33.0, 124.5, 38.7, 131.0)


def snap(b: Bounds) -> Bounds:
    """The bounds widened to a grid a quarter of their span: a small pan, or the map reporting its first view,
    gives the same markers and so the same layer, which the browser then keeps instead of clustering it again."""
    span = max(b.north - b.south, b.east - b.west, 1e-6)
    step = 2.0 ** math.floor(math.log2(span / 4))
    return Bounds(math.floor(b.south / step) * step, math.floor(b.west / step) * step,
                  math.ceil(b.north / step) * step, math.ceil(b.east / step) * step)


@dataclass
class Place:
    lat: float
    lon: float
    label: str
    count: int


class HospitalService:
    def __init__(self, db_path: Path, notes: NoteService | None = None, rules_dir: Path | None = None,
                 shipped: Path = DATA_DIR / INSTITUTIONS) -> None:
        self.db_path = Path(db_path)
        self.notes = notes
        self.rules_dir = rules_dir
        self.shipped = shipped
        self._lock = threading.Lock()
        self._store: SQLiteHospitals | None = None
        self._cache: dict[object, tuple[str, object]] = {}
        self._guide: tuple[object, Guide] | None = None

    # -- the store -------------------------------------------------------------------------

    @property
    def store(self) -> SQLiteHospitals:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    store = SQLiteHospitals(self.db_path)
                    if "source" not in store.meta():
                        self._load_shipped(store)
                    self._store = store
        return self._store

    def _load_shipped(self, store: SQLiteHospitals) -> int:
        started = time.perf_counter()
        names = department_by_code()

        def rows() -> Iterable[tuple[Any, ...]]:
            reader = csv.reader(io.TextIOWrapper(gzip.open(self.shipped), encoding="utf-8", newline=""))
            col = {c: i for i, c in enumerate(next(reader))}
            k, nm, kd, sd, sg, em, ad, te, ur, do, be, la, lo, er, en, de, di = (col[c] for c in COLUMNS)
            for r in reader:
                depts = [(names.get(c, c), n) for c, n in decode_departments(r[de])]
                yield (r[k], r[nm], r[kd], r[sd], r[sg], r[em], r[ad], r[te], r[ur], int(r[do] or 0), int(r[be] or 0),
                       float(r[la]) if r[la] else None, float(r[lo]) if r[lo] else None, int(r[er] == "1"), r[en],
                       encode_departments(depts), int(r[di] == "1"), "shipped", dept_mask(depts))

        n = store.load(rows())
        store.set_meta(source="shipped: HIRA 전국 병의원 및 약국 현황 2026.3 (services/hospitals/data/SOURCE.md)",
                       loaded_at=stamp())
        log.info("hospital store built from the shipped copy: %d institutions in %.1f s", n,
                 time.perf_counter() - started)
        return n

    def reset_to_shipped(self) -> int:
        with self._lock:
            store = SQLiteHospitals(self.db_path)
            n = self._load_shipped(store)
            self._store = store
        return n

    def info(self) -> dict[str, str]:
        meta = self.store.meta()
        meta["institutions"] = str(self.store.count())
        return meta

    # -- lookups ---------------------------------------------------------------------------

    def near(self, lat: float, lon: float, filters: Filters = NO_FILTERS, limit: int = 10) -> list[Nearby]:
        return self.store.near(lat, lon, filters, limit)

    def markers(self, bounds: Bounds, filters: Filters = NO_FILTERS, detail_limit: int = DETAIL_LIMIT) -> Markers:
        points = self.store.points_in_bounds(bounds, filters)
        details = None
        if len(points) <= detail_limit:
            details = {i.id: i for i in self.store.get_many([p[0] for p in points]) if i.id is not None}
        return Markers(points, details)

    def map_view(self, bounds: Bounds | None, filters: Filters, point: tuple[float, float] | None, limit: int,
                 labels: dict[str, str], density: bool = False) -> MapView:
        """Markers of the visible bounds (the whole country before the browser reports any), the point's nearest
        ``limit`` institutions highlighted, and optionally the density layer."""
        from services.hospitals import mapview

        markers = self.markers(snap(bounds) if bounds else KOREA, filters)
        nearby = self.near(point[0], point[1], filters, limit) if point else []
        layers = [mapview.cluster_layer(markers.points, markers.details, labels),
                  mapview.highlight_layer(point, nearby, labels)]
        if density:
            layers.append(mapview.density_layer(self.density(filters), labels.get("institutions", "")))
        return MapView(mapview.base_map(), layers, markers, nearby)

    def kinds(self) -> list[str]:
        present = {k for k, _ in self._memo("kinds", self.store.kinds)}
        return [k for k in KINDS if k in present] + sorted(present - set(KINDS))

    def departments(self) -> list[str]:
        """진료과목 institutions offer, in the table's order."""
        offered = {d for d, _ in self._memo("offered", self.store.offered_departments)}
        ordered = [d.name for d in departments() if d.name in offered]
        return ordered + sorted(offered - set(ordered))

    def _memo(self, key: object, make: Callable[[], T]) -> T:
        """``make()`` once per data generation (an import from any process starts a new one)."""
        generation = self.store.generation()
        hit = self._cache.get(key)
        if hit is None or hit[0] != generation:
            if len(self._cache) > 64:
                self._cache.clear()
            hit = self._cache[key] = (generation, make())
        return cast(T, hit[1])

    def _regions(self) -> list[Region]:
        return self._memo("regions", self.store.regions)

    def sidos(self) -> list[str]:
        return sorted({r.sido for r in self._regions() if r.sido})

    def sigungus(self, sido: str) -> list[str]:
        return sorted({r.sigungu for r in self._regions() if r.sido == sido and r.sigungu})

    def locate(self, text: str) -> Place | None:
        """The centre of a district typed by name: "강남구", "서울 강남구 역삼동", "수원", "부산광역시 해운대구"."""
        tokens = [_SIDO_LONG.get(t, t) for t in text.replace(",", " ").split()]
        if not tokens:
            return None

        def level(token: str, r: Region) -> int:
            for depth, value in ((3, r.emd), (2, r.sigungu), (1, r.sido)):
                if value and (token == value or (len(token) >= 2 and value.startswith(token))):
                    return depth
            return 0

        matched: list[tuple[Region, int]] = []
        for r in self._regions():
            depths = [level(t, r) for t in tokens]
            if all(depths):
                matched.append((r, max(depths)))
        if not matched:
            return None
        deepest = max(d for _, d in matched)
        picked = [r for r, d in matched if d == deepest]
        total = sum(r.count for r in picked)
        lat = sum(r.lat * r.count for r in picked) / total
        lon = sum(r.lon * r.count for r in picked) / total
        first = picked[0]
        parts = [first.sido, first.sigungu, first.emd][:deepest]
        same = all([r.sido, r.sigungu, r.emd][:deepest] == parts for r in picked)
        return Place(lat, lon, " ".join(p for p in parts if p) if same else " ".join(tokens), total)

    # -- guidance --------------------------------------------------------------------------

    @property
    def guide(self) -> Guide:
        """The guidance tables, read again when one is edited or an override appears (no restart needed)."""
        paths = Guide.paths_for(self.rules_dir)
        signature = tuple((str(p), p.stat().st_mtime if p.is_file() else 0.0) for p in paths)
        if self._guide is None or self._guide[0] != signature:
            self._guide = (signature, Guide(*paths))
        return self._guide[1]

    def guidance(self, entities: Iterable[Entity], note_department: str | None = None) -> Guidance:
        return self.guide.guide(entities, note_department)

    def guidance_for_note(self, note_id: str) -> Guidance:
        if self.notes is None:
            raise ValueError("no note store attached")
        view = self.notes.view(note_id)
        return self.guidance(view.entities, view.fields.department)

    # -- imports ---------------------------------------------------------------------------

    def import_files(self, files: Iterable[tuple[str, bytes]]) -> ImportReport:
        report = import_files(self.store, files)
        self.store.set_meta(source="import: " + ", ".join(f.name for f in report.files), loaded_at=stamp())
        return report

    def import_paths(self, paths: Iterable[Path]) -> ImportReport:
        return self.import_files((p.name, p.read_bytes()) for p in paths)

    # -- managers' layers ------------------------------------------------------------------

    def density(self, filters: Filters = NO_FILTERS) -> list[Region]:
        return self._memo(("density", filters), lambda: self.store.density(filters))

    def note_departments(self) -> list[tuple[str, int, int]]:
        """(진료과목, notes in the store, institutions offering it), most notes first. Counted again only when the
        store's counts (notes, reviews …) change, not on every page run."""
        if self.notes is None:
            return []
        store = self.notes.store
        key = ("note_departments", tuple(sorted(store.counts().items())))
        hit = self._cache.get(key)
        if hit is None:
            counts: Counter[str] = Counter()
            for note in store.list_notes(with_text=False, limit=10_000_000):
                dept = note.fields.department
                if dept:
                    counts[canonical_department(dept) or dept] += 1
            self._cache = {k: v for k, v in self._cache.items() if not (isinstance(k, tuple) and k[:1] == ("note_departments",))}
            hit = self._cache[key] = ("", counts.most_common())
        offered = dict(self._memo("offered", self.store.offered_departments))
        return [(d, n, offered.get(d, 0)) for d, n in cast(list[tuple[str, int]], hit[1])]
