"""Clinical vocabulary that helps the speech engines with medical words (data/clinical_terms.tsv)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def clinical_terms() -> tuple[tuple[str, str], ...]:
    """(term, sounds-like or "") for every line of the list."""
    text = (resources.files("services.transcription") / "data" / "clinical_terms.tsv").read_text(encoding="utf-8")
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, _, sounds = line.partition("\t")
        out.append((term.strip(), sounds.strip()))
    return tuple(out)


def whisper_prompt(language: str = "ko", limit: int = 40) -> str | None:
    """Whisper's initial prompt: a short context line and the first terms (Whisper keeps 224 prompt tokens)."""
    if language != "ko":
        return None
    return "진료 기록 녹음입니다. " + ", ".join(term for term, _ in clinical_terms()[:limit]) + "."
