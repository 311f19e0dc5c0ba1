"""Plotly figures for the Analytics page, and what a click on each of them points at.

Every trace carries ``customdata`` naming what a point stands for (a term, a bucket, a department, an age
band and sex), so a selection maps back to the notes behind it without reading labels. Labels that come
from notes (terms, departments) are escaped: plotly renders a few HTML tags in text.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import plotly.graph_objects as go

from services.analytics import (
    AGE_BANDS,
    UNKNOWN,
    Cooccurrence,
    Drill,
    Grain,
    Pyramid,
    Ranking,
    Series,
    age_band_bounds,
)
from services.i18n import t

DATE_TICKS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}  # numbers, not English month names
# Okabe–Ito, like the category palette (services/render.PALETTE): rising and falling never differ by red/green alone.
CHANGE_COLORS = {"up": "#D55E00", "down": "#0072B2", "new": "#E69F00", "same": "#7F7F7F"}
_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def label(text: str) -> str:
    """A term or department as plotly text: no tag in it is rendered."""
    return html.escape(text, quote=False)


def md(text: str) -> str:
    """Note-derived text inside Streamlit markdown, shown literally."""
    return _MD.sub(r"\\\1", text)


def config(name: str) -> dict[str, Any]:
    """The chart toolbar: its camera button saves a PNG named after the chart."""
    return {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": f"notelens-{name}", "scale": 2}}


def band_label(band: int, lang: str) -> str:
    lo, hi = age_band_bounds(band)
    return t("an_age_band_last", lang, lo=lo) if hi is None else t("an_age_band", lang, lo=lo, hi=hi)


def department_label(dept: str, lang: str) -> str:
    return dept if dept != UNKNOWN else t("an_unknown", lang)


def change_text(change: str, marker: str, lang: str) -> str:
    return t("an_new", lang) if change == "new" else marker


def _counts_axis(peak: int) -> dict[str, Any]:
    """A count axis with whole-number ticks (plotly would draw 0.2, 0.4 … for small counts)."""
    return {"tickformat": ",d", "rangemode": "tozero", **({"dtick": 1} if peak <= 8 else {})}


def _layout(fig: go.Figure, height: int = 380, **kwargs: Any) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, clickmode="event+select",
                      legend={"orientation": "h", "y": -0.2}, **kwargs)
    return fig


def ranking_figure(ranking: Ranking, lang: str) -> go.Figure:
    rows = list(reversed(ranking.rows))  # rank 1 at the top
    fig = go.Figure(go.Bar(
        x=[r.notes for r in rows],
        y=[f"{r.rank}. {label(r.term)}" for r in rows],
        orientation="h",
        text=[f"{r.notes} {change_text(r.change, r.marker(), lang)}" for r in rows],
        textposition="auto",
        marker_color=[CHANGE_COLORS[r.change] for r in rows],
        customdata=[[r.term] for r in rows],
        hovertemplate=f"%{{y}}<br>{t('an_notes', lang)}: %{{x}}<extra></extra>",
    ))
    fig.update_xaxes(**_counts_axis(max([0] + [r.notes for r in rows])))
    return _layout(fig, height=max(260, 34 * len(rows) + 60), xaxis_title=t("an_notes", lang),
                   yaxis_title=t("an_term", lang), showlegend=False)


def trend_figure(series: Series, lang: str) -> go.Figure:
    x = [d.isoformat() for d in series.buckets]
    # The notes of each bucket on a second axis at the right, behind the terms' lines.
    traces: list[go.Bar | go.Scatter] = [go.Bar(
        x=x, y=series.notes, name=t("an_all_notes", lang), marker_color="rgba(120,120,120,0.25)", yaxis="y2",
        customdata=[["", d] for d in x],
        hovertemplate=f"%{{x}}<br>{t('an_all_notes', lang)}: %{{y}}<extra></extra>",
    )]
    for term, values in series.values.items():
        traces.append(go.Scatter(
            x=x, y=values, name=label(term), mode="lines+markers", customdata=[[term, d] for d in x],
            hovertemplate=f"{label(term)}<br>%{{x}}<br>{t('an_notes', lang)}: %{{y}}<extra></extra>",
        ))
    peak = max([0] + [v for values in series.values.values() for v in values])
    fig = go.Figure(traces, layout={
        "xaxis": {"title": {"text": t("an_date", lang)}, "tickformat": DATE_TICKS[series.grain]},
        "yaxis": {"title": {"text": t("an_notes", lang)}, **_counts_axis(peak)},
        "yaxis2": {"title": {"text": t("an_all_notes", lang)}, "overlaying": "y", "side": "right", "showgrid": False,
                   **_counts_axis(max([0] + series.notes))},
    })
    return _layout(fig)


def department_figure(series: Series, lang: str) -> go.Figure:
    fig = go.Figure()
    x = [d.isoformat() for d in series.buckets]
    for dept, values in series.values.items():
        name = label(department_label(dept, lang))
        fig.add_trace(go.Bar(
            x=x, y=values, name=name, customdata=[[dept, d] for d in x],
            hovertemplate=f"{name}<br>%{{x}}<br>{t('an_notes', lang)}: %{{y}}<extra></extra>",
        ))
    fig.update_yaxes(**_counts_axis(max([0] + series.notes)))
    fig.update_xaxes(tickformat=DATE_TICKS[series.grain])
    return _layout(fig, barmode="stack", xaxis_title=t("an_date", lang), yaxis_title=t("an_notes", lang))


def cooccurrence_figure(cooc: Cooccurrence, lang: str) -> go.Figure:
    """A heatmap drawn as square markers: plotly heatmaps send no selection events, markers do. The diagonal (notes
    with the term at all) is grey and outside the colour scale, which would otherwise wash out every pair."""
    n = len(cooc.terms)
    names = [label(term) for term in cooc.terms]
    cells: dict[bool, dict[str, list[Any]]] = {d: {"x": [], "y": [], "z": [], "data": []} for d in (False, True)}
    for i, a in enumerate(cooc.terms):
        for j, b in enumerate(cooc.terms):
            cell = cells[i == j]
            cell["x"].append(names[j])
            cell["y"].append(names[i])
            cell["z"].append(cooc.matrix[i][j])
            cell["data"].append([a, b])
    size = max(12, min(40, 300 // max(n, 1)))
    pairs, diagonal = cells[False], cells[True]
    top = max([1] + pairs["z"])
    hover = f"%{{y}} + %{{x}}<br>{t('an_notes', lang)}: %{{text}}<extra></extra>"
    fig = go.Figure([
        go.Scatter(
            x=pairs["x"], y=pairs["y"], mode="markers+text", text=[str(z) for z in pairs["z"]],
            textfont={"size": 10, "color": ["white" if z * 2 > top else "#333" for z in pairs["z"]]},
            marker={"symbol": "square", "size": size, "color": pairs["z"], "colorscale": "Blues", "cmin": 0, "cmax": top,
                    "showscale": True, "colorbar": {"title": {"text": t("an_notes", lang)}}, "line": {"width": 0}},
            customdata=pairs["data"], hovertemplate=hover,
        ),
        go.Scatter(
            x=diagonal["x"], y=diagonal["y"], mode="markers+text", text=[str(z) for z in diagonal["z"]],
            textfont={"size": 10, "color": "#333"},
            marker={"symbol": "square", "size": size, "color": "#e0e0e0", "line": {"width": 0}},
            customdata=diagonal["data"], hovertemplate=hover,
        ),
    ])
    fig.update_xaxes(categoryorder="array", categoryarray=names, tickangle=-45, title_text=t("an_with_term", lang),
                     showgrid=False)
    # Square cells: one category step on x is as wide as one on y.
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(names)), title_text=t("an_term", lang),
                     showgrid=False, scaleanchor="x", constrain="domain")
    fig.update_xaxes(constrain="domain")
    return _layout(fig, height=max(380, 26 * n + 180), showlegend=False)


def pyramid_figure(pyramid: Pyramid, lang: str) -> go.Figure:
    bands = [band_label(r.age_band, lang) for r in pyramid.rows]
    fig = go.Figure()
    for sex, values, color in (("M", [r.male for r in pyramid.rows], "#0072B2"),
                               ("F", [r.female for r in pyramid.rows], "#E69F00")):
        name = t(f"an_sex_{sex}", lang)
        fig.add_trace(go.Bar(
            y=bands, x=[-v if sex == "M" else v for v in values], orientation="h", name=name, marker_color=color,
            text=[str(v) if v else "" for v in values], customdata=[[r.age_band, sex] for r in pyramid.rows],
            hovertemplate=f"{name} %{{y}}<br>{t('an_notes', lang)}: %{{text}}<extra></extra>",
        ))
    peak = max([1] + [max(r.male, r.female) for r in pyramid.rows])
    ticks = sorted({0, peak, -peak, peak // 2, -(peak // 2)})
    fig.update_xaxes(tickvals=ticks, ticktext=[str(abs(v)) for v in ticks], title_text=t("an_notes", lang),
                     range=[-peak * 1.15, peak * 1.15])  # symmetric, so both sides read alike
    fig.update_yaxes(title_text=t("an_age_band_axis", lang), categoryorder="array", categoryarray=bands)
    return _layout(fig, barmode="relative", bargap=0.1)


# -- selections -------------------------------------------------------------------------------


def first_point(event: Any) -> dict[str, Any] | None:
    """The first selected point of a ``st.plotly_chart(..., on_select="rerun")`` result, if any."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    return points[0] if points else None


def drill_for(chart: str, point: dict[str, Any], grain: Grain = "day", term: str | None = None) -> Drill | None:
    """What a selected point of ``chart`` stands for."""
    data = point.get("customdata")
    if not isinstance(data, list | tuple) or not data:
        return None
    if chart == "rank":
        return Drill(term=str(data[0]))
    if chart == "trend":
        return Drill(term=str(data[0]) or None, bucket=date.fromisoformat(str(data[1])), grain=grain)
    if chart == "dept":
        return Drill(department=str(data[0]), bucket=date.fromisoformat(str(data[1])), grain=grain)
    if chart == "cooc":
        a, b = str(data[0]), str(data[1])
        return Drill(term=a, other_term=b if b != a else None)
    if chart == "pyramid":
        return Drill(term=term, age_band=int(data[0]), sex=str(data[1]))
    return None


def describe(drill: Drill, lang: str) -> str:
    """The selection in words, for the drill-down's heading."""
    parts = [p for p in (drill.term, drill.other_term) if p]
    if drill.bucket is not None:
        parts.append(drill.bucket.isoformat() + ("" if drill.grain == "day" else f" ({t('an_grain_' + drill.grain, lang)})"))
    if drill.department is not None:
        parts.append(department_label(drill.department, lang))
    if drill.age_band is not None and drill.age_band in AGE_BANDS:
        parts.append(band_label(drill.age_band, lang))
    if drill.sex is not None:
        parts.append(t(f"an_sex_{drill.sex}", lang))
    return " · ".join(parts) or t("an_all_notes", lang)
