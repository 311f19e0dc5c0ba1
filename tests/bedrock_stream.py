"""AWS event-stream frames as Bedrock's ConverseStream sends them, for tests that answer boto3 from a loopback
endpoint (its real HTTP stack and event-stream parser run)."""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"


def frame(event_type: str, payload: dict[str, Any]) -> bytes:
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


def tool_answer(pieces: list[str], input_tokens: int = 50, output_tokens: int = 30) -> bytes:
    """A whole ConverseStream answer: the tool input arriving in ``pieces``, then the usage metadata."""
    frames = [frame("messageStart", {"role": "assistant"}),
              frame("contentBlockStart", {"start": {"toolUse": {"toolUseId": "t1", "name": "record_entities"}},
                                          "contentBlockIndex": 0})]
    frames += [frame("contentBlockDelta", {"delta": {"toolUse": {"input": p}}, "contentBlockIndex": 0}) for p in pieces]
    frames += [frame("contentBlockStop", {"contentBlockIndex": 0}), frame("messageStop", {"stopReason": "tool_use"}),
               frame("metadata", {"usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                                            "totalTokens": input_tokens + output_tokens}, "metrics": {"latencyMs": 12}})]
    return b"".join(frames)


def converse_answer(tool_input: dict[str, Any], input_tokens: int = 50, output_tokens: int = 30) -> bytes:
    """A whole Converse (non-streaming) answer with one forced tool call."""
    return json.dumps({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "t1", "name": "record_entities", "input": tool_input}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                                            "totalTokens": input_tokens + output_tokens},
        "metrics": {"latencyMs": 12}}).encode()


def router(tool_input: dict[str, Any], pieces: int = 4) -> Any:
    """A loopback route answering ConverseStream and Converse alike with ``tool_input``."""
    answer = json.dumps(tool_input, ensure_ascii=False)
    step = max(1, len(answer) // pieces)
    parts = [answer[i:i + step] for i in range(0, len(answer), step)]

    def route(path: str, body: dict[str, Any]) -> tuple[str, bytes]:
        if path.endswith("/converse-stream"):
            return CONTENT_TYPE, tool_answer(parts)
        return "application/json", converse_answer(tool_input)

    return route
