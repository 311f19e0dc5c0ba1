"""Body regions by word formation: a noun of three or more syllables ending in the region suffix 부 names a body region
even when no list has it (대퇴부, 안면부, 인후부, 후경부, 골절부) — the anatomy list has 대퇴골, not every region word
notes write. The offices and directions written the same way (약제부, 대부분) are listed in compound_rules.tsv."""

from __future__ import annotations

import re

from services.domain import Category
from services.extraction.local import wordform
from services.extraction.local.lexicon import Lexicon, Match, Term
from services.extraction.local.resources import rows

# The word, then nothing or a particle the note writes after a noun (대퇴부에서, 안면부는): wordform.JOSA.
_REGION = re.compile(r"(?<![가-힣])(?P<w>[가-힣]{2,5}부)(?=(?:" + "|".join(map(re.escape, wordform.JOSA)) + r")?(?![가-힣]))")
_NOT_REGION = frozenset(w for r in rows("compound_rules.tsv") if r[0] == "not_region" for w in r[1].split())
_REGION_TERM = Term("", Category.ANATOMY, "", None, None, None, 4, False, False)


def is_region(word: str, lexicon: Lexicon) -> bool:
    """An unlisted region word (a listed one keeps its own category; 복부 and 흉부 are listed), its stem a site or
    nothing the vocabulary knows."""
    if len(word) < 3 or not word.endswith("부") or word in _NOT_REGION or lexicon.term_for(word) is not None:
        return False
    stem = lexicon.term_for(word[:-1])
    # 대퇴 → 대퇴부, 골절 → 골절부 (the fracture site), 병변부; a drug or test + 부 is no place on the body.
    return stem is None or stem.category in (Category.ANATOMY, Category.DIAGNOSIS, Category.SYMPTOM)


def region_words(text: str, lexicon: Lexicon) -> list[Match]:
    return [Match(m.start("w"), m.end("w"), _REGION_TERM._replace(surface=m.group("w"), normalized=m.group("w")))
            for m in _REGION.finditer(text) if is_region(m.group("w"), lexicon)]
