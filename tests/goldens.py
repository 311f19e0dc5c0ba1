"""Golden JSON files under tests/golden/: compare a request body (or any JSON value) with its file; with
NOTELENS_UPDATE_GOLDEN=1 the file is rewritten instead, for an intended change whose diff is then read."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent / "golden"


def check_golden(folder: str, name: str, value: Any) -> None:
    path = ROOT / folder / name
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("NOTELENS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}"
    assert json.loads(text) == json.loads(path.read_text(encoding="utf-8")), name
