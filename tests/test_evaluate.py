from __future__ import annotations

import pytest

from services.evaluate import Scores, mention_match, score_note


@pytest.mark.parametrize(
    ("gold", "pred", "ok"),
    [
        ("두통", "두통", True),
        ("두통", "아주 심한 두통", False),  # 2 of 6 characters: under half
        ("두통", "심한 두통", True),  # exactly half counts
        ("머리가 깨질 듯이 아파요", "머리가 깨질 듯이", True),
        ("가슴 통증", "가슴통증", True),  # whitespace ignored
        ("발열", "오한", False),
    ],
)
def test_mention_match(gold: str, pred: str, ok: bool) -> None:
    assert mention_match(gold, pred) is ok


def test_score_counts_category_negation_and_phi() -> None:
    gold = {"file": "f", "department": "신경과",
            "entities": [{"category": "symptom", "text": "두통", "negated": False},
                         {"category": "symptom", "text": "발열", "negated": True}],
            "phi": [{"type": "name", "text": "김민수"}]}
    pred = [{"category": "symptom", "text": "두통", "negated": False},
            {"category": "symptom", "text": "발열", "negated": False},
            {"category": "diagnosis", "text": "두통", "negated": False},
            {"category": "phi", "text": "김민수", "attributes": {"phi_type": "name"}}]
    s = Scores()
    score_note(gold, pred, "신경과", s)
    summary = s.summary()
    assert summary["per_category"]["symptom"]["recall"] == 1.0
    assert summary["per_category"]["diagnosis"]["precision"] == 0.0
    assert summary["negation_accuracy"] == 0.5
    assert summary["phi_recall"] == 1.0 and summary["department_accuracy"] == 1.0
