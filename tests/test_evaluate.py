from __future__ import annotations

from pathlib import Path

import pytest

from services.evaluate import Scores, check_gold, load_gold, mention_match, score_note


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


def test_repeated_predictions_count_once_as_the_guideline_lists_them() -> None:
    """The guideline lists a mention once per distinct text and status; an engine that finds 두통 three
    times found one mention, and a negated 두통 elsewhere is a second one."""
    gold = {"file": "f", "entities": [{"category": "symptom", "text": "두통", "negated": False},
                                      {"category": "symptom", "text": "두통", "negated": True}], "phi": []}
    pred = [{"category": "symptom", "text": "두통", "negated": False}] * 3 + [
        {"category": "symptom", "text": "두 통", "negated": True}]
    s = Scores()
    score_note(gold, pred, None, s)
    assert (s.tp["symptom"], s.fp["symptom"], s.fn["symptom"]) == (2, 0, 0)
    assert s.negation_correct == 2


def test_every_committed_gold_set_is_well_formed() -> None:
    """Gold files are data the README's figures rest on: every text is in its note, no duplicates."""
    from services.promptlab import gold_sets

    registered = gold_sets()
    # Every committed gold file is registered (so benchmarks/accuracy.py and the Prompt Lab score it).
    assert {g.path.name for g in registered} == {p.name for p in (Path(__file__).resolve().parent.parent
                                                                   / "sample_data" / "gold").glob("*.jsonl")}
    for g in registered:
        assert check_gold(g.path, g.notes_dir) == [], g.name
        assert len(load_gold(g.path)) >= 20


def test_check_gold_reports_text_not_in_note(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("두통 호소", encoding="utf-8")
    gold = tmp_path / "g.jsonl"
    gold.write_text('{"file": "a.txt", "entities": [{"category": "symptom", "text": "복통"},'
                    ' {"category": "symptom", "text": "두통"}, {"category": "symptom", "text": "두통"}], "phi": []}\n',
                    encoding="utf-8")
    problems = check_gold(gold, tmp_path)
    assert any("not in note" in p and "복통" in p for p in problems)
    assert any("duplicate" in p for p in problems)
