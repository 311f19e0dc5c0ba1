"""Shared page plumbing: the cached App, the language switch and labels."""

from __future__ import annotations

import streamlit as st

from services.config import load_settings
from services.i18n import t
from services.wiring import App, build_app


@st.cache_resource(show_spinner="NoteLens 준비 중… / starting…")
def _app(data_dir: str) -> App:
    return build_app(load_settings(data_dir=data_dir))


def app() -> App:
    # Keyed by the data folder so tests (and users) switching NOTELENS_DATA_DIR get their own.
    return _app(str(load_settings().data_dir))


def lang() -> str:
    if "lang" not in st.session_state:
        st.session_state["lang"] = load_settings().language
    return str(st.session_state["lang"])


def sidebar() -> str:
    current = lang()
    st.sidebar.radio(
        t("language", current), ["ko", "en"], key="lang", horizontal=True,
        format_func=lambda v: "한국어" if v == "ko" else "English",
    )
    return lang()


def category_labels(language: str) -> dict[str, str]:
    cats = ("symptom", "diagnosis", "medication", "test", "procedure", "anatomy", "phi")
    return {c: t(f"cat_{c}", language) for c in cats}
