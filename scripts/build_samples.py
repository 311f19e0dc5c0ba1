"""Build sample_data/notes/*.txt and sample_data/gold/dev.jsonl from the annotated source.

Annotation syntax in sample_data/source/notes.ann (written by hand, independent of any engine):
  === file.txt          starts a note;  #dept: 신경과  sets its gold department
  [text|category]       a clinical mention; [text|category|neg] negated, |hist historical
  {text|phi_type}       a PHI mention (name, age, sex, date, phone, id, address, …)
Run: python scripts/build_samples.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "sample_data" / "source" / "notes.ann"
NOTES = ROOT / "sample_data" / "notes"
GOLD = ROOT / "sample_data" / "gold" / "dev.jsonl"
TOKEN = re.compile(r"\[([^\[\]|\n]+)\|([a-z-]+)(?:\|([a-z,]+))?\]|\{([^{}|\n]+)\|([a-z-]+)\}")


def parse(block: str) -> tuple[str, dict[str, object]]:
    lines = block.split("\n")
    dept = None
    body = []
    for line in lines:
        if line.startswith("#dept:"):
            dept = line.split(":", 1)[1].strip()
        else:
            body.append(line)
    raw = "\n".join(body).strip("\n") + "\n"
    text_parts: list[str] = []
    entities: list[dict[str, object]] = []
    phi: list[dict[str, str]] = []
    pos = 0
    for m in TOKEN.finditer(raw):
        text_parts.append(raw[pos:m.start()])
        if m.group(1) is not None:
            mention, cat, flags = m.group(1), m.group(2), (m.group(3) or "").split(",")
            if cat != "-":
                entities.append({"category": cat, "text": mention, "negated": "neg" in flags, "historical": "hist" in flags})
        else:
            mention, ptype = m.group(4), m.group(5)
            if ptype != "-":
                phi.append({"type": ptype, "text": mention})
        text_parts.append(mention)
        pos = m.end()
    text_parts.append(raw[pos:])
    return "".join(text_parts), {"entities": entities, "phi": phi, "department": dept}


def main() -> int:
    blocks = re.split(r"^=== (.+)$", SRC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    NOTES.mkdir(parents=True, exist_ok=True)
    GOLD.parent.mkdir(parents=True, exist_ok=True)
    gold_lines = []
    for name, block in zip(blocks[1::2], blocks[2::2], strict=True):
        text, gold = parse(block)
        for e in gold["entities"] + gold["phi"]:  # type: ignore[operator]
            assert e["text"] in text, (name, e)
        (NOTES / name.strip()).write_text(text, encoding="utf-8")
        gold_lines.append(json.dumps({"file": name.strip(), **gold}, ensure_ascii=False))
    GOLD.write_text("\n".join(gold_lines) + "\n", encoding="utf-8")
    print(f"{len(gold_lines)} notes → {NOTES.relative_to(ROOT)}, gold → {GOLD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
