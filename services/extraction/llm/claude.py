"""Claude on Amazon Bedrock as an extraction engine (Converse with a forced tool call).

Region, credentials and endpoint come only from boto3's standard configuration (env vars, profiles,
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``). Masking, grounding, repair and the cache are the shared LLM engine's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from services.domain import ExtractionResult
from services.extraction.llm import prompts
from services.extraction.llm.base import LLMEngine, LLMOutputError, Reply, ResultCache, estimated_cost
from services.extraction.llm.prompts import Prompt
from services.extraction.llm.schema import TOOL_NAME, tool_spec

__all__ = ["DEFAULT_MODEL", "ClaudeEngine", "LLMOutputError", "ResultCache", "estimated_cost", "from_settings"]

ENGINE_NAME = "claude"
DEFAULT_MODEL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"


def bedrock_client() -> Any:
    import boto3
    from botocore.config import Config

    # A new session per client reads the standard configuration afresh (a profile logged in or a region set while
    # the app runs is picked up). Adaptive retries back off on throttling; a long read timeout for long notes.
    config = Config(retries={"mode": "adaptive", "max_attempts": 6}, read_timeout=180, connect_timeout=10)
    return boto3.session.Session().client("bedrock-runtime", config=config)


class ClaudeEngine(LLMEngine):
    name = ENGINE_NAME

    def __init__(self, client: Any | None = None, model_id: str = DEFAULT_MODEL, prompt: str | Prompt = "extraction",
                 mask_phi: bool = True, today: str | None = None) -> None:
        super().__init__(model_id, prompt, mask_phi, today)
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = bedrock_client()
        return self._client

    def converse_params(self, user: str, history: list[Any] | None = None) -> dict[str, Any]:
        return {
            "modelId": self.model_id,
            "messages": [{"role": "user", "content": [{"text": user}]}, *(history or [])],
            "inferenceConfig": {"temperature": self.prompt.temperature, "maxTokens": self.prompt.max_tokens},
            "toolConfig": {"tools": [{"toolSpec": tool_spec()}], "toolChoice": {"tool": {"name": TOOL_NAME}}},
        }

    def _call(self, user: str, history: list[Any]) -> Reply:
        response = self.client.converse(**self.converse_params(user, history))
        content = response["output"]["message"]["content"]
        tool = next((c["toolUse"] for c in content if "toolUse" in c), None)
        usage = response.get("usage", {})
        return Reply(tool["input"] if tool else None, (content, tool), usage.get("inputTokens", 0),
                     usage.get("outputTokens", 0))

    def stream(self, text: str, on_delta: Callable[[str], None]) -> ExtractionResult:
        """The live run of the Prompt Lab: ConverseStream, each piece of the tool input handed to ``on_delta`` as it
        arrives, then the same validation, grounding and cache as ``extract`` (a cached result makes no call)."""
        return self._extract(text, lambda user, history: self._call_stream(user, history, on_delta))

    def _call_stream(self, user: str, history: list[Any], on_delta: Callable[[str], None]) -> Reply:
        response = self.client.converse_stream(**self.converse_params(user, history))
        parts: list[str] = []
        tool_id, usage = "stream", {}
        for event in response["stream"]:
            if "contentBlockStart" in event:
                tool_id = event["contentBlockStart"]["start"].get("toolUse", {}).get("toolUseId", tool_id)
            elif "contentBlockDelta" in event:
                delta = event["contentBlockDelta"]["delta"]
                piece = delta.get("toolUse", {}).get("input", "") or delta.get("text", "")
                parts.append(piece)
                on_delta(piece)
            elif "metadata" in event:
                usage = event["metadata"].get("usage", {})
        try:
            tool_input = json.loads("".join(parts))
        except json.JSONDecodeError:
            tool_input = None
        tool = {"toolUseId": tool_id, "name": TOOL_NAME, "input": tool_input if isinstance(tool_input, dict) else {}}
        return Reply(tool_input, ([{"toolUse": tool}], tool), usage.get("inputTokens", 0), usage.get("outputTokens", 0))

    def _repair_turns(self, reply: Reply, problem: str) -> list[Any]:
        content, tool = reply.turn
        if tool is None:
            return [{"role": "assistant", "content": content},
                    {"role": "user", "content": [{"text": f"Call the {TOOL_NAME} tool. ({problem})"}]}]
        return [{"role": "assistant", "content": content},
                {"role": "user", "content": [{"toolResult": {
                    "toolUseId": tool["toolUseId"], "status": "error",
                    "content": [{"text": f"The input does not match the schema: {problem}. Call the tool again."}]}}]}]


def from_settings() -> ClaudeEngine:
    from services.config import load_settings

    settings = load_settings()
    return ClaudeEngine(model_id=settings.claude_model_id, prompt=prompts.load(settings.claude_prompt, settings.prompts_dir),
                        mask_phi=settings.cloud_mask_phi)
