"""An OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server) as an extraction engine, for hospitals
whose notes may not leave the building: the same prompt files, tool schema, grounding, cache and scoring as
Claude. The tool call is the structured output; a server without tool calling may answer with the JSON in the
message (JSON mode), which is read the same way."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from services.extraction.llm import prompts
from services.extraction.llm.base import LLMEngine, Reply
from services.extraction.llm.prompts import Prompt
from services.extraction.llm.schema import TOOL_NAME, tool_spec

ENGINE_NAME = "llm"


class OpenAICompatibleEngine(LLMEngine):
    name = ENGINE_NAME

    def __init__(self, base_url: str, model_id: str, prompt: str | Prompt = "extraction", mask_phi: bool = True,
                 today: str | None = None, timeout: float = 300.0) -> None:
        super().__init__(model_id, prompt, mask_phi, today)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request_body(self, user: str, history: list[Any] | None = None) -> dict[str, Any]:
        spec = tool_spec()
        return {
            "model": self.model_id,
            "messages": [{"role": "user", "content": user}, *(history or [])],
            "temperature": self.prompt.temperature,
            "max_tokens": self.prompt.max_tokens,
            "tools": [{"type": "function", "function": {"name": TOOL_NAME, "description": spec["description"],
                                                        "parameters": spec["inputSchema"]["json"]}}],
            "tool_choice": {"type": "function", "function": {"name": TOOL_NAME}},
        }

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get("OPENAI_API_KEY")  # the usual variable of these servers, when they ask for one
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(f"{self.base_url}/chat/completions", data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the configured endpoint
            payload: dict[str, Any] = json.loads(resp.read().decode("utf-8"))
        return payload

    def _call(self, user: str, history: list[Any]) -> Reply:
        payload = self._post(self.request_body(user, history))
        message = payload["choices"][0]["message"]
        usage = payload.get("usage", {})
        tool_input: Any = None
        calls = message.get("tool_calls") or []
        raw = calls[0]["function"]["arguments"] if calls else message.get("content")
        if raw:
            try:
                tool_input = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError:
                tool_input = None
        return Reply(tool_input, message, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))

    def _repair_turns(self, reply: Reply, problem: str) -> list[Any]:
        message = {k: v for k, v in reply.turn.items() if k in ("role", "content", "tool_calls")}
        calls = message.get("tool_calls") or []
        if calls:
            return [message, {"role": "tool", "tool_call_id": calls[0].get("id", "call"),
                              "content": f"Invalid input: {problem}. Call {TOOL_NAME} again."}]
        return [message, {"role": "user", "content": f"Call the {TOOL_NAME} tool with valid input. ({problem})"}]


def from_settings() -> OpenAICompatibleEngine:
    from services.config import load_settings

    settings = load_settings()
    return OpenAICompatibleEngine(settings.llm_base_url, settings.llm_model,
                                  prompt=prompts.load(settings.claude_prompt, settings.prompts_dir),
                                  mask_phi=settings.cloud_mask_phi)
