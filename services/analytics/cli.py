"""``python -m services rank``: the ranking of the Analytics page on the command line."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from datetime import date, timedelta
from typing import Any

from services.analytics.model import AGE_BANDS, ASSERTIONS, SEXES, Filter, Period
from services.analytics.service import AnalyticsService, Ranking

CATEGORIES = ("symptom", "diagnosis", "medication", "test", "procedure", "anatomy")


def add_parser(sub: Any) -> None:
    r = sub.add_parser("rank", help="rank terms by notes over a period, with the change against the period before")
    r.add_argument("--category", default="symptom", choices=CATEGORIES)
    r.add_argument("--top", type=int, default=10, help="how many terms (default 10)")
    r.add_argument("--from", dest="start", type=date.fromisoformat, help="first visit date, YYYY-MM-DD "
                   "(default: 29 days before --to)")
    r.add_argument("--to", dest="end", type=date.fromisoformat, help="last visit date, YYYY-MM-DD "
                   "(default: the latest visit on record)")
    r.add_argument("--department", action="append", default=[], help="only this department (repeatable)")
    r.add_argument("--age-band", action="append", type=int, default=[], choices=AGE_BANDS,
                   help="only this ten-year age band: 0 for 0–9 … 8 for 80 and over (repeatable)")
    r.add_argument("--sex", action="append", default=[], choices=SEXES, help="only this sex (repeatable)")
    for kind in ASSERTIONS:
        r.add_argument(f"--include-{kind}", action="store_true", help=f"also count {kind} mentions")
    r.add_argument("--json", action="store_true", help="print JSON")


def _period(service: AnalyticsService, start: date | None, end: date | None) -> Period:
    if end is None:
        end = service.default_period(1).end if start is None else max(start, service.default_period(1).end)
    return Period(start or end - timedelta(days=29), end)


def as_json(ranking: Ranking) -> dict[str, Any]:
    return {
        "category": ranking.filter.category,
        "period": {"from": ranking.period.start.isoformat(), "to": ranking.period.end.isoformat()},
        "previous": {"from": ranking.previous.start.isoformat(), "to": ranking.previous.end.isoformat()},
        "notes": ranking.notes,
        "previous_notes": ranking.previous_notes,
        "rows": [{"rank": r.rank, "term": r.term, "count": r.notes, "share": round(r.share, 4),
                  "previous_rank": r.previous_rank, "previous_count": r.previous_notes, "change": r.change,
                  "marker": r.marker()} for r in ranking.rows],
    }


def _cells(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(ranking: Ranking) -> str:
    lines = [f"{ranking.period.start} ~ {ranking.period.end} ({ranking.filter.category}, {ranking.notes} notes;"
             f" previous {ranking.previous.start} ~ {ranking.previous.end}, {ranking.previous_notes} notes)"]
    width = max([4] + [_cells(r.term) for r in ranking.rows])
    lines.append(f"{'rank':>4}  {'term'}{' ' * (width - 4)}  {'count':>5}  change")
    for r in ranking.rows:
        lines.append(f"{r.rank:>4}  {r.term}{' ' * (width - _cells(r.term))}  {r.notes:>5}  {r.marker()}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from services.wiring import build_app

    service = build_app(seed=False).analytics
    try:
        period = _period(service, args.start, args.end)
        flt = Filter(category=args.category, departments=tuple(args.department), age_bands=tuple(args.age_band),
                     sexes=tuple(args.sex),
                     include=frozenset(k for k in ASSERTIONS if getattr(args, f"include_{k}")))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ranking = service.ranking(flt, period, max(1, args.top))
    print(json.dumps(as_json(ranking), ensure_ascii=False, indent=2) if args.json else format_table(ranking))
    return 0
