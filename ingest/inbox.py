"""The processing inbox: a marker object per raw capture that still needs processing.

Polls write ``inbox/<capture key>.json`` in the raw bucket for every capture they write or
confirm, before the news-raw event that names it; processing takes the captures its events name
plus every marker it finds, and deletes a marker once its capture is processed (unless a poll
rewrote the marker meanwhile). So a capture is processed even when its asset event never
reaches a news_process run (Airflow can fold concurrent events into runs in ways that skip one),
and a processing failure leaves the marker for the next run.
"""

from __future__ import annotations

from ingest.storage import Stores

PREFIX = "inbox/"


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
