"""Completeness reports: for one poll interval, what each feed listed, what was fetched, and what
became of it, in the processed bucket at ``reports/completeness/dt=<day>/<interval>.json``.

Per feed (from the interval's poll reports in the raw bucket and the processing counts of the
interval's captures):

- ``listed``: entries the feed (live) or its historical sources listed for the interval as new;
- ``fetched``: article pages in the interval's capture; ``fetch_failed``: pages the latest poll
  of the interval could not fetch (with reasons in the poll report);
- ``extracted`` (rows written), ``duplicates`` (exact), ``near_duplicates``, ``seen_before``
  (already processed from another capture), ``skipped`` (not an article), ``failed``
  (extraction errors);
- ``status`` of the latest poll and ``complete``: nothing failed to fetch, no source failed,
  and every fetched page was processed.

An interval has a capture per feed group, each processed as its own batch: processing stores each
capture's counts per feed at ``reports/processing/dt=<day>/<interval>/<group>.json`` and then
writes the report of every interval it touched from all of that interval's stored counts, so
the report holds every group's pages whichever batch wrote it last. A re-run rewrites both
with the same bytes, a rebuild with the new numbers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ingest.storage import Stores, each

log = logging.getLogger(__name__)

_CAPTURE = re.compile(r"captures/dt=(\d{4}-\d{2}-\d{2})/group=([^/]+)/([^/]+)\.warc\.gz$")
LOGGED_FEEDS = 50  # incomplete feeds named in the log per report (the report has them all)
PROCESS_FIELDS = ("extracted", "duplicates", "near_duplicates", "seen_before", "skipped", "failed")


ROOT = "reports/completeness/"  # the completeness reports, under dt=<day>/


def day_prefix(day: str) -> str:
    """Key prefix of a day's completeness reports."""
    return f"{ROOT}dt={day}/"


def report_key(day: str, label: str) -> str:
    """Object key of the completeness report of an interval."""
    return f"{day_prefix(day)}{label}.json"


def interval_of(capture_key: str) -> tuple[str, str] | None:
    """(day, interval label) of a capture key, or None for a key of another shape."""
    m = _CAPTURE.search(capture_key)
    return (m.group(1), m.group(3)) if m else None


def counts_prefix(day: str, label: str) -> str:
    """Key prefix of an interval's processing counts (one object per capture)."""
    return f"reports/processing/dt={day}/{label}/"


def counts_key(capture_key: str) -> str | None:
    """Object key of a capture's processing counts, or None for a key of another shape."""
    m = _CAPTURE.search(capture_key)
    return f"{counts_prefix(m.group(1), m.group(3))}{m.group(2)}.json" if m else None


def report_keys(captures: list[str]) -> list[str]:
    """Keys of the reports of the intervals ``captures`` belong to."""
    return [report_key(day, label) for day, label in intervals(captures)]


def intervals(captures: list[str]) -> list[tuple[str, str]]:
    """The (day, interval label) pairs ``captures`` belong to, sorted."""
    return sorted({iv for c in captures if (iv := interval_of(c))})


def build(stores: Stores, day: str, label: str) -> dict[str, Any]:
    """The report of one interval from its poll reports and its captures' stored processing
    counts."""
    feeds: dict[str, dict[str, Any]] = {}

    def row(feed_id: str) -> dict[str, Any]:
        return feeds.setdefault(feed_id, {
            "feed_id": feed_id, "group": "", "mode": "", "status": "not polled", "listed": 0,
            "fetched": 0, "fetch_failed": 0, **dict.fromkeys(PROCESS_FIELDS, 0), "problems": 0})

    polls = sorted(stores.raw.list(f"reports/poll/dt={day}/{label}/"))
    for doc in each(lambda key: stores.raw.get_json(key, {}) or {}, polls):
        for feed in doc.get("feeds", []):
            r = row(str(feed.get("feed_id", "")))
            history = feed.get("mode") == "history"
            r.update(group=doc.get("group", ""), mode=feed.get("mode", "live"),
                     status=feed.get("status", ""))
            r["listed"] = int(feed.get("entries" if history else "new_entries") or 0)
            r["fetch_failed"] = int(feed.get("pages_failed") or 0)
            r["problems"] = len(feed.get("problems") or [])
    counted = sorted(stores.processed.list(counts_prefix(day, label)))
    for doc in each(lambda key: stores.processed.get_json(key, {}) or {}, counted):
        for feed_id, counts in sorted((doc.get("feeds") or {}).items()):
            r = row(feed_id)
            r["fetched"] += counts.get("pages", 0)
            r["extracted"] += counts.get("articles", 0)
            for name in PROCESS_FIELDS[1:]:
                r[name] += counts.get(name, 0)
    for r in feeds.values():
        processed = r["extracted"] + r["seen_before"] + r["skipped"] + r["failed"]
        r["complete"] = (r["fetch_failed"] == 0 and r["problems"] == 0
                         and r["status"] in ("ok", "not_modified", "unchanged")
                         and processed == r["fetched"])
    rows = [feeds[k] for k in sorted(feeds)]
    totals = {name: sum(r[name] for r in rows)
              for name in ("listed", "fetched", "fetch_failed", *PROCESS_FIELDS)}
    return {"day": day, "interval": label, "feeds": rows, "totals": totals,
            "complete": all(r["complete"] for r in rows)}


def store_counts(stores: Stores, captures: list[str],
                 by_capture: dict[str, dict[str, dict[str, int]]]) -> None:
    """Store the captures' processing counts (per capture, per feed): what ``build`` reads."""
    each(lambda item: stores.processed.put_json(item[0], {"capture": item[1],
                                                         "feeds": by_capture.get(item[1], {})}),
         [(key, capture) for capture in captures if (key := counts_key(capture)) is not None])


def write_reports(stores: Stores, captures: list[str]) -> list[str]:
    """Build, store and log the report of every interval ``captures`` belong to (from all that
    is stored for the interval: every group's poll report and capture counts); returns the
    reports' keys. A run does this once, after its last batch: building an interval's report
    reads one object per feed group, so doing it after each batch would cost the square of
    the groups."""
    found = intervals(captures)
    reports = [build(stores, day, label) for day, label in found]
    keys = [report_key(day, label) for day, label in found]
    each(lambda item: stores.processed.put_json(*item), list(zip(keys, reports, strict=True)))
    for (day, label), report in zip(found, reports, strict=True):
        missing = [r for r in report["feeds"] if not r["complete"]]
        log.info("completeness %s %s: %d feeds, %s%s", day, label, len(report["feeds"]),
                 report["totals"], f" ({len(missing)} feeds incomplete)" if missing else "")
        for r in missing[:LOGGED_FEEDS]:
            log.info("  INCOMPLETE %-40s %-9s %-11s listed=%d fetched=%d fetch_failed=%d "
                     "extracted=%d duplicates=%d near=%d seen=%d skipped=%d failed=%d "
                     "problems=%d", r["feed_id"], r["mode"], r["status"], r["listed"],
                     r["fetched"], r["fetch_failed"], r["extracted"], r["duplicates"],
                     r["near_duplicates"], r["seen_before"], r["skipped"], r["failed"],
                     r["problems"])
        if len(missing) > LOGGED_FEEDS:
            log.info("  ... and %d more incomplete feeds: see %s", len(missing) - LOGGED_FEEDS,
                     report_key(day, label))
    return keys

