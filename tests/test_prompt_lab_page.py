"""AppTest for the Prompt Lab: edit (diff shown), run with the answer streamed from a Bedrock endpoint on loopback
(boto3's real HTTP and event-stream code), the diff against the local engine, the cache, a gold-set evaluation,
saving a version, review → gold export, and a clear message when AWS is not configured."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from services.config import load_settings
from services.domain import NoteFields
from services.wiring import App, build_app
from tests.bedrock_stream import router
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "3_Prompt_Lab.py")
NOTE = "환자 김민수 (M/45) 3일 전부터 두통, 발열은 없음. 타이레놀 500mg 복용."
ANSWER = {"entities": [{"category": "symptom", "text": "두통"},
                       {"category": "symptom", "text": "발열", "negated": True},
                       {"category": "medication", "text": "타이레놀", "attributes": {"dosage": "500mg"}},
                       {"category": "symptom", "text": "흉통"}],  # invented: not in the note
          "fields": {"department": "신경과"}}


@pytest.fixture
def lab_app(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)  # saving must never touch the repository's prompts
    monkeypatch.setenv("NOTELENS_PROMPTS_DIR", str(prompts))
    monkeypatch.setenv("NOTELENS_SEED_SAMPLES", "false")
    return build_app(load_settings(data_dir=data_dir), seed=False)


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.route = router(ANSWER)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    yield server
    server.close()


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The page's table with that column (AppTest finds dataframes by position, not key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_edit_shows_the_diff_and_saves_the_next_version(lab_app: App) -> None:
    at = page()
    saved = at.text_area(key="pl_editor").value
    assert "{note_text}" in saved
    at.text_area(key="pl_editor").set_value(saved + "\n- 약물은 용량과 함께 적으세요.\n").run()
    code = " ".join(c.value for c in at.code)
    assert "+- 약물은 용량과 함께 적으세요." in code  # the unified diff against the saved version
    at.button(key="pl_save").click().run()
    assert any("변경 이유" in w.value for w in at.warning)  # a version needs its CHANGELOG line
    at.text_input(key="pl_why").set_value("약물 용량을 함께 추출")
    at.button(key="pl_save").click().run()
    assert not at.exception
    folder = lab_app.settings.prompts_dir / "extraction"
    assert "약물은 용량과 함께" in (folder / "v2.md").read_text(encoding="utf-8")
    assert "v2 — 약물 용량을 함께 추출" in (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    assert at.selectbox(key="pl_version").value == "v2"
    assert any("v2" in s.value for s in at.success)
    assert not (ROOT / "prompts" / "extraction" / "v2.md").exists()


def test_run_streams_the_answer_flags_the_invented_entity_and_diffs_against_local(
        lab_app: App, bedrock: LoopbackServer) -> None:
    note = lab_app.notes.ingest("lab.txt", NOTE.encode()).note
    at = page()
    at.selectbox(key="pl_note").set_value(note.id)
    at.button(key="pl_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    # The streamed answer was shown as it came in (the last state of the streaming box is the whole answer).
    assert any('"흉통"' in c.value for c in at.code)
    request = json.dumps(bedrock.requests[0]["body"], ensure_ascii=False)
    assert bedrock.requests[0]["path"].endswith("/converse-stream") and "김민수" not in request
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["원문에 없음"] == "1" and metrics["입력 토큰"] == "50"
    assert any("흉통" in w.value for w in at.warning)  # ungrounded: flagged, not highlighted
    changes = table(at, "차이")
    added = set(changes.loc[changes["차이"] == "추가", "원문 표현"])
    assert "흉통" in added
    # A second run of the same prompt on the same note comes from the cache: no call.
    at.button(key="pl_run").click().run()
    assert len(bedrock.requests) == 1
    assert any("캐시" in i.value for i in at.info)


def test_evaluate_a_version_on_a_gold_set_exported_from_a_review(lab_app: App, bedrock: LoopbackServer) -> None:
    note = lab_app.notes.ingest("gold.txt", NOTE.encode()).note
    ext = lab_app.store.extractions(note.id)[-1]
    lab_app.store.add_review(note.id, ext.id, "Dr. Kim", ext.entities, NoteFields(department="신경과"), {})
    at = page()
    at.button(key="pl_export_button").click().run()
    assert any("reviewed" in s.value for s in at.success)
    gold = lab_app.settings.data_dir / "gold" / "reviewed.jsonl"
    assert json.loads(gold.read_text(encoding="utf-8").splitlines()[0])["department"] == "신경과"
    sets = table(at, "기록 수")
    assert {"dev", "blind_test", "reviewed"} <= set(sets["골드셋"])
    at.selectbox(key="pl_gold").set_value("reviewed")
    at.button(key="pl_evaluate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    scores = table(at, "micro F1")
    assert list(scores["실행"]) == ["local", "extraction@v1"]
    claude = scores.iloc[1]
    assert claude["입력 토큰"] == 50 and claude["원문 일치율"] < 1.0  # the invented 흉통 is counted
    assert 0.0 < claude["micro F1"] <= 1.0
    # The locked split is listed but cannot be chosen for a run.
    assert "blind_test" not in at.selectbox(key="pl_gold").options
    at.selectbox(key="pl_drill").set_value("gold-" + note.id[:8] + ".txt").run()
    assert not at.exception


def test_missing_aws_credentials_give_a_clear_message(lab_app: App, no_aws_credentials: None) -> None:
    note = lab_app.notes.ingest("x.txt", NOTE.encode()).note
    at = page()
    at.selectbox(key="pl_note").set_value(note.id)
    at.button(key="pl_run").click().run()
    assert not at.exception
    assert any("자격 증명" in e.value and "credentials" in e.value for e in at.error)


def test_page_renders_in_english(lab_app: App) -> None:
    at = page()
    at.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Prompt Lab"


def test_review_says_which_engine_and_prompt_made_the_result_and_that_it_came_from_the_cache(
        lab_app: App, bedrock: LoopbackServer) -> None:
    from services.notes import NoteService

    engine = lab_app.promptlab.engine("claude", lab_app.promptlab.prompt("extraction", "v1"), "apac.anthropic.x")
    service = NoteService(lab_app.store, lab_app.notes.blobs, engine, lab_app.settings.max_note_bytes)
    first = service.ingest("a.txt", NOTE.encode()).note
    second = service.ingest("b.txt", (NOTE + " 추가 기록.").encode()).note
    service.process(first.id)  # the same text again: the cache answers, no third call
    assert len(bedrock.requests) == 2
    at = AppTest.from_file(str(ROOT / "pages" / "2_Review.py"), default_timeout=60)
    at.session_state["review_note"] = first.id
    at.run()
    caption = " ".join(c.value for c in at.caption)
    assert "claude" in caption and "extraction@v1" in caption and "캐시" in caption and "원문에 없는 항목 1개" in caption
    at.session_state["review_note"] = second.id
    at.run()
    assert "캐시" not in " ".join(c.value for c in at.caption)
