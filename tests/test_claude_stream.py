"""The streaming path end to end: boto3's real HTTP stack and event-stream parser against a loopback endpoint
(AWS_ENDPOINT_URL_BEDROCK_RUNTIME) that answers ConverseStream with AWS event-stream frames."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from services.extraction.llm.claude import ClaudeEngine, bedrock_client
from tests.bedrock_stream import CONTENT_TYPE, tool_answer
from tests.loopback import LoopbackServer

ANSWER = json.dumps({"entities": [{"category": "symptom", "text": "기침"}, {"category": "symptom", "text": "발열",
                                                                            "negated": True}],
                     "fields": {"department": "호흡기내과"}}, ensure_ascii=False)
PIECES = [ANSWER[:20], ANSWER[20:60], ANSWER[60:]]


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.replies.append((CONTENT_TYPE, tool_answer(PIECES)))
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    yield server
    server.close()


def test_streamed_answer_arrives_in_pieces_and_is_grounded(endpoint: LoopbackServer) -> None:
    note = "환자 이서연 (F/34): 3일 전부터 기침, 발열은 없음."
    engine = ClaudeEngine(client=bedrock_client(), model_id="apac.anthropic.claude-sonnet-4-5-20250929-v1:0")
    pieces: list[str] = []
    result = engine.stream(note, pieces.append)
    assert pieces == PIECES  # the UI sees the answer as it streams in
    request = endpoint.requests[0]
    assert request["path"].endswith("/converse-stream") and "이서연" not in json.dumps(request["body"], ensure_ascii=False)
    found = {e.text: e for e in result.entities if e.category.value == "symptom"}
    assert set(found) == {"기침", "발열"} and found["발열"].negated and all(e.grounded for e in found.values())
    assert result.usage["input_tokens"] == 50 and result.fields.department == "호흡기내과"
