"""Search (issue 8), embedded backend: real SQLite FTS5, real kiwipiepy, the local engine's real entities."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.search import SearchQuery, SearchResults
from services.search.morph import index_tokens, query_tokens
from services.search.service import compile_plan
from services.wiring import App

NOTES = {
    "a.txt": "진료일: 2025-03-02\n진료과: 순환기내과\n58세 남\nC.C: 가슴 통증 2일. 호흡곤란 없음.\nP: 아스피린 100mg qd",
    "b.txt": "진료일: 2025-04-10\n진료과: 신경과\n34세 여\nC.C: 두통이 심함. 흉통은 없음.\n두통을 호소하여 타이레놀 처방.",
    "c.txt": "진료일: 2025-05-20\n진료과: 순환기내과\n71세 여\nC.C: 가슴통증, 호흡 곤란\n진단: 협심증 의심",
    "d.txt": "진료일: 2024-12-01\n진료과: 호흡기내과\n45세 남\n기침, 발열. 흉통 부인.\n가족력: 부: 고혈압",
}


@pytest.fixture
def four(app: App) -> dict[str, str]:
    """File name → note id for four small notes whose entities the local engine finds as the tests expect."""
    ids = {}
    for name, text in NOTES.items():
        outcome = app.notes.ingest(name, text.encode("utf-8"))
        assert outcome.ok
        ids[name] = outcome.note.id
    return ids


def files(results: SearchResults) -> list[str]:
    return sorted(h.filename for h in results.hits)


def search(app: App, **kwargs: object) -> SearchResults:
    return app.search.search(SearchQuery.model_validate(kwargs))


# -- Korean morphology ------------------------------------------------------------------------------


def test_two_syllable_word_matches_its_inflected_forms() -> None:
    assert "두통" in index_tokens("두통이 심함") and "두통" in index_tokens("두통을 호소")
    assert query_tokens("두통이") == ["두통"]
    # kiwipiepy reads 흉통은 as 흉/통: the joined run is indexed too.
    assert "흉통" in index_tokens("흉통은 없음")
    # 설사 alone reads as an adverb ("even if"): a word with no content morpheme is kept as written.
    assert "설사" in index_tokens("복통, 설사.") and query_tokens("설사") == ["설사"]


def test_free_text_finds_particles_and_spacing_variants(app: App, four: dict[str, str]) -> None:
    assert files(search(app, text="두통")) == ["b.txt"]  # 두통이, 두통을
    assert files(search(app, text="가슴통증")) == ["a.txt", "c.txt"]  # written 가슴 통증 and 가슴통증
    assert files(search(app, text="가슴 통증")) == ["a.txt", "c.txt"]
    assert files(search(app, text="호흡곤란")) == ["a.txt", "c.txt"]  # written 호흡곤란 and 호흡 곤란
    assert files(search(app, text='"호흡 곤란"')) == ["a.txt", "c.txt"]
    assert files(search(app, text="두통 타이레놀")) == ["b.txt"]  # words are ANDed
    assert files(search(app, text="두통 아스피린")) == []
    assert files(search(app, text="어지러움")) == []


def test_bm25_ranks_the_note_that_says_it_more_first(app: App) -> None:
    app.notes.ingest("once.txt", "기침 있음. 콧물 있음. 인후통 있음. 두통 조금.".encode())
    app.notes.ingest("often.txt", "두통 심함. 두통으로 잠을 못 잠. 두통약 복용.".encode())
    hits = search(app, text="두통").hits
    assert [h.filename for h in hits] == ["often.txt", "once.txt"]
    assert hits[0].score > hits[1].score > 0


def test_snippets_mark_matches_and_escape_note_markup(app: App) -> None:
    app.notes.ingest("x.txt", "<script>alert(1)</script> 두통이 있음 & <b>발열</b>".encode())
    (hit,) = search(app, text="두통").hits
    assert "<mark>두통</mark>이" in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html and "<script>" not in hit.snippet_html
    assert "<b>" not in hit.snippet_html and "&amp;" in hit.snippet_html
    assert "<mark>" not in hit.snippet_text and "<script>" in hit.snippet_text


# -- entities, assertions, concepts, codes ----------------------------------------------------------


def test_affirmed_filter_skips_notes_where_the_term_is_only_negated(app: App, four: dict[str, str]) -> None:
    # b and d say 흉통 only as negated (흉통은 없음, 흉통 부인); a and c have it affirmed (가슴 + 통증 → 흉통).
    assert files(search(app, term="흉통")) == ["a.txt", "c.txt"]
    assert files(search(app, term="흉통", assertions=["negated"])) == ["b.txt", "d.txt"]
    assert files(search(app, term="흉통", assertions=["present", "negated"])) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert files(search(app, term="협심증")) == []
    assert files(search(app, term="협심증", assertions=["uncertain"])) == ["c.txt"]
    assert files(search(app, term="고혈압", assertions=["family"])) == ["d.txt"]
    # Free text alone cannot tell 흉통 없음 from 흉통; the term filter can.
    assert files(search(app, text="흉통")) == ["b.txt", "d.txt"]
    assert files(search(app, text="흉통", term="흉통")) == []


def test_term_filter_accepts_a_written_form_of_the_normalized_term(app: App, four: dict[str, str]) -> None:
    assert files(search(app, term="가슴 통증")) == ["a.txt", "c.txt"]
    assert files(search(app, term="타이레놀")) == ["b.txt"]  # normalized 아세트아미노펜
    assert files(search(app, categories=["medication"])) == ["a.txt", "b.txt"]
    assert files(search(app, categories=["diagnosis"], assertions=["uncertain", "family"])) == ["c.txt", "d.txt"]


def test_concept_expansion_is_opt_in(app: App, four: dict[str, str]) -> None:
    assert search(app, text="chest pain").total == 0
    # chest pain = 흉통 = 가슴 통증 = 흉부 통증: the expanded query finds Korean notes.
    assert files(search(app, text="chest pain", expand=True)) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    plan = compile_plan(SearchQuery(text="흉통", expand=True))
    assert {"흉통", "가슴 통증", "chest pain"} <= set(plan.text[0].alternatives)
    # A code query: only b and d carry R07.4 (negated), so the affirmed filter finds nothing ...
    assert search(app, text="R07.4").total == 0
    assert files(search(app, text="R07.4", assertions=["negated"])) == ["b.txt", "d.txt"]
    # ... unless the code is expanded to its concept (a and c: 흉통 without a code).
    assert files(search(app, text="R07.4", expand=True)) == ["a.txt", "c.txt"]


def test_codes_match_exactly_or_by_prefix(app: App, four: dict[str, str]) -> None:
    assert files(search(app, text="N02BE01")) == ["b.txt"]  # ATC of 타이레놀
    assert files(search(app, text="B01AC")) == ["a.txt"]  # ATC class prefix of 아스피린
    assert files(search(app, text="R50")) == ["d.txt"]  # KCD R50.9 발열
    assert files(search(app, term="R06.0", assertions=["negated"])) == ["a.txt"]


# -- note filters, facets, sort, pagination ---------------------------------------------------------


def test_note_filters(app: App, four: dict[str, str]) -> None:
    assert files(search(app, departments=["순환기내과"])) == ["a.txt", "c.txt"]
    assert files(search(app, date_from="2025-04-01", date_to="2025-05-31")) == ["b.txt", "c.txt"]
    assert files(search(app, sexes=["M"])) == ["a.txt", "d.txt"]
    assert files(search(app, age_bands=["70-79", "30-39"])) == ["b.txt", "c.txt"]
    assert files(search(app, engines=["local"])) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert files(search(app, engines=["claude"])) == []
    assert files(search(app, review_statuses=["reviewed"])) == []
    assert files(search(app, term="흉통", departments=["순환기내과"], date_from="2025-05-01")) == ["c.txt"]


def test_facet_counts(app: App, four: dict[str, str]) -> None:
    facets = search(app).facets
    assert dict(facets["department"]) == {"순환기내과": 2, "신경과": 1, "호흡기내과": 1}
    assert dict(facets["sex"]) == {"M": 2, "F": 2}
    assert dict(facets["review_status"]) == {"machine": 4}
    assert dict(facets["visit_month"])["2025-03"] == 1
    assert dict(facets["category"])["medication"] == 2
    assert dict(facets["term"])["흉통"] == 2  # affirmed only, as the query asks
    facets = search(app, term="흉통", assertions=[]).facets  # every assertion
    assert dict(facets["assertion"]) == {"present": 2, "negated": 2}
    assert dict(facets["department"]) == {"순환기내과": 2, "신경과": 1, "호흡기내과": 1}
    facets = search(app, term="흉통").facets
    assert dict(facets["department"]) == {"순환기내과": 2}
    assert not {"date", "age", "sex"} & set(dict(facets["term"]))  # PHI never becomes a term facet


def test_sort_by_date_and_pagination(seeded_app: App) -> None:
    app = seeded_app
    first = search(app, sort="date", page_size=10)
    dates = [h.visit_date for h in first.hits]
    assert first.total >= 40 and first.pages == -(-first.total // 10)
    assert dates == sorted(dates, reverse=True)
    seen = []
    for page in range(1, first.pages + 1):
        results = search(app, sort="date", page_size=10, page=page)
        assert results.total == first.total
        seen += [h.note_id for h in results.hits]
    assert len(seen) == len(set(seen)) == first.total
    assert search(app, sort="date", page_size=10, page=first.pages + 1).hits == []


# -- in step with the store -------------------------------------------------------------------------


class _Engine:
    name = "fake"

    def __init__(self, entities: list[Entity]) -> None:
        self.entities = entities

    def extract(self, text: str) -> ExtractionResult:
        return ExtractionResult(engine=self.name, prompt_version="v9", entities=self.entities,
                                fields=NoteFields(visit_date="2026-01-05", department="신경과"))


def test_index_follows_re_extraction(app: App, four: dict[str, str]) -> None:
    note_id = four["d.txt"]
    text = NOTES["d.txt"]
    begin = text.index("흉통")
    app.notes.extractor = _Engine([Entity(category=Category.SYMPTOM, text="흉통", begin=begin, end=begin + 2,
                                          normalized="흉통", code="R07.4")])
    app.notes.process(note_id)
    assert files(search(app, term="흉통")) == ["a.txt", "c.txt", "d.txt"]  # no longer negated
    assert files(search(app, engines=["fake"], prompt_versions=["v9"])) == ["d.txt"]
    assert files(search(app, departments=["신경과"])) == ["b.txt", "d.txt"]
    assert search(app, term="기침").total == 0  # the new run has no 기침


def test_index_follows_review_edits(app: App, four: dict[str, str]) -> None:
    note_id = four["a.txt"]
    view = app.notes.view(note_id)
    rows = []
    for e in view.entities:
        row = dict(e.model_dump(mode="json"), orig_category=e.category.value, orig_begin=e.begin, orig_end=e.end)
        if e.normalized == "흉통":
            row["negated"] = True  # the reviewer reads it as denied
        rows.append(row)
    rows.append({"category": "symptom", "text": "호흡곤란", "normalized": "호흡곤란", "status": "accept"})
    app.notes.save_review(note_id, "Dr. Lee", rows)
    assert files(search(app, term="흉통")) == ["c.txt"]
    assert files(search(app, term="호흡곤란")) == ["a.txt", "c.txt"]  # the added (affirmed) mention
    assert files(search(app, review_statuses=["reviewed"])) == ["a.txt"]
    # A later machine run does not undo the review in the index either.
    app.notes.process(note_id)
    assert files(search(app, term="흉통")) == ["c.txt"]


def test_reindex_rebuilds_the_index_from_the_store(app: App, four: dict[str, str]) -> None:
    con = sqlite3.connect(app.settings.db_path)
    with con:
        con.execute("DELETE FROM search_notes")
        con.execute("DELETE FROM search_entities")
        con.execute("DELETE FROM search_fts")
    assert search(app, term="흉통").total == 0
    report = app.search.reindex()
    assert report.notes == 4 and report.backend == "sqlite"
    assert files(search(app, term="흉통")) == ["a.txt", "c.txt"]
    assert files(search(app, text="가슴통증")) == ["a.txt", "c.txt"]
    assert app.search.backend.count() == 4


def test_unprocessed_and_failed_notes_are_searchable_by_text(app: App) -> None:
    outcome = app.notes.ingest("raw.txt", "어지러움 호소".encode(), process=False)
    (hit,) = search(app, text="어지러움").hits
    assert hit.note_id == outcome.note.id and hit.review_status == "none"


# -- saved searches, export, command line -----------------------------------------------------------


def test_saved_searches_persist_in_the_store(app: App, four: dict[str, str]) -> None:
    query = SearchQuery(text="통증", term="흉통", departments=["순환기내과"], page=3)
    app.search.saved.save("흉통 순환기", query)
    from services.search.service import SavedSearches

    again = SavedSearches(app.settings.db_path)  # a new process sees it
    assert [name for name, _ in again.all()] == ["흉통 순환기"]
    restored = again.get("흉통 순환기")
    assert restored is not None and restored.term == "흉통" and restored.page == 1
    app.search.saved.save("흉통 순환기", query.model_copy(update={"departments": []}))
    assert again.get("흉통 순환기").departments == []  # type: ignore[union-attr]
    again.delete("흉통 순환기")
    assert app.search.saved.all() == []
    with pytest.raises(ValueError):
        app.search.saved.save("  ", query)


def test_csv_export_holds_every_result_not_one_page(app: App, four: dict[str, str]) -> None:
    body = app.search.export_csv(SearchQuery(term="흉통", assertions=["present", "negated"], page_size=2))
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body[1:])))
    assert sorted(r["file"] for r in rows) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    b = next(r for r in rows if r["file"] == "b.txt")
    assert "흉통 (symptom, negated, R07.4)" in b["entities"]


def test_cli_search_prints_json_lines(app: App, four: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from services.__main__ import main

    assert main(["search", "통증", "--term", "흉통", "--department", "순환기내과", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(x["file"] for x in lines) == ["a.txt", "c.txt"]
    assert {"note_id", "file", "score", "snippet", "entities"} <= set(lines[0])
    assert any(e["normalized"] == "흉통" and e["assertion"] == "present" for e in lines[0]["entities"])
    assert main(["search", "흉통", "--term", "흉통", "--include-negated", "--from", "2025-01-01", "--to", "2025-12-31",
                 "--json", "--limit", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["file"] == "b.txt"
    assert main(["search", "두통", "--category", "symptom"]) == 0
    assert "b.txt" in capsys.readouterr().out


def test_cli_reindex(app: App, four: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from services.__main__ import main

    assert main(["reindex"]) == 0
    out = capsys.readouterr().out
    assert "4" in out and "sqlite" in out


def test_migration_dropped_the_trigram_table(app: App, data_dir: Path) -> None:
    con = sqlite3.connect(app.settings.db_path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert "notes_fts" not in names and {"search_fts", "search_notes", "search_entities", "saved_searches"} <= names


def test_batch_workers_keep_the_index_in_step(app: App, tmp_path: Path) -> None:
    from services.batch import run_batch

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        (folder / f"n{i}.txt").write_text(f"{i}번 기록: 두통이 심함. 흉통 없음.", encoding="utf-8")
    report = run_batch(folder, tmp_path / "out", service=app.notes, settings=app.settings, workers=2, progress=False)
    assert len(report.success) == 4
    assert files(search(app, text="두통")) == [f"n{i}.txt" for i in range(4)]
    assert search(app, term="흉통").total == 0 and search(app, term="흉통", assertions=["negated"]).total == 4


def test_a_failed_rebuild_leaves_the_old_index_whole(app: App, four: dict[str, str]) -> None:
    def broken() -> object:
        yield from app.search.docs.all()
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        app.search.backend.rebuild(broken())  # type: ignore[arg-type]
    assert app.search.backend.count() == 4
    assert files(search(app, term="흉통")) == ["a.txt", "c.txt"] and files(search(app, text="두통")) == ["b.txt"]
    con = sqlite3.connect(app.settings.db_path)
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"search_entities_term", "search_entities_code", "search_notes_date"} <= indexes


def test_entity_facets_are_estimated_from_a_sample_above_the_limit(app: App, four: dict[str, str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from services.search import sqlite_backend

    exact = search(app, assertions=["present", "negated"])
    assert exact.facet_sample == 0
    monkeypatch.setattr(sqlite_backend, "FACET_SAMPLE", 2)
    estimated = search(app, assertions=["present", "negated"])
    assert estimated.facet_sample == 2 and estimated.total == 4
    # Every second note (b, d) stands for two: both mention 흉통 (negated), so the estimate is 4 (exactly: 4) ...
    assert dict(estimated.facets["term"])["흉통"] == 4 == dict(exact.facets["term"])["흉통"]
    # ... and their departments count twice (exactly: 순환기내과 2, 신경과 1, 호흡기내과 1).
    assert dict(estimated.facets["department"]) == {"신경과": 2, "호흡기내과": 2}
    assert dict(exact.facets["department"]) == {"순환기내과": 2, "신경과": 1, "호흡기내과": 1}


def test_facets_agree_with_a_count_from_the_store(seeded_app: App) -> None:
    from collections import Counter

    app = seeded_app
    views = [app.notes.view(n.id) for n in app.store.list_notes(with_text=False)]
    terms: Counter[str] = Counter()
    departments: Counter[str] = Counter()
    for v in views:
        terms.update({(e.normalized or e.text).strip().lower() for e in v.entities
                      if e.assertion == "present" and e.category.value != "phi"})
        if v.note.fields.department:
            departments[v.note.fields.department] += 1
    results = search(app)
    assert results.total == len(views)
    assert dict(results.facets["department"]) == dict(departments)
    for term, n in results.facets["term"]:
        assert terms[term] == n, term
    assert [n for _, n in results.facets["term"]] == sorted((n for _, n in results.facets["term"]), reverse=True)
