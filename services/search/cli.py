"""``python -m services search`` and ``python -m services reindex``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services.search import ASSERTIONS, SearchQuery


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("search", help="search the notes; --json prints JSON lines (note id, file, score, snippet, "
                                      "matching entities)")
    s.add_argument("query", nargs="?", default="", help='words (ANDed), "a phrase", or a KCD/ATC code')
    s.add_argument("--category", action="append", default=[], help="entity category (repeatable)")
    s.add_argument("--term", default="", help="a mention's normalized term (or a written form of it, or a code)")
    s.add_argument("--include-negated", action="store_true", help="negated mentions of the term/category count too")
    s.add_argument("--assertion", action="append", default=[], choices=ASSERTIONS,
                   help="which mentions count (repeatable; default: present only)")
    s.add_argument("--from", dest="date_from", default=None, help="visit date from (YYYY-MM-DD)")
    s.add_argument("--to", dest="date_to", default=None, help="visit date to (YYYY-MM-DD)")
    s.add_argument("--department", action="append", default=[], help="department (repeatable)")
    s.add_argument("--expand", action="store_true", help="expand terms through the vocabularies (흉통 = chest pain)")
    s.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    s.add_argument("--limit", type=int, default=20, help="how many results")
    s.add_argument("--json", action="store_true", help="JSON lines")
    r = sub.add_parser("reindex", help="rebuild the search index of the configured backend from the store")
    r.add_argument("--backend", choices=["sqlite", "opensearch"], default=None, help="default: settings")


def run(args: argparse.Namespace) -> int:
    from services.config import load_settings
    from services.wiring import build_search

    settings = load_settings()
    if args.command == "reindex":
        if args.backend:
            settings = settings.model_copy(update={"search_backend": args.backend})
        report = build_search(settings).reindex()
        print(f"reindexed {report.notes} notes into {report.backend} in {report.seconds:.1f} s "
              f"({report.notes / max(report.seconds, 1e-9):.0f} notes/s)")
        return 0
    assertions = list(args.assertion) or ["present"]
    if args.include_negated and "negated" not in assertions:
        assertions.append("negated")
    query = SearchQuery(text=args.query, categories=args.category, term=args.term, assertions=assertions,
                        date_from=args.date_from, date_to=args.date_to, departments=args.department,
                        expand=args.expand, sort=args.sort, page_size=max(1, min(args.limit, 10_000)))
    service = build_search(settings)
    if args.json:
        for line in service.json_lines(query):
            print(line)
        return 0
    results = service.search(query, facets=False)
    print(f"{results.total} notes ({results.took_ms:.0f} ms)")
    for hit in results.hits:
        ents = ", ".join(f"{c.text}[{c.assertion}]" for c in hit.entities if c.matched)
        print(f"{hit.score:7.2f}  {hit.note_id}  {hit.filename}  {hit.visit_date or '—'}  {hit.department or '—'}")
        print(f"         {hit.snippet_text}")
        if ents:
            print(f"         {ents}")
    sys.stdout.flush()
    return 0
