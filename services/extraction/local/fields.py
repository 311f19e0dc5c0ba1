"""Note-level fields: visit date, age, sex, department and a PHI-free extractive summary."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from itertools import compress, repeat
from operator import itemgetter, ne

from services.domain import Entity, NoteFields
from services.extraction.local.categories import ANATOMY, DIAGNOSIS, PHI, SYMPTOM
from services.extraction.local.departments import DEPARTMENT_NAMES
from services.extraction.local.phi import PhiSpan, mask
from services.extraction.local.resources import rows

_DATE_LABEL = re.compile(
    r"(?:진료일|내원일|방문일|검사일|촬영일|판독일|작성일|기록일|입원일|수진일|일자|날짜|Date of visit|Visit date|Exam date|Date)\s*[:：]?\s*$",
    re.IGNORECASE,
)
# A consult reply belongs to the department that answers it; otherwise the labelled one.
_DEPT_LABELS = (re.compile(r"(?:회신과|회신 과)\s*[:：]\s*(?P<dept>[가-힣]+과)"),
                re.compile(r"(?:진료과|진료 과|처방과|담당과|소속과|의뢰과|Department|Dept\.?)\s*[:：]\s*(?P<dept>[가-힣A-Za-z]+)"))
_DEPT_TERMS: dict[str, list[tuple[str, float]]] = defaultdict(list)
for _term, _dept, _w in rows("departments.tsv"):
    _DEPT_TERMS[_term].append((_dept, float(_w)))
_KCD_DEPT: dict[str, str] = {r[0]: r[1] for r in rows("generated/dept_kcd.tsv")}
_SUMMARY_SECTIONS = ("chief_complaint", "impression", "assessment", "diagnosis")


def normalize_date(raw: str) -> str | None:
    m = re.search(r"((?:19|20)\d{2})\s?[-./년]\s?(\d{1,2})\s?[-./월]\s?(\d{1,2})", raw)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        short = re.fullmatch(r"(\d{2})\.(\d{1,2})\.(\d{1,2})", raw.strip())
        if not short:
            return None
        y, mo, d = 2000 + int(short.group(1)), int(short.group(2)), int(short.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def visit_date(text: str, phi: list[PhiSpan]) -> str | None:
    dates = [(b, e) for b, e, t in phi if t == "date"]
    for b, e in dates:
        line_start = text.rfind("\n", 0, b) + 1
        if _DATE_LABEL.search(text[line_start:b]):
            d = normalize_date(text[b:e])
            if d:
                return d
    for b, e in dates:
        d = normalize_date(text[b:e])
        if d:
            return d
    return None


def age(text: str, phi: list[PhiSpan]) -> int | None:
    for b, e, t in phi:
        if t == "age":
            m = re.search(r"\d{1,3}", text[b:e])
            if m and int(m.group(0)) <= 130:
                return int(m.group(0))
    return None


def sex(text: str, phi: list[PhiSpan]) -> str | None:
    for b, e, t in phi:
        if t == "sex":
            value = text[b:e].strip().lower()
            if value.startswith(("남", "m")):
                return "M"
            if value.startswith(("여", "f")):
                return "F"
    return None


_DEPT_CUES = [(r[0], r[1]) for r in rows("department_cues.tsv")]


_DEPT_IN_HEADER = re.compile(rf"(?<![가-힣])(?P<dept>{'|'.join(map(re.escape, DEPARTMENT_NAMES))})(?![가-힣])")


def department(text: str, entities: list[Entity], age: int | None = None) -> str | None:
    for label in _DEPT_LABELS:
        m = label.search(text)
        if m:
            return m.group("dept")
    for word, dept in _DEPT_CUES:
        if word in text:
            return dept
    # A department named in the note's header lines ("세종중앙병원 심장혈관흉부외과", "7층 신경과 병동").
    header = "\n".join(text.lstrip().split("\n")[:3])
    m = _DEPT_IN_HEADER.search(header)
    if m:
        return m.group("dept")
    if age is not None and age < 15:
        return "소아청소년과"  # children are seen in paediatrics whatever the complaint
    scores: dict[str, float] = defaultdict(float)
    for ent in entities:
        if ent.category not in (SYMPTOM, DIAGNOSIS) or ent.negated or ent.family:
            continue
        weight = 2.0 if ent.section in ("diagnosis", "impression", "assessment") else 1.0
        if ent.historical:
            weight *= 0.3
        if ent.normalized in _DEPT_TERMS:
            for dept, w in _DEPT_TERMS[ent.normalized]:
                scores[dept] += w * weight
        elif ent.code and ent.code[:3] in _KCD_DEPT:
            scores[_KCD_DEPT[ent.code[:3]]] += weight
    return max(scores, key=lambda d: scores[d]) if scores else None


# Runs of ordinary characters in one step (the same sentences as one character at a time, faster).
_SENT = re.compile(r"(?:[^.\n!?]+|\.(?=\S))+[.!?]?")


def summary(
    text: str, entities: list[Entity], phi: list[PhiSpan], limit: int = 160, headings: Sequence[tuple[int, int]] = ()
) -> str | None:
    """The sentences that carry the most present findings, preferring C.C/impression/diagnosis,
    with PHI replaced by placeholders."""
    # Today's findings: past and family history are context, not what this visit is about.
    present = [e for e in entities if e.category not in (PHI, ANATOMY)
               and not (e.negated or e.historical or e.family)]
    if not present:
        return None
    scored = []
    present.sort(key=lambda x: x.begin)
    starts = [x.begin for x in present]
    ends = [x.end for x in present]
    heading_starts = [hb for hb, _ in headings]
    sentences = list(map(re.Match.span, _SENT.finditer(text)))
    # Only sentences where a finding starts can score (moving b past a heading only drops some): ~half of a note's
    # ~35, picked in C before the Python below.
    firsts = map(bisect_left, repeat(starts), map(itemgetter(0), sentences))
    lasts = map(bisect_left, repeat(starts), map(itemgetter(1), sentences))
    for b, e in compress(sentences, map(ne, firsts, lasts)):
        # Drop the "C.C:" label itself (headings are one per line, in order: only the last one before b can hold it).
        h = bisect_right(heading_starts, b) - 1
        if h >= 0 and b < headings[h][1]:
            b = headings[h][1]
        lo, hi = bisect_left(starts, b), bisect_left(starts, e)
        if lo == hi:
            continue
        inside = [present[i] for i in range(lo, hi) if ends[i] <= e]
        if not inside:
            continue
        bonus = 2 if any(x.section in _SUMMARY_SECTIONS for x in inside) else 0
        scored.append((len({x.normalized for x in inside}) + bonus, -b, b, e))
    if not scored:
        return None
    scored.sort(reverse=True)
    picked = sorted(scored[:2], key=lambda s: s[2])
    pieces = []
    for _, _, b, e in picked:
        local = [(pb - b, pe - b, t) for pb, pe, t in phi if b <= pb and pe <= e]
        masked, _ = mask(text[b:e], local)
        pieces.append(" ".join(masked.split()))
    out = " … ".join(p for p in pieces if p)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def note_fields(
    text: str, entities: list[Entity], phi: list[PhiSpan], headings: Sequence[tuple[int, int]] = ()
) -> NoteFields:
    years = age(text, phi)
    return NoteFields(
        visit_date=visit_date(text, phi),
        age=years,
        sex=sex(text, phi),
        department=department(text, entities, years),
        summary=summary(text, entities, phi, headings=headings),
    )
