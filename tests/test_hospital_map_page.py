"""AppTest for the hospital map page and Review's "find care" button (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.hospitals import EMERGENCY, PHARMACY, Institution
from services.wiring import App
from tests.hospital_fixtures import prepared_store

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120


def inst(key: str, name: str, kind: str, lat: float, lon: float, depts: list[tuple[str, int]], er: bool = False,
         sido: str = "서울", sigungu: str = "강남구", emd: str = "역삼동") -> Institution:
    return Institution(key=key, name=name, kind=kind, lat=lat, lon=lon, sido=sido, sigungu=sigungu, emd=emd,
                       addr=f"{sido} {sigungu} {emd} 1", tel="02-000-0000", departments=depts, er=er, source="test")


PLACES = [
    inst("er", "강남응급병원", "종합병원", 37.5010, 127.0400, [("내과", 5), ("응급의학과", 3)], er=True),
    inst("im", "역삼내과의원", "의원", 37.5000, 127.0360, [("내과", 1)]),
    inst("os", "바른정형외과의원", "의원", 37.4990, 127.0330, [("정형외과", 0)]),
    inst("ph", "역삼약국", PHARMACY, 37.5001, 127.0361, []),
    inst("bs", "해운대병원", "병원", 35.1630, 129.1630, [("내과", 2)], er=True, sido="부산", sigungu="해운대구", emd="우동"),
]


@pytest.fixture
def map_app(app: App) -> App:
    prepared_store(app.settings.data_dir / "hospitals.sqlite3", PLACES)
    return app


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/6_Hospital_Map.py"), default_timeout=TIMEOUT)


def frame(at: AppTest, column: str):  # type: ignore[no-untyped-def]
    """The dataframe shown with this column (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def nearest(at: AppTest) -> list[str]:
    return list(frame(at, "거리(km)" if at.session_state["lang"] == "ko" else "km")[frame(at, "#").columns[1]])


def test_a_note_from_review_preselects_the_emergency_room_and_a_district_lists_the_nearest(map_app: App) -> None:
    note = map_app.notes.ingest("cp.txt", "어제부터 흉통과 호흡곤란이 있어 내원함. 발열은 없음.".encode()).note
    at = page()
    at.session_state["map_note"] = note.id  # what Review's "find care" sets
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="map_note_pick").value == note.id
    assert at.selectbox(key="map_dept").value == EMERGENCY
    warning = " ".join(e.value for e in at.error)
    assert "119" in warning and "진단이 아닙니다" in warning
    assert "발열 (negated)" in " ".join(x.value for x in at.text)  # what was left out is said
    at.text_input(key="map_place").set_value("역삼동")
    at.button(key="map_place_go").click().run()
    assert not at.exception
    assert nearest(at) == ["강남응급병원", "해운대병원"]  # only institutions with an emergency room, nearest first


def test_a_click_on_the_map_picks_the_point_and_filters_apply(map_app: App) -> None:
    at = page()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("고르면" in i.value for i in at.info)  # no point yet: the hint
    # What st_folium reports after a click near Haeundae, with the view's bounds.
    at.session_state["hospital_map"] = {"last_clicked": {"lat": 35.16, "lng": 129.16},
                                        "bounds": {"_southWest": {"lat": 37.49, "lng": 127.02},
                                                   "_northEast": {"lat": 37.51, "lng": 127.05}}}
    at.run()
    assert not at.exception
    assert nearest(at)[0] == "해운대병원"
    assert any("35.1600, 129.1600" in x.value for x in at.text)
    # Server-side bounds filtering: the four Seoul institutions minus the pharmacy (not in the default kinds).
    assert any("화면 안 3곳" == c.value for c in at.caption)
    at.selectbox(key="map_dept").set_value("정형외과").run()
    assert nearest(at) == ["바른정형외과의원"]
    at.selectbox(key="map_dept").set_value("").run()
    at.multiselect(key="map_kinds").set_value([PHARMACY]).run()
    assert nearest(at) == ["역삼약국"]
    at.multiselect(key="map_kinds").set_value(["의원", "병원", "종합병원"]).run()
    at.text_input(key="map_name").set_value("내과").run()
    assert nearest(at) == ["역삼내과의원"]
    at.text_input(key="map_name").set_value("").run()
    at.selectbox(key="map_sido").set_value("서울").run()
    assert "해운대병원" not in nearest(at)


def test_unknown_district_english_and_managers_tables(map_app: App) -> None:
    map_app.notes.ingest("n.txt", "Dept: 신경과\n두통 호소.".encode())
    at = page()
    at.run()
    at.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Hospital map"
    at.text_input(key="map_place").set_value("없는동네").run()
    at.button(key="map_place_go").click().run()
    assert any("없는동네" in w.value for w in at.warning)
    counts = frame(at, "Notes")
    assert list(counts.iloc[0]) == ["신경과", 1, 0]
    density = frame(at, "District")
    assert list(density.iloc[0]) == ["서울 강남구", 3]


def test_review_find_care_sends_the_note_to_the_map(app: App) -> None:
    note = app.notes.ingest("r.txt", "두통 호소.".encode()).note
    at = AppTest.from_file(str(ROOT / "pages/2_Review.py"), default_timeout=TIMEOUT)
    at.session_state["review_note"] = note.id
    at.run()
    assert not at.exception
    at.button(key="find_care").click().run()
    assert at.session_state["map_note"] == note.id
