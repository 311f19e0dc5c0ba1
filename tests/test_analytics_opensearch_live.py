"""Analytics on a real OpenSearch cluster give the same answers as SQLite for the same notes: runs only when
OPENSEARCH_URL is set (skipped otherwise).

    OPENSEARCH_URL=https://admin:password@localhost:9200 NOTELENS_OPENSEARCH_AUTH=basic \\
        pytest tests/test_analytics_opensearch_live.py

The same notes (machine output and reviews; every assertion flag; synonyms and spacing variants; no visit date, no
department, no age or sex; ages in every band) are stored in SQLite, indexed into OpenSearch through the search
service's reindex from RecordDocs (the NoteStore protocol, as DynamoDB feeds it), and every AnalyticsBackend method
is asked the same questions of both. The cluster needs the analysis-nori plugin (the index template uses it). Each
run uses its own alias and deletes its indices and template afterwards.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from services.analytics import AnalyticsBackend, Drill, Filter, Period
from services.analytics.opensearch import OpenSearchAnalytics
from services.analytics.sqlite import SQLiteAnalytics
from services.config import load_settings
from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.search.opensearch_backend import OpenSearchBackend, check, connect
from services.search.service import SavedSearches, SearchService
from services.search.source import RecordDocs
from services.wiring import App

pytestmark = pytest.mark.skipif(not os.environ.get("OPENSEARCH_URL"), reason="OPENSEARCH_URL is not set")

TERMS = {
    "symptom": [("기침", None), ("발열", None), ("두통", None), ("가슴 통증", "흉통"), ("흉통", "흉통"), ("chest pain", "흉통"),
                ("옆구리 결림", None), ("옆구리결림", ""), ("Chest Pain", None)],
    "diagnosis": [("폐렴", None), ("고혈압", "고혈압"), ("당뇨병", None)],
    "medication": [("아스피린", None), ("타이레놀", "아세트아미노펜")],
}
DEPARTMENTS = ["호흡기내과", "순환기내과", "신경과", "내과", None]
START = date(2024, 11, 25)
WIDE = Period(date(2024, 11, 1), date(2025, 3, 31))
PERIODS = [WIDE, Period(date(2025, 1, 1), date(2025, 1, 31)), Period(date(2025, 2, 2), date(2025, 2, 9)),
           Period(date(2023, 1, 1), date(2023, 1, 31))]  # the last holds no note
FILTERS = [
    Filter(),
    Filter(include=frozenset({"negated"})),
    Filter(include=frozenset({"uncertain", "family"})),
    Filter(include=frozenset({"negated", "uncertain", "historical", "family"})),
    Filter(category="diagnosis"),
    Filter(category="medication", include=frozenset({"historical"})),
    Filter(departments=("호흡기내과", "신경과")),
    Filter(age_bands=(0, 3, 8)),
    Filter(sexes=("F",)),
    Filter(departments=("순환기내과",), sexes=("M",), age_bands=(5, 6, 7), include=frozenset({"negated"})),
]


def _entities(rng: random.Random) -> list[Entity]:
    out = []
    for _ in range(rng.randint(0, 6)):
        category = rng.choice(list(TERMS))
        text, normalized = rng.choice(TERMS[category])
        flags = {flag: rng.random() < 0.15 for flag in ("negated", "uncertain", "historical", "family")}
        out.append(Entity(category=Category(category), text=text, begin=0, end=len(text), normalized=normalized,
                          **flags))
    return out


def _fields(rng: random.Random) -> NoteFields:
    day = START + timedelta(days=rng.randint(0, 125))
    return NoteFields(visit_date=None if rng.random() < 0.05 else day.isoformat(), department=rng.choice(DEPARTMENTS),
                      age=None if rng.random() < 0.1 else rng.choice([3, 17, 34, 39, 45, 58, 63, 71, 80, 95]),
                      sex=rng.choice(["M", "F", None]))


def fill(app: App, notes: int = 120) -> None:
    rng = random.Random(13)
    for i in range(notes):
        note = app.notes.ingest(f"n{i:03d}.txt", f"note {i}".encode(), process=False).note
        ext = app.store.add_extraction(note.id, ExtractionResult(engine="test", entities=_entities(rng),
                                                                 fields=_fields(rng)), 1.0)
        if rng.random() < 0.25:  # a review replaces entities and fields; a later machine run changes neither
            app.store.add_review(note.id, ext.id, "Dr. Live", _entities(rng), _fields(rng), {})
            if rng.random() < 0.5:
                app.store.add_extraction(note.id, ExtractionResult(engine="test", entities=_entities(rng),
                                                                   fields=_fields(rng)), 1.0)
    app.notes.ingest("unprocessed.txt", "처리 전".encode(), process=False)


@pytest.fixture
def both(app: App) -> Iterator[tuple[SQLiteAnalytics, OpenSearchAnalytics]]:
    fill(app)
    settings = load_settings()
    alias = f"notelens-test-{uuid.uuid4().hex[:8]}"
    backend = OpenSearchBackend(connect(settings.opensearch_auth), alias=alias)
    service = SearchService(backend, RecordDocs(app.store), SavedSearches(settings.db_path))
    try:
        assert service.reindex().notes == 121
        yield SQLiteAnalytics(app.store), OpenSearchAnalytics(backend.client, alias=alias)
    finally:
        client = backend.client
        for index in client.indices.get(index=f"{alias}-*", ignore=[404]) or {}:
            if index.startswith(alias):
                client.indices.delete(index=index, ignore_unavailable=True)
        client.indices.delete_index_template(name=alias, ignore=[404])


def assert_same(expected: AnalyticsBackend, actual: AnalyticsBackend) -> int:
    """Every method, on every filter and period (and grain, term and drill), gives the same answer from both.
    Returns how many questions were asked."""
    asked = 0

    def same(what: str, a: object, b: object) -> None:
        nonlocal asked
        asked += 1
        assert a == b, what

    same("date_bounds", expected.date_bounds(), actual.date_bounds())
    same("departments", expected.departments(), actual.departments())
    for flt in FILTERS:
        for period in PERIODS:
            where = f"{flt} {period}"
            same(f"note_count {where}", expected.note_count(flt, period), actual.note_count(flt, period))
            counts = expected.term_counts(flt, period)
            same(f"term_counts {where}", counts, actual.term_counts(flt, period))
            for limit in (0, 1, 3):
                same(f"term_counts[{limit}] {where}", expected.term_counts(flt, period, limit),
                     actual.term_counts(flt, period, limit))
            terms = [c.term for c in counts[:5]] + ["없는용어"]
            for grain in ("day", "week", "month"):
                same(f"note_series {grain} {where}", expected.note_series(flt, period, grain),
                     actual.note_series(flt, period, grain))
                same(f"term_series {grain} {where}", expected.term_series(flt, period, grain, terms),
                     actual.term_series(flt, period, grain, terms))
                same(f"department_series {grain} {where}", expected.department_series(flt, period, grain),
                     actual.department_series(flt, period, grain))
            same(f"pair_counts {where}", expected.pair_counts(flt, period, terms), actual.pair_counts(flt, period, terms))
            for term in terms[:3]:
                same(f"group_counts {term} {where}", expected.group_counts(flt, period, term),
                     actual.group_counts(flt, period, term))
            drills = [Drill(), Drill(department=""), Drill(department="호흡기내과"), Drill(age_band=8),
                      Drill(sex="F"), Drill(bucket=date(2025, 1, 6), grain="week"),
                      Drill(bucket=date(2025, 2, 1), grain="month"), Drill(bucket=date(2025, 1, 15), grain="day")]
            for term in terms[:2]:
                drills += [Drill(term=term), Drill(term=term, other_term=terms[-2] if len(terms) > 2 else term),
                           Drill(term=term, bucket=date(2024, 12, 30), grain="week", sex="M"),
                           Drill(term=term, department="", age_band=3)]
            for drill in drills:
                for limit in (2, 200):
                    same(f"notes {drill} {limit} {where}", expected.notes(flt, period, drill, limit),
                         actual.notes(flt, period, drill, limit))
    return asked


def test_every_method_answers_as_sqlite_does(both: tuple[SQLiteAnalytics, OpenSearchAnalytics]) -> None:
    sqlite, opensearch = both
    assert sqlite.note_count(Filter(), WIDE) > 100  # the questions are about something
    assert len(sqlite.term_counts(Filter(), WIDE)) >= 5
    assert assert_same(sqlite, opensearch) > 1000


def test_term_lists_paged_by_partition_answer_as_sqlite_does(both: tuple[SQLiteAnalytics, OpenSearchAnalytics]) -> None:
    sqlite, opensearch = both
    small = OpenSearchAnalytics(opensearch.client, alias=opensearch.alias, terms_page=2)
    for flt in FILTERS:
        assert small.term_counts(flt, WIDE) == sqlite.term_counts(flt, WIDE), flt


def test_check_sees_the_alias(both: tuple[SQLiteAnalytics, OpenSearchAnalytics]) -> None:
    _, opensearch = both
    settings = load_settings()
    status, detail = check(opensearch.alias, settings.opensearch_auth)
    assert status == "ok" and "121 notes" in detail
    assert check(f"{opensearch.alias}-absent", settings.opensearch_auth)[0] == "missing"
