"""Prompt Lab services: versions that are never edited once saved, diffs, runs of any engine on a gold set
(bounded parallel calls, cache-aware) scored like the local engine, differences between two runs, and a reviewed
note exported as a gold line (review → test case). Plain Python: the page only reads widgets and renders."""

from __future__ import annotations

import difflib
import json
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.config import PROJECT_ROOT
from services.domain import Entity, ExtractionResult, Note, Review
from services.errors import explain_engine_error as explain
from services.evaluate import Scores, distinct, load_gold, score_note
from services.extraction import Extractor
from services.extraction.llm import prompts
from services.extraction.llm.base import LLMEngine
from services.store import NoteStore

log = logging.getLogger(__name__)
GOLD_DIR = PROJECT_ROOT / "sample_data" / "gold"
DRAFT = "draft"


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
             progress: Callable[[int, int], None] | None = None,
             describe: Callable[[BaseException], str] | None = None) -> GoldRun:
    """Run an engine over a gold set's notes with at most ``workers`` calls at once and score it. A note whose
    extraction fails is recorded and scored as finding nothing; the run goes on."""
    gold = load_gold(gold_path)
    results: dict[str, ExtractionResult] = {}
    failures: dict[str, str] = {}

    def one(item: dict[str, Any]) -> tuple[str, ExtractionResult | None, str | None]:
        try:
            return item["file"], engine.extract((notes_dir / item["file"]).read_text(encoding="utf-8")), None
        except Exception as exc:  # one bad note never stops the run
            return item["file"], None, describe(exc) if describe else f"{type(exc).__name__}: {exc}"[:300]

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
    before: str = ""  # for "changed": the baseline's assertion, or "ungrounded"
    after: str = ""


def compare(baseline: list[Entity], candidate: list[Entity]) -> list[Change]:
    """What a candidate run found differently from a baseline on one note: added and removed mentions (by
    category and text), and mentions whose assertion or grounding changed."""
    def key(e: Entity) -> tuple[str, str]:
        return e.category.value, "".join(e.text.split())

    def state(e: Entity) -> str:
        return e.assertion if e.grounded else "ungrounded"

    base = {key(e): e for e in baseline if e.category.value != "phi"}
    cand = {key(e): e for e in candidate if e.category.value != "phi"}
    out = [Change("added", k[0], cand[k].text) for k in cand.keys() - base.keys()]
    out += [Change("removed", k[0], base[k].text) for k in base.keys() - cand.keys()]
    for k in cand.keys() & base.keys():
        a, b = base[k], cand[k]
        if state(a) != state(b):
            out.append(Change("changed", k[0], b.text, state(a), state(b)))
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


@dataclass(frozen=True)
class GoldSet:
    name: str
    path: Path
    notes_dir: Path
    size: int
    locked: bool = False  # the held-out split: listed, never run from the lab
    user: bool = False  # built from reviews in this installation's data folder


def gold_sets(registry: Path = GOLD_DIR / "sets.tsv", user_dir: Path | None = None) -> list[GoldSet]:
    """The committed gold sets named in ``sets.tsv`` and the sets exported from reviews under ``user_dir``."""
    out: list[GoldSet] = []
    if registry.is_file():
        for line in registry.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            name, gold, notes, locked = line.split("\t")
            path = registry.parent / gold
            if path.is_file():
                out.append(GoldSet(name, path, (registry.parent / notes).resolve(), len(load_gold(path)), locked == "yes"))
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.jsonl")):
            out.append(GoldSet(path.stem, path, user_dir / path.stem, len(load_gold(path)), user=True))
    return out


@dataclass
class LabRun:
    """One prompt run on one note: the result, or the message of why there is none."""

    result: ExtractionResult | None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ungrounded(self) -> list[Entity]:
        return [e for e in self.result.entities if not e.grounded] if self.result else []


EngineFactory = Callable[[str, prompts.Prompt, str], LLMEngine]
_SAFE = re.compile(r"[^0-9A-Za-z가-힣._-]+")


class PromptLab:
    """What the Prompt Lab page calls: versions and drafts, a live run on a note, a baseline, a gold-set
    evaluation of several versions beside the local engine, saving a version and review → gold export."""

    def __init__(self, store: NoteStore, engine_factory: EngineFactory, local: Extractor, user_gold_dir: Path,
                 prompts_root: Path = prompts.PROMPTS_DIR, registry: Path = GOLD_DIR / "sets.tsv") -> None:
        self.store = store
        self.engine_factory = engine_factory
        self.local = local
        self.user_gold_dir = user_gold_dir
        self.prompts_root = prompts_root
        self.registry = registry

    # --- versions
    def tasks(self) -> list[str]:
        return sorted(p.name for p in self.prompts_root.iterdir() if p.is_dir() and prompts.versions(p.name, self.prompts_root))

    def versions(self, task: str) -> list[str]:
        return prompts.versions(task, self.prompts_root)

    def source(self, task: str, version: str) -> str:
        return (self.prompts_root / task / f"{version}.md").read_text(encoding="utf-8")

    def prompt(self, task: str, version: str, draft: str | None = None) -> prompts.Prompt:
        """A saved version, or the edited text as an unsaved draft when it differs from that version."""
        saved = self.source(task, version)
        if draft is not None and draft != saved:
            return prompts.parse(task, DRAFT, draft)
        return prompts.parse(task, version, saved)

    def save(self, task: str, text: str, why: str) -> str:
        return save_version(task, text, why, self.prompts_root)

    def changelog(self, task: str) -> str:
        path = self.prompts_root / task / "CHANGELOG.md"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    # --- runs
    def engine(self, kind: str, prompt: prompts.Prompt, model: str) -> LLMEngine:
        engine = self.engine_factory(kind, prompt, model)
        engine.attach_cache(self.store)
        return engine

    def run(self, kind: str, prompt: prompts.Prompt, model: str, text: str,
            on_delta: Callable[[str], None] | None = None) -> LabRun:
        """One note through one prompt; streamed when the engine can and a callback is given. A failure comes back
        as a message, never an exception: the page keeps working."""
        started = time.perf_counter()
        try:
            engine = self.engine(kind, prompt, model)
            stream = getattr(engine, "stream", None)
            result = stream(text, on_delta) if on_delta is not None and stream is not None else engine.extract(text)
            return LabRun(result, seconds=time.perf_counter() - started)
        except Exception as exc:  # every failure becomes a message on the page
            log.warning("prompt lab run failed: %s", type(exc).__name__)
            return LabRun(None, explain(exc), time.perf_counter() - started)

    def baseline(self, text: str, kind: str = "local", prompt: prompts.Prompt | None = None, model: str = "") -> LabRun:
        """The run a result is compared with: the local engine, or another prompt version."""
        if kind == "local" or prompt is None:
            started = time.perf_counter()
            return LabRun(self.local.extract(text), seconds=time.perf_counter() - started)
        return self.run(kind, prompt, model, text)

    def evaluate(self, gold: GoldSet, candidates: list[tuple[str, str, prompts.Prompt, str]], workers: int = 4,
                 progress: Callable[[float, str], None] | None = None) -> list[GoldRun]:
        """The local engine and each (label, engine kind, prompt, model) on a gold set, scored alike. Cached
        results make no call; a failing note is counted as finding nothing and listed."""
        if gold.locked:
            raise PermissionError(f"{gold.name} is the locked split: it is measured only at the end, never tuned on")
        total = len(candidates) + 1
        runs: list[GoldRun] = []

        def step(i: int, label: str) -> Callable[[int, int], None]:
            return lambda done, n: progress((i + done / max(1, n)) / total, label) if progress else None

        runs.append(run_gold(self.local, gold.path, gold.notes_dir, "local", workers=1, progress=step(0, "local")))
        for i, (label, kind, prompt, model) in enumerate(candidates, start=1):
            try:
                engine = self.engine(kind, prompt, model)
            except Exception as exc:  # e.g. no boto3 credentials chain at all: report, keep the baseline
                run = GoldRun(label, Scores(), {}, {"*": explain(exc)})
            else:
                run = run_gold(engine, gold.path, gold.notes_dir, label, workers, step(i, label), explain)
            runs.append(run)
        return runs

    # --- review -> gold
    def gold_sets(self) -> list[GoldSet]:
        return gold_sets(self.registry, self.user_gold_dir)

    def reviewed_notes(self) -> list[Note]:
        return [n for n in self.store.list_notes(with_text=False) if self.store.reviews(n.id)]

    def export_review(self, note_id: str, set_name: str = "reviewed") -> GoldSet:
        """Add a reviewed note to a gold set in this installation's data folder: its text beside the set, its
        latest review as the gold line (replacing an earlier export of the same note)."""
        name = _SAFE.sub("_", set_name.strip()) or "reviewed"
        note = self.store.get_note(note_id)
        reviews = self.store.reviews(note_id)
        if note is None or note.text is None or not reviews:
            raise ValueError("only a stored note with a saved review can become a gold case")
        folder = self.user_gold_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        file = f"{_SAFE.sub('_', Path(note.filename).stem)}-{note.id[:8]}.txt"
        (folder / file).write_text(note.text, encoding="utf-8")
        line = json.loads(gold_line(note, reviews[-1]))
        line["file"] = file
        path = self.user_gold_dir / f"{name}.jsonl"
        kept = [g for g in (load_gold(path) if path.is_file() else []) if g.get("file") != file]
        path.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in [*kept, line]), encoding="utf-8")
        return GoldSet(name, path, folder, len(kept) + 1, user=True)
