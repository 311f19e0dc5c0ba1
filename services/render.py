"""HTML for the highlighted source text. Every piece of note text goes through html.escape:
notes are untrusted input and must never run as markup."""

from __future__ import annotations

import html

from services.domain import Category, Entity

# One colour-blind-safe palette (Okabe–Ito) for every category everywhere: highlights, chips, charts.
PALETTE: dict[str, str] = {
    Category.SYMPTOM.value: "#D55E00",  # vermillion
    Category.DIAGNOSIS.value: "#0072B2",  # blue
    Category.MEDICATION.value: "#009E73",  # bluish green
    Category.TEST.value: "#E69F00",  # orange
    Category.PROCEDURE.value: "#CC79A7",  # reddish purple
    Category.ANATOMY.value: "#56B4E9",  # sky blue
    Category.PHI.value: "#7F7F7F",  # grey
}


def _tint(hex_color: str, keep: float = 0.28) -> str:
    """The colour mixed with white, light enough to read black text on."""
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * keep):02x}" for c in rgb)


# Backgrounds for marks and chips; the full colour underlines them, so categories differ by more than a tint.
COLORS: dict[str, str] = {cat: _tint(color) for cat, color in PALETTE.items()}


def _style(e: Entity) -> str:
    style = (f"background:{COLORS.get(e.category.value, '#eee')};border-bottom:2px solid "
             f"{PALETTE.get(e.category.value, '#999')};border-radius:3px;padding:0 2px;")
    if e.negated:
        style += "text-decoration:line-through;opacity:0.75;"
    elif e.uncertain:
        style += "border-bottom:2px dotted #555;"
    elif e.historical or e.family:
        style += "font-style:italic;"
    return style


def _mark(e: Entity, inner: str, labels: dict[str, str]) -> str:
    title = f"{labels.get(e.category.value, e.category.value)} · {e.assertion}"
    if e.normalized:
        title += f" · {e.normalized}"
    return (
        f'<mark class="nl-ent nl-{e.category.value}" data-category="{e.category.value}" '
        f'data-assertion="{e.assertion}" title="{html.escape(title, quote=True)}" style="{_style(e)}">{inner}</mark>'
    )


def highlight(text: str, entities: list[Entity], labels: dict[str, str] | None = None) -> str:
    """The note as escaped HTML with one <mark> per entity. Mentions inside another ("허리" inside "허리가 아파요",
    as the guideline tags them) are nested marks; a mention that only partly overlaps an earlier one is left out."""
    labels = labels or {}
    spans = sorted((e for e in entities if e.grounded and 0 <= e.begin < e.end <= len(text)), key=lambda e: (e.begin, -e.end))

    def render(begin: int, end: int, inside: list[Entity]) -> str:
        out: list[str] = []
        pos = begin
        i = 0
        while i < len(inside):
            e = inside[i]
            i += 1
            if e.begin < pos:
                continue  # partly overlaps the previous mark
            children = []
            while i < len(inside) and inside[i].begin < e.end:
                if inside[i].end <= e.end:
                    children.append(inside[i])
                i += 1
            out.append(html.escape(text[pos:e.begin]))
            out.append(_mark(e, render(e.begin, e.end, children), labels))
            pos = e.end
        out.append(html.escape(text[pos:end]))
        return "".join(out)

    body = render(0, len(text), spans)
    return (
        '<div class="nl-source" style="white-space:pre-wrap;line-height:1.9;font-size:0.95rem;'
        f'border:1px solid #ddd;border-radius:6px;padding:12px;max-height:70vh;overflow:auto">{body}</div>'
    )


def legend(labels: dict[str, str]) -> str:
    items = "".join(
        f'<span style="background:{color};border-radius:3px;padding:1px 6px;margin-right:6px">{html.escape(labels.get(cat, cat))}</span>'
        for cat, color in COLORS.items()
    )
    return f'<div class="nl-legend">{items}</div>'
