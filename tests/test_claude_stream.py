"""The streaming path end to end: boto3's real HTTP stack and event-stream parser against a loopback endpoint
(AWS_ENDPOINT_URL_BEDROCK_RUNTIME) that answers ConverseStream with AWS event-stream frames."""

from __future__ import annotations

import binascii
import json
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from services.extraction.llm.claude import ClaudeEngine, bedrock_client
from tests.loopback import LoopbackServer


def _frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """One AWS event-stream message: prelude (lengths + CRC), string headers, JSON payload, message CRC."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        n, v = name.encode(), value.encode()
        headers += struct.pack("B", len(n)) + n + b"\x07" + struct.pack(">H", len(v)) + v
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


ANSWER = json.dumps({"entities": [{"category": "symptom", "text": "기침"}, {"category": "symptom", "text": "발열",
                                                                            "negated": True}],
                     "fields": {"department": "호흡기내과"}}, ensure_ascii=False)
PIECES = [ANSWER[:20], ANSWER[20:60], ANSWER[60:]]


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    frames = [_frame("messageStart", {"role": "assistant"}),
              _frame("contentBlockStart", {"start": {"toolUse": {"toolUseId": "t1", "name": "record_entities"}},
                                           "contentBlockIndex": 0})]
    frames += [_frame("contentBlockDelta", {"delta": {"toolUse": {"input": p}}, "contentBlockIndex": 0}) for p in PIECES]
    frames += [_frame("contentBlockStop", {"contentBlockIndex": 0}), _frame("messageStop", {"stopReason": "tool_use"}),
               _frame("metadata", {"usage": {"inputTokens": 50, "outputTokens": 30, "totalTokens": 80},
                                   "metrics": {"latencyMs": 12}})]
    server.replies.append(("application/vnd.amazon.eventstream", b"".join(frames)))
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
