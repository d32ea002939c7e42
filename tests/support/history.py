"""A news site with a past: per-day sitemaps (an index with lastmod), a feed listing only the
last day, and one distinct article page per story, served by the real local HTTP server."""

from __future__ import annotations

import random
import zlib
from datetime import date, timedelta

from ingest.sample.server import SampleServer

NS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
      'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')
TOPICS = ["harbour", "railway", "election", "drought", "vaccine", "bridge", "festival", "budget"]
PLACES = ["Nairobi, Kenya", "Lyon, France", "Osaka, Japan", "Lima, Peru", "Amman, Jordan"]


_VOCAB = """
market council river school doctor winter harvest station museum courtyard engineer
teacher festival village rainfall factory election ministry minister budget airport
railway bridge hospital vaccine drought flood harbour fisherman farmer tenant landlord
museum library concert stadium coach player referee season contract union strike protest
court judge lawyer verdict appeal prison police officer suspect witness bank loan interest
inflation currency export import tariff shipment container port ferry tunnel highway
traffic accident fire smoke storm wind heat record temperature scientist study report
survey census population migrant border visa embassy envoy treaty summit talks ceasefire
soldier army navy pilot crew mission satellite rocket software startup investor shares
profit loss quarter revenue customer price fuel
"""
_WORDS = _VOCAB.split()


def story(day: date, n: int, salt: int = 0) -> bytes:
    """A real-looking article page, distinct for every (day, n): its sentences are drawn from a
    vocabulary with a seed of its own, so no two stories are near-duplicates."""
    rnd = random.Random(f"{day}/{n}/{salt}")
    topic, place = TOPICS[n % len(TOPICS)], PLACES[(n + day.toordinal()) % len(PLACES)]
    title = f"{place.split(',')[0]} {topic} report {day:%d %B} number {n}"
    paras = "".join(
        f"<p>Officials in {place} said on {day:%A %d %B %Y} that "
        + " ".join(rnd.choice(_WORDS) for _ in range(40)) + ".</p>"
        for _ in range(6))
    return (f"<html lang='en'><head><title>{title}</title>"
            f"<meta property='article:published_time' content='{day}T{8 + n % 12:02d}:00:00Z'>"
            f"</head><body><article><h1>{title}</h1>{paras}</article></body></html>").encode()


def install(server: SampleServer, prefix: str, first: date, days: int, per_day: int,
            salt: int | None = None) -> list[str]:
    """Serve the site under ``prefix`` (e.g. "/site1"); returns the story paths by day order.
    Sites with different ``salt`` (by default, different prefixes) publish different stories."""
    salt = zlib.crc32(prefix.encode()) if salt is None else salt
    base = server.base + prefix
    paths: list[str] = []
    children = []
    for d in range(days):
        day = first + timedelta(days=d)
        urls = []
        for n in range(per_day):
            path = f"{prefix}/{day:%Y/%m/%d}/story-{n}.html"
            server.files[path] = story(day, n, salt)
            paths.append(path)
            when = f"{day}T{8 + n % 12:02d}:00:00Z"
            urls.append(f"<url><loc>{server.base}{path}</loc><news:news><news:publication_date>"
                        f"{when}</news:publication_date><news:title>Story {n}</news:title>"
                        "</news:news></url>")
        server.files[f"{prefix}/sitemap-{day}.xml"] = (
            f'<?xml version="1.0"?><urlset {NS}>{"".join(urls)}</urlset>').encode()
        children.append(f"<sitemap><loc>{base}/sitemap-{day}.xml</loc>"
                        f"<lastmod>{day + timedelta(days=1)}</lastmod></sitemap>")
    server.files[f"{prefix}/sitemap-index.xml"] = (
        f'<?xml version="1.0"?><sitemapindex {NS}>{"".join(children)}</sitemapindex>').encode()
    last = first + timedelta(days=days - 1)
    items = "".join(
        f"<item><title>Story {n}</title><link>{server.base}{prefix}/{last:%Y/%m/%d}/story-{n}.html"
        f"</link><pubDate>{last:%a, %d %b %Y} {8 + n % 12:02d}:00:00 +0000</pubDate></item>"
        for n in range(per_day))
    server.files[f"{prefix}/feed.xml"] = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{prefix}</title>{items}'
        "</channel></rss>").encode()
    return paths
