"""Institutions in their own SQLite file with an R-tree over the coordinates.

Nearest-N is an expanding box search: the R-tree returns the institutions inside a box that contains a circle of
radius r around the point, the exact (haversine) distances are computed for those, and once at least N of them lie
inside the circle those N are the nearest overall; otherwise r grows. Filters (kind, department, emergency room,
name, region) are applied in the same SQL, so a rare department still finds its nearest N.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from services.hospitals.model import (
    EARTH_KM,
    EMERGENCY,
    NO_FILTERS,
    Bounds,
    Filters,
    Institution,
    Nearby,
    departments,
    haversine_km,
)

SCHEMA_VERSION = "1"
_KM_PER_DEG = 111.195
_MAX_RADIUS_KM = 20_100.0
_SCAN_DEG2 = 4.0
_SPARSE = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS institutions (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    sido TEXT NOT NULL DEFAULT '',
    sigungu TEXT NOT NULL DEFAULT '',
    emd TEXT NOT NULL DEFAULT '',
    addr TEXT NOT NULL DEFAULT '',
    tel TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    doctors INTEGER NOT NULL DEFAULT 0,
    beds INTEGER NOT NULL DEFAULT 0,
    lat REAL,
    lon REAL,
    er INTEGER NOT NULL DEFAULT 0,
    er_note TEXT NOT NULL DEFAULT '',
    departments TEXT NOT NULL DEFAULT '',
    dept_inferred INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT '',
    dept_mask INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS institutions_kind ON institutions (kind);
CREATE INDEX IF NOT EXISTS institutions_region ON institutions (sido, sigungu);
CREATE VIRTUAL TABLE IF NOT EXISTS institutions_rtree USING rtree (id, min_lat, max_lat, min_lon, max_lon);
"""

_COLUMNS = ("id", "key", "name", "kind", "sido", "sigungu", "emd", "addr", "tel", "url", "doctors", "beds", "lat", "lon",
            "er", "er_note", "departments", "dept_inferred", "source")
_SELECT = ", ".join(f"i.{c}" for c in _COLUMNS)
_OTHER_BIT = 62  # departments not in departments.tsv: matched on the text column instead


@lru_cache(maxsize=1)
def _bits() -> dict[str, int]:
    # Departments offered are a bit mask in the row (a filter on it is one AND per candidate; no 430k-row join table).
    return {d.name: i for i, d in enumerate(departments()[:_OTHER_BIT])}


def dept_mask(depts: Iterable[tuple[str, int]]) -> int:
    bits = _bits()
    mask = 0
    for name, _ in depts:
        mask |= 1 << bits.get(name, _OTHER_BIT)
    return mask


def encode_departments(depts: Iterable[tuple[str, int]]) -> str:
    return ";".join(f"{d}:{n}" for d, n in depts)


def decode_departments(raw: str) -> list[tuple[str, int]]:
    out = []
    for part in filter(None, raw.split(";")):
        name, _, count = part.rpartition(":")
        if not name:
            name, count = count, "0"
        out.append((name, int(count) if count.isdigit() else 0))
    return out


def _row(r: sqlite3.Row) -> Institution:
    return Institution(
        id=r["id"], key=r["key"], name=r["name"], kind=r["kind"], sido=r["sido"], sigungu=r["sigungu"], emd=r["emd"],
        addr=r["addr"], tel=r["tel"], url=r["url"], doctors=r["doctors"], beds=r["beds"], lat=r["lat"], lon=r["lon"],
        er=bool(r["er"]), er_note=r["er_note"], departments=decode_departments(r["departments"]),
        dept_inferred=bool(r["dept_inferred"]), source=r["source"])


class _Rows:
    """(id, lat, lon) rows as arrays, searched exhaustively with the same haversine as ``haversine_km``."""

    def __init__(self, ids: Any, lat: Any, lon: Any) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self.lat = np.radians(np.asarray(lat, dtype=np.float64))
        self.lon = np.radians(np.asarray(lon, dtype=np.float64))
        self.cos_lat = np.cos(self.lat)

    @classmethod
    def of(cls, rows: list[Any]) -> _Rows:
        return cls([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])

    def nearest(self, lat: float, lon: float, limit: int) -> list[tuple[float, int]]:
        if not len(self.ids):
            return []
        p1, l1 = math.radians(lat), math.radians(lon)
        a = np.sin((self.lat - p1) / 2) ** 2 + math.cos(p1) * self.cos_lat * np.sin((self.lon - l1) / 2) ** 2
        km = 2 * EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        k = min(limit, len(km))
        pick = np.argpartition(km, k - 1)[:k] if k < len(km) else np.arange(len(km))
        pick = pick[np.argsort(km[pick], kind="stable")]
        return [(float(km[i]), int(self.ids[i])) for i in pick]


class _Columns:
    """Kind, emergency room and department bits of every located row, read once per data generation, so a filter
    of those columns is one vectorised test instead of a scan in SQL."""

    def __init__(self, con: sqlite3.Connection) -> None:
        rows = con.execute("SELECT id, lat, lon, kind, er, dept_mask, name, sido, sigungu FROM institutions "
                           "WHERE lat IS NOT NULL AND lon IS NOT NULL").fetchall()
        ids, lat, lon, kind, er, mask, names, sido, sigungu = (list(c) for c in zip(*rows, strict=True)) if rows else ([],) * 9
        self.ids = np.array(ids, dtype=np.int64)
        self.lat = np.array(lat, dtype=np.float64)
        self.lon = np.array(lon, dtype=np.float64)
        self.er = np.array(er, dtype=bool)
        self.mask = np.array(mask, dtype=np.int64)
        self.names: list[str] = names
        self.kinds = {k: n for n, k in enumerate(dict.fromkeys(kind))}
        self.kind = np.array([self.kinds[k] for k in kind], dtype=np.int16)
        self.kind_names = {v: k for k, v in self.kinds.items()}
        self.sidos = {k: n for n, k in enumerate(dict.fromkeys(sido))}
        self.sido = np.array([self.sidos[k] for k in sido], dtype=np.int32)
        pairs = list(zip(sido, sigungu, strict=True))
        self.sigungus = {k: n for n, k in enumerate(dict.fromkeys(pairs))}
        self.sigungu = np.array([self.sigungus[k] for k in pairs], dtype=np.int32)

    def select(self, filters: Filters) -> Any | None:
        """A boolean row mask for the filters; None when one needs SQL (a department outside departments.tsv)."""
        keep = np.ones(len(self.ids), dtype=bool)
        name = filters.name.strip()
        if name:  # the same literal, case-insensitive (for Latin letters) test as SQL's LIKE '%name%'
            low = name.lower()
            keep &= np.fromiter((low in n.lower() for n in self.names), dtype=bool, count=len(self.names))
        if filters.sido:
            keep &= self.sido == self.sidos.get(filters.sido, -1)
        if filters.sigungu:
            if filters.sido:
                keep &= self.sigungu == self.sigungus.get((filters.sido, filters.sigungu), -1)
            else:
                keep &= np.isin(self.sigungu, [v for (_, g), v in self.sigungus.items() if g == filters.sigungu])
        if filters.kinds:
            keep &= np.isin(self.kind, [self.kinds[k] for k in filters.kinds if k in self.kinds])
        if filters.er_only or filters.department == EMERGENCY:
            keep &= self.er
        if filters.department and filters.department != EMERGENCY:
            bit = _bits().get(filters.department)
            if bit is None:
                return None
            keep &= (self.mask & np.int64(1 << bit)) != 0
        return keep


@dataclass
class Region:
    sido: str
    sigungu: str
    emd: str
    count: int
    lat: float
    lon: float

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.sido, self.sigungu, self.emd) if p)


class SQLiteHospitals:
    """One SQLite file of institutions (never the notes database)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as con:
            con.executescript(_SCHEMA)
        # Filters that few institutions pass (a rare department, emergency rooms, hospital kinds): their rows are
        # kept here and searched exhaustively, which beats growing R-tree boxes full of rows the filter rejects.
        # Cleared whenever the data's generation (bumped by every write, from any process) changes.
        self._sparse: dict[Filters, _Rows | None] = {}
        self._generation: str | None = None
        self._columns: _Columns | None = None
        self._masks: dict[Filters, Any | None] = {}
        self.sparse_limit = _SPARSE

    @staticmethod
    def _bump(con: sqlite3.Connection) -> None:
        con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?)", (str(time.time_ns()),))

    @contextmanager
    def _conn(self, bulk: bool = False) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        if bulk:  # a rebuild or import rewrites everything: a crash mid-way is redone from the files
            con.execute("PRAGMA synchronous = OFF")
        try:
            with con:
                yield con
        finally:
            con.close()

    # -- metadata --------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        with self._conn() as con:
            return {r["key"]: r["value"] for r in con.execute("SELECT key, value FROM meta")}

    def set_meta(self, **values: str) -> None:
        with self._conn() as con:
            con.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    def count(self, kinds: Iterable[str] = ()) -> int:
        kinds = list(kinds)
        sql = "SELECT COUNT(*) FROM institutions"
        if kinds:
            sql += f" WHERE kind IN ({','.join('?' * len(kinds))})"
        with self._conn() as con:
            return int(con.execute(sql, kinds).fetchone()[0])

    def refresh_masks(self) -> None:
        """Recompute the department bit masks when departments.tsv changed since they were written."""
        signature = ",".join(_bits())
        if self.meta().get("dept_bits") == signature:
            return
        with self._conn(bulk=True) as con:
            rows = con.execute("SELECT id, departments FROM institutions").fetchall()
            con.executemany("UPDATE institutions SET dept_mask = ? WHERE id = ?",
                            [(dept_mask(decode_departments(r[1])), r[0]) for r in rows])
            con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dept_bits', ?)", (signature,))
            self._bump(con)

    # -- writing ---------------------------------------------------------------------------

    def replace(self, institutions: Iterable[Institution], kinds: Iterable[str] | None = None) -> int:
        """Put ``institutions`` in place of every stored one (or, with ``kinds``, of those kinds only), in bulk."""
        with self._conn(bulk=True) as con:
            if kinds is None:
                con.execute("DELETE FROM institutions")
                con.execute("DELETE FROM institutions_rtree")
            else:
                kinds = list(kinds)
                marks = ",".join("?" * len(kinds))
                con.execute(f"DELETE FROM institutions_rtree WHERE id IN (SELECT id FROM institutions WHERE kind IN ({marks}))",
                            kinds)
                con.execute(f"DELETE FROM institutions WHERE kind IN ({marks})", kinds)
            next_id = int(con.execute("SELECT COALESCE(MAX(id), 0) FROM institutions").fetchone()[0]) + 1
            rows, boxes = [], []
            for inst in {i.key: i for i in institutions}.values():  # a key given twice: the last one wins
                inst.id = next_id
                next_id += 1
                rows.append((inst.id, *self._values(inst)))
                if inst.lat is not None and inst.lon is not None:
                    boxes.append((inst.id, inst.lat, inst.lat, inst.lon, inst.lon))
            # A key already stored under another kind is replaced, and its box goes with it.
            con.executemany(f"INSERT OR REPLACE INTO institutions ({', '.join(_COLUMNS)}, dept_mask) "
                            f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})", rows)
            con.execute("DELETE FROM institutions_rtree WHERE id NOT IN (SELECT id FROM institutions)")
            con.executemany("INSERT INTO institutions_rtree VALUES (?, ?, ?, ?, ?)", boxes)
            con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dept_bits', ?)", (",".join(_bits()),))
            self._bump(con)
            return len(rows)

    def load(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Replace everything with rows already in column order (key … source, dept_mask): the shipped copy's fast
        path. Secondary indexes are built after the rows are in (one sort instead of 100k random inserts)."""
        with self._conn(bulk=True) as con:
            con.execute("DROP INDEX IF EXISTS institutions_kind")
            con.execute("DROP INDEX IF EXISTS institutions_region")
            con.execute("DELETE FROM institutions")
            con.execute("DELETE FROM institutions_rtree")
            cols = [c for c in _COLUMNS if c != "id"] + ["dept_mask"]
            con.executemany(f"INSERT INTO institutions (id, {', '.join(cols)}) VALUES ({', '.join('?' * (len(cols) + 1))})",
                            ((n, *r) for n, r in enumerate(rows, start=1)))
            con.execute("INSERT INTO institutions_rtree SELECT id, lat, lat, lon, lon FROM institutions "
                        "WHERE lat IS NOT NULL AND lon IS NOT NULL")
            con.executescript(_SCHEMA)
            con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dept_bits', ?)", (",".join(_bits()),))
            self._bump(con)
            return int(con.execute("SELECT COUNT(*) FROM institutions").fetchone()[0])

    @staticmethod
    def _values(inst: Institution) -> tuple[Any, ...]:
        return (inst.key, inst.name, inst.kind, inst.sido, inst.sigungu, inst.emd, inst.addr, inst.tel, inst.url,
                int(inst.doctors or 0), int(inst.beds or 0), inst.lat, inst.lon, int(inst.er), inst.er_note,
                encode_departments(inst.departments), int(inst.dept_inferred), inst.source, dept_mask(inst.departments))

    def set_departments(self, by_key: dict[str, list[tuple[str, int]]]) -> tuple[int, int]:
        """Departments (with specialist counts) for institutions known by key; returns (updated, unknown keys)."""
        updated = unknown = 0
        with self._conn(bulk=True) as con:
            for key, depts in by_key.items():
                cur = con.execute("UPDATE institutions SET departments = ?, dept_mask = ?, dept_inferred = 0 WHERE key = ?",
                                  (encode_departments(depts), dept_mask(depts), key))
                if cur.rowcount:
                    updated += 1
                else:
                    unknown += 1
            self._bump(con)
        return updated, unknown

    def set_emergency(self, by_key: dict[str, str]) -> tuple[int, int]:
        """Mark institutions (by key) as having an emergency room, with a note; returns (updated, unknown keys)."""
        updated = unknown = 0
        with self._conn(bulk=True) as con:
            for key, note in by_key.items():
                cur = con.execute("UPDATE institutions SET er = 1, er_note = CASE WHEN ? = '' THEN er_note ELSE ? END "
                                  "WHERE key = ?", (note, note, key))
                if cur.rowcount:
                    updated += 1
                else:
                    unknown += 1
            self._bump(con)
        return updated, unknown

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def _where(filters: Filters) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if filters.kinds:
            where.append(f"+i.kind IN ({','.join('?' * len(filters.kinds))})")  # + : never drive by the kind index
            args += list(filters.kinds)
        if filters.department == EMERGENCY or filters.er_only:
            where.append("i.er = 1")
        if filters.department and filters.department != EMERGENCY:
            bit = _bits().get(filters.department)
            if bit is not None:
                where.append("(i.dept_mask & ?) != 0")
                args.append(1 << bit)
            else:
                where.append("(';' || i.departments) LIKE ?")
                args.append(f"%;{filters.department}:%")
        if filters.name.strip():
            where.append("i.name LIKE ? ESCAPE '\\'")
            escaped = filters.name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        if filters.sido:
            where.append("i.sido = ?")
            args.append(filters.sido)
        if filters.sigungu:
            where.append("i.sigungu = ?")
            args.append(filters.sigungu)
        return where, args

    def get(self, inst_id: int) -> Institution | None:
        with self._conn() as con:
            r = con.execute(f"SELECT {_SELECT} FROM institutions i WHERE i.id = ?", (inst_id,)).fetchone()
        return _row(r) if r else None

    def get_many(self, ids: Iterable[int]) -> list[Institution]:
        ids = list(ids)
        if not ids:
            return []
        with self._conn() as con:
            rows = {r["id"]: _row(r) for r in con.execute(
                f"SELECT {_SELECT} FROM institutions i WHERE i.id IN ({','.join('?' * len(ids))})", ids)}
        return [rows[i] for i in ids if i in rows]

    def _box(self, con: sqlite3.Connection, south: float, west: float, north: float, east: float, filters: Filters,
             columns: str) -> list[sqlite3.Row]:
        where, args = self._where(filters)
        params: list[Any] = [south, north, west, east]
        if (north - south) * (east - west) > _SCAN_DEG2:  # most of the country: a plain scan beats the R-tree join
            sql = f"SELECT {columns} FROM institutions i WHERE i.lat BETWEEN ? AND ? AND i.lon BETWEEN ? AND ?"
        else:
            # CROSS JOIN: the R-tree drives, whatever index a filter column has.
            sql = (f"SELECT {columns} FROM institutions_rtree r CROSS JOIN institutions i ON i.id = r.id "
                   "WHERE r.max_lat >= ? AND r.min_lat <= ? AND r.max_lon >= ? AND r.min_lon <= ? "
                   "AND i.lat BETWEEN ? AND ? AND i.lon BETWEEN ? AND ?")
            params += [south, north, west, east]
        if where:
            sql += " AND " + " AND ".join(where)
        return con.execute(sql, params + args).fetchall()

    def in_bounds(self, bounds: Bounds, filters: Filters = NO_FILTERS, limit: int | None = None) -> list[Institution]:
        """Every institution inside the bounds that passes the filters (full rows: for small areas)."""
        with self._conn() as con:
            rows = self._box(con, bounds.south, bounds.west, bounds.north, bounds.east, filters, _SELECT)
        out = [_row(r) for r in rows[: limit if limit is not None else len(rows)]]
        return out

    def points_in_bounds(self, bounds: Bounds, filters: Filters = NO_FILTERS) -> list[tuple[int, float, float, str, str]]:
        """(id, lat, lon, name, kind) of the institutions inside the bounds: what the clustered layer needs. Small
        bounds go through the R-tree; a view of most of the country is one vectorised pass over the cached columns."""
        with self._conn() as con:
            area = (bounds.north - bounds.south) * (bounds.east - bounds.west)
            if area > _SCAN_DEG2:
                self.generation(con)
                keep = self._keep(con, filters)
                cols = self._columns
                if keep is not None and cols is not None:
                    keep = keep & (cols.lat >= bounds.south) & (cols.lat <= bounds.north)
                    keep &= (cols.lon >= bounds.west) & (cols.lon <= bounds.east)
                    return [(int(cols.ids[i]), float(cols.lat[i]), float(cols.lon[i]), cols.names[i],
                             cols.kind_names[int(cols.kind[i])]) for i in np.flatnonzero(keep)]
            rows = self._box(con, bounds.south, bounds.west, bounds.north, bounds.east, filters,
                             "i.id, i.lat, i.lon, i.name, i.kind")
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def near(self, lat: float, lon: float, filters: Filters = NO_FILTERS, limit: int = 10) -> list[Nearby]:
        """The ``limit`` institutions nearest to (lat, lon) that pass the filters, nearest first (exact).

        Each round asks the R-tree for the box around the circle of radius r. Once the box holds ``limit`` rows, the
        distance d of the ``limit``-th nearest of them bounds the answer: if d ≤ r they are the answer (anything
        outside the box is farther than r); otherwise one more round with r = d is exact. Empty boxes double r.
        Filters few institutions pass are answered from their cached rows instead (see ``_few``)."""
        if limit <= 0:
            return []
        radius = 1.0
        with self._conn() as con:
            few = self._few(con, filters)
            if few is not None:
                return self._nearby(few.nearest(lat, lon, limit))
            while True:
                dlat = radius / _KM_PER_DEG
                edge = min(89.9, abs(lat) + dlat)
                dlon = radius / (_KM_PER_DEG * max(math.cos(math.radians(edge)), 1e-6))
                whole = radius >= _MAX_RADIUS_KM or dlon >= 180
                if whole:
                    south, west, north, east = -90.0, -180.0, 90.0, 180.0
                else:
                    south, west, north, east = max(-90.0, lat - dlat), lon - dlon, min(90.0, lat + dlat), lon + dlon
                rows = self._box(con, south, west, north, east, filters, "i.id, i.lat, i.lon")
                found = sorted((haversine_km(lat, lon, r[1], r[2]), r[0]) for r in rows)
                if whole or (len(found) >= limit and found[limit - 1][0] <= radius):
                    return self._nearby(found[:limit])
                if len(found) >= limit:
                    radius = found[limit - 1][0] * 1.000001  # the next round is the last
                else:
                    growth = 2.0 if not found else min(4.0, max(2.0, math.sqrt(limit / len(found))))
                    radius = min(_MAX_RADIUS_KM, radius * growth)

    def _nearby(self, best: list[tuple[float, int]]) -> list[Nearby]:
        institutions = {i.id: i for i in self.get_many([b[1] for b in best])}
        return [Nearby(institutions[i], km) for km, i in best if i in institutions]

    def generation(self, con: sqlite3.Connection | None = None) -> str:
        """Changes with every write (from any process); caches built from the data compare it."""
        if con is None:
            with self._conn() as own:
                return self.generation(own)
        row = con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        generation = str(row[0]) if row else ""
        if generation != self._generation or len(self._sparse) > 256:
            self._sparse, self._masks, self._columns, self._generation = {}, {}, None, generation
        return generation

    def _few(self, con: sqlite3.Connection, filters: Filters) -> _Rows | None:
        """The rows passing ``filters`` when at most ``sparse_limit`` do, else None (then the R-tree answers)."""
        self.generation(con)
        if filters in self._sparse:
            return self._sparse[filters]
        if not self._where(filters)[0]:
            return None
        keep = self._keep(con, filters)
        if keep is None:  # a department outside departments.tsv: ask SQL
            where, args = self._where(filters)
            got = con.execute(f"SELECT i.id, i.lat, i.lon FROM institutions i WHERE i.lat IS NOT NULL AND i.lon IS NOT "
                              f"NULL AND {' AND '.join(where)} LIMIT {self.sparse_limit + 1}", args).fetchall()
            rows = _Rows.of(got) if len(got) <= self.sparse_limit else None
        elif int(keep.sum()) <= self.sparse_limit:
            cols = self._columns
            assert cols is not None
            rows = _Rows(cols.ids[keep], cols.lat[keep], cols.lon[keep])
        else:
            rows = None
        if rows is None or len(rows.ids) <= 5000:  # small enough to keep; bigger ones are cut from the mask again
            self._sparse[filters] = rows
        return rows

    def _keep(self, con: sqlite3.Connection, filters: Filters) -> Any | None:
        """The cached boolean mask of the rows passing ``filters`` (None when SQL must decide)."""
        if self._columns is None:
            self._columns = _Columns(con)
        if filters not in self._masks:
            if len(self._masks) > 64:
                self._masks.clear()
            self._masks[filters] = self._columns.select(filters)
        return self._masks[filters]

    def regions(self) -> list[Region]:
        """시도 / 시군구 / 읍면동 groups with their institution counts and centroids (for typing a district)."""
        with self._conn() as con:
            rows = con.execute(
                "SELECT sido, sigungu, emd, COUNT(*), AVG(lat), AVG(lon) FROM institutions WHERE lat IS NOT NULL "
                "GROUP BY sido, sigungu, emd").fetchall()
        return [Region(r[0], r[1], r[2], int(r[3]), float(r[4]), float(r[5])) for r in rows]

    def density(self, filters: Filters = NO_FILTERS) -> list[Region]:
        """Institutions per 시군구 (passing the filters) with centroids: the managers' density layer."""
        where, args = self._where(filters)
        sql = ("SELECT i.sido, i.sigungu, COUNT(*), AVG(i.lat), AVG(i.lon) FROM institutions i WHERE i.lat IS NOT NULL"
               + "".join(f" AND {w}" for w in where) + " GROUP BY i.sido, i.sigungu ORDER BY COUNT(*) DESC")
        with self._conn() as con:
            rows = con.execute(sql, args).fetchall()
        return [Region(r[0], r[1], "", int(r[2]), float(r[3]), float(r[4])) for r in rows]

    def offered_departments(self) -> list[tuple[str, int]]:
        """(진료과목, institutions offering it), most first."""
        counts: dict[str, int] = {}
        with self._conn() as con:
            for mask, raw, n in con.execute(
                    "SELECT dept_mask, MIN(departments), COUNT(*) FROM institutions WHERE dept_mask != 0 GROUP BY dept_mask"):
                names = [name for name, bit in _bits().items() if mask >> bit & 1]
                if mask >> _OTHER_BIT & 1:
                    names += [d for d, _ in decode_departments(raw) if d not in _bits()]
                for name in names:
                    counts[name] = counts.get(name, 0) + int(n)
        return sorted(counts.items(), key=lambda kv: -kv[1])

    def kinds(self) -> list[tuple[str, int]]:
        with self._conn() as con:
            return [(r[0], int(r[1])) for r in con.execute(
                "SELECT kind, COUNT(*) FROM institutions GROUP BY kind ORDER BY COUNT(*) DESC")]

    def all(self, filters: Filters = NO_FILTERS) -> list[Institution]:
        where, args = self._where(filters)
        sql = f"SELECT {_SELECT} FROM institutions i" + (" WHERE " + " AND ".join(where) if where else "")
        with self._conn() as con:
            return [_row(r) for r in con.execute(sql, args)]


def stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")
