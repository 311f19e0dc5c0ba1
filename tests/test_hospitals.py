"""Hospital map services (issue 11): HIRA importer, spatial store, nearest-N, filters, bounds, guidance, CLI, build."""

from __future__ import annotations

import csv
import gzip
import json
import random
from pathlib import Path

import pytest

from services.domain import Category, Entity
from services.hospitals import EMERGENCY, PHARMACY, Bounds, Filters, HospitalService
from services.hospitals.build import COLUMNS, build, read_shipped
from services.hospitals.guidance import Guide
from services.hospitals.hira import HiraFileError, import_files, infer_departments, read_table
from services.hospitals.model import haversine_km
from services.hospitals.sqlite import SQLiteHospitals
from tests.hospital_fixtures import (
    DEPARTMENT_HEADER,
    HOSPITAL_HEADER,
    HOSPITALS,
    PHARMACY_HEADER,
    official_files,
    prepared_store,
    synthetic,
    write_csv,
    write_xlsx,
)

SAMSUNG = HOSPITALS[0][0]


def _import(store: SQLiteHospitals, paths: list[Path]):  # type: ignore[no-untyped-def]
    return import_files(store, [(p.name, p.read_bytes()) for p in paths])


# -- importer ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["cp949", "utf-8", "utf-8-sig"])
def test_import_official_csv_layouts_in_their_encodings(tmp_path: Path, encoding: str) -> None:
    files = official_files(tmp_path / "hira", encoding)
    if encoding == "cp949":  # really CP949 bytes, not UTF-8
        with pytest.raises(UnicodeDecodeError):
            files[0].read_bytes().decode("utf-8")
    store = prepared_store(tmp_path / "h.sqlite3", synthetic(50))
    report = _import(store, files)
    assert [f.kind for f in report.files] == ["hospitals", "pharmacies", "departments", "facilities"]
    assert (report.hospitals, report.pharmacies, report.without_coordinates) == (4, 1, 1)
    # The import replaces every institution (the synthetic ones are gone), pharmacies included.
    assert store.count() == 5
    everyone = {i.key: i for i in store.all()}
    samsung = everyone[SAMSUNG]
    assert samsung.name == "삼성서울병원" and samsung.kind == "상급종합" and samsung.sigungu == "강남구"
    assert (samsung.lat, samsung.lon) == (37.4882977, 127.0851508)  # 좌표(Y) is the latitude, 좌표(X) the longitude
    assert samsung.departments == [("내과", 204), ("응급의학과", 18), ("심장혈관흉부외과", 23)]
    assert not samsung.dept_inferred and samsung.doctors == 1319
    assert samsung.er and samsung.er_note == "응급실 병상 35"  # from 시설정보 응급실병상수
    ortho = everyone["KEY-ORTHO-0001"]  # not in the department file: inferred from its name, and marked
    assert ortho.departments == [("정형외과", 0)] and ortho.dept_inferred
    assert everyone["KEY-CLINIC-0002"].name == "튼튼의원 <b>&amp;</b>"  # stored as given, escaped only when shown
    assert everyone["KEY-NOCOORD-0003"].lat is None
    pharmacy = everyone["PH-0001"]
    assert pharmacy.kind == PHARMACY and pharmacy.tel == "02-3412-1254"
    assert (report.departments_from_file, report.departments_inferred, report.emergency_rooms) == (2, 1, 1)


def test_import_xlsx(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    from tests.hospital_fixtures import DEPARTMENTS, PHARMACIES

    files = [write_xlsx(tmp_path / "1.병원정보서비스(2026.3.).xlsx", HOSPITAL_HEADER, HOSPITALS),
             write_xlsx(tmp_path / "2.약국정보서비스(2026.3.).xlsx", PHARMACY_HEADER, PHARMACIES),
             write_xlsx(tmp_path / "5.진료과목정보.xlsx", DEPARTMENT_HEADER, DEPARTMENTS)]
    store = prepared_store(tmp_path / "h.sqlite3", [])
    report = _import(store, files)
    assert (report.hospitals, report.pharmacies) == (4, 1)
    samsung = {i.key: i for i in store.all()}[SAMSUNG]
    assert samsung.lat == pytest.approx(37.4882977) and samsung.departments[0] == ("내과", 204)


def test_a_department_file_alone_updates_known_keys_and_counts_unknown_ones(tmp_path: Path) -> None:
    store = prepared_store(tmp_path / "h.sqlite3", [])
    _import(store, official_files(tmp_path / "a", "utf-8")[:2])  # hospitals and pharmacies, no departments
    assert {i.key: i for i in store.all()}[SAMSUNG].departments == []  # "삼성서울병원" says nothing about departments
    dept = write_csv(tmp_path / "d.csv", DEPARTMENT_HEADER,
                     [[SAMSUNG, "삼성서울병원", "22", "핵의학과", "6", "0"], ["NO-SUCH-KEY", "x", "01", "내과", "1", "0"]],
                     "cp949")
    report = _import(store, [dept])
    assert (report.departments_from_file, report.unknown_keys) == (1, 1)
    assert {i.key: i for i in store.all()}[SAMSUNG].departments == [("핵의학과", 6)]
    assert [n.institution.key for n in store.near(37.49, 127.08, Filters(department="핵의학과"), 5)] == [SAMSUNG]


def test_unrecognised_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    store = prepared_store(tmp_path / "h.sqlite3", synthetic(5))
    with pytest.raises(HiraFileError, match="암호화요양기호"):
        import_files(store, [("notes.csv", "이름,주소\n가,나\n".encode("cp949"))])
    with pytest.raises(HiraFileError, match="neither UTF-8 nor CP949"):
        read_table("bad.csv", b"\xff\xfe\x00\x81\x00")
    assert store.count() == 5  # nothing replaced


def test_department_inference_from_name_and_kind() -> None:
    assert infer_departments("서울바른정형외과의원", "의원") == ["정형외과"]  # longest word wins over 외과
    assert infer_departments("하나 이비인후과", "의원") == ["이비인후과"]
    assert infer_departments("밝은눈안과의원", "의원") == ["안과"]
    assert infer_departments("예쁜미소치과의원", "치과의원") == ["치과"]
    assert infer_departments("동의한의원", "한의원") == ["한방내과"]
    assert infer_departments("연세의원", "의원") == []


# -- spatial store: nearest-N, bounds, filters ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[SQLiteHospitals, list]:  # type: ignore[type-arg]
    institutions = synthetic(3000)
    return prepared_store(tmp_path_factory.mktemp("hosp") / "h.sqlite3", institutions), institutions


def _passes(i, f: Filters) -> bool:  # type: ignore[no-untyped-def]
    return ((not f.kinds or i.kind in f.kinds) and (not (f.er_only or f.department == EMERGENCY) or i.er)
            and (not f.department or f.department == EMERGENCY or f.department in i.department_names)
            and (not f.name or f.name in i.name) and (not f.sido or i.sido == f.sido)
            and (not f.sigungu or i.sigungu == f.sigungu))


@pytest.mark.parametrize("filters", [
    Filters(), Filters(department="핵의학과"), Filters(kinds=("의원", "병원")), Filters(department=EMERGENCY),
    Filters(er_only=True, department="내과"), Filters(sido="부산"), Filters(name="기관12"),
])
@pytest.mark.parametrize("path", ["r-tree", "few rows cached"])
def test_nearest_n_matches_brute_force_haversine(synth_store, filters: Filters, path: str) -> None:  # type: ignore[no-untyped-def]
    store, institutions = synth_store
    store.sparse_limit = 0 if path == "r-tree" else 30_000  # every filter goes through the R-tree, or none does
    rng = random.Random(11)
    points = [(37.501, 127.031), (35.1, 129.0), (33.3, 126.5), (38.4, 128.5)] + [
        (rng.uniform(33, 38.6), rng.uniform(125.5, 130)) for _ in range(8)]
    for lat, lon in points:
        for limit in (1, 10, 37):
            got = store.near(lat, lon, filters, limit)
            expected = sorted((haversine_km(lat, lon, i.lat, i.lon), i.key) for i in institutions if _passes(i, filters))
            assert [n.km for n in got] == pytest.approx([km for km, _ in expected[:limit]], abs=1e-9)
            assert {n.institution.key for n in got} == {k for _, k in expected[:limit]} or \
                len({round(km, 9) for km, _ in expected[: limit + 1]}) <= limit  # ties at the edge may swap
            assert all(_passes(n.institution, filters) for n in got)
    store.sparse_limit = 30_000


def test_cached_rows_follow_writes_from_another_connection(tmp_path: Path) -> None:
    inst = synthetic(40)
    store = prepared_store(tmp_path / "h.sqlite3", inst)
    f = Filters(department="핵의학과")
    before = [n.institution.key for n in store.near(37.5, 127.0, f, 50)]
    other = SQLiteHospitals(tmp_path / "h.sqlite3")  # e.g. the CLI importing while the app runs
    other.set_departments({inst[0].key: [("핵의학과", 1)]})
    after = [n.institution.key for n in store.near(37.5, 127.0, f, 50)]
    assert inst[0].key not in before and inst[0].key in after


def test_nearest_returns_every_match_when_fewer_than_asked(synth_store) -> None:  # type: ignore[no-untyped-def]
    store, institutions = synth_store
    f = Filters(name="기관999")  # 기관999 and 기관9990…9999 (ten), whatever the distance
    wanted = [i for i in institutions if "기관999" in i.name]
    got = store.near(33.5, 126.5, f, 50)
    assert len(got) == len(wanted) and [n.km for n in got] == sorted(n.km for n in got)


def test_bounds_filtering_keeps_exactly_the_points_inside(synth_store) -> None:  # type: ignore[no-untyped-def]
    store, institutions = synth_store
    for b in (Bounds(37.4, 126.9, 37.6, 127.1), Bounds(34.0, 126.0, 36.0, 130.0), Bounds(33.0, 124.5, 38.7, 131.0)):
        for f in (Filters(), Filters(kinds=("약국",)), Filters(department="내과")):
            got = {p[0] for p in store.points_in_bounds(b, f)}
            ids = {i.id for i in institutions if b.south <= i.lat <= b.north and b.west <= i.lon <= b.east and _passes(i, f)}
            assert got == ids and (f.kinds or len(ids) > 0)
            assert {i.id for i in store.in_bounds(b, f)} == ids


def test_bounds_from_the_map_component() -> None:
    raw = {"_southWest": {"lat": 37.4, "lng": 126.9}, "_northEast": {"lat": 37.6, "lng": 127.1}}
    assert Bounds.from_leaflet(raw) == Bounds(37.4, 126.9, 37.6, 127.1)
    assert Bounds.from_leaflet({"_southWest": {"lat": None, "lng": None}, "_northEast": {}}) is None
    assert Bounds.from_leaflet(None) is None


def test_name_filter_is_literal(tmp_path: Path) -> None:
    inst = synthetic(3)
    inst[0].name, inst[1].name, inst[2].name = "100%병원", "1_0병원", "100병원"
    store = prepared_store(tmp_path / "h.sqlite3", inst)
    assert [n.institution.name for n in store.near(37.5, 127.0, Filters(name="100%"), 5)] == ["100%병원"]
    assert [n.institution.name for n in store.near(37.5, 127.0, Filters(name="1_0"), 5)] == ["1_0병원"]


def test_department_missing_from_the_table_is_still_found(tmp_path: Path) -> None:
    inst = synthetic(4)
    inst[0].departments = [("우주의학과", 1)]
    store = prepared_store(tmp_path / "h.sqlite3", inst)
    assert [n.institution.key for n in store.near(37.5, 127.0, Filters(department="우주의학과"), 5)] == [inst[0].key]
    assert ("우주의학과", 1) in store.offered_departments()


# -- guidance ---------------------------------------------------------------------------------------------------------

def ent(text: str, category: Category = Category.SYMPTOM, code: str | None = None, **flags: bool) -> Entity:
    return Entity(category=category, text=text, begin=0, end=len(text), normalized=text, code=code, **flags)


def test_chest_pain_with_dyspnoea_sends_to_the_emergency_room_without_a_diagnosis() -> None:
    g = Guide().guide([ent("흉통", code="R07.4"), ent("호흡곤란", code="R06.0")])
    assert [f.rule for f in g.emergency] == ["chest_pain_dyspnea"] and g.department == EMERGENCY
    assert g.emergency[0].terms == ["흉통", "호흡곤란"]
    message = g.emergency[0].message_ko + g.emergency[0].message_en
    assert "흉통" in message and not any(w in message for w in ("심근경색", "협심증", "infarction", "angina"))
    assert g.departments[0].department == "내과"  # 흉통 → 순환기내과 → 내과, still listed under the emergency


def test_negated_or_family_signs_do_not_fire_and_are_said_to_be_left_out() -> None:
    g = Guide().guide([ent("흉통"), ent("호흡곤란", negated=True), ent("구음장애", family=True)])
    assert g.emergency == [] and g.department == "내과"
    assert ("호흡곤란", "negated") in g.left_out and ("구음장애", "family") in g.left_out
    assert Guide().guide([ent("구음장애")]).department == EMERGENCY  # a stroke sign alone is enough


def test_diagnosis_codes_weigh_in_through_hira_statistics() -> None:
    g = Guide().guide([ent("급성 충수염", Category.DIAGNOSIS, code="K35.8")])
    top = g.departments[0]
    assert top.department == "외과"
    vias = {r.via for r in top.reasons}
    assert vias == {"table", "statistics"}
    stat = next(r for r in top.reasons if r.via == "statistics")
    assert 0.5 < stat.share <= 1 and stat.code == "K35.8"
    # A code the table does not know still finds its department through the statistics alone.
    g = Guide().guide([ent("기타 백내장", Category.DIAGNOSIS, code="H26.9")])
    assert g.departments[0].department == "안과" and g.departments[0].reasons[0].via == "statistics"
    assert g.unmatched == []


def test_unknown_terms_are_reported_and_the_note_department_is_a_fallback() -> None:
    g = Guide().guide([ent("이상한 느낌")], note_department="소화기내과")
    assert g.unmatched == ["이상한 느낌"] and g.department == "내과" and g.departments[0].reasons[0].via == "note"
    assert Guide().guide([]).department is None


def test_edited_rule_tables_in_the_data_dir_win(tmp_path: Path) -> None:
    rules = tmp_path / "hospital_rules"
    rules.mkdir()
    (rules / "emergency_rules.tsv").write_text("# id\tall of\tko\ten\nitch\t가려움\t가려움이 기록됨.\tItching.\n",
                                               encoding="utf-8")
    (rules / "symptom_departments.tsv").write_text("가려움\t알레르기내과\t5\n", encoding="utf-8")
    g = Guide.with_overrides(rules).guide([ent("가려움"), ent("흉통"), ent("호흡곤란")])
    assert [f.rule for f in g.emergency] == ["itch"]
    assert g.departments[0].department == "내과" and g.departments[0].reasons[0].subspecialty == "알레르기내과"


def test_the_service_reads_an_edited_table_without_a_restart(tmp_path: Path) -> None:
    hs = HospitalService(tmp_path / "h.sqlite3", rules_dir=tmp_path / "rules")
    assert hs.guidance([ent("가려움")]).emergency == []
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "emergency_rules.tsv").write_text("itch\t가려움\t가려움.\tItching.\n", encoding="utf-8")
    assert [f.rule for f in hs.guidance([ent("가려움")]).emergency] == ["itch"]


# -- service, CLI, build ----------------------------------------------------------------------------------------------

def _shipped(path: Path, rows: list[dict[str, str]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path


def _row(key: str, name: str, kind: str, lat: float, lon: float, depts: str = "", er: str = "0") -> dict[str, str]:
    return {"key": key, "name": name, "kind": kind, "sido": "서울", "sigungu": "강남구", "emd": "역삼동", "addr": "주소",
            "tel": "02", "url": "", "doctors": "1", "beds": "0", "lat": str(lat), "lon": str(lon), "er": er,
            "er_note": "", "departments": depts, "dept_inferred": "0"}


def test_first_use_builds_the_database_from_the_shipped_copy(tmp_path: Path) -> None:
    shipped = _shipped(tmp_path / "s.csv.gz", [_row("a", "가내과", "의원", 37.50, 127.03, "01:2"),
                                               _row("b", "나응급병원", "종합병원", 37.52, 127.05, "01:3;24:2", er="1")])
    hs = HospitalService(tmp_path / "data" / "hospitals.sqlite3", shipped=shipped)
    assert not (tmp_path / "data" / "hospitals.sqlite3").exists() or hs.store.count() == 2
    assert hs.store.count() == 2 and "shipped" in hs.info()["source"]
    assert [n.institution.name for n in hs.near(37.5, 127.03, Filters(department=EMERGENCY))] == ["나응급병원"]
    assert hs.near(37.5, 127.03, Filters(department="응급의학과"))[0].institution.departments == [("내과", 3), ("응급의학과", 2)]
    place = hs.locate("서울특별시 강남구")
    assert place is not None and place.label == "서울 강남구" and place.count == 2
    assert hs.locate("역삼동") is not None and hs.locate("없는구") is None
    markers = hs.markers(Bounds(37.4, 126.9, 37.6, 127.1))
    assert markers.detailed and len(markers.points) == 2
    assert not hs.markers(Bounds(37.4, 126.9, 37.6, 127.1), detail_limit=1).detailed


def test_cli_import_then_near_prints_json_lines_nearest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from services.__main__ import main

    data = tmp_path / "data"
    monkeypatch.setenv("NOTELENS_DATA_DIR", str(data))
    prepared_store(data / "hospitals.sqlite3", [])
    files = official_files(tmp_path / "hira", "cp949")
    assert main(["hospitals", "import", *map(str, files)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["hospitals"] == 4 and summary["pharmacies"] == 1
    assert main(["hospitals", "near", "37.4883", "127.0852", "--limit", "3", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["name"] for x in lines] == ["삼성서울병원", "바른정형외과의원", "이삼성약국"]
    assert lines[0]["distance_km"] < lines[1]["distance_km"] < lines[2]["distance_km"]
    assert lines[0]["departments"] == ["내과", "응급의학과", "심장혈관흉부외과"] and lines[0]["emergency_room"]
    assert set(lines[0]) >= {"name", "kind", "address", "phone", "distance_km", "departments"}
    assert main(["hospitals", "near", "37.4883", "127.0852", "--department", "정형외과", "--json"]) == 0
    ortho = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["name"] for x in ortho] == ["바른정형외과의원"] and ortho[0]["departments_inferred"]
    assert main(["hospitals", "near", "37.4883", "127.0852", "--kind", "약국"]) == 0
    assert "이삼성약국" in capsys.readouterr().out
    assert main(["hospitals", "import", str(tmp_path / "missing.csv")]) == 2


def test_build_makes_the_shipped_copy_from_shared_layouts(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    nat = shared / "hospitals-national"
    nat.mkdir(parents=True)
    (nat / "hospitals.csv").write_text(
        "name,kind,sido,sigungu,emd,addr,tel,url,doctors,beds,lon,lat,departments,specialists,equipment,beds_detail\n"
        "가나병원,종합병원,경기,수원영통구,매탄동,경기도 수원시 1,031-1,,30,300,127.05,37.27,내과;외과,내과:3,CT:1,general:300\n"
        "다라정형외과의원,의원,서울,강남구,역삼동,서울 2,02-2,,1,0,127.03,37.50,,,,\n"
        "마바병원,병원,서울,강남구,역삼동,서울 3,02-3,,5,40,127.04,37.51,내과,,,er:4;general:36\n", encoding="utf-8")
    (nat / "departments.csv").write_text("hospital_row,dept_code,dept_name,specialists\n1,01,내과,3\n1,04,외과,0\n"
                                         "3,01,내과,0\n", encoding="utf-8")
    (nat / "pharmacies.csv").write_text("name,sido,sigungu,emd,addr,tel,lon,lat\n사약국,서울,강남구,역삼동,서울 4,02-4,127.031,"
                                        "37.501\n", encoding="utf-8")
    gg = shared / "gyeonggi-emergency-facilities"
    gg.mkdir()
    (gg / "응급의료기관및응급의료지원센터현황.csv").write_bytes(
        ("시군명,병원명/센터명,업무구분명,대표전화번호,소재지도로명주소,소재지지번주소,소재지우편번호,위도,경도,응급의료지원센터여부,"
         "전문응급의료센터여부,전문응급센터전문분야,권역외상센터여부,지역외상센터여부\n"
         "수원시,(의)가나병원,지역센터,031-1,주소,주소,1,37.2702,127.0502,,,,,\n").encode("cp949"))
    nmc = shared / "seoul-hospitals-nmc"
    nmc.mkdir()
    (nmc / "hospitals.csv").write_text("기관명,주소,응급실전화,입원실가용여부,병상수,응급실가능여부,경도,위도,응급실,입원실,수술실,지역(시),"
                                       "지역(구)\n", encoding="utf-8")
    stats = shared / "hira-dept-diagnosis-stats"
    stats.mkdir()
    (stats / "s.csv").write_text("진료년도,진료과목,주상병코드,환자수,명세서청구건수,입내원일수,보험자부담금(선별포함),요양급여비용총액(선별포함)\n"
                                 "2023,흉부외과,I20,5 ,5 ,1 ,1 ,1 \n2023,내과,I20,95 ,1 ,1 ,1 ,1 \n", encoding="utf-8")
    out = tmp_path / "out"
    figures = build(shared, out)
    rows = {r["name"]: r for r in read_shipped(out / "institutions.csv.gz")}
    assert figures["institutions"] == 3 and figures["pharmacies"] == 1
    assert rows["가나병원"]["departments"] == "01:3;04:0" and rows["가나병원"]["er_note"] == "지역응급의료센터"
    assert rows["다라정형외과의원"]["departments"] == "05:0" and rows["다라정형외과의원"]["dept_inferred"] == "1"
    assert rows["마바병원"]["er"] == "1" and rows["마바병원"]["er_note"] == "응급실 병상 4"
    assert rows["사약국"]["kind"] == PHARMACY
    with gzip.open(out / "dept_diagnosis_stats.tsv.gz", "rt", encoding="utf-8") as fh:
        assert "I20\t심장혈관흉부외과\t5" in fh.read()  # HIRA's 흉부외과 is the 진료과목 심장혈관흉부외과
    again = tmp_path / "again"
    build(shared, again)  # repeatable: the same input gives the same bytes
    assert (again / "institutions.csv.gz").read_bytes() == (out / "institutions.csv.gz").read_bytes()


def test_the_shipped_copy_is_compact_and_national() -> None:
    path = Path(__file__).resolve().parent.parent / "services" / "hospitals" / "data" / "institutions.csv.gz"
    assert path.stat().st_size < 6_000_000
    kinds: dict[str, int] = {}
    for r in read_shipped(path):
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    assert sum(kinds.values()) > 100_000 and kinds[PHARMACY] > 25_000 and kinds["상급종합"] == 47


def test_note_counts_by_department_follow_the_store(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prepared_store(tmp_path / "h.sqlite3", synthetic(30))
    hs = HospitalService(tmp_path / "h.sqlite3", notes=app.notes)
    assert hs.note_departments() == []
    app.notes.ingest("a.txt", "진료과: 순환기내과\n흉통 호소.".encode())
    first = hs.note_departments()
    assert [(d, n) for d, n, _ in first] == [("내과", 1)] and first[0][2] > 0  # 순환기내과 counts as 내과
    app.notes.ingest("b.txt", "진료과: 신경과\n두통 호소.".encode())
    assert sorted((d, n) for d, n, _ in hs.note_departments()) == [("내과", 1), ("신경과", 1)]
