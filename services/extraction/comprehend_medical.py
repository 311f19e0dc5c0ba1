"""Amazon Comprehend Medical (DetectEntitiesV2, DetectPHI) mapped into the one entity schema.

The service reads English only: a Korean note is refused with a clear message, or, when asked, only its English
sentences are sent (offsets rebased). Text over the synchronous limit is split on sentence boundaries. PHI is
masked locally before sending unless turned off (then DetectPHI finds it); credentials and region come from
boto3's standard configuration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from services.domain import Category, Entity, ExtractionResult
from services.extraction.local.phi import MaskEntry, find_phi, mask, unmask_offset

ENGINE_NAME = "comprehend-medical"
MAX_CHARS = 10_000  # the API takes up to 20,000 bytes; sentence chunks stay well under it
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?\n?|\n")
_HANGUL = re.compile(r"[가-힣]")
_ATTRIBUTES = {"DOSAGE": "dosage", "ROUTE_OR_MODE": "route", "FREQUENCY": "frequency", "DURATION": "duration",
               "TEST_VALUE": "value", "TEST_UNIT": "unit", "TEST_UNITS": "unit", "STRENGTH": "strength", "FORM": "form"}
_PHI_TYPES = {"NAME": "name", "AGE": "age", "ADDRESS": "address", "PHONE_OR_FAX": "phone", "EMAIL": "email",
              "ID": "patient_id", "DATE": "date", "URL": "url", "PROFESSION": "profession"}


class NotEnglishError(ValueError):
    """Comprehend Medical reads English only."""


def hangul_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(bool(_HANGUL.match(c)) for c in letters) / len(letters) if letters else 0.0


def chunks(text: str, english_only: bool) -> list[tuple[int, str]]:
    """(offset, text) pieces on sentence boundaries, each under MAX_CHARS; with english_only, sentences
    holding Hangul are left out."""
    out: list[tuple[int, str]] = []
    start, buf = 0, ""
    for m in _SENTENCE.finditer(text):
        sentence = m.group()
        if english_only and _HANGUL.search(sentence):
            if buf.strip():
                out.append((start, buf))
            start, buf = m.end(), ""
            continue
        if len(buf) + len(sentence) > MAX_CHARS and buf:
            out.append((start, buf))
            start, buf = m.start(), ""
        if not buf:
            start = m.start()
        buf += sentence
    if buf.strip():
        out.append((start, buf))
    return out


def _category(entity: dict[str, Any]) -> Category | None:
    cat, typ = entity["Category"], entity.get("Type", "")
    traits = {t["Name"] for t in entity.get("Traits", [])}
    if cat == "MEDICAL_CONDITION":
        return Category.SYMPTOM if traits & {"SIGN", "SYMPTOM"} and "DIAGNOSIS" not in traits else Category.DIAGNOSIS
    if cat == "MEDICATION":
        return Category.MEDICATION
    if cat == "TEST_TREATMENT_PROCEDURE":
        return Category.TEST if typ == "TEST_NAME" else Category.PROCEDURE
    if cat == "ANATOMY":
        return Category.ANATOMY
    return None  # time expressions, social history


def map_entities(items: Iterable[dict[str, Any]], text: str,
                 locate: Callable[[int, int], tuple[int, int]] | None = None, keep_phi: bool = True) -> list[Entity]:
    """The service's entities (``Entities`` of a DetectEntitiesV2 / DetectPHI response, or of a batch job's ``.out``
    file, which holds the same JSON) in the entity schema. ``locate`` turns the service's (BeginOffset, EndOffset)
    into offsets in ``text`` (unchanged when the service read ``text`` itself); PHI is kept only with ``keep_phi``;
    time expressions and social history are left out."""
    out: list[Entity] = []
    for item in items:
        b, e = (locate or _same)(item["BeginOffset"], item["EndOffset"])
        if item["Category"] == "PROTECTED_HEALTH_INFORMATION":
            if keep_phi:
                out.append(Entity(category=Category.PHI, text=text[b:e], begin=b, end=e, engine=ENGINE_NAME,
                                  attributes={"phi_type": _PHI_TYPES.get(item["Type"], item["Type"].lower())},
                                  score=item.get("Score", 1.0)))
            continue
        category = _category(item)
        if category is None:
            continue
        traits = {t["Name"] for t in item.get("Traits", [])}
        attrs = {_ATTRIBUTES[a["Type"]]: a["Text"] for a in item.get("Attributes", []) if a["Type"] in _ATTRIBUTES}
        out.append(Entity(
            category=category, text=text[b:e], begin=b, end=e, negated="NEGATION" in traits,
            uncertain=bool(traits & {"HYPOTHETICAL", "LOW_CONFIDENCE"}), historical="PAST_HISTORY" in traits,
            family="PERTAINS_TO_FAMILY" in traits, attributes=attrs, normalized=item["Text"],
            engine=ENGINE_NAME, score=min(1.0, max(0.0, item.get("Score", 1.0))),
        ))
    return out


def _same(begin: int, end: int) -> tuple[int, int]:
    return begin, end


class ComprehendMedicalEngine:
    name = ENGINE_NAME

    def __init__(self, client: Any | None = None, english_only: bool = False, mask_phi: bool = True) -> None:
        self._client = client
        self.english_only = english_only
        self.mask_phi = mask_phi

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("comprehendmedical")
        return self._client

    def extract(self, text: str) -> ExtractionResult:
        if not self.english_only and hangul_share(text) > 0.2:
            raise NotEnglishError("Amazon Comprehend Medical reads English only; this note is Korean. Use the local or "
                                  "claude engine, or send only its English sentences (english_only).")
        phi = find_phi(text)
        entries: list[MaskEntry] = []
        sent = text
        if self.mask_phi:
            sent, entries = mask(text, phi)
        entities: list[Entity] = []
        for offset, piece in chunks(sent, self.english_only):
            found = self.client.detect_entities_v2(Text=piece)["Entities"]
            if not self.mask_phi:
                found += self.client.detect_phi(Text=piece)["Entities"]

            def locate(begin: int, end: int, offset: int = offset) -> tuple[int, int]:
                return unmask_offset(entries, offset + begin), unmask_offset(entries, offset + end - 1) + 1

            entities += map_entities(found, text, locate, keep_phi=not self.mask_phi)
        if self.mask_phi:  # the service saw placeholders: PHI is what the local recognizers found
            entities += [Entity(category=Category.PHI, text=text[b:e], begin=b, end=e, engine="local",
                                attributes={"phi_type": t}, normalized=t) for b, e, t in phi]
        entities.sort(key=lambda x: (x.begin, x.end))
        return ExtractionResult(engine=ENGINE_NAME, entities=entities)


def from_settings() -> ComprehendMedicalEngine:
    from services.config import load_settings

    settings = load_settings()
    return ComprehendMedicalEngine(english_only=settings.comprehend_english_only, mask_phi=settings.cloud_mask_phi)
