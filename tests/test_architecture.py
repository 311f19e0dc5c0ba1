"""Rules from DEVELOPERS.md that code can check, and the README's settings table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from services.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_services_never_import_streamlit() -> None:
    for path in (ROOT / "services").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), path


def test_pages_render_html_only_through_the_escaping_renderer() -> None:
    for path in [ROOT / "Home.py", *(ROOT / "pages").glob("*.py")]:
        src = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in src, path
        for call in re.findall(r"st\.html\(([^)]*)\)", src):
            # search_card (services/search/snippet.py) escapes note text the same way highlight does.
            assert call.startswith(("highlight(", "legend(", "search_card(")), (path, call)


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`NOTELENS_{name.upper()}`" in readme, name


def test_readme_has_exactly_the_two_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci
    assert "bash scripts/run.sh" in readme


def test_readme_commands_point_at_files_and_subcommands_that_exist() -> None:
    """Every `python X.py` / `bash X.sh` path and every `python -m services CMD` in the README is real."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in set(re.findall(r"(?:python|bash) ((?:benchmarks|scripts)/[\w/]+\.(?:py|sh))", readme)):
        assert (ROOT / path).is_file(), path
    from services.__main__ import main

    for command in set(re.findall(r"python -m services ([a-z-]+)", readme)):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0, command
    assert (ROOT / "benchmarks" / "results" / "first_measurement.md").is_file()


def test_the_app_builds_without_loading_the_extraction_engine(app: object) -> None:
    """Pages that never extract must not pay the engine's start-up; the first note loads it."""
    from services.extraction import LazyExtractor

    extractor = app.notes.extractor  # type: ignore[attr-defined]
    assert isinstance(extractor, LazyExtractor) and not extractor.loaded
    outcome = app.notes.ingest("l.txt", "두통 호소.".encode())  # type: ignore[attr-defined]
    assert extractor.loaded and any(e.text == "두통" for e in outcome.extraction.entities)
