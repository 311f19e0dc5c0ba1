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
from services.domain import Category
from services.extraction.local import wordform
from services.extraction.local.resources import DATA_DIR, rows

OUT = DATA_DIR / "generated"
KCD9 = "kcd9-master/kcd9.csv"
ATC = "hira-drug-atc-mapping/건강보험심사평가원_ATC코드 매핑 목록_20240630.csv"
INGREDIENTS = "hira-drug-ingredient-master/건강보험심사평가원_약가마스터_의약품주성분_20241014.csv"
DEPT = "hira-dept-diagnosis-stats/건강보험심사평가원_병원급이상 진료과목별 상병 통계_20231231.csv"
TEST_FEES = "hira-test-fees/tests-ch2.csv"
FEE_ITEMS = "hira-fee-item-names/suga_translation.csv"
OHDSI_FEES = "ohdsi-edi-suga/suga_Eng_Kor_translation.csv"
ANATOMY = "anatomy-ko-en/anatomy.csv"

# KCD chapters a note names as a diagnosis (R is symptoms and findings, handled apart); V–Y are
# external causes (kept only where short: 낙상), Z is factors and contacts.
_SYMPTOM_CHAPTER = "R"
_SKIP_CHAPTERS = ("Z",)
# Sub-code labels that are qualifiers, not diseases (C56.0 is just "오른쪽").
# Who is affected (태아 또는 신생아) is no name either.
_QUALIFIERS = frozenset("오른쪽 왼쪽 양쪽 양측 편측 단일 다발 다발성 급성 만성 재발성 초기 후기 남성 여성 소아 성인 노인 임신 분만 기타 사망"
                        " 태아 신생아 영아 유아 산모 임부 아동 청소년 환자".split())
_QUALIFIERS_LONGEST = sorted((q for q in _QUALIFIERS if len(q) >= 2), key=len, reverse=True)
_COMPLAINT_HEADS = ("통증", "동통")
_VAGUE = ("상세불명", "기타", "달리 분류", "명시된", "의한", "동반", "않은", "않는", "관련된", "인한", "따른", "제외", "이외", "포함",
          "아닌", "분류", "합병증을", "부위", "경우", "으로서", "에서의", "병태", "증후의")
_FORMS = (
    "필름코팅정", "서방정", "장용정", "구강붕해정", "츄어블정", "발포정", "연질캡슐", "경질캡슐", "서방캡슐", "캡슐", "정",
    "시럽", "건조시럽", "현탁액", "주사액", "주사", "주", "점안액", "점이액", "연고", "크림", "겔", "로션", "액", "산", "과립",
    "패취", "패치", "흡입제", "흡입액", "좌제", "트로키", "스프레이", "플러스", "에스", "서방", "엠",
)
_SALTS = wordform.SALTS_KO
_EN_SALTS = wordform.SALTS_EN
# Category heads alone name nothing specific ("질환", "손상"): never a vocabulary surface by themselves.
_GENERIC = frozenset("질환 질병 장애 증상 증후군 손상 이상 의심 병 염증성 감염 합병증 상태 소견 검사 수술 치료 요법 시술 처치".split())
# Heads that say what is wrong with the organ before them but name nothing alone (갑상선의 기능저하).
_GENERIC_HEADS = ("기능", "과다", "과잉", "결손", "감소", "증가", "선천", "출산", "열린", "다발", "금단")
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|［[^］]*］|\{[^{}]*\}")
_HANGUL_NAME = re.compile(r"[가-힣][가-힣 ]*[가-힣]")
_EN_NAME = re.compile(r"[A-Za-z][A-Za-z' -]*[A-Za-z]")


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


def _unbracket(name: str) -> str:
    prev = None
    while prev != name:
        prev, name = name, _BRACKETS.sub(" ", name)
    return re.sub(r"\s+", " ", name).strip(" ,-_·")


def korean_surfaces(name: str, max_len: int = 16) -> list[str]:
    """The surfaces a note would write for an official Korean name: brackets and trailing ", 부위"
    qualifiers removed, "A 및 B" split into both (sharing B's head when A has none: 복부 및 골반 통증 →
    복부 통증, 골반 통증), vague names (상세불명, 기타…) dropped."""
    # "상세불명의 서맥", "기타 두통": the unspecified form is what notes write, without the qualifier.
    full = re.sub(r"\s*\bNOS\b", "", _unbracket(name)).strip()
    full = re.sub(r"^(?:상세불명의|상세불명|기타|달리 분류되지 않은)\s+", "", full)
    name = full.split(",")[0].strip()
    if any(v in name for v in _VAGUE) or name in _QUALIFIERS:
        return []
    parts = [p.strip() for p in re.split(r"\s+(?:및|또는|와|과)\s+|/", name) if p.strip()]
    if len(parts) > 1:
        last = parts[-1].split(" ")
        head = last[-1] if len(last) > 1 else ""
        out: list[str] = []
        for part in parts:
            if wordform.head_of(part.replace(" ", "")) is None and head and not part.endswith(head):
                part = f"{part} {head}"
            out.append(part)
        parts = out
    keep = []
    for part in parts:
        size = len(part.replace(" ", ""))
        if not _HANGUL_NAME.fullmatch(part) or not 2 <= size <= max_len or part in _QUALIFIERS or part in _GENERIC:
            continue
        # A two-syllable piece split off a longer name ("약물", "사용") is rarely a term by itself.
        if (len(parts) > 1 or name != full) and size < 3 and wordform.head_of(part) is None:
            continue
        keep.append(part)
        # "신생아황달", "소아천식": a name glued to who or how it affects is also written apart (신생아 황달).
        lead = next((q for q in _QUALIFIERS_LONGEST if part.startswith(q) and len(part) - len(q) >= 2), None)
        if lead is not None and part[len(lead)] != " ":
            keep.append(f"{lead} {part[len(lead):]}")
        # "하지의 정맥류": notes write 하지 정맥류, and a three-syllable head alone (정맥류) names the disease.
        genitive = re.fullmatch(r"([가-힣]{1,6})의 ([가-힣]{2,8})", part)
        if genitive:
            keep.append(f"{genitive.group(1)} {genitive.group(2)}")
            head = genitive.group(2)
            if len(head) >= 3 and head not in _GENERIC and head not in _QUALIFIERS and not head.startswith(_GENERIC_HEADS):
                keep.append(head)
    return keep


def english_surface(name: str) -> str | None:
    """'Acute watery diarrhoea', 'Pneumonia, unspecified' → 'Pneumonia'; long or vague names → None."""
    name = _unbracket(name).split(",")[0].replace(" NOS", "").strip()
    low = name.lower()
    if not _EN_NAME.fullmatch(name) or len(name) < 4 or len(name.split()) > 4:
        return None
    if any(w in low.split() for w in ("other", "unspecified", "and", "or", "due", "with", "without", "of", "in", "by", "not")):
        return None
    return low


def kcd9_terms(path: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(diagnoses, symptoms) as (normalized, code, synonyms) from the KCD-9 master file: every
    headword with its synonym and 포함 (inclusion) rows, never its 제외 (exclusion) or note rows. The R
    chapter (symptoms, signs, abnormal findings) becomes symptoms; the rest diagnoses."""
    names: dict[str, str] = {}  # code -> headword surface
    synonyms: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            code = rec["질병분류코드"].strip().replace("._", ".")
            note = rec["주석"].strip()
            if code.startswith(("R95", "R96", "R97", "R98", "R99")):
                continue  # death and unknown causes of mortality, not findings a note reports
            if not code or "-" in code or note not in ("", "포함") or code.startswith(_SKIP_CHAPTERS) or _is_poisoning(code):
                continue
            ko = korean_surfaces(rec["한글명칭"] or "", max_len=10 if code[0] in "VWXY" else 16)
            if code[0] in "VWXY":
                # Causes of injury a note names (낙상, 교통사고, 추락); not the long place/activity codes.
                ko = [k for k in ko if k == "낙상" or (3 <= len(k) <= 6 and k.endswith(("사고", "추락", "교상", "화상", "낙상")))]
            en = english_surface(rec["영문명칭"] or "")
            if ko and rec["표제어"].strip() and code not in names:
                names[code] = ko[0]
            synonyms[code].update(ko)
            if en and code[0] not in "VWXY":
                synonyms[code].add(en)
    diagnoses: dict[str, tuple[str, set[str]]] = {}
    symptoms: dict[str, tuple[str, set[str]]] = {}
    for code, syns in synonyms.items():
        if not syns:
            continue
        normalized = names.get(code) or min((s for s in syns if not s.isascii()), key=lambda s: (len(s), s), default="")
        if not normalized:
            continue
        # "사지의 통증" (M79.6) names a site and a complaint, which the guideline splits like any symptom.
        target = symptoms if code.startswith(_SYMPTOM_CHAPTER) or normalized.endswith(_COMPLAINT_HEADS) else diagnoses
        # The shortest (most general) code keeps a normalized name shared by several codes.
        if normalized in target and len(target[normalized][0]) <= len(code):
            target[normalized][1].update(syns)
            continue
        old = target.get(normalized, ("", set()))[1]
        target[normalized] = (code, syns | old)
    return _rows(diagnoses), _rows(symptoms)


_STOP = frozenset(w for r in rows("vocab_stopwords.tsv") for w in r[0].split())


def _rows(table: dict[str, tuple[str, set[str]]]) -> list[tuple[str, str, str]]:
    out = []
    for normalized, (code, syns) in sorted(table.items()):
        forms: set[str] = set()
        for s in syns | {normalized}:
            forms |= {s} if s.isascii() else wordform.spacing_variants(s)
        forms -= _STOP
        if forms:
            # The lexicon also matches a row's normalized name, so a stop-listed one gives way to a kept form.
            name = normalized if normalized not in _STOP else min(forms, key=lambda f: (f.isascii(), len(f), f))
            out.append((name, code, "|".join(sorted(forms))))
    return out


def _fee_parts(name: str) -> list[str]:
    """'유기용제-[화학반응-장비측정]-(정량)_Xylene' → its named parts; each part is classified by its head."""
    name = _unbracket(name)
    return [p.strip() for p in re.split(r"\s*[-_:]\s*", name) if p.strip()]


_ADMIN = ("입원료", "관리료", "진찰료", "병실", "호스피스", "가산", "등급", "전문의", "공휴", "야간", "응급", "인실", "간호", "수가", "산정")


def procedure_and_test_terms(test_fees: Path, fee_items: list[Path]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(tests, procedures) from HIRA's fee schedule: the test chapter's Korean and English names are
    tests; every fee-item part is classified by its Korean head (-검사/-촬영/-내시경 → test,
    -술/-요법/-치료/절제 → procedure); billing items (입원료, 관리료…) are skipped."""
    tests: dict[str, set[str]] = defaultdict(set)
    procedures: dict[str, set[str]] = defaultdict(set)
    with test_fees.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            name = rec["한글명"] or ""
            # Without a head, only the main name and the analyte after "_" name a test ("_Xylene",
            # "프로칼시토닌-반정량"); middle parts are methods and specimens ("감각신경", "저분자").
            analyte = name.rsplit("_", 1)[1] if "_" in name else ""
            for i, part in enumerate(_fee_parts(name)):
                for ko in korean_surfaces(part, max_len=14):
                    head = wordform.head_of(ko.replace(" ", ""))
                    if head is not None and head.category in (Category.TEST, Category.PROCEDURE) or (
                            head is None and (i == 0 or part == analyte.strip())):
                        tests[ko].add(ko)
            en = english_surface((rec["영문명"] or "").split("-")[0])
            if en and len(en) >= 6:
                tests[en].add(en)
    for path in fee_items:
        with path.open(encoding="utf-8-sig") as fh:  # the OHDSI file has a BOM
            reader = csv.reader(fh)
            header = next(reader)
            ko_col = 0 if "synonym" in header[0].lower() else 1  # conceptSynonym,conceptName | concept_name,concept_synonym
            for fee in reader:
                if len(fee) < 2 or any(a in fee[ko_col] for a in _ADMIN):
                    continue
                for part in _fee_parts(fee[ko_col]):
                    for ko in korean_surfaces(part, max_len=14):
                        head = wordform.head_of(ko.replace(" ", ""))
                        if head is None:
                            continue
                        if head.category is Category.TEST:
                            tests[ko].add(ko)
                        elif head.category is Category.PROCEDURE:
                            procedures[ko].add(ko)
    return _rows({k: ("", v) for k, v in tests.items()}), _rows({k: ("", v) for k, v in procedures.items()})


# KCD names body sites in its neoplasm and injury rows: "난관의 악성 신생물", "Malignant neoplasm of fallopian tube".
_SITE_HEADS_KO = ("악성 신생물", "양성 신생물", "제자리암종", "열린상처", "표재성 손상", "타박상", "골절", "탈구", "염좌", "화상",
                  "동상", "이물", "으깸손상", "외상성 절단")
_SITE_KO = re.compile(rf"([가-힣]{{2,8}}(?: [가-힣]{{2,8}})?)의 (?:{'|'.join(_SITE_HEADS_KO)})")
_SITE_EN = re.compile(r"(?:Malignant neoplasm|Benign neoplasm|Carcinoma in situ|Open wound|Superficial injury|Contusion|Fracture"
                      r"|Dislocation|Burn|Foreign body) of ([a-z]+(?: [a-z]+){0,2})")
_NOT_SITE = re.compile(r"기타|상세불명|다발|부위|중복|달리|명시|및|또는|침범|경계|손상|관련|포함|제외|동반|이상|병적|오래된|신생물|[을를]$"
                       r"|unspecified|other|multiple|part|site|and|overlapping|specified|with|without|lesion")


def kcd_sites(path: Path, known: set[str]) -> list[tuple[str, str, str]]:
    """Body sites named in KCD's neoplasm and injury rows that the anatomy list lacks (난관, 대망, 복강내기관), with the
    English site of the same row when it has one."""
    table: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            if "제외" in (rec.get("검별") or ""):
                continue
            ko_m = _SITE_KO.fullmatch(_unbracket(rec["한글명칭"]))
            if ko_m is None:
                continue
            site = ko_m.group(1)
            head = wordform.head_of(site.replace(" ", ""))
            if _NOT_SITE.search(site) or site in known or (head is not None and head.category is not Category.ANATOMY):
                continue
            table[site].add(site)
            en_m = _SITE_EN.fullmatch(_unbracket(rec["영문명칭"]).split(",")[0].strip())
            if en_m is not None and not _NOT_SITE.search(en_m.group(1)) and len(en_m.group(1)) >= 4:
                table[site].add(en_m.group(1))
    return _rows({k: ("", v) for k, v in table.items()})


def anatomy_terms(path: Path) -> list[tuple[str, str, str]]:
    """Korean anatomy names with their English names (lower-cased, alternatives split)."""
    table: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            ko = (rec["ko"] or "").strip()
            if not _HANGUL_NAME.fullmatch(ko) or len(ko) < 2:
                continue
            table[ko].add(ko)
            for en in re.sub(r"\(\d+\)", "", rec["en"] or "").split("/"):
                en = en.strip().lower()
                if _EN_NAME.fullmatch(en) and len(en) >= 4 and len(en.split()) <= 3:
                    table[ko].add(en)
    return _rows({k: ("", v) for k, v in table.items()})


def _strip_salt(name: str) -> str:
    for salt in sorted(_SALTS, key=len, reverse=True):
        if name.endswith(salt) and len(name) - len(salt) >= 2:
            return name[: -len(salt)]
    return name


def _strip_en_salt(name: str) -> str:
    words = [w for w in name.lower().split() if w not in _EN_SALTS]
    return " ".join(words)


def drug_terms(path: Path, curated: set[str], ingredients: Path | None = None) -> list[tuple[str, str, str]]:
    """Brand stems and Korean ingredient names from HIRA's product list, normalised to the
    Korean ingredient with its ATC code; with the ingredient master, the English generic names of
    the same ingredients (notes write NIVOLUMAB, metformin)."""
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
    if ingredients is not None:
        by_en = {s: n for n, syns in synonyms.items() for s in syns if s.isascii()}
        with ingredients.open(encoding="cp949", errors="replace") as fh:
            for rec in csv.DictReader(fh):
                en = _strip_en_salt((rec["일반명"] or "").strip())
                if re.fullmatch(r"[a-z][a-z -]{4,40}", en) and len(en.split()) <= 3 and en not in by_en:
                    by_en[en] = en
                    synonyms[en].add(en)
                    codes[en][""] += 1
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


def _without(table: list[tuple[str, str, str]], surfaces: set[str]) -> list[tuple[str, str, str]]:
    """The rows with those surfaces removed from their synonyms; a row left with none is dropped."""
    out = []
    for name, code, syns in table:
        kept = [x for x in syns.split("|") if x not in surfaces]
        if kept:
            out.append((name if name not in surfaces else min(kept, key=lambda f: (f.isascii(), len(f), f)), code, "|".join(kept)))
    return out


def _write(out: Path, name: str, header: str, lines: Sequence[tuple[str, ...]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / name).open("w", encoding="utf-8") as fh:
        fh.write(header.rstrip("\n") + "\n")
        for line in lines:
            fh.write("\t".join(line) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services build-vocab")
    ap.add_argument("--shared", type=Path, default=PROJECT_ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write (default: the engine's data/generated)")
    args = ap.parse_args(argv)
    curated = _curated_surfaces()
    anatomy = anatomy_terms(args.shared / ANATOMY)
    sites = {x for _, _, syns in anatomy for x in syns.split("|")} | {
        x for r in rows("anatomy.tsv") for x in (r[0], *r[2].split("|"))}
    # A body site listed under a disease ("손의 화상" includes palm, finger) names the site, not the disease.
    diagnoses, symptoms = (_without(table, sites) for table in kcd9_terms(args.shared / KCD9))
    _write(args.out, "kcd.tsv", "# GENERATED by build_vocab.py from the KCD-9 master file (KOSTAT, 2025-07): headwords, synonyms and "
           "포함 rows, not 제외. normalized\tcode\tsynonyms", diagnoses)
    _write(args.out, "kcd_symptoms.tsv", "# GENERATED by build_vocab.py from the KCD-9 master file, chapter R (symptoms, signs, "
           "abnormal findings). normalized\tcode\tsynonyms", symptoms)
    tests, procedures = procedure_and_test_terms(args.shared / TEST_FEES, [args.shared / FEE_ITEMS, args.shared / OHDSI_FEES])
    _write(args.out, "procedures.tsv", "# GENERATED by build_vocab.py from HIRA fee-item names (HIRA via SYNC_EDItoOmop and OHDSI "
           "EdiToOmop, Apache-2.0) with a procedure head. normalized\tcode\tsynonyms", procedures)
    known_sites = {x for _, _, syns in anatomy for x in syns.split("|")} | _curated_surfaces()
    anatomy += kcd_sites(args.shared / KCD9, known_sites)
    _write(args.out, "anatomy.tsv", "# GENERATED by build_vocab.py from anatomy-ko-en (soundblue, Apache-2.0) and the body sites "
           "of KCD-9's neoplasm and injury rows. normalized\tcode\tsynonyms", anatomy)
    drugs = drug_terms(args.shared / ATC, curated, args.shared / INGREDIENTS)
    # Drug-level assays ("Dalteparin Sodium", "Methotrexate") name the drug in notes, not the test.
    drug_names = {_strip_en_salt(x) for _, _, syns in drugs for x in syns.split("|")}
    tests = [(n, k, "|".join(x for x in syns.split("|") if not (x.isascii() and _strip_en_salt(x) in drug_names)))
             for n, k, syns in tests]
    tests = [t for t in tests if t[2]]
    _write(args.out, "tests.tsv", "# GENERATED by build_vocab.py from HIRA's test fees (ch. 2, Korean and English names) and fee-item "
           "names with a test head. normalized\tkind\tsynonyms", tests)
    _write(args.out, "drugs.tsv", "# GENERATED by build_vocab.py from HIRA ATC mapping 2024-06-30 and the ingredient master "
           "2024-10-14. ingredient\tATC\tsynonyms", drugs)
    depts = dept_by_code(args.shared / DEPT)
    _write(args.out, "dept_kcd.tsv", "# GENERATED by build_vocab.py from HIRA dept × diagnosis stats 2023. kcd3\tdepartment", depts)
    for name, table in (("kcd", diagnoses), ("kcd_symptoms", symptoms), ("tests", tests), ("procedures", procedures),
                        ("anatomy", anatomy), ("drugs", drugs)):
        print(f"{name}.tsv {len(table)} terms, {sum(r[2].count('|') + 1 for r in table)} surfaces")
    print(f"dept_kcd.tsv {len(depts)} codes → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
