"""Small text helpers shared by the engine's matchers."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol, TypeVar

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
