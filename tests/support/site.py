"""A news site whose feeds move on: a real local HTTP server with feeds and pages set by tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from ingest.config import Catalog, parse_catalog
from ingest.sample.server import SampleServer
from tests.support.faults import article

EPOCH = datetime(2014, 3, 31, tzinfo=UTC)


class MovingSite:
    """Feeds at ``/<feed>.xml`` listing pages ``/<feed>/<n>``; ``show`` sets what a feed lists
    now (pages are created on first listing and keep being served)."""

    def __init__(self, server: SampleServer) -> None:
        self.server = server
        self.listed: dict[str, set[str]] = {}

    def url(self, feed: str, n: int) -> str:
        return f"{self.server.base}/{feed}/{n}.html"

    def show(self, feed: str, numbers: list[int]) -> list[str]:
        """Make ``feed`` list the pages ``numbers`` (newest first, as feeds do); returns URLs."""
        items = []
        for n in sorted(numbers, reverse=True):
            path = f"/{feed}/{n}.html"
            if path not in self.server.files:
                self.server.files[path] = article(
                    f"Story {n} of {feed}",
                    f"Officials of district {n} in the {feed} region reported on item {n * 7}.")
            when = format_datetime(EPOCH + timedelta(minutes=n))
            items.append(f"<item><title>Story {n}</title><link>{self.server.base}{path}</link>"
                         f"<guid>{self.server.base}{path}</guid><pubDate>{when}</pubDate></item>")
        self.server.files[f"/{feed}.xml"] = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{feed}</title>{''.join(items)}</channel></rss>").encode()
        urls = [self.url(feed, n) for n in numbers]
        self.listed.setdefault(feed, set()).update(urls)
        return urls

    def catalog(self, feeds: list[str], group: str = "g", **extra: Any) -> Catalog:
        entries = [{"id": f, "url": f"{self.server.base}/{f}.xml", **extra} for f in feeds]
        return parse_catalog({"defaults": {"publisher": "Test", "group": group,
                                           "allow_private": True}, "feeds": entries}, env={})

    def all_listed(self) -> set[str]:
        return {u for urls in self.listed.values() for u in urls}
