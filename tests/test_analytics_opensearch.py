"""Analytics on OpenSearch (issue 13) without a cluster: every request body against golden JSON
(tests/golden/analytics/), the answers parsed from canned aggregation responses served over HTTP by a loopback fake
OpenSearch (the real opensearch-py client talks to it), paging of unlimited term lists, a missing index, and the
Home page's check(). The equivalence with SQLite on a real cluster is tests/test_analytics_opensearch_live.py.

Regenerate the golden files after an intended change with
``NOTELENS_UPDATE_GOLDEN=1 pytest tests/test_analytics_opensearch.py`` and read the diff."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opensearchpy import OpenSearch

from services.analytics import AnalyticsService, Drill, Filter, Period
from services.analytics.model import GroupCount, NoteRef, PairCount, SeriesPoint, TermCount
from services.analytics.opensearch import (
    OpenSearchAnalytics,
    band_label,
    counted,
    date_bounds_body,
    department_series_body,
    departments_body,
    group_counts_body,
    note_count_body,
    note_series_body,
    notes_body,
    pair_counts_body,
    term_counts_body,
    term_series_body,
)
from services.search import SearchEntity
from services.search.opensearch_backend import analytics_term, check
from services.wiring import App
from tests.goldens import check_golden
from tests.loopback import LoopbackServer

PERIOD = Period(date(2025, 3, 1), date(2025, 3, 31))
NARROW = Filter(category="diagnosis", departments=("호흡기내과", "내과"), age_bands=(3, 8), sexes=("F",),
                include=frozenset({"negated", "family"}))


def golden(name: str, value: Any) -> None:
    check_golden("analytics", name, value)


BODIES = {
    "date_bounds.json": lambda: date_bounds_body(),
    "departments.json": lambda: departments_body(),
    "departments_after.json": lambda: departments_body({"department": "내과"}),
    "note_count.json": lambda: note_count_body(Filter(), PERIOD),
    "note_count_narrow.json": lambda: note_count_body(NARROW, PERIOD),
    "term_counts_top10.json": lambda: term_counts_body(Filter(), PERIOD, 10),
    "term_counts_all.json": lambda: term_counts_body(Filter(), PERIOD, 10_000, estimate=True),
    "term_counts_narrow_partition.json": lambda: term_counts_body(NARROW, PERIOD, 10_000, (1, 4)),
    "note_series_week.json": lambda: note_series_body(Filter(), PERIOD, "week"),
    "term_series_month.json": lambda: term_series_body(NARROW, PERIOD, "month", ["폐렴", "기관지염"]),
    "department_series_day.json": lambda: department_series_body(Filter(sexes=("M",)), PERIOD, "day"),
    "pair_counts.json": lambda: pair_counts_body(Filter(), PERIOD, ["기침", "발열", "A&B"]),
    "group_counts.json": lambda: group_counts_body(Filter(include=frozenset({"uncertain"})), PERIOD, "기침"),
    "notes_period.json": lambda: notes_body(Filter(), PERIOD, Drill(), 200),
    "notes_term_pair_week.json": lambda: notes_body(Filter(), PERIOD, Drill(term="기침", other_term="발열",
                                                                            bucket=date(2025, 3, 3), grain="week"), 50),
    "notes_no_department_band_sex.json": lambda: notes_body(NARROW, PERIOD, Drill(
        department="", age_band=8, sex="F", bucket=date(2025, 3, 1), grain="month"), 200),
    "notes_department.json": lambda: notes_body(Filter(), PERIOD, Drill(department="신경과"), 50_000),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_request_bodies(name: str) -> None:
    golden(name, BODIES[name]())


def test_the_assertion_rule_is_a_must_not_per_flag_not_asked_for() -> None:
    assert counted(Filter()) == {"bool": {"filter": [{"term": {"entities.category": "symptom"}}], "must_not": [
        {"term": {"entities.negated": True}}, {"term": {"entities.uncertain": True}},
        {"term": {"entities.historical": True}}, {"term": {"entities.family": True}}]}}
    assert counted(Filter(include=frozenset({"negated", "historical"})))["bool"]["must_not"] == [
        {"term": {"entities.uncertain": True}}, {"term": {"entities.family": True}}]
    everything = Filter(include=frozenset({"negated", "uncertain", "historical", "family"}))
    assert "must_not" not in counted(everything)["bool"]


def test_ranking_counts_notes_through_reverse_nested_and_stays_exact() -> None:
    body = term_counts_body(Filter(), PERIOD, 10)
    terms = body["aggs"]["entities"]["aggs"]["counted"]["aggs"]["terms"]
    assert terms["aggs"] == {"notes": {"reverse_nested": {}}}
    assert terms["terms"]["order"] == [{"notes": "desc"}, {"_key": "asc"}]
    assert terms["terms"]["shard_size"] == 10_000 and terms["terms"]["field"] == "entities.analytics_term"
    # The query keeps only notes with a counted mention; the same rule filters the mentions inside.
    assert body["query"]["bool"]["filter"][-1] == {"nested": {"path": "entities", "query": counted(Filter())}}


def test_age_bands_use_the_index_labels() -> None:
    assert [band_label(b) for b in (0, 3, 7, 8)] == ["0-9", "30-39", "70-79", "80+"]


def test_the_analytics_term_is_the_counting_rule_of_migration_004() -> None:
    def term(text: str, normalized: str | None) -> str:
        return analytics_term(SearchEntity("symptom", text, normalized, None, False, False, False, False, None, 0, 1))

    assert term("가슴 통증", "흉통") == "흉통"
    assert term("옆구리\u3000 결림\t\n\r\u00a0x", None) == "옆구리결림x"
    assert term("옆구리 결림", "") == "옆구리결림"  # an empty normalized form is no form (NULLIF)
    assert term("Chest Pain", None) == "ChestPain"  # case kept, as note_terms keeps it


# -- answers from a loopback OpenSearch ----------------------------------------------------------------------


def _bucket(key: str, n: int, **sub: Any) -> dict[str, Any]:
    return {"key": key, "doc_count": n, **sub}


def _day(iso: str, n: int, **sub: Any) -> dict[str, Any]:
    return {"key_as_string": iso, "key": int(time.mktime(date.fromisoformat(iso).timetuple())) * 1000, "doc_count": n,
            **sub}


def _terms(buckets: list[dict[str, Any]], other: int = 0) -> dict[str, Any]:
    return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets}


def _nested(inner: dict[str, Any], distinct: int = 0) -> dict[str, Any]:
    return {"entities": {"doc_count": 40, "counted": {"doc_count": 20, "terms": inner, "distinct": {"value": distinct}}}}


def _reply(aggs: dict[str, Any] | None = None, total: int = 0, hits: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"took": 3, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": total, "relation": "eq"}, "max_score": None, "hits": hits or []},
            **({"aggregations": aggs} if aggs is not None else {})}


CANNED: dict[str, dict[str, Any]] = {
    "first": _reply({"first": {"value": 1.7408448e12, "value_as_string": "2025-03-02"},
                     "last": {"value": 1.7423136e12, "value_as_string": "2025-03-19"}}),
    "departments": _reply({"departments": {"after_key": {"department": "신경과"}, "buckets": [
        {"key": {"department": ""}, "doc_count": 1}, {"key": {"department": "소아청소년과"}, "doc_count": 2},
        {"key": {"department": "신경과"}, "doc_count": 1}]}}),
    "departments_after": _reply({"departments": {"buckets": [{"key": {"department": "호흡기내과"}, "doc_count": 3}]}}),
    "count": _reply(total=17),
    "terms": _reply(_nested(_terms([
        _bucket("기침", 9, notes={"doc_count": 3}), _bucket("발열", 2, notes={"doc_count": 2}),
        _bucket("두통", 1, notes={"doc_count": 1})], other=5), distinct=12)),
    "note_series": _reply({"buckets": {"buckets": [_day("2025-02-24", 1), _day("2025-03-03", 2), _day("2025-03-10", 2)]}}),
    "term_series": _reply(_nested(_terms([
        _bucket("발열", 3, notes={"doc_count": 2, "buckets": {"buckets": [_day("2025-03-03", 2)]}}),
        _bucket("기침", 4, notes={"doc_count": 3, "buckets": {"buckets": [_day("2025-03-03", 2),
                                                                        _day("2025-03-10", 1)]}})]))),
    "department_series": _reply({"buckets": {"buckets": [
        _day("2025-03-01", 4, department=_terms([_bucket("호흡기내과", 2), _bucket("\u0000none", 1), _bucket("", 1)])),
        _day("2025-04-01", 1, department=_terms([_bucket("신경과", 1)]))]}}),
    "pairs": _reply({"pairs": {"buckets": [_bucket("0", 3), _bucket("0&1", 2), _bucket("0&2", 1), _bucket("1", 2),
                                           _bucket("2", 1)]}}),
    "groups": _reply({"bands": _terms([
        _bucket("30-39", 2, sexes=_terms([_bucket("M", 1), _bucket("F", 1)])),
        _bucket("80+", 1, sexes=_terms([_bucket("F", 1)])),
        _bucket("\u0000none", 1, sexes=_terms([_bucket("\u0000none", 1)]))])}),
    "notes": _reply(total=3, hits=[
        {"_index": "notelens-notes-1", "_id": "c", "_score": None, "sort": [1741737600000, "c"],
         "_source": {"note_id": "c", "visit_date": "2025-03-12", "age": 81, "sex": "F", "filename": "c.txt"}},
        {"_index": "notelens-notes-1", "_id": "b", "_score": None, "sort": [1741046400000, "b"],
         "_source": {"note_id": "b", "visit_date": "2025-03-04", "department": "호흡기내과", "age": 35, "sex": "M",
                     "filename": "b.txt"}}]),
}


def route(path: str, body: dict[str, Any]) -> tuple[str, bytes]:
    """Which canned answer a request gets, told by what it asks for (as a cluster would compute it)."""
    aggs = body.get("aggs", {})
    inner = aggs.get("entities", {}).get("aggs", {}).get("counted", {}).get("aggs", {})
    if "first" in aggs:
        name = "first"
    elif "departments" in aggs:
        name = "departments_after" if "after" in aggs["departments"]["composite"] else "departments"
    elif "terms" in inner:
        name = "term_series" if "notes" in inner["terms"]["aggs"] and "aggs" in inner["terms"]["aggs"]["notes"] else "terms"
    elif "buckets" in aggs:
        name = "department_series" if "aggs" in aggs["buckets"] else "note_series"
    elif "pairs" in aggs:
        name = "pairs"
    elif "bands" in aggs:
        name = "groups"
    elif "_source" in body:
        name = "notes"
    else:
        name = "count"
    return "application/json", json.dumps(CANNED[name], ensure_ascii=False).encode()


@pytest.fixture
def fake() -> Iterator[tuple[LoopbackServer, OpenSearchAnalytics]]:
    server = LoopbackServer()
    server.route = route
    client = OpenSearch(hosts=[server.url], max_retries=0, timeout=5)
    try:
        yield server, OpenSearchAnalytics(client, alias="nl")
    finally:
        client.close()
        server.close()


def test_every_method_parses_its_aggregations(fake: tuple[LoopbackServer, OpenSearchAnalytics]) -> None:
    server, backend = fake
    assert backend.date_bounds() == (date(2025, 3, 2), date(2025, 3, 19))
    assert backend.departments() == ["소아청소년과", "신경과", "호흡기내과"]  # two pages; the empty one left out
    assert backend.note_count(Filter(), PERIOD) == 17
    assert backend.term_counts(Filter(), PERIOD, limit=2) == [TermCount("기침", 3), TermCount("발열", 2)]
    assert backend.note_series(Filter(), PERIOD, "week") == [
        SeriesPoint(date(2025, 2, 24), "", 1), SeriesPoint(date(2025, 3, 3), "", 2), SeriesPoint(date(2025, 3, 10), "", 2)]
    # Notes per term and bucket come from reverse_nested (notes), not the term bucket (mentions); sorted as SQLite.
    assert backend.term_series(Filter(), PERIOD, "week", ["기침", "발열"]) == [
        SeriesPoint(date(2025, 3, 3), "기침", 2), SeriesPoint(date(2025, 3, 3), "발열", 2),
        SeriesPoint(date(2025, 3, 10), "기침", 1)]
    assert backend.term_series(Filter(), PERIOD, "week", []) == []
    # Notes without a department and notes with an empty one are the same UNKNOWN key.
    assert backend.department_series(Filter(), PERIOD, "month") == [
        SeriesPoint(date(2025, 3, 1), "", 2), SeriesPoint(date(2025, 3, 1), "호흡기내과", 2),
        SeriesPoint(date(2025, 4, 1), "신경과", 1)]
    assert backend.pair_counts(Filter(), PERIOD, ["기침", "발열", "두통"]) == [
        PairCount("기침", "기침", 3), PairCount("기침", "발열", 2), PairCount("기침", "두통", 1),
        PairCount("발열", "기침", 2), PairCount("발열", "발열", 2), PairCount("두통", "기침", 1),
        PairCount("두통", "두통", 1)]
    assert backend.group_counts(Filter(), PERIOD, "기침") == [
        GroupCount(None, None, 1), GroupCount(3, "F", 1), GroupCount(3, "M", 1), GroupCount(8, "F", 1)]
    found = backend.notes(Filter(), PERIOD, Drill(term="기침"), 2)
    assert found.total == 3
    assert found.notes == [NoteRef("c", "2025-03-12", None, 81, "F", "c.txt"),
                           NoteRef("b", "2025-03-04", "호흡기내과", 35, "M", "b.txt")]
    # What went over the wire is the golden bodies, to the alias.
    paths = {r["path"].split("?")[0] for r in server.requests}
    assert paths == {"/nl/_search"}
    sent = [r["body"] for r in server.requests]
    assert date_bounds_body() in sent and departments_body({"department": "신경과"}) in sent
    assert notes_body(Filter(), PERIOD, Drill(term="기침"), 2) in sent
    assert term_counts_body(Filter(), PERIOD, 2) in sent


def test_the_service_shapes_opensearch_answers(fake: tuple[LoopbackServer, OpenSearchAnalytics]) -> None:
    _, backend = fake
    service = AnalyticsService(backend)
    cooc = service.cooccurrence(Filter(), PERIOD, top=3)
    assert cooc.terms == ["기침", "발열", "두통"] and cooc.matrix == [[3, 2, 1], [2, 2, 0], [1, 0, 1]]
    pyramid = service.pyramid(Filter(), PERIOD, "기침")
    assert {r.age_band: (r.male, r.female) for r in pyramid.rows}[3] == (1, 1) and pyramid.unknown == 1
    assert service.default_period(30) == Period(date(2025, 2, 18), date(2025, 3, 19))


class _Client:
    """A stand-in client: term_counts pages by partition when a page overflows."""

    def __init__(self, pages: dict[tuple[int, int] | None, dict[str, Any]]) -> None:
        self.pages = pages
        self.asked: list[tuple[int, int] | None] = []

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        include = body["aggs"]["entities"]["aggs"]["counted"]["aggs"]["terms"]["terms"].get("include")
        key = None if include is None else (include["partition"], include["num_partitions"])
        self.asked.append(key)
        return self.pages[key]


def _page(counts: dict[str, int], other: int = 0, distinct: int = 0) -> dict[str, Any]:
    buckets = [_bucket(t, n, notes={"doc_count": n}) for t, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
    return _reply(_nested(_terms(buckets, other), distinct))


def test_an_unlimited_term_list_that_overflows_a_page_is_read_in_partitions() -> None:
    # A page holds 2 terms. The first answer overflows with about 3 distinct: 3 partitions (twice the estimate over
    # the page); the first of them still overflows, so 6 partitions, which all fit.
    pages: dict[tuple[int, int] | None, dict[str, Any]] = {
        None: _page({"가": 5, "나": 4}, other=3, distinct=3),
        (0, 3): _page({"가": 5, "나": 4}, other=4),
        (0, 6): _page({"가": 5}), (1, 6): _page({"다": 4, "나": 4}), (2, 6): _page({}), (3, 6): _page({"라": 1}),
        (4, 6): _page({}), (5, 6): _page({})}
    client = _Client(pages)
    backend = OpenSearchAnalytics(client, alias="nl", terms_page=2)
    counts = backend.term_counts(Filter(), PERIOD)
    assert counts == [TermCount("가", 5), TermCount("나", 4), TermCount("다", 4), TermCount("라", 1)]  # ties by term
    assert client.asked == [None, (0, 3), *[(p, 6) for p in range(6)]]


def test_a_page_that_fits_is_one_request() -> None:
    client = _Client({None: _page({"가": 2, "나": 1})})
    assert OpenSearchAnalytics(client, alias="nl").term_counts(Filter(), PERIOD) == [TermCount("가", 2), TermCount("나", 1)]
    assert client.asked == [None]


def test_a_missing_index_counts_nothing() -> None:
    from opensearchpy.exceptions import NotFoundError

    class Missing:
        def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
            raise NotFoundError(404, "index_not_found_exception", {})

    backend = OpenSearchAnalytics(Missing(), alias="nl")
    assert backend.date_bounds() == (None, None)
    assert backend.departments() == [] and backend.note_count(Filter(), PERIOD) == 0
    assert backend.term_counts(Filter(), PERIOD) == [] and backend.term_counts(Filter(), PERIOD, 5) == []
    assert backend.note_series(Filter(), PERIOD, "day") == [] and backend.department_series(Filter(), PERIOD, "day") == []
    assert backend.pair_counts(Filter(), PERIOD, ["a"]) == [] and backend.group_counts(Filter(), PERIOD, "a") == []
    assert backend.notes(Filter(), PERIOD, Drill(), 10).total == 0


def test_from_settings_builds_the_client_the_search_backend_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.config import load_settings

    monkeypatch.setenv("OPENSEARCH_URL", "https://admin:secret@search.example.org:9200")
    backend = OpenSearchAnalytics.from_settings(load_settings(opensearch_index="my-notes"))
    assert backend.alias == "my-notes"
    (host,) = backend.client.transport.hosts
    assert host["host"] == "search.example.org" and host["http_auth"] == "admin:secret"


# -- check() for the Home page -----------------------------------------------------------------------


class _Cluster:
    """An HTTP server answering ``_count`` with a given status, after a given delay."""

    def __init__(self, status: int, payload: dict[str, Any], delay: float = 0.0) -> None:
        self.paths: list[str] = []
        self.auth: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.paths.append(self.path)
                owner.auth.append(self.headers.get("Authorization"))
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up first
                    pass

            do_GET = do_POST = _answer  # noqa: N815 - http.server's names

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def test_check_ok_names_the_host_and_count_never_the_password() -> None:
    cluster = _Cluster(200, {"count": 1234, "_shards": {"total": 1}})
    try:
        status, detail = check("nl", "basic", f"http://admin:s3cret@127.0.0.1:{cluster.port}")
    finally:
        cluster.close()
    assert (status, detail) == ("ok", "127.0.0.1: nl, 1,234 notes")
    assert cluster.paths == ["/nl/_count"] and cluster.auth[0] is not None  # basic auth was sent
    assert "s3cret" not in detail


def test_check_missing_alias() -> None:
    cluster = _Cluster(404, {"error": {"type": "index_not_found_exception"}, "status": 404})
    try:
        status, detail = check("nl", "basic", f"http://127.0.0.1:{cluster.port}")
    finally:
        cluster.close()
    assert status == "missing" and "reindex" in detail


def test_check_unreachable_refused_forbidden_and_slow_within_two_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    assert check("nl", "basic", f"http://127.0.0.1:{port}")[0] == "unreachable"
    assert time.monotonic() - started < 1.0  # refused at once, and not retried
    forbidden = _Cluster(403, {"error": "forbidden"})
    try:
        status, detail = check("nl", "basic", f"http://127.0.0.1:{forbidden.port}")
    finally:
        forbidden.close()
    assert status == "unreachable" and "403" in detail and len(forbidden.paths) == 1
    slow = _Cluster(200, {"count": 1}, delay=4.0)
    started = time.monotonic()
    try:
        status, _ = check("nl", "basic", f"http://127.0.0.1:{slow.port}")
        elapsed = time.monotonic() - started
    finally:
        slow.close()
    assert status == "unreachable" and elapsed < 3.0 and len(slow.paths) == 1  # one try, cut at 2 s
    monkeypatch.delenv("OPENSEARCH_URL", raising=False)
    status, detail = check("nl")
    assert status == "unreachable" and "OPENSEARCH_URL" in detail


# -- what the bodies mean, against SQLite, on an in-memory evaluator of the DSL ------------------------------


def test_every_method_answers_as_sqlite_does_on_the_fake(app: App) -> None:
    """The live suite's questions, answered by tests/fake_opensearch.py over the documents reindex would send: the
    filters, nesting and reverse_nested of each body mean what SQLite's SQL means. No proof of a cluster's behaviour
    (the live suite is), but a body that asks the wrong question fails here."""
    from services.analytics.sqlite import SQLiteAnalytics
    from services.search.opensearch_backend import document
    from services.search.source import RecordDocs
    from tests.fake_opensearch import FakeOpenSearch
    from tests.test_analytics_opensearch_live import WIDE, assert_same, fill

    fill(app)
    docs = [document(d) for d in RecordDocs(app.store).all()]
    assert len(docs) == 121
    sqlite = SQLiteAnalytics(app.store)
    fake = FakeOpenSearch(docs, index="nl")
    assert sqlite.note_count(Filter(), WIDE) > 100 and len(sqlite.term_counts(Filter(), WIDE)) >= 5
    assert assert_same(sqlite, OpenSearchAnalytics(fake, alias="nl")) > 1000
    # Unlimited lists paged by partition give the same lists.
    small = OpenSearchAnalytics(fake, alias="nl", terms_page=2)
    before = len(fake.bodies)
    assert small.term_counts(Filter(), WIDE) == sqlite.term_counts(Filter(), WIDE)
    assert len(fake.bodies) - before > 2
