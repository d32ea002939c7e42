"""Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) parsed from bytes into FeedEntry records.

feedparser does the XML formats; JSON Feed (which feedparser does not read) is parsed here.
Nothing here touches the network: feedparser is never handed a URL.
"""

from __future__ import annotations

import calendar
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from ingest.errors import FeedParseError
from ingest.models import FeedEntry, ParsedFeed

log = logging.getLogger(__name__)

_JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")


def parse_feed(body: bytes, url: str, feed_id: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed document; raise ``FeedParseError`` when it holds no feed at all."""
    if not body.strip():
        raise FeedParseError(f"{url}: the feed document is empty")
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if "json" in content_type.lower() or head.startswith(b"{"):
        return _parse_json_feed(body, url, feed_id)
    parsed = feedparser.parse(
        body,
        response_headers={"content-location": url, "content-type": content_type or "application/xml"},
        sanitize_html=False,
    )
    version = parsed.get("version", "")
    warning = ""
    if parsed.get("bozo"):
        warning = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}"
    if not version and not parsed.entries:
        raise FeedParseError(f"{url}: not a feed ({warning or 'no RSS, Atom or JSON Feed found'})")
    entries = []
    for raw in parsed.entries:
        entry = _entry_from_feedparser(raw, url, feed_id)
        if entry is not None:
            entries.append(entry)
    return ParsedFeed(
        entries=tuple(entries),
        title=str(parsed.feed.get("title", "")),
        format=version or "unknown",
        warning=warning,
    )


def _entry_from_feedparser(raw: Any, base: str, feed_id: str) -> FeedEntry | None:
    link = raw.get("link") or ""
    if not link:
        for candidate in raw.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    entry_id = str(raw.get("id") or "")
    if not link and entry_id.startswith(("http://", "https://")):
        link = entry_id
    if not link:
        return None
    link = urljoin(base, link.strip())
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
    return FeedEntry(
        feed_id=feed_id,
        url=link,
        entry_id=entry_id or link,
        title=str(raw.get("title", "")).strip(),
        published_at=published,
        summary=str(raw.get("summary", ""))[:2000],
    )


def _parse_json_feed(body: bytes, url: str, feed_id: str) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedParseError(f"{url}: malformed JSON Feed: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedParseError(f"{url}: JSON document is not a JSON Feed (no 'items' list)")
    version = str(doc.get("version", ""))
    warning = "" if version in _JSON_FEED_VERSIONS else f"unknown JSON Feed version {version!r}"
    entries = []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url") or ""
        if not isinstance(link, str) or not link:
            continue
        link = urljoin(url, link.strip())
        published = _iso(item.get("date_published") or item.get("date_modified"))
        entries.append(
            FeedEntry(
                feed_id=feed_id,
                url=link,
                entry_id=str(item.get("id") or link),
                title=str(item.get("title") or "").strip(),
                published_at=published,
                summary=str(item.get("summary") or "")[:2000],
            )
        )
    return ParsedFeed(entries=tuple(entries), title=str(doc.get("title", "")),
                      format="json" + version.rsplit("/", 1)[-1], warning=warning)


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
