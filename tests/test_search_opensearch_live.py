"""OpenSearch backend against a real cluster: runs only when OPENSEARCH_URL is set (skipped otherwise).

    OPENSEARCH_URL=https://admin:password@localhost:9200 NOTELENS_OPENSEARCH_AUTH=basic \
        pytest tests/test_search_opensearch_live.py

The cluster needs the analysis-nori plugin (bundled with Amazon OpenSearch Service; `opensearch-plugin install
analysis-nori` elsewhere). Each run uses its own alias and deletes its indices and template afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from services.config import load_settings
from services.search import SearchQuery
from services.search.opensearch_backend import OpenSearchBackend, connect
from services.search.service import SavedSearches, SearchService
from services.search.source import StoreDocs
from services.wiring import App, build_app

pytestmark = pytest.mark.skipif(not os.environ.get("OPENSEARCH_URL"), reason="OPENSEARCH_URL is not set")

NOTES = {
    "a.txt": "진료일: 2025-03-02\n진료과: 순환기내과\n58세 남\nC.C: 가슴 통증 2일. 호흡곤란 없음.\nP: 아스피린 100mg qd",
    "b.txt": "진료일: 2025-04-10\n진료과: 신경과\n34세 여\nC.C: 두통이 심함. 흉통은 없음.\n두통을 호소하여 타이레놀 처방.",
    "c.txt": "진료일: 2025-05-20\n진료과: 순환기내과\n71세 여\nC.C: 가슴통증, 호흡 곤란\n진단: 협심증 의심",
    "d.txt": "진료일: 2024-12-01\n진료과: 호흡기내과\n45세 남\n기침, 발열. 흉통 부인.\n가족력: 부: 고혈압",
}


@pytest.fixture
def live(data_dir: object) -> Iterator[tuple[App, SearchService, OpenSearchBackend]]:
    settings = load_settings()
    app = build_app(settings, seed=False)
    for name, text in NOTES.items():
        app.notes.ingest(name, text.encode())
    alias = f"notelens-test-{uuid.uuid4().hex[:8]}"
    backend = OpenSearchBackend(connect(settings.opensearch_auth), alias=alias)
    service = SearchService(backend, StoreDocs(settings.db_path), SavedSearches(settings.db_path))
    try:
        yield app, service, backend
    finally:
        client = backend.client
        for index in client.indices.get(index=f"{alias}-*", ignore=[404]) or {}:
            if index.startswith(alias):
                client.indices.delete(index=index, ignore_unavailable=True)
        client.indices.delete_index_template(name=alias, ignore=[404])


def files(service: SearchService, **kwargs: object) -> list[str]:
    return sorted(h.filename for h in service.search(SearchQuery.model_validate(kwargs)).hits)


def test_reindex_query_facets_and_alias_swap(live: tuple[App, SearchService, OpenSearchBackend]) -> None:
    app, service, backend = live
    assert service.reindex().notes == 4
    assert backend.count() == 4
    assert files(service, text="두통") == ["b.txt"]
    assert files(service, term="흉통") == ["a.txt", "c.txt"]
    assert files(service, term="흉통", assertions=["negated"]) == ["b.txt", "d.txt"]
    assert files(service, text="R07.4", assertions=["negated"]) == ["b.txt", "d.txt"]
    assert files(service, departments=["순환기내과"], date_from="2025-05-01") == ["c.txt"]
    results = service.search(SearchQuery(term="흉통", assertions=[]))
    assert dict(results.facets["assertion"]) == {"present": 2, "negated": 2}
    assert dict(results.facets["department"])["순환기내과"] == 2
    hit = service.search(SearchQuery(text="두통")).hits[0]
    assert "<mark>" in hit.snippet_html
    first = set(backend.client.indices.get_alias(name=backend.alias))
    service.reindex()
    second = set(backend.client.indices.get_alias(name=backend.alias))
    assert len(second) == 1 and first != second
    assert not backend.client.indices.exists(index=list(first)[0])


def test_updates_follow_reviews(live: tuple[App, SearchService, OpenSearchBackend]) -> None:
    app, service, backend = live
    service.reindex()
    note_id = next(n.id for n in app.store.list_notes() if n.filename == "d.txt")
    view = app.notes.view(note_id)
    rows = [dict(e.model_dump(mode="json"), orig_category=e.category.value, orig_begin=e.begin, orig_end=e.end,
                 negated=False if e.normalized == "흉통" else e.negated) for e in view.entities]
    app.notes.save_review(note_id, "Dr. Live", rows)
    service.update(note_id)
    backend.refresh()
    assert files(service, term="흉통") == ["a.txt", "c.txt", "d.txt"]
    assert files(service, review_statuses=["reviewed"]) == ["d.txt"]
