"""Comprehend Medical through botocore's Stubber (requests validated against the service model): mapping into the
entity schema, PHI masked before sending with offsets mapped back, Korean refused or reduced to its English
sentences, long text split with offsets rebased."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from services.extraction.comprehend_medical import MAX_CHARS, ComprehendMedicalEngine, NotEnglishError, chunks


def _client() -> Any:
    return boto3.client("comprehendmedical", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _entity(text: str, sent: str, category: str, typ: str, traits: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    b = sent.index(text)
    return {"Id": 1, "BeginOffset": b, "EndOffset": b + len(text), "Score": 0.95, "Text": text, "Category": category,
            "Type": typ, "Traits": [{"Name": n, "Score": 0.9} for n in traits], **extra}


NOTE = "John Smith, 010-1234-5678. Denies chest pain. Hx of hypertension. Metformin 500 mg po bid.\n"


def test_entities_mapped_and_phi_never_sent() -> None:
    client = _client()
    engine = ComprehendMedicalEngine(client=client)
    sent_texts: list[str] = []
    client.meta.events.register("before-parameter-build.comprehendmedical.DetectEntitiesV2",
                                lambda params, **_: sent_texts.append(params["Text"]))
    masked = "[이름1], [전화1]. Denies chest pain. Hx of hypertension. Metformin 500 mg po bid.\n"
    response = {"Entities": [
        _entity("chest pain", masked, "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM", "NEGATION")),
        _entity("hypertension", masked, "MEDICAL_CONDITION", "DX_NAME", ("DIAGNOSIS", "PAST_HISTORY")),
        _entity("Metformin", masked, "MEDICATION", "GENERIC_NAME", Attributes=[
            {"Type": "DOSAGE", "Score": 0.9, "RelationshipScore": 0.9, "Id": 2, "BeginOffset": 0, "EndOffset": 6,
             "Text": "500 mg", "Traits": []}]),
    ], "ModelVersion": "2.0"}
    with Stubber(client) as stub:
        stub.add_response("detect_entities_v2", response, {"Text": masked})
        result = engine.extract(NOTE)
    assert "John Smith" not in json.dumps(sent_texts) and "010-1234-5678" not in json.dumps(sent_texts)
    got = {e.text: e for e in result.entities}
    assert got["chest pain"].category.value == "symptom" and got["chest pain"].negated
    assert got["hypertension"].category.value == "diagnosis" and got["hypertension"].historical
    assert got["Metformin"].attributes == {"dosage": "500 mg"}
    for e in result.entities:
        assert NOTE[e.begin:e.end] == e.text  # offsets mapped back through the placeholders
    assert {e.attributes["phi_type"] for e in result.entities if e.category.value == "phi"} >= {"name", "phone"}


def test_korean_is_refused_or_reduced_to_english_sentences() -> None:
    note = "흉통으로 내원함. 과거력 없음.\nChest pain since yesterday.\n"
    with pytest.raises(NotEnglishError, match="English only"):
        ComprehendMedicalEngine(client=_client()).extract(note)
    client = _client()
    english = "Chest pain since yesterday.\n"
    with Stubber(client) as stub:
        stub.add_response("detect_entities_v2", {"Entities": [_entity("Chest pain", english, "MEDICAL_CONDITION", "DX_NAME",
                                                                      ("SYMPTOM",))], "ModelVersion": "2.0"},
                          {"Text": english})
        result = ComprehendMedicalEngine(client=client, english_only=True).extract(note)
    (pain,) = [e for e in result.entities if e.category.value == "symptom"]
    assert note[pain.begin:pain.end] == "Chest pain"


def test_long_text_is_split_on_sentences_with_offsets() -> None:
    text = "Cough and fever. " * 1500
    pieces = chunks(text, english_only=False)
    assert len(pieces) > 1 and all(len(p) <= MAX_CHARS for _, p in pieces)
    assert all(text[o:o + len(p)] == p for o, p in pieces) and "".join(p for _, p in pieces) == text
