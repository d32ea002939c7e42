"""Polling: conditional GET of each feed, new entries, page fetches, one WARC capture per group.

One poll task handles one feed group for one interval and touches the object store a handful of
times whatever the group's size (object stores charge per request, and on two cores boto3's
per-request cost limits a poll of hundreds of feeds):

- ``state/feeds/group=<group>.json``: per feed, validators, the pages captured (``seen``), the
  backlog (``pending``) and the pages given up on (``failed``); see ``ingest.pollstate``. A feed
  that moves to another group starts with fresh state (its entries are fetched again;
  processing skips URLs it already has).
- ``captures/dt=<day>/group=<group>/<interval>.warc.gz``: the feed documents and pages fetched in
  that interval, each record tagged with its feed id. Every poll of an interval reads the stored
  capture back, fetches only what is missing and rewrites it only with more records (a
  conditional write, so a concurrent writer's records are merged, never dropped): raw captures
  are never overwritten with less and never deleted. The same interval gives the same bytes.
- ``inbox/<capture key>.json``: the capture is queued for processing (``ingest.inbox``).
- ``reports/poll/dt=<day>/<interval>/<group>.json``: every feed's outcome with its errors.

Order of writes, so that a crash anywhere loses nothing: the new entries go to the state as
pending before any page is fetched; then the capture, its inbox marker, and only then the state
marks its pages seen (and stores the validators). The per-URL deadline counts request time
only; pages whose turn at a busy host does not come within ``poll_time_budget`` stay pending
without spending an attempt, and each run takes the backlog oldest first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingest import inbox
from ingest.archive import Encoded, Exchange, build_warc, encode, read_encoded
from ingest.config import Catalog, FeedSpec, Settings
from ingest.errors import (
    IngestError,
    NotRequested,
    ObjectExists,
    PermanentError,
    StorageUnavailable,
    TransientError,
    WriteConflict,
)
from ingest.feeds import parse_feed
from ingest.fetch import Fetcher
from ingest.models import DataInterval, FeedEntry, FeedOutcome, Response
from ingest.pollstate import FeedChange, GroupState, backlog, known
from ingest.storage import Stores

log = logging.getLogger(__name__)

_CAPTURE_TRIES = 8


def capture_key(group: str, interval: DataInterval) -> str:
    """Object key of a group's raw capture for an interval."""
    return f"captures/dt={interval.day}/group={group}/{interval.label}.warc.gz"


STATES = "state/feeds/"  # the groups' polling states, one object a group


def state_key(group: str) -> str:
    """Object key of a group's polling state."""
    return f"{STATES}group={group}.json"


def state_group(key: str) -> str | None:
    """The group whose polling state ``key`` is (None for another object)."""
    name = key.removeprefix(f"{STATES}group=")
    return name.removesuffix(".json") if name != key and name.endswith(".json") else None


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
    started_at: str = ""  # when the poll began and ended (UTC, ISO 8601)
    finished_at: str = ""

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
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "feeds": [o.as_dict() for o in self.outcomes],
            "counts": {
                "feeds": len(self.outcomes),
                "feeds_failed": sum(o.status == "error" for o in self.outcomes),
                "new_entries": sum(o.new_entries for o in self.outcomes),
                "pages_ok": sum(o.pages_ok for o in self.outcomes),
                "pages_failed": sum(o.pages_failed for o in self.outcomes),
                "pages_deferred": sum(o.pages_deferred for o in self.outcomes),
                "backlog": sum(o.backlog for o in self.outcomes),
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
    stored = read_capture(stores, key)
    state = GroupState(stores.raw, state_key(group))
    result = PollResult(group, interval, report_key=report_key(group, interval),
                        started_at=_now())
    poller = _GroupPoll(settings, state, catalog.in_group(group), stored, result)
    new, changes = asyncio.run(poller.run(fetcher))
    commit_capture(stores, result, key, stored, new)
    gave_up = state.save(changes, _now())
    for outcome in result.outcomes:
        for url in gave_up.get(outcome.feed_id, []):
            outcome.page_errors.append({"url": url, "kind": "gave_up",
                                        "error": "transient failures used every attempt"})
        outcome.backlog = len(state.feed(outcome.feed_id).get("pending", []))
    result.finished_at = _now()
    stores.raw.put_json(result.report_key, result.as_dict())
    return result


@dataclass
class StoredCapture:
    """A capture as read back from the raw bucket (empty when there is none yet)."""

    exchanges: list[Exchange | Encoded] = field(default_factory=list)
    etag: str | None = None
    damaged: bytes | None = None  # the stored bytes, when they did not read to the end

    def page_urls(self) -> dict[str, dict[str, str]]:
        """Per feed id, the page URLs in the capture with their fetch times."""
        out: dict[str, dict[str, str]] = {}
        for ex in self.exchanges:
            if ex.kind == "page":
                out.setdefault(str(ex.meta.get("feed_id", "")), {})[ex.url] = (
                    ex.fetched_at.isoformat())
        return out

    def feeds_with_document(self) -> set[str]:
        """The feeds whose feed document is in the capture."""
        return {str(ex.meta.get("feed_id", "")) for ex in self.exchanges if ex.kind != "page"}


def read_capture(stores: Stores, key: str) -> StoredCapture:
    """The stored capture at ``key`` with its ETag; a damaged one keeps its readable records."""
    got = stores.raw.get_versioned(key)
    if got is None:
        return StoredCapture()
    data, etag = got
    exchanges: list[Exchange | Encoded] = []
    try:
        for stored in read_encoded(data, key):  # kept as stored: a rewrite adds to its bytes
            exchanges.append(stored)
    except PermanentError as exc:
        log.warning("%s is damaged (%s); its %d readable records are kept and the rest fetched "
                    "again", key, exc, len(exchanges))
        return StoredCapture(exchanges, etag, data)
    return StoredCapture(exchanges, etag)


def _identity(ex: Exchange | Encoded) -> tuple[str, str, str]:
    return ex.kind, str(ex.meta.get("feed_id", "")), ex.url


def commit_capture(stores: Stores, result: PollResult, key: str, stored: StoredCapture,
                   new: Sequence[Exchange | Encoded]) -> None:
    """Store the capture when ``new`` adds to it, then queue it for processing.

    The capture is queued (its inbox marker) just before it is written, so a stored capture is
    always queued; processing skips a marker whose capture does not exist yet. The write is
    conditional on the capture being unchanged since it was read; when another poll wrote it
    meanwhile, its records are read back and kept, so a capture only ever grows.
    A damaged capture's bytes are kept under ``damaged/`` before it is rewritten. Raises
    ``StorageUnavailable`` saying what was not stored.
    """
    try:
        wrote = False
        have = {_identity(ex) for ex in stored.exchanges}
        new = [ex for ex in new if _identity(ex) not in have]
        if new:
            inbox.post(stores, key)  # queued before it exists: a stored capture is never orphaned
        for _ in range(_CAPTURE_TRIES):
            if not new:
                break
            if stored.damaged is not None:
                with contextlib.suppress(ObjectExists):
                    stores.raw.put(f"damaged/{key}", stored.damaged, "application/warc",
                                   if_none_match=True)
            try:
                stores.raw.put(key, build_warc(stored.exchanges + new), "application/warc",
                               if_none_match=stored.etag is None, if_match=stored.etag)
            except WriteConflict:
                log.info("%s was written by another poll meanwhile; merging", key)
                stored = read_capture(stores, key)
                have = {_identity(ex) for ex in stored.exchanges}
                new = [ex for ex in new if _identity(ex) not in have]
                continue
            stored, wrote = StoredCapture(stored.exchanges + new), True
            break
        else:
            raise StorageUnavailable(f"{key}: gave up after {_CAPTURE_TRIES} concurrent writes")
        if stored.exchanges:
            result.capture_key = key
            if not wrote:
                inbox.post(stores, key)  # a re-run: make sure the capture is queued
    except StorageUnavailable as exc:
        raise StorageUnavailable(f"{exc}; the pages of this poll are still pending, re-run to "
                                 "complete") from None
    captured = {str(ex.meta.get("feed_id", "")) for ex in stored.exchanges}
    for outcome in result.outcomes:
        if outcome.feed_id in captured:
            outcome.capture_key = result.capture_key


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _GroupPoll:
    """One poll of a group's feeds: read every feed, save the new entries as pending, fetch the
    backlog; returns the exchanges to capture and the state changes to save after that."""

    def __init__(self, settings: Settings, state: GroupState, feeds: list[FeedSpec],
                 stored: StoredCapture, result: PollResult) -> None:
        self.settings = settings
        self.state = state
        self.feeds = feeds
        self.result = result
        self.in_capture = stored.page_urls()
        self.has_document = stored.feeds_with_document()

    async def run(self, fetcher: Fetcher | None) -> tuple[list[Encoded], dict[str, FeedChange]]:
        own = fetcher is None
        fetcher = fetcher or Fetcher(self.settings)
        if fetcher.start_by is None:
            fetcher.start_by = time.monotonic() + self.settings.poll_time_budget
        self.fetcher = fetcher
        try:
            read = await asyncio.gather(*(self._read(feed) for feed in self.feeds))
            first: dict[str, FeedChange] = {}
            for feed, (outcome, _, change) in zip(self.feeds, read, strict=True):
                self.result.outcomes.append(outcome)
                # pages already in this interval's capture (a re-run after a crash) are seen
                first[feed.id] = FeedChange(listed=change.listed,
                                            captured=dict(self.in_capture.get(feed.id, {})))
            await asyncio.to_thread(self.state.save, first, _now())
            fetched = await asyncio.gather(*(
                self._fetch_backlog(feed, outcome, change)
                for feed, (outcome, _, change) in zip(self.feeds, read, strict=True)))
        finally:
            if own:
                await fetcher.aclose()
        new = [ex for (_, doc, _), pages in zip(read, fetched, strict=True)
               for ex in ([doc] if doc else []) + pages]
        changes = {feed.id: change for feed, (_, _, change) in zip(self.feeds, read, strict=True)}
        for change in changes.values():
            change.listed = []  # saved already
        return new, changes

    async def _read(self, feed: FeedSpec) -> tuple[FeedOutcome, Encoded | None, FeedChange]:
        """Fetch and parse the feed document; its new entries become pending items."""
        outcome, change = FeedOutcome(feed.id), FeedChange()
        document: Encoded | None = None
        try:
            feed_state = self.state.feed(feed.id)
            resp = await self.fetcher.fetch(
                feed.url, kind="feed", etag=feed_state.get("etag", ""),
                last_modified=feed_state.get("last_modified", ""),
                allow_private=feed.allow_private)
            outcome.http_status = resp.status
            entries = self._parse(feed, resp, feed_state, outcome, change)
            if resp.status == 200 and entries is not None and feed.id not in self.has_document:
                document = encode(Exchange(resp, "feed", {"feed_id": feed.id}))
            listed: dict[str, FeedEntry] = {}
            is_known = known(feed_state)
            for entry in entries or []:
                if not is_known(entry.url):
                    listed.setdefault(entry.url, entry)
            outcome.new_entries = len(listed)
            if self.settings.fetch_pages:  # feeds-only polls keep no backlog of pages
                change.listed = [{**entry_meta(e), "url": e.url} for e in listed.values()]
        except IngestError as exc:
            outcome.status, outcome.error = "error", str(exc)
            change.error = f"{exc.kind}: {exc}"
            log.warning("feed %s: %s", feed.id, exc)
        except Exception as exc:
            outcome.status, outcome.error = "error", f"{type(exc).__name__}: {exc}"
            change.error = outcome.error
            log.exception("feed %s: unexpected failure", feed.id)
        return outcome, document, change

    def _parse(self, feed: FeedSpec, resp: Response, feed_state: dict[str, Any],
               outcome: FeedOutcome, change: FeedChange) -> list[FeedEntry] | None:
        """The entries of a fetched feed document (None when it is unchanged since last time;
        ``PermanentError`` when it is not a feed)."""
        outcome.title = str(feed_state.get("title", ""))  # as last read, unless read now
        if resp.status == 304:
            outcome.status, change.ok = "not_modified", True
            return None
        digest = hashlib.sha256(resp.body).hexdigest()
        if digest == feed_state.get("body_sha256"):
            outcome.status, change.ok = "unchanged", True
            return None
        parsed = parse_feed(resp.body, resp.final_url, feed.id, resp.header("content-type"))
        if parsed.warning:
            log.info("feed %s: parser warning: %s", feed.id, parsed.warning)
        change.ok = True
        change.validators = {"etag": resp.header("etag"),
                             "last_modified": resp.header("last-modified"),
                             "body_sha256": digest, "title": parsed.title}
        outcome.entries, outcome.title = len(parsed.entries), parsed.title
        return list(parsed.entries)

    async def _fetch_backlog(self, feed: FeedSpec, outcome: FeedOutcome,
                             change: FeedChange) -> list[Encoded]:
        """Fetch the feed's pending pages, oldest first, up to ``max_pages_per_feed``, each
        written as its capture records as soon as it arrives."""
        in_capture = self.in_capture.get(feed.id, {})
        todo = [item for item in backlog(self.state.feed(feed.id)) if item["url"] not in in_capture]
        if not self.settings.fetch_pages:
            todo = []
        todo = todo[: self.settings.max_pages_per_feed]
        got = await asyncio.gather(*(self._fetch_page(feed, item) for item in todo))
        exchanges: list[Encoded] = []
        for item, (page, error) in zip(todo, got, strict=True):
            url = item["url"]
            if page is not None:
                outcome.pages_ok += 1
                exchanges.append(page)
                change.captured[url] = page.fetched_at.isoformat()
            elif isinstance(error, NotRequested):
                outcome.pages_deferred += 1
            else:
                assert error is not None
                outcome.pages_failed += 1
                outcome.page_errors.append({"url": url, "kind": error.kind, "error": str(error)})
                if isinstance(error, TransientError):
                    change.retry[url] = str(error)
                else:  # quarantined: recorded in the state and the report, not retried
                    change.failed[url] = {"kind": error.kind, "error": str(error)}
        if outcome.status == "pending":
            outcome.status = "ok"
        return exchanges

    async def _fetch_page(self, feed: FeedSpec, item: dict[str, Any]
                          ) -> tuple[Encoded | None, IngestError | None]:
        """A pending page, fetched and written as its capture records (the body is not kept:
        a poll of thousands of pages holds their compressed records only)."""
        url = item["url"]
        try:
            response = await self.fetcher.fetch(url, kind="page", keep_encoding=True,
                                                allow_private=feed.allow_private)
        except IngestError as exc:
            log.info("feed %s: page %s: %s", feed.id, url, exc)
            return None, exc
        meta = {k: item.get(k) for k in ("feed_id", "entry_id", "entry_title",
                                         "entry_published_at")}
        return encode(Exchange(response, "page", {**meta, "feed_id": feed.id})), None


def entry_meta(entry: FeedEntry) -> dict[str, Any]:
    """The feed entry's fields recorded with its page in the capture."""
    return {
        "feed_id": entry.feed_id,
        "entry_id": entry.entry_id,
        "entry_title": entry.title,
        "entry_published_at": entry.published_at.isoformat() if entry.published_at else None,
    }

