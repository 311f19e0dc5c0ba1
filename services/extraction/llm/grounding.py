"""Locating an LLM's mention in the source: exact first, then ignoring spacing and ASCII case; when the text
repeats, the occurrence nearest the model's hint. A mention found nowhere is kept, flagged ``grounded=False``."""

from __future__ import annotations

import re


def _occurrences(text: str, mention: str) -> list[tuple[int, int]]:
    out = []
    start = text.find(mention)
    while start >= 0:
        out.append((start, start + len(mention)))
        start = text.find(mention, start + 1)
    if out:
        return out
    # 혈액검사 ↔ 혈액 검사, CT ↔ ct: any spacing between the characters, ASCII case ignored.
    chars = [re.escape(c) for c in mention if not c.isspace()]
    if not chars:
        return []
    pattern = re.compile(r"\s*".join(chars), re.IGNORECASE)
    return [m.span() for m in pattern.finditer(text)]


def ground(text: str, mention: str, hint: int | None = None, taken: set[tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """(begin, end) of the mention in text, or None. ``taken`` holds spans already given to an identical
    mention, so a word the model lists twice lands on its two places."""
    spans = _occurrences(text, mention.strip())
    if not spans:
        return None
    free = [s for s in spans if not taken or s not in taken] or spans
    if hint is None:
        return free[0]
    return min(free, key=lambda s: abs(s[0] - hint))
