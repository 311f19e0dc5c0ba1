"""Normal-result (and abnormal-state) statements about any exam item: a short noun phrase at the start of a clause followed by a
normal-result word is one negated finding (지남력 유지됨, CMS intact, knee jerk 정상, 귀는 괜찮네요), whether or not
the vocabulary knows the item. Words in normal_statements.tsv."""

from __future__ import annotations

import re

from services.domain import Category
from services.extraction.local.lexicon import Match, Term
from services.extraction.local.resources import rows

_ROWS = {r[0]: r[1].split() for r in rows("normal_statements.tsv") if len(r) >= 2}
_NORMAL = sorted(_ROWS.get("normal", []), key=len, reverse=True)
# Abnormal-state words make the same kind of statement a finding that is present (보행 불가, 심음은 불규칙하며).
_ABNORMAL = frozenset(_ROWS.get("abnormal", []))
_STATES = sorted([*_NORMAL, *_ABNORMAL], key=len, reverse=True)
_NOT_SUBJECT = frozenset(_ROWS.get("not_subject", []))
_WORD = r"(?:[가-힣]{1,8}|[A-Za-z][A-Za-z/.-]{1,15})"
# Anchored on the normal-result word (one C scan finds them), then the statement's subject is matched backwards
# from it: the clause start, a short noun phrase, an optional particle and one or two spaces.
_NORMAL_WORD = re.compile(r"(?<=[ \t])(?P<state>" + ("|".join(map(re.escape, _STATES)) or "(?!)") + r")(?P<ending>[가-힣]{0,4})"
                          r"(?=[ \t]*(?:$|[\n,.;)/·])|(?<=[고며나만])[ \t])")
_SUBJECT = re.compile(
    r"(?:^|(?<=[\n,.;:/·(]))[ \t]*(?:[-•*▶]\s*)?"
    rf"(?P<subject>{_WORD}(?:[ \t·]{_WORD}){{0,2}}?)(?:(?:은|는|이|가|도)?[ \t]{{1,2}}|[ \t]*[:：][ \t]*)$")
_PARTICLE = re.compile(r"(?:은|는|이|가|도)$")


def normal_statements(text: str) -> list[Match]:
    out: list[Match] = []
    for m in _NORMAL_WORD.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        subject_match = _SUBJECT.search(text, max(line_start, m.start() - 60), m.start())
        if subject_match is None:
            continue
        subject = subject_match.group("subject")
        words = re.split(r"[ \t·]", _PARTICLE.sub("", subject))
        if any(w in _NOT_SUBJECT for w in words) or subject in _NOT_SUBJECT:
            continue
        begin = subject_match.start("subject")
        surface = text[begin:m.end()]
        state = m.group("state")
        out.append(Match(begin, m.end(), Term(surface, Category.SYMPTOM, state if state in _ABNORMAL else "정상",
                                              None, None, None, 3, False, False)))
    return out
