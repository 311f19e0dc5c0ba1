"""The clinical department names the engine knows (HIRA spellings): the departments the guidance tables route to,
the departments HIRA's statistics name, and a few that route nothing. A body-site word inside one (피부과, 심장내과,
맑은빛피부과의원) is part of a department's name, not a body site."""

from __future__ import annotations

import re

from services.extraction.local.resources import rows

DEPARTMENT_NAMES = sorted({r[1] for r in rows("departments.tsv")} | {r[1] for r in rows("generated/dept_kcd.tsv")}
                          | {"응급의학과", "영상의학과", "심장혈관흉부외과", "흉부외과", "마취통증의학과"}, key=len, reverse=True)
_IN_WORD = re.compile("|".join(map(re.escape, DEPARTMENT_NAMES)))
_HANGUL = re.compile(r"[가-힣]+")
_NAMES = frozenset(DEPARTMENT_NAMES)
_ALL_END_IN_GWA = all(d.endswith("과") for d in DEPARTMENT_NAMES)
_LONGEST = max(map(len, DEPARTMENT_NAMES), default=0) + 1  # (+1: a name written in two words, 소화기 내과)


def in_department_name(text: str, begin: int, end: int) -> bool:
    """Does begin..end lie inside a department name within its written word ("피부과 외래", "서울심장내과의원")?"""
    if _ALL_END_IN_GWA and text.find("과", end, end + _LONGEST) < 0:
        return False  # every name ends in 과: none can hold the term without one soon after it
    left = begin
    while left > 0 and "가" <= text[left - 1] <= "힣":
        left -= 1
    word = _HANGUL.match(text, left)
    if word is None or word.end() < end:
        return False
    if any(d.start() <= begin and end <= d.end() for d in _IN_WORD.finditer(text, left, word.end())):
        return True
    # Written in two words: 소화기 내과, 신경 외과.
    nxt = _HANGUL.match(text, word.end() + 1) if text.startswith(" ", word.end()) else None
    return nxt is not None and word.end() == end and (text[left:end] + nxt.group()) in _NAMES
