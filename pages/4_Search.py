"""Search: a query box with examples, filters with facet counts in the sidebar, result cards (escaped snippet with
marks, entity chips by category, negated struck through), sort, pages, CSV export, saved searches, links to Review."""

from datetime import date
from typing import Any

import streamlit as st

from services.errors import NoteLensError
from services.i18n import t
from services.search import ASSERTIONS, SearchQuery
from services.search.snippet import search_card
from ui.common import app, category_labels, sidebar

st.set_page_config(page_title="NoteLens · Search", page_icon="🔍", layout="wide")
L = sidebar()
a = app()
labels = category_labels(L)

EXAMPLES = ["두통", '"호흡 곤란"', "R07.4", "chest pain"]
# Widget key → SearchQuery field, with each widget's empty value.
FIELDS: dict[str, tuple[str, Any]] = {
    "search_q": ("text", ""),
    "search_term": ("term", ""),
    "search_categories": ("categories", []),
    "search_assertions": ("assertions", ["present"]),
    "search_departments": ("departments", []),
    "search_age_bands": ("age_bands", []),
    "search_sexes": ("sexes", []),
    "search_engines": ("engines", []),
    "search_prompt_versions": ("prompt_versions", []),
    "search_review_statuses": ("review_statuses", []),
    "search_expand": ("expand", False),
    "search_sort": ("sort", "relevance"),
}
for key, (_, empty) in FIELDS.items():
    st.session_state.setdefault(key, list(empty) if isinstance(empty, list) else empty)
st.session_state.setdefault("search_from", None)
st.session_state.setdefault("search_to", None)
st.session_state.setdefault("search_page", 1)


def set_example(example: str) -> None:
    st.session_state["search_q"] = example
    st.session_state["search_expand"] = example == "chest pain"
    st.session_state["search_page"] = 1


def load_saved() -> None:
    saved = a.search.saved.get(st.session_state.get("search_saved_pick") or "")
    if saved is None:
        return
    for key, (name, _) in FIELDS.items():
        st.session_state[key] = getattr(saved, name)
    st.session_state["search_from"] = date.fromisoformat(saved.date_from) if saved.date_from else None
    st.session_state["search_to"] = date.fromisoformat(saved.date_to) if saved.date_to else None
    st.session_state["search_page"] = 1


def clear_filters() -> None:
    for key, (_, empty) in FIELDS.items():
        if key not in ("search_q", "search_sort"):
            st.session_state[key] = list(empty) if isinstance(empty, list) else empty
    st.session_state["search_from"] = st.session_state["search_to"] = None
    st.session_state["search_page"] = 1


def current_query() -> SearchQuery:
    values = {name: st.session_state[key] for key, (name, _) in FIELDS.items()}
    d_from, d_to = st.session_state["search_from"], st.session_state["search_to"]
    return SearchQuery(**values, date_from=d_from.isoformat() if d_from else None,
                       date_to=d_to.isoformat() if d_to else None)


query = current_query()
signature = query.model_dump_json()
if st.session_state.get("search_signature") != signature:  # a new question starts on page one
    st.session_state["search_signature"] = signature
    st.session_state["search_page"] = 1
try:
    results = a.search.search(query.model_copy(update={"page": st.session_state["search_page"]}))
except NoteLensError as err:  # the cluster is down: say so, nothing else on this page can work
    st.error(f"{t(f'err_{err.code}', L)} ({err.message})")
    st.stop()
if results.page > results.pages:
    st.session_state["search_page"] = results.pages
    results = a.search.search(query.model_copy(update={"page": results.pages}))
facets = {name: dict(values) for name, values in results.facets.items()}


approx = "≈" if results.facet_sample else ""


def counted(facet: str, label: Any = str) -> Any:
    def fmt(value: str) -> str:
        n = facets.get(facet, {}).get(value)
        return t("search_count", L, label=label(value), n=f"{approx}{n}") if n is not None else label(value)

    return fmt


def options(field: str, key: str) -> list[str]:
    """Every value the index knows (so picking one department does not hide the others), most frequent first."""
    known = set(a.search.values(field)) | set(st.session_state.get(key, []))
    return sorted(known, key=lambda v: (-facets.get(field, {}).get(v, 0), v))


# -- sidebar: filters with facet counts ----------------------------------------------------------------

with st.sidebar:
    st.header(t("search_filters", L))
    st.text_input(t("search_term", L), key="search_term", help=t("search_term_help", L))
    st.multiselect(t("search_assertions", L), list(ASSERTIONS), key="search_assertions",
                   format_func=counted("assertion", lambda v: t(f"assert_{v}", L)))
    st.multiselect(t("search_categories", L), list(labels), key="search_categories",
                   format_func=counted("category", lambda v: labels.get(v, v)))
    st.date_input(t("search_date_from", L), key="search_from", format="YYYY-MM-DD")
    st.date_input(t("search_date_to", L), key="search_to", format="YYYY-MM-DD")
    st.multiselect(t("search_departments", L), options("department", "search_departments"), key="search_departments",
                   format_func=counted("department"))
    st.multiselect(t("search_age_bands", L), options("age_band", "search_age_bands"), key="search_age_bands",
                   format_func=counted("age_band"))
    st.multiselect(t("search_sexes", L), options("sex", "search_sexes"), key="search_sexes",
                   format_func=counted("sex", lambda v: t(f"search_sex_{v}", L)))
    st.multiselect(t("search_engines", L), options("engine", "search_engines"), key="search_engines", format_func=counted("engine"))
    st.multiselect(t("search_prompt_versions", L), options("prompt_version", "search_prompt_versions"), key="search_prompt_versions",
                   format_func=counted("prompt_version"))
    st.multiselect(t("search_review_statuses", L), ["reviewed", "machine", "none"], key="search_review_statuses",
                   format_func=counted("review_status", lambda v: t(f"search_review_{v}", L)))
    st.button(t("search_reset", L), key="search_reset", on_click=clear_filters)
    if results.facets.get("term"):
        st.subheader(t("search_top_terms", L))
        st.dataframe({t("search_term", L): [v for v, _ in results.facets["term"]],
                      "n": [n for _, n in results.facets["term"]]}, hide_index=True, width="stretch", height=240)
    if results.facets.get("visit_month"):
        st.subheader(t("search_months", L))
        months = sorted(results.facets["visit_month"])
        st.bar_chart({"month": [m for m, _ in months], "n": [n for _, n in months]}, x="month", y="n", height=160)

# -- main: query, results -----------------------------------------------------------------------------------

st.title(t("search_title", L))
st.caption(t("search_intro", L))
top = st.columns([6, 2, 2])
top[0].text_input(t("search_query", L), key="search_q", placeholder=t("search_placeholder", L))
top[1].radio(t("search_sort", L), ["relevance", "date"], key="search_sort", horizontal=True,
             format_func=lambda v: t(f"search_sort_{v}", L))
top[2].toggle(t("search_expand", L), key="search_expand", help=t("search_expand_help", L))
ex = st.columns([1] + [1] * len(EXAMPLES) + [6])
ex[0].caption(t("search_examples", L), help=t("search_examples_help", L))
for i, example in enumerate(EXAMPLES):
    ex[i + 1].button(example, key=f"search_ex_{i}", on_click=set_example, args=(example,), type="tertiary")

head = st.columns([7, 3])
head[0].markdown(f"**{t('search_total', L, total=results.total, ms=results.took_ms)}**")
if results.facet_sample:
    head[0].caption(t("search_estimated", L, n=results.facet_sample))
head[1].download_button(t("search_export", L), lambda: a.search.export_csv(query), file_name="notelens-search.csv",
                        mime="text/csv", key="search_csv", disabled=results.total == 0, on_click="ignore")

if not results.hits:
    st.info(t("search_none", L))
for hit in results.hits:
    card, action = st.columns([10, 2])
    with card:
        st.html(search_card(hit, labels))
    if action.button(t("search_open", L), key=f"search_open_{hit.note_id}"):
        st.session_state["review_note"] = hit.note_id
        st.switch_page("pages/2_Review.py")

if results.pages > 1:
    nav = st.columns([2, 3, 2, 5])
    if nav[0].button(t("search_prev", L), key="search_prev", disabled=results.page <= 1):
        st.session_state["search_page"] = results.page - 1
        st.rerun()
    nav[1].caption(t("search_page", L, page=results.page, pages=results.pages))
    if nav[2].button(t("search_next", L), key="search_next", disabled=results.page >= results.pages):
        st.session_state["search_page"] = results.page + 1
        st.rerun()

# -- saved searches ------------------------------------------------------------------------------------------

with st.expander(t("search_saved", L)):
    s = st.columns([4, 2])
    name = s[0].text_input(t("search_save_name", L), key="search_save_name")
    if s[1].button(t("search_save", L), key="search_save", disabled=not name.strip()):
        a.search.saved.save(name, query)
        st.success(t("search_saved_ok", L, name=name.strip()))
    saved = [n for n, _ in a.search.saved.all()]
    if saved:
        p = st.columns([4, 1, 1])
        p[0].selectbox(t("search_saved", L), saved, key="search_saved_pick")
        p[1].button(t("search_load", L), key="search_load", on_click=load_saved)
        if p[2].button(t("search_delete", L), key="search_delete"):
            a.search.saved.delete(st.session_state["search_saved_pick"])
            st.rerun()
