"""Claude on Amazon Bedrock as an extraction engine (Converse with a forced tool call).

Region, credentials and endpoint come only from boto3's standard configuration (env vars, profiles,
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``). PHI is masked by the local recognizers before the request is built
(on by default); placeholders are restored and every mention is located in the original text, or flagged
``grounded=False`` — never silently kept as real.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from typing import Any

from pydantic import ValidationError

from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.extraction.llm import prompts
from services.extraction.llm.grounding import ground
from services.extraction.llm.schema import CLINICAL, TOOL_NAME, LLMAnswer, tool_spec
from services.extraction.local.phi import MaskEntry, find_phi, mask

ENGINE_NAME = "claude"
DEFAULT_MODEL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
log = logging.getLogger(__name__)


class LLMOutputError(RuntimeError):
    """The model's answer did not fit the tool schema, even after one repair round."""


def bedrock_client() -> Any:
    import boto3
    from botocore.config import Config

    # Adaptive retries back off on throttling; a long read timeout for long notes.
    return boto3.client("bedrock-runtime", config=Config(retries={"mode": "adaptive", "max_attempts": 6},
                                                          read_timeout=180, connect_timeout=10))


def _restore(value: str, entries: list[MaskEntry]) -> str:
    for entry in entries:
        value = value.replace(entry.placeholder, entry.text)
    return value


class ClaudeEngine:
    name = ENGINE_NAME

    def __init__(self, client: Any | None = None, model_id: str = DEFAULT_MODEL, prompt: str = "extraction",
                 mask_phi: bool = True, today: str | None = None) -> None:
        self._client = client
        self.model_id = model_id
        self.prompt = prompts.load(prompt)
        self.mask_phi = mask_phi
        self.today = today
        self.last_usage: dict[str, Any] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = bedrock_client()
        return self._client

    def request(self, text: str) -> tuple[dict[str, Any], list[MaskEntry], list[tuple[int, int, str]]]:
        """The Converse request for a note, with the PHI map used to build it."""
        phi = find_phi(text)
        masked, entries = mask(text, phi) if self.mask_phi else (text, [])
        user = self.prompt.render(masked, self.today or date.today().isoformat(), ", ".join(CLINICAL))
        params = {
            "modelId": self.model_id,
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "inferenceConfig": {"temperature": self.prompt.temperature, "maxTokens": self.prompt.max_tokens},
            "toolConfig": {"tools": [{"toolSpec": tool_spec()}], "toolChoice": {"tool": {"name": TOOL_NAME}}},
        }
        return params, entries, phi

    def _answer(self, params: dict[str, Any]) -> LLMAnswer:
        messages = list(params["messages"])
        for attempt in range(2):
            started = time.perf_counter()
            response = self.client.converse(**{**params, "messages": messages})
            usage = response.get("usage", {})
            self.last_usage = {"input_tokens": usage.get("inputTokens", 0), "output_tokens": usage.get("outputTokens", 0),
                               "latency_ms": round((time.perf_counter() - started) * 1000)}
            content = response["output"]["message"]["content"]
            tool = next((c["toolUse"] for c in content if "toolUse" in c), None)
            try:
                if tool is None:
                    raise LLMOutputError("the model answered without calling the tool")
                return LLMAnswer.model_validate(tool["input"])
            except (ValidationError, LLMOutputError) as exc:
                if attempt == 1:
                    raise LLMOutputError(f"invalid answer after one repair round: {type(exc).__name__}") from exc
                # One repair round: show the model what was wrong and ask for the tool call again.
                problem = str(exc)[:1500]
                messages += [{"role": "assistant", "content": content}]
                if tool is not None:
                    messages.append({"role": "user", "content": [{"toolResult": {
                        "toolUseId": tool["toolUseId"], "status": "error",
                        "content": [{"text": f"The input does not match the schema: {problem}. Call the tool again."}]}}]})
                else:
                    messages.append({"role": "user", "content": [{"text": f"Call the {TOOL_NAME} tool. ({problem})"}]})
        raise AssertionError("unreachable")

    def extract(self, text: str) -> ExtractionResult:
        params, entries, phi = self.request(text)
        answer = self._answer(params)
        entities: list[Entity] = []
        taken: set[tuple[int, int]] = set()
        for item in answer.entities:
            mention = _restore(item.text, entries)
            span = ground(text, mention, item.offset_hint, taken)
            if span is not None:
                taken.add(span)
            attributes = {k: _restore(v, entries) for k, v in item.attributes.items()}
            if item.experiencer == "other":
                attributes["experiencer"] = "other"
            entities.append(Entity(
                category=Category(item.category), text=text[span[0]:span[1]] if span else mention,
                begin=span[0] if span else 0, end=span[1] if span else 0, negated=item.negated,
                uncertain=item.uncertain, historical=item.historical, family=item.experiencer == "family",
                attributes=attributes, normalized=mention, engine=ENGINE_NAME, prompt_version=self.prompt.ref,
                model_id=self.model_id, grounded=span is not None, score=0.9 if span else 0.0,
            ))
        for b, e, phi_type in phi:  # PHI is found locally, before anything is sent
            entities.append(Entity(category=Category.PHI, text=text[b:e], begin=b, end=e, engine="local",
                                   attributes={"phi_type": phi_type}, normalized=phi_type))
        entities.sort(key=lambda x: (x.begin, x.end))
        f = answer.fields
        fields = NoteFields(
            visit_date=f.visit_date if f.visit_date and len(f.visit_date) == 10 and f.visit_date[4] == "-" else None,
            age=f.age if f.age is not None and 0 <= f.age <= 130 else None, sex=f.sex, department=f.department,
            summary=f.summary,
        )
        log.info("claude extraction: %d entities, %d ungrounded, usage %s", len(entities),
                 sum(not e.grounded for e in entities), json.dumps(self.last_usage))
        return ExtractionResult(engine=ENGINE_NAME, model_id=self.model_id, prompt_version=self.prompt.ref,
                                entities=entities, fields=fields)


def from_settings() -> ClaudeEngine:
    from services.config import load_settings

    settings = load_settings()
    return ClaudeEngine(model_id=settings.claude_model_id, prompt=settings.claude_prompt, mask_phi=settings.cloud_mask_phi)
