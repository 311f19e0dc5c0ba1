"""Claude on Amazon Bedrock as an extraction engine (Converse with a forced tool call).

Region, credentials and endpoint come only from boto3's standard configuration (env vars, profiles,
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``). PHI is masked by the local recognizers before the request is built
(on by default); placeholders are restored and every mention is located in the original text, or flagged
``grounded=False`` — never silently kept as real.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.extraction.llm import prompts
from services.extraction.llm.grounding import ground
from services.extraction.llm.schema import CLINICAL, TOOL_NAME, LLMAnswer, tool_spec
from services.extraction.local.phi import MaskEntry, find_phi, mask

ENGINE_NAME = "claude"
DEFAULT_MODEL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
log = logging.getLogger(__name__)


_PRICES = [(r[0], float(r[1]), float(r[2])) for r in
           (line.split("\t") for line in (Path(__file__).with_name("prices.tsv")).read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")) if len(r) == 3]


def estimated_cost(model_id: str, input_tokens: float, output_tokens: float) -> float | None:
    for fragment, per_in, per_out in _PRICES:
        if fragment in model_id:
            return round((input_tokens * per_in + output_tokens * per_out) / 1_000_000, 6)
    return None


class ResultCache(Protocol):
    """Where results are kept between runs (the store implements it)."""

    def cache_get(self, key: str) -> tuple[str, str] | None: ...

    def cache_put(self, key: str, engine: str, model_id: str, prompt_ref: str, result_json: str, usage_json: str) -> None: ...


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
        self.cache: ResultCache | None = None
        self.calls = 0
        self.last_usage: dict[str, Any] = {}

    def attach_cache(self, cache: ResultCache) -> None:
        self.cache = cache

    def cache_key(self, text: str) -> str:
        """Note text, prompt version (by content), model and inference parameters: what decides the answer."""
        parts = [hashlib.sha256(text.encode()).hexdigest(), hashlib.sha256(self.prompt.body.encode()).hexdigest(),
                 self.prompt.ref, self.model_id, str(self.prompt.temperature), str(self.prompt.max_tokens), str(self.mask_phi)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

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
        tokens_in = tokens_out = 0
        for attempt in range(2):
            started = time.perf_counter()
            response = self.client.converse(**{**params, "messages": messages})
            self.calls += 1
            usage = response.get("usage", {})
            tokens_in += usage.get("inputTokens", 0)  # a repair round costs too
            tokens_out += usage.get("outputTokens", 0)
            self.last_usage = {"input_tokens": tokens_in, "output_tokens": tokens_out,
                               "latency_ms": round((time.perf_counter() - started) * 1000)}
            cost = estimated_cost(self.model_id, tokens_in, tokens_out)
            if cost is not None:
                self.last_usage["cost_usd"] = cost
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
        key = self.cache_key(text)
        if self.cache is not None:
            hit = self.cache.cache_get(key)
            if hit is not None:
                result = ExtractionResult.model_validate_json(hit[0])
                return result.model_copy(update={"cached": True})
        self.last_usage = {}
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
        result = ExtractionResult(engine=ENGINE_NAME, model_id=self.model_id, prompt_version=self.prompt.ref,
                                  entities=entities, fields=fields, usage=self.last_usage)
        if self.cache is not None:
            self.cache.cache_put(key, ENGINE_NAME, self.model_id, self.prompt.ref, result.model_dump_json(),
                                 json.dumps(self.last_usage))
        return result


def from_settings() -> ClaudeEngine:
    from services.config import load_settings

    settings = load_settings()
    return ClaudeEngine(model_id=settings.claude_model_id, prompt=settings.claude_prompt, mask_phi=settings.cloud_mask_phi)
