from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from services.batch import run_batch
from services.wiring import App

ROOT = Path(__file__).resolve().parent.parent


def _inputs(folder: Path) -> None:
    folder.mkdir()
    (folder / "note1.txt").write_text("두통 호소, 발열 없음. 타이레놀 500mg tid.", encoding="utf-8")
    (folder / "note2.txt").write_bytes("흉통 호소. 고혈압 과거력.".encode("cp949"))
    (folder / "dup.txt").write_text("두통 호소, 발열 없음. 타이레놀 500mg tid.", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")


def test_batch_writes_outs_and_manifest(app: App, tmp_path: Path) -> None:
    _inputs(tmp_path / "in")
    out = tmp_path / "out"
    report = run_batch(tmp_path / "in", out, service=app.notes, progress=False)
    manifest = json.loads((out / "Manifest.json").read_text())["Summary"]
    assert manifest["Status"] == "PARTIAL_SUCCESS"
    assert (manifest["InputFileCount"], manifest["SuccessFilesCount"], manifest["UnprocessedFilesCount"]) == (5, 3, 2)
    assert manifest["TotalMeteredCharacters"] > 0
    unprocessed = {f["Input"]: f["ErrorCode"] for f in json.loads((out / "unprocessed.json").read_text())["Files"]}
    assert unprocessed == {"empty.txt": "EMPTY_FILE", "image.png": "UNSUPPORTED_TYPE"}
    success = json.loads((out / "success.json").read_text())["Files"]
    assert {f["Output"] for f in success} == {"note1.txt.out", "note2.txt.out", "dup.txt.out"}
    one = json.loads((out / "note2.txt.out").read_text(encoding="utf-8"))
    assert one["text"] == "흉통 호소. 고혈압 과거력."
    assert set(one) >= {"file", "note_id", "text", "engine", "entities", "fields"}
    for ent in one["entities"]:
        assert one["text"][ent["begin"]:ent["end"]] == ent["text"]
    dup = json.loads((out / "dup.txt.out").read_text(encoding="utf-8"))
    assert dup["note_id"] == json.loads((out / "note1.txt.out").read_text(encoding="utf-8"))["note_id"]
    assert app.store.counts()["done"] == 2  # dedupe: note1 and dup are one note
    assert report.status == "PARTIAL_SUCCESS"


def test_rerun_skips_done_files_unless_forced(app: App, tmp_path: Path) -> None:
    _inputs(tmp_path / "in")
    out = tmp_path / "out"
    run_batch(tmp_path / "in", out, service=app.notes, progress=False)
    again = run_batch(tmp_path / "in", out, service=app.notes, progress=False)
    assert again.skipped == 3 and len(again.success) == 3
    forced = run_batch(tmp_path / "in", out, service=app.notes, progress=False, force=True)
    assert forced.skipped == 0
    note_id = json.loads((out / "note2.txt.out").read_text(encoding="utf-8"))["note_id"]
    assert len(app.store.extractions(note_id)) == 2


def test_all_bad_is_failed_and_no_store_leaves_store_empty(app: App, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(b"")
    report = run_batch(tmp_path / "in", tmp_path / "out", service=None, progress=False)
    assert report.status == "FAILED"
    assert app.store.counts()["notes"] == 0


def test_cli_with_two_workers(tmp_path: Path, data_dir: Path) -> None:
    _inputs(tmp_path / "in")
    proc = subprocess.run(
        [sys.executable, "-m", "services", "batch", str(tmp_path / "in"), str(tmp_path / "out"), "--workers", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "5/5 files" in proc.stderr  # progress on stderr
    assert json.loads(proc.stdout)["SuccessFilesCount"] == 3


def test_evaluate_cli_on_sample_data(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "services", "batch", "sample_data/notes", str(out), "--no-store", "--quiet"],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    proc = subprocess.run([sys.executable, "-m", "services", "evaluate", "sample_data/gold/dev.jsonl", str(out), "--json"],
                          cwd=ROOT, check=True, capture_output=True, text=True, timeout=120)
    scores = json.loads(proc.stdout)
    assert scores["notes"] >= 30 and not scores["missing_outputs"]
    assert scores["micro_f1"] > 0.7  # a floor that catches a broken engine; targets live in benchmarks/


def test_workers_share_the_store_and_dedupe_races(app: App, tmp_path: Path) -> None:
    """Identical files processed by two worker processes at once still become one note."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(24):
        (folder / f"same{i:02d}.txt").write_text("기침과 가래 호소. 발열 없음.", encoding="utf-8")
        (folder / f"other{i:02d}.txt").write_text(f"{i}번 기록: 두통 호소.", encoding="utf-8")
        (folder / f"bad{i:02d}.txt").write_bytes(b"")
    out = tmp_path / "out"
    report = run_batch(folder, out, service=app.notes, settings=app.settings, workers=2, progress=False)
    assert (len(report.success), len(report.unprocessed)) == (48, 24)
    ids = {json.loads((out / f"same{i:02d}.txt.out").read_text(encoding="utf-8"))["note_id"] for i in range(24)}
    assert len(ids) == 1
    assert app.store.counts()["done"] == 25
    (note_id,) = ids
    assert len(app.store.extractions(note_id)) == 1
