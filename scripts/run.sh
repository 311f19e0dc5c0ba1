#!/usr/bin/env bash
# Install the app's requirements and start it on http://localhost:8501 with the embedded
# defaults (local engine, SQLite under ./data); sample notes load on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet -r requirements.txt
exec python3 -m streamlit run Home.py --server.port "${PORT:-8501}"
