"""The Wayback Machine as a historical source: archived copies of a feed, and of its pages.

The CDX index (``<WAYBACK_URL>/cdx/search/cdx``) lists the captures of the feed URL; the ones
taken from the start of the interval until ``SNAPSHOT_DAYS`` after its end still list what the
feed published inside it. Each chosen capture is read in its original bytes
(``/web/<timestamp>id_/<url>``), its entries published inside the interval are kept, and their
pages are read from the archive too (the capture closest to the feed's, which the Wayback
Machine redirects to), so a page that has since gone from the site still comes back. The pages
keep their original URLs; the archive URL and time go with them as metadata.

Politeness and limits are the fetcher's (the archive is one more host); at most
``MAX_SNAPSHOTS`` feed captures are read per interval.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

from ingest.archive import Exchange
from ingest.config import FeedSpec
from ingest.errors import IngestError, PermanentError
from ingest.feeds import parse_feed
from ingest.fetch import Fetcher
from ingest.models import DataInterval, FeedEntry, parse_digits

log = logging.getLogger(__name__)

_STAMP = re.compile(r"/web/(\d{14})id_/")
SNAPSHOT_DAYS = 7
MAX_SNAPSHOTS = 8


def cdx_url(base: str, url: str, interval: DataInterval) -> str:
    """The CDX query for the captures of ``url`` that can list the interval's entries."""
    until = interval.end + timedelta(days=SNAPSHOT_DAYS)
    query = urlencode({"url": url, "from": f"{interval.start:%Y%m%d%H%M%S}",
                       "to": f"{until:%Y%m%d%H%M%S}", "output": "json",
                       "filter": "statuscode:200", "collapse": "digest"})
    return f"{base.rstrip('/')}/cdx/search/cdx?{query}"


def snapshots(body: bytes, source: str) -> list[str]:
    """Capture timestamps from a CDX JSON answer (header row first), oldest first."""
    try:
        rows = json.loads(body or b"[]")
        if rows == []:
            return []  # no captures
        header, data = rows[0], rows[1:]
        at = header.index("timestamp")
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise PermanentError(f"{source}: not a CDX JSON answer ({exc})") from None
    stamps = sorted({str(row[at]) for row in data if len(row) > at})
    if len(stamps) > MAX_SNAPSHOTS:  # spread the reads over the period
        step = len(stamps) / MAX_SNAPSHOTS
        stamps = [stamps[int(i * step)] for i in range(MAX_SNAPSHOTS)]
    return stamps


def archived_url(base: str, stamp: str, url: str) -> str:
    """The original bytes of the capture of ``url`` closest to ``stamp``."""
    return f"{base.rstrip('/')}/web/{stamp}id_/{url}"


async def feed_entries(fetcher: Fetcher, base: str, feed: FeedSpec,
                       interval: DataInterval) -> list[tuple[FeedEntry, str]]:
    """Entries published inside the interval in the archived copies of the feed, each with the
    capture timestamp it was found in. Raises ``IngestError`` when the index cannot be read."""
    query = cdx_url(base, feed.url, interval)
    resp = await fetcher.fetch(query, kind="feed")
    if resp.status != 200:
        raise PermanentError(f"{query}: HTTP {resp.status}")
    found: dict[str, tuple[FeedEntry, str]] = {}
    for stamp in snapshots(resp.body, query):
        copy = archived_url(base, stamp, feed.url)
        try:
            archived = await fetcher.fetch(copy, kind="feed")
            parsed = parse_feed(archived.body, feed.url, feed.id,
                                archived.header("content-type"))
        except IngestError as exc:
            log.info("feed %s: archived copy %s: %s", feed.id, copy, exc)
            continue
        for entry in parsed.entries:
            when = entry.published_at
            if when is not None and interval.start <= when < interval.end:
                found.setdefault(entry.url, (entry, stamp))
    return sorted(found.values(), key=lambda item: (item[0].published_at or interval.start,
                                                    item[0].url))


async def page(fetcher: Fetcher, base: str, entry: FeedEntry, stamp: str,
               meta: dict[str, object]) -> Exchange:
    """The archived copy of an entry's page, recorded under the page's own URL."""
    copy = archived_url(base, stamp, entry.url)
    resp = await fetcher.fetch(copy, kind="page")
    m = _STAMP.search(resp.final_url)  # the archive redirects to the capture it has
    stamp = m.group(1) if m else stamp
    archived_at = parse_digits(stamp) or resp.fetched_at
    response = replace(resp, url=entry.url, final_url=entry.url, fetched_at=archived_at)
    return Exchange(response, "page", {**meta, "source": "wayback", "wayback_url": copy})
