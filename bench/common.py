"""Helpers shared by the benchmarks: locating ../shared and timing on one core."""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def seaweed_store() -> Iterator[tuple[Any, Any]]:
    """A real SeaweedFS in a temporary directory: (Settings for it, its Stores, buckets made)."""
    from ingest.config import Settings
    from ingest.seaweed import SeaweedServer
    from ingest.storage import Stores

    with tempfile.TemporaryDirectory() as tmp:
        weed = SeaweedServer(Path(tmp))
        weed.start()
        try:
            settings = Settings(s3_endpoint_url=weed.endpoint, s3_access_key=weed.access_key,
                                s3_secret_key=weed.secret_key)
            stores = Stores.from_settings(settings)
            stores.ensure_buckets()
            yield settings, stores
        finally:
            weed.stop()
