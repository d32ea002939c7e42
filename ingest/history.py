"""Polling a past interval from historical sources (what backfill runs of news_poll do).

A live poll asks each feed what it lists now; for an interval in the past that is the wrong
question, since feeds list only their latest items. A historical poll of a group and interval
works from the interval alone, with the sources each feed's catalog entry names, in order:

- ``captures``: the raw capture already stored for the interval (by a live poll at the time, or
  an earlier backfill): its pages are kept and never fetched again;
- ``feed``: the feed document as it is now, keeping only entries published inside the interval
  (covers recent days);
- ``sitemap``: the site's sitemaps (``sitemaps`` in the catalog, else robots.txt), entries whose
  publication date or lastmod is inside the interval (see ``ingest.sitemaps``);
- ``ccnews``: Common Crawl's CC-NEWS WARC files for the interval, streamed once for the whole
  group; the pages of the feeds' domains archived inside the interval are taken as they are,
  without fetching (see ``ingest.ccnews``);
- ``wayback``: archived copies of the feed in the Wayback Machine's CDX index, their entries
  published inside the interval, and those pages' archived copies (see ``ingest.wayback``).

Pages not yet captured are fetched and added to the interval's capture, at the same key a live
poll uses (``captures/dt=<day>/group=<group>/<interval>.warc.gz``); when nothing is missing the
capture is not rewritten, so a second run of the same interval leaves the same objects. The
group's feed state (validators, seen entries) belongs to live polling and is only read, never
written, so backfill runs of many intervals at once do not race on it. Each feed's sources,
counts and problems (a sitemap that is malformed, a site that is down) go to the poll report;
a failing source never fails the task (the feed's status says "partial", or "error" when no
source worked), and re-running the interval fetches what is missing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from ingest import ccnews, sitemaps, wayback
from ingest.archive import Exchange
from ingest.config import Catalog, FeedSpec, Settings
from ingest.errors import IngestError, NotRequested, PermanentError
from ingest.feeds import parse_feed
from ingest.fetch import Fetcher
from ingest.models import DataInterval, FeedEntry, FeedOutcome
from ingest.poll import (
    PollResult,
    capture_key,
    commit_capture,
    entry_meta,
    read_capture,
    report_key,
    state_key,
)
from ingest.storage import Stores
from ingest.urls import url_key

log = logging.getLogger(__name__)


def backfill_group(
    settings: Settings,
    stores: Stores,
    catalog: Catalog,
    group: str,
    interval: DataInterval,
    fetcher: Fetcher | None = None,
) -> PollResult:
    """Poll ``group`` for a past ``interval`` from its feeds' historical sources."""
    key = capture_key(group, interval)
    stored = read_capture(stores, key)
    state = stores.raw.get_json(state_key(group), {}) or {}
    seen = {ident for feed_state in (state.get("feeds") or {}).values()
            for ident in (feed_state.get("seen") or {})}
    feeds = catalog.in_group(group)
    archived = _ccnews(settings, [f for f in feeds if "ccnews" in f.history], interval)
    captured = {feed_id: set(urls) for feed_id, urls in stored.page_urls().items()}
    polled = asyncio.run(_all(settings, feeds, interval, captured, seen, fetcher, archived))
    result = PollResult(group, interval, report_key=report_key(group, interval))
    new: list[Exchange] = []
    for outcome, exchanges in polled:
        result.outcomes.append(outcome)
        new.extend(exchanges)
    commit_capture(stores, result, key, stored, new)
    stores.raw.put_json(result.report_key, result.as_dict())
    return result


def _ccnews(settings: Settings, feeds: list[FeedSpec], interval: DataInterval) -> Any:
    """One scan of the interval's CC-NEWS files for the feeds that use that source."""
    if not feeds:
        return None
    try:
        client = ccnews.make_client(settings)
        keys = ccnews.files_for(client, settings.ccnews_bucket, settings.ccnews_prefix, interval)
        if not keys:
            raise ValueError(f"no CC-NEWS files for {interval.label} under "
                             f"s3://{settings.ccnews_bucket}/{settings.ccnews_prefix}")
        return ccnews.scan(client, settings.ccnews_bucket, keys, interval, feeds,
                           settings.max_pages_per_feed, settings.max_body_bytes)
    except (BotoCoreError, ClientError, ValueError) as exc:
        log.warning("CC-NEWS for %s: %s", interval.label, exc)
        return ccnews.CCNewsScan(problems=[{"error": str(exc)}])


async def _all(settings: Settings, feeds: list[FeedSpec], interval: DataInterval,
               captured: dict[str, set[str]], seen: set[str], fetcher: Fetcher | None,
               archived: Any = None) -> list[tuple[FeedOutcome, list[Exchange]]]:
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    try:
        return list(await asyncio.gather(*(
            _feed(settings, fetcher, feed, interval, captured.get(feed.id, set()), seen, archived)
            for feed in feeds)))
    finally:
        if own:
            await fetcher.aclose()


async def _feed(settings: Settings, fetcher: Fetcher, feed: FeedSpec, interval: DataInterval,
                captured: set[str], seen: set[str],
                archived: Any = None) -> tuple[FeedOutcome, list[Exchange]]:
    outcome = FeedOutcome(feed.id, mode="history")
    exchanges: list[Exchange] = []
    try:
        stamps: dict[str, str] = {}
        entries = await _entries(fetcher, feed, interval, captured, outcome, archived,
                                 settings.wayback_url, stamps)
        exchanges = await _fetch_pages(settings, fetcher, feed, entries, captured, seen, outcome,
                                       stamps)
        if archived is not None and "ccnews" in feed.history:
            for ex in archived.pages.get(feed.id, []):  # archived pages: nothing to fetch
                if ex.response.url in entries:
                    continue
                outcome.entries += 1
                if ex.response.url in captured or url_key(ex.response.url) in seen:
                    outcome.pages_skipped += 1
                else:
                    exchanges.append(ex)
                    outcome.pages_ok += 1
                    outcome.new_entries += 1
    except Exception as exc:  # one feed never stops the group
        outcome.status, outcome.error = "error", f"{type(exc).__name__}: {exc}"
        log.exception("feed %s: unexpected failure in a historical poll", feed.id)
    return outcome, exchanges


async def _entries(fetcher: Fetcher, feed: FeedSpec, interval: DataInterval, captured: set[str],
                   outcome: FeedOutcome, archived: Any = None, wayback_url: str = "",
                   stamps: dict[str, str] | None = None) -> dict[str, FeedEntry]:
    """The entries every source of ``feed`` lists for the interval, by URL, in source order
    (CC-NEWS pages are counted here and added as archived, not listed for fetching; entries
    only the Wayback Machine lists get their capture time in ``stamps``, to be read there)."""
    entries: dict[str, FeedEntry] = {}
    tried = worked = 0
    for source in feed.history:
        if source == "captures":
            outcome.sources["captures"] = len(captured)
            continue
        if source == "ccnews":
            tried += 1
            problems = archived.problems if archived is not None else []
            outcome.problems.extend({"source": "ccnews", **p} for p in problems)
            if archived is not None and archived.files:
                worked += 1
                outcome.sources["ccnews"] = len(archived.pages.get(feed.id, []))
            continue
        tried += 1
        try:
            if source == "wayback":
                listed = await wayback.feed_entries(fetcher, wayback_url, feed, interval)
                found = [entry for entry, _ in listed]
                for entry, stamp in listed:
                    if entry.url not in entries and stamps is not None:
                        stamps[entry.url] = stamp
            elif source == "feed":
                found = await _from_feed(fetcher, feed, interval)
            else:
                found = await _from_sitemaps(fetcher, feed, interval, outcome)
        except (IngestError, sitemaps.SitemapError) as exc:
            outcome.problems.append({"source": source, "error": str(exc)})
            log.warning("feed %s: historical source %s: %s", feed.id, source, exc)
            continue
        worked += 1
        outcome.sources[source] = len(found)
        for entry in found:
            entries.setdefault(entry.url, entry)
    outcome.entries = len(entries)
    if worked < tried:  # "error": nothing worked; "partial": re-run the interval when it is back
        outcome.status = "error" if not worked and not captured else "partial"
        outcome.error = "; ".join(f"{p['source']}: {p['error']}" for p in outcome.problems)
    return entries


async def _from_feed(fetcher: Fetcher, feed: FeedSpec, interval: DataInterval) -> list[FeedEntry]:
    resp = await fetcher.fetch(feed.url, kind="feed", allow_private=feed.allow_private)
    if resp.status != 200:
        raise PermanentError(f"{feed.url}: HTTP {resp.status}")
    parsed = parse_feed(resp.body, resp.final_url, feed.id, resp.header("content-type"))
    return [e for e in parsed.entries
            if e.published_at is not None and interval.start <= e.published_at < interval.end]


async def _from_sitemaps(fetcher: Fetcher, feed: FeedSpec, interval: DataInterval,
                         outcome: FeedOutcome) -> list[FeedEntry]:
    roots = list(feed.sitemaps)
    if not roots:
        roots = await sitemaps.discover(fetcher, feed.url, feed.allow_private)
    if not roots:
        parts = urlsplit(feed.url)
        raise sitemaps.SitemapError(f"no sitemaps: none in the catalog and none in "
                                    f"{parts.scheme}://{parts.netloc}/robots.txt")
    scan = await sitemaps.scan(fetcher, roots, interval, feed.id, feed.allow_private)
    outcome.problems.extend({"source": "sitemap", **p} for p in scan.problems)
    if not scan.sitemaps_read:
        raise sitemaps.SitemapError(f"no sitemap could be read ({len(scan.problems)} failed)")
    return scan.entries


async def _fetch_pages(settings: Settings, fetcher: Fetcher, feed: FeedSpec,
                       entries: dict[str, FeedEntry], captured: set[str], seen: set[str],
                       outcome: FeedOutcome, stamps: dict[str, str] | None = None
                       ) -> list[Exchange]:
    todo = [e for url, e in entries.items() if url not in captured and url_key(url) not in seen]
    todo = todo[: settings.max_pages_per_feed]
    outcome.new_entries = len(todo)
    outcome.pages_skipped = len(entries) - len(todo)

    async def one(entry: FeedEntry) -> Any:
        try:
            stamp = (stamps or {}).get(entry.url)
            if stamp:  # listed only by the archive: read the archived copy
                return await wayback.page(fetcher, settings.wayback_url, entry, stamp,
                                          entry_meta(entry))
            return await fetcher.fetch(entry.url, kind="page", keep_encoding=True,
                                       allow_private=feed.allow_private)
        except IngestError as exc:
            return exc

    exchanges = []
    for entry, got in zip(todo, await asyncio.gather(*(one(e) for e in todo)), strict=True):
        if isinstance(got, NotRequested):
            outcome.pages_deferred += 1
        elif isinstance(got, IngestError):
            outcome.pages_failed += 1
            outcome.page_errors.append({"url": entry.url, "kind": got.kind, "error": str(got)})
        else:
            outcome.pages_ok += 1
            exchanges.append(got if isinstance(got, Exchange)
                             else Exchange(got, "page", entry_meta(entry)))
    if outcome.status == "pending":
        outcome.status = "ok"
    return exchanges
