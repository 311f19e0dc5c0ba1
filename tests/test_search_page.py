"""AppTest for the Search page: query, filters with facet counts, escaped cards, pages, saved searches, Review link."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.wiring import App

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/4_Search.py"


def page() -> AppTest:
    # Started from Home (the real entry point) so the page's switch to Review resolves as in the app.
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cards(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html") if "nl-hit" in h.proto.body]


def total(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "건" in m.value or "notes" in m.value)


def test_query_term_filter_and_assertions(app: App) -> None:
    app.notes.ingest("pos.txt", "C.C: 흉통 2일, 식은땀 동반.".encode())
    app.notes.ingest("neg.txt", "두통 호소. 흉통은 없음.".encode())
    app.notes.ingest("xss.txt", "<script>alert(1)</script> 두통이 심함".encode())
    at = page()
    assert total(at).startswith("**3건")
    at.text_input(key="search_q").set_value("두통").run()
    assert total(at).startswith("**2건")
    html = " ".join(cards(at))
    assert "<mark>두통</mark>" in html and "&lt;script&gt;" in html and "<script>" not in html
    at.text_input(key="search_q").set_value("").run()
    at.text_input(key="search_term").set_value("흉통").run()
    assert total(at).startswith("**1건") and "pos.txt" in cards(at)[0]
    # The assertion picker shows facet counts; adding negated brings the other note in.
    assert any("(1)" in o for o in at.multiselect(key="search_assertions").options)
    at.multiselect(key="search_assertions").select("negated").run()
    assert total(at).startswith("**2건")
    assert 'data-assertion="negated"' in " ".join(cards(at))  # the struck-through chip
    at.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Search" and total(at).startswith("**2 notes")


def test_filters_show_facet_counts_and_pages(seeded_app: App) -> None:
    at = page()
    n = seeded_app.search.backend.count()
    assert total(at).startswith(f"**{n}건")
    departments = at.multiselect(key="search_departments")
    assert any(o.startswith("순환기내과 (") for o in departments.options)
    first = cards(at)
    assert len(first) == 20
    at.button(key="search_next").click().run()
    second = cards(at)
    assert second and not set(second) & set(first)
    assert any("2 / " in c.value for c in at.caption)
    departments = at.multiselect(key="search_departments")
    departments.set_value(["순환기내과"]).run()
    assert not at.exception
    assert any("1 / " in c.value for c in at.caption) or len(cards(at)) < 20  # a new question starts on page one
    assert all("순환기내과" in c for c in cards(at))


def test_saved_search_round_trip_and_open_in_review(app: App) -> None:
    outcome = app.notes.ingest("r.txt", "두통이 심하고 발열은 없음.".encode())
    at = page()
    at.text_input(key="search_q").set_value("두통").run()
    at.text_input(key="search_save_name").set_value("두통 기록").run()
    at.button(key="search_save").click().run()
    assert [name for name, _ in app.search.saved.all()] == ["두통 기록"]
    at.text_input(key="search_q").set_value("발열").run()
    at.button(key="search_load").click().run()
    assert at.text_input(key="search_q").value == "두통"
    at.button(key=f"search_open_{outcome.note.id}").click().run()
    assert not at.exception
    # Review opened on that note.
    assert at.selectbox(key="review_pick").value == outcome.note.id
