"""Rebuild the hospital map's shipped copy (services/hospitals/data) from ../shared/data.

Same as ``python -m services hospitals build``; see services/hospitals/build.py and services/hospitals/data/SOURCE.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.hospitals.build import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
