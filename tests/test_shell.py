"""The app shell (issue 10): navigation by role with stable URLs, every label in both languages, no raw codes in
visible tables, and Home as a starting point (counts, attention, recent notes, backends, first run)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from services import i18n
from services.domain import NoteStatus
from services.errors import ErrorCode
from services.wiring import App
from ui.shell import PAGES, available

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = [ROOT / "Home.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
CATEGORIES = ("symptom", "diagnosis", "medication", "test", "procedure", "anatomy", "phi")


def literal_keys() -> set[str]:
    """Every key passed as a string literal to t(...) in the pages and the UI helpers."""
    keys: set[str] = set()
    for path in UI_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "t" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    keys.add(first.value)
    return keys


def test_every_key_the_pages_use_exists_in_both_languages() -> None:
    keys = literal_keys()
    keys |= {f"cat_{c}" for c in CATEGORIES} | {f"assert_{a}" for a in ("present", "negated", "uncertain",
                                                                        "historical", "family")}
    keys |= {f"err_{c.value}" for c in ErrorCode} | {f"status_{s.value}" for s in NoteStatus}
    keys |= {title for _, _, _, title, _ in PAGES} | {f"nav_group_{g}" for g, *_ in PAGES if g}
    assert len(keys) > 100
    missing = sorted(k for k in keys if k not in i18n.STRINGS)
    assert missing == []
    empty = sorted(k for k in keys if not all(i18n.STRINGS[k]))
    assert empty == []


def test_every_page_file_is_in_the_navigation_with_a_stable_url() -> None:
    listed = {file for _, file, *_ in PAGES}
    assert {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")} <= listed
    urls = [url for _, _, url, *_ in PAGES]
    assert len(set(urls)) == len(urls)
    # The URLs pages had before the shell (Streamlit's pages/ names) keep working.
    assert {"Upload", "Review", "Prompt_Lab"} <= set(urls)


@pytest.fixture
def untranslated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys looked up while pages run that have no entry (t() would show the raw key)."""
    seen: list[str] = []
    real = i18n.t

    def checking(key: str, lang: str = "ko", **kwargs: Any) -> str:
        if key not in i18n.STRINGS:
            seen.append(key)
        return real(key, lang, **kwargs)

    monkeypatch.setattr(i18n, "t", checking)
    return seen


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("page", ["Home.py", *sorted(f for f in available() if "Overview" not in f)])
def test_pages_render_in_both_languages_without_untranslated_keys(
        seeded_app: App, untranslated: list[str], page: str, language: str) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=90)
    at.session_state["lang"] = language
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert untranslated == []
    hangul = re.compile("[가-힣]")
    titles = [x.value for x in at.title]
    assert titles and all(bool(hangul.search(x)) == (language == "ko") for x in titles[:1])


def test_review_table_shows_category_and_action_names_not_codes(app: App) -> None:
    note = app.notes.ingest("c.txt", "두통 호소. 타이레놀 500mg 복용.".encode()).note
    for language, names in (("ko", {"증상", "약물"}), ("en", {"Symptom", "Medication"})):
        at = AppTest.from_file(str(ROOT / "pages/2_Review.py"), default_timeout=60)
        at.session_state["lang"] = language
        at.session_state["review_note"] = note.id
        at.run()
        table = at.data_editor(key="entity_editor").value
        assert names <= set(table["category"]) and not set(table["category"]) & set(CATEGORIES)
        assert not set(table["status"]) & {"accept", "reject"} or language == "en"


def test_review_saves_codes_from_localized_rows(app: App) -> None:
    note = app.notes.ingest("s.txt", "두통 호소. 타이레놀 500mg 복용.".encode()).note
    at = AppTest.from_file(str(ROOT / "pages/2_Review.py"), default_timeout=60)
    at.session_state["review_note"] = note.id
    at.run()
    table = at.data_editor(key="entity_editor").value
    row = int(table.index[table["text"] == "타이레놀"][0])
    at.session_state["entity_editor"] = {"edited_rows": {row: {"status": "거절"}},
                                         "added_rows": [{"status": "수락", "category": "진단", "text": "호소"}],
                                         "deleted_rows": []}
    at.text_input(key="reviewer").set_value("Dr. Lee")
    at.button(key="save_review").click().run()
    assert not at.exception
    review = app.store.reviews(note.id)[0]
    assert "타이레놀" not in [e.text for e in review.entities]
    assert any(e.text == "호소" and e.category.value == "diagnosis" for e in review.entities)


def test_home_is_a_starting_point(app: App) -> None:
    good = app.notes.ingest("good.txt", "두통 호소.".encode()).note
    bad = app.notes.ingest("bad.txt", b"\x00\x01\x02binary").note
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["기록"], metrics["완료"], metrics["실패"]) == ("2", "1", "1")
    text = " ".join(x.value for x in at.text)
    assert "bad.txt" in text and "good.txt" in text
    assert any("검토를 기다리는 기록 1건" in m.value for m in at.markdown)
    assert at.button(key=f"home_retry_{bad.id}") and at.button(key=f"home_review_{good.id}")
    backends = next(d.value for d in at.dataframe if "백엔드" in d.value.columns)
    assert list(backends["상태"])[0] == "사용 가능"  # the local engine is ready
    assert not [i for i in at.info if "아직 기록이 없습니다" in i.value]


def test_home_says_what_to_do_on_first_run(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTELENS_SEED_SAMPLES", "false")
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("아직 기록이 없습니다" in i.value for i in at.info)


def test_home_reports_a_cloud_engine_without_credentials(data_dir: Path, no_aws_credentials: None) -> None:
    from services.config import load_settings
    from services.overview import engine_check

    check = engine_check(load_settings(extraction_engine="claude"))
    assert check.status == "missing" and "credentials" in check.detail
    unreachable = engine_check(load_settings(extraction_engine="llm", llm_base_url="http://127.0.0.1:9/v1"))
    assert unreachable.status == "unreachable"


def test_home_says_whether_a_whisper_model_is_there(tmp_path: Path) -> None:
    from services.config import load_settings
    from services.overview import transcription_check

    folder = tmp_path / "whisper"
    folder.mkdir()
    assert transcription_check(load_settings(data_dir=tmp_path, whisper_model=str(folder)), "whisper").status == "missing"
    (folder / "model.bin").write_bytes(b"x")
    assert transcription_check(load_settings(data_dir=tmp_path, whisper_model=str(folder)), "whisper").status == "ok"
    absent = transcription_check(load_settings(data_dir=tmp_path, whisper_model="no-such-size"), "whisper")
    assert absent.status == "missing" and "assemble_whisper_base" in absent.detail


def test_home_runs_the_overview_page_as_its_default(seeded_app: App) -> None:
    """pages/0_Overview.py is Home's content: the shell's default page (its page links need the shell, so it is
    tested through Home.py, not on its own)."""
    assert [file for _, file, url, *_ in PAGES if not url] == ["pages/0_Overview.py"]
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert int({m.label: m.value for m in at.metric}["기록"]) >= 30
