"""English term islands in Korean prose: "<AE>Infusion related reaction</AE>이 발생", "Poisoning deliberate로 내원".

Korean notes write a clinical term they did not translate as a short run of English words with Korean on both
sides. The whole run is the term (its word order is the terminology's, "Amylase increased", not English
grammar's), so when one of its words heads a clinical phrase (word formation, english_heads.tsv) or the vocabulary
knows it, the run is one mention. Its category comes from its head; a run ending or starting in a result word
("QT prolonged", "Decreased appetite") is a finding, the guideline's symptom. Runs that open in an abbreviation or hold
an ALL-CAPS word (drug names) are left to the other stages.
"""

from __future__ import annotations

import re

from services.domain import Category
from services.extraction.local.compounds import english_head
from services.extraction.local.lexicon import Lexicon, Match, Term
from services.extraction.local.resources import rows

_RESULT_WORDS = frozenset(w for r in rows("english_heads.tsv") if r[0] == "result" for w in r[2].split())
# A run of 1–5 English words joined by single spaces, with no Latin letter, digit or English punctuation
# continuing it on either side (then it is part of an English sentence or a list, not an island).
_RUN = re.compile(r"[A-Za-z](?<![A-Za-z0-9.,/&(+-][A-Za-z])(?<![A-Za-z0-9] [A-Za-z])[A-Za-z'^-]*(?: [A-Za-z][A-Za-z'^-]*){0,4}"
                  r"(?![A-Za-z0-9/&+-])(?! [A-Za-z0-9])")
_BEFORE_OK = re.compile(r"(?:^|[가-힣\s(\[\"'‘“·,:])$")
_AFTER_OK = re.compile(r"^(?:$|[가-힣\s)\]\"'’”·,.:])")
_MAX_WORDS = 5
_TITLE = re.compile(r"[A-Z][a-z]{2,}")


def _category(lexicon: Lexicon, words: list[str]) -> Category | None:
    lows = [w.lower() for w in words]
    if len(words) >= 2 and (lows[-1] in _RESULT_WORDS or lows[0] in _RESULT_WORDS):
        return Category.SYMPTOM
    for word in reversed(words):
        found = english_head(lexicon, word)
        if found is not None:
            return found[0]
    return None


def english_islands(text: str, lexicon: Lexicon) -> list[Match]:
    out: list[Match] = []
    for m in _RUN.finditer(text):
        surface = m.group()
        words = surface.split(" ")
        if (len(words) < 2 or len(words) > _MAX_WORDS or not _TITLE.fullmatch(words[0])
                or any(len(w) >= 4 and w.isupper() for w in words)):
            # One word is the compound finder's; lower-case runs are English prose; a run opening in an abbreviation
            # is ward shorthand (RI sliding scale, RUL bronchus stapling), whose parts the other stages find.
            continue
        if not _BEFORE_OK.search(text[max(0, m.start() - 1):m.start()]) or not _AFTER_OK.match(text[m.end():m.end() + 1]):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        if not line.strip("*#:() \t").replace(surface, "").strip("*#:() \t"):
            continue  # a run alone on its line is a title (Discharge Progress)
        if not re.search(r"[가-힣]", text[max(0, m.start() - 60):m.start()] + text[m.end():m.end() + 60]):
            continue  # an island has Korean around it

        known = lexicon.term_for(surface)
        category = known.category if known is not None and known.category is not Category.ANATOMY else _category(lexicon, words)
        if category is None or category in (Category.ANATOMY, Category.MEDICATION):
            continue
        term = known if known is not None and known.category is category else Term(
            surface, category, surface.lower(), None, None, None, 5, True, False)
        out.append(Match(m.start(), m.end(), term))
    return out
