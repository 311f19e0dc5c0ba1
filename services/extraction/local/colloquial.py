"""Colloquial symptom expressions ("머리가 깨질 듯이 아파요" → 두통, "속이 메스꺼워요" → 오심).

Morphology is what makes these work (irregular stems: 메스꺼워요 → 메스껍), but running
kiwipiepy over every character is too slow for batch throughput, so a cheap surface prefilter
finds likely expressions and only a few words around each are tokenized.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from services.extraction.local.resources import rows
from services.extraction.local.textutil import Occurrences

_JONGSEONG_BASE = 0xAC00


def jamo(syllable: str) -> tuple[int, int, int] | None:
    code = ord(syllable) - _JONGSEONG_BASE
    if not 0 <= code < 11172:
        return None
    return code // 588, (code % 588) // 28, code % 28


def compose(initial: int, medial: int, final: int = 0) -> str:
    return chr(_JONGSEONG_BASE + initial * 588 + medial * 28 + final)


# medial indices: ㅏ0 ㅓ4 ㅕ6 ㅗ8 ㅜ13 ㅡ18 ㅣ20; final ㅂ17 ㅅ19 ㅆ20
def conjugated_prefixes(stem: str) -> set[str]:
    """Surface prefixes a conjugated stem starts with: 아프 → 아프/아파/아팠, 어지럽 → 어지러,
    저리 → 저려/저렸, 답답하 → 답답해/답답했. Only a prefilter, so over-generation is fine."""
    head, last = stem[:-1], stem[-1]
    out = {stem}
    j = jamo(last)
    if j is None:
        return out
    ini, med, fin = j
    if fin == 17:  # ㅂ-irregular: 어지럽 → 어지러(워), 춥 → 추워
        out.add(head + compose(ini, med) if head else compose(ini, med) + "워")
        if not head:
            out.add(compose(ini, med) + "웠")
    elif fin == 19:  # ㅅ-irregular: 붓 → 부(어)
        out.add(head + compose(ini, med) + "어")
        out.add(head + compose(ini, med) + "었")
    elif fin == 0:
        variants = {18: (0, 4), 20: (6,), 8: (9,), 13: (14,)}.get(med, ())
        if last == "하":
            variants = (1,)  # 해
        for v in variants:
            out.add(head + compose(ini, v))
            out.add(head + compose(ini, v, 20))
        out.add(head + compose(ini, med, 8))  # adnominal ㄹ: 토할, 아플
        out.add(head + compose(ini, med, 4))  # adnominal ㄴ: 아픈
    return out


@dataclass(frozen=True)
class Rule:
    subjects: frozenset[str] | None  # None: the predicate alone is enough
    predicate: tuple[str, ...]  # words; the last one is a lemma (stem)
    normalized: str


@cache
def _any_of(words: frozenset[str]) -> re.Pattern[str]:
    """One pattern for a subject set: its first match is where the first of the words occurs."""
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def _load() -> tuple[list[Rule], Occurrences[tuple[re.Pattern[str] | None, ...]]]:
    """The rules, and one Aho-Corasick automaton over every written predicate form: each form maps to the
    subject sets that must stand shortly before it (None: the predicate alone is enough)."""
    rules: list[Rule] = []
    by_form: dict[str, list[frozenset[str] | None]] = {}
    for subj, preds, normalized in rows("colloquial.tsv"):
        subjects = None if subj.strip() == "*" else frozenset(subj.split("|"))
        for pred in preds.split("|"):
            words = tuple(pred.split())
            rules.append(Rule(subjects, words, normalized.strip()))
            # Prefilter on one written word: the last (the predicate) after a subject, else the
            # first ("토할 것 같아요" is found by 토할; 같아요 alone is everywhere).
            for form in conjugated_prefixes(words[-1] if subjects is not None or len(words) == 1 else words[0]):
                by_form.setdefault(form, []).append(subjects)
    return rules, Occurrences({form: tuple(None if s is None else _any_of(s) for s in subject_sets)
                               for form, subject_sets in by_form.items()})


RULES, PREFILTER = _load()
# A common noun (열, 속, 목) only matters with its predicate close behind it.
_SUBJECT_GAP = 14
RULES_BY_STEM: dict[str, list[Rule]] = {}
for _rule in RULES:
    RULES_BY_STEM.setdefault(_rule.predicate[-1], []).append(_rule)
for _rules in RULES_BY_STEM.values():  # subject rules first, then the longest predicate
    _rules.sort(key=lambda r: (r.subjects is None, -len(r.predicate)))
BODY_WORDS = frozenset(
    s.strip() for row in rows("anatomy.tsv") for s in row[2].split("|") if s.strip() and not s.isascii()
)
_SENTENCE = re.compile(r"[^.!?\n]+")
_STOP = re.compile(r"[.!?\n]")
_kiwi: Any = None
_kiwi_lock = threading.Lock()


def kiwi() -> Any:
    """The process-wide analyser; loading the model takes about a second, so do it once."""
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                # The typo and multi-word dictionaries add ~200 MB and nothing these short
                # windows need; without them the process stays well under 500 MB.
                _kiwi = Kiwi(load_typo_dict=False, load_multi_dict=False)
    return _kiwi


@lru_cache(maxsize=4096)
def analyse(chunk: str) -> tuple[Any, ...]:
    """kiwipiepy's tokens for one window, cached: notes repeat their phrasings (about 45% of the windows of the
    4,000 synthetic notes recur), and kiwipiepy is by far the slowest step per character."""
    return tuple(kiwi().tokenize(chunk))


@dataclass(frozen=True)
class Colloquial:
    begin: int
    end: int
    normalized: str
    negated: bool


def _match_predicate(tokens: Sequence[Any], i: int, rule: Rule) -> bool:
    words = rule.predicate
    if tokens[i].form != words[-1]:
        return False
    j = i - 1
    for word in reversed(words[:-1]):
        if j < 0 or tokens[j].form != word:
            return False
        j -= 1
    return True


def _prefilter_hits(text: str) -> list[tuple[int, int]]:
    """(start, end) of likely expressions: a predicate form alone, or one with its subject at most a few
    characters before it in the same sentence. One native pass finds every predicate form."""
    hits: list[tuple[int, int]] = []
    stops: list[int] | None = None
    values = PREFILTER.values
    for index, begin, end in PREFILTER.find(text):
        subject_sets = values[index]
        start: int | None = None
        for subjects in subject_sets:
            if subjects is None:
                start = begin if start is None else start
                continue
            # The subject starts at most _SUBJECT_GAP characters (plus its own few) before the predicate, in
            # the same sentence.
            lo = max(0, begin - _SUBJECT_GAP - 4)
            if stops is None:
                stops = [m.start() for m in _STOP.finditer(text)]
            i = bisect_left(stops, begin) - 1
            window_start = stops[i] + 1 if i >= 0 and stops[i] >= lo else lo
            first = subjects.search(text, window_start, begin)
            if first is not None and (start is None or first.start() < start):
                start = first.start()
        if start is not None:
            hits.append((start, end))
    return sorted(hits)


def _windows(text: str) -> list[tuple[int, str]]:
    """Small spans around prefilter hits, within one sentence: two words before the hit (a
    subject, 안/못, 살살) and two after (…지 않아요, …ㄹ 것 같아요). Analysing these instead of whole sentences
    keeps morphology off the hot path."""
    spans: list[list[int]] = []
    sentences = [m.span() for m in _SENTENCE.finditer(text)]
    starts = [b for b, _ in sentences]
    for hit_begin, hit_end in _prefilter_hits(text):
        i = bisect_right(starts, hit_begin) - 1
        if i < 0:
            continue
        s_begin, s_end = sentences[i]
        if hit_end > s_end:
            continue
        begin = hit_begin
        for _ in range(3):  # back to the start of this word, then two more words
            prev = text.rfind(" ", s_begin, begin - 1) if begin > s_begin else -1
            begin = prev + 1 if prev >= 0 else s_begin
            if begin == s_begin:
                break
        end = hit_end
        limit = min(s_end, hit_end + 12)  # short windows keep kiwipiepy cheap
        for _ in range(3):  # to the end of this word and the next two
            nxt = text.find(" ", end + 1, limit)
            end = nxt if nxt >= 0 else limit
        if spans and begin <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([begin, end])
    return [(b, text[b:e]) for b, e in spans]


def find_colloquial(text: str) -> list[Colloquial]:
    out: list[Colloquial] = []
    for base, chunk in _windows(text):
        tokens = analyse(chunk)
        for i, tok in enumerate(tokens):
            if not tok.tag.startswith("V") or tok.form not in RULES_BY_STEM:
                continue
            hit: tuple[Rule, int | None] | None = None
            for rule in RULES_BY_STEM[tok.form]:
                if not _match_predicate(tokens, i, rule):
                    continue
                # The nearest noun before the predicate's first word is its likely subject.
                subject_idx = _subject(tokens, i - len(rule.predicate) + 1)
                if rule.subjects is None:
                    if subject_idx is not None and tokens[subject_idx].form in BODY_WORDS:
                        hit = (rule, subject_idx)  # "다리가 저려요": the body part belongs to the symptom
                    else:
                        hit = (rule, None)
                    break
                if subject_idx is not None and tokens[subject_idx].form in rule.subjects:
                    hit = (rule, subject_idx)
                    break
            if hit is None:
                continue
            rule, sidx = hit
            begin = tokens[sidx].start if sidx is not None else tokens[i - len(rule.predicate) + 1].start
            end = tok.start + tok.len
            k = i + 1
            while k < len(tokens) and tokens[k].tag.startswith("E") and tokens[k].start <= end:
                end = max(end, tokens[k].start + tokens[k].len)
                k += 1
            negated = any(t.form in ("안", "못") and t.tag == "MAG" for t in tokens[max(0, i - 2):i])
            negated = negated or any(t.form == "않" for t in tokens[i + 1:i + 4])
            new = Colloquial(base + begin, base + end, rule.normalized, negated)
            if out and new.begin < out[-1].end:
                prev = out[-1]
                if prev.normalized == new.normalized:
                    # "머리가 깨질 듯이 아파요": two predicates, one symptom.
                    new = Colloquial(prev.begin, max(prev.end, new.end), new.normalized, prev.negated or new.negated)
                    out.pop()
                elif new.end - new.begin > prev.end - prev.begin:
                    out.pop()  # "토할 것 같아요" (nausea) over the "토할" (vomiting) inside it
                else:
                    continue
            out.append(new)
    return out


def _subject(tokens: Sequence[Any], first: int) -> int | None:
    """Index of the nearest content noun before token `first`, within the clause."""
    for j in range(first - 1, max(-1, first - 8), -1):
        if tokens[j].tag in ("EC", "EF") and tokens[j].form not in ("ᆯ", "ㄹ"):
            return None
        if tokens[j].tag.startswith("NN") and tokens[j].tag != "NNB":
            return j
    return None
