"""An in-memory stand-in for OpenSearch's ``search`` that evaluates the part of the query DSL and the aggregations
services/analytics/opensearch.py sends (bool/term/terms/range/exists/nested queries; min, max, composite, terms,
nested, filter, reverse_nested, cardinality, date_histogram and adjacency_matrix aggregations; sort and _source),
over the documents opensearch_backend.document() builds. It follows OpenSearch's documented semantics as this
project reads them, so it checks what the request bodies *mean* against SQLite without a cluster; it is no proof
of what a cluster does (tests/test_analytics_opensearch_live.py is, when OPENSEARCH_URL is set).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

Unit = tuple[dict[str, Any], dict[str, Any] | None]  # a note document, and one of its entities inside ``nested``


def _value(unit: Unit, field: str) -> Any:
    doc, entity = unit
    if field.startswith("entities."):
        return None if entity is None else entity.get(field.removeprefix("entities."))
    # Inside ``nested`` only the entity's own fields are seen (a cluster indexes them as separate documents).
    return doc.get(field) if entity is None else None


def matches(query: dict[str, Any], unit: Unit) -> bool:
    (kind, spec), = query.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        required = [*spec.get("filter", []), *spec.get("must", [])]
        if not all(matches(q, unit) for q in required) or any(matches(q, unit) for q in spec.get("must_not", [])):
            return False
        should = spec.get("should", [])
        need = spec.get("minimum_should_match", 0 if required else 1) if should else 0
        return sum(matches(q, unit) for q in should) >= need
    if kind == "nested":
        return any(matches(spec["query"], (unit[0], e)) for e in unit[0].get("entities", []))
    if kind == "exists":
        return _value(unit, spec["field"]) is not None
    (field, arg), = spec.items()
    value = _value(unit, field)
    if value is None:
        return False
    if kind == "term":
        return bool(value == arg)
    if kind == "terms":
        return value in arg
    if kind == "range":
        return (("gte" not in arg or value >= arg["gte"]) and ("lte" not in arg or value <= arg["lte"]))
    raise NotImplementedError(kind)


def _bucket_day(iso: str, interval: str) -> date:
    day = date.fromisoformat(iso)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if interval == "month" else day


def _millis(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _partition(term: str, partitions: int) -> int:
    return zlib.crc32(term.encode()) % partitions  # OpenSearch hashes with murmur3; any stable hash will do here


def _sub(units: list[Unit], spec: dict[str, Any]) -> dict[str, Any]:
    return {name: aggregate(units, agg) for name, agg in spec.get("aggs", {}).items()}


def _terms(units: list[Unit], spec: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    groups: dict[Any, list[Unit]] = {}
    for unit in units:
        value = _value(unit, spec["field"])
        if value is None:
            if "missing" not in spec:
                continue
            value = spec["missing"]
        include = spec.get("include")
        if isinstance(include, list) and value not in include:
            continue
        if isinstance(include, dict) and _partition(str(value), include["num_partitions"]) != include["partition"]:
            continue
        groups.setdefault(value, []).append(unit)
    buckets = [{"key": k, "doc_count": len(v), **_sub(v, {"aggs": sub})} for k, v in groups.items()]
    order = spec.get("order", [{"_count": "desc"}, {"_key": "asc"}])
    for rule in reversed(order if isinstance(order, list) else [order]):  # stable sorts, last rule first
        (path, direction), = rule.items()

        def key(b: dict[str, Any], path: str = path) -> Any:
            if path == "_key":
                return str(b["key"]).encode()
            return b["doc_count"] if path == "_count" else b[path]["doc_count"]

        buckets.sort(key=key, reverse=direction == "desc")
    kept = buckets[:spec.get("size", 10)]
    return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": sum(b["doc_count"] for b in buckets[len(kept):]),
            "buckets": kept}


def aggregate(units: list[Unit], agg: dict[str, Any]) -> dict[str, Any]:
    kind = next(k for k in agg if k != "aggs")
    spec = agg[kind]
    sub = agg.get("aggs", {})
    if kind in ("min", "max"):
        values = [v for v in (_value(u, spec["field"]) for u in units) if v is not None]
        if not values:
            return {"value": None}
        best = min(values) if kind == "min" else max(values)
        return {"value": float(_millis(date.fromisoformat(best))), "value_as_string": best}
    if kind == "nested":
        inner = [(doc, e) for doc, _ in units for e in doc.get(spec["path"], [])]
        return {"doc_count": len(inner), **_sub(inner, agg)}
    if kind == "reverse_nested":
        seen: dict[str, Unit] = {}
        for doc, _ in units:
            seen.setdefault(doc["note_id"], (doc, None))
        docs = list(seen.values())
        return {"doc_count": len(docs), **_sub(docs, agg)}
    if kind == "filter":
        kept = [u for u in units if matches(spec, u)]
        return {"doc_count": len(kept), **_sub(kept, agg)}
    if kind == "cardinality":
        return {"value": len({_value(u, spec["field"]) for u in units} - {None})}
    if kind == "terms":
        return _terms(units, spec, sub)
    if kind == "composite":
        (source,) = spec["sources"]
        (name, terms), = source.items()
        counts = Counter(v for v in (_value(u, terms["terms"]["field"]) for u in units) if v is not None)
        keys = sorted(counts, key=lambda k: str(k).encode())
        if "after" in spec:
            keys = [k for k in keys if str(k).encode() > str(spec["after"][name]).encode()]
        page = keys[:spec["size"]]
        out: dict[str, Any] = {"buckets": [{"key": {name: k}, "doc_count": counts[k]} for k in page]}
        if page:
            out["after_key"] = {name: page[-1]}
        return out
    if kind == "date_histogram":
        groups: dict[date, list[Unit]] = {}
        for unit in units:
            value = _value(unit, spec["field"])
            if value is not None:
                groups.setdefault(_bucket_day(value, spec["calendar_interval"]), []).append(unit)
        return {"buckets": [{"key_as_string": d.isoformat(), "key": _millis(d), "doc_count": len(groups[d]),
                             **_sub(groups[d], agg)}
                            for d in sorted(groups) if len(groups[d]) >= spec.get("min_doc_count", 0)]}
    if kind == "adjacency_matrix":
        names = sorted(spec["filters"])
        sets = {n: {u[0]["note_id"] for u in units if matches(spec["filters"][n], u)} for n in names}
        buckets = [{"key": n, "doc_count": len(sets[n])} for n in names]
        buckets += [{"key": f"{a}&{b}", "doc_count": len(sets[a] & sets[b])}
                    for i, a in enumerate(names) for b in names[i + 1:]]
        return {"buckets": sorted((b for b in buckets if b["doc_count"]), key=lambda b: b["key"])}
    raise NotImplementedError(kind)


class FakeOpenSearch:
    """``client.search(index=…, body=…)`` over documents in memory; an unknown index answers 404 as a cluster does."""

    def __init__(self, docs: list[dict[str, Any]], index: str = "notelens-notes") -> None:
        self.docs = json.loads(json.dumps(docs))  # as the cluster stores them: JSON
        self.index = index
        self.bodies: list[dict[str, Any]] = []

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        from opensearchpy.exceptions import NotFoundError

        if index != self.index:
            raise NotFoundError(404, "index_not_found_exception", {})
        body = json.loads(json.dumps(body))  # only what JSON carries reaches a cluster
        self.bodies.append(body)
        units: list[Unit] = [(d, None) for d in self.docs if matches(body.get("query", {"match_all": {}}), (d, None))]
        hits = sorted(units, key=lambda u: u[0]["note_id"])
        for rule in reversed(body.get("sort", [])):
            (field, how), = rule.items()
            hits.sort(key=lambda u, f=field: u[0].get(f) or "", reverse=how["order"] == "desc")
        fields = body.get("_source")
        shown = [{"_id": d["note_id"], "_source": {k: d[k] for k in (fields or d) if k in d and d[k] is not None}}
                 for d, _ in hits[:body.get("size", 10)]]
        total = len(units) if body.get("track_total_hits") else min(len(units), 10_000)
        response: dict[str, Any] = {"hits": {"total": {"value": total, "relation": "eq"}, "hits": shown}}
        if "aggs" in body:
            response["aggregations"] = {name: aggregate(units, agg) for name, agg in body["aggs"].items()}
        return response
