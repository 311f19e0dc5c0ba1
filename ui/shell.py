"""The app shell: navigation grouped by who uses each page, titles in the chosen language, stable URLs.
Home.py runs it; each page still renders its own sidebar (language switch) and content."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from services.i18n import t
from ui.common import lang

ROOT = Path(__file__).resolve().parent.parent

# (group, file, url path, title key, icon). The URL paths are the ones the pages had before the shell, so links
# and bookmarks keep working. A page whose file has not landed yet is left out rather than breaking the app.
PAGES: list[tuple[str, str, str, str, str]] = [
    ("", "pages/0_Overview.py", "", "nav_home", ":material/home:"),
    ("clinician", "pages/1_Upload.py", "Upload", "nav_upload", ":material/upload_file:"),
    ("clinician", "pages/2_Review.py", "Review", "nav_review", ":material/fact_check:"),
    ("prompt", "pages/3_Prompt_Lab.py", "Prompt_Lab", "nav_prompt_lab", ":material/science:"),
    ("manager", "pages/4_Search.py", "Search", "nav_search", ":material/search:"),
    ("manager", "pages/5_Analytics.py", "Analytics", "nav_analytics", ":material/monitoring:"),
    ("manager", "pages/6_Hospital_Map.py", "Hospital_Map", "nav_map", ":material/map:"),
]


def icon(file: str) -> str:
    return next(i for _, f, _, _, i in PAGES if f == file)


def available() -> set[str]:
    """The page files that exist (pages of issues still in flight are left out)."""
    return {file for _, file, *_ in PAGES if (ROOT / file).is_file()}


def navigation() -> dict[str, list[st.Page]]:
    language = lang()
    groups: dict[str, list[st.Page]] = {}
    for group, file, url, title, icon in PAGES:
        if file not in available():
            continue
        page = st.Page(file, title=t(title, language), icon=icon, url_path=url or None, default=not url)
        groups.setdefault(t(f"nav_group_{group}", language) if group else "", []).append(page)
    return groups


def run() -> None:
    st.set_page_config(page_title="NoteLens", page_icon="🩺", layout="wide")
    st.navigation(navigation()).run()
