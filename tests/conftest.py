from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.config import load_settings  # noqa: E402
from services.wiring import App, build_app  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("NOTELENS_DATA_DIR", str(d))
    return d


@pytest.fixture
def app(data_dir: Path) -> App:
    return build_app(load_settings(data_dir=data_dir), seed=False)


@pytest.fixture
def seeded_app(data_dir: Path) -> App:
    return build_app(load_settings(data_dir=data_dir), seed=True)
