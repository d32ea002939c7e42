"""Polling: conditional GET of each feed, new entries, page fetches, one WARC capture per feed.

Per feed and interval the capture key is ``captures/dt=<day>/feed=<id>/<interval>.warc.gz``. A
re-run of the same interval reads that capture back, fetches only what is still missing, and
rewrites it only if something was added, so the same interval gives the same bytes.

Feed state (``state/feeds/<id>.json``) holds the validators (ETag, Last-Modified), the body hash
for servers that ignore them, the entries already seen, the pages still pending after a transient
failure (retried on the next run, even when the feed answers 304) and the failure count. The
capture is written before the state, so a crash in between refetches rather than loses pages.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingest.archive import Exchange, build_warc, read_warc, to_exchange
from ingest.config import Catalog, FeedSpec, Settings
from ingest.errors import IngestError, PermanentError, StorageUnavailable, TransientError
from ingest.feeds import parse_feed
from ingest.fetch import Fetcher
from ingest.models import DataInterval, FeedEntry, FeedOutcome, Response
from ingest.storage import Stores
from ingest.urls import url_key

log = logging.getLogger(__name__)

MAX_SEEN = 5000
MAX_PAGE_ATTEMPTS = 5


def capture_key(feed_id: str, interval: DataInterval) -> str:
    """Object key of a feed's raw capture for an interval."""
    return f"captures/dt={interval.day}/feed={feed_id}/{interval.label}.warc.gz"


def state_key(feed_id: str) -> str:
    """Object key of a feed's polling state."""
    return f"state/feeds/{feed_id}.json"


def report_key(group: str, interval: DataInterval) -> str:
    """Object key of a group's poll report for an interval."""
    return f"reports/poll/dt={interval.day}/{interval.label}/{group}.json"


@dataclass
class PollResult:
    """The outcome of polling one group for one interval."""

    group: str
    interval: DataInterval
    outcomes: list[FeedOutcome] = field(default_factory=list)
    report_key: str = ""

    @property
    def capture_keys(self) -> list[str]:
        """Keys of the captures written or confirmed by this run, sorted."""
        return sorted(o.capture_key for o in self.outcomes if o.capture_key)

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

    Raises ``StorageUnavailable`` at the end if the object store failed for some feed, so the
    orchestrator retries the task; everything that was stored stays stored.
    """
    feeds = catalog.in_group(group)
    result = PollResult(group, interval)
    result.outcomes = asyncio.run(_poll_all(settings, stores, feeds, interval, fetcher))
    result.report_key = report_key(group, interval)
    storage_failures = [o for o in result.outcomes if o.status == "storage_error"]
    try:
        stores.raw.put_json(result.report_key, result.as_dict())
    except StorageUnavailable:
        if not storage_failures:
            raise
    if storage_failures:
        names = ", ".join(o.feed_id for o in storage_failures)
        raise StorageUnavailable(f"object store failed while polling {names}; re-run to complete")
    return result


async def _poll_all(
    settings: Settings,
    stores: Stores,
    feeds: list[FeedSpec],
    interval: DataInterval,
    fetcher: Fetcher | None,
) -> list[FeedOutcome]:
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    try:
        poller = _FeedPoller(settings, stores, fetcher, interval)
        return list(await asyncio.gather(*(poller.poll(feed) for feed in feeds)))
    finally:
        if own:
            await fetcher.client.aclose()


class _FeedPoller:
    def __init__(self, settings: Settings, stores: Stores, fetcher: Fetcher,
                 interval: DataInterval) -> None:
        self.settings = settings
        self.stores = stores
        self.fetcher = fetcher
        self.interval = interval

    async def poll(self, feed: FeedSpec) -> FeedOutcome:
        outcome = FeedOutcome(feed.id)
        try:
            await self._poll(feed, outcome)
        except StorageUnavailable as exc:
            outcome.status, outcome.error = "storage_error", str(exc)
            log.error("feed %s: %s", feed.id, exc)
        except Exception as exc:
            outcome.status, outcome.error = "error", f"{type(exc).__name__}: {exc}"
            log.exception("feed %s: unexpected failure", feed.id)
        return outcome

    async def _poll(self, feed: FeedSpec, outcome: FeedOutcome) -> None:
        key = capture_key(feed.id, self.interval)
        state: dict[str, Any] = await asyncio.to_thread(
            self.stores.raw.get_json, state_key(feed.id), {}
        ) or {}
        previous = await asyncio.to_thread(self._existing, key)
        captured_urls = {ex.response.url for ex in previous if ex.kind == "page"}
        exchanges: list[Exchange] = []
        entries: list[FeedEntry] = []
        now = datetime.now(UTC).isoformat()
        state["last_polled"] = now
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
            if resp.status == 200 and outcome.status != "unchanged":
                exchanges.append(Exchange(resp, "feed", {"feed_id": feed.id}))
        todo = self._select(feed, entries, state, captured_urls, outcome)
        pages = await asyncio.gather(*(self._fetch_page(feed, e) for e in todo))
        pending: dict[str, dict[str, Any]] = {p["url"]: p for p in state.get("pending", [])}
        seen: dict[str, str] = dict(state.get("seen", {}))
        for entry, (response, error) in zip(todo, pages, strict=True):
            ident = _entry_key(entry)
            if response is not None:
                outcome.pages_ok += 1
                exchanges.append(Exchange(response, "page", _entry_meta(entry)))
                seen.setdefault(ident, now)
                pending.pop(entry.url, None)
                continue
            assert error is not None
            outcome.pages_failed += 1
            outcome.page_errors.append({"url": entry.url, "kind": error.kind, "error": str(error)})
            attempts = int(pending.get(entry.url, {}).get("attempts", 0)) + 1
            if isinstance(error, TransientError) and attempts < MAX_PAGE_ATTEMPTS:
                pending[entry.url] = {**_entry_meta(entry), "url": entry.url,
                                      "entry_id": entry.entry_id, "attempts": attempts,
                                      "last_error": str(error)}
            else:
                seen.setdefault(ident, now)  # quarantined: recorded in the report, not retried
                pending.pop(entry.url, None)
        if exchanges:
            merged = previous + [ex for ex in exchanges
                                 if not (ex.kind == "feed" and any(p.kind == "feed" for p in previous))]
            await asyncio.to_thread(self.stores.raw.put, key, build_warc(merged),
                                    "application/warc")
            outcome.capture_key = key
        elif previous:
            outcome.capture_key = key
        state["seen"] = dict(sorted(seen.items(), key=lambda kv: kv[1])[-MAX_SEEN:])
        state["pending"] = sorted(pending.values(), key=lambda p: p["url"])
        if outcome.status == "pending":
            outcome.status = "ok"
            state["failures"] = 0
            state["last_error"] = ""
        await asyncio.to_thread(self.stores.raw.put_json, state_key(feed.id), state)

    def _existing(self, key: str) -> list[Exchange]:
        try:
            data = self.stores.raw.get(key)
        except KeyError:
            return []
        try:
            return [to_exchange(a) for a in read_warc(data, key)]
        except PermanentError as exc:
            log.warning("%s is damaged (%s); fetching its pages again", key, exc)
            return []

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
            if _entry_key(entry) not in seen and entry.url not in captured:
                todo.setdefault(entry.url, entry)
        outcome.new_entries = len(todo)
        for item in state.get("pending", []):
            if item["url"] not in todo and item["url"] not in captured:
                todo[item["url"]] = FeedEntry(
                    feed_id=feed.id, url=item["url"], entry_id=item.get("entry_id", item["url"]),
                    title=item.get("entry_title", ""),
                    published_at=_parse_time(item.get("entry_published_at")),
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


def _entry_key(entry: FeedEntry) -> str:
    return url_key(entry.url)


def _entry_meta(entry: FeedEntry) -> dict[str, Any]:
    return {
        "feed_id": entry.feed_id,
        "entry_id": entry.entry_id,
        "entry_title": entry.title,
        "entry_published_at": entry.published_at.isoformat() if entry.published_at else None,
    }


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
