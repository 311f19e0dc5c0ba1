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

# A word of two syllables or more followed by one space and another such word (only then can it start a term written
# apart), opening with a syllable so re skips ahead to Hangul before testing the character before the word.
_WORD = re.compile(r"[가-힣](?<![가-힣].)[가-힣]+(?= [가-힣]{2})")
_NEXT = re.compile(r" ([가-힣]{2,})(?![가-힣])")


def spaced_terms(text: str, lexicon: Lexicon) -> list[Match]:
    out: list[Match] = []
    starts = lexicon.spaced_starts()
    get = lexicon.korean_terms().get  # Korean surfaces need no case folding
    for m in _WORD.finditer(text):
        joined, begin, pos = m.group(), m.start(), m.end()
        if joined + text[pos + 1] not in starts:
            continue  # it and the next word's first syllable start no glued term: one set lookup for most words
        for _ in range(2):
            nxt = _NEXT.match(text, pos)  # one plain space, then the next word
            if nxt is None:
                break
            word = nxt.group(1)
            stem = wordform.strip_josa(word)
            # The word as written first (포화도 ends in the particle-like 도), then without its particle.
            part, term = word, get(joined + word)
            if term is None and stem != word and len(stem) >= 2:
                part, term = stem, get(joined + stem)
            if term is not None:
                stop = nxt.start(1) + len(part)
                if get(text[begin:stop]) is None:
                    out.append(Match(begin, stop, term))
            if stem != word and part == stem:
                break  # a particle ends the noun phrase
            joined, pos = joined + word, nxt.end()
    return out
