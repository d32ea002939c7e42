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
from collections.abc import Iterator
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
_META_XPATH = (
    "//meta[@property='article:published_time' or @name='article:published_time' "
    "or @property='og:published_time' or @property='og:article:published_time' "
    "or @itemprop='datePublished' or @name='datePublished' or @name='pubdate' "
    "or @name='publishdate' or @name='publish-date' or @name='publish_date' "
    "or @name='dc.date.issued' or @name='DC.date.issued' or @name='dcterms.created' "
    "or @name='DC.date' or @name='dc.date' or @name='date' or @name='sailthru.date' "
    "or @name='parsely-pub-date' or @property='rnews:datePublished']/@content"
    " | //*[@itemprop='datePublished']/@*[name()='datetime' or name()='content']"
    " | //time[@pubdate]/@datetime")
_LD_XPATH = "//script[@type='application/ld+json']/text()"
_META_QUERY = etree.XPath(_META_XPATH)  # compiled once, not on every page
_LD_QUERY = etree.XPath(_LD_XPATH)
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


def page_stamp(tree: Any) -> Stamp | None:
    """The most precise publication time in the page's structured metadata (meta tags,
    microdata, JSON-LD), the first of that precision in document order; None when none."""
    best: Stamp | None = None
    for value in _candidates(tree):
        stamp = parse_stamp(value)
        if stamp is not None and (best is None or _RANK[stamp.precision] > _RANK[best.precision]):
            best = stamp
            if best.precision == EXACT:
                break
    return best


def _candidates(tree: Any) -> Iterator[str]:
    for value in _META_QUERY(tree)[:20]:
        yield str(value)
    for script in _LD_QUERY(tree)[:10]:
        try:
            doc = json.loads(str(script))
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
