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
python3 -m ruff check services pages ui Home.py tests scripts benchmarks
python3 -m mypy services
python3 -m pytest -n 2 --timeout 600 "$@"
