"""Publication times: the page's own timestamp with its zone, and the choice between it and the
feed entry's time.

htmldate (which trafilatura uses) returns a day at most, so a page saying
``2014-03-31T01:28:01+08:00`` would become 2014-03-31 00:00 UTC, eight hours and a day off. Here
the page's structured metadata (``article:published_time`` and similar meta tags, ``<time
itemprop=datePublished>``, JSON-LD ``datePublished``) is read with its time and zone, and each
value keeps its precision:

- ``exact``: a time with a UTC offset (or ``Z``): an instant;
- ``local``: a time without an offset: the publisher's wall clock, zone unknown;
- ``day``: a date only, in the publisher's zone (up to a day away from the UTC date).

``choose`` takes the most precise source: an exact page time; else the feed entry's time when it
agrees with what the page says (the same wall-clock minute at some UTC offset, or a date at most
a day away); else the page's value (a local time read as UTC, a day at midnight UTC).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

EXACT, LOCAL, DAY = "exact", "local", "day"
_RANK = {EXACT: 3, LOCAL: 2, DAY: 1}

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?")
# the metadata that may give a publication time, found in one pass over the tree (each ``//`` of
# an XPath is a pass of its own): meta tags by name or property, any element with
# itemprop="datePublished" (its datetime or content attribute), <time pubdate>, and JSON-LD
_META_PROPERTY = frozenset({"article:published_time", "og:published_time",
                            "og:article:published_time", "rnews:datePublished"})
_META_NAME = frozenset({"article:published_time", "datePublished", "pubdate", "publishdate",
                        "publish-date", "publish_date", "dc.date.issued", "DC.date.issued",
                        "dcterms.created", "DC.date", "dc.date", "date", "sailthru.date",
                        "parsely-pub-date"})
_LD_TYPE = "application/ld+json"
_STAMP_QUERY = etree.XPath(
    "//*[self::meta[@property or @name or @itemprop='datePublished'] or @itemprop='datePublished'"
    f" or self::time[@pubdate] or self::script[@type='{_LD_TYPE}']]")
# microdata's datePublished in a page's source: without it, the elements the query above can
# select are meta, time and script elements, which lxml finds by tag without a walk of every
# element in XPath (about a quarter of the query's cost on news pages)
_ITEMPROP_BEFORE = re.compile(rb"(?i:itemprop)\s*=\s*[\"']?\s*\Z")


def _has_microdata_date(source: bytes) -> bool:
    """Whether ``itemprop="datePublished"`` is in the page's source (each occurrence of the
    word, as JSON-LD has it too, checked for the attribute before it)."""
    at = source.find(b"datePublished")
    while at >= 0:
        if _ITEMPROP_BEFORE.search(source, max(0, at - 32), at):
            return True
        at = source.find(b"datePublished", at + 1)
    return False


_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Stamp:
    """A publication time as a page gives it: the UTC instant (for ``local``, the wall clock
    read as UTC; for ``day``, midnight UTC of the date) and its precision."""

    when: datetime
    precision: str


def parse_stamp(value: str) -> Stamp | None:
    """An ISO 8601 or RFC 2822 date string as a ``Stamp``; None when it is neither."""
    value = value.strip()
    if not value:
        return None
    m = _ISO.search(value)
    if m is None:
        return _rfc2822(value)
    try:
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        if m["H"] is None:
            return _valid(Stamp(datetime(y, mo, d, tzinfo=UTC), DAY))
        wall = datetime(y, mo, d, int(m["H"]), int(m["M"]), int(m["S"] or 0))
    except ValueError:
        return None
    zone = m["z"]
    if zone is None:
        return _valid(Stamp(wall.replace(tzinfo=UTC), LOCAL))
    if zone == "Z":
        return _valid(Stamp(wall.replace(tzinfo=UTC), EXACT))
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes >= 60:
        return _valid(Stamp(wall.replace(tzinfo=UTC), LOCAL))
    offset = timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
    return _valid(Stamp(wall.replace(tzinfo=timezone(offset)).astimezone(UTC), EXACT))


def _rfc2822(value: str) -> Stamp | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return _valid(Stamp(when.replace(tzinfo=UTC), LOCAL))
    return _valid(Stamp(when.astimezone(UTC), EXACT))


def _valid(stamp: Stamp) -> Stamp | None:
    now = datetime.now(UTC)
    return stamp if _EARLIEST <= stamp.when <= now + timedelta(days=2) else None


def page_stamp(tree: Any, source: bytes | None = None) -> Stamp | None:
    """The most precise publication time in the page's structured metadata (meta tags,
    microdata, JSON-LD), the first of that precision in document order; None when none.
    ``source``: the page's bytes the tree was parsed from, when the caller has them (the
    search is then cheaper where the page has no microdata date; the result is the same)."""
    best: Stamp | None = None
    for value in _candidates(tree, source):
        stamp = parse_stamp(value)
        if stamp is not None and (best is None or _RANK[stamp.precision] > _RANK[best.precision]):
            best = stamp
            if best.precision == EXACT:
                break
    return best


def _stamp_elements(tree: Any, source: bytes | None) -> Iterable[Any]:
    """What ``_STAMP_QUERY`` selects, in document order."""
    if source is None or _has_microdata_date(source):
        found: list[Any] = _STAMP_QUERY(tree)
        return found
    return (element for element in tree.iter("meta", "time", "script")
            if (element.tag == "meta" and ("property" in element.attrib or "name" in element.attrib
                                           or element.get("itemprop") == "datePublished"))
            or (element.tag == "time" and "pubdate" in element.attrib)
            or (element.tag == "script" and element.get("type") == _LD_TYPE))


def _candidates(tree: Any, source: bytes | None = None) -> Iterator[str]:
    values: list[str] = []  # attribute values, in document order (at most 20 used)
    scripts: list[str] = []
    for element in _stamp_elements(tree, source):
        tag = element.tag
        if tag == "script":
            if element.text and len(scripts) < 10:
                scripts.append(element.text)
            continue
        if len(values) >= 20:
            continue
        attrib = element.attrib
        wanted: set[str] = set()
        if tag == "meta" and (attrib.get("property") in _META_PROPERTY
                              or attrib.get("name") in _META_NAME
                              or attrib.get("itemprop") == "datePublished"):
            wanted.add("content")
        if attrib.get("itemprop") == "datePublished":
            wanted.update(("datetime", "content"))
        if tag == "time" and "pubdate" in attrib:
            wanted.add("datetime")
        values.extend(value for name, value in attrib.items() if name in wanted)
    yield from values[:20]
    for script in scripts:
        try:
            doc = json.loads(script)
        except ValueError:
            continue
        yield from _ld_dates(doc, 0)


def _ld_dates(node: Any, depth: int) -> Iterator[str]:
    if depth > 4:
        return
    if isinstance(node, list):
        for item in node[:20]:
            yield from _ld_dates(item, depth + 1)
    elif isinstance(node, dict):
        value = node.get("datePublished")
        if isinstance(value, str):
            yield value
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if key in node:
                yield from _ld_dates(node[key], depth + 1)


def choose(page: Stamp | None, entry: datetime | None) -> datetime | None:
    """The publication instant (UTC) from the page's stamp and the feed entry's time."""
    if page is None:
        return entry
    if page.precision == EXACT or entry is None:
        return page.when
    if page.precision == LOCAL:
        # the same wall clock at some offset (whole quarter hours, at most 14 h): the entry
        # says which zone the page meant
        gap = (page.when - entry).total_seconds()
        if abs(gap) <= 14 * 3600 and gap % 900 == 0:
            return entry
        return page.when
    return entry if abs((entry.date() - page.when.date()).days) <= 1 else page.when
