"""Analytics over the SQLite store: GROUP BY queries over ``note_terms``, the indexed entity rows.

Migration 004 keeps ``note_terms`` in step with ``current_entities`` (the entities in force: the latest
review, else the latest extraction) by triggers: one row per note, category, term and assertion flags, with
the note's visit date, department, age and sex beside it. A ranking over a period is then one range scan of
``note_terms_period``; a few chosen terms use ``note_terms_term``. Note-level counts read the
``notes_analytics_period`` index, never the note rows (they hold the whole text).
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, Protocol

from services.analytics.model import (
    AGE_BANDS,
    ASSERTIONS,
    Drill,
    Filter,
    Grain,
    GroupCount,
    NoteList,
    NoteRef,
    PairCount,
    Period,
    SeriesPoint,
    TermCount,
)
from services.analytics.periods import bucket_end

log = logging.getLogger(__name__)

FLAG_BITS: dict[str, int] = {"negated": 1, "uncertain": 2, "historical": 4, "family": 8}  # as migration 004 stores them
_LAST = AGE_BANDS[-1]


def _age_band(alias: str) -> str:
    return f"CASE WHEN {alias}.age IS NULL THEN NULL WHEN {alias}.age >= {_LAST * 10} THEN {_LAST} ELSE {alias}.age / 10 END"


def _bucket(alias: str, grain: Grain) -> str:
    return {
        "day": f"{alias}.visit_date",
        "week": f"date({alias}.visit_date, '-6 days', 'weekday 1')",  # the Monday on or before the visit
        "month": f"substr({alias}.visit_date, 1, 8) || '01'",
    }[grain]


class _Connects(Protocol):
    def connection(self) -> AbstractContextManager[sqlite3.Connection]: ...


def _marks(values: tuple[Any, ...] | list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _where(flt: Filter, period: Period, alias: str) -> tuple[str, list[Any]]:
    """Period, department, sex and age band: columns both ``notes`` and ``note_terms`` have."""
    clauses = [f"{alias}.visit_date BETWEEN ? AND ?"]
    args: list[Any] = [period.start.isoformat(), period.end.isoformat()]
    if flt.departments:
        clauses.append(f"{alias}.department IN ({_marks(flt.departments)})")
        args += list(flt.departments)
    if flt.sexes:
        clauses.append(f"{alias}.sex IN ({_marks(flt.sexes)})")
        args += list(flt.sexes)
    if flt.age_bands:
        clauses.append(f"({_age_band(alias)}) IN ({_marks(flt.age_bands)})")
        args += list(flt.age_bands)
    return " AND ".join(clauses), args


def _allowed_flags(flt: Filter) -> list[int]:
    """The flag values a counted row may have, as an IN list (one index range per value)."""
    excluded = sum(bit for kind, bit in FLAG_BITS.items() if kind not in flt.include)
    return [flags for flags in range(16) if flags & excluded == 0]


def _terms_where(flt: Filter, period: Period, alias: str = "t") -> tuple[str, list[Any]]:
    """The filter on ``note_terms``: category, the assertion rule (a row with any flag that was not asked for is
    left out; affirmed rows always count) and the note filters."""
    allowed = _allowed_flags(flt)
    where, args = _where(flt, period, alias)
    return (f"{alias}.category = ? AND {alias}.flags IN ({_marks(allowed)}) AND {where}",
            [flt.category, *allowed, *args])


assert set(FLAG_BITS) == set(ASSERTIONS)


class SQLiteAnalytics:
    def __init__(self, store: _Connects) -> None:
        self.store = store

    def _rows(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        with self.store.connection() as con:
            return con.execute(sql, args).fetchall()

    def date_bounds(self) -> tuple[date | None, date | None]:
        rows = self._rows(
            "SELECT (SELECT MIN(visit_date) FROM notes WHERE visit_date IS NOT NULL) AS lo,"
            " (SELECT MAX(visit_date) FROM notes) AS hi", [])
        lo, hi = rows[0]["lo"], rows[0]["hi"]
        return (date.fromisoformat(lo) if lo else None, date.fromisoformat(hi) if hi else None)

    def departments(self) -> list[str]:
        # One index seek per department (a skip scan), not a pass over every note.
        return [r[0] for r in self._rows(
            "WITH RECURSIVE d(name) AS (SELECT MIN(department) FROM notes WHERE department > ''"
            " UNION ALL SELECT (SELECT MIN(department) FROM notes WHERE department > d.name) FROM d WHERE d.name IS NOT NULL)"
            " SELECT name FROM d WHERE name IS NOT NULL", [])]

    def note_count(self, flt: Filter, period: Period) -> int:
        where, args = _where(flt, period, "n")
        return int(self._rows(f"SELECT COUNT(*) FROM notes n WHERE {where}", args)[0][0])

    def _ranking_index(self, period: Period) -> str:
        """A short period is a range of ``note_terms_period`` (then sorted by term); one covering most of the
        history is cheaper read whole in term order from ``note_terms_term``, with no sort. SQLite cannot tell
        without range statistics, so the share of the recorded visit dates the period covers decides."""
        lo, hi = self.date_bounds()
        if lo is None or hi is None:
            return "note_terms_period"
        overlap = (min(hi, period.end) - max(lo, period.start)).days + 1
        return "note_terms_term" if overlap * 2 > (hi - lo).days + 1 else "note_terms_period"

    def term_counts(self, flt: Filter, period: Period, limit: int | None = None) -> list[TermCount]:
        where, args = _terms_where(flt, period)
        # DISTINCT: a note with the term both affirmed and (asked-for) negated still counts once.
        sql = (f"SELECT t.term AS term, COUNT(DISTINCT t.note_id) AS notes"
               f" FROM note_terms t INDEXED BY {self._ranking_index(period)} WHERE {where}"
               " GROUP BY t.term ORDER BY notes DESC, t.term")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [TermCount(r["term"], r["notes"]) for r in self._rows(sql, args)]

    def note_series(self, flt: Filter, period: Period, grain: Grain) -> list[SeriesPoint]:
        where, args = _where(flt, period, "n")
        bucket = _bucket("n", grain)
        sql = f"SELECT {bucket} AS bucket, COUNT(*) AS notes FROM notes n WHERE {where} GROUP BY bucket ORDER BY bucket"
        return [SeriesPoint(date.fromisoformat(r["bucket"]), "", r["notes"]) for r in self._rows(sql, args)]

    def term_series(self, flt: Filter, period: Period, grain: Grain, terms: list[str]) -> list[SeriesPoint]:
        if not terms:
            return []
        where, args = _terms_where(flt, period)
        sql = (f"SELECT {_bucket('t', grain)} AS bucket, t.term AS term, COUNT(DISTINCT t.note_id) AS notes"
               f" FROM note_terms t WHERE {where} AND t.term IN ({_marks(terms)})"
               " GROUP BY bucket, t.term ORDER BY bucket, t.term")
        return [SeriesPoint(date.fromisoformat(r["bucket"]), r["term"], r["notes"])
                for r in self._rows(sql, [*args, *terms])]

    def department_series(self, flt: Filter, period: Period, grain: Grain) -> list[SeriesPoint]:
        where, args = _where(flt, period, "n")
        sql = (f"SELECT {_bucket('n', grain)} AS bucket, COALESCE(n.department, '') AS dept, COUNT(*) AS notes"
               f" FROM notes n WHERE {where} GROUP BY bucket, dept ORDER BY bucket, dept")
        return [SeriesPoint(date.fromisoformat(r["bucket"]), r["dept"], r["notes"]) for r in self._rows(sql, args)]

    def pair_counts(self, flt: Filter, period: Period, terms: list[str]) -> list[PairCount]:
        if not terms:
            return []
        # Each note's set of the chosen terms as a bit mask, counted per mask in SQL: at most 2^len(terms) rows come
        # back (a few dozen in practice), and the pairs are read off the masks.
        where, args = _terms_where(flt, period)
        bit = "CASE t.term " + " ".join(f"WHEN ? THEN {1 << i}" for i in range(len(terms))) + " END"
        sql = (f"SELECT mask, COUNT(*) AS notes FROM (SELECT t.note_id, SUM(DISTINCT {bit}) AS mask FROM note_terms t"
               f" WHERE {where} AND t.term IN ({_marks(terms)}) GROUP BY t.note_id) GROUP BY mask")
        pairs: dict[tuple[int, int], int] = {}
        for r in self._rows(sql, [*terms, *args, *terms]):
            present = [i for i in range(len(terms)) if r["mask"] >> i & 1]
            for i in present:
                for j in present:
                    pairs[i, j] = pairs.get((i, j), 0) + r["notes"]
        return [PairCount(terms[i], terms[j], n) for (i, j), n in sorted(pairs.items())]

    def group_counts(self, flt: Filter, period: Period, term: str) -> list[GroupCount]:
        where, args = _terms_where(flt, period)
        sql = (f"SELECT {_age_band('t')} AS band, t.sex AS sex, COUNT(DISTINCT t.note_id) AS notes FROM note_terms t"
               f" WHERE {where} AND t.term = ? GROUP BY band, t.sex ORDER BY band, t.sex")
        return [GroupCount(r["band"], r["sex"], r["notes"]) for r in self._rows(sql, [*args, term])]

    def notes(self, flt: Filter, period: Period, drill: Drill, limit: int) -> NoteList:
        alias = "n" if drill.term is None else "t"
        extra, extra_args = "", list[Any]()
        if drill.bucket is not None:
            extra += f" AND {alias}.visit_date BETWEEN ? AND ?"
            extra_args += [drill.bucket.isoformat(), bucket_end(drill.bucket, drill.grain).isoformat()]
        if drill.department is not None:
            extra += f" AND COALESCE({alias}.department, '') = ?"
            extra_args.append(drill.department)
        if drill.age_band is not None:
            extra += f" AND ({_age_band(alias)}) = ?"
            extra_args.append(drill.age_band)
        if drill.sex is not None:
            extra += f" AND {alias}.sex = ?"
            extra_args.append(drill.sex)
        if drill.term is None:
            where, args = _where(flt, period, "n")
            hits = f"SELECT n.id AS note_id, n.visit_date AS visit_date FROM notes n WHERE {where}{extra}"
        else:
            where, args = _terms_where(flt, period, "t")
            hits = f"SELECT DISTINCT t.note_id AS note_id, t.visit_date AS visit_date FROM note_terms t WHERE {where}"
            hits += f" AND t.term = ?{extra}"
            args += [drill.term]
            if drill.other_term is not None:
                other, other_args = _terms_where(flt, period, "o")
                hits += f" AND t.note_id IN (SELECT o.note_id FROM note_terms o WHERE {other} AND o.term = ?)"
                extra_args += [*other_args, drill.other_term]
        args += extra_args
        total = int(self._rows(f"SELECT COUNT(*) FROM ({hits})", args)[0][0])
        # Only the notes shown are read from the notes table (for the file name).
        rows = self._rows(
            f"SELECT n.id, n.visit_date, n.department, n.age, n.sex, n.filename"
            f" FROM (SELECT * FROM ({hits}) ORDER BY visit_date DESC, note_id LIMIT ?) h JOIN notes n ON n.id = h.note_id"
            " ORDER BY n.visit_date DESC, n.id", [*args, limit])
        return NoteList(total, [NoteRef(r["id"], r["visit_date"], r["department"], r["age"], r["sex"], r["filename"])
                                for r in rows])
