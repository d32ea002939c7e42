"""The processed bucket as tests compare it: the articles table's rows, and every other object."""

from __future__ import annotations

from typing import Any

from ingest import table
from ingest.config import Settings
from ingest.storage import Stores


def rows(settings: Settings) -> list[dict[str, Any]]:
    """The table's rows (current version), ordered by partition and article id."""
    return table.rows(settings)


def state(settings: Settings, stores: Stores,
          skip: tuple[str, ...] = ("state/feeds/", "reports/poll/")) -> dict[str, Any]:
    """What a re-run must leave the same: every object's bytes outside the table (its files
    have generated names and its log records commit times), the table's rows, and its
    version (a re-run that changes nothing commits nothing)."""
    objects = {}
    for store in (stores.raw, stores.processed):
        for key in store.list(""):
            if not key.startswith(("articles/", "_locks/", *skip)):
                objects[f"{store.bucket}/{key}"] = store.get(key)
    found = table.open_table(settings)
    return {"objects": objects, "rows": rows(settings),
            "version": found.version() if found is not None else None}
