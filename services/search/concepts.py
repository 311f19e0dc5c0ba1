"""Concept expansion from the local engine's vocabularies: 흉통 = 가슴 통증 = chest pain = R07.4.

The same TSV files the engine matches with (curated and generated: KCD-9, HIRA drugs/ATC, tests, procedures,
anatomy, generic words, ward abbreviations) are read row by row: a row is one concept (a normalized name, perhaps
a code, and its surface forms). A query word expands to every row it names, one hop (no transitive closure, which
would join unrelated concepts through shared short forms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from services.domain import Category
from services.extraction.local.lexicon import _FILES as VOCABULARY_FILES
from services.extraction.local.resources import rows

# KCD (R07.4, I21, R07) and ATC (N02BE01, C09AA) codes, as written on an entity or in a query.
CODE = re.compile(r"^(?:[A-Z]\d{2}(?:\.\d{1,3})?|[A-Z]\d{2}[A-Z]{1,2}(?:\d{2})?)$")
_CODED = {Category.DIAGNOSIS, Category.SYMPTOM, Category.MEDICATION}


def is_code(word: str) -> bool:
    return CODE.match(word.strip().upper()) is not None and any(c.isdigit() for c in word)


@dataclass(frozen=True)
class Concept:
    category: str
    normalized: str
    code: str | None
    surfaces: frozenset[str]


@dataclass
class Expansion:
    """What one query word stands for."""

    terms: set[str] = field(default_factory=set)  # normalized names, lower-cased
    codes: set[str] = field(default_factory=set)
    surfaces: set[str] = field(default_factory=set)  # every written form, for full text

    def __bool__(self) -> bool:
        return bool(self.terms or self.codes)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


class Vocabulary:
    def __init__(self, concepts: list[Concept]) -> None:
        self.concepts = concepts
        self._by_form: dict[str, list[int]] = {}
        self._by_code: dict[str, list[int]] = {}
        for i, c in enumerate(concepts):
            for form in c.surfaces | {c.normalized}:
                self._by_form.setdefault(_key(form), []).append(i)
                self._by_form.setdefault(_key(form).replace(" ", ""), []).append(i)
            if c.code:
                self._by_code.setdefault(c.code.upper(), []).append(i)

    @classmethod
    def from_engine_files(cls) -> Vocabulary:
        concepts: list[Concept] = []
        for category, files in VOCABULARY_FILES.items():
            for name in files:
                for row in rows(name):
                    if len(row) < 3 or not row[0].strip():
                        continue
                    code = row[1].strip() or None if category in _CODED else None
                    surfaces = frozenset(s.strip() for s in row[2].split("|") if s.strip())
                    concepts.append(Concept(category.value, row[0].strip(), code, surfaces))
        for name in ("generic.tsv", "abbreviations.tsv"):
            for row in rows(name):
                if len(row) >= 3:
                    surfaces = frozenset(s.strip() for s in row[2].split("|") if s.strip())
                    concepts.append(Concept(row[0].strip(), row[1].strip(), None, surfaces))
        return cls(concepts)

    def expand(self, word: str) -> Expansion:
        """Every concept the word names (a surface form, a normalized name or a code; spacing ignored)."""
        out = Expansion()
        hits = list(self._by_form.get(_key(word), []))
        if not hits:
            hits = self._by_form.get(_key(word).replace(" ", ""), [])
        if is_code(word):
            code = word.strip().upper()
            hits = hits + self._by_code.get(code, [])
            out.codes.add(code)
        for i in dict.fromkeys(hits):
            c = self.concepts[i]
            out.terms.add(c.normalized.lower())
            out.surfaces.update(c.surfaces | {c.normalized})
            if c.code:
                out.codes.add(c.code.upper())
        return out

    def name_of(self, code: str) -> str | None:
        hits = self._by_code.get(code.upper())
        return self.concepts[hits[0]].normalized if hits else None


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The process-wide vocabulary (read once; about a second)."""
    return Vocabulary.from_engine_files()
