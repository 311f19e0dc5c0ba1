"""Dictionary matching of clinical terms with Korean-aware boundaries.

Candidates are found by a two-character index instead of morphology over every character:
for each position one dict lookup, then ``startswith`` over the few terms sharing that prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from services.domain import Category
from services.extraction.local import wordform
from services.extraction.local.categories import ANATOMY, DIAGNOSIS, MEDICATION, PROCEDURE, SYMPTOM, TEST
from services.extraction.local.resources import rows
from services.extraction.local.textutil import Occurrences, ascii_lower, leftmost_longest

_FILES = {
    SYMPTOM: ["symptoms.tsv", "generated/kcd_symptoms.tsv"],
    DIAGNOSIS: ["diagnoses.tsv", "generated/kcd.tsv"],
    MEDICATION: ["medications.tsv", "generated/drugs.tsv"],
    TEST: ["tests.tsv", "generated/tests.tsv"],
    PROCEDURE: ["procedures.tsv", "generated/procedures.tsv"],
    ANATOMY: ["anatomy.tsv", "generated/anatomy.tsv"],
}
_CODE_SYSTEM = {Category.DIAGNOSIS: "KCD-7", Category.MEDICATION: "ATC", Category.SYMPTOM: "KCD-7"}
# Curated files win over generated ones for the same surface form.
_PRIORITY = {"symptoms.tsv": 0, "diagnoses.tsv": 0, "medications.tsv": 0, "tests.tsv": 0,
             "procedures.tsv": 0, "anatomy.tsv": 1, "generated/kcd_symptoms.tsv": 2, "generated/kcd.tsv": 2,
             "generated/drugs.tsv": 2, "generated/tests.tsv": 3, "generated/procedures.tsv": 3, "generated/anatomy.tsv": 4}

# Modifiers that may be written glued to a term ("급성위염", "우측무릎").
_GLUE_PREFIXES = ("급성", "만성", "재발성", "반복성", "지속성", "간헐적", "경증", "중증", "우측", "좌측", "양측",
                  "전신", "다발성", "미만성", "심한", "경미한", "상", "하", "좌", "우", "양", "소아", "노인성")
_VALUE_AFTER = re.compile(r"[ \t]*[:=]?[ \t]*[-+]?\d")
_JOSA = ("이", "가", "은", "는", "을", "를", "에", "의", "도", "과", "와", "로", "으로", "만", "쪽", "부", "서")


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


# An ASCII letter, digit or underscore (ch is one character): a set lookup, not a call, in the per-hit loop.
_ASCII_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _by_char(words: Iterable[str], index: int) -> dict[str, tuple[str, ...]]:
    """Words grouped by their first (index 0) or last (-1) character: ``text.startswith(table.get(text[i], ()), i)``
    is ``text.startswith(words, i)`` trying only the words that can match there (ENDINGS has over a hundred)."""
    out: dict[str, tuple[str, ...]] = {}
    for w in words:
        if not w:
            raise ValueError("an empty word would match everywhere")
        out[w[index]] = (*out.get(w[index], ()), w)
    return out


_GLUE_BY_LAST = _by_char(_GLUE_PREFIXES, -1)
_JOSA_BY_FIRST = _by_char(_JOSA, 0)
_ENDINGS_BY_FIRST = _by_char(wordform.ENDINGS, 0)


class Term(NamedTuple):
    """A vocabulary word and what it means. A named tuple, like Match: the vocabulary builds ~76,000 at start-up
    and the phrase stages more per note, ~4× faster than a frozen dataclass."""

    surface: str
    category: Category
    normalized: str
    code: str | None
    code_system: str | None
    kind: str | None  # tests: vital/lab/imaging…
    priority: int
    ascii: bool
    case_sensitive: bool


class Match(NamedTuple):
    """A term found at [begin, end). A named tuple: notes make hundreds, and it builds ~4× faster than a
    frozen dataclass."""

    begin: int
    end: int
    term: Term


def _add(by_surface: dict[str, Term], surface: str, category: Category, normalized: str, code: str | None,
         kind: str | None, priority: int) -> None:
    is_ascii = surface.isascii()
    # Short English abbreviations are case-sensitive (MI ≠ mi); longer words are not.
    case_sensitive = is_ascii and len(surface) <= 4 and surface.upper() == surface
    key = surface if case_sensitive or not is_ascii else surface.lower()
    term = Term(surface, category, normalized, code, _CODE_SYSTEM.get(category) if code else None, kind, priority,
                is_ascii, case_sensitive)
    old = by_surface.get(key)
    # On a tie a named disease beats the symptom chapter (섬망, 열성 경련 are both in KCD).
    if old is None or priority < old.priority or (
            priority == old.priority and category is DIAGNOSIS and old.category is SYMPTOM):
        by_surface[key] = term


class Lexicon:
    def __init__(self) -> None:
        by_surface: dict[str, Term] = {}
        for category, files in _FILES.items():
            for fname in files:
                prio = _PRIORITY[fname]
                for row in rows(fname):
                    if len(row) < 3:
                        continue
                    normalized, code, synonyms = row[0].strip(), row[1].strip() or None, row[2]
                    kind = None
                    if category is TEST:
                        kind, code = code or None, None
                    elif category in (PROCEDURE, ANATOMY):
                        code = None
                    for surface in {s.strip() for s in synonyms.split("|") if s.strip()} | {normalized}:
                        _add(by_surface, surface, category, normalized, code, kind, prio)
        # Generic words and ward abbreviations: one file for every category, below the curated term lists.
        for row in (r for name in ("generic.tsv", "abbreviations.tsv") for r in rows(name)):
            if len(row) >= 3:
                for surface in {s.strip() for s in row[2].split("|") if s.strip()}:
                    _add(by_surface, surface, Category(row[0]), row[1], None, None, 1)
        self.size = len(by_surface)
        self._by_surface = by_surface
        self._spaced_starts: frozenset[str] | None = None
        grouped: dict[str, list[Term]] = {}
        for key, term in by_surface.items():
            # ASCII-only lowering through bytes, as ascii_lower (str.translate is ~10× slower at start-up).
            grouped.setdefault(key.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass"), []).append(term)
        entries: dict[str, tuple[tuple[Term, ...], Term, bool]] = {}
        for key, terms in grouped.items():
            ordered = tuple(terms) if len(terms) == 1 else tuple(sorted(terms, key=lambda t: (not t.case_sensitive, t.priority)))
            # (terms, first term, ASCII key): what find needs per hit, in one unpacking.
            entries[key] = (ordered, ordered[0], ordered[0].ascii)
        self._occurrences = Occurrences(entries)

    def _boundary_ok(self, text: str, begin: int, end: int, term: Term) -> bool:
        before = text[begin - 1] if begin > 0 else " "
        after = text[end] if end < len(text) else " "
        if term.ascii:
            if before in _ASCII_WORD or after in _ASCII_WORD:
                return False
            # One- or two-letter lab abbreviations (K, Na, Cr) only count next to a value; imaging (CT, US) is no lab.
            if len(term.surface) <= 2 and term.category is TEST and term.kind != "imaging":
                return _VALUE_AFTER.match(text, end) is not None
            return True
        if _is_hangul(before):
            # (before is Hangul, so begin > 0 and text[begin - 1] ends any prefix written there)
            if len(term.surface) < 3 and not text.endswith(_GLUE_BY_LAST.get(before, ()), 0, begin):
                return False
        if len(term.surface) == 1:
            # A single syllable (배, 간, 목) only as a word of its own or with a particle.
            return not _is_hangul(after) or text.startswith(_JOSA_BY_FIRST.get(after, ()), end)
        if _is_hangul(after) and _is_hangul(text[end + 1:end + 2]):
            # Two or more syllables glued after a term must be a particle or an ending (간염으로,
            # 출혈되어), not the rest of another word (안정적, 호흡기내과, 폐렴구균).
            return text.startswith(_ENDINGS_BY_FIRST.get(after, ()), end)
        return True

    def term_for(self, surface: str) -> Term | None:
        """The vocabulary term written exactly so (ASCII case folded as in matching), if any."""
        return self._by_surface.get(surface) or self._by_surface.get(surface.lower())

    def korean_terms(self) -> dict[str, Term]:
        """Surface → term (for Korean surfaces, which need no case folding: term_for without its second lookup)."""
        return self._by_surface

    def spaced_starts(self) -> frozenset[str]:
        """Every way a glued Korean term of four syllables or more can begin with a word of two or more plus the first
        syllable of the next word (산소포 of 산소포화도, written 산소 포화도): a word whose pair with the next word's
        first syllable is none of these starts no term written apart (spacing.py). Built on first use (~0.07 s)."""
        if self._spaced_starts is None:
            self._spaced_starts = frozenset(key[:cut] for key in self._by_surface if len(key) >= 4 and " " not in key
                                            and key.isalpha() and not key.isascii() for cut in range(3, len(key)))
        return self._spaced_starts

    def find(self, text: str) -> list[Match]:
        """Longest non-overlapping matches, left to right.

        Aho-Corasick (Rust) finds every dictionary hit in one pass; Python only checks the
        boundaries of the few hits there are. ASCII-only lowering keeps offsets identical.
        """
        lowered = ascii_lower(text)
        candidates: list[Match] = []
        append = candidates.append
        size = len(text)
        boundary_ok = self._boundary_ok
        values = self._occurrences.values
        new = tuple.__new__  # Match(...) runs the named tuple's Python __new__: ~3× the time for ~70 hits a note
        for index, begin, end in self._occurrences.find(lowered):
            terms, head, ascii_key = values[index]
            length = end - begin
            # The usual hits decided here with _boundary_ok's answer (the terms of one key are all Korean or all
            # ASCII, and of one length): inside an English word, a short Korean term inside a Korean word, or a
            # Korean term of 2+ syllables that is a word of its own. Tests written out: ~70 hits a note.
            before = text[begin - 1] if begin else " "
            after = text[end] if end < size else " "
            if ascii_key:
                if before in _ASCII_WORD or after in _ASCII_WORD:
                    continue
            else:
                hangul_before = "\uac00" <= before <= "\ud7a3" or "\u3131" <= before <= "\u318e"
                if hangul_before and length < 3 and not text.endswith(_GLUE_BY_LAST.get(before, ()), 0, begin):
                    continue
                if length >= 2 and not hangul_before and not ("\uac00" <= after <= "\ud7a3" or "\u3131" <= after <= "\u318e"):
                    append(new(Match, (begin, end, head)))
                    continue
            for term in terms:
                if term.case_sensitive and text[begin:end] != term.surface:
                    continue
                if boundary_ok(text, begin, end, term):
                    append(new(Match, (begin, end, term)))
                    break
        return leftmost_longest(candidates)
