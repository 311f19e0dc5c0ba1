"""The vocabulary build on small files shaped like the reference data (real CP949 for HIRA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.extraction.local.build_vocab import (
    dept_by_code,
    drug_terms,
    kcd9_terms,
    korean_surfaces,
    procedure_and_test_terms,
)
from services.extraction.local.wordform import spacing_variants

_KCD9_HEADER = "표제어,분류기준,질병분류코드,검별,주석,한글명칭,영문명칭,최하위코드,국내세분화코드,한의병명,국내추가진단명\n"


def test_kcd9_uses_synonym_and_inclusion_rows_never_exclusions(tmp_path: Path) -> None:
    path = tmp_path / "kcd9.csv"
    path.write_text(
        _KCD9_HEADER
        + "1,소,I10,,,본태성(원발성) 고혈압,Essential (primary) hypertension,1,0,0,0\n"
        + ",,I10,,포함,고혈압 NOS,Hypertension NOS,,,,\n"
        + ",,I10,,제외,뇌혈관 침범(I60-I69),Involving vessels of brain(I60-I69),,,,\n"
        + "1,세,J18.9,,,상세불명의 폐렴,\"Pneumonia, unspecified\",1,0,0,0\n"
        + "1,세,K29.7,,,위염,Gastritis,1,0,0,0\n"
        + ",,K29.7,,,위장염 NOS,,,,,\n"
        + "1,소,R10,,,복부 및 골반 통증,Abdominal and pelvic pain,0,0,0,0\n"
        + "1,세,M70.9,,,\"사용, 과용 및 압박과 관련된 연조직장애\",Soft tissue disorder,1,0,0,0\n",
        encoding="utf-8",
    )
    diagnoses, symptoms = kcd9_terms(path)
    dx = {name: (code, set(syns.split("|"))) for name, code, syns in diagnoses}
    assert dx["본태성 고혈압"][0] == "I10"
    assert {"고혈압", "본태성 고혈압", "본태성고혈압", "essential hypertension"} <= dx["본태성 고혈압"][1]
    assert not any("뇌혈관" in s for _, syns in dx.values() for s in syns)  # 제외 rows are not synonyms
    assert dx["위염"] == ("K29.7", {"위염", "gastritis", "위장염"})
    assert "상세불명의 폐렴" not in dx and "사용" not in dx  # vague names and split-off fragments dropped
    sx = {name: set(syns.split("|")) for name, _, syns in symptoms}
    # "A 및 B 통증" shares B's head: both sites become symptoms, spaced and unspaced.
    assert {"복부 통증", "복부통증", "골반 통증", "골반통증"} <= set().union(*sx.values())


@pytest.mark.parametrize(("name", "surfaces"), [
    ("피부조직검사 [1장기당]", {"피부조직검사", "피부조직 검사"}),
    ("충수절제술", {"충수절제술", "충수 절제술"}),
    ("대장내시경", {"대장내시경", "대장 내시경"}),
    ("혈액 및 소변 검사", {"혈액 검사", "소변 검사"}),
    ("상세불명의 두통", set()),
    ("하지의 정맥류", {"하지의 정맥류", "하지 정맥류", "정맥류"}),  # the genitive as notes write it, and the head alone
])
def test_official_names_become_note_surfaces(name: str, surfaces: set[str]) -> None:
    found: set[str] = set()
    for surface in korean_surfaces(name):
        found |= spacing_variants(surface)
    assert surfaces <= found and (found or not surfaces)


def test_fee_names_are_classified_by_head(tmp_path: Path) -> None:
    tests_csv = tmp_path / "tests.csv"
    tests_csv.write_text("NO,수가 코드,수가분류번호,관리진료과,절,세분류,한글명,영문명\n"
                         "1,B1,나1,진단,1절,,약물 및 독물-[정밀면역검사](정량)_Methotrexate,Drug Test-Methotrexate\n"
                         "2,B2,나2,진단,1절,,프로칼시토닌-반정량,Procalcitonin_Semi-Quantitative\n", encoding="utf-8")
    fees = tmp_path / "fees.csv"
    fees.write_text("concept_name,concept_synonym\nx,창상봉합술(안면과경부이외)\ny,병원급 4인실입원료\nz,복부 초음파\n",
                    encoding="utf-8")
    tests, procedures = procedure_and_test_terms(tests_csv, [fees])
    assert {t[0] for t in procedures} == {"창상봉합술"}
    assert {"프로칼시토닌", "복부 초음파"} <= {t[0] for t in tests}
    assert not any("입원료" in t[0] for t in tests + procedures)


def test_drugs_map_brands_to_ingredient_and_atc(tmp_path: Path) -> None:
    path = tmp_path / "atc.csv"
    rows = [
        "식약분류,주성분코드,제품코드,제품명,업체명,ATC코드,ATC코드 명칭",
        "112,1,1,뉴로닌캡슐300밀리그램(가바펜틴)_(0.3g/1캡슐),A,N02BF01,gabapentin",
        "112,2,2,가바텐정(가바펜틴)_(0.1g/1정),B,N02BF01,gabapentin",
        "112,3,3,복합제정(가나,다라)_(1정),C,X01,combo",
    ]
    path.write_bytes("\n".join(rows).encode("cp949"))
    (entry,) = drug_terms(path, curated=set())
    normalized, atc, synonyms = entry
    assert (normalized, atc) == ("가바펜틴", "N02BF01")
    assert set(synonyms.split("|")) == {"가바펜틴", "뉴로닌", "가바텐", "gabapentin"}  # forms and strengths stripped


def test_department_by_most_patients(tmp_path: Path) -> None:
    path = tmp_path / "dept.csv"
    path.write_text(
        "진료년도,진료과목,주상병코드,환자수,명세서청구건수,입내원일수,보험자부담금(선별포함),요양급여비용총액(선별포함)\n"
        "2023,내과,I10,500 ,1 ,1 ,1 ,1 \n2023,응급의학과,I10,9000 ,1 ,1 ,1 ,1 \n2023,신경과,I10,20 ,1 ,1 ,1 ,1 \n",
        encoding="utf-8",
    )
    assert dept_by_code(path) == [("I10", "내과")]


SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside the project")
def test_build_vocab_is_repeatable_from_shared(tmp_path: Path) -> None:
    """The committed vocabularies are exactly what build-vocab makes from ../shared/data today."""
    from services.extraction.local.build_vocab import OUT, main

    assert main(["--shared", str(SHARED), "--out", str(tmp_path)]) == 0
    for committed in sorted(OUT.glob("*.tsv")):
        assert (tmp_path / committed.name).read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), committed.name


def test_a_generic_head_after_an_organ_is_not_a_term_alone() -> None:
    assert "기능저하" not in korean_surfaces("갑상선의 기능저하")


def test_body_sites_come_from_kcd_neoplasm_and_injury_rows(tmp_path: Path) -> None:
    """"난관의 악성 신생물 / Malignant neoplasm of fallopian tube": the site and its English name become anatomy."""
    from services.extraction.local.build_vocab import kcd_sites

    kcd = tmp_path / "kcd9.csv"
    kcd.write_text(
        "표제어,분류기준,질병분류코드,검별,주석,한글명칭,영문명칭,최하위코드,국내세분화코드,한의병명,국내추가진단명\n"
        "1,세,C57.0,,,난관의 악성 신생물,Malignant neoplasm of fallopian tube,1,0,0,0\n"
        "1,세,C76.7,,,기타 부위의 악성 신생물,Malignant neoplasm of other sites,1,0,0,0\n"
        "1,세,S82.0,,,무릎뼈의 골절,Fracture of patella,1,0,0,0\n", encoding="utf-8")
    sites = {name: set(syns.split("|")) for name, _, syns in kcd_sites(kcd, known={"무릎뼈"})}
    assert sites == {"난관": {"난관", "fallopian tube"}}  # vague and already-known sites are left out
