"""Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) parsed from bytes into FeedEntry records.

Well-formed RSS 2.0/0.9x, RSS 1.0 and Atom 1.0 take a fast path on lxml that reads only what a
FeedEntry needs (link, id, title, date; dates through feedparser's date parser). Everything else,
malformed XML, wrong charsets, Atom 0.3, CDF, goes to feedparser, which never gives up on bad
input. The fast path exists because feedparser's pure-Python SAX handlers cost 15-25 ms per
news-sized feed here, which makes parsing, not the network, the limit of a poll (bench/poll.py);
a test checks both paths agree on every fixture. JSON Feed (not read by feedparser) is parsed
here too. Nothing here touches the network: no parser is handed a URL, external entities are off.
"""

from __future__ import annotations

import calendar
import email.utils
import html
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.datetimes import _parse_date as feedparser_date
from lxml import etree

from ingest.errors import FeedParseError
from ingest.models import FeedEntry, ParsedFeed, parse_iso

log = logging.getLogger(__name__)

_JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")


def parse_feed(body: bytes, url: str, feed_id: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed document; raise ``FeedParseError`` when it holds no feed at all."""
    if not body.strip():
        raise FeedParseError(f"{url}: the feed document is empty")
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if "json" in content_type.lower() or head.startswith(b"{"):
        return _parse_json_feed(body, url, feed_id)
    fast = parse_fast(body, url, feed_id)
    if fast is not None:
        return fast
    return parse_with_feedparser(body, url, feed_id, content_type)


def parse_with_feedparser(body: bytes, url: str, feed_id: str, content_type: str = "") -> ParsedFeed:
    """Parse any XML feed with feedparser (tolerant of malformed input)."""
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


_ATOM = "http://www.w3.org/2005/Atom"
_RSS1 = "http://purl.org/rss/1.0/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_ORIG_LINK = "{http://rssnamespace.org/feedburner/ext/1.0}origLink"
_DC = "http://purl.org/dc/elements/1.1/"
_TAGS = re.compile(r"<[^>]+>")
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                       remove_comments=True, remove_pis=True)


def parse_fast(body: bytes, url: str, feed_id: str) -> ParsedFeed | None:
    """Parse well-formed RSS 2.0/0.9x, RSS 1.0 or Atom 1.0 with lxml; None for anything else."""
    try:
        root = etree.fromstring(body, parser=_XML)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if not isinstance(root.tag, str):
        return None
    qname = etree.QName(root)
    if qname.localname == "rss" and not qname.namespace:
        channel = root.find("channel")
        if channel is None:
            return None
        version = (root.get("version") or "2.0").replace(".", "")
        entries = [_rss_item(item, url, feed_id) for item in channel.iterfind("item")]
        title, fmt = _text(channel.find("title")), f"rss{version}"
    elif qname.localname == "feed" and qname.namespace == _ATOM:
        entries = [_atom_entry(e, url, feed_id) for e in root.iterfind(f"{{{_ATOM}}}entry")]
        title, fmt = _atom_text(root.find(f"{{{_ATOM}}}title")), "atom10"
    elif qname.localname == "RDF" and qname.namespace == _RDF:
        entries = [_rss1_item(i, url, feed_id) for i in root.iterfind(f"{{{_RSS1}}}item")]
        channel = root.find(f"{{{_RSS1}}}channel")
        title, fmt = _text(channel.find(f"{{{_RSS1}}}title") if channel is not None else None), "rss10"
    else:
        return None
    return ParsedFeed(entries=tuple(e for e in entries if e is not None), title=title, format=fmt)


def _text(elem: Any) -> str:
    return (elem.text or "").strip() if elem is not None else ""


def _atom_text(elem: Any) -> str:
    if elem is None:
        return ""
    if elem.get("type") == "xhtml":
        return " ".join("".join(elem.itertext()).split())
    text = (elem.text or "").strip()
    if elem.get("type") == "html":
        text = html.unescape(_TAGS.sub("", text)).strip()
    return text


def _when(*candidates: Any) -> datetime | None:
    for elem in candidates:
        value = _text(elem)
        if value:
            parsed = _quick_date(value)
            if parsed is not None:
                return parsed
            stamp = feedparser_date(value)
            if stamp:
                return datetime.fromtimestamp(calendar.timegm(stamp), UTC)
    return None


def _quick_date(value: str) -> datetime | None:
    """RFC 822 and ISO 8601 dates, the common cases, without feedparser's parser chain."""
    if value[:1].isdigit() and "-" in value[:8]:
        dt = parse_iso(value)
        if dt is not None:
            return dt
    parts = email.utils.parsedate_tz(value)
    if parts is None or parts[9] is None:
        return None
    return datetime.fromtimestamp(email.utils.mktime_tz(parts), UTC)


def _make(feed_id: str, base: str, link: str, entry_id: str, title: str,
          published: datetime | None, summary: str = "") -> FeedEntry | None:
    """A FeedEntry with an absolute link (the id when it is a URL and there is no link)."""
    if not link and entry_id.startswith(("http://", "https://")):
        link = entry_id
    if not link:
        return None
    link = link.strip()
    if not link.startswith(("http://", "https://")):
        link = urljoin(base, link)
    return FeedEntry(feed_id=feed_id, url=link, entry_id=entry_id or link, title=title,
                     published_at=published, summary=summary)


def _rss_item(item: Any, base: str, feed_id: str) -> FeedEntry | None:
    fields: dict[str, Any] = {}
    for child in item:  # one pass over the children: cheaper than several find() calls
        tag = child.tag
        if isinstance(tag, str) and tag not in fields:
            fields[tag] = child
    guid = fields.get("guid")
    entry_id = _text(guid)
    # FeedBurner's origLink is the article's own URL (its <link> is a redirect through
    # FeedBurner); an <atom:link> stands in for a missing <link>, as feedparser reads it
    link = _text(fields.get(_ORIG_LINK)) or _text(fields.get("link"))
    if not link:
        link = next((str(a.get("href")).strip() for a in item.iterfind(f"{{{_ATOM}}}link")
                     if a.get("rel", "alternate") == "alternate" and a.get("href")), "")
    if not link and guid is not None and guid.get("isPermaLink", "true").lower() != "false":
        link = entry_id
    title = _text(fields.get("title"))
    if "<" in title or "&" in title:
        title = html.unescape(_TAGS.sub("", title))
    published = _when(fields.get("pubDate"), fields.get(f"{{{_DC}}}date"))
    return _make(feed_id, base, link, entry_id, title, published)


def _rss1_item(item: Any, base: str, feed_id: str) -> FeedEntry | None:
    link = _text(item.find(f"{{{_RSS1}}}link")) or item.get(f"{{{_RDF}}}about", "")
    entry_id = item.get(f"{{{_RDF}}}about", "") or link
    title = html.unescape(_TAGS.sub("", _text(item.find(f"{{{_RSS1}}}title"))))
    published = _when(item.find(f"{{{_DC}}}date"))
    return _make(feed_id, base, link, entry_id, title, published)


def _atom_entry(entry: Any, base: str, feed_id: str) -> FeedEntry | None:
    link = ""
    for candidate in entry.iterfind(f"{{{_ATOM}}}link"):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            link = candidate.get("href")
            break
    entry_id = _text(entry.find(f"{{{_ATOM}}}id"))
    title = _atom_text(entry.find(f"{{{_ATOM}}}title"))
    published = _when(entry.find(f"{{{_ATOM}}}published"), entry.find(f"{{{_ATOM}}}updated"))
    return _make(feed_id, base, link, entry_id, title, published)


def _entry_from_feedparser(raw: Any, base: str, feed_id: str) -> FeedEntry | None:
    link = raw.get("feedburner_origlink") or raw.get("link") or ""
    if not link:
        for candidate in raw.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
    return _make(feed_id, base, link, str(raw.get("id") or ""),
                 str(raw.get("title", "")).strip(), published,
                 summary=str(raw.get("summary", ""))[:2000])


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
        if not link and str(item.get("id", "")).startswith(("http://", "https://")):
            link = str(item["id"])  # an id that is a URL stands in for a missing url
        if not isinstance(link, str) or not link:
            continue
        link = urljoin(url, link.strip())
        published = parse_iso(item.get("date_published") or item.get("date_modified"))
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

