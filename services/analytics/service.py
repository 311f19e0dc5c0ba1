"""Rankings with rank change, trends, department mix, co-occurrence and age × sex for the Analytics
page and the ``rank`` command. Counting happens in the backend; this layer only shapes the answers."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from services.analytics.model import (
    AGE_BANDS,
    AnalyticsBackend,
    Drill,
    Filter,
    Grain,
    NoteList,
    Period,
)
from services.analytics.periods import buckets


@dataclass(frozen=True)
class RankRow:
    rank: int
    term: str
    notes: int
    share: float  # of the period's notes that match the filter
    previous_rank: int | None  # None: no note had the term in the previous period
    previous_notes: int

    @property
    def change(self) -> str:
        """``new``, ``up``, ``down`` or ``same``."""
        if self.previous_rank is None:
            return "new"
        if self.previous_rank > self.rank:
            return "up"
        return "down" if self.previous_rank < self.rank else "same"

    @property
    def delta(self) -> int:
        """Places gained since the previous period (negative: lost)."""
        return 0 if self.previous_rank is None else self.previous_rank - self.rank

    def marker(self, new: str = "new") -> str:
        return {"new": new, "up": f"▲{self.delta}", "down": f"▼{-self.delta}", "same": "–"}[self.change]


@dataclass(frozen=True)
class Ranking:
    filter: Filter
    period: Period
    previous: Period
    notes: int  # notes in the period matching the filter
    previous_notes: int
    rows: list[RankRow] = field(default_factory=list)


@dataclass(frozen=True)
class Series:
    """Counts per bucket for a few keys (terms or departments), with the notes of each bucket as context."""

    grain: Grain
    buckets: list[date]
    notes: list[int]
    values: dict[str, list[int]]


@dataclass(frozen=True)
class Cooccurrence:
    terms: list[str]
    matrix: list[list[int]]  # matrix[i][j]: notes with terms[i] and terms[j]; the diagonal, notes with terms[i]


@dataclass(frozen=True)
class PyramidRow:
    age_band: int
    male: int
    female: int


@dataclass(frozen=True)
class Pyramid:
    term: str
    rows: list[PyramidRow]
    unknown: int  # notes with the term but no age or no sex


def competition_ranks(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """1, 2, 2, 4 …: a term's rank is one more than the number of terms counted more often."""
    ranks: dict[str, int] = {}
    ordered = sorted(counts, key=lambda tc: -tc[1])
    for i, (term, n) in enumerate(ordered):
        ranks[term] = i + 1 if i == 0 or n != ordered[i - 1][1] else ranks[ordered[i - 1][0]]
    return ranks


def rank_rows(current: Sequence[tuple[str, int]], previous: Sequence[tuple[str, int]], notes: int) -> list[RankRow]:
    """Rows for the ``current`` counts (most first), ranked against ``previous``: every term of the previous
    period, so a term's previous rank is its place among all of them."""
    now = competition_ranks(current)
    before = competition_ranks(previous)
    prev_counts = dict(previous)
    return [
        RankRow(now[term], term, n, n / notes if notes else 0.0, before.get(term), prev_counts.get(term, 0))
        for term, n in current
    ]


class AnalyticsService:
    def __init__(self, backend: AnalyticsBackend) -> None:
        self.backend = backend

    def default_period(self, days: int = 30, today: date | None = None) -> Period:
        """The last ``days`` days up to the latest visit on record (today when there is none)."""
        _, latest = self.backend.date_bounds()
        return Period.ending(latest or today or date.today(), days)

    def date_bounds(self) -> tuple[date | None, date | None]:
        return self.backend.date_bounds()

    def departments(self) -> list[str]:
        return self.backend.departments()

    def ranking(self, flt: Filter, period: Period, top: int = 10) -> Ranking:
        current = self.backend.term_counts(flt, period, limit=top)
        previous_period = period.previous()
        # All of the previous period's terms: a term's previous rank is its place among every one of them.
        previous = self.backend.term_counts(flt, previous_period)
        notes = self.backend.note_count(flt, period)
        rows = rank_rows([(c.term, c.notes) for c in current], [(c.term, c.notes) for c in previous], notes)
        return Ranking(flt, period, previous_period, notes, self.backend.note_count(flt, previous_period), rows)

    def top_terms(self, flt: Filter, period: Period, top: int = 10) -> list[str]:
        return [c.term for c in self.backend.term_counts(flt, period, limit=top)]

    def term_trends(self, flt: Filter, period: Period, grain: Grain, terms: list[str]) -> Series:
        days = buckets(period, grain)
        notes = {p.bucket: p.notes for p in self.backend.note_series(flt, period, grain)}
        values = {term: [0] * len(days) for term in terms}
        index = {d: i for i, d in enumerate(days)}
        for p in self.backend.term_series(flt, period, grain, terms):
            values[p.key][index[p.bucket]] = p.notes
        return Series(grain, days, [notes.get(d, 0) for d in days], values)

    def department_mix(self, flt: Filter, period: Period, grain: Grain) -> Series:
        """Notes per department and bucket, departments with the most notes first."""
        days = buckets(period, grain)
        index = {d: i for i, d in enumerate(days)}
        values: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
        totals = [0] * len(days)
        for p in self.backend.department_series(flt, period, grain):
            values[p.key][index[p.bucket]] += p.notes
            totals[index[p.bucket]] += p.notes
        ordered = sorted(values, key=lambda k: (-sum(values[k]), k))
        return Series(grain, days, totals, {k: values[k] for k in ordered})

    def cooccurrence(self, flt: Filter, period: Period, top: int = 10) -> Cooccurrence:
        terms = self.top_terms(flt, period, top)
        pos = {t: i for i, t in enumerate(terms)}
        matrix = [[0] * len(terms) for _ in terms]
        for p in self.backend.pair_counts(flt, period, terms):
            matrix[pos[p.term]][pos[p.other]] = p.notes
        return Cooccurrence(terms, matrix)

    def pyramid(self, flt: Filter, period: Period, term: str) -> Pyramid:
        rows = {band: [0, 0] for band in AGE_BANDS}
        unknown = 0
        for g in self.backend.group_counts(flt, period, term):
            if g.age_band is None or g.sex not in ("M", "F"):
                unknown += g.notes
            else:
                rows[g.age_band][0 if g.sex == "M" else 1] += g.notes
        return Pyramid(term, [PyramidRow(b, m, f) for b, (m, f) in rows.items()], unknown)

    def notes(self, flt: Filter, period: Period, drill: Drill, limit: int = 200) -> NoteList:
        return self.backend.notes(flt, period, drill, limit)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Korean headers and terms correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")
