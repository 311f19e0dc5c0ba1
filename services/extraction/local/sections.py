"""Section detection: a heading at the start of a line opens a section until the next one."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from services.extraction.local.resources import rows


@dataclass(frozen=True)
class Section:
    name: str
    begin: int  # start of the heading
    body: int  # first character after the heading


def _heading_regex() -> re.Pattern[str]:
    alts: list[tuple[str, str]] = []
    for row in rows("sections.tsv"):
        for pat in row[0].split("|"):
            alts.append((pat.strip(), row[1].strip()))
    alts.sort(key=lambda pc: -len(pc[0]))
    groups = "|".join(f"(?P<s{i}>{re.escape(p)})" for i, (p, _) in enumerate(alts))
    _NAMES.clear()
    _NAMES.extend(name for _, name in alts)
    # Short headings (S, O, A, P, CC) need a colon or bracket; longer ones may stand alone on a line.
    return re.compile(
        rf"^[ \t]*(?:[#*\-\d.]+\s*)?[\[【<(]?\s*(?:{groups})\s*[\]】>)]?\s*(?P<sep>[:：)]|\n|$|-\s)",
        re.IGNORECASE | re.MULTILINE,
    )


_NAMES: list[str] = []
_HEADING = _heading_regex()


def _line_matches(text: str) -> list[re.Match[str]]:
    # Headings only start lines: try the pattern at each line start, not at every character.
    out = []
    pos = 0
    while pos <= len(text):
        m = _HEADING.match(text, pos)
        if m:
            out.append(m)
        nl = text.find("\n", pos)
        if nl < 0:
            break
        pos = nl + 1
    return out


def find_sections(text: str) -> list[Section]:
    out: list[Section] = []
    for m in _line_matches(text):
        group = next(k for k, v in m.groupdict().items() if v is not None and k.startswith("s"))
        label = m.group(group)
        sep = m.group("sep")
        if len(label) <= 2 and sep not in (":", "：", ")"):
            continue  # a bare "S" or "A" line is not a heading
        body = m.end() if sep not in ("\n",) else m.end()
        out.append(Section(_NAMES[int(group[1:])], m.start(), body))
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
