"""Section detection: a heading at the start of a line opens a section until the next one.

A heading is an optional bullet/number, an optional bracket, a label from sections.tsv and a
separator (':', ')' or the end of the line). Labels are looked up by their first character
instead of one large case-insensitive regex, which was the engine's slowest stage.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from services.extraction.local.resources import rows
from services.extraction.local.textutil import ascii_lower


@dataclass(frozen=True)
class Section:
    name: str
    begin: int  # start of the heading
    body: int  # first character after the heading
    label: tuple[int, int] = (-1, -1)  # the heading's label (without lead and separator); (-1, -1) when unknown


def _labels() -> dict[str, list[tuple[str, str]]]:
    by_first: dict[str, list[tuple[str, str]]] = {}
    for row in rows("sections.tsv"):
        for label in row[0].split("|"):
            label = label.strip().lower()
            if label:
                by_first.setdefault(label[0], []).append((label, row[1].strip()))
    for labels in by_first.values():
        labels.sort(key=lambda lc: -len(lc[0]))
    return by_first


_BY_FIRST = _labels()
_LEAD = re.compile(r"[ \t]*(?:[#*\-•\d.]+\)?[ \t]*)?[\[【<(]?[ \t]*")
_SEP = re.compile(r"[ \t]*[\]】>)]?[ \t]*(?P<sep>[:：)]|-[ \t]|$)", re.MULTILINE)


def _heading_at(text: str, lowered: str, pos: int) -> Section | None:
    lead = _LEAD.match(text, pos)
    start = lead.end() if lead else pos
    if start >= len(text):
        return None
    for label, name in _BY_FIRST.get(lowered[start], ()):
        if not lowered.startswith(label, start):
            continue
        end = start + len(label)
        if end < len(text) and (text[end].isalnum() and text[end].isascii() or "가" <= text[end] <= "힣"):
            continue  # "PE" is not the start of "PERRL", "소견" not of "소견서"
        sep = _SEP.match(text, end)
        if not sep:
            continue
        mark = sep.group("sep")
        if len(label) <= 2 and mark not in (":", "：", ")"):
            continue  # a bare "S" or "A" line is not a heading
        return Section(name, pos, sep.end(), (start, end))
    return None


def find_sections(text: str) -> list[Section]:
    lowered = ascii_lower(text)
    out: list[Section] = []
    pos = 0
    while pos < len(text):
        section = _heading_at(text, lowered, pos)
        if section is not None:
            out.append(section)
        nl = text.find("\n", pos)
        if nl < 0:
            break
        pos = nl + 1
    return out


class SectionIndex:
    def __init__(self, sections: list[Section]) -> None:
        self._starts = [s.begin for s in sections]
        self._sections = sections

    def at(self, offset: int) -> str | None:
        i = bisect_right(self._starts, offset) - 1
        return self._sections[i].name if i >= 0 else None

    def headings(self) -> list[tuple[int, int]]:
        return [(s.begin, s.body) for s in self._sections]

    def labels(self) -> set[tuple[int, int]]:
        """The heading labels' spans: an exam label that is a whole heading (V/S:, 신체검사:) is one of them."""
        return {s.label for s in self._sections}
