"""The Wayback Machine as a historical source, against a local archive speaking the CDX API:
archived feed copies list the interval's entries, and pages come back from the archive even when
the site no longer has them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest.archive import read_warc
from ingest.config import Settings, parse_catalog
from ingest.history import backfill_group
from ingest.models import DataInterval
from ingest.poll import capture_key
from ingest.process import process_captures
from ingest.sample.server import SampleServer, send
from ingest.storage import Stores
from ingest.wayback import MAX_SNAPSHOTS, snapshots
from tests.support.history import story

pytestmark = pytest.mark.integration

DAY = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))
SITE = "http://gone.example"  # never contacted: only the archive has it


def rss(items: list[tuple[str, str]]) -> bytes:
    rows = "".join(f"<item><title>{p}</title><link>{SITE}{p}</link><pubDate>{d}</pubDate></item>"
                   for p, d in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{rows}</channel></rss>'.encode()


@pytest.fixture
def archive() -> Iterator[SampleServer]:
    with SampleServer() as server:
        queries: list[dict[str, list[str]]] = []

        def cdx(req: BaseHTTPRequestHandler) -> None:
            query = parse_qs(urlsplit(req.path).query)
            queries.append(query)
            rows = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
                    ["x", "20140331180000", query["url"][0], "text/xml", "200", "A", "1"],
                    ["x", "20140402060000", query["url"][0], "text/xml", "200", "B", "1"]]
            send(req, 200, json.dumps(rows).encode(), "application/json")

        server.routes["/cdx/search/cdx"] = cdx
        server.queries = queries  # type: ignore[attr-defined]
        server.files[f"/web/20140331180000id_/{SITE}/feed.xml"] = rss([
            ("/a.html", "Mon, 31 Mar 2014 09:00:00 +0000"),
            ("/old.html", "Sun, 30 Mar 2014 09:00:00 +0000")])
        server.files[f"/web/20140402060000id_/{SITE}/feed.xml"] = rss([
            ("/b.html", "Mon, 31 Mar 2014 20:00:00 +0000"),
            ("/a.html", "Mon, 31 Mar 2014 09:00:00 +0000"),
            ("/new.html", "Tue, 01 Apr 2014 09:00:00 +0000")])

        def redirect(target: str) -> object:
            def go(req: BaseHTTPRequestHandler) -> None:
                send(req, 302, b"", "text/plain", {"Location": target})
            return go

        # the archive redirects a page request to the capture it has
        server.routes[f"/web/20140331180000id_/{SITE}/a.html"] = redirect(
            f"/web/20140331100000id_/{SITE}/a.html")  # type: ignore[assignment]
        server.files[f"/web/20140331100000id_/{SITE}/a.html"] = story(date(2014, 3, 31), 1, 5)
        server.files[f"/web/20140402060000id_/{SITE}/b.html"] = story(date(2014, 3, 31), 2, 5)
        yield server


def test_archived_feed_copies_and_pages_fill_a_past_day(
        settings: Settings, stores: Stores, archive: SampleServer) -> None:
    settings = settings.model_copy(update={"wayback_url": archive.base,
                                           "allow_private_addresses": True})
    catalog = parse_catalog({"version": 1, "feeds": [
        {"id": "gone", "url": f"{SITE}/feed.xml", "publisher": "Gone", "group": "g",
         "history": ["captures", "wayback"]}]})
    result = backfill_group(settings, stores, catalog, "g", DAY)
    outcome = result.outcomes[0]
    assert outcome.status == "ok" and outcome.sources == {"captures": 0, "wayback": 2}
    query = archive.queries[0]  # type: ignore[attr-defined]
    assert query["url"] == [f"{SITE}/feed.xml"] and query["from"] == ["20140331000000"]
    assert query["to"] == ["20140408000000"]
    key = capture_key("g", DAY)
    records = [r for r in read_warc(stores.raw.get(key), key) if r.kind == "page"]
    assert sorted(r.url for r in records) == [f"{SITE}/a.html", f"{SITE}/b.html"]
    a = next(r for r in records if r.url.endswith("/a.html"))
    assert a.meta["source"] == "wayback"
    assert a.meta["wayback_url"].endswith("/web/20140331180000id_/http://gone.example/a.html")
    assert a.fetched_at == datetime(2014, 3, 31, 10, tzinfo=UTC)  # the page capture's time
    processed = process_captures(settings, stores, [key], catalog=catalog)
    assert processed.counts["articles"] == 2


def test_a_broken_index_answer_is_an_error_of_the_source(
        settings: Settings, stores: Stores, archive: SampleServer) -> None:
    archive.routes["/cdx/search/cdx"] = lambda req: send(req, 200, b"<html>busy</html>",
                                                        "application/json")
    settings = settings.model_copy(update={"wayback_url": archive.base,
                                           "allow_private_addresses": True})
    catalog = parse_catalog({"version": 1, "feeds": [
        {"id": "gone", "url": f"{SITE}/feed.xml", "publisher": "Gone", "group": "g",
         "history": ["wayback"]}]})
    outcome = backfill_group(settings, stores, catalog, "g", DAY).outcomes[0]
    assert outcome.status == "error" and "not a CDX JSON answer" in outcome.error


def test_snapshot_choice() -> None:
    header = ["urlkey", "timestamp", "original"]
    rows = [header] + [["k", f"201403{d:02d}000000", "u"] for d in range(1, 31)]
    stamps = snapshots(json.dumps(rows).encode(), "q")
    assert len(stamps) == MAX_SNAPSHOTS and stamps[0] == "20140301000000"
    assert snapshots(b"[]", "q") == []
