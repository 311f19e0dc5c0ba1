"""Snippets and result cards as HTML. Every piece of note text goes through html.escape (notes are untrusted
input); the only markup is ours: <mark> around matches, chips coloured by category."""

from __future__ import annotations

import html

from services.render import COLORS
from services.search import EntityChip, EntityClause, Plan, SearchEntity, SearchHit

WINDOW_BEFORE = 60
WINDOW_AFTER = 140
# Sentinels a backend may put around matches in plain text (OpenSearch's highlighter); escaped text never holds them.
OPEN, CLOSE = "\u0001", "\u0002"


def _window(text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    if not spans:
        return 0, min(len(text), WINDOW_BEFORE + WINDOW_AFTER)
    b, e = spans[0]
    start, stop = max(0, b - WINDOW_BEFORE), min(len(text), e + WINDOW_AFTER)
    # Start and stop at a word boundary when one is near.
    if start > 0:
        cut = text.find(" ", start, b)
        start = cut + 1 if 0 <= cut < b else start
    if stop < len(text):
        cut = text.rfind(" ", e, stop)
        stop = cut if cut > e else stop
    return start, stop


def snippet(text: str, spans: list[tuple[int, int]]) -> tuple[str, str]:
    """(HTML, plain text) of the part of ``text`` around the first span, every span inside it marked."""
    start, stop = _window(text, spans)
    parts: list[str] = []
    pos = start
    for b, e in spans:
        if b < pos or e > stop:
            continue
        parts.append(html.escape(text[pos:b]))
        parts.append(f"<mark>{html.escape(text[b:e])}</mark>")
        pos = e
    parts.append(html.escape(text[pos:stop]))
    plain = " ".join(text[start:stop].split())
    prefix, suffix = ("… " if start > 0 else ""), (" …" if stop < len(text) else "")
    body = " ".join("".join(parts).split())
    return prefix + body + suffix, prefix + plain + suffix


def from_marked(marked: str) -> tuple[str, str]:
    """(HTML, plain text) of a fragment whose matches a backend wrapped in OPEN/CLOSE sentinels."""
    out: list[str] = []
    plain: list[str] = []
    rest = marked
    while rest:
        i = rest.find(OPEN)
        if i < 0:
            out.append(html.escape(rest))
            plain.append(rest)
            break
        j = rest.find(CLOSE, i)
        j = len(rest) if j < 0 else j
        out.append(html.escape(rest[:i]) + f"<mark>{html.escape(rest[i + 1:j])}</mark>")
        plain.append(rest[:i] + rest[i + 1:j])
        rest = rest[j + 1:]
    return " ".join("".join(out).split()), " ".join("".join(plain).split())


def chip(c: EntityChip, label: str) -> str:
    style = f"background:{COLORS.get(c.category, '#eee')};border-radius:10px;padding:1px 8px;margin:2px;display:inline-block;"
    if c.assertion == "negated":
        style += "text-decoration:line-through;opacity:0.7;"
    elif c.assertion != "present":
        style += "font-style:italic;"
    if c.matched:
        style += "outline:2px solid #555;"
    title = f"{label} · {c.assertion}" + (f" · {c.normalized}" if c.normalized else "") + (f" · {c.code}" if c.code else "")
    shown = c.text if not c.normalized or c.normalized == c.text else f"{c.text} → {c.normalized}"
    return (f'<span class="nl-chip" data-category="{html.escape(c.category, quote=True)}" '
            f'data-assertion="{html.escape(c.assertion, quote=True)}" title="{html.escape(title, quote=True)}" '
            f'style="{style}">{html.escape(shown)}</span>')


def search_card(hit: SearchHit, labels: dict[str, str], max_chips: int = 14) -> str:
    """One result: header line (file, date, department, age/sex, score), the snippet, entity chips."""
    meta = " · ".join(x for x in (hit.visit_date or "—", hit.department or "—",
                                  f"{hit.age if hit.age is not None else '—'}/{hit.sex or '—'}",
                                  f"{hit.score:.2f}" if hit.score else "") if x)
    chips = "".join(chip(c, labels.get(c.category, c.category)) for c in hit.entities[:max_chips])
    return (
        f'<div class="nl-hit" data-note="{html.escape(hit.note_id, quote=True)}" '
        'style="border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin-bottom:4px">'
        f'<div style="font-weight:600">{html.escape(hit.filename)} '
        f'<span style="font-weight:400;color:#666;font-size:0.85rem">{html.escape(meta)}</span></div>'
        f'<div class="nl-snippet" style="margin:4px 0;line-height:1.7">{hit.snippet_html}</div>'
        f'<div class="nl-chips" style="font-size:0.85rem">{chips}</div></div>'
    )


def entity_matches(e: SearchEntity, clause: EntityClause) -> bool:
    if clause.categories and e.category not in clause.categories:
        return False
    if not (clause.terms or clause.codes):
        return True
    code = (e.code or "").upper()
    return e.term in clause.terms or any(code.startswith(c) for c in clause.codes if code)


def chips(entities: list[SearchEntity], plan: Plan, marked: list[tuple[int, int]]) -> list[EntityChip]:
    """The note's entities as chips: those the query names or the snippet marks first, PHI left out unless asked."""
    show_phi = any("phi" in c.categories for c in plan.entities)
    named = [c for c in plan.entities if not c.is_open()]
    out: list[tuple[bool, int, EntityChip]] = []
    for e in entities:
        if e.category == "phi" and not show_phi:
            continue
        hit = bool(named) and any(entity_matches(e, c) for c in named)
        if not hit and marked:
            hit = any(b < e.end and e.begin < m_end for b, m_end in marked)
        out.append((hit, e.begin, EntityChip(e.category, e.text, e.normalized, e.code, e.assertion, hit)))
    out.sort(key=lambda x: (not x[0], x[1]))
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for _, _, c in out:  # one chip per (category, term, assertion)
        key = (c.category, (c.normalized or c.text).lower(), c.assertion)
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique
