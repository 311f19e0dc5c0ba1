"""Scoring extractions against a gold set (the dev set here; the Prompt Lab reuses it).

A gold mention counts as found when a predicted entity of the same category contains it or is
contained in it, the shorter being at least half the longer (whitespace ignored). Matching is
one-to-one per note and category, over distinct mentions (the guideline lists a mention once per
distinct text and status, so repeated predictions of it are not counted as false hits).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLINICAL = ("symptom", "diagnosis", "medication", "test", "procedure", "anatomy")


def _squash(s: str) -> str:
    return "".join(s.split())


def mention_match(gold: str, pred: str) -> bool:
    g, p = _squash(gold), _squash(pred)
    if not g or not p:
        return False
    shorter, longer = sorted((g, p), key=len)
    return shorter in longer and len(shorter) * 2 >= len(longer)


def _pair(gold: list[dict[str, Any]], pred: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Greedy one-to-one pairing, exact texts first so near-misses don't steal them."""
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    order = sorted(range(len(gold)), key=lambda i: -len(gold[i]["text"]))
    for exact in (True, False):
        for gi in order:
            if any(gi == p[0] for p in pairs):
                continue
            for pi, p in enumerate(pred):
                if pi in used:
                    continue
                ok = _squash(p["text"]) == _squash(gold[gi]["text"]) if exact else mention_match(gold[gi]["text"], p["text"])
                if ok:
                    used.add(pi)
                    pairs.append((gi, pi))
                    break
    return pairs


@dataclass
class Scores:
    tp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fn: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    negation_total: int = 0
    negation_correct: int = 0
    historical_total: int = 0
    historical_correct: int = 0
    phi_total: int = 0
    phi_found: int = 0
    phi_typed: int = 0
    dept_total: int = 0
    dept_correct: int = 0
    notes: int = 0
    missing: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def per_category(self) -> dict[str, tuple[float, float, float, int]]:
        return {c: (*self._prf(self.tp[c], self.fp[c], self.fn[c]), self.tp[c] + self.fn[c]) for c in CLINICAL}

    @property
    def micro(self) -> tuple[float, float, float]:
        return self._prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))

    def summary(self) -> dict[str, Any]:
        return {
            "notes": self.notes,
            "per_category": {c: {"precision": p, "recall": r, "f1": f, "support": n}
                             for c, (p, r, f, n) in self.per_category().items()},
            "micro_precision": self.micro[0],
            "micro_recall": self.micro[1],
            "micro_f1": self.micro[2],
            "negation_accuracy": self.negation_correct / self.negation_total if self.negation_total else 0.0,
            "historical_accuracy": self.historical_correct / self.historical_total if self.historical_total else 0.0,
            "phi_recall": self.phi_found / self.phi_total if self.phi_total else 0.0,
            "phi_recall_typed": self.phi_typed / self.phi_total if self.phi_total else 0.0,
            "department_accuracy": self.dept_correct / self.dept_total if self.dept_total else 0.0,
            "missing_outputs": self.missing,
        }


def distinct(mentions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One mention per distinct (category, text, negated, historical, experiencer), as the annotation
    guideline lists them: an engine that finds 두통 five times in a note found one mention."""
    seen: set[tuple[str, str, bool, bool, bool]] = set()
    out = []
    for e in mentions:
        key = (e["category"], _squash(e["text"]), bool(e.get("negated")), bool(e.get("historical")),
               bool(e.get("family")) or (e.get("experiencer") or e.get("attributes", {}).get("experiencer")) in ("family", "other"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def score_note(gold: dict[str, Any], predicted: list[dict[str, Any]], department: str | None, scores: Scores) -> None:
    scores.notes += 1
    predicted = distinct(predicted)
    for cat in CLINICAL:
        g = [e for e in gold.get("entities", []) if e["category"] == cat]
        p = [e for e in predicted if e["category"] == cat]
        pairs = _pair(g, p)
        scores.tp[cat] += len(pairs)
        scores.fp[cat] += len(p) - len(pairs)
        scores.fn[cat] += len(g) - len(pairs)
        for gi, pi in pairs:
            scores.negation_total += 1
            scores.negation_correct += bool(g[gi].get("negated")) == bool(p[pi].get("negated"))
            scores.historical_total += 1
            scores.historical_correct += bool(g[gi].get("historical")) == bool(p[pi].get("historical"))
        matched_g = {gi for gi, _ in pairs}
        matched_p = {pi for _, pi in pairs}
        for gi, e in enumerate(g):
            if gi not in matched_g:
                scores.errors.append({"file": gold["file"], "kind": "fn", "category": cat, "text": e["text"]})
        for pi, e in enumerate(p):
            if pi not in matched_p:
                scores.errors.append({"file": gold["file"], "kind": "fp", "category": cat, "text": e["text"]})
    gold_phi = gold.get("phi", [])
    pred_phi = [{"text": e["text"], "type": e.get("attributes", {}).get("phi_type")} for e in predicted if e["category"] == "phi"]
    scores.phi_total += len(gold_phi)
    for gi, pi in _pair(gold_phi, pred_phi):
        scores.phi_found += 1
        scores.phi_typed += gold_phi[gi]["type"] == pred_phi[pi]["type"]
    found = {gi for gi, _ in _pair(gold_phi, pred_phi)}
    for gi, e in enumerate(gold_phi):
        if gi not in found:
            scores.errors.append({"file": gold["file"], "kind": "fn", "category": "phi", "text": e["text"]})
    if gold.get("department"):
        scores.dept_total += 1
        scores.dept_correct += gold["department"] == department
        if gold["department"] != department:
            scores.errors.append({"file": gold["file"], "kind": "dept", "category": "department",
                                  "text": f"{gold['department']} ≠ {department}"})


def load_gold(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(gold_path: Path, out_dir: Path) -> Scores:
    outputs: dict[str, Path] = {}
    for out in out_dir.rglob("*.out"):
        outputs.setdefault(out.name[: -len(".out")], out)
        outputs[out.relative_to(out_dir).as_posix()[: -len(".out")]] = out
    scores = Scores()
    for gold in load_gold(gold_path):
        found = outputs.get(gold["file"]) or outputs.get(Path(gold["file"]).name)
        if found is None:
            scores.missing.append(gold["file"])
            predicted: list[dict[str, Any]] = []
            department = None
        else:
            payload = json.loads(found.read_text(encoding="utf-8"))
            predicted = payload["entities"]
            department = payload.get("fields", {}).get("department")
        score_note(gold, predicted, department, scores)
    return scores


def format_report(scores: Scores) -> str:
    s = scores.summary()
    lines = [f"{'category':<12}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}"]
    for cat, m in s["per_category"].items():
        lines.append(f"{cat:<12}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>8.3f}{m['support']:>9}")
    lines += [
        "",
        f"notes               {s['notes']}",
        f"micro precision     {s['micro_precision']:.3f}",
        f"micro recall        {s['micro_recall']:.3f}",
        f"micro F1            {s['micro_f1']:.3f}",
        f"negation accuracy   {s['negation_accuracy']:.3f}",
        f"historical accuracy {s['historical_accuracy']:.3f}",
        f"PHI recall          {s['phi_recall']:.3f}  (type also right: {s['phi_recall_typed']:.3f})",
        f"department accuracy {s['department_accuracy']:.3f}",
    ]
    if s["missing_outputs"]:
        lines.append(f"missing outputs     {len(s['missing_outputs'])}: {', '.join(s['missing_outputs'][:5])}")
    return "\n".join(lines)


PHI_TYPES = ("name", "age", "sex", "address", "patient_id", "date", "phone", "fax", "rrn", "email", "organization",
             "insurance_id", "license_number")
_ENTITY_KEYS = {"category", "text", "negated", "historical", "uncertain", "experiencer", "dosage", "frequency", "route",
                "duration", "value"}


def check_gold(gold_path: Path, notes_dir: Path) -> list[str]:
    """Problems with a gold file under the annotation guideline's format: every text an exact
    substring of its note, known categories/PHI types/keys, no duplicate (category, text, negated,
    historical). An empty list means the file is well-formed (it says nothing of exhaustiveness)."""
    problems: list[str] = []
    seen_files: set[str] = set()
    for n, line in enumerate(gold_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
            continue
        name = rec.get("file", "")
        where = f"line {n} ({name})"
        note_path = notes_dir / name
        if not name or not note_path.is_file():
            problems.append(f"{where}: no note file {note_path}")
            continue
        if name in seen_files:
            problems.append(f"{where}: file listed twice")
        seen_files.add(name)
        text = note_path.read_text(encoding="utf-8")
        keys: set[tuple[str, str, bool, bool, str]] = set()
        for e in rec.get("entities", []):
            if set(e) - _ENTITY_KEYS:
                problems.append(f"{where}: unknown keys {sorted(set(e) - _ENTITY_KEYS)} in {e}")
            if e.get("category") not in CLINICAL:
                problems.append(f"{where}: unknown category in {e}")
            if not e.get("text") or e["text"] not in text:
                problems.append(f"{where}: text not in note: {e.get('text')!r}")
            if e.get("text", "") != e.get("text", "").strip():
                problems.append(f"{where}: text has surrounding spaces: {e.get('text')!r}")
            if e.get("experiencer") not in (None, "patient", "family", "other"):
                problems.append(f"{where}: experiencer must be family or other: {e}")
            key = (e.get("category", ""), e.get("text", ""), bool(e.get("negated")), bool(e.get("historical")),
                   e.get("experiencer") or "patient")
            if key in keys:
                problems.append(f"{where}: duplicate mention {key}")
            keys.add(key)
        for p in rec.get("phi", []):
            if p.get("type") not in PHI_TYPES:
                problems.append(f"{where}: unknown PHI type in {p}")
            if not p.get("text") or p["text"] not in text:
                problems.append(f"{where}: PHI text not in note: {p.get('text')!r}")
    return problems
