"""Korean search tokens from kiwipiepy morphemes, one cached word (eojeol) at a time.

Each whitespace-separated word is analysed on its own and cached, so a corpus pays for kiwipiepy once per distinct
word, not once per note (clinical writing repeats its words; 2,000 synthetic notes hold about 10k distinct ones).
Particles and endings are dropped (두통이, 두통을 → 두통); a run of nouns inside a word is also indexed joined
(가슴통증 → 가슴, 통증, 가슴통증; kiwipiepy's 흉/통 → 흉통), and two bare noun words side by side are indexed joined
too (가슴 통증 → …, 가슴통증), so spacing variants meet whichever way either side is written. A query goes through the
same analysis; each of its noun runs becomes one joined token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from services.extraction.local.colloquial import kiwi

_WORD = re.compile(r"\S+")
_ALNUM = re.compile(r"[^\W_]+")
_NOUNISH = frozenset({"NNG", "NNP", "NNB", "NR", "XR", "XPN", "XSN", "SH"})
_STEMS = frozenset({"VV", "VA", "VX", "VCN"})
_LATIN_NUM = frozenset({"SL", "SN"})
# A joined run never grows past this many parts: keeps the token count of a long compound bounded.
_MAX_PARTS = 5


@dataclass(frozen=True)
class Token:
    """A search token and where it sits in the word it came from (character offsets)."""

    form: str
    begin: int
    end: int


@dataclass(frozen=True)
class WordAnalysis:
    tokens: tuple[Token, ...]
    forms: tuple[str, ...]
    # The word's last noun run when the word is nothing but nouns (no particle or ending after it), and the first
    # noun run when the word starts with one: used to join two bare noun words (가슴 통증 → 가슴통증).
    bare: str | None
    lead: Token | None


def _stem(form: str, tag: str) -> str:
    return form + "다" if tag in _STEMS else form


@lru_cache(maxsize=262_144)
def analyse_word(word: str) -> WordAnalysis:
    """Search tokens of one word. Cached: a word is analysed once per process."""
    tokens: list[Token] = []
    run: list[tuple[str, int, int]] = []
    lead: Token | None = None
    first_run = True
    ends_in_noun = False

    def close_run() -> None:
        nonlocal lead, first_run
        if not run:
            return
        for form, b, e in run:
            tokens.append(Token(form, b, e))
        if len(run) > 1:
            parts = run[:_MAX_PARTS]
            for i in range(len(parts)):
                for j in range(i + 2, len(parts) + 1):
                    tokens.append(Token("".join(p[0] for p in parts[i:j]), parts[i][1], parts[j - 1][2]))
        if first_run and run[0][1] == 0:
            lead = Token("".join(p[0] for p in run), run[0][1], run[-1][2])
        first_run = False
        run.clear()

    for tok in kiwi().tokenize(word):
        tag = str(tok.tag).split("-")[0]
        begin, end = int(tok.start), int(tok.start + tok.len)
        form = str(tok.form).lower()
        if tag in _NOUNISH:
            run.append((form, begin, end))
            ends_in_noun = True
            continue
        close_run()
        first_run = False
        ends_in_noun = False
        if tag in _LATIN_NUM or tag.startswith("W"):
            # Latin words, numbers, serials: their alphanumeric runs ("pain." → pain, 120/80 → 120, 80).
            for m in _ALNUM.finditer(form):
                tokens.append(Token(m.group(), begin + m.start(), begin + m.end()))
        elif tag in _STEMS:
            tokens.append(Token(_stem(form, tag), begin, end))
    whole_noun = ends_in_noun and bool(run) and len(tokens) == 0 and run[0][1] == 0
    last = "".join(p[0] for p in run) if whole_noun else None
    close_run()
    if not tokens:
        # Nothing kiwipiepy calls a content word (설사 alone reads as the adverb "even if"): keep the word's letters
        # and digits as they are, on both the index and the query side.
        tokens = [Token(m.group().lower(), m.start(), m.end()) for m in _ALNUM.finditer(word)]
        if len(tokens) == 1 and tokens[0].begin == 0:
            lead = tokens[0]
            last = tokens[0].form if tokens[0].end == len(word) else None
            whole_noun = last is not None
    return WordAnalysis(tuple(tokens), tuple(t.form for t in tokens), last if whole_noun else None, lead)


def words(text: str) -> Iterator[tuple[int, str]]:
    for m in _WORD.finditer(text):
        yield m.start(), m.group()


def index_tokens(text: str) -> list[str]:
    """Every search token of a text, in order, for the full-text index."""
    out: list[str] = []
    previous_bare: str | None = None
    for word in text.split():
        analysis = analyse_word(word)
        out.extend(analysis.forms)
        if previous_bare and analysis.lead is not None:
            out.append(previous_bare + analysis.lead.form)
        previous_bare = analysis.bare
    return out


def query_tokens(text: str) -> list[str]:
    """The tokens a query word or phrase must match, in order: each noun run joined into one token."""
    out: list[str] = []
    for _, word in words(text):
        analysis = analyse_word(word)
        # Keep only the longest token starting at each position: a joined run stands for its parts.
        spans: dict[int, Token] = {}
        for tok in analysis.tokens:
            old = spans.get(tok.begin)
            if old is None or tok.end > old.end:
                spans[tok.begin] = tok
        covered = -1
        for begin in sorted(spans):
            tok = spans[begin]
            if tok.begin >= covered:
                out.append(tok.form)
                covered = tok.end
    return out


def spans(text: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Character spans in ``text`` of the tokens in ``wanted`` (for highlighting), merged and in order."""
    found: list[tuple[int, int]] = []
    previous: tuple[int, str, WordAnalysis] | None = None
    for start, word in words(text):
        analysis = analyse_word(word)
        for tok in analysis.tokens:
            if tok.form in wanted:
                found.append((start + tok.begin, start + tok.end))
        if previous is not None and previous[2].bare and analysis.lead is not None \
                and previous[2].bare + analysis.lead.form in wanted:
            found.append((previous[0], start + analysis.lead.end))
        previous = (start, word, analysis)
    found.sort()
    merged: list[tuple[int, int]] = []
    for b, e in found:
        if merged and b <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((b, e))
    return merged
