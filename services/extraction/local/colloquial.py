"""Colloquial symptom expressions ("머리가 깨질 듯이 아파요" → 두통, "속이 메스꺼워요" → 오심).

Morphology is what makes these work (irregular stems: 메스꺼워요 → 메스껍), but running
kiwipiepy over every character is too slow for batch throughput, so a cheap surface prefilter
picks the sentences worth analysing and only those are tokenized.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from services.extraction.local.resources import rows

_JONGSEONG_BASE = 0xAC00


def _drop_final(syllable: str) -> str:
    code = ord(syllable) - _JONGSEONG_BASE
    if 0 <= code < 11172 and code % 28:
        return chr(ord(syllable) - code % 28)
    return syllable


@dataclass(frozen=True)
class Rule:
    subjects: frozenset[str] | None  # None: the predicate alone is enough
    predicate: tuple[str, ...]  # words; the last one is a lemma (stem)
    normalized: str


def _load() -> tuple[list[Rule], re.Pattern[str]]:
    rules: list[Rule] = []
    cues: set[str] = set()
    for subj, preds, normalized in rows("colloquial.tsv"):
        subjects = None if subj.strip() == "*" else frozenset(subj.split("|"))
        for pred in preds.split("|"):
            words = tuple(pred.split())
            rules.append(Rule(subjects, words, normalized.strip()))
            if subjects is not None:
                cues.update(subjects)
            else:
                stem = words[-1]
                cues.add(stem)
                if len(stem) >= 2:
                    cues.add(stem[:-1] + _drop_final(stem[-1]))  # 어지럽 → 어지러, 가렵 → 가려
                else:
                    cues.update({_drop_final(stem) + "어", _drop_final(stem) + "었", stem + "고"})
    prefilter = re.compile("|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True)))
    return rules, prefilter


RULES, PREFILTER = _load()
_SENTENCE = re.compile(r"[^.!?\n]+")
_kiwi: Any = None
_kiwi_lock = threading.Lock()


def kiwi() -> Any:
    """The process-wide analyser; loading the model takes about a second, so do it once."""
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                _kiwi = Kiwi()
    return _kiwi


@dataclass(frozen=True)
class Colloquial:
    begin: int
    end: int
    normalized: str
    negated: bool


def _match_predicate(tokens: list[Any], i: int, rule: Rule) -> bool:
    words = rule.predicate
    if tokens[i].form != words[-1]:
        return False
    j = i - 1
    for word in reversed(words[:-1]):
        if j < 0 or tokens[j].form != word:
            return False
        j -= 1
    return True


def find_colloquial(text: str) -> list[Colloquial]:
    out: list[Colloquial] = []
    for sent in _SENTENCE.finditer(text):
        chunk = sent.group(0)
        if not PREFILTER.search(chunk):
            continue
        base = sent.start()
        tokens = kiwi().tokenize(chunk)
        for i, tok in enumerate(tokens):
            if not tok.tag.startswith("V"):
                continue
            hit: tuple[Rule, int | None] | None = None
            # The nearest noun before the predicate in the same clause is its likely subject.
            subject_idx = None
            for j in range(i - 1, max(-1, i - 8), -1):
                if tokens[j].tag in ("EC", "EF") and tokens[j].form not in ("ᆯ", "ㄹ"):
                    break
                if tokens[j].tag.startswith("NN") and tokens[j].tag != "NNB":
                    subject_idx = j
                    break
            for rule in RULES:
                if not _match_predicate(tokens, i, rule):
                    continue
                if rule.subjects is None:
                    hit = hit or (rule, None)
                elif subject_idx is not None and tokens[subject_idx].form in rule.subjects:
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
            if out and out[-1].normalized == new.normalized and new.begin < out[-1].end:
                # "머리가 깨질 듯이 아파요": two predicates, one symptom.
                prev = out.pop()
                new = Colloquial(prev.begin, max(prev.end, new.end), new.normalized, prev.negated or new.negated)
            out.append(new)
    return out
