"""Analytics (issue 9) against a real SQLite store: once per note, assertions, reviews in force, periods and
rank change, filters, synonyms, trends, co-occurrence, age × sex, drill-downs, the query plans and the CLI."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from services.analytics import AnalyticsService, Drill, Filter, Period, auto_grain, buckets, competition_ranks, to_csv
from services.analytics.sqlite import SQLiteAnalytics
from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.store.sqlite import SQLiteStore
from services.wiring import App

PERIOD = Period(date(2025, 3, 1), date(2025, 3, 31))
PREVIOUS = Period(date(2025, 1, 29), date(2025, 2, 28))


def ent(text: str, category: str = "symptom", normalized: str | None = None, **flags: bool) -> Entity:
    return Entity(category=Category(category), text=text, begin=0, end=len(text), normalized=normalized, **flags)


def add(app: App, name: str, day: str | None, entities: list[Entity], department: str | None = None,
        age: int | None = None, sex: str | None = None) -> str:
    """A stored note with one machine extraction in force."""
    note = app.notes.ingest(f"{name}.txt", f"note {name}".encode(), process=False).note
    fields = NoteFields(visit_date=day, department=department, age=age, sex=sex)
    app.store.add_extraction(note.id, ExtractionResult(engine="test", entities=entities, fields=fields), 1.0)
    return note.id


def ranking(app: App, flt: Filter | None = None, period: Period = PERIOD, top: int = 10) -> dict[str, int]:
    return {r.term: r.notes for r in app.analytics.ranking(flt or Filter(), period, top).rows}


def test_a_note_counts_once_per_term(app: App) -> None:
    add(app, "a", "2025-03-02", [ent("두통"), ent("두통"), ent("두통", normalized="두통"), ent("기침")])
    add(app, "b", "2025-03-03", [ent("두통")])
    assert ranking(app) == {"두통": 2, "기침": 1}


def test_only_affirmed_mentions_count_unless_asked(app: App) -> None:
    add(app, "a", "2025-03-02", [ent("두통")])
    add(app, "b", "2025-03-03", [ent("두통", negated=True)])
    add(app, "c", "2025-03-04", [ent("두통", uncertain=True)])
    add(app, "d", "2025-03-05", [ent("두통", family=True)])
    add(app, "e", "2025-03-06", [ent("두통", historical=True)])
    add(app, "f", "2025-03-07", [ent("두통", negated=True, historical=True)])
    add(app, "g", "2025-03-08", [ent("두통"), ent("두통", negated=True)])  # both: still one note
    assert ranking(app) == {"두통": 2}
    assert ranking(app, Filter(include=frozenset({"negated"}))) == {"두통": 3}
    assert ranking(app, Filter(include=frozenset({"uncertain", "family"}))) == {"두통": 4}
    # A mention counts only when every flag it carries was asked for.
    assert ranking(app, Filter(include=frozenset({"historical"}))) == {"두통": 3}
    assert ranking(app, Filter(include=frozenset({"negated", "historical"}))) == {"두통": 5}
    assert ranking(app, Filter(include=frozenset({"negated", "uncertain", "historical", "family"}))) == {"두통": 7}


def test_synonyms_fold_to_one_term_and_spacing_does_not_split_one(app: App) -> None:
    add(app, "a", "2025-03-02", [ent("가슴 통증", normalized="흉통")])
    add(app, "b", "2025-03-03", [ent("흉통", normalized="흉통")])
    add(app, "c", "2025-03-04", [ent("chest pain", normalized="흉통")])
    # No normalized form: the text without whitespace is the term.
    add(app, "d", "2025-03-05", [ent("옆구리 결림")])
    add(app, "e", "2025-03-06", [ent("옆구리결림", normalized="")])
    add(app, "f", "2025-03-07", [ent("옆구리\u3000 결림")])
    assert ranking(app) == {"흉통": 3, "옆구리결림": 3}


def test_the_local_engine_folds_chest_pain_synonyms(app: App) -> None:
    for i, phrase in enumerate(["가슴 통증 호소.", "흉통 있음.", "chest pain 있음.", "흉통 없음."]):
        app.notes.ingest(f"s{i}.txt", f"방문일: 2025-03-0{i + 1}\n{phrase}".encode())
    assert ranking(app)["흉통"] == 3  # the negated one is left out
    assert ranking(app, Filter(include=frozenset({"negated"})))["흉통"] == 4


def test_reviewed_notes_count_their_review_not_the_machine_output(app: App) -> None:
    note_id = add(app, "a", "2025-03-02", [ent("두통"), ent("기침")], department="신경과")
    add(app, "b", "2025-03-03", [ent("두통")], department="신경과")
    extraction = app.store.extractions(note_id)[-1]
    # The clinician rejects 두통, marks 기침 negated, adds 흉통 and moves the note to another department.
    app.store.add_review(note_id, extraction.id, "Dr. Kim", [ent("기침", negated=True), ent("흉통", normalized="흉통")],
                         NoteFields(visit_date="2025-03-02", department="순환기내과"), {})
    assert ranking(app) == {"두통": 1, "흉통": 1}
    assert ranking(app, Filter(departments=("순환기내과",))) == {"흉통": 1}
    assert ranking(app, Filter(departments=("신경과",))) == {"두통": 1}
    # A later machine run does not replace the review in force.
    app.store.add_extraction(note_id, ExtractionResult(engine="test", entities=[ent("두통")],
                                                       fields=NoteFields(visit_date="2025-03-02")), 1.0)
    assert ranking(app) == {"두통": 1, "흉통": 1}


def test_a_review_saved_through_the_note_service_counts(app: App) -> None:
    note_id = app.notes.ingest("r.txt", "방문일: 2025-03-05\n두통 호소. 발열 없음.".encode()).note.id
    assert ranking(app) == {"두통": 1}
    view = app.notes.view(note_id)
    rows = [dict(e.model_dump(mode="json"), orig_category=e.category.value, orig_begin=e.begin, orig_end=e.end,
                 status="reject" if e.text == "두통" else "accept") for e in view.entities]
    app.notes.save_review(note_id, "Dr. Lee", rows)
    assert ranking(app) == {}
    assert ranking(app, Filter(include=frozenset({"negated"}))) == {"발열": 1}


def test_periods_and_rank_change(app: App) -> None:
    # Previous period: A 3 notes, B 2, C 1. This period: B 3, A 2, D 1, C 1.
    for i, terms in enumerate([["A", "B", "C"], ["A", "B"], ["A"]]):
        add(app, f"p{i}", f"2025-02-{10 + i}", [ent(x) for x in terms])
    for i, terms in enumerate([["B", "A", "D"], ["B", "A"], ["B", "C"]]):
        add(app, f"c{i}", f"2025-03-{10 + i}", [ent(x) for x in terms])
    add(app, "outside", "2025-04-01", [ent("E")])  # after the period: in neither
    add(app, "undated", None, [ent("F")])  # no visit date: in no period
    result = app.analytics.ranking(Filter(), PERIOD, top=10)
    assert result.previous == PREVIOUS and result.notes == 3 and result.previous_notes == 3
    rows = {r.term: r for r in result.rows}
    assert [r.term for r in result.rows] == ["B", "A", "C", "D"]
    assert (rows["B"].rank, rows["B"].previous_rank, rows["B"].change, rows["B"].marker()) == (1, 2, "up", "▲1")
    assert (rows["A"].rank, rows["A"].previous_rank, rows["A"].change, rows["A"].marker()) == (2, 1, "down", "▼1")
    assert (rows["C"].rank, rows["C"].previous_rank, rows["C"].change) == (3, 3, "same")
    assert (rows["D"].rank, rows["D"].previous_rank, rows["D"].change, rows["D"].marker("신규")) == (3, None, "new", "신규")
    assert rows["B"].share == 1.0 and rows["A"].previous_notes == 3
    assert ranking(app, top=2) == {"B": 3, "A": 2}
    assert ranking(app, period=Period(date(2025, 4, 1), date(2025, 4, 1))) == {"E": 1}


def test_period_arithmetic_and_buckets() -> None:
    assert Period(date(2025, 3, 1), date(2025, 3, 31)).previous() == PREVIOUS
    assert Period.ending(date(2025, 3, 31), 7) == Period(date(2025, 3, 25), date(2025, 3, 31))
    with pytest.raises(ValueError):
        Period(date(2025, 3, 2), date(2025, 3, 1))
    assert buckets(Period(date(2025, 3, 5), date(2025, 3, 18)), "week") == [date(2025, 3, 3), date(2025, 3, 10),
                                                                           date(2025, 3, 17)]
    assert buckets(Period(date(2024, 12, 30), date(2025, 2, 1)), "month") == [date(2024, 12, 1), date(2025, 1, 1),
                                                                             date(2025, 2, 1)]
    assert [auto_grain(Period.ending(date(2025, 3, 1), n)) for n in (30, 90, 365)] == ["day", "week", "month"]
    assert competition_ranks([("a", 5), ("b", 3), ("c", 3), ("d", 1)]) == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_department_age_band_and_sex_filters(app: App) -> None:
    add(app, "a", "2025-03-02", [ent("기침")], department="호흡기내과", age=34, sex="F")
    add(app, "b", "2025-03-03", [ent("기침")], department="호흡기내과", age=72, sex="M")
    add(app, "c", "2025-03-04", [ent("기침")], department="소아청소년과", age=5, sex="M")
    add(app, "d", "2025-03-05", [ent("기침")], department=None, age=95, sex=None)
    add(app, "e", "2025-03-06", [ent("기침")], department="호흡기내과", age=None, sex="F")
    assert ranking(app) == {"기침": 5}
    assert ranking(app, Filter(departments=("호흡기내과",))) == {"기침": 3}
    assert ranking(app, Filter(departments=("호흡기내과", "소아청소년과"))) == {"기침": 4}
    assert ranking(app, Filter(age_bands=(0,))) == {"기침": 1}
    assert ranking(app, Filter(age_bands=(7, 8))) == {"기침": 2}  # 72, and 95 in the 80+ band
    assert ranking(app, Filter(sexes=("F",))) == {"기침": 2}
    assert ranking(app, Filter(departments=("호흡기내과",), sexes=("M",), age_bands=(7,))) == {"기침": 1}
    assert app.analytics.ranking(Filter(departments=("호흡기내과",)), PERIOD).notes == 3
    assert app.analytics.departments() == ["소아청소년과", "호흡기내과"]
    with pytest.raises(ValueError):
        Filter(include=frozenset({"rumoured"}))


def test_categories_are_ranked_apart(app: App) -> None:
    add(app, "a", "2025-03-02", [ent("기침"), ent("폐렴", "diagnosis"), ent("아목시실린", "medication"),
                                 ent("흉부 X선", "test", normalized="흉부 X선")])
    assert ranking(app, Filter(category="diagnosis")) == {"폐렴": 1}
    assert ranking(app, Filter(category="medication")) == {"아목시실린": 1}
    assert ranking(app, Filter(category="test")) == {"흉부 X선": 1}


def test_trends_department_mix_cooccurrence_and_pyramid(app: App) -> None:
    add(app, "a", "2025-03-03", [ent("기침"), ent("발열")], department="호흡기내과", age=30, sex="F")
    add(app, "b", "2025-03-04", [ent("기침"), ent("발열")], department="호흡기내과", age=35, sex="M")
    add(app, "c", "2025-03-12", [ent("기침"), ent("두통")], department="신경과", age=81, sex="F")
    add(app, "d", "2025-03-13", [ent("두통", negated=True)], department=None, age=50, sex="M")
    service = app.analytics
    trend = service.term_trends(Filter(), PERIOD, "week", ["기침", "발열"])
    assert trend.buckets[:3] == [date(2025, 2, 24), date(2025, 3, 3), date(2025, 3, 10)]
    assert trend.notes[:3] == [0, 2, 2]  # every note of the week, with or without the term
    assert trend.values["기침"][:3] == [0, 2, 1] and trend.values["발열"][:3] == [0, 2, 0]
    mix = service.department_mix(Filter(), PERIOD, "month")
    assert mix.buckets == [date(2025, 3, 1)] and mix.notes == [4]
    assert mix.values == {"호흡기내과": [2], "": [1], "신경과": [1]}
    cooc = service.cooccurrence(Filter(), PERIOD, top=3)
    assert cooc.terms == ["기침", "발열", "두통"]
    assert cooc.matrix == [[3, 2, 1], [2, 2, 0], [1, 0, 1]]
    pyramid = service.pyramid(Filter(), PERIOD, "기침")
    counts = {r.age_band: (r.male, r.female) for r in pyramid.rows}
    assert counts[3] == (1, 1) and counts[8] == (0, 1) and sum(m + f for m, f in counts.values()) == 3
    assert pyramid.unknown == 0


def test_drill_down_lists_the_notes_behind_each_kind_of_point(app: App) -> None:
    a = add(app, "a", "2025-03-03", [ent("기침"), ent("발열")], department="호흡기내과", age=30, sex="F")
    b = add(app, "b", "2025-03-04", [ent("기침")], department="호흡기내과", age=35, sex="M")
    c = add(app, "c", "2025-03-12", [ent("기침"), ent("발열", uncertain=True)], department=None, age=81, sex="F")
    add(app, "old", "2025-02-12", [ent("기침")])  # outside the period

    def ids(drill: Drill, flt: Filter | None = None) -> list[str]:
        found = app.analytics.notes(flt or Filter(), PERIOD, drill)
        assert found.total == len(found.notes)
        return [n.note_id for n in found.notes]

    assert ids(Drill(term="기침")) == [c, b, a]  # latest visit first
    assert ids(Drill(term="발열")) == [a]
    assert ids(Drill(term="발열"), Filter(include=frozenset({"uncertain"}))) == [c, a]
    assert ids(Drill(term="기침", other_term="발열")) == [a]
    assert ids(Drill(term="기침", bucket=date(2025, 3, 3), grain="week")) == [b, a]
    assert ids(Drill(bucket=date(2025, 3, 10), grain="week")) == [c]
    assert ids(Drill(department="호흡기내과", bucket=date(2025, 3, 1), grain="month")) == [b, a]
    assert ids(Drill(department="")) == [c]  # no department
    assert ids(Drill(term="기침", age_band=8, sex="F")) == [c]
    found = app.analytics.notes(Filter(), PERIOD, Drill(term="기침"), limit=1)
    assert found.total == 3 and len(found.notes) == 1
    ref = found.notes[0]
    assert (ref.filename, ref.visit_date, ref.department, ref.age, ref.sex) == ("c.txt", "2025-03-12", None, 81, "F")


def test_entity_rows_and_term_rows_stay_in_step(app: App) -> None:
    """note_terms follows every insert, delete and edit of current_entities and every change of a note's fields."""
    note_id = add(app, "a", "2025-03-02", [ent("기침"), ent("기침"), ent("발열")], department="내과")
    with app.store.connection() as con:
        def terms() -> list[tuple[str, int, str | None]]:
            return [tuple(r) for r in con.execute(
                "SELECT term, flags, department FROM note_terms WHERE note_id = ? ORDER BY term, flags", (note_id,))]

        assert terms() == [("기침", 0, "내과"), ("발열", 0, "내과")]
        # One of two 기침 rows goes: the term stays; the last one goes: it leaves.
        con.execute("DELETE FROM current_entities WHERE rowid = (SELECT MIN(rowid) FROM current_entities"
                    " WHERE note_id = ? AND text = '기침')", (note_id,))
        assert terms() == [("기침", 0, "내과"), ("발열", 0, "내과")]
        con.execute("UPDATE current_entities SET negated = 1 WHERE note_id = ? AND text = '기침'", (note_id,))
        assert terms() == [("기침", 1, "내과"), ("발열", 0, "내과")]
        con.execute("UPDATE notes SET department = '호흡기내과' WHERE id = ?", (note_id,))
        assert terms() == [("기침", 1, "호흡기내과"), ("발열", 0, "호흡기내과")]
        con.execute("DELETE FROM current_entities WHERE note_id = ?", (note_id,))
        assert terms() == []


def test_migration_fills_term_rows_for_an_existing_database(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    SQLiteStore(db)
    con = sqlite3.connect(db)
    # As a database made before migration 004: entity rows but no note_terms, and 004 not yet recorded.
    con.executescript("DROP TABLE note_terms; DROP TRIGGER IF EXISTS note_terms_ai; DROP TRIGGER IF EXISTS note_terms_ad;"
                      " DROP TRIGGER IF EXISTS note_terms_au; DROP TRIGGER IF EXISTS note_terms_note_au;"
                      " DROP INDEX notes_analytics_period; DROP INDEX notes_department;"
                      " DELETE FROM schema_migrations WHERE version = 4;")
    con.execute("INSERT INTO notes (id, filename, status, raw_sha256, size, created_at, updated_at, visit_date)"
                " VALUES ('n1', 'n1.txt', 'done', 'x', 1, '', '', '2025-03-02')")
    con.executemany("INSERT INTO current_entities VALUES ('n1', 'symptom', ?, ?, NULL, ?, 0, 0, 0, 0, 2)",
                    [("가슴 통증", "흉통", 0), ("흉통", "흉통", 0), ("두통", None, 1)])
    con.commit()
    con.close()
    store = SQLiteStore(db)
    service = AnalyticsService(SQLiteAnalytics(store))
    assert [(r.term, r.notes) for r in service.ranking(Filter(), PERIOD).rows] == [("흉통", 1)]
    assert [(r.term, r.notes) for r in service.ranking(Filter(include=frozenset({"negated"})), PERIOD).rows] == [
        ("두통", 1), ("흉통", 1)]


def _plan(app: App, sql: str, args: list[object]) -> str:
    with app.store.connection() as con:
        return " | ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, args))


def test_rankings_answer_from_covering_indexes_and_both_index_paths_agree(app: App) -> None:
    for i in range(12):  # visits over a year, so a month is a short period and a year a long one
        add(app, f"n{i}", f"2025-{i + 1:02d}-15", [ent("기침"), ent("발열" if i % 2 else "두통")], department="내과")
    backend = app.analytics.backend
    assert isinstance(backend, SQLiteAnalytics)
    seen: list[str] = []
    original = backend._rows

    def spy(sql: str, args: list[object]) -> list[sqlite3.Row]:
        seen.append(_plan(app, sql, args))
        return original(sql, args)

    backend._rows = spy  # type: ignore[method-assign]
    month = app.analytics.ranking(Filter(departments=("내과",)), Period(date(2025, 3, 1), date(2025, 3, 31)))
    year = app.analytics.ranking(Filter(), Period(date(2025, 1, 1), date(2025, 12, 31)))
    plans = " || ".join(seen)
    assert "COVERING INDEX note_terms_period" in plans and "COVERING INDEX note_terms_term" in plans
    # Note counts never read the note rows (they hold the whole text), and entity rows are never joined.
    note_steps = [p for p in plans.replace(" || ", " | ").split(" | ") if p.split(" ")[1:2] in (["n"], ["notes"])]
    assert note_steps and all("USING COVERING INDEX" in p for p in note_steps), note_steps
    assert "current_entities" not in plans
    assert [(r.term, r.notes) for r in month.rows] == [("기침", 1), ("두통", 1)]
    assert [(r.term, r.notes) for r in year.rows] == [("기침", 12), ("두통", 6), ("발열", 6)]
    # The same question by either index gives the same answer.
    short = backend.term_counts(Filter(), Period(date(2025, 1, 1), date(2025, 2, 1)))
    assert backend._ranking_index(Period(date(2025, 1, 1), date(2025, 2, 1))) == "note_terms_period"
    assert backend._ranking_index(Period(date(2025, 1, 1), date(2025, 12, 31))) == "note_terms_term"
    assert [(c.term, c.notes) for c in short] == [("기침", 1), ("두통", 1)]


def test_csv_has_a_bom_and_the_given_header() -> None:
    data = to_csv(["용어", "기록 수"], [["흉통", 3], ["두통, 편측", 1]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["용어,기록 수", "흉통,3", '"두통, 편측",1']


def test_cli_rank_prints_term_count_rank_and_change(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    from services.__main__ import main

    for i, terms in enumerate([["A", "B"], ["A"]]):
        add(app, f"p{i}", f"2025-02-{10 + i}", [ent(x) for x in terms], department="내과")
    for i, terms in enumerate([["B", "A", "D"], ["B"], ["B", "X"]]):
        add(app, f"c{i}", f"2025-03-{10 + i}", [ent(x) for x in terms], department="내과" if i < 2 else "외과")
    add(app, "neg", "2025-03-20", [ent("A", negated=True), ent("Z", "diagnosis")], department="내과")
    assert main(["rank", "--from", "2025-03-01", "--to", "2025-03-31", "--top", "3"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines[0][:3] == ["2025-03-01", "~", "2025-03-31"]
    table = {row[1]: row for row in lines[2:]}
    assert table["B"] == ["1", "B", "3", "▲1"]
    assert table["A"] == ["2", "A", "1", "▼1"]
    assert table["D"] == ["2", "D", "1", "new"]
    assert "X" not in table  # A, D and X tie for rank 2; the top 3 take them by term
    assert main(["rank", "--from", "2025-03-01", "--to", "2025-03-31", "--department", "내과", "--include-negated",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == {"from": "2025-03-01", "to": "2025-03-31"}
    assert data["previous"] == {"from": "2025-01-29", "to": "2025-02-28"}
    assert [(r["term"], r["count"], r["rank"], r["previous_rank"], r["change"]) for r in data["rows"]] == [
        ("A", 2, 1, 1, "same"), ("B", 2, 1, 2, "up"), ("D", 1, 3, None, "new")]
    assert main(["rank", "--category", "diagnosis", "--from", "2025-03-01", "--to", "2025-03-31", "--json"]) == 0
    assert [r["term"] for r in json.loads(capsys.readouterr().out)["rows"]] == ["Z"]


def test_cli_rank_defaults_to_the_last_30_days_on_record(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    from services.__main__ import main

    add(app, "a", "2025-06-30", [ent("기침")])
    add(app, "b", "2025-05-31", [ent("두통")])  # 31 days before: the previous period
    assert main(["rank", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == {"from": "2025-06-01", "to": "2025-06-30"}
    assert [r["term"] for r in data["rows"]] == ["기침"]
    assert main(["rank", "--from", "2025-07-01", "--to", "2025-06-01"]) == 2
