"""Drug names no list carries, found by how notes write drugs rather than by the name itself.

Brands and new generics keep appearing (LENVIMA, COBENFY, TIRZEPATIDE) and foreign-market products are missing from
HIRA's lists, but notes name drugs in a few fixed ways:
- an alias in brackets beside a known drug: "DENOSUMAB(상품명: PROLIA)", "AGALSIDASE BETA (FABRAZYME)";
- a capitalised name followed by a dose: "TIRZEPATIDE 5mg", "REBIF 44 mcg" (a lab unit, mg/dL, is a result);
- an all-capitals name followed by what is done with a drug: "LENVIMA 복용", "CABOMETYX의 용량".
Words in drug_context.tsv. A name the vocabulary knows in another category (CT, CRP) is never taken.
"""

from __future__ import annotations

import re

from services.extraction.local import wordform
from services.extraction.local.categories import MEDICATION
from services.extraction.local.lexicon import Lexicon, Match, Term
from services.extraction.local.resources import rows

_ROWS: dict[str, list[str]] = {}
for _r in rows("drug_context.tsv"):
    if len(_r) >= 2:
        _ROWS.setdefault(_r[0], []).extend(_r[1].split())
_NOT_NAME = frozenset(_ROWS.get("not_name", ()))


def _alternation(kind: str) -> str:
    return "|".join(map(re.escape, sorted(_ROWS.get(kind, []), key=len, reverse=True))) or "(?!)"


# A Latin drug name: up to five words, the first of three or more characters (ADDERALL XR, GLYCOL-EPOETIN BETA).
_CAPS_REST = r"[A-Z0-9-]{2,}(?:[ \t][A-Z][A-Z0-9-]+){0,4}"  # after the first capital
_ANY_NAME = r"[A-Z][A-Za-z0-9-]{2,}(?:[ \t][A-Za-z][A-Za-z0-9-]+){0,4}"
_DOSE = rf"[ \t]*\d+(?:\.\d+)?[ \t]*(?:{_alternation('dose_unit')})(?![A-Za-z]|/(?!kg|m2|m²))"
# Both scans open with the name's first capital and test the character before it after that (the lookbehind spans
# the capital too): re then skips ahead to capitals instead of trying the lookbehind at every position of the note.
# Same matches as (?<![A-Za-z0-9/.-])(?P<name>[A-Z]{_CAPS_REST}|[A-Z][a-z]{4,}), about half the time per scan.
_NAME_START = r"[A-Z](?<![A-Za-z0-9/.-].)"
_BY_DOSE = re.compile(rf"(?P<name>{_NAME_START}(?:{_CAPS_REST}|[a-z]{{4,}}))(?={_DOSE})")
_BY_USE = re.compile(rf"(?P<name>{_NAME_START}{_CAPS_REST})(?=(?:{_alternation('particle')})?[ \t]?(?:{_alternation('use')}))")
_LABEL = rf"(?:(?:{_alternation('alias_label')})[ \t]*[:：]?[ \t]*)?"
# The alias may follow the drug's subtype: INTERFERON BETA-1A (REBIF).
_ALIAS_AFTER = re.compile(rf"(?:[ \t][A-Z0-9][A-Za-z0-9-]*){{0,2}}[ \t]*\([ \t]*{_LABEL}(?P<name>{_ANY_NAME})[ \t]*\)")
_FREQUENCY = re.compile(r"Q\d*[A-Z]{0,2}\d*[HDW]?", re.IGNORECASE)  # Q3W, Q6H, QOW, QD: how often, not what
_CAPS_WORD = re.compile(r"[ \t](?P<w>[A-Z][A-Z0-9-]*[A-Z0-9])(?![A-Za-z0-9])")
_CLOSE = re.compile(r"[ \t]*\)")
_ALIAS_BEFORE = re.compile(rf"(?<![A-Za-z0-9-])(?P<name>{_ANY_NAME})[ \t]*\([ \t]*{_LABEL}$")


_DOSE_AFTER = re.compile(_DOSE)


def dose_follows(text: str, pos: int) -> bool:
    """A dose (5mg, 44 mcg) and not a lab unit (mg/dL) follows pos: what stands before it is a drug."""
    return _DOSE_AFTER.match(text, pos) is not None


def _term(name: str) -> Term:
    return Term(name, MEDICATION, name.lower(), None, None, None, 5, True, False)


def _new_name(name: str, lexicon: Lexicon) -> bool:
    """Not a word the vocabulary files under another category (CT 복용 is no drug), nor a dose-like token."""
    if any(w.lower() in _NOT_NAME or _FREQUENCY.fullmatch(w) for w in name.split()) or name.lower() in wordform.SALTS_EN:
        return False
    known = lexicon.term_for(name)
    if known is not None:
        return known.category is MEDICATION
    return all(not ((t := lexicon.term_for(w)) is not None and t.category is not MEDICATION) for w in name.split())


def drug_names(text: str, found: list[Match], lexicon: Lexicon) -> list[Match]:
    out: list[Match] = []
    for pattern in (_BY_DOSE, _BY_USE):
        for m in pattern.finditer(text):
            name = m.group("name")
            if _new_name(name, lexicon):
                out.append(Match(m.start("name"), m.end("name"), lexicon.term_for(name) or _term(name)))
    for drug in found:
        if drug.term.category is not MEDICATION:
            continue
        surface = text[drug.begin:drug.end]
        if surface.isascii() and surface.isupper():
            # INTERFERON BETA-1A, ADDERALL XR: capital words after a drug written in capitals are its subtype or form.
            end = drug.end
            for _ in range(2):
                tail = _CAPS_WORD.match(text, end)
                if tail is None or not (tail.group("w").lower() in wordform.SALTS_EN or _new_name(tail.group("w"), lexicon)):
                    break
                end = tail.end()
            if end > drug.end:
                out.append(Match(drug.begin, end, drug.term))
        after = _ALIAS_AFTER.match(text, drug.end)
        if after is not None and _new_name(after.group("name"), lexicon):
            out.append(Match(after.start("name"), after.end("name"), _term(after.group("name"))))
        before = _ALIAS_BEFORE.search(text, max(0, drug.begin - 80), drug.begin)
        if before is not None and _CLOSE.match(text, drug.end) and _new_name(before.group("name"), lexicon):
            out.append(Match(before.start("name"), before.end("name"), _term(before.group("name"))))
    return out
