"""``python -m services hospitals import|near|build|reset``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from services.hospitals.model import EMERGENCY, Filters, Nearby


def add_parsers(sub: Any) -> None:
    h = sub.add_parser("hospitals", help="hospital map data: import HIRA files, nearest institutions, rebuild the "
                                         "shipped copy")
    hsub = h.add_subparsers(dest="action", required=True)
    i = hsub.add_parser("import", help="import official HIRA files (병원정보서비스, 약국정보서비스, 진료과목정보, "
                                       "시설정보, 세부정보; CSV in CP949 or UTF-8, or XLSX)")
    i.add_argument("files", nargs="+", type=Path)
    n = hsub.add_parser("near", help="the institutions nearest to a point, nearest first")
    n.add_argument("lat", type=float)
    n.add_argument("lon", type=float)
    n.add_argument("--department", default="", help=f"진료과목 they must offer (e.g. 내과), or {EMERGENCY}")
    n.add_argument("--kind", action="append", default=[], help="종별 (상급종합, 종합병원, 병원, 의원, 약국 …; repeatable)")
    n.add_argument("--er", action="store_true", help="only institutions with an emergency room")
    n.add_argument("--name", default="", help="part of the name")
    n.add_argument("--limit", type=int, default=10)
    n.add_argument("--json", action="store_true", help="JSON lines")
    b = hsub.add_parser("build", help="rebuild the shipped copy (services/hospitals/data) from ../shared/data")
    b.add_argument("--shared", type=Path, default=None, help="the shared data folder (default: ../shared/data)")
    b.add_argument("--out", type=Path, default=None, help="where the compact copy goes (default: services/hospitals/data)")
    hsub.add_parser("reset", help="replace the hospital database with the shipped copy")


def as_json(item: Nearby) -> dict[str, Any]:
    inst = item.institution
    return {"name": inst.name, "kind": inst.kind, "address": inst.addr, "phone": inst.tel,
            "distance_km": round(item.km, 3), "departments": inst.department_names,
            "specialists": {d: n for d, n in inst.departments if n}, "departments_inferred": inst.dept_inferred,
            "emergency_room": inst.er, "lat": inst.lat, "lon": inst.lon}


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        from services.hospitals.build import main as build_main

        return build_main([*(["--shared", str(args.shared)] if args.shared else []),
                           *(["--out", str(args.out)] if args.out else [])])
    from services.config import load_settings
    from services.wiring import build_hospitals

    service = build_hospitals(load_settings())
    if args.action == "import":
        from services.hospitals.hira import HiraFileError

        missing = [str(p) for p in args.files if not p.is_file()]
        if missing:
            print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
            return 2
        try:
            report = service.import_paths(args.files)
        except HiraFileError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(json.dumps(report.summary(), ensure_ascii=False, indent=2))
        return 0
    if args.action == "reset":
        print(f"{service.reset_to_shipped()} institutions from the shipped copy")
        return 0
    filters = Filters(kinds=tuple(args.kind), department=args.department, er_only=args.er, name=args.name)
    results = service.near(args.lat, args.lon, filters, max(1, args.limit))
    for item in results:
        if args.json:
            print(json.dumps(as_json(item), ensure_ascii=False))
        else:
            inst = item.institution
            print(f"{item.km:7.2f} km  {inst.name}  [{inst.kind}{', ER' if inst.er else ''}]  {inst.tel}  {inst.addr}")
    return 0
