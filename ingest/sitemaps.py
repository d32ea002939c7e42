"""Sitemaps as a historical source: the article URLs a site lists for a past interval.

Feeds list only recent items, so a backfill of an older interval asks the site's sitemaps
(found in the catalog's ``sitemaps`` or the ``Sitemap:`` lines of robots.txt). Both plain
sitemaps (``<urlset>``, with Google News ``<news:publication_date>`` or ``<lastmod>``) and
sitemap indexes (``<sitemapindex>``, followed to their children) are read, gzipped or not.
An entry is kept when its publication date (else its lastmod) falls inside the interval; an index
child whose lastmod is before the interval starts cannot hold such entries and is not fetched.

Limits, each recorded as a problem with a message rather than raised: at most ``MAX_SITEMAPS``
documents per discovery, nesting at most ``MAX_DEPTH`` deep, a sitemap already visited is not
read again (self-referencing indexes), a gzipped sitemap unpacks to at most ``MAX_UNPACKED``
bytes, and malformed XML is reported with the parser's message. Entries are parsed incrementally
(lxml iterparse), so a large sitemap does not build a whole tree.
"""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree

from ingest.errors import IngestError
from ingest.fetch import Fetcher, robots_rules
from ingest.models import DataInterval, FeedEntry, parse_iso

log = logging.getLogger(__name__)

MAX_SITEMAPS = 50
MAX_DEPTH = 3
MAX_UNPACKED = 64 * 1024 * 1024
_SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


class SitemapError(ValueError):
    """A sitemap document that cannot be read."""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """One ``<url>`` of a sitemap."""

    url: str
    published_at: datetime | None
    lastmod: datetime | None
    title: str = ""

    @property
    def when(self) -> datetime | None:
        """The date that places the entry in an interval (publication first)."""
        return self.published_at or self.lastmod


@dataclass
class SitemapScan:
    """What a scan of a site's sitemaps found for an interval."""

    entries: list[FeedEntry] = field(default_factory=list)
    sitemaps_read: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    undated: int = 0
    outside: int = 0


def unpack(body: bytes, url: str) -> bytes:
    """The XML of a sitemap body, gunzipped (up to ``MAX_UNPACKED`` bytes) when gzipped."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_UNPACKED + 1)
    except zlib.error as exc:
        raise SitemapError(f"{url}: broken gzip data ({exc})") from None
    if len(data) > MAX_UNPACKED:
        raise SitemapError(f"{url}: unpacks to more than {MAX_UNPACKED // 2**20} MiB; not read")
    if not inflater.eof:
        raise SitemapError(f"{url}: broken gzip data (truncated)")
    return data


def parse(body: bytes, url: str) -> tuple[str, list[SitemapEntry], list[tuple[str, datetime | None]]]:
    """Parse a sitemap: ("urlset" or "index", its entries, its child sitemaps with lastmod).

    Raises ``SitemapError`` for anything that is not a sitemap.
    """
    data = unpack(body, url)
    entries: list[SitemapEntry] = []
    children: list[tuple[str, datetime | None]] = []
    root_tag = ""
    try:
        for event, elem in etree.iterparse(io.BytesIO(data), events=("start", "end"),
                                           resolve_entities=False, no_network=True,
                                           huge_tree=False, recover=False):
            if event == "start":
                if not root_tag:
                    root_tag = elem.tag
                continue
            if elem.tag == f"{_SM}url":
                loc = _text(elem, f"{_SM}loc")
                if loc:
                    entries.append(SitemapEntry(
                        url=urljoin(url, loc),
                        published_at=parse_iso(_text(elem, f"{_NEWS}news/{_NEWS}publication_date")),
                        lastmod=parse_iso(_text(elem, f"{_SM}lastmod")),
                        title=_text(elem, f"{_NEWS}news/{_NEWS}title"),
                    ))
                elem.clear()
            elif elem.tag == f"{_SM}sitemap":
                loc = _text(elem, f"{_SM}loc")
                if loc:
                    children.append((urljoin(url, loc), parse_iso(_text(elem, f"{_SM}lastmod"))))
                elem.clear()
    except etree.XMLSyntaxError as exc:
        raise SitemapError(f"{url}: malformed sitemap XML ({exc})") from None
    if root_tag == f"{_SM}urlset":
        return "urlset", entries, []
    if root_tag == f"{_SM}sitemapindex":
        return "index", [], children
    raise SitemapError(f"{url}: not a sitemap (root element {root_tag or 'missing'})")


def _text(elem: etree._Element, path: str) -> str:
    found = elem.find(path)
    return (found.text or "").strip() if found is not None else ""


def robots_sitemaps(robots_txt: str, base: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt (read by protego), made absolute against ``base``."""
    rules = robots_rules(robots_txt.encode("utf-8"))
    return list(dict.fromkeys(urljoin(base, url.strip()) for url in rules.sitemaps if url.strip()))


async def discover(fetcher: Fetcher, page_url: str, allow_private: bool = False) -> list[str]:
    """The sitemaps a site announces in its robots.txt (none when it has no robots.txt)."""
    parts = urlsplit(page_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    try:
        resp = await fetcher.fetch(f"{origin}/robots.txt", kind="robots",
                                   allow_private=allow_private)
    except IngestError as exc:
        log.info("%s/robots.txt: %s", origin, exc)
        return []
    if resp.status != 200:
        return []
    return robots_sitemaps(resp.body.decode("utf-8", "replace"), origin)


async def scan(
    fetcher: Fetcher,
    roots: Iterable[str],
    interval: DataInterval,
    feed_id: str,
    allow_private: bool = False,
) -> SitemapScan:
    """Read the sitemaps under ``roots`` and return the entries dated inside ``interval``."""
    result = SitemapScan()
    seen: set[str] = set()
    urls: set[str] = set()
    todo: list[tuple[str, int]] = [(root, 0) for root in roots]
    while todo:
        url, depth = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        if len(result.sitemaps_read) >= MAX_SITEMAPS:
            result.problems.append({"sitemap": url, "error": f"more than {MAX_SITEMAPS} sitemaps "
                                    "for one feed; the rest were not read"})
            break
        try:
            resp = await fetcher.fetch(url, kind="sitemap", allow_private=allow_private)
            if resp.status != 200:
                raise SitemapError(f"{url}: HTTP {resp.status}")
            _kind, entries, children = parse(resp.body, resp.final_url)
        except (IngestError, SitemapError) as exc:
            result.problems.append({"sitemap": url, "error": str(exc)})
            log.warning("feed %s: sitemap %s", feed_id, exc)
            continue
        result.sitemaps_read.append(url)
        for child, lastmod in children:
            if child in seen:
                continue
            if depth + 1 > MAX_DEPTH:
                result.problems.append({"sitemap": child, "error": f"nested more than {MAX_DEPTH} "
                                        "sitemap indexes deep; not read"})
                continue
            if lastmod is not None and lastmod < interval.start:
                continue  # last changed before the interval: lists nothing from it
            todo.append((child, depth + 1))
        for entry in entries:
            when = entry.when
            if when is None:
                result.undated += 1
            elif not interval.start <= when < interval.end:
                result.outside += 1
            elif entry.url not in urls:
                urls.add(entry.url)
                result.entries.append(FeedEntry(feed_id=feed_id, url=entry.url,
                                                entry_id=entry.url, title=entry.title,
                                                published_at=when))
    result.entries.sort(key=lambda e: (e.published_at or interval.start, e.url))
    return result
