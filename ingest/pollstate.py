"""A feed group's polling state, and the changes one poll makes to it, written safely.

``state/feeds/group=<group>.json`` holds, per feed of the group:

- ``etag``, ``last_modified``, ``body_sha256``: validators for the next conditional GET;
  ``title``: the feed document's title when it was last read (reports repeat it on a 304);
- ``failures``, ``last_error``: consecutive failed polls of the feed document; ``last_ok``: when
  the feed document was last read (a 200 or a 304);
- ``seen``: ``{url key: time}`` of pages stored in a raw capture (never anything else);
- ``pending``: the backlog, one item per listed entry not yet captured, with its feed entry's
  fields, ``listed_at`` (when a poll first saw it) and ``attempts`` (requests that failed with a
  transient error; a page never requested in a run spends none);
- ``failed``: ``{url key: {url, kind, error, at}}`` of pages given up on (a permanent error, or
  ``MAX_PAGE_ATTEMPTS`` transient ones), each with its reason; also in the poll report.

So every entry a feed ever listed is in exactly one of ``seen``, ``pending`` or ``failed`` once
the poll that listed it has saved its first change. A poll saves twice: the feed documents'
news (validators, new entries as pending) before any page is fetched, and the pages' outcomes
after the capture holding them is stored and queued for processing. Each save re-reads the
state and writes it back only if nobody wrote it meanwhile (``If-Match``), applying the same
changes to the newer state otherwise, so concurrent polls of a group never drop each other's
backlog.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest.errors import WriteConflict
from ingest.storage import ObjectStore, dumps
from ingest.urls import url_key

log = logging.getLogger(__name__)

MAX_SEEN = 5000
MAX_FAILED = 2000
MAX_PAGE_ATTEMPTS = 5
_SAVE_TRIES = 8


@dataclass
class FeedChange:
    """What one poll learned about one feed."""

    validators: dict[str, str] | None = None  # etag, last_modified, body_sha256, title
    error: str | None = None  # the feed document failed with this error
    ok: bool = False  # the feed document was read (resets the failure count)
    listed: list[dict[str, Any]] = field(default_factory=list)  # new entries -> pending
    captured: dict[str, str] = field(default_factory=dict)  # url -> time stored in a capture
    retry: dict[str, str] = field(default_factory=dict)  # url -> transient error of a request
    failed: dict[str, dict[str, str]] = field(default_factory=dict)  # url -> {kind, error}

    def __bool__(self) -> bool:
        return bool(self.validators or self.error or self.ok or self.listed or self.captured
                    or self.retry or self.failed)


def backlog(feed_state: dict[str, Any]) -> list[dict[str, Any]]:
    """The feed's pending items, oldest first (first listed, then earliest published)."""
    return sorted(feed_state.get("pending", []),
                  key=lambda p: (p.get("listed_at") or "", p.get("entry_published_at") or "",
                                 p["url"]))


def known(feed_state: dict[str, Any]) -> Callable[[str], bool]:
    """A test of whether a URL is already seen, pending or given up on for this feed (the
    sets are built once, for the whole listing of a feed)."""
    seen, failed = feed_state.get("seen", {}), feed_state.get("failed", {})
    pending = {p["url"] for p in feed_state.get("pending", [])}
    return lambda url: url in pending or url_key(url) in seen or url_key(url) in failed


def apply(state: dict[str, Any], changes: dict[str, FeedChange], now: str) -> dict[str, list[str]]:
    """Apply ``changes`` (by feed id) to ``state`` in place; returns, per feed, the URLs given
    up on because they used their last attempt."""
    feeds: dict[str, dict[str, Any]] = state.setdefault("feeds", {})
    state.pop("captures", None)  # written by older versions; captures are always read back now
    gave_up: dict[str, list[str]] = {}
    for feed_id, change in changes.items():
        fs = feeds.setdefault(feed_id, {})
        if change.validators is not None:
            fs.update(change.validators)
        if change.error is not None:
            fs["failures"] = int(fs.get("failures", 0)) + 1
            fs["last_error"] = change.error
        elif change.ok:
            fs["last_ok"] = now
            if fs.get("failures") or fs.get("last_error"):
                fs["failures"], fs["last_error"] = 0, ""
        seen: dict[str, str] = dict(fs.get("seen", {}))
        failed: dict[str, dict[str, str]] = dict(fs.get("failed", {}))
        pending = {p["url"]: dict(p) for p in fs.get("pending", [])}
        for item in change.listed:
            ident = url_key(item["url"])
            if ident not in seen and ident not in failed and item["url"] not in pending:
                pending[item["url"]] = {**item, "listed_at": item.get("listed_at") or now,
                                        "attempts": 0}
        for url, when in change.captured.items():
            seen.setdefault(url_key(url), when)
            failed.pop(url_key(url), None)
            pending.pop(url, None)
        for url, error in change.retry.items():
            if url not in pending:
                continue  # captured or given up on by a concurrent poll
            item = pending[url]
            item["attempts"] = int(item.get("attempts", 0)) + 1
            item["last_error"] = error
            if item["attempts"] >= MAX_PAGE_ATTEMPTS:
                del pending[url]
                failed[url_key(url)] = {"url": url, "kind": "transient", "at": now,
                                        "error": f"gave up after {item['attempts']} attempts; "
                                                 f"last: {error}"}
                gave_up.setdefault(feed_id, []).append(url)
        for url, info in change.failed.items():
            if url_key(url) not in seen:
                failed[url_key(url)] = {"url": url, "at": now, **info}
            pending.pop(url, None)
        if seen or "seen" in fs:
            fs["seen"] = dict(sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))[-MAX_SEEN:])
        if failed or "failed" in fs:
            fs["failed"] = dict(sorted(failed.items(),
                                       key=lambda kv: (kv[1].get("at", ""), kv[0]))[-MAX_FAILED:])
        if pending or "pending" in fs:
            fs["pending"] = backlog({"pending": list(pending.values())})
    return gave_up


class GroupState:
    """The state document of one group: read once, changed through ``save``."""

    def __init__(self, store: ObjectStore, key: str) -> None:
        self.store = store
        self.key = key
        self.doc, self.etag = self._read()

    def _read(self) -> tuple[dict[str, Any], str | None]:
        got = self.store.get_versioned(self.key)
        if got is None:
            return {}, None
        return json.loads(got[0]) or {}, got[1]

    def feed(self, feed_id: str) -> dict[str, Any]:
        """The state of one feed (empty for a new feed)."""
        return dict((self.doc.get("feeds") or {}).get(feed_id, {}))

    def save(self, changes: dict[str, FeedChange], now: str) -> dict[str, list[str]]:
        """Apply ``changes`` and write the document if it changed, re-reading and re-applying
        when another writer got there first. Returns the URLs given up on, per feed."""
        changes = {k: v for k, v in changes.items() if v}
        for _ in range(_SAVE_TRIES):
            before = dumps(self.doc)
            gave_up = apply(self.doc, changes, now)
            if dumps(self.doc) == before:
                return gave_up
            try:
                self.etag = self.store.put(self.key, dumps(self.doc), "application/json",
                                           if_none_match=self.etag is None, if_match=self.etag)
            except WriteConflict:
                log.info("%s changed while this poll ran; applying its changes again", self.key)
                self.doc, self.etag = self._read()
                continue
            return gave_up
        raise WriteConflict(f"{self.store.uri(self.key)}: gave up after {_SAVE_TRIES} "
                            "concurrent changes")
