"""Analytics as OpenSearch aggregations over the search index (services/search/opensearch_backend.py writes it).

Each note is one document with its visit date, department, age, age band and sex, and the entities in force (the
latest review, else the latest extraction) as nested documents carrying ``analytics_term`` (the normalized form,
else the text without whitespace: the counting rule of model.py) and the four assertion flags. So:

* a mention counts when it has the category and none of the flags that were not asked for (a ``must_not`` per
  flag), in a ``nested`` → ``filter`` aggregation;
* terms are counted in notes, not mentions: a ``terms`` bucket's ``reverse_nested`` doc count;
* series are ``date_histogram`` buckets with ``calendar_interval`` day/week/month; OpenSearch's weeks start on
  Monday, as SQLite's ``date(d, '-6 days', 'weekday 1')`` does; ``min_doc_count`` 1 leaves out empty buckets as
  GROUP BY does;
* co-occurrence is one ``adjacency_matrix`` whose filters are "the note has a counted mention of term i".

Exact counts: ``terms`` aggregations are exact on one shard, which the index template asks for. On more shards
every request sets ``shard_size`` to ``terms_page`` (10,000), so the counts stay exact while one shard holds at
most that many distinct terms for the question; an unlimited term list (the previous period of a ranking) that
overflows a page is read again in ``include`` partitions until none overflows. Department lists use a
``composite`` aggregation (exact, paged). Totals use ``track_total_hits``.

Every request body is built by a pure function below (golden-JSON tests); the class only sends and parses.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from datetime import date
from typing import Any

from services.analytics.model import (
    AGE_BANDS,
    ASSERTIONS,
    UNKNOWN,
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
from services.search import age_band as band_label_of_age

log = logging.getLogger(__name__)

TERMS_PAGE = 10_000  # below OpenSearch's default search.max_buckets (65,535)
DEPARTMENTS_PAGE = 1_000
MAX_RESULT_WINDOW = 10_000  # the template's index.max_result_window
MAX_PAIR_TERMS = 100  # adjacency_matrix's default filter limit
_MISSING = "\u0000none"  # the terms-aggregation bucket of notes without the field (mapped back to UNKNOWN / None)
_DATE = "yyyy-MM-dd"
_HEADER = ["note_id", "visit_date", "department", "age", "sex", "filename"]  # drill-downs: never the text


def band_label(band: int) -> str:
    """The index's age_band keyword for an analytics band (0…8; 8 is 80 and over)."""
    label = band_label_of_age(band * 10)
    assert label is not None
    return label


_BAND_OF_LABEL = {band_label(b): b for b in AGE_BANDS}


# -- what the cluster is sent ---------------------------------------------------------------------------


def _note_filters(flt: Filter, period: Period) -> list[dict[str, Any]]:
    """Period, department, sex and age band: fields of the note document."""
    out: list[dict[str, Any]] = [
        {"range": {"visit_date": {"gte": period.start.isoformat(), "lte": period.end.isoformat(), "format": _DATE}}}]
    if flt.departments:
        out.append({"terms": {"department": list(flt.departments)}})
    if flt.sexes:
        out.append({"terms": {"sex": list(flt.sexes)}})
    if flt.age_bands:
        out.append({"terms": {"age_band": [band_label(b) for b in flt.age_bands]}})
    return out


def counted(flt: Filter, terms: list[str] | None = None) -> dict[str, Any]:
    """An entity that counts (inside ``entities``): the category, optionally one of ``terms``, and no assertion
    flag that was not asked for (affirmed mentions carry none, so they always count)."""
    must: list[dict[str, Any]] = [{"term": {"entities.category": flt.category}}]
    if terms is not None:
        must.append({"terms": {"entities.analytics_term": list(terms)}})
    excluded = [{"term": {f"entities.{kind}": True}} for kind in ASSERTIONS if kind not in flt.include]
    query: dict[str, Any] = {"filter": must}
    if excluded:
        query["must_not"] = excluded
    return {"bool": query}


def _has(flt: Filter, terms: list[str] | None = None) -> dict[str, Any]:
    """A note with at least one counted entity (of ``terms``)."""
    return {"nested": {"path": "entities", "query": counted(flt, terms)}}


def _query(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": filters}}


def _histogram(grain: Grain, aggs: dict[str, Any] | None = None) -> dict[str, Any]:
    agg: dict[str, Any] = {"date_histogram": {"field": "visit_date", "calendar_interval": grain, "format": _DATE,
                                              "min_doc_count": 1}}
    if aggs:
        agg["aggs"] = aggs
    return agg


def date_bounds_body() -> dict[str, Any]:
    return {"size": 0, "track_total_hits": False, "aggs": {
        "first": {"min": {"field": "visit_date", "format": _DATE}},
        "last": {"max": {"field": "visit_date", "format": _DATE}}}}


def departments_body(after: dict[str, Any] | None = None) -> dict[str, Any]:
    composite: dict[str, Any] = {"size": DEPARTMENTS_PAGE, "sources": [{"department": {"terms": {"field": "department"}}}]}
    if after is not None:
        composite["after"] = after
    return {"size": 0, "track_total_hits": False, "aggs": {"departments": {"composite": composite}}}


def note_count_body(flt: Filter, period: Period) -> dict[str, Any]:
    return {"size": 0, "track_total_hits": True, "query": _query(_note_filters(flt, period))}


def term_counts_body(flt: Filter, period: Period, size: int, partition: tuple[int, int] | None = None,
                     shard_size: int = TERMS_PAGE, estimate: bool = False) -> dict[str, Any]:
    """Terms by notes, most first, ties by term (UTF-8 byte order, as SQLite sorts)."""
    terms: dict[str, Any] = {"field": "entities.analytics_term", "size": size, "shard_size": max(size, shard_size),
                             "order": [{"notes": "desc"}, {"_key": "asc"}]}
    if partition is not None:
        terms["include"] = {"partition": partition[0], "num_partitions": partition[1]}
    inner: dict[str, Any] = {"terms": {"terms": terms, "aggs": {"notes": {"reverse_nested": {}}}}}
    if estimate:
        # How many distinct terms (approximate): sizes the partitions when one page is not enough.
        inner["distinct"] = {"cardinality": {"field": "entities.analytics_term"}}
    return {
        "size": 0, "track_total_hits": False,
        "query": _query([*_note_filters(flt, period), _has(flt)]),
        "aggs": {"entities": {"nested": {"path": "entities"}, "aggs": {"counted": {"filter": counted(flt), "aggs": inner}}}},
    }


def note_series_body(flt: Filter, period: Period, grain: Grain) -> dict[str, Any]:
    return {"size": 0, "track_total_hits": False, "query": _query(_note_filters(flt, period)),
            "aggs": {"buckets": _histogram(grain)}}


def term_series_body(flt: Filter, period: Period, grain: Grain, terms: list[str]) -> dict[str, Any]:
    chosen = sorted(set(terms))
    return {
        "size": 0, "track_total_hits": False,
        "query": _query([*_note_filters(flt, period), _has(flt, chosen)]),
        "aggs": {"entities": {"nested": {"path": "entities"}, "aggs": {"counted": {"filter": counted(flt, chosen), "aggs": {
            "terms": {"terms": {"field": "entities.analytics_term", "size": len(chosen)},
                      # Back on the note: each note once per term, then by its visit date.
                      "aggs": {"notes": {"reverse_nested": {}, "aggs": {"buckets": _histogram(grain)}}}},
        }}}}},
    }


def department_series_body(flt: Filter, period: Period, grain: Grain) -> dict[str, Any]:
    return {"size": 0, "track_total_hits": False, "query": _query(_note_filters(flt, period)),
            "aggs": {"buckets": _histogram(grain, {"department": {"terms": {
                "field": "department", "missing": _MISSING, "size": DEPARTMENTS_PAGE, "shard_size": DEPARTMENTS_PAGE}}})}}


def pair_counts_body(flt: Filter, period: Period, terms: list[str]) -> dict[str, Any]:
    """Filters named by position (a term may hold the separator): bucket "i" is the notes with term i, "i&j" the
    notes with both."""
    return {"size": 0, "track_total_hits": False, "query": _query(_note_filters(flt, period)),
            "aggs": {"pairs": {"adjacency_matrix": {"filters": {str(i): _has(flt, [t]) for i, t in enumerate(terms)}}}}}


def group_counts_body(flt: Filter, period: Period, term: str) -> dict[str, Any]:
    return {
        "size": 0, "track_total_hits": False,
        "query": _query([*_note_filters(flt, period), _has(flt, [term])]),
        "aggs": {"bands": {"terms": {"field": "age_band", "missing": _MISSING, "size": len(AGE_BANDS) + 1}, "aggs": {
            "sexes": {"terms": {"field": "sex", "missing": _MISSING, "size": 10}}}}},
    }


def notes_body(flt: Filter, period: Period, drill: Drill, limit: int) -> dict[str, Any]:
    filters = _note_filters(flt, period)
    if drill.bucket is not None:
        filters.append({"range": {"visit_date": {"gte": drill.bucket.isoformat(),
                                                 "lte": bucket_end(drill.bucket, drill.grain).isoformat(), "format": _DATE}}})
    if drill.department is not None:
        if drill.department == UNKNOWN:  # no department (or an empty one), as COALESCE(department, '') = ''
            filters.append({"bool": {"should": [{"bool": {"must_not": [{"exists": {"field": "department"}}]}},
                                                {"term": {"department": ""}}], "minimum_should_match": 1}})
        else:
            filters.append({"term": {"department": drill.department}})
    if drill.age_band is not None:
        filters.append({"term": {"age_band": band_label(drill.age_band)}})
    if drill.sex is not None:
        filters.append({"term": {"sex": drill.sex}})
    if drill.term is not None:
        filters.append(_has(flt, [drill.term]))
        if drill.other_term is not None:
            filters.append(_has(flt, [drill.other_term]))
    return {
        "size": max(0, min(limit, MAX_RESULT_WINDOW)), "track_total_hits": True, "_source": _HEADER,
        "query": _query(filters), "sort": [{"visit_date": {"order": "desc"}}, {"note_id": {"order": "asc"}}],
    }


# -- what comes back ---------------------------------------------------------------------------------


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _agg(response: dict[str, Any], *path: str) -> dict[str, Any]:
    node: dict[str, Any] = response.get("aggregations") or {}
    for name in path:
        node = node.get(name) or {}
    return node


def _total(response: dict[str, Any]) -> int:
    total = response.get("hits", {}).get("total", 0)
    return int(total["value"] if isinstance(total, dict) else total)


def parse_date_bounds(response: dict[str, Any]) -> tuple[date | None, date | None]:
    first, last = _agg(response, "first"), _agg(response, "last")
    # An empty index answers value null (value_as_string absent).
    return (_day(first.get("value_as_string")) if first.get("value") is not None else None,
            _day(last.get("value_as_string")) if last.get("value") is not None else None)


def parse_term_counts(response: dict[str, Any]) -> list[TermCount]:
    buckets = _agg(response, "entities", "counted", "terms").get("buckets", [])
    return [TermCount(str(b["key"]), int(b["notes"]["doc_count"])) for b in buckets]


def _overflowed(response: dict[str, Any]) -> bool:
    """Terms left out of the buckets (the page was too small)."""
    return int(_agg(response, "entities", "counted", "terms").get("sum_other_doc_count") or 0) > 0


def parse_note_series(response: dict[str, Any]) -> list[SeriesPoint]:
    return [SeriesPoint(date.fromisoformat(b["key_as_string"]), "", int(b["doc_count"]))
            for b in _agg(response, "buckets").get("buckets", [])]


def parse_term_series(response: dict[str, Any]) -> list[SeriesPoint]:
    points = [SeriesPoint(date.fromisoformat(d["key_as_string"]), str(t["key"]), int(d["doc_count"]))
              for t in _agg(response, "entities", "counted", "terms").get("buckets", [])
              for d in t["notes"]["buckets"]["buckets"]]
    return sorted(points, key=lambda p: (p.bucket, p.key))


def parse_department_series(response: dict[str, Any]) -> list[SeriesPoint]:
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for b in _agg(response, "buckets").get("buckets", []):
        day = date.fromisoformat(b["key_as_string"])
        for d in b["department"]["buckets"]:
            key = str(d["key"])
            counts[day, UNKNOWN if key == _MISSING else key] += int(d["doc_count"])  # missing and "" are one
    return [SeriesPoint(day, key, n) for (day, key), n in sorted(counts.items())]


def parse_pair_counts(response: dict[str, Any], terms: list[str]) -> list[PairCount]:
    pairs: dict[tuple[int, int], int] = {}
    for b in _agg(response, "pairs").get("buckets", []):
        n = int(b["doc_count"])
        if not n:
            continue
        parts = [int(p) for p in str(b["key"]).split("&")]
        i, j = parts[0], parts[-1]
        pairs[i, j] = n
        pairs[j, i] = n
    return [PairCount(terms[i], terms[j], n) for (i, j), n in sorted(pairs.items())]


def parse_group_counts(response: dict[str, Any]) -> list[GroupCount]:
    out: list[GroupCount] = []
    for b in _agg(response, "bands").get("buckets", []):
        band = None if b["key"] == _MISSING else _BAND_OF_LABEL[str(b["key"])]
        for s in b["sexes"]["buckets"]:
            out.append(GroupCount(band, None if s["key"] == _MISSING else str(s["key"]), int(s["doc_count"])))
    # As SQLite orders them: unknown (NULL) first.
    return sorted(out, key=lambda g: (-1 if g.age_band is None else g.age_band, g.sex or ""))


def parse_notes(response: dict[str, Any]) -> NoteList:
    refs = []
    for hit in response.get("hits", {}).get("hits", []):
        src = hit["_source"]
        refs.append(NoteRef(str(src["note_id"]), src.get("visit_date"), src.get("department"), src.get("age"),
                            src.get("sex"), str(src.get("filename") or "")))
    return NoteList(_total(response), refs)


# -- the backend -------------------------------------------------------------------------------------


_EMPTY: dict[str, Any] = {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}


class OpenSearchAnalytics:
    """AnalyticsBackend over the alias the OpenSearch search backend writes and swaps (``notelens-notes``)."""

    def __init__(self, client: Any, alias: str = "notelens-notes", terms_page: int = TERMS_PAGE) -> None:
        self.client = client
        self.alias = alias
        self.terms_page = terms_page
        self._told_missing = False

    @classmethod
    def from_settings(cls, settings: Any) -> OpenSearchAnalytics:
        from services.search.opensearch_backend import connect

        return cls(connect(settings.opensearch_auth), alias=settings.opensearch_index)

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        from opensearchpy.exceptions import NotFoundError

        from services.search.opensearch_backend import answering

        try:
            with answering():
                response: dict[str, Any] = self.client.search(index=self.alias, body=body)
        except NotFoundError:
            # No index yet (nothing indexed, or reindex never ran): nothing to count, as an empty store.
            if not self._told_missing:
                log.info("analytics: OpenSearch alias %s does not exist yet; counting nothing", self.alias)
                self._told_missing = True
            return _EMPTY
        return response

    def date_bounds(self) -> tuple[date | None, date | None]:
        return parse_date_bounds(self._search(date_bounds_body()))

    def departments(self) -> list[str]:
        out: list[str] = []
        after: dict[str, Any] | None = None
        while True:
            agg = _agg(self._search(departments_body(after)), "departments")
            out += [str(b["key"]["department"]) for b in agg.get("buckets", []) if b["key"]["department"]]
            after = agg.get("after_key")
            if not agg.get("buckets") or after is None:
                return out

    def note_count(self, flt: Filter, period: Period) -> int:
        return _total(self._search(note_count_body(flt, period)))

    def term_counts(self, flt: Filter, period: Period, limit: int | None = None) -> list[TermCount]:
        if limit is not None:
            return parse_term_counts(self._search(term_counts_body(flt, period, max(limit, 0) or 1,
                                                                   shard_size=self.terms_page)))[:limit]
        response = self._search(term_counts_body(flt, period, self.terms_page, shard_size=self.terms_page,
                                                 estimate=True))
        if not _overflowed(response):
            return parse_term_counts(response)
        # More distinct terms than a page: read them in partitions (each exact), sized from the distinct estimate
        # with room to spare; a partition that still overflows doubles the partitions.
        distinct = int(_agg(response, "entities", "counted", "distinct").get("value") or 0)
        partitions = max(2, math.ceil(distinct * 2 / self.terms_page))
        while True:
            found: list[TermCount] = []
            for p in range(partitions):
                part = self._search(term_counts_body(flt, period, self.terms_page, (p, partitions), self.terms_page))
                if _overflowed(part):
                    break
                found += parse_term_counts(part)
            else:
                return sorted(found, key=lambda c: (-c.notes, c.term.encode("utf-8")))
            partitions *= 2

    def note_series(self, flt: Filter, period: Period, grain: Grain) -> list[SeriesPoint]:
        return parse_note_series(self._search(note_series_body(flt, period, grain)))

    def term_series(self, flt: Filter, period: Period, grain: Grain, terms: list[str]) -> list[SeriesPoint]:
        if not terms:
            return []
        return parse_term_series(self._search(term_series_body(flt, period, grain, terms)))

    def department_series(self, flt: Filter, period: Period, grain: Grain) -> list[SeriesPoint]:
        return parse_department_series(self._search(department_series_body(flt, period, grain)))

    def pair_counts(self, flt: Filter, period: Period, terms: list[str]) -> list[PairCount]:
        if not terms:
            return []
        if len(terms) > MAX_PAIR_TERMS:
            raise ValueError(f"co-occurrence of at most {MAX_PAIR_TERMS} terms (adjacency_matrix's filter limit)")
        return parse_pair_counts(self._search(pair_counts_body(flt, period, terms)), terms)

    def group_counts(self, flt: Filter, period: Period, term: str) -> list[GroupCount]:
        return parse_group_counts(self._search(group_counts_body(flt, period, term)))

    def notes(self, flt: Filter, period: Period, drill: Drill, limit: int) -> NoteList:
        return parse_notes(self._search(notes_body(flt, period, drill, limit)))
