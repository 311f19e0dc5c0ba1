"""Search documents from any NoteStore (issue 13): RecordDocs, built on the NoteStore protocol alone, yields exactly
what StoreDocs reads from the SQLite file with SQL, and a reindex through SearchService works from it."""

from __future__ import annotations

from services.domain import Category, Entity, ExtractionResult, NoteFields, NoteStatus
from services.search import SearchDoc, SearchQuery
from services.search.opensearch_backend import document
from services.search.service import SavedSearches, SearchService
from services.search.source import DocSource, RecordDocs, StoreDocs
from services.search.sqlite_backend import SQLiteSearch
from services.store.sqlite import SQLiteStore
from services.wiring import App


def ent(text: str, category: str = "symptom", normalized: str | None = None, **kw: object) -> Entity:
    return Entity(category=Category(category), text=text, begin=0, end=len(text), normalized=normalized, **kw)  # type: ignore[arg-type]


def build(app: App) -> dict[str, str]:
    """Notes in every state a document can come from; file name → note id."""
    store = app.store
    ids: dict[str, str] = {}

    def note(name: str, text: str) -> str:
        ids[name] = app.notes.ingest(name, text.encode(), process=False).note.id
        return ids[name]

    # Machine output only, with every entity field set.
    a = note("a.txt", "가슴 통증, 기침 없음")
    store.add_extraction(a, ExtractionResult(engine="local", entities=[
        ent("가슴 통증", normalized="흉통", code="R07.4", section="chief_complaint"), ent("기침", negated=True)],
        fields=NoteFields(visit_date="2025-03-02", department="순환기내과", age=58, sex="M")), 1.0)
    # Two machine runs, then a review that changes entities and fields, then another machine run: the review's
    # entities and fields stay in force, engine and prompt version come from the latest run.
    b = note("b.txt", "두통 호소, 발열")
    store.add_extraction(b, ExtractionResult(engine="local", entities=[ent("두통")],
                                             fields=NoteFields(visit_date="2025-03-03")), 1.0)
    second = store.add_extraction(b, ExtractionResult(engine="claude", prompt_version="extraction@v1",
                                                      entities=[ent("두통"), ent("발열", uncertain=True)],
                                                      fields=NoteFields(visit_date="2025-03-03")), 1.0)
    store.add_review(b, second.id, "Dr. Kim", [ent("발열", family=True, historical=True), ent("타이레놀", "medication")],
                     NoteFields(visit_date="2025-03-04", department="신경과", age=34, sex="F"), {})
    store.add_extraction(b, ExtractionResult(engine="llm", prompt_version="extraction@v2", entities=[ent("구토")],
                                             fields=NoteFields(visit_date="2025-01-01")), 1.0)
    # Reviewed twice, the latest review removing every entity.
    c = note("c.txt", "어지러움")
    ext = store.add_extraction(c, ExtractionResult(engine="local", entities=[ent("어지러움")]), 1.0)
    store.add_review(c, ext.id, "Dr. Lee", [ent("현훈", normalized="어지러움")], NoteFields(), {})
    store.add_review(c, ext.id, "Dr. Lee", [], NoteFields(visit_date="2025-02-01"), {}, expected_version=1)
    # Text but never processed; text but processing failed.
    note("d.txt", "처리 전 기록")
    e = note("e.txt", "엔진이 실패한 기록")
    store.set_status(e, NoteStatus.FAILED, "EXTRACTION_FAILED", "engine down")
    # Failed on arrival: no text, no document.
    store.create_note(note_id="f" * 12, filename="f.bin", raw_sha256="f" * 64, size=3, source="upload", stored=False,
                      error=("DECODE_FAILED", "not text"))
    ids["f.bin"] = "f" * 12
    return ids


def by_id(docs: list[SearchDoc]) -> list[SearchDoc]:
    return sorted(docs, key=lambda d: d.note_id)


def test_record_docs_match_store_docs_exactly(app: App) -> None:
    ids = build(app)
    sql = StoreDocs(app.settings.db_path)
    records = RecordDocs(app.store)
    expected = list(sql.all())
    assert len(expected) == 5 and ids["f.bin"] not in {d.note_id for d in expected}
    assert list(records.all()) == expected  # same documents, same (note id) order
    assert list(records.all(batch=2)) == expected  # paged through scan_notes
    assert list(RecordDocs(app.store, workers=3).all(batch=2)) == expected
    # The cases that differ most are what they should be, not merely equal.
    docs = {d.filename: d for d in expected}
    b = docs["b.txt"]
    assert (b.review_status, b.engine, b.prompt_version, b.visit_date, b.department, b.age, b.sex) == (
        "reviewed", "llm", "extraction@v2", "2025-03-04", "신경과", 34, "F")
    assert [(e.text, e.assertion, e.family, e.historical) for e in b.entities] == [
        ("발열", "family", True, True), ("타이레놀", "present", False, False)]
    assert docs["c.txt"].review_status == "reviewed" and docs["c.txt"].entities == []
    assert docs["a.txt"].review_status == "machine" and docs["a.txt"].entities[0].code == "R07.4"
    assert docs["d.txt"].review_status == "none" and docs["d.txt"].engine is None
    assert docs["e.txt"].review_status == "none" and docs["e.txt"].text == "엔진이 실패한 기록"
    # The bodies OpenSearch is sent are the same too.
    assert [document(d) for d in records.all()] == [document(d) for d in expected]
    assert records.count() == sql.count() == 5


def test_record_docs_get_leaves_out_missing_and_textless_notes(app: App) -> None:
    ids = build(app)
    wanted = [ids["e.txt"], ids["f.bin"], "no-such-note", ids["a.txt"], ids["b.txt"]]
    got = RecordDocs(app.store).get(wanted)
    assert by_id(got) == by_id(StoreDocs(app.settings.db_path).get(wanted))
    assert [d.filename for d in got] == ["e.txt", "a.txt", "b.txt"]  # in the order asked
    assert RecordDocs(app.store).get([]) == []


def test_both_sources_satisfy_the_protocol_search_service_takes(app: App) -> None:
    sources: list[DocSource] = [StoreDocs(app.settings.db_path), RecordDocs(app.store)]
    assert all(s.count() == 0 for s in sources)


def test_reindex_and_updates_through_search_service_from_record_docs(app: App) -> None:
    ids = build(app)
    path = app.settings.db_path
    service = SearchService(SQLiteSearch(path), RecordDocs(SQLiteStore(path)), SavedSearches(path))
    report = service.reindex()
    assert report.notes == 5 and service.backend.count() == 5

    def files(**kw: object) -> list[str]:
        return sorted(h.filename for h in service.search(SearchQuery.model_validate(kw)).hits)

    assert files(term="흉통") == ["a.txt"]
    assert files(term="기침", assertions=["negated"]) == ["a.txt"]
    assert files(term="두통") == []  # the review in force dropped it
    assert files(term="타이레놀") == ["b.txt"]
    assert files(review_statuses=["reviewed"]) == ["b.txt", "c.txt"]
    assert files(text="실패한") == ["e.txt"]
    # A review saved later reaches the index through update(), read through the protocol.
    ext = app.store.extractions(ids["a.txt"])[-1]
    app.store.add_review(ids["a.txt"], ext.id, "Dr. Park", [ent("기침")], NoteFields(visit_date="2025-03-02"), {})
    service.update(ids["a.txt"])
    assert files(term="흉통") == [] and files(term="기침") == ["a.txt"]
