"""Build the generated vocabularies from the reference data in ../shared/data.

    python -m services build-vocab [--shared PATH]

Writes services/extraction/local/data/generated/{kcd,drugs,dept_kcd}.tsv. Curated files win
over these for the same surface form (see lexicon._PRIORITY). Sources and licences:
services/extraction/local/data/SOURCES.md.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from services.config import PROJECT_ROOT
from services.extraction.local.resources import DATA_DIR, rows

OUT = DATA_DIR / "generated"
KCD = "kcd-codebook-auw/kcd.csv"
ATC = "hira-drug-atc-mapping/건강보험심사평가원_ATC코드 매핑 목록_20240630.csv"
DEPT = "hira-dept-diagnosis-stats/건강보험심사평가원_병원급이상 진료과목별 상병 통계_20231231.csv"

# KCD chapters that are not diagnoses a note would name: symptoms (R, curated instead),
# external causes (V–Y), factors/contact (Z), special codes (U).
_SKIP_CHAPTERS = tuple("RVWXYZU")
# Sub-code labels that are qualifiers, not diseases (C56.0 is just "오른쪽").
_QUALIFIERS = frozenset("오른쪽 왼쪽 양쪽 양측 편측 단일 다발 다발성 급성 만성 재발성 초기 후기 남성 여성 소아 성인 노인 임신 분만".split())
_VAGUE = ("상세불명", "기타", "달리 분류되지 않은", "NOS", "및", ",", "의한", "동반한", "동반하지 않은", "합병증을")
_FORMS = (
    "필름코팅정", "서방정", "장용정", "구강붕해정", "츄어블정", "발포정", "연질캡슐", "경질캡슐", "서방캡슐", "캡슐", "정",
    "시럽", "건조시럽", "현탁액", "주사액", "주사", "주", "점안액", "점이액", "연고", "크림", "겔", "로션", "액", "산", "과립",
    "패취", "패치", "흡입제", "흡입액", "좌제", "트로키", "스프레이", "플러스", "에스", "서방", "엠",
)
_SALTS = ("염산염", "황산염", "말레산염", "타르타르산염", "베실산염", "메실산염", "칼륨", "나트륨", "칼슘", "수화물", "이수화물",
          "삼수화물", "푸마르산염", "숙신산염", "브롬화수소산염", "인산염", "질산염", "아세트산염", "시트르산염")


def _curated_surfaces() -> set[str]:
    out: set[str] = set()
    for name in ("symptoms.tsv", "diagnoses.tsv", "medications.tsv", "tests.tsv", "procedures.tsv", "anatomy.tsv"):
        for row in rows(name):
            out.add(row[0])
            out.update(s.strip() for s in row[2].split("|"))
    return out


def _is_poisoning(code: str) -> bool:
    """T36–T65 name the drug or substance itself ("페니실린" is T36.0), not a diagnosis."""
    return code[0] == "T" and code[1:3].isdigit() and 36 <= int(code[1:3]) <= 65


def kcd_terms(path: Path) -> list[tuple[str, str, str]]:
    """(normalized, code, synonyms) for specific KCD names a clinician would write verbatim."""
    by_name: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            code, ko = rec["kcd"].strip(), (rec["ko"] or "").strip()
            if not code or code.startswith(_SKIP_CHAPTERS) or _is_poisoning(code) or len(code) > 5 or not ko:
                continue
            name = re.sub(r"\s*\([^)]*\)\s*", " ", ko).strip()
            name = re.sub(r"\s+", " ", name)
            if name in _QUALIFIERS or any(v in name for v in _VAGUE) or not 3 <= len(name) <= 12 or not re.fullmatch(r"[가-힣 ]+", name):
                continue
            # Keep the shortest (most general) code for a name.
            if name not in by_name or len(code) < len(by_name[name]):
                by_name[name] = code
    return [(name, code, name) for name, code in sorted(by_name.items())]


def _strip_salt(name: str) -> str:
    for salt in sorted(_SALTS, key=len, reverse=True):
        if name.endswith(salt) and len(name) - len(salt) >= 2:
            return name[: -len(salt)]
    return name


def drug_terms(path: Path, curated: set[str]) -> list[tuple[str, str, str]]:
    """Brand stems and Korean ingredient names from HIRA's product list, normalised to the
    Korean ingredient with its ATC code."""
    synonyms: dict[str, set[str]] = defaultdict(set)
    codes: dict[str, Counter[str]] = defaultdict(Counter)
    with path.open(encoding="cp949", errors="replace") as fh:
        for rec in csv.DictReader(fh):
            product, atc, atc_name = rec["제품명"], rec["ATC코드"].strip(), (rec["ATC코드 명칭"] or "").strip()
            m = re.match(r"^([^(_]+)\(([^)]+)\)", product)
            if not m or not atc:
                continue
            brand_raw, ingredient = m.group(1), m.group(2).strip()
            if "," in ingredient or "·" in ingredient or not re.fullmatch(r"[가-힣]+", ingredient):
                continue  # combination products: the curated list covers the common ones
            normalized = _strip_salt(ingredient)
            brand = re.sub(r"[\d.]+\s*(?:밀리그램|마이크로그램|그램|mg|g|%|밀리리터).*$", "", brand_raw).strip()
            for form in sorted(_FORMS, key=len, reverse=True):
                if brand.endswith(form) and len(brand) - len(form) >= 3:
                    brand = brand[: -len(form)]
                    break
            codes[normalized][atc] += 1
            synonyms[normalized].update({ingredient, normalized})
            if re.fullmatch(r"[가-힣]{3,}", brand):
                synonyms[normalized].add(brand)
            if len(atc_name) >= 6 and re.fullmatch(r"[a-z][a-z \-]+", atc_name):
                synonyms[normalized].add(atc_name)
    out = []
    for normalized, syns in sorted(synonyms.items()):
        keep = sorted(s for s in syns if s not in curated and len(s) >= 3)
        if keep and len(normalized) >= 3:
            out.append((normalized, codes[normalized].most_common(1)[0][0], "|".join(keep)))
    return out


def dept_by_code(path: Path) -> list[tuple[str, str]]:
    """3-character KCD → the department treating most of its patients (HIRA 2023)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    with path.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            dept = rec["진료과목"].strip()
            if dept in ("일반의", "응급의학과"):
                continue
            try:
                counts[rec["주상병코드"].strip()][dept] += int(rec["환자수"].strip() or 0)
            except ValueError:
                continue
    return [(code, c.most_common(1)[0][0]) for code, c in sorted(counts.items()) if c]


def _write(name: str, header: str, lines: Sequence[tuple[str, ...]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / name).open("w", encoding="utf-8") as fh:
        fh.write(header.rstrip("\n") + "\n")
        for line in lines:
            fh.write("\t".join(line) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services build-vocab")
    ap.add_argument("--shared", type=Path, default=PROJECT_ROOT.parent / "shared" / "data")
    args = ap.parse_args(argv)
    curated = _curated_surfaces()
    kcd = [t for t in kcd_terms(args.shared / KCD) if t[0] not in curated]
    _write("kcd.tsv", "# GENERATED by build_vocab.py from KCD codebook (auw, MIT; KOSTAT KCD). normalized\tcode\tsynonyms", kcd)
    drugs = drug_terms(args.shared / ATC, curated)
    _write("drugs.tsv", "# GENERATED by build_vocab.py from HIRA ATC mapping 2024-06-30. ingredient\tATC\tsynonyms", drugs)
    depts = dept_by_code(args.shared / DEPT)
    _write("dept_kcd.tsv", "# GENERATED by build_vocab.py from HIRA dept × diagnosis stats 2023. kcd3\tdepartment", depts)
    print(f"kcd.tsv {len(kcd)} terms, drugs.tsv {len(drugs)} ingredients, dept_kcd.tsv {len(depts)} codes → {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
