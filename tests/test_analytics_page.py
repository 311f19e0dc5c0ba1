"""AppTest for the Analytics page: what it shows for known notes, its filters, languages, CSV, and the
drill-down behind every chart's selection (set as Streamlit sets a plotly selection)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.wiring import App
from ui.analytics_charts import drill_for, label, md

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "5_Analytics.py")


def ent(text: str, category: str = "symptom", **flags: bool) -> Entity:
    return Entity(category=Category(category), text=text, begin=0, end=len(text), normalized=text, **flags)


def add(app: App, name: str, day: str, terms: list[str], department: str | None = "내과", age: int | None = 40,
        sex: str | None = "F", category: str = "symptom", **flags: bool) -> str:
    note = app.notes.ingest(f"{name}.txt", f"note {name}".encode(), process=False).note
    fields = NoteFields(visit_date=day, department=department, age=age, sex=sex)
    entities = [ent(x, category, **flags) for x in terms]
    app.store.add_extraction(note.id, ExtractionResult(engine="test", entities=entities, fields=fields), 1.0)
    return note.id


def notes(app: App) -> dict[str, str]:
    ids = {
        "p1": add(app, "p1", "2025-02-20", ["두통"]),
        "p2": add(app, "p2", "2025-02-21", ["두통", "기침"]),
        "a": add(app, "a", "2025-03-25", ["기침", "발열"], department="호흡기내과", age=34, sex="F"),
        "b": add(app, "b", "2025-03-26", ["기침", "발열"], department="호흡기내과", age=71, sex="M"),
        "c": add(app, "c", "2025-03-31", ["기침", "두통"], department="신경과", age=75, sex="M"),
        "d": add(app, "d", "2025-03-31", ["두통"], department="신경과", negated=True),
    }
    add(app, "x", "2025-03-30", ["폐렴"], department="호흡기내과", category="diagnosis")
    return ids


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page() -> AppTest:
    return run(AppTest.from_file(PAGE, default_timeout=60))


def table(at: AppTest, index: int = 0) -> list[list[Any]]:
    return at.dataframe[index].value.values.tolist()


def select(at: AppTest, key: str, customdata: list[Any]) -> AppTest:
    """What the browser sends when a point of a plotly chart is clicked."""
    at.session_state[key] = {"selection": {"points": [{"customdata": customdata}], "point_indices": [0], "box": [],
                                           "lasso": []}}
    return run(at)


def drill_rows(at: AppTest) -> list[list[Any]]:
    return table(at, len(at.dataframe) - 1)


def test_page_ranks_the_last_30_days_with_rank_change_and_draws_every_chart(app: App) -> None:
    notes(app)
    at = page()
    assert at.title[0].value == "분석"
    caption = next(c.value for c in at.caption if "비교" in c.value)
    assert "2025-03-02 ~ 2025-03-31" in caption and "기록 5건" in caption and "2025-01-31 ~ 2025-03-01" in caption
    df = at.dataframe[0].value
    assert list(df.columns) == ["순위", "용어", "기록 수", "비율", "이전 순위", "변화"]
    assert df.values.tolist() == [[1, "기침", 3, "60.0%", "2", "▲1"], [2, "발열", 2, "40.0%", "—", "신규"],
                                  [3, "두통", 1, "20.0%", "1", "▼2"]]
    charts = at.get("plotly_chart")
    assert len(charts) == 5
    figures = [json.loads(c.proto.spec) for c in charts]
    assert [b["y"] for b in figures[0]["data"]][0] == ["3. 두통", "2. 발열", "1. 기침"]
    # Trends: notes per day as context plus the top terms; the chart's toolbar saves a PNG.
    assert {tr["name"] for tr in figures[1]["data"]} == {"전체 기록 수", "기침", "발열", "두통"}
    assert json.loads(charts[0].proto.config)["toImageButtonOptions"]["format"] == "png"
    assert {b.proto.label for b in at.get("download_button")} == {"CSV 다운로드"}
    assert len(at.get("download_button")) == 5


def test_filters_and_assertions_change_the_ranking(app: App) -> None:
    notes(app)
    at = page()
    at.multiselect(key="an_include").set_value(["negated"])
    run(at)
    assert [r[1:3] for r in table(at)] == [["기침", 3], ["두통", 2], ["발열", 2]]
    at.multiselect(key="an_departments").set_value(["신경과"])
    run(at)
    assert [r[1:3] for r in table(at)] == [["두통", 2], ["기침", 1]]
    at.multiselect(key="an_departments").set_value([])
    at.multiselect(key="an_include").set_value([])
    at.multiselect(key="an_age_bands").set_value([7])
    at.multiselect(key="an_sexes").set_value(["M"])
    run(at)
    assert [r[1:3] for r in table(at)] == [["기침", 2], ["두통", 1], ["발열", 1]]
    at.multiselect(key="an_age_bands").set_value([])
    at.multiselect(key="an_sexes").set_value([])
    at.segmented_control(key="an_category").set_value("diagnosis")
    run(at)
    assert [r[1:3] for r in table(at)] == [["폐렴", 1]]
    at.segmented_control(key="an_preset").set_value(7)
    run(at)
    assert any("2025-03-25 ~ 2025-03-31" in c.value for c in at.caption)
    assert at.date_input(key="an_range_shown").value == (date(2025, 3, 25), date(2025, 3, 31))


def test_a_custom_period(app: App) -> None:
    notes(app)
    at = page()
    at.segmented_control(key="an_preset").set_value(0)
    run(at)
    at.date_input(key="an_range").set_value((date(2025, 2, 1), date(2025, 2, 28)))
    run(at)
    assert [r[1:3] for r in table(at)] == [["두통", 2], ["기침", 1]]


def test_english_labels(app: App) -> None:
    notes(app)
    at = page()
    at.radio(key="lang").set_value("en")
    run(at)
    assert at.title[0].value == "Analytics"
    assert list(at.dataframe[0].value.columns) == ["Rank", "Term", "Notes", "Share", "Previous rank", "Change"]
    assert table(at)[1][-1] == "new"
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert figures[0]["layout"]["xaxis"]["title"]["text"] == "Notes"
    assert {tr["name"] for tr in figures[4]["data"]} == {"Male", "Female"}


def test_clicking_a_ranking_bar_lists_its_notes_with_links_to_review(app: App) -> None:
    ids = notes(app)
    at = select(page(), "an_rank_chart", ["기침"])
    assert any(m.value == "선택: 기침 — 기록 3건" for m in at.markdown)
    rows = drill_rows(at)
    assert [r[-2] for r in rows] == [ids["c"], ids["b"], ids["a"]]
    assert [r[-1] for r in rows] == [f"Review?note={ids[k]}" for k in ("c", "b", "a")]
    assert rows[0][:5] == ["2025-03-31", "신경과", 75, "남", "c.txt"]


def test_every_chart_drills_down(app: App) -> None:
    ids = notes(app)
    at = select(page(), "an_trend_chart", ["발열", "2025-03-26"])  # a term's point on a day
    assert [r[-2] for r in drill_rows(at)] == [ids["b"]]
    at = select(page(), "an_trend_chart", ["", "2025-03-31"])  # the day's bar of all notes
    assert sorted(r[-2] for r in drill_rows(at)) == sorted([ids["c"], ids["d"]])
    at = select(page(), "an_dept_chart", ["호흡기내과", "2025-03-30"])
    assert [r[4] for r in drill_rows(at)] == ["x.txt"]
    at = select(page(), "an_cooc_chart", ["기침", "발열"])
    assert [r[-2] for r in drill_rows(at)] == [ids["b"], ids["a"]]
    at = select(page(), "an_pyr_chart", [7, "M"])  # 70–79, men, with the top term 기침
    assert [r[-2] for r in drill_rows(at)] == [ids["c"], ids["b"]]


def test_new_notes_show_on_the_next_run(app: App) -> None:
    notes(app)
    at = page()
    add(app, "late", "2025-03-31", ["발열"])
    add(app, "late2", "2025-03-31", ["발열"], age=None)
    run(at)
    assert [r[1:3] for r in table(at)][:2] == [["발열", 4], ["기침", 3]]


def test_note_derived_labels_are_never_markup(app: App) -> None:
    add(app, "x", "2025-03-31", ["<img src=x onerror=alert(1)>"])
    at = page()
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    shown = json.dumps([bars["y"], bars["text"], bars["hovertemplate"]], ensure_ascii=False)
    assert "<img" not in shown and "&lt;img" in shown
    at = select(at, "an_rank_chart", ["<img src=x onerror=alert(1)>"])
    heading = next(m.value for m in at.markdown if m.value.startswith("선택"))
    assert "\\<img" in heading
    assert label("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;" and md("**x**") == "\\*\\*x\\*\\*"


def test_every_table_downloads_as_csv(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes each download button offers, caught where Streamlit stores them."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    offered: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self: MemoryMediaFileStorage, data: str | bytes, mimetype: str, kind: Any, filename: str | None = None) -> str:
        if filename and isinstance(data, bytes):
            offered[filename] = data
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    ids = notes(app)
    select(page(), "an_rank_chart", ["기침"])

    def rows(name: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(offered[name].decode("utf-8-sig"))))

    assert rows("notelens-ranking.csv") == [
        ["순위", "용어", "기록 수", "비율", "이전 순위", "이전 기록 수", "변화"],
        ["1", "기침", "3", "0.6", "2", "1", "▲1"], ["2", "발열", "2", "0.4", "", "0", "신규"],
        ["3", "두통", "1", "0.2", "1", "2", "▼2"]]
    trends = rows("notelens-trends.csv")
    assert trends[0] == ["날짜", "전체 기록 수", "기침", "발열", "두통"] and len(trends) == 31  # 30 days
    assert trends[-1] == ["2025-03-31", "2", "1", "0", "1"]
    assert rows("notelens-departments.csv")[0][:2] == ["날짜", "전체 기록 수"]
    assert rows("notelens-cooccurrence.csv")[1] == ["기침", "3", "2", "1"]
    assert rows("notelens-age-sex.csv")[8] == ["70–79세", "2", "0"]
    drill = rows("notelens-an_rank-notes.csv")
    assert drill[0] == ["방문일", "진료과", "나이", "성별", "파일", "기록 ID"]
    assert [r[-1] for r in drill[1:]] == [ids["c"], ids["b"], ids["a"]]


def test_no_notes_says_so(app: App) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = "ko"
    app.notes.ingest("undated.txt", "내용 없음".encode(), process=False)  # a note, but nothing dated
    run(at)
    assert any(i.value == "이 기간과 조건에 맞는 기록이 없습니다." for i in at.info)


def test_selection_points_map_to_drills() -> None:
    assert drill_for("rank", {"customdata": ["흉통"]}) is not None
    assert drill_for("rank", {}) is None
    cooc = drill_for("cooc", {"customdata": ["흉통", "흉통"]})
    assert cooc is not None and cooc.term == "흉통" and cooc.other_term is None
