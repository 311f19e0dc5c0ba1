"""From a note's affirmed symptoms and diagnoses to the department to look for, with the reasons in words.

Two sources, both data files the user can edit:

- the symptom/diagnosis → department table the local engine already uses for its department field
  (``services/extraction/local/data/departments.tsv``: term, subspecialty, weight); the subspecialty is mapped to the
  HIRA 진료과목 institutions list (순환기내과 → 내과) through ``data/departments.tsv``;
- HIRA's 2023 patients per (진료과목 × 3-character KCD) (``data/dept_diagnosis_stats.tsv.gz``): for each diagnosis
  with a KCD code, the share of that code's patients each department treated adds to the department's score.

Emergency rules (``data/emergency_rules.tsv``) say plainly when the recorded signs call for an emergency room; they
describe what is recorded and never name a diagnosis. A copy of either table in ``<data_dir>/hospital_rules/`` wins.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from services.domain import Category, Entity
from services.hospitals.model import DATA_DIR, EMERGENCY, canonical_department, departments, tsv_rows

TERMS_TABLE = Path(__file__).resolve().parent.parent / "extraction" / "local" / "data" / "departments.tsv"
STATS_TABLE = DATA_DIR / "dept_diagnosis_stats.tsv.gz"
RULES_TABLE = DATA_DIR / "emergency_rules.tsv"
STATS_WEIGHT = 4.0  # a diagnosis all of whose patients one department treats counts like a weight-4 table row
MIN_SHARE = 0.1


@dataclass
class Reason:
    term: str
    department: str  # HIRA 진료과목
    via: str  # "table", "statistics" or "note"
    subspecialty: str = ""
    code: str = ""
    weight: float = 0.0
    share: float = 0.0


@dataclass
class DepartmentScore:
    department: str
    score: float
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class EmergencyFlag:
    rule: str
    terms: list[str]
    message_ko: str
    message_en: str


@dataclass
class Guidance:
    departments: list[DepartmentScore] = field(default_factory=list)
    emergency: list[EmergencyFlag] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # affirmed terms considered
    unmatched: list[str] = field(default_factory=list)  # affirmed terms no table row or statistic covers
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (term, assertion) not affirmed

    @property
    def department(self) -> str | None:
        """What to look for on the map: the emergency room when a rule fired, else the best department."""
        if self.emergency:
            return EMERGENCY
        return self.departments[0].department if self.departments else None


@dataclass
class EmergencyRule:
    rule: str
    groups: list[set[str]]
    message_ko: str
    message_en: str


def read_terms(path: Path = TERMS_TABLE) -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in tsv_rows(path):
        if len(row) >= 2:
            try:
                weight = float(row[2]) if len(row) > 2 and row[2].strip() else 1.0
            except ValueError:
                weight = 1.0
            out[row[0].strip()].append((row[1].strip(), weight))
    return dict(out)


def read_stats(path: Path = STATS_TABLE) -> dict[str, list[tuple[str, int]]]:
    """3-character KCD → [(HIRA 진료과목, patients)] for departments guidance may send a patient to."""
    guided = {d.name for d in departments() if d.guide}
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    if not path.is_file():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            code, dept, patients = line.rstrip("\n").split("\t")
            if dept in guided:
                out[code].append((dept, int(patients)))
    return dict(out)


def read_rules(path: Path = RULES_TABLE) -> list[EmergencyRule]:
    rules = []
    for row in tsv_rows(path):
        if len(row) < 3:
            continue
        groups = [{t.strip() for t in g.split("|") if t.strip()} for g in row[1].split(" + ")]
        rules.append(EmergencyRule(row[0].strip(), [g for g in groups if g], row[2].strip(),
                                   row[3].strip() if len(row) > 3 else row[2].strip()))
    return rules


def affirmed(e: Entity) -> bool:
    return not (e.negated or e.uncertain or e.historical or e.family)


class Guide:
    """Department guidance from entities; tables are read once."""

    def __init__(self, terms: Path = TERMS_TABLE, stats: Path = STATS_TABLE, rules: Path = RULES_TABLE) -> None:
        self.paths = (terms, stats, rules)
        self.terms = read_terms(terms)
        self.stats = read_stats(stats)
        self.rules = read_rules(rules)

    @staticmethod
    def paths_for(folder: Path | None) -> tuple[Path, Path, Path]:
        """The shipped tables, each replaced by a file of the same name in ``folder`` when there is one."""
        def pick(default: Path, name: str) -> Path:
            return folder / name if folder is not None and (folder / name).is_file() else default

        return pick(TERMS_TABLE, "symptom_departments.tsv"), STATS_TABLE, pick(RULES_TABLE, "emergency_rules.tsv")

    @classmethod
    def with_overrides(cls, folder: Path | None) -> Guide:
        return cls(*cls.paths_for(folder))

    def guide(self, entities: Iterable[Entity], note_department: str | None = None) -> Guidance:
        out = Guidance()
        scores: dict[str, DepartmentScore] = {}

        def add(reason: Reason, points: float) -> None:
            ds = scores.setdefault(reason.department, DepartmentScore(reason.department, 0.0))
            ds.score += points
            ds.reasons.append(reason)

        seen: set[str] = set()
        for ent in entities:
            if ent.category not in (Category.SYMPTOM, Category.DIAGNOSIS):
                continue
            term = (ent.normalized or ent.text).strip()
            if not affirmed(ent):
                out.left_out.append((term, ent.assertion))
                continue
            key = f"{term}|{ent.code or ''}"
            if key in seen:
                continue
            seen.add(key)
            out.used.append(term)
            matched = False
            for sub, weight in self.terms.get(term, []):
                dept = canonical_department(sub)
                if dept:
                    add(Reason(term, dept, "table", subspecialty=sub if sub != dept else "", weight=weight), weight)
                    matched = True
            code = (ent.code or "").replace(".", "").upper()[:3]
            if ent.category == Category.DIAGNOSIS and code in self.stats:
                rows = self.stats[code]
                total = sum(n for _, n in rows) or 1
                for dept, n in sorted(rows, key=lambda r: -r[1])[:3]:
                    share = n / total
                    if share >= MIN_SHARE:
                        add(Reason(term, dept, "statistics", code=ent.code or code, share=share), STATS_WEIGHT * share)
                        matched = True
            if not matched:
                out.unmatched.append(term)
        if note_department:
            dept = canonical_department(note_department)
            if dept:
                add(Reason(note_department, dept, "note", subspecialty=note_department if note_department != dept else "",
                           weight=1.0), 1.0)
        out.departments = sorted(scores.values(), key=lambda d: -d.score)
        present = set(out.used)
        for rule in self.rules:
            hits = [sorted(g & present) for g in rule.groups]
            if rule.groups and all(hits):
                out.emergency.append(EmergencyFlag(rule.rule, [t for h in hits for t in h], rule.message_ko,
                                                   rule.message_en))
        return out
