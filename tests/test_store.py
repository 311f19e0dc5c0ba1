from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.domain import Category, Entity, ExtractionResult
from services.store.sqlite import SQLiteStore, migrations
from services.wiring import App


def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    assert store.schema_version() == max(v for v, _ in migrations())
    SQLiteStore(tmp_path / "db.sqlite3")  # reopening does not re-run them
    con = sqlite3.connect(tmp_path / "db.sqlite3")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_extractions_are_versioned_and_reviews_never_overwrite_them(app: App) -> None:
    note = app.notes.ingest("v.txt", "두통과 발열. 타이레놀 복용.".encode()).note
    app.notes.process(note.id)  # a second machine run
    exts = app.store.extractions(note.id)
    assert [e.version for e in exts] == [1, 2]
    rows = [dict(e.model_dump(mode="json"), orig_category=e.category.value, orig_begin=e.begin, orig_end=e.end)
            for e in exts[-1].entities]
    rows[0]["negated"] = True
    r1 = app.notes.save_review(note.id, "간호사 A", rows)
    r2 = app.notes.save_review(note.id, "Dr. B", rows[1:])
    assert (r1.version, r2.version) == (1, 2)
    assert r1.changes["counts"]["edited"] == 1
    reviews = app.store.reviews(note.id)
    assert [r.reviewer for r in reviews] == ["간호사 A", "Dr. B"]
    assert not app.store.extractions(note.id)[0].entities[0].negated
    # A later machine run does not replace the reviewed entities in force.
    app.notes.process(note.id)
    assert app.store.counts()["entities"] == len(r2.entities)


def test_review_flags_text_not_in_source(app: App) -> None:
    note = app.notes.ingest("g.txt", "두통 호소".encode()).note
    review = app.notes.save_review(note.id, "Dr. C", [{"category": "symptom", "text": "복통"}])
    assert review.entities[0].grounded is False


def test_search_handles_short_korean_words(app: App) -> None:
    # The store's old trigram search gave way to the search service (services/search, tests/test_search.py).
    from services.search import SearchQuery

    app.notes.ingest("s1.txt", "두통과 어지러움 호소".encode())
    app.notes.ingest("s2.txt", "흉통 호소, 호흡곤란 없음".encode())
    assert [h.filename for h in app.search.search(SearchQuery(text="두통")).hits] == ["s1.txt"]
    assert [h.filename for h in app.search.search(SearchQuery(text="호흡곤란")).hits] == ["s2.txt"]


def test_store_round_trips_the_entity_schema(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    note = store.create_note(note_id="n1", filename="f.txt", raw_sha256="ab" * 32, size=3, source="t", stored=True)
    ent = Entity(category=Category.MEDICATION, text="타이레놀", begin=0, end=4, attributes={"dosage": "500mg"},
                 normalized="아세트아미노펜", code="N02BE01", code_system="ATC", engine="local")
    store.add_extraction(note.id, ExtractionResult(engine="local", entities=[ent]), 1.0)
    assert store.extractions(note.id)[0].entities == [ent]


def test_note_headers_leave_text_in_the_database(app: App) -> None:
    app.notes.ingest("h.txt", "두통 호소".encode())
    (header,) = app.store.list_notes(with_text=False)
    assert header.text is None and header.filename == "h.txt" and header.status.value == "done"
    assert app.store.list_notes()[0].text == "두통 호소"


def test_a_migration_that_lands_after_a_higher_one_is_still_applied(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from services.store import sqlite as store_module

    every = migrations()
    first, last = every[:2], every[-1:]
    monkeypatch.setattr(store_module, "migrations", lambda: first + last)  # main had 001, 002 and the newest
    SQLiteStore(tmp_path / "m.sqlite3")
    monkeypatch.setattr(store_module, "migrations", lambda: every)  # then the ones numbered in between landed
    store = SQLiteStore(tmp_path / "m.sqlite3")
    with store._conn() as con:
        applied = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY version")]
        columns = {r[1] for r in con.execute("PRAGMA table_info(extractions)")}
    assert applied == [v for v, _ in every] and store.schema_version() == every[-1][0]
    assert {"usage_json", "cached"} <= columns


def test_extraction_keeps_its_usage_and_whether_it_came_from_the_cache(app: App) -> None:
    note = app.notes.ingest("u.txt", "두통".encode(), process=False).note
    result = ExtractionResult(engine="claude", model_id="m", prompt_version="extraction@v1",
                              usage={"input_tokens": 10.0, "output_tokens": 5.0}, cached=True)
    app.store.add_extraction(note.id, result, 1.0)
    stored = app.store.extractions(note.id)[-1]
    assert stored.usage == {"input_tokens": 10.0, "output_tokens": 5.0} and stored.cached
