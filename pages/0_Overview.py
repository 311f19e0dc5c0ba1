"""Home: where each user group begins, counts by status, what needs attention, the notes changed last, and
whether the configured engines and backends can be used."""

import pandas as pd
import streamlit as st

from services.i18n import t
from ui.common import app, sidebar
from ui.shell import available, icon

L = sidebar()
a = app()
o = a.overview()

st.title(t("app_title", L))
st.write(t("app_intro", L))

if o.empty:
    st.info(t("first_run", L))

st.subheader(t("where_to_begin", L))
g1, g2, g3 = st.columns(3)
with g1, st.container(border=True):
    st.markdown(f"**{t('nav_group_clinician', L)}**")
    st.caption(t("begin_clinician", L))
    st.page_link("pages/1_Upload.py", label=t("nav_upload", L), icon=icon("pages/1_Upload.py"))
    st.page_link("pages/2_Review.py", label=t("nav_review", L), icon=icon("pages/2_Review.py"))
with g2, st.container(border=True):
    st.markdown(f"**{t('nav_group_prompt', L)}**")
    st.caption(t("begin_prompt", L))
    st.page_link("pages/3_Prompt_Lab.py", label=t("nav_prompt_lab", L), icon=icon("pages/3_Prompt_Lab.py"))
with g3, st.container(border=True):
    st.markdown(f"**{t('nav_group_manager', L)}**")
    st.caption(t("begin_manager", L))
    for file, key in (("pages/4_Search.py", "nav_search"), ("pages/5_Analytics.py", "nav_analytics"),
                      ("pages/6_Hospital_Map.py", "nav_map")):
        if file in available():
            st.page_link(file, label=t(key, L), icon=icon(file))

st.subheader(t("counts", L))
c = o.counts
cols = st.columns(6)
cols[0].metric(t("notes", L), c["notes"])
cols[1].metric(t("done", L), c["done"])
cols[2].metric(t("failed", L), c["failed"])
cols[3].metric(t("waiting", L), c["stored"] + c["processing"])
cols[4].metric(t("entities", L), c["entities"])
cols[5].metric(t("reviews", L), c["reviews"])

left, right = st.columns(2)
with left:
    st.subheader(t("needs_attention", L))
    if not o.failed and not o.unreviewed_total:
        st.success(t("nothing_pending", L))
    for n in o.failed:
        row = st.columns([5, 2])
        row[0].text(f"{n.filename} — {n.error_code}")  # file names are user input: plain text
        row[0].caption(t(f"err_{n.error_code}", L) if n.error_code else "")
        if row[1].button(t("retry", L), key=f"home_retry_{n.id}"):
            outcome = a.notes.retry(n.id)
            st.session_state["home_flash"] = (t("retry_ok", L) if outcome.ok else
                                              f"{outcome.error.code}: {outcome.error.message}" if outcome.error else "")
            st.rerun()
    if o.unreviewed_total:
        st.markdown(t("unreviewed", L, n=o.unreviewed_total))
        for n in o.unreviewed:
            if st.button(n.filename, icon=":material/fact_check:", key=f"home_review_{n.id}"):
                st.session_state["review_note"] = n.id
                st.switch_page("pages/2_Review.py")
    if "home_flash" in st.session_state:
        st.info(st.session_state.pop("home_flash"))

with right:
    st.subheader(t("recent_notes", L))
    if o.recent:
        for n in o.recent:
            row = st.columns([5, 2, 2])
            row[0].text(n.filename)
            row[1].text(t(f"status_{n.status.value}", L))
            if n.status.value == "done" and row[2].button(t("open_review", L), key=f"home_open_{n.id}"):
                st.session_state["review_note"] = n.id
                st.switch_page("pages/2_Review.py")
    else:
        st.caption("—")

st.subheader(t("backends", L))
st.dataframe(pd.DataFrame([{t("component", L): t(f"comp_{x.component}", L), t("backend", L): x.backend,
                            t("state", L): t(f"check_{x.status}", L), t("detail", L): x.detail} for x in o.checks]),
             hide_index=True, width="stretch")
