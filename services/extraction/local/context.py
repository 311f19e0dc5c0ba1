"""ConText-style assertions (negated, uncertain, historical, family, hypothetical) driven by data rules.

Korean cues mostly follow the concept inside the clause ("두통 없음", "폐렴 의심"), so each cue
has a direction; scopes stop at sentence ends and at terminators such as 있고 / 하지만.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from services.domain import Category
from services.extraction.local.categories import PHI
from services.extraction.local.resources import rows
from services.extraction.local.textutil import ASCII_LOWER, Occurrences, ascii_lower, leftmost_longest, line_starts

# A newline, or a stop before whitespace or the end. Written to open with one character class, so re scans for it.
_SENTENCE_END = re.compile(r"[.!;。\n](?:(?<=\n)|(?=\s|$))")
_SECTION_ASSERTIONS = {"past_history": "historical", "family_history": "family"}
# A drug, test or body site under a past-history heading is today's too (metformin still taken).
_SECTION_CATEGORIES = frozenset({Category.SYMPTOM, Category.DIAGNOSIS, Category.PROCEDURE})
_VALUES = {c: c.value for c in Category}
# A warning's condition follows its finding closely ("출혈이나 코피가 나면", "저혈당 증상(식은땀, 손떨림)이 나타나면").
_HYPOTHETICAL_REACH = 20
_CONNECTIVES = ("하며", "하고", "되며", "되고", "이며", "으며")


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


def _cue_spellings(cues: list[Cue]) -> dict[str, Cue]:
    """All cue spellings (ASCII case-folded; with and without their inner spaces). A spelling two cues share is the
    later cue's."""
    spellings: dict[str, Cue] = {}
    for cue in cues:
        for variant in {cue.text, cue.text.replace(" ", "")}:
            spellings[variant.translate(ASCII_LOWER)] = cue
    return spellings


def _is_syllable(ch: str) -> bool:
    return "가" <= ch <= "힣"


def _short_word_ok(text: str, begin: int, end: int) -> bool:
    """A one-syllable Korean cue (무, 유) must stand alone: 무릎 and 유방 are not cues."""
    before = text[begin - 1] if begin else " "
    after = text[end] if end < len(text) else " "
    return not _is_syllable(before) and not _is_syllable(after)


def _cue_boundary_ok(text: str, begin: int, end: int, cue: Cue) -> bool:
    before = text[begin - 1] if begin else " "
    after = text[end] if end < len(text) else " "
    if len(cue.text) == 1 and _is_syllable(cue.text):
        return _short_word_ok(text, begin, end)
    if cue.text.isascii() and cue.text.isupper() and len(cue.text) <= 2:
        # Short capital marks ("두통 X") are case-sensitive and stand alone ("x3d" is not one).
        return text[begin:end] == cue.text and not after.isalnum() and not before.isalnum()
    if cue.text[0].isascii() and cue.text[0].isalpha():
        return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())
    if cue.direction == "forward":
        return not ("가" <= before <= "힣")
    return True


CUES = _load_cues()
_TERMINATORS = [r[0] for r in rows("context_terminators.tsv")]
# Cue spellings and terminators in one Aho-Corasick automaton, so finding both is one native pass over the lowered
# text: each spelling maps to (its cue, whether it is an English-word terminator), None where it is not one.
# Terminators: an English word must stand alone; a spelling two share is the later one's.
_SPELLINGS: dict[str, tuple[Cue | None, bool | None]] = {key: (cue, None) for key, cue in _cue_spellings(CUES).items()}
for _t in _TERMINATORS:
    _key = _t.translate(ASCII_LOWER)
    _SPELLINGS[_key] = (_SPELLINGS.get(_key, (None, None))[0], _t[0].isascii() and _t[0].isalpha())
_WORDS = Occurrences(_SPELLINGS)


@lru_cache(maxsize=2)
def _occurrences(lowered: str) -> list[tuple[int, int, int]]:
    """The cue and terminator spellings in a lowered note (cached: find_cues and find_terminators read one note)."""
    return _WORDS.find(lowered)


def find_terminators(text: str) -> list[tuple[int, int]]:
    out = []
    values = _WORDS.values
    for index, begin, end in _occurrences(ascii_lower(text)):
        wordlike = values[index][1]
        if wordlike is None:
            continue
        length = end - begin
        if wordlike and ((begin and text[begin - 1].isascii() and text[begin - 1].isalpha())
                         or (end < len(text) and text[end].isascii() and text[end].isalpha())):
            continue
        if length == 1 and _is_syllable(text[begin]) and not _short_word_ok(text, begin, end):
            continue
        out.append((begin, end))
    return sorted(out)
# "3일 전부터 두통, 발열은 없음": after a comma, a single item marked with the topic/contrast particle (은/는) is the
# subject of the negation that follows; the mentions before the comma are not negated. A coordinated item
# ("흡연 및 음주력은", "기침이나 가래는") or a bare list ("기침, 가래, 발열 없음") still negates the whole list.
_TOPIC_AFTER_COMMA = re.compile(
    r"[,，][ \t]*(?:(?!및|또는|혹은|이나|or\b|and\b)[^,，/&\n])*?[가-힣A-Za-z)](?<!이나)(?<!거나)[은는][ \t]*$")

# Words that contain a cue but are not one (산부인과 is not 부인, 정상화 is not 정상).
_PSEUDO = re.compile(r"산부인과|부인과|음성\s*(?:녹음|인식|파일)|정상화|not only|no change|없이\s*지내")


class CueHit(NamedTuple):
    """A cue found at [begin, end). A named tuple like lexicon.Match: ~20 a note, ~4× faster to build than a frozen
    dataclass, and read per mention."""

    begin: int
    end: int
    cue: Cue


def find_cues(text: str) -> list[CueHit]:
    pseudo = [(m.start(), m.end()) for m in _PSEUDO.finditer(text)]
    found = []
    values = _WORDS.values
    for index, begin, end in _occurrences(ascii_lower(text)):
        cue = values[index][0]
        if cue is not None and _cue_boundary_ok(text, begin, end, cue) and not (pseudo and any(pb <= begin < pe for pb, pe in pseudo)):
            found.append(CueHit(begin, end, cue))
    return leftmost_longest(found)


_PROXIES = [(re.compile(r[0]), frozenset(r[1].split())) for r in rows("proxy_callers.tsv") if len(r) >= 2]


def _patient_relations(text: str) -> frozenset[str]:
    """Relation words that name the patient in this note because a relative speaks for them."""
    out: set[str] = set()
    for pattern, words in _PROXIES:
        if pattern.search(text):
            out |= words
    return frozenset(out)


class Assertions:
    """Computes assertion flags for spans of one text.

    Sentence and line boundaries are computed once per text; each entity then only looks at
    the cues of its own sentence (or line, for heading-like cues such as 과거력:).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        patient = _patient_relations(text)
        # The experiencer follows who the finding belongs to: a daughter calling about her mother's symptoms
        # makes the mother the patient, so 어머니 is no family cue in that note.
        self.cues = [h for h in find_cues(text) if not (h.cue.assertion == "family" and h.cue.text in patient)]
        self.terminators = find_terminators(text)
        self._term_starts = [t[0] for t in self.terminators]
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        self._sent_starts = [0, *ends]
        self._line_starts = line_starts(text)
        self._by_sentence: dict[int, list[CueHit]] = {}
        self._by_line: dict[int, list[CueHit]] = {}
        self._scope_cache: dict[tuple[int, int], tuple[CueHit, ...]] = {}
        for hit in self.cues:
            key = bisect_right(self._sent_starts, hit.begin) - 1
            self._by_sentence.setdefault(key, []).append(hit)
            self._by_line.setdefault(bisect_right(self._line_starts, hit.begin) - 1, []).append(hit)

    def _cues_at(self, sentence: int, line: int) -> tuple[CueHit, ...]:
        """The cues of a sentence, then the line-scoped cues of its line not already among them (cached: a
        note's mentions share a few sentences)."""
        key = (sentence, line)
        hits = self._scope_cache.get(key)
        if hits is None:
            candidates = self._by_sentence.get(sentence, [])
            line_cues = [h for h in self._by_line.get(line, []) if h.cue.scope == "line"]
            hits = (*candidates, *(h for h in line_cues if h not in candidates))
            self._scope_cache[key] = hits
        return hits

    def _blocked(self, a: int, b: int) -> bool:
        """True when a terminator sits wholly between a and b."""
        i = bisect_left(self._term_starts, a)
        while i < len(self.terminators) and self.terminators[i][0] < b:
            if self.terminators[i][1] <= b:
                return True
            i += 1
        return False

    def flags(self, begin: int, end: int, category: Category, section: str | None) -> dict[str, bool]:
        out = {"negated": False, "uncertain": False, "historical": False, "family": False, "other": False,
               "hypothetical": False}
        if category is PHI:
            return out
        text = self.text
        sentence = bisect_right(self._sent_starts, begin) - 1
        line = bisect_right(self._line_starts, begin) - 1
        value = _VALUES[category]  # (Category.value is an enum property, ~10× a dict lookup on Python 3.11)
        # A predicate mention ending in a connective (불규칙하며, 건조하고) closes its own clause: a cue after it is
        # about the next finding ("심음은 불규칙하며 잡음 없음").
        closed = text.endswith(_CONNECTIVES, begin, end)
        for hit in self._cues_at(sentence, line):
            cue = hit.cue
            if cue.applies_to is not None and value not in cue.applies_to:
                continue
            if hit.begin < end and begin < hit.end:
                continue  # the cue is part of the mention itself
            if cue.assertion == "hypothetical" and (
                    text.startswith("서", hit.end) or hit.begin - end > _HYPOTHETICAL_REACH
                    or (cue.text.startswith("시") and hit.begin > end and not text[hit.begin - 1].isspace())):
                # "두통이 있으면서" (while, not if); a warning far along the clause is about something else; 즉시, 당시
                # are no "when".
                continue
            if cue.direction == "backward" and hit.begin >= end:
                if closed:
                    continue
                if cue.scope == "adjacent":
                    if text[end:hit.begin].strip() == "":
                        out[cue.assertion] = True
                elif not self._blocked(end, hit.begin) and not (
                        cue.assertion == "negated" and _TOPIC_AFTER_COMMA.search(text, end, hit.begin)):
                    out[cue.assertion] = True
            elif cue.direction == "forward" and hit.end <= begin:
                if cue.scope == "line" or not self._blocked(hit.end, begin):
                    out[cue.assertion] = True
        if section in _SECTION_ASSERTIONS and category in _SECTION_CATEGORIES:
            out[_SECTION_ASSERTIONS[section]] = True
        return out
