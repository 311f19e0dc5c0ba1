"""Small HIRA-layout files and synthetic institutions for the hospital map tests."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from services.hospitals.model import KINDS, PHARMACY, Institution
from services.hospitals.sqlite import SQLiteHospitals

# Header rows exactly as HIRA's "전국 병의원 및 약국 현황" files have them.
HOSPITAL_HEADER = ["암호화요양기호", "요양기관명", "종별코드", "종별코드명", "시도코드", "시도코드명", "시군구코드", "시군구코드명",
                   "읍면동", "우편번호", "주소", "전화번호", "병원홈페이지", "개설일자", "총의사수", "의과일반의 인원수",
                   "의과인턴 인원수", "의과레지던트 인원수", "의과전문의 인원수", "치과일반의 인원수", "치과인턴 인원수",
                   "치과레지던트 인원수", "치과전문의 인원수", "한방일반의 인원수", "한방인턴 인원수", "한방레지던트 인원수",
                   "한방전문의 인원수", "조산사 인원수", "좌표(X)", "좌표(Y)"]
PHARMACY_HEADER = ["암호화요양기호", "요양기관명", "종별코드", "종별코드명", "시도코드", "시도코드명", "시군구코드", "시군구코드명",
                   "읍면동", "우편번호", "주소", "전화번호", "개설일자", "좌표(X)", "좌표(Y)"]
DEPARTMENT_HEADER = ["암호화요양기호", "요양기관명", "진료과목코드", "진료과목코드명", "과목별 전문의수", "선택진료 의사수"]
FACILITY_HEADER = ["암호화요양기호", "요양기관명", "종별코드", "종별코드명", "시도코드", "시도코드명", "시군구코드", "시군구코드명",
                   "읍면동", "우편번호", "주소", "전화번호", "병원홈페이지", "개설일자", "일반입원실상급병상수",
                   "일반입원실일반병상수", "성인중환자병상수", "소아중환자병상수", "신생아중환자병상수", "분만실병상수",
                   "수술실병상수", "응급실병상수", "물리치료실병상수"]


def _hospital(key: str, name: str, kind_code: str, kind: str, sigungu: str, emd: str, addr: str, tel: str,
              doctors: int, lon: str, lat: str) -> list[str]:
    row = [key, name, kind_code, kind, "110000", "서울", "110001", sigungu, emd, "06351", addr, tel, "", "19940101",
           str(doctors)] + ["0"] * 13 + [lon, lat]
    assert len(row) == len(HOSPITAL_HEADER)
    return row


HOSPITALS = [
    _hospital("JDQ4MTYyMiM1MSMkMSMkMCMkODkkMzgxMzUxIzExIyQxIyQzIyQ5OSQyNjE4MzIjNjEjJDEjJDQjJDgz", "삼성서울병원", "01",
              "상급종합", "강남구", "일원동", "서울특별시 강남구 일원로 81, (일원동, 삼성의료원)", "02-3410-2114", 1319,
              "127.0851508", "37.4882977"),
    _hospital("KEY-ORTHO-0001", "바른정형외과의원", "31", "의원", "강남구", "일원동", "서울특별시 강남구 일원로 95",
              "02-000-0001", 2, "127.0870000", "37.4890000"),
    _hospital("KEY-CLINIC-0002", "튼튼의원 <b>&amp;</b>", "31", "의원", "강남구", "역삼동", "서울특별시 강남구 테헤란로 1",
              "02-000-0002", 1, "127.0360000", "37.5000000"),
    _hospital("KEY-NOCOORD-0003", "좌표없는병원", "21", "병원", "강남구", "역삼동", "서울특별시 강남구 어딘가 3", "", 3, "", ""),
]
DEPARTMENTS = [
    [HOSPITALS[0][0], "삼성서울병원", "01", "내과", "204", "0"],
    [HOSPITALS[0][0], "삼성서울병원", "24", "응급의학과", "18", "0"],
    [HOSPITALS[0][0], "삼성서울병원", "07", "심장혈관흉부외과", "23", "0"],
    [HOSPITALS[2][0], "튼튼의원", "23", "가정의학과", "1", "0"],
]
PHARMACIES = [
    ["PH-0001", "이삼성약국", "81", "약국", "110000", "서울", "110001", "강남구", "일원동", "06351",
     "서울특별시 강남구 일원로 53, 1층 (일원동)", "02-3412-1254", "20000101", "127.0840000", "37.4870000"],
]
FACILITIES = [
    [HOSPITALS[0][0], "삼성서울병원", "01", "상급종합", "110000", "서울", "110001", "강남구", "일원동", "06351",
     "서울특별시 강남구 일원로 81", "02-3410-2114", "", "19940101", "125", "1333", "100", "20", "50", "10", "40", "35", "20"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:  # numbers as numbers, as in HIRA's XLSX files (codes lose their leading zero there too)
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() and not c.startswith("0") else c for c in row])
    book.save(path)
    return path


def official_files(folder: Path, encoding: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_csv(folder / "1.병원정보서비스(2026.3.).csv", HOSPITAL_HEADER, HOSPITALS, encoding),
            write_csv(folder / "2.약국정보서비스(2026.3.).csv", PHARMACY_HEADER, PHARMACIES, encoding),
            write_csv(folder / "5.의료기관별상세정보서비스_03_진료과목정보(2026.3.).csv", DEPARTMENT_HEADER, DEPARTMENTS, encoding),
            write_csv(folder / "3.의료기관별상세정보서비스_01_시설정보(2026.3.).csv", FACILITY_HEADER, FACILITIES, encoding)]


DEPTS = ["내과", "신경과", "정형외과", "소아청소년과", "이비인후과", "피부과", "핵의학과", "가정의학과"]
SIGUNGU = [("서울", "강남구"), ("서울", "종로구"), ("부산", "해운대구"), ("경기", "수원영통구"), ("제주", "제주시")]


def synthetic(n: int, seed: int = 7) -> list[Institution]:
    """Institutions scattered over Korea (and a few clusters), with kinds, departments and emergency rooms."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 3 == 0:  # dense cities
            lat, lon = rng.choice([(37.50, 127.03), (35.16, 129.16), (37.27, 127.05)])
            lat, lon = lat + rng.gauss(0, 0.03), lon + rng.gauss(0, 0.03)
        else:
            lat, lon = rng.uniform(33.2, 38.5), rng.uniform(126.0, 129.5)
        kind = rng.choice(KINDS)
        depts = [] if kind == PHARMACY else [(d, rng.randint(0, 3)) for d in rng.sample(DEPTS, rng.randint(0, 3))]
        sido, sigungu = SIGUNGU[i % len(SIGUNGU)]
        out.append(Institution(key=f"S{i:05d}", name=f"기관{i}", kind=kind, lat=round(lat, 6), lon=round(lon, 6),
                               sido=sido, sigungu=sigungu, emd=f"{i % 7}동", addr=f"주소 {i}", tel=f"02-{i:04d}",
                               er=rng.random() < 0.1, departments=depts, source="test"))
    return out


def prepared_store(path: Path, institutions: list[Institution]) -> SQLiteHospitals:
    """A hospital database that is already loaded, so nothing builds from the shipped copy."""
    store = SQLiteHospitals(path)
    store.replace(institutions)
    store.set_meta(source="test fixture")
    return store
