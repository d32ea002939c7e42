"""Polling: conditional GET of each feed, new entries, page fetches, one WARC capture per group.

One poll task handles one feed group for one interval and touches the object store a handful of
times whatever the group's size (object stores charge per request, and on two cores boto3's
per-request cost limits a poll of hundreds of feeds):

- ``state/feeds/group=<group>.json``: per feed, the validators (ETag, Last-Modified), the body
  hash for servers that ignore them, the entries already seen, the pages still pending after a
  transient failure (retried by the next run, even when the feed answers 304) and the failure
  count; plus the keys of the group's recent captures. A feed that moves to another group starts
  with fresh state (its entries are fetched again; processing skips URLs it already has).
- ``captures/dt=<day>/group=<group>/<interval>.warc.gz``: the feed documents and pages fetched in
  that interval, each record tagged with its feed id. A re-run of the same interval reads it
  back, fetches only what is still missing and rewrites it only if something was added, so the
  same interval gives the same bytes.
- ``reports/poll/dt=<day>/<interval>/<group>.json``: every feed's outcome with its errors.

The capture is written before the state, so a failure in between refetches rather than loses.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingest.archive import Exchange, build_warc, read_warc, to_exchange
from ingest.config import Catalog, FeedSpec, Settings
from ingest.errors import IngestError, PermanentError, StorageUnavailable, TransientError
from ingest.feeds import parse_feed
from ingest.fetch import Fetcher
from ingest.models import DataInterval, FeedEntry, FeedOutcome, Response, parse_iso
from ingest.storage import Stores
from ingest.urls import url_key

log = logging.getLogger(__name__)

MAX_SEEN = 2000
MAX_PAGE_ATTEMPTS = 5
MAX_CAPTURES = 48


def capture_key(group: str, interval: DataInterval) -> str:
    """Object key of a group's raw capture for an interval."""
    return f"captures/dt={interval.day}/group={group}/{interval.label}.warc.gz"


def state_key(group: str) -> str:
    """Object key of a group's polling state."""
    return f"state/feeds/group={group}.json"


def report_key(group: str, interval: DataInterval) -> str:
    """Object key of a group's poll report for an interval."""
    return f"reports/poll/dt={interval.day}/{interval.label}/{group}.json"


@dataclass
class PollResult:
    """The outcome of polling one group for one interval."""

    group: str
    interval: DataInterval
    outcomes: list[FeedOutcome] = field(default_factory=list)
    capture_key: str = ""
    report_key: str = ""

    @property
    def capture_keys(self) -> list[str]:
        """Keys of the captures written or confirmed by this run."""
        return [self.capture_key] if self.capture_key else []

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what goes to XCom and the report)."""
        return {
            "group": self.group,
            "interval": self.interval.label,
            "captures": self.capture_keys,
            "report": self.report_key,
            "feeds": [o.as_dict() for o in self.outcomes],
            "counts": {
                "feeds": len(self.outcomes),
                "feeds_failed": sum(o.status == "error" for o in self.outcomes),
                "new_entries": sum(o.new_entries for o in self.outcomes),
                "pages_ok": sum(o.pages_ok for o in self.outcomes),
                "pages_failed": sum(o.pages_failed for o in self.outcomes),
            },
        }


def poll_group(
    settings: Settings,
    stores: Stores,
    catalog: Catalog,
    group: str,
    interval: DataInterval,
    fetcher: Fetcher | None = None,
) -> PollResult:
    """Poll every enabled feed of ``group``; one failing feed never fails the others.

    Raises ``StorageUnavailable`` when the object store fails, so the orchestrator retries the
    task; a re-run then completes what was missed.
    """
    key = capture_key(group, interval)
    state = stores.raw.get_json(state_key(group), {}) or {}
    before = json.dumps(state, sort_keys=True)
    feeds_state: dict[str, dict[str, Any]] = state.setdefault("feeds", {})
    previous: list[Exchange] = []
    if key in state.get("captures", []) or not feeds_state:
        previous = existing_capture(stores, key)
    feeds = catalog.in_group(group)
    polled = asyncio.run(_poll_all(settings, feeds, feeds_state, previous, fetcher))
    result = PollResult(group, interval, report_key=report_key(group, interval))
    new: list[Exchange] = []
    for feed, (outcome, exchanges, feed_state) in zip(feeds, polled, strict=True):
        result.outcomes.append(outcome)
        feeds_state[feed.id] = feed_state
        new.extend(exchanges)
    if store_capture(stores, result, key, previous, new):
        state["captures"] = [*(k for k in state.get("captures", []) if k != key), key][-MAX_CAPTURES:]
    if json.dumps(state, sort_keys=True) != before:
        stores.raw.put_json(state_key(group), state)
    stores.raw.put_json(result.report_key, result.as_dict())
    return result


def store_capture(stores: Stores, result: PollResult, key: str, previous: list[Exchange],
                  new: list[Exchange]) -> bool:
    """Write the capture when ``new`` adds to it (previous + new, so the same exchanges give the
    same bytes) and point the result and each captured feed's outcome at it; returns whether
    it was written. Raises ``StorageUnavailable`` saying nothing of the poll was stored."""
    if new:
        try:
            stores.raw.put(key, build_warc(previous + new), "application/warc")
        except StorageUnavailable as exc:
            raise StorageUnavailable(f"{exc}; nothing of this poll was stored, re-run to "
                                     "complete") from None
    if new or previous:
        result.capture_key = key
        captured = {str(ex.meta.get("feed_id", "")) for ex in previous + new}
        for outcome in result.outcomes:
            if outcome.feed_id in captured:
                outcome.capture_key = key
    return bool(new)


def existing_capture(stores: Stores, key: str) -> list[Exchange]:
    """The exchanges of a stored capture ([] when there is none or it is damaged)."""
    try:
        data = stores.raw.get(key)
    except KeyError:
        return []
    try:
        return [to_exchange(a) for a in read_warc(data, key)]
    except PermanentError as exc:
        log.warning("%s is damaged (%s); fetching its pages again", key, exc)
        return []


async def _poll_all(
    settings: Settings,
    feeds: list[FeedSpec],
    feeds_state: dict[str, dict[str, Any]],
    previous: list[Exchange],
    fetcher: Fetcher | None,
) -> list[tuple[FeedOutcome, list[Exchange], dict[str, Any]]]:
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    captured: dict[str, set[str]] = {}
    has_feed_doc: set[str] = set()
    for ex in previous:
        feed_id = str(ex.meta.get("feed_id", ""))
        if ex.kind == "page":
            captured.setdefault(feed_id, set()).add(ex.response.url)
        else:
            has_feed_doc.add(feed_id)
    try:
        poller = _FeedPoller(settings, fetcher)
        return list(await asyncio.gather(*(
            poller.poll(feed, dict(feeds_state.get(feed.id, {})), captured.get(feed.id, set()),
                        feed.id in has_feed_doc)
            for feed in feeds
        )))
    finally:
        if own:
            await fetcher.aclose()


class _FeedPoller:
    def __init__(self, settings: Settings, fetcher: Fetcher) -> None:
        self.settings = settings
        self.fetcher = fetcher

    async def poll(self, feed: FeedSpec, state: dict[str, Any], captured: set[str],
                   has_feed_doc: bool) -> tuple[FeedOutcome, list[Exchange], dict[str, Any]]:
        outcome = FeedOutcome(feed.id)
        exchanges: list[Exchange] = []
        try:
            await self._poll(feed, state, captured, has_feed_doc, outcome, exchanges)
        except Exception as exc:
            outcome.status, outcome.error = "error", f"{type(exc).__name__}: {exc}"
            log.exception("feed %s: unexpected failure", feed.id)
        return outcome, exchanges, state

    async def _poll(self, feed: FeedSpec, state: dict[str, Any], captured: set[str],
                    has_feed_doc: bool, outcome: FeedOutcome, exchanges: list[Exchange]) -> None:
        entries: list[FeedEntry] = []
        now = datetime.now(UTC).isoformat()
        try:
            resp = await self.fetcher.fetch(
                feed.url, kind="feed", etag=state.get("etag", ""),
                last_modified=state.get("last_modified", ""), allow_private=feed.allow_private,
            )
        except IngestError as exc:
            outcome.status, outcome.error = "error", str(exc)
            state["failures"] = int(state.get("failures", 0)) + 1
            state["last_error"] = f"{exc.kind}: {exc}"
            log.warning("feed %s: %s", feed.id, exc)
        else:
            outcome.http_status = resp.status
            entries = self._read_feed(feed, resp, state, outcome)
            if resp.status == 200 and outcome.status != "unchanged" and not has_feed_doc:
                exchanges.append(Exchange(resp, "feed", {"feed_id": feed.id}))
        todo = self._select(feed, entries, state, captured, outcome)
        if not self.settings.fetch_pages:
            todo = []
        pages = await asyncio.gather(*(self._fetch_page(feed, e) for e in todo))
        pending: dict[str, dict[str, Any]] = {p["url"]: p for p in state.get("pending", [])}
        seen: dict[str, str] = dict(state.get("seen", {}))
        for entry, (response, error) in zip(todo, pages, strict=True):
            ident = url_key(entry.url)
            if response is not None:
                outcome.pages_ok += 1
                exchanges.append(Exchange(response, "page", entry_meta(entry)))
                seen.setdefault(ident, now)
                pending.pop(entry.url, None)
                continue
            assert error is not None
            outcome.pages_failed += 1
            outcome.page_errors.append({"url": entry.url, "kind": error.kind, "error": str(error)})
            attempts = int(pending.get(entry.url, {}).get("attempts", 0)) + 1
            if isinstance(error, TransientError) and attempts < MAX_PAGE_ATTEMPTS:
                pending[entry.url] = {**entry_meta(entry), "url": entry.url,
                                      "attempts": attempts, "last_error": str(error)}
            else:
                seen.setdefault(ident, now)  # quarantined: recorded in the report, not retried
                pending.pop(entry.url, None)
        if seen:
            state["seen"] = dict(sorted(seen.items(), key=lambda kv: kv[1])[-MAX_SEEN:])
        if pending or "pending" in state:
            state["pending"] = sorted(pending.values(), key=lambda p: p["url"])
        if outcome.status == "pending":
            outcome.status = "ok"
            if state.get("failures") or state.get("last_error"):
                state["failures"] = 0
                state["last_error"] = ""

    def _read_feed(self, feed: FeedSpec, resp: Response, state: dict[str, Any],
                   outcome: FeedOutcome) -> list[FeedEntry]:
        if resp.status == 304:
            outcome.status = "not_modified"
            return []
        digest = hashlib.sha256(resp.body).hexdigest()
        if digest == state.get("body_sha256"):
            outcome.status = "unchanged"
            return []
        try:
            parsed = parse_feed(resp.body, resp.final_url, feed.id, resp.header("content-type"))
        except PermanentError as exc:
            outcome.status, outcome.error = "error", str(exc)
            state["failures"] = int(state.get("failures", 0)) + 1
            state["last_error"] = f"{exc.kind}: {exc}"
            return []
        if parsed.warning:
            log.info("feed %s: parser warning: %s", feed.id, parsed.warning)
        state["etag"] = resp.header("etag")
        state["last_modified"] = resp.header("last-modified")
        state["body_sha256"] = digest
        outcome.entries = len(parsed.entries)
        return list(parsed.entries)

    def _select(self, feed: FeedSpec, entries: list[FeedEntry], state: dict[str, Any],
                captured: set[str], outcome: FeedOutcome) -> list[FeedEntry]:
        seen = state.get("seen", {})
        todo: dict[str, FeedEntry] = {}
        for entry in entries:
            if url_key(entry.url) not in seen and entry.url not in captured:
                todo.setdefault(entry.url, entry)
        outcome.new_entries = len(todo)
        for item in state.get("pending", []):
            if item["url"] not in todo and item["url"] not in captured:
                todo[item["url"]] = FeedEntry(
                    feed_id=feed.id, url=item["url"], entry_id=item.get("entry_id", item["url"]),
                    title=item.get("entry_title", ""),
                    published_at=parse_iso(item.get("entry_published_at")),
                )
        return list(todo.values())[: self.settings.max_pages_per_feed]

    async def _fetch_page(
        self, feed: FeedSpec, entry: FeedEntry
    ) -> tuple[Response | None, IngestError | None]:
        try:
            return await self.fetcher.fetch(entry.url, kind="page",
                                            allow_private=feed.allow_private), None
        except IngestError as exc:
            log.info("feed %s: page %s failed: %s", feed.id, entry.url, exc)
            return None, exc


def entry_meta(entry: FeedEntry) -> dict[str, Any]:
    """The feed entry's fields recorded with its page in the capture."""
    return {
        "feed_id": entry.feed_id,
        "entry_id": entry.entry_id,
        "entry_title": entry.title,
        "entry_published_at": entry.published_at.isoformat() if entry.published_at else None,
    }

