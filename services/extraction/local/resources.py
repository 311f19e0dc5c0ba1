"""Reading the engine's data files (TSV, ``#`` comments)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def rows(name: str) -> Iterator[list[str]]:
    """Tab-separated rows of a data file, skipping blanks and ``#`` comments."""
    path = DATA_DIR / name
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            yield line.split("\t")
