"""Prompt files: ``prompts/<task>/<version>.md`` with a small front matter (description, model, temperature,
max_tokens) and ``{note_text}``, ``{today}``, ``{categories}`` variables. A released version is never edited;
saving makes the next version."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from services.config import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"
_FRONT = re.compile(r"\A---\n(?P<head>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
_VERSION = re.compile(r"v(\d+)")


@dataclass(frozen=True)
class Prompt:
    task: str
    version: str
    body: str
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.task}@{self.version}"

    @property
    def temperature(self) -> float:
        return float(self.meta.get("temperature", "0"))

    @property
    def max_tokens(self) -> int:
        return int(self.meta.get("max_tokens", "4096"))

    def render(self, note_text: str, today: str, categories: str) -> str:
        # Plain replacement, not str.format: notes and prompts contain braces of their own.
        return self.body.replace("{note_text}", note_text).replace("{today}", today).replace("{categories}", categories)


def parse(task: str, version: str, source: str) -> Prompt:
    m = _FRONT.match(source)
    if m is None:
        return Prompt(task, version, source)
    meta = {}
    for line in m.group("head").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip().strip('"')
    return Prompt(task, version, m.group("body").lstrip("\n"), meta)


def versions(task: str, root: Path = PROMPTS_DIR) -> list[str]:
    """The task's versions, oldest first (v1, v2, … v10)."""
    found = [p.stem for p in (root / task).glob("v*.md") if _VERSION.fullmatch(p.stem)]
    return sorted(found, key=lambda v: int(v[1:]))


def load(ref: str, root: Path = PROMPTS_DIR) -> Prompt:
    """``extraction@v1``, or ``extraction`` for its newest version."""
    task, _, version = ref.partition("@")
    if not version:
        available = versions(task, root)
        if not available:
            raise FileNotFoundError(f"no prompt versions under {root / task}")
        version = available[-1]
    path = root / task / f"{version}.md"
    return parse(task, version, path.read_text(encoding="utf-8"))
