"""Regenerate the OpenSearch nori user dictionary and synonym list from the engine's vocabularies.

    python scripts/build_search_dict.py

Run it after `python -m services build-vocab` (or any edit to services/extraction/local/data/*.tsv), then
`python -m services reindex --backend opensearch` so the cluster's index template carries them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.search.dictionary import SYNONYMS, USERDICT, build  # noqa: E402

if __name__ == "__main__":
    rules, lines = build()
    print(f"{USERDICT}: {rules} user dictionary rules")
    print(f"{SYNONYMS}: {lines} synonym lines")
