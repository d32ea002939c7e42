"""Sitemaps as a historical source, against a real sitemap site on loopback."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.config import Settings
from ingest.fetch import Fetcher
from ingest.models import DataInterval
from ingest.sample.server import SampleServer
from ingest.sitemaps import MAX_UNPACKED, SitemapError, discover, parse, robots_sitemaps, scan

pytestmark = pytest.mark.integration

DAY = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))
NS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
      'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')


def urlset(*urls: tuple[str, str, str]) -> bytes:
    """(path, news publication date or "", lastmod or "") -> a urlset document."""
    items = []
    for path, published, lastmod in urls:
        news = (f"<news:news><news:publication_date>{published}</news:publication_date>"
                f"<news:title>Story {path}</news:title></news:news>") if published else ""
        mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        items.append(f"<url><loc>BASE{path}</loc>{mod}{news}</url>")
    return f'<?xml version="1.0"?><urlset {NS}>{"".join(items)}</urlset>'.encode()


def index(*children: tuple[str, str]) -> bytes:
    items = "".join(f"<sitemap><loc>BASE{p}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "")
                    + "</sitemap>" for p, m in children)
    return f'<?xml version="1.0"?><sitemapindex {NS}>{items}</sitemapindex>'.encode()


@pytest.fixture
def site() -> Iterator[SampleServer]:
    with SampleServer() as server:
        base = server.base
        files = {
            "/robots.txt": b"User-agent: *\nAllow: /\nSitemap: /sitemap-index.xml\n",
            "/sitemap-index.xml": index(("/news.xml.gz", ""), ("/2014-03.xml", "2014-03-31"),
                                        ("/2013.xml", "2013-12-31"), ("/sitemap-index.xml", ""),
                                        ("/broken.xml", ""), ("/missing.xml", "")),
            "/news.xml.gz": (urlset(
                ("/a", "2014-03-31T08:00:00Z", ""), ("/b", "2014-03-30T23:59:00Z", ""),
                ("/c", "", "2014-03-31T12:00:00+00:00"), ("/undated", "", ""))),
            "/2014-03.xml": urlset(("/d", "2014-03-31", ""), ("/a", "2014-03-31T08:00:00Z", ""),
                                   ("/e", "2014-04-01T00:00:00Z", "")),
            "/2013.xml": urlset(("/old", "2013-06-01", "")),
            "/broken.xml": b"<?xml version='1.0'?><urlset><url><loc>x</loc>",
        }
        for path, body in files.items():
            body = body.replace(b"BASE", base.encode())
            server.files[path] = gzip.compress(body) if path.endswith(".gz") else body
        yield server


def run(coro_fn: Any) -> Any:
    settings = Settings(per_host_delay=0.0, allow_private_addresses=True, read_timeout=2.0)

    async def go() -> Any:
        async with Fetcher(settings) as fetcher:
            return await coro_fn(fetcher)

    return asyncio.run(go())


def test_robots_discovery_index_news_and_lastmod_filtering(site: SampleServer) -> None:
    roots = run(lambda f: discover(f, site.base + "/a", allow_private=True))
    assert roots == [site.base + "/sitemap-index.xml"]
    result = run(lambda f: scan(f, roots, DAY, "feed-x", allow_private=True))
    assert [e.url for e in result.entries] == [site.base + p for p in ("/d", "/a", "/c")]
    assert result.entries[1].title == "Story /a" and result.entries[1].feed_id == "feed-x"
    assert result.undated == 1 and result.outside == 2  # /b the day before, /e the day after
    assert site.hits.get("/2013.xml") is None  # last changed before the interval: not read
    assert site.hits["/sitemap-index.xml"] == 1  # listed inside itself: read once
    problems = {p["sitemap"].rsplit("/", 1)[1]: p["error"] for p in result.problems}
    assert "malformed sitemap XML" in problems["broken.xml"]
    assert "404" in problems["missing.xml"] or "not found" in problems["missing.xml"].lower()


def test_a_site_without_robots_or_sitemaps_gives_nothing(site: SampleServer) -> None:
    del site.files["/robots.txt"]
    assert run(lambda f: discover(f, site.base + "/a", allow_private=True)) == []
    result = run(lambda f: scan(f, [site.base + "/nothing.xml"], DAY, "x", allow_private=True))
    assert result.entries == [] and len(result.problems) == 1


def test_bad_documents_get_clear_errors() -> None:
    with pytest.raises(SitemapError, match="not a sitemap"):
        parse(b"<html><body>hi</body></html>", "http://s/x.xml")
    with pytest.raises(SitemapError, match="malformed"):
        parse(b"\x00\x01 not xml", "http://s/x.xml")
    with pytest.raises(SitemapError, match="broken gzip"):
        parse(b"\x1f\x8b\x08\x00garbage", "http://s/x.xml.gz")
    bomb = gzip.compress(b" " * (MAX_UNPACKED + 10))
    with pytest.raises(SitemapError, match="unpacks to more than"):
        parse(bomb, "http://s/bomb.xml.gz")
    entity = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
              b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&x;</loc>'
              b"</url></urlset>")
    kind, entries, _ = parse(entity, "http://s/x.xml")
    assert kind == "urlset" and all("root:" not in e.url for e in entries)


def test_robots_sitemap_lines() -> None:
    text = "User-agent: *\nsitemap: /a.xml\nSITEMAP: https://cdn.example.org/b.xml.gz\nSitemap:\n"
    assert robots_sitemaps(text, "http://s") == ["http://s/a.xml", "https://cdn.example.org/b.xml.gz"]


def test_a_huge_sitemap_is_reported_not_read(site: SampleServer) -> None:
    site.files["/huge.xml"] = urlset(*[(f"/p{n}", "2014-03-31", "") for n in range(40_000)])
    assert len(site.files["/huge.xml"]) > 2 * 1024 * 1024
    settings = Settings(per_host_delay=0.0, allow_private_addresses=True,
                        max_body_bytes=2 * 1024 * 1024)

    async def go() -> Any:
        async with Fetcher(settings) as fetcher:
            return await scan(fetcher, [site.base + "/huge.xml"], DAY, "x", allow_private=True)

    result = asyncio.run(go())
    assert result.entries == [] and result.sitemaps_read == []
    assert "huge.xml" in result.problems[0]["sitemap"]
    assert "exceeds the 2097152-byte cap" in result.problems[0]["error"]
