"""OpenSearch backend as data: the index template, bulk bodies, queries, alias swap and response parsing against
golden JSON (tests/golden/search/), and the backend's calls against a recording client. No cluster needed; the live
suite is tests/test_search_opensearch_live.py (runs when OPENSEARCH_URL is set).

Regenerate the golden files after an intended change with ``NOTELENS_UPDATE_GOLDEN=1 pytest tests/test_search_opensearch.py``
and read the diff."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from opensearchpy.serializer import JSONSerializer

from services.search import SearchDoc, SearchEntity, SearchQuery
from services.search.dictionary import SYNONYMS, USERDICT, read_rules, synonyms, user_dictionary
from services.search.opensearch_backend import (
    OpenSearchBackend,
    alias_actions,
    bulk_actions,
    connect,
    parse_response,
    render_template,
    search_body,
)
from services.search.service import compile_plan
from services.search.snippet import CLOSE, OPEN
from tests.goldens import ROOT as GOLDEN_ROOT
from tests.goldens import check_golden

GOLDEN = GOLDEN_ROOT / "search"


def golden(name: str, value: Any) -> None:
    check_golden("search", name, value)


def docs() -> list[SearchDoc]:
    chest = SearchEntity("symptom", "흉통", "흉통", "R07.4", True, False, False, False, "chief_complaint", 20, 22)
    drug = SearchEntity("medication", "타이레놀", "아세트아미노펜", "N02BE01", False, False, False, False, "plan", 30, 34)
    return [
        SearchDoc("n1", "a.txt", "진료일: 2025-03-02 C.C: 흉통은 없음. P: 타이레놀", "2025-03-02", "순환기내과", 58, "M",
                  "local", None, "machine", [chest, drug]),
        SearchDoc("n2", "b.txt", "두통 호소", None, None, None, None, "claude", "extraction@v2", "reviewed", []),
    ]


def test_index_template() -> None:
    body = render_template("notelens-notes", user_rules=["흉통", "가슴통증 가슴 통증"],
                           synonyms=["chest pain, 가슴 통증, 흉통"])
    golden("template.json", body)
    assert body["index_patterns"] == ["notelens-notes-*"]
    assert body["template"]["mappings"]["properties"]["entities"]["type"] == "nested"
    tokenizers = body["template"]["settings"]["analysis"]["tokenizer"]
    assert {t["type"] for t in tokenizers.values()} == {"nori_tokenizer"}
    assert all(t["user_dictionary_rules"] == ["흉통", "가슴통증 가슴 통증"] for t in tokenizers.values())
    # The real template carries the generated files inline.
    full = render_template("notelens-notes")
    assert len(full["template"]["settings"]["analysis"]["filter"]["ko_synonyms"]["synonyms"]) > 5000
    assert "_comment" not in full


def test_generated_dictionary_and_synonyms_match_the_vocabularies() -> None:
    """scripts/build_search_dict.py regenerates them; a vocabulary change without a rebuild fails here."""
    from services.search.concepts import vocabulary

    rules = read_rules(USERDICT)
    assert rules == user_dictionary(vocabulary())
    assert read_rules(SYNONYMS) == synonyms(vocabulary())
    assert "가슴통증 가슴 통증" in rules and "흉통" in rules
    assert all(line.replace(" ", "").isalpha() or " " in line for line in rules)
    chest = next(line for line in read_rules(SYNONYMS) if "가슴 통증" in line.split(", ") and "흉통" in line.split(", "))
    assert "chest pain" in chest.split(", ")
    assert not any(form in ("cp", "ha") for line in read_rules(SYNONYMS) for form in line.split(", "))


def test_bulk_bodies() -> None:
    golden("bulk_actions.json", list(bulk_actions(docs(), "notelens-notes-1")))


def test_alias_swap() -> None:
    golden("alias_swap.json", alias_actions("notelens-notes", "notelens-notes-2", ["notelens-notes-1"]))
    assert alias_actions("a", "a-1", [])["actions"] == [{"add": {"index": "a-1", "alias": "a", "is_write_index": True}}]


QUERIES = {
    # The benchmark's three kinds, plus a code query and an expanded concept.
    "query_term_affirmed.json": SearchQuery(term="흉통"),
    "query_term_date_department.json": SearchQuery(term="흉통", date_from="2025-01-01", date_to="2025-03-31",
                                                   departments=["순환기내과"], sort="date"),
    "query_free_text.json": SearchQuery(text='두통 "호흡 곤란"', page=2, page_size=10),
    "query_code_negated.json": SearchQuery(text="R07.4", assertions=["present", "negated"], categories=["symptom"]),
    "query_concept.json": SearchQuery(text="chest pain", expand=True, sexes=["F"], age_bands=["60-69"],
                                      review_statuses=["reviewed"], engines=["local"]),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_queries(name: str) -> None:
    body = search_body(compile_plan(QUERIES[name]))
    golden(name, body)


def test_affirmed_query_filters_assertion_inside_the_nested_entity() -> None:
    body = search_body(compile_plan(SearchQuery(term="흉통")))
    (nested,) = [f["nested"] for f in body["query"]["bool"]["filter"] if "nested" in f]
    conditions = nested["query"]["bool"]["filter"]
    # Term and assertion in the same nested clause: one mention must be both 흉통 and affirmed.
    assert {"terms": {"entities.assertion": ["present"]}} in conditions
    assert any("entities.term" in json.dumps(c) for c in conditions)


def test_parse_response() -> None:
    plan = compile_plan(SearchQuery(text="흉통", term="흉통", assertions=["negated"]))
    response = json.loads((GOLDEN / "response.json").read_text(encoding="utf-8"))
    results = parse_response(response, plan)
    assert results.total == 7
    (hit,) = results.hits
    assert hit.note_id == "n1" and hit.score == pytest.approx(3.2)
    assert hit.snippet_html == "C.C: <mark>흉통</mark>은 없음 &lt;b&gt;"
    assert hit.snippet_text == "C.C: 흉통은 없음 <b>"
    assert [(c.text, c.assertion, c.matched) for c in hit.entities][0] == ("흉통", "negated", True)
    assert results.facets["department"] == [("순환기내과", 5), ("신경과", 2)]
    assert results.facets["term"] == [("흉통", 7)]
    assert results.facets["assertion"] == [("negated", 7), ("present", 3)]
    assert results.facets["category"] == [("symptom", 7)]


# -- the backend's calls, recorded ----------------------------------------------------------------------


class _Indices:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log
        self.aliases: dict[str, list[str]] = {}

    def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        self.log.append(("put_index_template", name))

    def exists_alias(self, name: str) -> bool:
        return any(name in v for v in self.aliases.values())

    def get_alias(self, name: str) -> dict[str, Any]:
        return {i: {"aliases": {name: {}}} for i, v in self.aliases.items() if name in v}

    def create(self, index: str, body: dict[str, Any] | None = None) -> None:
        self.log.append(("create", index))
        self.aliases[index] = []

    def update_aliases(self, body: dict[str, Any]) -> None:
        self.log.append(("update_aliases", body))
        for action in body["actions"]:
            for kind, spec in action.items():
                if kind == "add":
                    self.aliases[spec["index"]].append(spec["alias"])
                else:
                    self.aliases[spec["index"]].remove(spec["alias"])

    def put_settings(self, index: str, body: dict[str, Any]) -> None:
        self.log.append(("put_settings", index))

    def refresh(self, index: str) -> None:
        self.log.append(("refresh", index))

    def delete(self, index: str, ignore_unavailable: bool = False) -> None:
        self.log.append(("delete", index))
        self.aliases.pop(index, None)


class RecordingClient:
    """Enough of opensearch-py's client for the backend: bulk answers 429 once per note when ``throttle``."""

    def __init__(self, throttle: bool = False) -> None:
        self.log: list[tuple[str, Any]] = []
        self.indices = _Indices(self.log)
        self.throttle = throttle
        self.seen: set[str] = set()
        self.bulk_bodies: list[str] = []
        self.transport = SimpleNamespace(serializer=JSONSerializer())

    def bulk(self, body: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        lines = body if isinstance(body, list) else body.splitlines()
        lines = [line.decode() if isinstance(line, bytes) else line for line in lines]
        self.bulk_bodies.append("\n".join(lines))
        items = []
        for line in lines[::2]:
            action = json.loads(line)
            op, meta = next(iter(action.items()))
            first_time = meta["_id"] not in self.seen
            self.seen.add(meta["_id"])
            status = 429 if self.throttle and first_time else 201
            items.append({op: {"_index": meta["_index"], "_id": meta["_id"], "status": status,
                               **({"error": {"type": "es_rejected_execution_exception"}} if status == 429 else {})}})
        return {"errors": any(next(iter(i.values()))["status"] >= 300 for i in items), "items": items}


def test_rebuild_builds_a_new_index_then_swaps_the_alias() -> None:
    client = RecordingClient()
    backend = OpenSearchBackend(client, alias="nl", initial_backoff=0)
    assert backend.rebuild(docs()) == 2
    first = next(i for i, v in client.indices.aliases.items() if "nl" in v)
    assert backend.rebuild(docs()) == 2
    second = next(i for i, v in client.indices.aliases.items() if "nl" in v)
    assert first != second and list(client.indices.aliases) == [second]  # the old index is gone
    kinds = [k for k, _ in client.log]
    # The alias moves only after the new index is filled and refreshed.
    swap = max(i for i, k in enumerate(kinds) if k == "update_aliases")
    assert kinds.index("refresh", kinds.index("create", 3)) < swap < kinds.index("delete")
    body = client.log[swap][1]
    assert body == alias_actions("nl", second, [first])
    assert all(f'"_index":"{second}"' in b.replace(" ", "") for b in client.bulk_bodies[1:])


def test_bulk_retries_throttled_notes() -> None:
    client = RecordingClient(throttle=True)
    backend = OpenSearchBackend(client, alias="nl", initial_backoff=0)
    assert backend.index(docs()) == 2
    assert len(client.bulk_bodies) == 2  # the 429s were sent again


def test_bulk_gives_up_loudly_after_retries() -> None:
    client = RecordingClient(throttle=True)
    backend = OpenSearchBackend(client, alias="nl", max_retries=0, initial_backoff=0)
    with pytest.raises(RuntimeError, match="not indexed"):
        backend.index(docs())


def test_connect_basic_and_sigv4(monkeypatch: pytest.MonkeyPatch) -> None:
    from opensearchpy import AWSV4SignerAuth

    client = connect("basic", "https://admin:secret@search.example.org:9200")
    (host,) = client.transport.hosts
    assert host["host"] == "search.example.org" and host["http_auth"] == "admin:secret"
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_REGION", "ap-northeast-2")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
    client = connect("sigv4", "https://search-x.ap-northeast-2.es.amazonaws.com")
    auth = client.transport.kwargs["http_auth"]
    assert isinstance(auth, AWSV4SignerAuth) and auth.service == "es" and auth.signer.region == "ap-northeast-2"
    client = connect("sigv4", "https://abc.ap-northeast-2.aoss.amazonaws.com")
    assert client.transport.kwargs["http_auth"].service == "aoss"
    monkeypatch.delenv("OPENSEARCH_URL", raising=False)
    with pytest.raises(ValueError, match="OPENSEARCH_URL"):
        connect("basic")


def test_sentinels_never_reach_html() -> None:
    from services.search.snippet import from_marked

    html_snip, plain = from_marked(f"<i>{OPEN}두통{CLOSE}</i>")
    assert html_snip == "&lt;i&gt;<mark>두통</mark>&lt;/i&gt;" and plain == "<i>두통</i>"


def test_updates_send_the_template_only_to_a_cluster_without_the_alias() -> None:
    """The template carries the dictionary and synonyms inline (megabytes): an index that exists is not sent it
    again on every process's first update — which cost each note ~1.7 s of compression while a cluster was down."""
    client = RecordingClient()
    backend = OpenSearchBackend(client, alias="nl", initial_backoff=0)
    backend.index(docs())
    assert [k for k, _ in client.log][:3] == ["put_index_template", "create", "update_aliases"]
    restarted = OpenSearchBackend(client, alias="nl", initial_backoff=0)  # a new process, the same cluster
    client.log.clear()
    restarted.index(docs())
    assert "put_index_template" not in [k for k, _ in client.log]
