"""Prompt Lab services: versions that are never edited once saved, diffs, runs of any engine on a gold set
(bounded parallel calls, cache-aware) scored like the local engine, differences between two runs, and a reviewed
note exported as a gold line (review → test case). Plain Python: the page only reads widgets and renders."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.domain import Entity, ExtractionResult, Note, Review
from services.evaluate import Scores, distinct, load_gold, score_note
from services.extraction import Extractor
from services.extraction.llm import prompts


def diff(old: str, new: str, old_name: str = "saved", new_name: str = "edited") -> str:
    """A unified diff of two prompt texts, for showing an edit against the saved version."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name))


def save_version(task: str, text: str, why: str, root: Path = prompts.PROMPTS_DIR) -> str:
    """Save an edited prompt (front matter included) as the task's next version and add the CHANGELOG line.
    Released versions are never overwritten. Returns the new version name."""
    if not why.strip():
        raise ValueError("a CHANGELOG line saying why is required")
    folder = root / task
    folder.mkdir(parents=True, exist_ok=True)
    existing = prompts.versions(task, root)
    version = f"v{int(existing[-1][1:]) + 1 if existing else 1}"
    path = folder / f"{version}.md"
    with path.open("x", encoding="utf-8") as fh:  # "x": never replace a file that exists
        fh.write(text if text.endswith("\n") else text + "\n")
    changelog = folder / "CHANGELOG.md"
    head = "" if changelog.exists() else f"# {task} prompt versions\n\n"
    with changelog.open("a", encoding="utf-8") as fh:
        fh.write(f"{head}- {version} — {' '.join(why.split())}\n")
    return version


@dataclass
class GoldRun:
    """One engine (or prompt version) on one gold set."""

    label: str
    scores: Scores
    results: dict[str, ExtractionResult]
    failures: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        s = self.scores.summary()
        entities = [e for r in self.results.values() for e in r.entities if e.category.value != "phi"]
        usage = [r.usage for r in self.results.values()]
        s.update({
            "label": self.label,
            "grounding_rate": sum(e.grounded for e in entities) / len(entities) if entities else 1.0,
            "input_tokens": sum(u.get("input_tokens", 0) for u in usage),
            "output_tokens": sum(u.get("output_tokens", 0) for u in usage),
            "cost_usd": round(sum(u.get("cost_usd", 0.0) for u in usage), 6),
            "latency_ms": sum(u.get("latency_ms", 0) for u in usage),
            "cached": sum(r.cached for r in self.results.values()),
            "failures": len(self.failures),
        })
        return s


def run_gold(engine: Extractor, gold_path: Path, notes_dir: Path, label: str | None = None, workers: int = 4,
             progress: Callable[[int, int], None] | None = None) -> GoldRun:
    """Run an engine over a gold set's notes with at most ``workers`` calls at once and score it. A note whose
    extraction fails is recorded and scored as finding nothing; the run goes on."""
    gold = load_gold(gold_path)
    results: dict[str, ExtractionResult] = {}
    failures: dict[str, str] = {}

    def one(item: dict[str, Any]) -> tuple[str, ExtractionResult | None, str | None]:
        try:
            return item["file"], engine.extract((notes_dir / item["file"]).read_text(encoding="utf-8")), None
        except Exception as exc:  # one bad note never stops the run
            return item["file"], None, f"{type(exc).__name__}: {exc}"[:300]

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for name, result, error in pool.map(one, gold):
            done += 1
            if result is not None:
                results[name] = result
            else:
                failures[name] = error or "failed"
            if progress:
                progress(done, len(gold))
    scores = Scores()
    for item in gold:
        result = results.get(item["file"])
        predicted = [e.model_dump(mode="json") for e in result.entities] if result else []
        score_note(item, predicted, result.fields.department if result else None, scores)
    return GoldRun(label or engine.name, scores, results, failures)


@dataclass
class Change:
    kind: str  # added | removed | changed
    category: str
    text: str
    detail: str = ""


def compare(baseline: list[Entity], candidate: list[Entity]) -> list[Change]:
    """What a candidate run found differently from a baseline on one note: added and removed mentions (by
    category and text), and mentions whose assertion or grounding changed."""
    def key(e: Entity) -> tuple[str, str]:
        return e.category.value, "".join(e.text.split())

    base = {key(e): e for e in baseline if e.category.value != "phi"}
    cand = {key(e): e for e in candidate if e.category.value != "phi"}
    out = [Change("added", k[0], cand[k].text) for k in cand.keys() - base.keys()]
    out += [Change("removed", k[0], base[k].text) for k in base.keys() - cand.keys()]
    for k in cand.keys() & base.keys():
        a, b = base[k], cand[k]
        if (a.assertion, a.grounded) != (b.assertion, b.grounded):
            out.append(Change("changed", k[0], b.text, f"{a.assertion}/{a.grounded} → {b.assertion}/{b.grounded}"))
    return sorted(out, key=lambda c: (c.kind, c.category, c.text))


def gold_line(note: Note, review: Review) -> str:
    """A reviewed note as one gold line in the guideline's format: the clinician's corrections become a test case."""
    entities = []
    for e in distinct([x.model_dump(mode="json") for x in review.entities if x.category.value != "phi"]):
        item: dict[str, Any] = {"category": e["category"], "text": e["text"], "negated": e["negated"],
                                "historical": e["historical"]}
        if e.get("uncertain"):
            item["uncertain"] = True
        if e.get("family"):
            item["experiencer"] = "family"
        elif e.get("attributes", {}).get("experiencer") == "other":
            item["experiencer"] = "other"
        item.update({k: v for k, v in e.get("attributes", {}).items() if k in ("dosage", "frequency", "route", "duration", "value")})
        entities.append(item)
    phi = [{"type": x.attributes.get("phi_type", x.normalized or "name"), "text": x.text}
           for x in review.entities if x.category.value == "phi"]
    return json.dumps({"file": note.filename, "entities": entities, "phi": phi, "department": review.fields.department},
                      ensure_ascii=False)


def gold_sets(root: Path) -> list[tuple[str, int]]:
    """The gold files under a folder with their number of notes."""
    return [(p.name, len(load_gold(p))) for p in sorted(root.glob("*.jsonl"))]
