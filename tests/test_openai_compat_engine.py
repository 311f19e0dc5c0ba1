"""The OpenAI-compatible backend against a real HTTP server on loopback: what it sends (no PHI, the tool schema),
tool calls and JSON-mode answers read back, grounding and the repair round."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from services.extraction.llm.base import LLMOutputError
from services.extraction.llm.openai_compat import OpenAICompatibleEngine

NOTE = "환자: 박정호 (M/67), 연락처 010-9876-5432\n주호소: 흉통, 호흡곤란 없음.\n진단: 안정형 협심증 의심\n"
ANSWER = {"entities": [{"category": "symptom", "text": "흉통"},
                       {"category": "symptom", "text": "호흡곤란", "negated": True},
                       {"category": "diagnosis", "text": "안정형 협심증", "uncertain": True},
                       {"category": "diagnosis", "text": "심근경색"}],
          "fields": {"age": 67, "sex": "M", "department": "순환기내과"}}


class _Server:
    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                owner.headers.append(dict(self.headers))
                payload = json.dumps(owner.replies.pop(0)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.httpd.shutdown()


def _tool_reply(arguments: Any) -> dict[str, Any]:
    return {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "record_entities", "arguments": json.dumps(arguments)}}]}}],
        "usage": {"prompt_tokens": 700, "completion_tokens": 90}}


def test_tool_call_round_trip_without_phi(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "local-token")
    server.replies.append(_tool_reply(ANSWER))
    result = OpenAICompatibleEngine(server.url, "qwen2.5:14b-instruct", today="2025-05-12").extract(NOTE)
    sent = json.dumps(server.requests[0], ensure_ascii=False)
    assert "박정호" not in sent and "010-9876-5432" not in sent and "[이름1]" in sent
    assert server.requests[0]["tool_choice"]["function"]["name"] == "record_entities"
    assert server.headers[0]["Authorization"] == "Bearer local-token"
    ents = {e.text: e for e in result.entities if e.category.value != "phi"}
    assert ents["호흡곤란"].negated and ents["안정형 협심증"].uncertain and NOTE[ents["흉통"].begin:ents["흉통"].end] == "흉통"
    assert ents["심근경색"].grounded is False
    assert result.engine == "llm" and result.usage["input_tokens"] == 700 and result.fields.department == "순환기내과"


def test_json_mode_answer_and_repair(server: _Server) -> None:
    server.replies.append({"choices": [{"message": {"role": "assistant", "content": "not json"}}]})
    server.replies.append({"choices": [{"message": {"role": "assistant", "content": json.dumps(ANSWER)}}]})
    result = OpenAICompatibleEngine(server.url, "llama3").extract(NOTE)
    assert len(server.requests) == 2 and "Call the record_entities tool" in server.requests[1]["messages"][-1]["content"]
    assert any(e.text == "흉통" for e in result.entities)
    server.replies += [_tool_reply({"entities": [{"text": "no category"}]})] * 2
    with pytest.raises(LLMOutputError):
        OpenAICompatibleEngine(server.url, "llama3").extract(NOTE)
