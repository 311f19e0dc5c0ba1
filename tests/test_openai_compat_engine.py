"""The OpenAI-compatible backend against a real HTTP server on loopback: what it sends (no PHI, the tool schema),
tool calls and JSON-mode answers read back, grounding and the repair round."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from services.extraction.llm.base import LLMOutputError
from services.extraction.llm.openai_compat import OpenAICompatibleEngine
from tests.loopback import LoopbackServer

NOTE = "환자: 박정호 (M/67), 연락처 010-9876-5432\n주호소: 흉통, 호흡곤란 없음.\n진단: 안정형 협심증 의심\n"
ANSWER = {"entities": [{"category": "symptom", "text": "흉통"},
                       {"category": "symptom", "text": "호흡곤란", "negated": True},
                       {"category": "diagnosis", "text": "안정형 협심증", "uncertain": True},
                       {"category": "diagnosis", "text": "심근경색"}],
          "fields": {"age": 67, "sex": "M", "department": "순환기내과"}}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    s = LoopbackServer()
    yield s
    s.close()


def _tool_reply(arguments: Any) -> dict[str, Any]:
    return {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "record_entities", "arguments": json.dumps(arguments)}}]}}],
        "usage": {"prompt_tokens": 700, "completion_tokens": 90}}


def test_tool_call_round_trip_without_phi(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "local-token")
    server.reply_json(_tool_reply(ANSWER))
    result = OpenAICompatibleEngine(f"{server.url}/v1", "qwen2.5:14b-instruct", today="2025-05-12").extract(NOTE)
    request = server.requests[0]
    sent = json.dumps(request["body"], ensure_ascii=False)
    assert request["path"] == "/v1/chat/completions"
    assert "박정호" not in sent and "010-9876-5432" not in sent and "[이름1]" in sent
    assert request["body"]["tool_choice"]["function"]["name"] == "record_entities"
    assert request["headers"]["Authorization"] == "Bearer local-token"
    ents = {e.text: e for e in result.entities if e.category.value != "phi"}
    assert ents["호흡곤란"].negated and ents["안정형 협심증"].uncertain and NOTE[ents["흉통"].begin:ents["흉통"].end] == "흉통"
    assert ents["심근경색"].grounded is False
    assert result.engine == "llm" and result.usage["input_tokens"] == 700 and result.fields.department == "순환기내과"


def test_json_mode_answer_and_repair(server: LoopbackServer) -> None:
    server.reply_json({"choices": [{"message": {"role": "assistant", "content": "not json"}}]})
    server.reply_json({"choices": [{"message": {"role": "assistant", "content": json.dumps(ANSWER)}}]})
    result = OpenAICompatibleEngine(f"{server.url}/v1", "llama3").extract(NOTE)
    assert len(server.requests) == 2
    assert "Call the record_entities tool" in server.requests[1]["body"]["messages"][-1]["content"]
    assert any(e.text == "흉통" for e in result.entities)
    for _ in range(2):
        server.reply_json(_tool_reply({"entities": [{"text": "no category"}]}))
    with pytest.raises(LLMOutputError):
        OpenAICompatibleEngine(f"{server.url}/v1", "llama3").extract(NOTE)
