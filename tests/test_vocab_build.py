"""The vocabulary build on small files shaped like the reference data (real CP949 for HIRA)."""

from __future__ import annotations

from pathlib import Path

from services.extraction.local.build_vocab import dept_by_code, drug_terms, kcd_terms


def test_kcd_keeps_specific_names_and_drops_qualifiers(tmp_path: Path) -> None:
    path = tmp_path / "kcd.csv"
    path.write_text(
        "kcd,ko,en\nI10,본태성(원발성) 고혈압,Essential hypertension\nC56.0,오른쪽,right\n"
        "R51,두통,Headache\nK29.9,상세불명의 위십이지장염,Gastroduodenitis\nJ45.0,알레르기성 천식,Allergic asthma\n",
        encoding="utf-8",
    )
    terms = {name: code for name, code, _ in kcd_terms(path)}
    assert terms == {"본태성 고혈압": "I10", "알레르기성 천식": "J45.0"}


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
