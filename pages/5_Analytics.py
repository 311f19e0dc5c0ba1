"""Analytics for managers: a live ranking, trends, department mix, co-occurrence and age × sex, each chart
drilling down to the notes behind a click (with links to Review). Counting happens in the store."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from services.analytics import AGE_BANDS, ASSERTIONS, SEXES, Drill, Filter, Period, auto_grain, to_csv
from services.errors import NoteLensError
from services.i18n import t
from ui.analytics_charts import (
    band_label,
    change_text,
    config,
    cooccurrence_figure,
    department_figure,
    department_label,
    describe,
    drill_for,
    first_point,
    md,
    pyramid_figure,
    ranking_figure,
    trend_figure,
)
from ui.common import app, category_labels, sidebar

st.set_page_config(page_title="NoteLens · Analytics", page_icon="📊", layout="wide")
L = sidebar()
an = app().analytics
labels = category_labels(L)

st.title(t("an_title", L))
st.caption(t("an_intro", L))
try:
    an.date_bounds()
except NoteLensError as err:  # the OpenSearch cluster is down: say so, nothing else on this page can work
    st.error(f"{t(f'err_{err.code}', L)} ({err.message})")
    st.stop()

PRESETS = [7, 30, 90, 365, 0]  # days; 0: a custom range
CATEGORIES = ["symptom", "diagnosis", "medication", "test", "procedure"]
REFRESH = [0, 10, 30, 60]

# Segmented controls rather than select boxes: a select box keeps showing the old language's label after a switch.
with st.container(border=True):
    r1 = st.columns([3, 2])
    preset = r1[0].segmented_control(
        t("an_period", L), PRESETS, default=30, required=True, key="an_preset",
        format_func=lambda d: t("an_last_days", L, n=d) if d else t("an_custom", L))
    if preset:
        fixed: Period | None = None
        shown = an.default_period(preset)
        st.session_state["an_range_shown"] = (shown.start, shown.end)  # shown, not chosen: follows the preset
        r1[1].date_input(t("an_range", L), disabled=True, key="an_range_shown")
    else:
        default = an.default_period(30)
        picked = r1[1].date_input(t("an_range", L), value=(default.start, default.end), key="an_range")
        days = [d for d in (picked if isinstance(picked, tuple) else (picked,)) if isinstance(d, date)]
        fixed = Period(min(days), max(days)) if days else default
    r2 = st.columns([3, 1, 3])
    category = r2[0].segmented_control(t("an_category", L), CATEGORIES, default="symptom", required=True,
                                       key="an_category", format_func=lambda k: labels[k])
    top = int(r2[1].number_input(t("an_top", L), min_value=3, max_value=50, value=10, step=1, key="an_top"))
    refresh = r2[2].segmented_control(
        t("an_refresh", L), REFRESH, default=30, required=True, key="an_refresh",
        format_func=lambda s: t("an_refresh_every", L, n=s) if s else t("an_refresh_off", L))
    f = st.columns(4)
    departments = f[0].multiselect(t("an_departments", L), an.departments(), key="an_departments",
                                   placeholder=t("an_everyone", L))
    bands = f[1].multiselect(t("an_age_bands", L), list(AGE_BANDS), key="an_age_bands",
                             format_func=lambda b: band_label(b, L), placeholder=t("an_everyone", L))
    sexes = f[2].multiselect(t("an_sexes", L), list(SEXES), key="an_sexes", format_func=lambda s: t(f"an_sex_{s}", L),
                             placeholder=t("an_everyone", L))
    include = f[3].multiselect(t("an_include", L), list(ASSERTIONS), key="an_include", help=t("an_include_help", L),
                               format_func=lambda a: t(f"assert_{a}", L), placeholder=t("an_affirmed_only", L))

flt = Filter(category=category, departments=tuple(departments), age_bands=tuple(bands), sexes=tuple(sexes),
             include=frozenset(include))
period = fixed or an.default_period(preset or 30)
st.caption(t("an_png_hint", L))


def drill_down(event: Any, to_drill: Callable[[dict[str, Any]], Drill | None], key: str, scope: Period) -> None:
    """The notes behind the selected point, each with a link to Review, and their CSV."""
    point = first_point(event)
    drill = drill_for_point(point, to_drill)
    if drill is None:
        st.caption(t("an_drill_hint", L))
        return
    found = an.notes(flt, scope, drill)
    st.markdown(t("an_drill_title", L, what=md(describe(drill, L)), n=found.total))
    header = [t("visit_date", L), t("an_department", L), t("age", L), t("sex", L), t("an_file", L), t("an_note_id", L)]
    rows = [[n.visit_date or "", n.department or "", n.age if n.age is not None else "",
             t(f"an_sex_{n.sex}", L) if n.sex in SEXES else "", n.filename, n.note_id] for n in found.notes]
    table = pd.DataFrame(rows, columns=header)
    table[t("an_open", L)] = [f"Review?note={n.note_id}" for n in found.notes]
    st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_notes",
                 column_config={t("an_open", L): st.column_config.LinkColumn(display_text=t("an_open", L))})
    if found.total > len(found.notes):
        st.caption(t("an_drill_shown", L, shown=len(found.notes)))
    st.download_button(t("an_csv", L), to_csv(header, rows), file_name=f"notelens-{key}-notes.csv", mime="text/csv",
                       key=f"{key}_notes_csv")


def drill_for_point(point: dict[str, Any] | None, to_drill: Callable[[dict[str, Any]], Drill | None]) -> Drill | None:
    return None if point is None else to_drill(point)


# -- ranking: refreshes by itself ---------------------------------------------------------------


def ranking_section() -> None:
    # A "last N days" period is worked out again on every refresh, so notes that just arrived are in it.
    scope = fixed or an.default_period(preset or 30)
    ranking = an.ranking(flt, scope, top)
    st.caption(t("an_period_caption", L, start=scope.start, end=scope.end, notes=ranking.notes,
                 pstart=ranking.previous.start, pend=ranking.previous.end, pnotes=ranking.previous_notes)
               + " · " + t("an_updated", L, time=datetime.now().strftime("%H:%M:%S")))
    if not ranking.rows:
        st.info(t("an_no_data", L))
        return
    left, right = st.columns([1, 1])
    event = left.plotly_chart(ranking_figure(ranking, L), key="an_rank_chart", on_select="rerun",
                              selection_mode="points", config=config("ranking"))
    header = [t("an_rank", L), t("an_term", L), t("an_notes", L), t("an_share", L), t("an_prev_rank", L),
              t("an_prev_notes", L), t("an_change", L)]
    rows = [[r.rank, r.term, r.notes, round(r.share, 4), r.previous_rank or "", r.previous_notes,
             change_text(r.change, r.marker(), L)] for r in ranking.rows]
    shown = pd.DataFrame(rows, columns=header)
    shown[t("an_share", L)] = [f"{r.share:.1%}" for r in ranking.rows]
    shown[t("an_prev_rank", L)] = [str(r.previous_rank or "—") for r in ranking.rows]
    right.dataframe(shown.drop(columns=[t("an_prev_notes", L)]), hide_index=True, width="stretch", key="an_rank_table")
    right.download_button(t("an_csv", L), to_csv(header, rows), file_name="notelens-ranking.csv", mime="text/csv",
                          key="an_rank_csv")
    drill_down(event, lambda p: drill_for("rank", p), "an_rank", scope)


st.subheader(f"{t('an_ranking', L)} · {labels[category]}")
st.fragment(ranking_section, run_every=refresh or None)()

# -- trends ---------------------------------------------------------------------------------------

st.subheader(t("an_trends", L))
choices = an.top_terms(flt, period, 20)


def follow(key: str, auto: object) -> None:
    """A choice the user has not changed follows the period's top terms; one they changed stays."""
    if key not in st.session_state or st.session_state[key] == st.session_state.get(f"{key}_auto"):
        st.session_state[key] = auto
    st.session_state[f"{key}_auto"] = auto


follow("an_trend_terms", choices[:5])
picked_terms = st.session_state["an_trend_terms"]
g = st.columns([4, 2])
terms = g[0].multiselect(t("an_trend_terms", L), choices + [x for x in picked_terms if x not in choices],
                         key="an_trend_terms")
grain_choice = g[1].segmented_control(t("an_grain", L), ["auto", "day", "week", "month"], default="auto",
                                      required=True, key="an_grain", format_func=lambda v: t(f"an_grain_{v}", L))
grain = auto_grain(period) if grain_choice in (None, "auto") else grain_choice
trend = an.term_trends(flt, period, grain, terms)
event = st.plotly_chart(trend_figure(trend, L), key="an_trend_chart", on_select="rerun", selection_mode="points",
                        config=config("trends"))
header = [t("an_date", L), t("an_all_notes", L), *trend.values]
rows = [[d.isoformat(), trend.notes[i], *(v[i] for v in trend.values.values())] for i, d in enumerate(trend.buckets)]
st.download_button(t("an_csv", L), to_csv(header, rows), file_name="notelens-trends.csv", mime="text/csv",
                   key="an_trend_csv")
drill_down(event, lambda p: drill_for("trend", p, grain), "an_trend", period)

# -- department mix -----------------------------------------------------------------------------

st.subheader(t("an_dept_mix", L))
mix = an.department_mix(flt, period, grain)
event = st.plotly_chart(department_figure(mix, L), key="an_dept_chart", on_select="rerun", selection_mode="points",
                        config=config("departments"))
header = [t("an_date", L), t("an_all_notes", L), *(department_label(d, L) for d in mix.values)]
rows = [[d.isoformat(), mix.notes[i], *(v[i] for v in mix.values.values())] for i, d in enumerate(mix.buckets)]
st.download_button(t("an_csv", L), to_csv(header, rows), file_name="notelens-departments.csv", mime="text/csv",
                   key="an_dept_csv")
drill_down(event, lambda p: drill_for("dept", p, grain), "an_dept", period)

# -- co-occurrence and age × sex ----------------------------------------------------------------

left, right = st.columns(2)
with left:
    cooc = an.cooccurrence(flt, period, min(top, 15))
    st.subheader(f"{t('an_cooc', L, n=len(cooc.terms))} · {labels[category]}")
    if cooc.terms:
        event = st.plotly_chart(cooccurrence_figure(cooc, L), key="an_cooc_chart", on_select="rerun",
                                selection_mode="points", config=config("cooccurrence"))
        header = [t("an_term", L), *cooc.terms]
        rows = [[term, *cooc.matrix[i]] for i, term in enumerate(cooc.terms)]
        st.download_button(t("an_csv", L), to_csv(header, rows), file_name="notelens-cooccurrence.csv",
                           mime="text/csv", key="an_cooc_csv")
        drill_down(event, lambda p: drill_for("cooc", p), "an_cooc", period)
    else:
        st.info(t("an_no_data", L))
with right:
    st.subheader(t("an_pyramid", L))
    if choices:
        follow("an_pyr_term", choices[0])
        current = st.session_state["an_pyr_term"]
        term = st.selectbox(t("an_pyramid_term", L), choices + ([current] if current not in choices else []),
                            key="an_pyr_term")
        pyramid = an.pyramid(flt, period, term)
        event = st.plotly_chart(pyramid_figure(pyramid, L), key="an_pyr_chart", on_select="rerun",
                                selection_mode="points", config=config("age-sex"))
        if pyramid.unknown:
            st.caption(t("an_pyramid_unknown", L, n=pyramid.unknown))
        header = [t("an_age_band_axis", L), t("an_sex_M", L), t("an_sex_F", L)]
        rows = [[band_label(r.age_band, L), r.male, r.female] for r in pyramid.rows]
        st.download_button(t("an_csv", L), to_csv(header, rows), file_name="notelens-age-sex.csv", mime="text/csv",
                           key="an_pyr_csv")
        drill_down(event, lambda p: drill_for("pyramid", p, term=term), "an_pyr", period)
    else:
        st.info(t("an_no_data", L))
