"""Attributes read right after a mention: lab/vital values and units, medication dosage,
frequency, route and duration."""

from __future__ import annotations

import re

_UNITS = (
    r"mg/dL|mg/dl|g/dL|g/dl|mmol/L|mEq/L|U/L|IU/L|ng/mL|ng/ml|pg/mL|pg/ml|mg/L|μIU/mL|uIU/mL|mIU/L|"
    r"mL/min/1\.73\s?m2|mL/min|x10\^3/uL|x10\^3/μL|10\^3/uL|/uL|/μL|K/uL|mmHg|bpm|회/분|/min|℃|°C|%|kg|cm|mm|"
    r"K|k|mg|g|L"
)
_VALUE = re.compile(
    r"^[\s:=]*(?:은|는|이|가|:)?\s*"
    r"(?P<value>[<>≤≥]?\s?-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?/\s?\d+(?:\.\d+)?)?)"
    rf"\s?(?P<unit>{_UNITS})?(?![A-Za-z\d])"
)
_RESULT = re.compile(r"^\s*[:]?\s*(?P<result>\(\s*[-+]\s*\)|양성|음성|정상|positive|negative)")

# The four patterns below search a short window after each drug (~6 a note). Each opens with one character class, or a
# lookahead holding every character its alternatives can begin with (keep it in step when an alternative is added), so
# a position that starts none is turned down with one test instead of trying every alternative: same matches (checked
# against the former patterns on every window of 600 notes and 200,000 random strings), ~10 → ~6 µs per drug.
# _DOSAGE's lookbehind comes after its first digit (it spans that digit), as in (?<![\d.])\d+.
_DOSAGE = re.compile(r"\d(?<![\d.]\d)\d*(?:\.\d+)?\s?(?:mg|g|mcg|μg|㎎|mL|ml|IU|units?|정|T|tab|캡슐|cap|포|앰플|amp|병|cc)(?![A-Za-z])")
_FREQUENCY = re.compile(
    r"(?=[\d하일tbqhpTBQHP매아식취필])(?:"
    r"1일\s?\d+\s?회|하루\s?\d+\s?(?:번|회)|하루\s?(?:한|두|세|네)\s?번|일\s?\d+\s?회|\d+\s?회/일|\d+\s?x\s?\d"
    r"|(?<![A-Za-z])(?:tid|bid|qd|qid|qod|hs|prn|TID|BID|QD|QID|HS|PRN|q\d+h|Q\d+H)(?![A-Za-z])"
    r"|\d+\s?시간마다|매\s?\d+\s?시간|아침\s?저녁|식후\s?\d+\s?분|취침\s?전|필요\s?시)"
)
_ROUTE = re.compile(
    r"(?=[pPiIsS경정근피외도흡패점설])(?:(?<![A-Za-z])(?:po|PO|p\.o\.|IV|iv|IM|SC|sc|SL|inh)(?![A-Za-z])|경구|정맥(?:주사|투여)?|근육주사|근주|피하주사|피하|외용|도포|흡입|패치|점안|설하)"
)
_DURATION = re.compile(r"(?=[\dx])(?:\d+\s?(?:일|주|개월)\s?(?:분|간|동안)|x\s?\d+\s?(?:days|d|일)|\d+\s?days?)")


def measurement(text: str, end: int) -> dict[str, str]:
    """Value and unit right after a test mention: 'LDL Cholesterol: 160 mg/dL', '혈압 150/90 mmHg'."""
    window = text[end:end + 30].split("\n", 1)[0]
    m = _VALUE.match(window)
    if m:
        out = {"value": m.group("value").replace(" ", "")}
        if m.group("unit"):
            out["unit"] = m.group("unit")
        return out
    r = _RESULT.match(window)
    return {"result": r.group("result")} if r else {}


def medication(text: str, end: int, stop: int) -> dict[str, str]:
    """Dosage, frequency, route and duration between a drug mention and the next one (same line)."""
    window = text[end:min(stop, end + 60)].split("\n", 1)[0]
    out: dict[str, str] = {}
    for key, pattern in (("dosage", _DOSAGE), ("frequency", _FREQUENCY), ("route", _ROUTE), ("duration", _DURATION)):
        m = pattern.search(window)
        if m:
            out[key] = m.group(0).strip()
    return out
