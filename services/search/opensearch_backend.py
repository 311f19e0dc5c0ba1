"""OpenSearch backend (opensearch-py): an index template declared once as data (opensearch/template.json), the nori
analyzer with a user dictionary and synonyms generated from our vocabularies, entities as nested documents, bulk
indexing with retries, an alias swapped to a freshly built index on reindex, aggregations for facets.

Where the cluster is: ``OPENSEARCH_URL`` (https://user:password@host:443 for basic auth). With
``NOTELENS_OPENSEARCH_AUTH=sigv4`` requests are signed with the standard AWS configuration (env, profile, instance
role; region from AWS_REGION or the profile) for Amazon OpenSearch Service (``es``) or Serverless (``aoss`` hosts).

Everything the cluster is sent is built by pure functions (render_template, document, bulk_actions, search_body,
alias_actions) so the tests can hold it against golden JSON without a cluster.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from services.errors import ErrorCode, NoteLensError
from services.search import (
    NOTE_FIELDS,
    EntityClause,
    Plan,
    SearchDoc,
    SearchEntity,
    SearchHit,
    SearchResults,
    TextClause,
    age_band,
)
from services.search.dictionary import FOLDER, SYNONYMS, USERDICT, read_rules
from services.search.snippet import CLOSE, OPEN, chips, entity_matches, from_marked, snippet

log = logging.getLogger(__name__)
TEMPLATE = FOLDER / "template.json"
TERM_FACET_SIZE = 20
_NOTE_FACETS = ("department", "age_band", "sex", "engine", "prompt_version", "review_status", "visit_month")


# -- what the cluster is sent ---------------------------------------------------------------------------


def render_template(alias: str, user_rules: list[str] | None = None, synonyms: list[str] | None = None,
                    path: Path = TEMPLATE) -> dict[str, Any]:
    """The index template for ``alias-*`` with the dictionary and synonyms inline (a managed cluster cannot read
    files of ours; inline rules work on every OpenSearch with analysis-nori)."""
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    body.pop("_comment", None)
    body["index_patterns"] = [f"{alias}-*"]
    analysis = body["template"]["settings"]["analysis"]
    rules = read_rules(USERDICT) if user_rules is None else user_rules
    for tokenizer in analysis["tokenizer"].values():
        tokenizer["user_dictionary_rules"] = list(rules)
    analysis["filter"]["ko_synonyms"]["synonyms"] = read_rules(SYNONYMS) if synonyms is None else list(synonyms)
    return body


# The whitespace migration 004 strips from a mention without a normalized form (analytics' counting rule).
_NO_SPACE = str.maketrans("", "", " \t\n\r\u00a0\u3000")


def analytics_term(e: SearchEntity) -> str:
    """The term analytics counts: the normalized form, else the text without whitespace, case kept (as SQLite's
    note_terms has it; ``term`` is the search form, lower-cased with its spaces)."""
    return e.normalized if e.normalized else e.text.translate(_NO_SPACE)


def _entity(e: SearchEntity) -> dict[str, Any]:
    return {"category": e.category, "text": e.text, "term": e.term, "analytics_term": analytics_term(e),
            "code": (e.code or "").upper() or None, "assertion": e.assertion, "negated": e.negated,
            "uncertain": e.uncertain, "historical": e.historical, "family": e.family, "section": e.section,
            "begin": e.begin, "end": e.end}


def document(doc: SearchDoc) -> dict[str, Any]:
    return {
        "note_id": doc.note_id, "filename": doc.filename, "text": doc.text, "visit_date": doc.visit_date,
        "visit_month": doc.visit_date[:7] if doc.visit_date else None, "department": doc.department,
        "age": doc.age, "age_band": age_band(doc.age), "sex": doc.sex, "engine": doc.engine,
        "prompt_version": doc.prompt_version, "review_status": doc.review_status,
        "entities": [_entity(e) for e in doc.entities],
    }


def bulk_actions(docs: Iterable[SearchDoc], index: str) -> Iterator[dict[str, Any]]:
    """Index actions keyed by note id: a re-sent note replaces itself."""
    for doc in docs:
        yield {"_op_type": "index", "_index": index, "_id": doc.note_id, "_source": document(doc)}


def alias_actions(alias: str, new_index: str, old_indices: list[str]) -> dict[str, Any]:
    """One atomic alias update: searches see the old index until the new one is complete, then only the new one."""
    actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}} for old in sorted(old_indices)]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    return {"actions": actions}


def _text_query(clause: TextClause) -> dict[str, Any]:
    def one(alt: str) -> dict[str, Any]:
        if clause.phrase or " " in alt.strip():
            return {"match_phrase": {"text": {"query": alt}}}
        return {"match": {"text": {"query": alt, "operator": "and"}}}

    queries = [one(alt) for alt in clause.alternatives]
    if clause.concept:
        # The cluster's own synonym graph (built from the same vocabularies) on the user's words.
        queries.append({"match": {"text": {"query": clause.alternatives[0], "analyzer": "ko_concept",
                                           "operator": "and"}}})
    return queries[0] if len(queries) == 1 else {"bool": {"should": queries, "minimum_should_match": 1}}


def _entity_filter(clause: EntityClause, with_assertion: bool = True) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    alts: list[dict[str, Any]] = []
    if clause.terms:
        alts.append({"terms": {"entities.term": sorted(clause.terms)}})
    alts.extend({"prefix": {"entities.code": code}} for code in sorted(clause.codes))
    if alts:
        out.append(alts[0] if len(alts) == 1 else {"bool": {"should": alts, "minimum_should_match": 1}})
    if clause.categories:
        out.append({"terms": {"entities.category": sorted(clause.categories)}})
    if with_assertion and clause.assertions:
        out.append({"terms": {"entities.assertion": sorted(clause.assertions)}})
    return out


def _note_filters(plan: Plan) -> list[dict[str, Any]]:
    q = plan.query
    out: list[dict[str, Any]] = []
    if q.date_from or q.date_to:
        bounds = {k: v for k, v in (("gte", q.date_from), ("lte", q.date_to)) if v}
        out.append({"range": {"visit_date": bounds}})
    for field, values in (("department", q.departments), ("age_band", q.age_bands), ("sex", q.sexes),
                          ("engine", q.engines), ("prompt_version", q.prompt_versions),
                          ("review_status", q.review_statuses)):
        if values:
            out.append({"terms": {field: list(values)}})
    for clause in plan.entities:
        out.append({"nested": {"path": "entities", "query": {"bool": {"filter": _entity_filter(clause)}}}})
    return out


def _aggregations(plan: Plan) -> dict[str, Any]:
    aggs: dict[str, Any] = {name: {"terms": {"field": name, "size": 60}} for name in _NOTE_FACETS}
    assertions = sorted(set(plan.query.assertions) or {"present"})
    cats = sorted(set(plan.query.categories) - {"phi"})
    term_scope = {"terms": {"entities.category": cats}} if cats else {
        "bool": {"must_not": [{"term": {"entities.category": "phi"}}]}}
    notes: dict[str, Any] = {"notes": {"reverse_nested": {}}}
    named = [c for c in plan.entities if not c.is_open()]
    named_scope = ({"bool": {"filter": _entity_filter(named[0], with_assertion=False)}} if named
                   else {"bool": {"must_not": [{"term": {"entities.category": "phi"}}]}})
    aggs["entities"] = {
        "nested": {"path": "entities"},
        "aggs": {
            "asserted": {
                "filter": {"terms": {"entities.assertion": assertions}},
                "aggs": {
                    "category": {"terms": {"field": "entities.category", "size": 10}, "aggs": notes},
                    "scoped": {"filter": term_scope, "aggs": {"term": {
                        "terms": {"field": "entities.term", "size": TERM_FACET_SIZE, "order": {"notes": "desc"}},
                        "aggs": notes}}},
                },
            },
            "named": {"filter": named_scope, "aggs": {
                "assertion": {"terms": {"field": "entities.assertion", "size": 10}, "aggs": notes}}},
        },
    }
    return aggs


def search_body(plan: Plan) -> dict[str, Any]:
    q = plan.query
    must = [_text_query(c) for c in plan.text]
    query: dict[str, Any] = {"bool": {"must": must or [{"match_all": {}}], "filter": _note_filters(plan)}}
    by_date = {"visit_date": {"order": "desc", "missing": "_last", "unmapped_type": "date"}}
    body: dict[str, Any] = {
        "query": query,
        "from": (q.page - 1) * q.page_size,
        "size": q.page_size,
        "track_total_hits": True,
        "sort": ["_score", by_date, {"note_id": "asc"}] if q.sort == "relevance" else [by_date, "_score",
                                                                                        {"note_id": "asc"}],
    }
    if plan.text:
        body["highlight"] = {"fields": {"text": {
            "type": "unified", "number_of_fragments": 1, "fragment_size": 200, "no_match_size": 0,
            "pre_tags": [OPEN], "post_tags": [CLOSE]}}}
    if plan.want_facets:
        body["aggs"] = _aggregations(plan)
    return body


# -- what comes back ---------------------------------------------------------------------------------


def _source_entity(raw: dict[str, Any]) -> SearchEntity:
    return SearchEntity(category=raw["category"], text=raw.get("text") or "", normalized=raw.get("term"),
                        code=raw.get("code"), negated=bool(raw.get("negated")), uncertain=bool(raw.get("uncertain")),
                        historical=bool(raw.get("historical")), family=bool(raw.get("family")),
                        section=raw.get("section"), begin=int(raw.get("begin") or 0), end=int(raw.get("end") or 0))


def _buckets(agg: dict[str, Any], nested: bool = False) -> list[tuple[str, int]]:
    return [(str(b["key"]), int(b["notes"]["doc_count"] if nested else b["doc_count"])) for b in agg.get("buckets", [])]


def parse_response(response: dict[str, Any], plan: Plan) -> SearchResults:
    q = plan.query
    hits: list[SearchHit] = []
    for raw in response["hits"]["hits"]:
        src = raw["_source"]
        text = src.get("text") or ""
        entities = [_source_entity(e) for e in src.get("entities", [])]
        fragments = raw.get("highlight", {}).get("text", [])
        marked: list[tuple[int, int]] = []
        if fragments:
            html_snip, plain = from_marked(fragments[0])
            # Where the highlighted words sit in the note, so the chips of those mentions are marked too.
            for word in {part.split(CLOSE)[0] for part in fragments[0].split(OPEN)[1:]}:
                start = text.find(word)
                while word and start >= 0:
                    marked.append((start, start + len(word)))
                    start = text.find(word, start + 1)
        else:
            focus = sorted((e.begin, e.end) for e in entities
                           if any(entity_matches(e, c) for c in plan.entities if not c.is_open()))
            html_snip, plain = snippet(text, focus[:1])
        hits.append(SearchHit(
            note_id=src["note_id"], filename=src["filename"], score=float(raw.get("_score") or 0.0),
            visit_date=src.get("visit_date"), department=src.get("department"), age=src.get("age"),
            sex=src.get("sex"), review_status=src.get("review_status") or "none", snippet_html=html_snip,
            snippet_text=plain, entities=chips(entities, plan, marked),
        ))
    facets: dict[str, list[tuple[str, int]]] = {}
    aggs = response.get("aggregations") or {}
    if aggs:
        for name in _NOTE_FACETS:
            facets[name] = _buckets(aggs.get(name, {}))
        ent = aggs.get("entities", {})
        facets["category"] = _buckets(ent.get("asserted", {}).get("category", {}), nested=True)
        facets["term"] = _buckets(ent.get("asserted", {}).get("scoped", {}).get("term", {}), nested=True)
        facets["assertion"] = _buckets(ent.get("named", {}).get("assertion", {}), nested=True)
    total = response["hits"]["total"]
    return SearchResults(total=int(total["value"] if isinstance(total, dict) else total), hits=hits, facets=facets,
                         page=q.page, page_size=q.page_size, took_ms=float(response.get("took", 0)))


# -- the backend -------------------------------------------------------------------------------------


@contextmanager
def answering() -> Iterator[None]:
    """A cluster that cannot be reached or refuses our credentials becomes SEARCH_UNAVAILABLE, which the pages show
    as a message (not a traceback) while storing and reviewing go on."""
    from opensearchpy.exceptions import AuthenticationException, AuthorizationException
    from opensearchpy.exceptions import ConnectionError as ClusterConnectionError

    try:
        yield
    except (ClusterConnectionError, AuthenticationException, AuthorizationException) as exc:
        raise NoteLensError(ErrorCode.SEARCH_UNAVAILABLE,
                            f"OpenSearch does not answer ({type(exc).__name__}): check OPENSEARCH_URL, "
                            "NOTELENS_OPENSEARCH_AUTH and the cluster.") from exc


class OpenSearchBackend:
    name = "opensearch"

    def __init__(self, client: Any, alias: str = "notelens-notes", chunk_size: int = 500, max_retries: int = 5,
                 initial_backoff: int = 1) -> None:
        self.client = client
        self.alias = alias
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self._ready = False

    @classmethod
    def from_settings(cls, settings: Any) -> OpenSearchBackend:
        return cls(connect(settings.opensearch_auth), alias=settings.opensearch_index)

    def ensure(self) -> None:
        """On a new cluster, install the template and a first index behind the alias. An existing alias means both
        are there (``rebuild`` installs the current template): the template, with its dictionary and synonyms inline,
        is megabytes to compress and send, which every note's index update paid while a cluster was down."""
        if self._ready:
            return
        if not self.client.indices.exists_alias(name=self.alias):
            self.client.indices.put_index_template(name=self.alias, body=render_template(self.alias))
            index = self._new_index_name()
            self.client.indices.create(index=index)
            self.client.indices.update_aliases(body=alias_actions(self.alias, index, []))
        self._ready = True

    def _new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"

    def _bulk(self, actions: Iterable[dict[str, Any]]) -> int:
        from opensearchpy import helpers

        ok = failed = 0
        for success, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=self.chunk_size, max_retries=self.max_retries, initial_backoff=self.initial_backoff,
                max_backoff=30, raise_on_error=False):
            if success:
                ok += 1
            else:
                failed += 1
                op: dict[str, Any] = next(iter(item.values()), {})
                log.warning("bulk item failed: note %s: %s", op.get("_id"), op.get("status"))
        if failed:
            raise RuntimeError(f"{failed} of {ok + failed} notes were not indexed (see the log); run reindex again")
        return ok

    def index(self, docs: Iterable[SearchDoc]) -> int:
        self.ensure()
        return self._bulk(bulk_actions(docs, self.alias))

    def delete(self, note_ids: Iterable[str]) -> None:
        from opensearchpy import helpers

        self.ensure()
        actions = [{"_op_type": "delete", "_index": self.alias, "_id": i} for i in note_ids]
        helpers.bulk(self.client, actions, raise_on_error=False, max_retries=self.max_retries)

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Build a new index behind the scenes, then swap the alias to it in one step and drop the old ones."""
        self.client.indices.put_index_template(name=self.alias, body=render_template(self.alias))
        index = self._new_index_name()
        self.client.indices.create(index=index, body={"settings": {"index": {"refresh_interval": "-1"}}})
        n = self._bulk(bulk_actions(docs, index))
        self.client.indices.put_settings(index=index, body={"index": {"refresh_interval": "1s"}})
        self.client.indices.refresh(index=index)
        old = list(self.client.indices.get_alias(name=self.alias).keys()) if self.client.indices.exists_alias(
            name=self.alias) else []
        self.client.indices.update_aliases(body=alias_actions(self.alias, index, old))
        for name in old:
            self.client.indices.delete(index=name, ignore_unavailable=True)
        self._ready = True
        return n

    def search(self, plan: Plan) -> SearchResults:
        started = time.perf_counter()
        with answering():
            self.ensure()
            response = self.client.search(index=self.alias, body=search_body(plan))
        results = parse_response(response, plan)
        results.took_ms = (time.perf_counter() - started) * 1000
        return results

    def values(self, name: str) -> list[str]:
        if name not in NOTE_FIELDS:
            raise ValueError(f"not a note field: {name}")
        body = {"size": 0, "aggs": {"v": {"terms": {"field": name, "size": 500, "order": {"_key": "asc"}}}}}
        with answering():
            self.ensure()
            response = self.client.search(index=self.alias, body=body)
        return [str(b["key"]) for b in response["aggregations"]["v"]["buckets"]]

    def count(self) -> int:
        self.ensure()
        return int(self.client.count(index=self.alias)["count"])

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.alias)


def connect(auth: str = "basic", url: str | None = None, timeout: float = 30, max_retries: int = 3) -> Any:
    """An OpenSearch client for ``OPENSEARCH_URL``: basic auth from the URL's user:password, or SigV4 signed with
    the standard AWS credential chain."""
    from opensearchpy import OpenSearch, RequestsHttpConnection

    url = url or os.environ.get("OPENSEARCH_URL")
    if not url:
        raise ValueError("NOTELENS_SEARCH_BACKEND=opensearch needs OPENSEARCH_URL (https://user:password@host:443)")
    parsed = urlparse(url)
    kwargs: dict[str, Any] = {"hosts": [url], "http_compress": True, "retry_on_timeout": max_retries > 0,
                              "max_retries": max_retries, "timeout": timeout}
    if auth == "sigv4":
        import boto3
        from opensearchpy import AWSV4SignerAuth

        session = boto3.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise ValueError("SigV4 needs AWS credentials (environment, profile or instance role)")
        service = "aoss" if (parsed.hostname or "").endswith(".aoss.amazonaws.com") else "es"
        region = session.region_name or os.environ.get("AWS_REGION")
        if not region:
            raise ValueError("SigV4 needs a region (AWS_REGION or the profile's region)")
        kwargs.update(http_auth=AWSV4SignerAuth(credentials, region, service), connection_class=RequestsHttpConnection,
                      use_ssl=True, verify_certs=True)
        kwargs["hosts"] = [{"host": parsed.hostname, "port": parsed.port or 443, "scheme": "https"}]
    return OpenSearch(**kwargs)


def check(alias: str = "notelens-notes", auth: str = "basic", url: str | None = None,
          timeout: float = 2.0) -> tuple[str, str]:
    """Whether the cluster answers and the alias exists, for the Home page: ("ok" | "unreachable" | "missing",
    detail). One ``_count`` on the alias with its own client (no retries, ``timeout`` seconds), so a dead cluster
    costs the page at most that long. The detail names the host, never the URL (it may hold a password)."""
    from opensearchpy.exceptions import NotFoundError, TransportError

    try:
        client = connect(auth, url, timeout=timeout, max_retries=0)
    except ValueError as exc:  # no URL, or SigV4 without credentials or region
        return "unreachable", str(exc)
    host = urlparse(url or os.environ.get("OPENSEARCH_URL", "")).hostname or "?"
    try:
        count = int(client.count(index=alias)["count"])
    except NotFoundError:
        return "missing", f"{host}: no index or alias {alias} (python -m services reindex builds it)"
    except TransportError as exc:
        # ConnectionError and ConnectionTimeout carry status "N/A"; an HTTP error its code (401/403: credentials).
        return "unreachable", f"{host}: {type(exc).__name__} {exc.status_code}"
    except Exception as exc:  # noqa: BLE001 - the page reports it, whatever it is
        return "unreachable", f"{host}: {type(exc).__name__}"
    finally:
        client.close()
    return "ok", f"{host}: {alias}, {count:,} notes"
