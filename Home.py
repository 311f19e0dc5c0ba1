"""NoteLens home: what this is, counts, active backends, where to go next."""

import streamlit as st

from services.i18n import t
from ui.common import app, sidebar

st.set_page_config(page_title="NoteLens", page_icon="🩺", layout="wide")
L = sidebar()
a = app()

st.title(t("app_title", L))
st.write(t("app_intro", L))

counts = a.store.counts()
st.subheader(t("counts", L))
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(t("notes", L), counts["notes"])
c2.metric(t("done", L), counts["done"])
c3.metric(t("failed", L), counts["failed"])
c4.metric(t("entities", L), counts["entities"])
c5.metric(t("reviews", L), counts["reviews"])

st.subheader(t("backends", L))
st.table({t("component", L): list(a.backends().keys()), t("backend", L): list(a.backends().values())})

st.page_link("pages/1_Upload.py", label=t("go_upload", L), icon="📤")
st.page_link("pages/2_Review.py", label=t("go_review", L), icon="🔎")
