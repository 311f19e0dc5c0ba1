"""What every LLM engine shares: PHI masked before the prompt is built, the prompt file rendered, the answer
validated against the tool schema (one repair round), placeholders restored, every mention grounded in the
original text or flagged, results cached by what decides them, and usage with an estimated cost.
A backend only says how to send one conversation and read the tool call back (``_call``)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.extraction.llm import prompts
from services.extraction.llm.grounding import ground
from services.extraction.llm.schema import CLINICAL, LLMAnswer
from services.extraction.local.phi import MaskEntry, find_phi, mask

log = logging.getLogger(__name__)
_PRICES = [(r[0], float(r[1]), float(r[2])) for r in
           (line.split("\t") for line in Path(__file__).with_name("prices.tsv").read_text("utf-8").splitlines()
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


class Reply:
    """One model turn: the tool input it gave (or None), the opaque turn to send back, and its token counts."""

    def __init__(self, tool_input: Any, turn: Any, input_tokens: int, output_tokens: int) -> None:
        self.tool_input, self.turn = tool_input, turn
        self.input_tokens, self.output_tokens = input_tokens, output_tokens


def _restore(value: str, entries: list[MaskEntry]) -> str:
    for entry in entries:
        value = value.replace(entry.placeholder, entry.text)
    return value


class LLMEngine:
    name = "llm"

    def __init__(self, model_id: str, prompt: str | prompts.Prompt = "extraction", mask_phi: bool = True,
                 today: str | None = None) -> None:
        self.model_id = model_id
        # A Prompt object is an unsaved draft from the Prompt Lab; a string names a saved version.
        self.prompt = prompt if isinstance(prompt, prompts.Prompt) else prompts.load(prompt)
        self.mask_phi = mask_phi
        self.today = today
        self.cache: ResultCache | None = None
        self.calls = 0
        self.last_usage: dict[str, Any] = {}

    # --- what a backend implements
    def _call(self, user: str, history: list[Any]) -> Reply:
        """Send the user prompt (and any repair turns in ``history``), return the model's reply."""
        raise NotImplementedError

    def _repair_turns(self, reply: Reply, problem: str) -> list[Any]:
        """The turns that tell the model its tool input was invalid."""
        raise NotImplementedError

    # --- shared
    def attach_cache(self, cache: ResultCache) -> None:
        self.cache = cache

    def cache_key(self, text: str) -> str:
        """Note text, prompt version (by content), model and inference parameters: what decides the answer."""
        parts = [self.name, hashlib.sha256(text.encode()).hexdigest(), hashlib.sha256(self.prompt.body.encode()).hexdigest(),
                 self.prompt.ref, self.model_id, str(self.prompt.temperature), str(self.prompt.max_tokens), str(self.mask_phi)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def user_prompt(self, text: str) -> tuple[str, list[MaskEntry], list[tuple[int, int, str]]]:
        """The prompt as sent (PHI masked unless turned off), the mask map and the PHI spans found locally."""
        phi = find_phi(text)
        masked, entries = mask(text, phi) if self.mask_phi else (text, [])
        return self.prompt.render(masked, self.today or date.today().isoformat(), ", ".join(CLINICAL)), entries, phi

    def _answer(self, user: str, call: Callable[[str, list[Any]], Reply]) -> LLMAnswer:
        history: list[Any] = []
        tokens_in = tokens_out = 0
        for attempt in range(2):
            started = time.perf_counter()
            reply = call(user, history)
            self.calls += 1
            tokens_in += reply.input_tokens  # a repair round costs too
            tokens_out += reply.output_tokens
            self.last_usage = {"input_tokens": tokens_in, "output_tokens": tokens_out,
                               "latency_ms": round((time.perf_counter() - started) * 1000)}
            cost = estimated_cost(self.model_id, tokens_in, tokens_out)
            if cost is not None:
                self.last_usage["cost_usd"] = cost
            try:
                if reply.tool_input is None:
                    raise LLMOutputError("the model answered without calling the tool")
                return LLMAnswer.model_validate(reply.tool_input)
            except (ValidationError, LLMOutputError) as exc:
                if attempt == 1:
                    raise LLMOutputError(f"invalid answer after one repair round: {type(exc).__name__}") from exc
                history += self._repair_turns(reply, str(exc)[:1500])
        raise AssertionError("unreachable")

    def extract(self, text: str) -> ExtractionResult:
        return self._extract(text, self._call)

    def _extract(self, text: str, call: Callable[[str, list[Any]], Reply]) -> ExtractionResult:
        """``extract`` with the way one turn is sent chosen by the caller (a streaming run passes its own)."""
        key = self.cache_key(text)
        if self.cache is not None:
            hit = self.cache.cache_get(key)
            if hit is not None:
                return ExtractionResult.model_validate_json(hit[0]).model_copy(update={"cached": True})
        self.last_usage = {}
        user, entries, phi = self.user_prompt(text)
        answer = self._answer(user, call)
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
                attributes=attributes, normalized=mention, engine=self.name, prompt_version=self.prompt.ref,
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
        log.info("%s extraction: %d entities, %d ungrounded, usage %s", self.name, len(entities),
                 sum(not e.grounded for e in entities), json.dumps(self.last_usage))
        result = ExtractionResult(engine=self.name, model_id=self.model_id, prompt_version=self.prompt.ref,
                                  entities=entities, fields=fields, usage=self.last_usage)
        if self.cache is not None:
            self.cache.cache_put(key, self.name, self.model_id, self.prompt.ref, result.model_dump_json(),
                                 json.dumps(self.last_usage))
        return result
