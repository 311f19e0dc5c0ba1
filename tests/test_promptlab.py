"""Prompt Lab services: versions never edited once saved, diffs, gold-set runs with failures recorded, run
comparison, and a reviewed note exported as a gold line that check-gold accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.domain import Category, Entity, ExtractionResult, NoteFields
from services.evaluate import check_gold
from services.extraction.llm import prompts
from services.extraction.local.engine import LocalKoreanEngine
from services.promptlab import compare, diff, gold_line, gold_sets, run_gold, save_version
from services.wiring import App

ROOT = Path(__file__).resolve().parent.parent


def test_save_makes_the_next_version_and_never_edits_one(tmp_path: Path) -> None:
    (tmp_path / "extraction").mkdir()
    (tmp_path / "extraction" / "v1.md").write_text("---\ntemperature: 0\n---\nold {note_text}\n", "utf-8")
    assert save_version("extraction", "---\ntemperature: 0\n---\nnew {note_text}", "ask for laterality", tmp_path) == "v2"
    assert (tmp_path / "extraction" / "v1.md").read_text("utf-8").endswith("old {note_text}\n")
    assert prompts.load("extraction", tmp_path).body.startswith("new")
    assert "- v2 — ask for laterality" in (tmp_path / "extraction" / "CHANGELOG.md").read_text("utf-8")
    with pytest.raises(ValueError):
        save_version("extraction", "x", "  ", tmp_path)
    assert "-old {note_text}" in diff("old {note_text}\n", "new {note_text}\n")


class _Flaky:
    """An engine that fails on one note: the run goes on and records it."""

    name = "flaky"

    def __init__(self) -> None:
        self.local = LocalKoreanEngine()

    def extract(self, text: str) -> ExtractionResult:
        if "IMPRESSION" in text:  # the radiology reports
            raise RuntimeError("throttled")
        return self.local.extract(text)


def test_gold_run_scores_and_records_failures() -> None:
    seen: list[tuple[int, int]] = []
    run = run_gold(_Flaky(), ROOT / "sample_data/gold/dev.jsonl", ROOT / "sample_data/notes", workers=2,
                   progress=lambda d, n: seen.append((d, n)))
    summary = run.summary()
    assert seen[-1] == (42, 42) and summary["notes"] == 42
    assert 0.5 < summary["micro_f1"] < 1.0 and summary["grounding_rate"] == 1.0
    assert run.failures and summary["failures"] == len(run.failures)
    assert all("throttled" in v for v in run.failures.values()) and all(f.startswith("rad_") for f in run.failures)


def test_compare_lists_added_removed_and_changed() -> None:
    def e(text: str, cat: Category = Category.SYMPTOM, **kw: bool) -> Entity:
        return Entity(category=cat, text=text, begin=0, end=len(text), **kw)

    changes = compare([e("두통"), e("발열"), e("구토")], [e("두통", negated=True), e("발열"), e("오심")])
    assert [(c.kind, c.text) for c in changes] == [("added", "오심"), ("changed", "두통"), ("removed", "구토")]


def test_reviewed_note_becomes_a_valid_gold_line(app: App, tmp_path: Path) -> None:
    outcome = app.notes.ingest("gold.txt", "김민수 45세. 두통 있고 발열은 없음. 타이레놀 500mg 복용.".encode())
    note = outcome.note
    review = app.store.add_review(note.id, app.store.extractions(note.id)[-1].id, "tester",
                                  app.store.extractions(note.id)[-1].entities, NoteFields(department="신경과"), {})
    line = gold_line(note, review)
    (tmp_path / "gold.txt").write_text(note.text or "", encoding="utf-8")
    (tmp_path / "g.jsonl").write_text(line + "\n", encoding="utf-8")
    assert check_gold(tmp_path / "g.jsonl", tmp_path) == []
    record = json.loads(line)
    assert {"category": "symptom", "text": "발열", "negated": True, "historical": False} in record["entities"]
    assert {"type": "name", "text": "김민수"} in record["phi"] and record["department"] == "신경과"
    exported = app.promptlab.export_review(note.id, "my set")
    assert (exported.name, exported.size, exported.user) == ("my_set", 1, True)
    assert check_gold(exported.path, exported.notes_dir) == []
    app.promptlab.export_review(note.id, "my set")  # a re-export replaces the note's line
    assert [(g.name, g.size) for g in app.promptlab.gold_sets() if g.user] == [("my_set", 1)]


def test_gold_sets_list_the_committed_sets_and_keep_the_locked_split_out_of_runs(app: App) -> None:
    sets = {g.name: g for g in gold_sets()}
    assert sets["dev"].size == 42 and sets["dev"].notes_dir.is_dir() and not sets["dev"].locked
    assert sets["blind_test"].locked
    with pytest.raises(PermissionError):
        app.promptlab.evaluate(sets["blind_test"], [])
