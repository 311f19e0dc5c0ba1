"""Claude on Bedrock, with botocore's Stubber: every request is validated against the bedrock-runtime service
model, and the tests read exactly what would leave the machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from services.extraction.llm import prompts
from services.extraction.llm.claude import ClaudeEngine, LLMOutputError
from services.extraction.llm.grounding import ground
from services.extraction.llm.schema import TOOL_NAME
from services.wiring import App

NOTE = (
    "환자: 김민수 (M/45), 주민등록번호 850101-1234567, 연락처 010-1234-5678\n"
    "C.C: 두통, 오심. 구토는 없음.\n"
    "진단: 긴장성 두통\n처방: 아세트아미노펜 500mg tid po\n"
)


def _client() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _response(tool_input: dict[str, Any]) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "tu1", "name": TOOL_NAME, "input": tool_input}}]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 900, "outputTokens": 120, "totalTokens": 1020},
        "metrics": {"latencyMs": 850},
    }


GOOD = {
    "entities": [
        {"category": "symptom", "text": "두통", "offset_hint": 60},
        {"category": "symptom", "text": "오심"},
        {"category": "symptom", "text": "구토", "negated": True},
        {"category": "diagnosis", "text": "긴장성 두통"},
        {"category": "medication", "text": "아세트아미노펜", "attributes": {"dosage": "500mg", "frequency": "tid"}},
        {"category": "diagnosis", "text": "편두통"},  # not in the note: must be flagged, not kept as real
    ],
    "fields": {"age": 45, "sex": "M", "department": "신경과", "summary": "두통과 오심으로 내원."},
}


def _engine(client: Any) -> ClaudeEngine:
    return ClaudeEngine(client=client, model_id="apac.anthropic.claude-sonnet-4-5-20250929-v1:0", today="2025-05-07")


def test_converse_request_is_valid_and_carries_no_phi() -> None:
    client = _client()
    sent: list[dict[str, Any]] = []
    client.meta.events.register("before-parameter-build.bedrock-runtime.Converse", lambda params, **_: sent.append(params))
    with Stubber(client) as stub:  # validates the request against the service model
        stub.add_response("converse", _response(GOOD), {"modelId": "apac.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                                          "messages": ANY, "inferenceConfig": ANY, "toolConfig": ANY})
        result = _engine(client).extract(NOTE)
        stub.assert_no_pending_responses()
    body = json.dumps(sent, ensure_ascii=False)
    for secret in ("김민수", "850101-1234567", "010-1234-5678"):
        assert secret not in body
    assert "[이름1]" in body and sent[0]["toolConfig"]["toolChoice"] == {"tool": {"name": TOOL_NAME}}
    assert result.prompt_version == "extraction@v1" and result.fields.department == "신경과"


def test_mentions_are_grounded_or_flagged() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("converse", _response(GOOD))
        result = _engine(client).extract(NOTE)
    by_text = {e.text: e for e in result.entities if e.category.value != "phi"}
    for e in by_text.values():
        if e.grounded:
            assert NOTE[e.begin:e.end] == e.text
    assert by_text["편두통"].grounded is False  # an invented mention is kept, flagged
    assert by_text["구토"].negated and by_text["아세트아미노펜"].attributes["dosage"] == "500mg"
    assert {e.attributes["phi_type"] for e in result.entities if e.category.value == "phi"} >= {"name", "rrn", "phone"}


def test_one_repair_round_then_a_clear_failure() -> None:
    client = _client()
    bad = {"entities": [{"category": "feeling", "text": "두통"}]}
    with Stubber(client) as stub:
        stub.add_response("converse", _response(bad))
        stub.add_response("converse", _response(GOOD))
        result = _engine(client).extract(NOTE)
        stub.assert_no_pending_responses()
    assert any(e.text == "오심" for e in result.entities)
    with Stubber(client) as stub:
        stub.add_response("converse", _response(bad))
        stub.add_response("converse", _response(bad))
        with pytest.raises(LLMOutputError):
            _engine(client).extract(NOTE)


def test_throttling_surfaces_as_a_client_error() -> None:
    """Retries are botocore's (adaptive mode); a throttled call that stays throttled is an error the note
    service records as EXTRACTION_FAILED, never a silent empty result."""
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
        with pytest.raises(Exception, match="Throttling"):
            _engine(client).extract(NOTE)


@pytest.mark.parametrize(
    ("text", "mention", "hint", "span"),
    [
        ("두통 호소. 이전에도 두통 있었음", "두통", 12, (12, 14)),  # a repeated word: the one nearest the hint
        ("혈액 검사 시행", "혈액검사", None, (0, 5)),  # spacing differs
        ("chest CT 시행", "Chest ct", None, (0, 8)),  # ASCII case differs
        ("두통 호소", "편두통", None, None),
    ],
)
def test_grounding(text: str, mention: str, hint: int | None, span: tuple[int, int] | None) -> None:
    assert ground(text, mention, hint) == span


def test_repeated_mentions_land_on_their_own_places() -> None:
    text = "두통 호소. 두통 지속."
    first = ground(text, "두통")
    assert first is not None and ground(text, "두통", taken={first}) == (7, 9)


def test_prompt_files_parse_with_front_matter(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "v1.md").write_text("---\ntemperature: 0.2\nmax_tokens: 100\n---\nA {note_text} {today} {x}", "utf-8")
    (tmp_path / "x" / "v10.md").write_text("B {note_text}", "utf-8")
    assert prompts.versions("x", tmp_path) == ["v1", "v10"]
    assert prompts.load("x", tmp_path).version == "v10"
    p = prompts.load("x@v1", tmp_path)
    assert (p.temperature, p.max_tokens) == (0.2, 100)
    assert p.render("노트 {중괄호}", "2025-01-01", "") == "A 노트 {중괄호} 2025-01-01 {x}"
    shipped = prompts.load("extraction")
    assert "{note_text}" in shipped.body and shipped.meta["model"]


def test_engine_is_chosen_by_configuration_without_touching_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.extraction import get_extractor

    monkeypatch.setenv("NOTELENS_CLAUDE_MODEL_ID", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    monkeypatch.setenv("NOTELENS_CLAUDE_PROMPT", "extraction@v1")
    engine = get_extractor("claude")
    assert isinstance(engine, ClaudeEngine) and engine.model_id.startswith("us.") and engine._client is None


def test_cache_second_run_makes_no_call_and_says_so(tmp_path: Path) -> None:
    from services.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "db.sqlite3")
    client = _client()
    engine = _engine(client)
    engine.attach_cache(store)
    with Stubber(client) as stub:  # exactly one response: a second call would fail the stub
        stub.add_response("converse", _response(GOOD))
        first = engine.extract(NOTE)
        second = engine.extract(NOTE)
        stub.assert_no_pending_responses()
    assert engine.calls == 1 and not first.cached and second.cached
    assert second.entities == first.entities
    assert first.usage["input_tokens"] == 900 and first.usage["cost_usd"] == pytest.approx((900 * 3 + 120 * 15) / 1e6)
    changed = ClaudeEngine(client=client, model_id="apac.anthropic.claude-sonnet-4-5-20250929-v1:0", today="2025-05-07",
                           mask_phi=False)
    assert changed.cache_key(NOTE) != engine.cache_key(NOTE)  # other inference settings, other entry


def test_a_note_that_fails_for_missing_credentials_says_what_to_set(app: App, no_aws_credentials: None) -> None:
    from services.extraction.llm.claude import ClaudeEngine
    from services.notes import NoteService

    service = NoteService(app.store, app.notes.blobs, ClaudeEngine(), app.settings.max_note_bytes)
    outcome = service.ingest("c.txt", "두통 호소.".encode())
    assert outcome.error is not None and outcome.error.code.value == "EXTRACTION_FAILED"
    assert "AWS_PROFILE" in outcome.note.error_message and outcome.note.status.value == "failed"
    assert app.store.get_note(outcome.note.id).text == "두통 호소."  # nothing lost: retry once configured
