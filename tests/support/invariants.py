"""The raw bucket's promises, read off a real store and checked as invariants.

- every listed article is in a stored capture or pending in its feed's state;
- nothing is marked seen without a capture holding it;
- captures only grow (``records`` before and after: every old record is still there);
- every capture is queued for processing (an inbox marker) until it is processed.
"""

from __future__ import annotations

from typing import Any

from ingest import inbox
from ingest.archive import read_warc
from ingest.poll import state_key
from ingest.storage import Stores
from ingest.urls import url_key


def captures(stores: Stores) -> dict[str, set[tuple[str, str, str]]]:
    """Per capture key, its records as (kind, feed id, url)."""
    out: dict[str, set[tuple[str, str, str]]] = {}
    for key in stores.raw.list("captures/"):
        out[key] = {(r.kind, str(r.meta.get("feed_id", "")), r.url)
                    for r in read_warc(stores.raw.get(key), key)}
    return out


def captured_urls(stores: Stores) -> set[str]:
    """Every page URL held by some capture."""
    return {url for records in captures(stores).values() for kind, _, url in records
            if kind == "page"}


def feed_states(stores: Stores, group: str) -> dict[str, dict[str, Any]]:
    return dict((stores.raw.get_json(state_key(group), {}) or {}).get("feeds", {}))


def pending_urls(stores: Stores, group: str) -> set[str]:
    return {p["url"] for fs in feed_states(stores, group).values() for p in fs.get("pending", [])}


def check(stores: Stores, group: str, listed: set[str],
          earlier: dict[str, set[tuple[str, str, str]]] | None = None) -> None:
    """Assert the raw bucket's invariants for ``group`` given every URL its feeds listed."""
    now = captures(stores)
    held = {url for records in now.values() for kind, _, url in records if kind == "page"}
    pending = pending_urls(stores, group)
    states = feed_states(stores, group)
    missing = listed - held - pending
    assert not missing, f"listed but neither captured nor pending: {sorted(missing)}"
    held_keys = {url_key(u) for u in held}
    seen = {ident for fs in states.values() for ident in fs.get("seen", {})}
    assert seen <= held_keys, f"marked seen without a capture: {sorted(seen - held_keys)}"
    for key, records in (earlier or {}).items():
        assert key in now, f"capture {key} disappeared"
        assert records <= now[key], f"capture {key} lost records: {records - now[key]}"
    queued = set(inbox.pending(stores))
    assert set(now) <= queued, f"captures not queued for processing: {set(now) - queued}"
