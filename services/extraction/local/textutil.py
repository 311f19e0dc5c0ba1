"""Small text helpers shared by the engine's matchers."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import product
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

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
_BEGIN, _END = attrgetter("begin"), attrgetter("end")


def leftmost_longest(spans: Iterable[S]) -> list[S]:
    """Non-overlapping spans, left to right, the longest winning at each start — the usual
    dictionary-matching rule ("이상 소견 없음" over the "없음" inside it)."""
    out: list[S] = []
    pos = 0
    # By begin, then longest first: two stable sorts keyed in C (ends descending, then begins) order spans as one
    # sort on (begin, -length) would, ties kept in input order, ~35% faster than a Python key function.
    for span in sorted(sorted(spans, key=_END, reverse=True), key=_BEGIN):
        if span.begin >= pos:
            out.append(span)
            pos = span.end
    return out


V = TypeVar("V")
# Lone surrogates: a str may hold them, UTF-8 (which the automaton searches) cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


_DFA_MAX_WORDS = 5000


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
        # A small set searches faster as a DFA (one table lookup a byte; builds in a millisecond or two); the
        # vocabulary's would take seconds to build and far more memory, so it keeps the library's default.
        implementation = ahocorasick_rs.Implementation.DFA if len(keys) <= _DFA_MAX_WORDS else None
        self._automaton = ahocorasick_rs.AhoCorasick(keys, implementation=implementation)
        used = set("".join(keys))
        self._filler = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in used)

    def find(self, text: str) -> list[tuple[int, int, int]]:
        try:
            return self._automaton.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:
            # A surrogate is in no word, and neither is the filler (a private-use character no word has): the same
            # occurrences at the same offsets.
            return self._automaton.find_matches_as_indexes(_SURROGATE.sub(self._filler, text), overlapping=True)


# re's own parser (private, so loaded by name and typed loosely): required_substrings reads a pattern's structure.
try:
    _sre: Any = importlib.import_module("re._parser")
    _sre_c: Any = importlib.import_module("re._constants")
except ImportError:  # another Python: no prefilter, every pattern runs
    _sre = _sre_c = None
_MAX_FIXED = 64  # strings a fixed piece may spell before it counts as not fixed


def _fixed(items: Sequence[Any]) -> set[str] | None:
    """Every string a sequence of parsed items can match, when that is a small finite set (literals, small
    classes, alternations and fixed repeats of those); else None."""
    out = {""}
    for op, av in items:
        spelled: set[str] | None
        if op is _sre_c.LITERAL:
            spelled = {chr(av)}
        elif op is _sre_c.IN:
            spelled = set()
            for item_op, item_av in av:
                if item_op is _sre_c.LITERAL:
                    spelled.add(chr(item_av))
                elif item_op is _sre_c.RANGE and item_av[1] - item_av[0] < 8:
                    spelled.update(map(chr, range(item_av[0], item_av[1] + 1)))
                else:
                    return None
        elif op is _sre_c.SUBPATTERN and not av[1] & re.IGNORECASE:
            spelled = _fixed(av[-1])
        elif op is _sre_c.BRANCH:
            spelled = set()
            for alternative in av[1]:
                alt = _fixed(alternative)
                if alt is None:
                    return None
                spelled |= alt
        elif op is _sre_c.MAX_REPEAT and av[0] == av[1] <= 3:
            one = _fixed(av[2])
            spelled = None if one is None else {"".join(p) for p in product(one, repeat=av[0])}
        else:
            return None
        if spelled is None:
            return None
        out = {a + b for a in out for b in spelled}
        if len(out) > _MAX_FIXED:
            return None
    return out


def _required(items: Sequence[Any]) -> set[str] | None:
    """Strings one of which is in any text a sequence of parsed items matches somewhere in (within the match, or
    in a lookahead), or None when no such set is found. Of the candidates, the one whose shortest string is
    longest (the most selective)."""
    best: set[str] | None = None

    def consider(candidate: set[str] | None) -> None:
        nonlocal best
        if candidate and all(candidate) and (best is None or (min(map(len, candidate)), -len(candidate))
                                             > (min(map(len, best)), -len(best))):
            best = candidate

    for i in range(len(items)):
        for j in range(i + 1, len(items) + 1):
            spelled = _fixed(items[i:j])
            if spelled is None:
                break
            consider(spelled)
    for op, av in items:
        if op is _sre_c.SUBPATTERN and not av[1] & re.IGNORECASE:
            consider(_required(av[-1]))
        elif op is _sre_c.BRANCH:
            alternatives = [_required(alt) for alt in av[1]]
            if all(alt is not None for alt in alternatives):
                consider(set().union(*alternatives))  # type: ignore[arg-type]
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            consider(_required(av[2]))
        elif op is _sre_c.ASSERT and av[0] == 1:  # a positive lookahead's text is in the text too
            consider(_required(av[1]))
    return best


def required_substrings(*patterns: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which occurs in every text any of the patterns matches anywhere in, derived from the
    patterns themselves (so it follows them when they change); None when no such set is found. A text holding
    none of them cannot match: a cheap prefilter."""
    if _sre is None:
        return None
    out: set[str] = set()
    for pattern in patterns:
        if pattern.flags & re.IGNORECASE:
            return None
        found = _required(list(_sre.parse(pattern.pattern, pattern.flags)))
        if found is None:
            return None
        out |= found
    return frozenset(out)
