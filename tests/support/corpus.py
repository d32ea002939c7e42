"""Raw captures of real news pages (the shared extraction benchmark), with syndicated and
edited copies across captures and days, written straight into a raw bucket."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

from ingest import inbox
from ingest.archive import Exchange, build_warc
from ingest.models import Response
from ingest.storage import Stores
from tests.conftest import shared_path

START = datetime(2024, 5, 1, 1, tzinfo=UTC)


def pages(count: int) -> list[tuple[str, str, bytes]]:
    """(id, url, html) of the first ``count`` benchmark pages."""
    base = shared_path("benchdata", "extraction")
    truth = json.loads((base / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for pid, item in sorted(truth.items())[:count]:
        out.append((pid, item["url"], gzip.decompress((base / "html" / f"{pid}.html.gz").read_bytes())))
    return out


def exchanges(count: int, captures: int = 6) -> dict[str, list[Exchange]]:
    """Capture key -> exchanges: ``count`` pages spread over ``captures`` captures five hours
    apart (two groups, two days), every 7th page copied to another site three hours later and
    every 11th edited and copied thirty hours later."""
    out: dict[str, list[Exchange]] = {}
    for i, (pid, url, html) in enumerate(pages(count)):
        c = i % captures
        when = START + timedelta(hours=c * 5, minutes=i % 50)
        found = [Exchange(Response(url, url, 200, (("Content-Type", "text/html"),), html, when),
                          "page", {"feed_id": f"feed-{c % 3}", "entry_title": f"Entry {i}"})]
        if i % 7 == 0:
            copy = f"https://copy{i}.example.org/story/{pid}"
            found.append(Exchange(Response(copy, copy, 200, (), html, when + timedelta(hours=3)),
                                  "page", {"feed_id": "feed-copies"}))
        if i % 11 == 0:
            edited = f"https://edit{i}.example.net/{pid}"
            found.append(Exchange(Response(edited, edited, 200, (), html.replace(b"the ", b"a ", 5),
                                           when + timedelta(hours=30)),
                                  "page", {"feed_id": "feed-edits"}))
        for ex in found:
            day = ex.response.fetched_at.date().isoformat()
            out.setdefault(f"captures/dt={day}/group=g{c % 2}/c{c:02d}.warc.gz", []).append(ex)
    for found in out.values():
        found.sort(key=lambda e: e.response.fetched_at)
    return out


def write(stores: Stores, captures: dict[str, list[Exchange]], mark: bool = True) -> list[str]:
    """Store the captures (and their inbox markers, as a poll would); returns their keys."""
    for key, found in captures.items():
        if mark:
            inbox.post(stores, key)
        stores.raw.put(key, build_warc(found))
    return sorted(captures)
