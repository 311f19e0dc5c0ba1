"""Device and site procedures: a device, line or body site followed by a procedural action noun is one procedure
mention (도뇨관 삽입, Foley catheter 삽입, JP drain 제거, IV line 확보, 드레싱 교환, 복강 세척).

The action nouns (삽입, 제거, 확보…) are too generic to be heads on their own (제거 예정), and devices are too many
to list; the pair is what a clinician marks. The words are data: procedure_actions.tsv.
"""

from __future__ import annotations

import re

from services.domain import Category
from services.extraction.local.lexicon import Lexicon, Match, Term
from services.extraction.local.resources import rows

_ROWS = {r[0]: r[1].split() for r in rows("procedure_actions.tsv") if len(r) >= 2}
_ACTIONS = sorted(_ROWS.get("action", []), key=len, reverse=True)
_DEVICE_KO = tuple(_ROWS.get("device", []))
_DEVICE_EN = frozenset(_ROWS.get("device_en", []))
_QUALIFIERS = frozenset(_ROWS.get("qualifier", []))
_ACTION = re.compile("|".join(map(re.escape, _ACTIONS)) or "(?!)")
_EN_WORDS = re.compile(r"(?:[A-Za-z][A-Za-z0-9/-]*[ \t]){0,3}[A-Za-z][A-Za-z0-9/-]*$")
_KO_WORDS = re.compile(r"(?:(?P<q>[가-힣]+)[ \t])?(?P<w>[가-힣]+)$")


def _device_en(word: str) -> bool:
    return word.lower().rsplit("-", 1)[-1] in _DEVICE_EN  # L-tube, C-line


def _english_object(before: str) -> str | None:
    """The device words at the end of ``before`` and the short abbreviation or name right before them (IV line,
    JP drain, Foley catheter, NG tube); None when the last word names no device."""
    m = _EN_WORDS.search(before)
    if m is None:
        return None
    words = m.group().split()
    if not _device_en(words[-1]):
        return None
    i = len(words) - 1
    while i > 0 and _device_en(words[i - 1]):
        i -= 1
    if i > 0 and (words[i - 1].isupper() or words[i - 1][:1].isupper()) and len(words[i - 1]) <= 8:
        i -= 1
    return " ".join(words[i:])


def _korean_object(lexicon: Lexicon, before: str) -> str | None:
    m = _KO_WORDS.search(before)
    if m is None:
        return None
    word = m.group("w")
    term = lexicon.term_for(word)
    if not ((len(word) >= 2 and word.endswith(_DEVICE_KO)) or (
            term is not None and term.category in (Category.ANATOMY, Category.PROCEDURE))):
        return None
    return m.group() if m.group("q") in _QUALIFIERS else word


def device_actions(text: str, lexicon: Lexicon) -> list[Match]:
    out: list[Match] = []
    for m in _ACTION.finditer(text):
        # The action follows its object directly or after one space or tab.
        at = m.start() - 1 if m.start() and text[m.start() - 1] in " \t" else m.start()
        if at == 0 or not (text[at - 1].isalnum() and (text[at - 1].isascii() or "가" <= text[at - 1] <= "힣")):
            continue
        before = text[max(0, at - 40):at]
        obj = _english_object(before) or _korean_object(lexicon, before)
        if obj is None or not before.endswith(obj):
            continue
        start = at - len(obj)
        surface = text[start:m.end()]
        out.append(Match(start, m.end(), Term(surface, Category.PROCEDURE, surface, None, None, None, 3, False, False)))
    return out
