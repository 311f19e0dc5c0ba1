"""Terms written with a space the vocabulary does not have: 산소 포화도 for 산소포화도, 신생아 황달 for 신생아황달.

Korean spacing inside a compound term is free, and build-vocab can only generate the variants it can foresee (before
a free head: 혈액 검사 ↔ 혈액검사). Here two or three neighbouring words, each of two syllables or more, are joined
and looked up whole (the last one without its particle); a hit is the term, spanning the words as written. One dict
lookup per word and join: no new list, and any term of any category gets every spacing.
"""

from __future__ import annotations

import re

from services.extraction.local import wordform
from services.extraction.local.lexicon import Lexicon, Match

_WORD = re.compile(r"[가-힣]{2,}")


def spaced_terms(text: str, lexicon: Lexicon) -> list[Match]:
    out: list[Match] = []
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    for i, (begin, end, first) in enumerate(words):
        joined, last_end = first, end
        for j in range(i + 1, min(i + 3, len(words))):
            b, e, word = words[j]
            if b != last_end + 1 or text[last_end] != " ":
                break  # one plain space between the words, nothing else
            stem = wordform.strip_josa(word)
            # The word as written first (포화도 ends in the particle-like 도), then without its particle.
            for part in dict.fromkeys((word, stem)):
                term = lexicon.term_for(joined + part) if len(part) >= 2 else None
                if term is not None:
                    if lexicon.term_for(text[begin:b + len(part)]) is None:
                        out.append(Match(begin, b + len(part), term))
                    break
            if stem != word and lexicon.term_for(joined + word) is None:
                break  # a particle ends the noun phrase
            joined, last_end = joined + word, e
    return out
