"""The processing inbox: a marker object per raw capture that still needs processing.

Polls write ``inbox/<capture key>.json`` in the raw bucket just before they write a capture
(and again for every capture they confirm), so a stored capture always has its marker; processing takes the captures its events name
plus every marker it finds, and deletes a marker once its capture is processed (unless a poll
rewrote the marker meanwhile). So a capture is processed even when its asset event never
reaches a news_process run (Airflow can fold concurrent events into runs in ways that skip one),
and a processing failure leaves the marker for the next run. A marker whose capture does not
exist (its poll died between the two writes; the poll's re-run writes the capture) is left
alone, and dropped with a warning once it is older than ``ORPHAN_AFTER``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from ingest.storage import Stores

log = logging.getLogger(__name__)

PREFIX = "inbox/"
ORPHAN_AFTER = timedelta(days=1)


def marker_key(capture: str) -> str:
    """The marker of a capture."""
    return f"{PREFIX}{capture}.json"


def post(stores: Stores, capture: str) -> None:
    """Mark a capture as needing processing."""
    stores.raw.put_json(marker_key(capture), {"capture": capture})


def pending(stores: Stores) -> dict[str, str | None]:
    """Captures marked for processing, with each marker's version."""
    out: dict[str, str | None] = {}
    for key in stores.raw.list(PREFIX):
        if key.endswith(".json"):
            out[key[len(PREFIX):-len(".json")]] = stores.raw.version(key)
    return out


def done(stores: Stores, capture: str, version: str | None) -> bool:
    """Remove a capture's marker if it is still the one seen before processing."""
    key = marker_key(capture)
    if version is None or stores.raw.version(key) != version:
        return False
    stores.raw.delete(key)
    return True


def ready(stores: Stores, marked: dict[str, str | None]) -> dict[str, str | None]:
    """The marked captures that exist; markers of captures never written are kept while young
    (their poll may still write them) and removed once older than ``ORPHAN_AFTER``."""
    out: dict[str, str | None] = {}
    for capture, version in marked.items():
        if stores.raw.exists(capture):
            out[capture] = version
            continue
        written = stores.raw.modified(marker_key(capture))
        if written is not None and datetime.now(UTC) - written > ORPHAN_AFTER:
            log.warning("inbox: %s was never written (its poll died before the write and was "
                        "not re-run); dropping its marker", capture)
            stores.raw.delete(marker_key(capture))
        else:
            log.info("inbox: %s is not written yet; left for a later run", capture)
    return out
