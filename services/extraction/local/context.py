"""ConText-style assertions (negated, uncertain, historical, family) driven by data rules.

Korean cues mostly follow the concept inside the clause ("두통 없음", "폐렴 의심"), so each cue
has a direction; scopes stop at sentence ends and at terminators such as 있고 / 하지만.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.domain import Category
from services.extraction.local.resources import rows

_SENTENCE_END = re.compile(r"[.!;。](?=\s|$)|\n")
_SECTION_ASSERTIONS = {"past_history": "historical", "family_history": "family"}


@dataclass(frozen=True)
class Cue:
    text: str
    assertion: str
    direction: str
    applies_to: frozenset[str] | None
    scope: str


def _load_cues() -> list[Cue]:
    cues = []
    for row in rows("context_rules.tsv"):
        applies = None if row[3] == "*" else frozenset(row[3].split("|"))
        cues.append(Cue(row[0], row[1], row[2], applies, row[4]))
    return cues


def _cue_regex(cues: list[Cue]) -> re.Pattern[str]:
    parts = []
    for cue in sorted(cues, key=lambda c: -len(c.text)):
        pat = re.escape(cue.text).replace(r"\ ", r"\s*")
        if cue.text[0].isascii() and cue.text[0].isalpha():
            pat = rf"(?<![A-Za-z]){pat}(?![A-Za-z])"
        elif cue.direction == "forward":
            pat = rf"(?<![가-힣]){pat}"
        parts.append(pat)
    return re.compile("|".join(parts))


CUES = _load_cues()
_CUE_BY_TEXT = {c.text.replace(" ", ""): c for c in CUES}
_CUE_RE = _cue_regex(CUES)
_TERMINATORS = [r[0] for r in rows("context_terminators.tsv")]
_TERM_RE = re.compile(
    "|".join(
        rf"(?<![A-Za-z]){re.escape(t)}(?![A-Za-z])" if t[0].isalpha() and t.isascii() else re.escape(t)
        for t in sorted(_TERMINATORS, key=len, reverse=True)
    )
)
# Words that contain a cue but are not one (산부인과 is not 부인, 정상화 is not 정상).
_PSEUDO = re.compile(r"산?부인과|음성\s*(?:녹음|인식|파일)|정상화|not only|no change|없이\s*지내")


@dataclass(frozen=True)
class CueHit:
    begin: int
    end: int
    cue: Cue


def find_cues(text: str) -> list[CueHit]:
    pseudo = [(m.start(), m.end()) for m in _PSEUDO.finditer(text)]
    hits = []
    for m in _CUE_RE.finditer(text):
        if any(b <= m.start() < e for b, e in pseudo):
            continue
        cue = _CUE_BY_TEXT.get(re.sub(r"\s+", "", m.group(0)))
        if cue is None:
            continue
        hits.append(CueHit(m.start(), m.end(), cue))
    return hits


def _clause_bounds(text: str, pos: int, barriers: list[int]) -> tuple[int, int]:
    """Sentence bounds around pos."""
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    m2 = _SENTENCE_END.search(text, pos)
    end = m2.start() if m2 else len(text)
    return start, end


class Assertions:
    """Computes assertion flags for spans of one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cues = find_cues(text)
        self.terminators = [(m.start(), m.end()) for m in _TERM_RE.finditer(text)]

    def _blocked(self, a: int, b: int) -> bool:
        """True when a terminator sits wholly between a and b."""
        return any(a <= s and e <= b for s, e in self.terminators)

    def flags(self, begin: int, end: int, category: Category, section: str | None) -> dict[str, bool]:
        out = {"negated": False, "uncertain": False, "historical": False, "family": False}
        if category is Category.PHI:
            return out
        text = self.text
        for hit in self.cues:
            cue = hit.cue
            if cue.applies_to is not None and category.value not in cue.applies_to:
                continue
            if hit.begin < end and begin < hit.end:
                continue  # the cue is part of the mention itself
            if cue.direction == "backward" and hit.begin >= end:
                if cue.scope == "adjacent":
                    if text[end:hit.begin].strip() == "":
                        out[cue.assertion] = True
                    continue
                s, _ = _clause_bounds(text, hit.begin, [])
                if begin >= s and not self._blocked(end, hit.begin):
                    out[cue.assertion] = True
            elif cue.direction == "forward" and hit.end <= begin:
                if cue.scope == "line":
                    line_end = text.find("\n", hit.end)
                    line_end = len(text) if line_end < 0 else line_end
                    if end <= line_end:
                        out[cue.assertion] = True
                else:
                    _, e = _clause_bounds(text, hit.end, [])
                    if end <= e and not self._blocked(hit.end, begin):
                        out[cue.assertion] = True
        if section in _SECTION_ASSERTIONS:
            out[_SECTION_ASSERTIONS[section]] = True
        return out
