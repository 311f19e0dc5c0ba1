"""Small text helpers shared by the engine's matchers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Generic, Protocol, TypeVar

import ahocorasick_rs

# ASCII-only case folding keeps offsets identical (str.lower can change a string's length).
ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


@lru_cache(maxsize=8)
def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, keeping every offset. Cached: the lexicon and the ConText cues lower the
    same note text, and a str caches its own hash. bytes.lower() folds only A-Z and every byte of a multi-byte
    UTF-8 character is ≥ 0x80, so the round trip lowers ASCII alone (surrogatepass: any str survives it), ~5×
    faster than a regex substitution with a callback per capitalised run."""
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


@lru_cache(maxsize=8)
def line_starts(text: str) -> tuple[int, ...]:
    """Offsets where the lines of ``text`` begin (cached like ascii_lower: several stages walk the lines)."""
    out = [0]
    nl = text.find("\n")
    while nl >= 0:
        out.append(nl + 1)
        nl = text.find("\n", nl + 1)
    return tuple(out)


class _Span(Protocol):
    @property
    def begin(self) -> int: ...
    @property
    def end(self) -> int: ...


S = TypeVar("S", bound=_Span)


def leftmost_longest(spans: Iterable[S]) -> list[S]:
    """Non-overlapping spans, left to right, the longest winning at each start — the usual
    dictionary-matching rule ("이상 소견 없음" over the "없음" inside it)."""
    out: list[S] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s.begin, s.begin - s.end)):
        if span.begin >= pos:
            out.append(span)
            pos = span.end
    return out


V = TypeVar("V")
# Lone surrogates: a str may hold them, UTF-8 (which the automaton searches) cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


class Occurrences(Generic[V]):
    """Every occurrence of a set of words in a text, overlapping ones too: ``find(text)`` lists (index, begin, end),
    the word's value being ``values[index]``, in no order a caller should rely on.

    ahocorasick_rs (Rust, a wrapper of the widely used aho-corasick crate) rather than pyahocorasick: pyahocorasick
    looks a character up among a trie node's children one by one, so each character that starts no word scans all
    of the root's (~700 for the vocabulary); ~5× faster on a note for the vocabulary, 2–6× for the small sets."""

    __slots__ = ("values", "_automaton", "_filler")

    def __init__(self, words: Mapping[str, V]) -> None:
        keys = [w for w in words if w]  # an empty word matches nowhere (as in pyahocorasick)
        self.values = [words[k] for k in keys]
        self._automaton = ahocorasick_rs.AhoCorasick(keys)
        used = set("".join(keys))
        self._filler = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in used)

    def find(self, text: str) -> list[tuple[int, int, int]]:
        try:
            return self._automaton.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:
            # A surrogate is in no word, and neither is the filler (a private-use character no word has): the same
            # occurrences at the same offsets.
            return self._automaton.find_matches_as_indexes(_SURROGATE.sub(self._filler, text), overlapping=True)
