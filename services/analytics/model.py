"""What analytics asks and answers, and the small port a store implements to answer it.

Counting rule everywhere: a note counts once for a term (the normalized form, else the mention's text
without whitespace) when it has at least one mention of that term whose assertion flags are all asked for;
affirmed mentions (no flag) always count. Entities are the ones in force for the note: the latest
clinician review, else the latest machine extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, Protocol

ASSERTIONS: tuple[str, ...] = ("negated", "uncertain", "historical", "family")
GRAINS: tuple[str, ...] = ("day", "week", "month")
Grain = Literal["day", "week", "month"]
SEXES: tuple[str, ...] = ("M", "F")
# Ten-year bands 0–9 … 70–79, then 80 and over.
AGE_BANDS: tuple[int, ...] = tuple(range(9))
UNKNOWN = ""  # a note with no department, in series and drill-downs


def age_band(age: int | None) -> int | None:
    if age is None:
        return None
    return min(age // 10, AGE_BANDS[-1])


def age_band_bounds(band: int) -> tuple[int, int | None]:
    return (band * 10, None if band == AGE_BANDS[-1] else band * 10 + 9)


@dataclass(frozen=True)
class Period:
    """Visit dates from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def ending(cls, end: date, days: int) -> Period:
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period.ending(self.start - timedelta(days=1), self.days)


@dataclass(frozen=True)
class Filter:
    category: str = "symptom"
    departments: tuple[str, ...] = ()
    age_bands: tuple[int, ...] = ()
    sexes: tuple[str, ...] = ()
    include: frozenset[str] = frozenset()  # assertion kinds counted besides affirmed mentions

    def __post_init__(self) -> None:
        unknown = set(self.include) - set(ASSERTIONS)
        if unknown:
            raise ValueError(f"unknown assertion kinds: {sorted(unknown)}")
        if set(self.sexes) - set(SEXES):
            raise ValueError(f"sex must be one of {SEXES}")
        if set(self.age_bands) - set(AGE_BANDS):
            raise ValueError(f"age bands are {AGE_BANDS[0]}…{AGE_BANDS[-1]}")


@dataclass(frozen=True)
class Drill:
    """What a chart selection points at; every part that is set narrows the notes."""

    term: str | None = None
    other_term: str | None = None  # a co-occurrence cell: notes with both terms
    bucket: date | None = None  # the first day of a day/week/month bucket of ``grain``
    grain: Grain = "day"
    department: str | None = None  # UNKNOWN for notes without one
    age_band: int | None = None
    sex: str | None = None


@dataclass(frozen=True)
class TermCount:
    term: str
    notes: int


@dataclass(frozen=True)
class SeriesPoint:
    bucket: date
    key: str  # a term or a department, or "" for the note count
    notes: int


@dataclass(frozen=True)
class PairCount:
    term: str
    other: str
    notes: int


@dataclass(frozen=True)
class GroupCount:
    age_band: int | None
    sex: str | None
    notes: int


@dataclass(frozen=True)
class NoteRef:
    """A note behind a chart: header fields only, never its text."""

    note_id: str
    visit_date: str | None
    department: str | None
    age: int | None
    sex: str | None
    filename: str


@dataclass(frozen=True)
class NoteList:
    total: int
    notes: list[NoteRef] = field(default_factory=list)


class AnalyticsBackend(Protocol):
    """Aggregations a store runs itself (SQL over indexed entity rows, or search-engine aggregations).

    Every method counts notes, not mentions, under the rule in this module's docstring, restricted to
    notes whose visit date lies in ``period`` and that match ``flt``.
    """

    def date_bounds(self) -> tuple[date | None, date | None]: ...

    def departments(self) -> list[str]: ...

    def note_count(self, flt: Filter, period: Period) -> int: ...

    def term_counts(self, flt: Filter, period: Period, limit: int | None = None) -> list[TermCount]:
        """Terms of ``flt.category`` by notes, most first, ties by term."""
        ...

    def note_series(self, flt: Filter, period: Period, grain: Grain) -> list[SeriesPoint]: ...

    def term_series(self, flt: Filter, period: Period, grain: Grain, terms: list[str]) -> list[SeriesPoint]: ...

    def department_series(self, flt: Filter, period: Period, grain: Grain) -> list[SeriesPoint]: ...

    def pair_counts(self, flt: Filter, period: Period, terms: list[str]) -> list[PairCount]:
        """Notes with both terms, for every ordered pair (a term with itself: notes with it)."""
        ...

    def group_counts(self, flt: Filter, period: Period, term: str) -> list[GroupCount]:
        """Notes with ``term`` by age band and sex (None where the note has no age or sex)."""
        ...

    def notes(self, flt: Filter, period: Period, drill: Drill, limit: int) -> NoteList:
        """The notes behind a selection, latest visit first, and how many there are in all."""
        ...
