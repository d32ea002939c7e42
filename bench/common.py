"""Helpers shared by the benchmarks: locating ../shared and timing on one core."""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))


def pin_one_core() -> None:
    """Run on one core so figures compare with single-core baselines."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def extraction_pages(benchmark: str = "extraction") -> list[tuple[str, str, bytes, str]]:
    """(id, url, html bytes, true body) for every page of an extraction benchmark
    (``extraction``: the hand-annotated Zyte set; ``extraction-readability``: Mozilla
    Readability's test pages)."""
    base = SHARED / "benchdata" / benchmark
    truth = json.loads((base / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for pid, item in sorted(truth.items()):
        html = gzip.decompress((base / "html" / f"{pid}.html.gz").read_bytes())
        pages.append((pid, item["url"], html, item["articleBody"]))
    return pages
