"""Small text helpers shared by the engine's matchers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

# ASCII-only case folding keeps offsets identical (str.lower can change a string's length).
ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


def ascii_lower(text: str) -> str:
    return text.translate(ASCII_LOWER)


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
