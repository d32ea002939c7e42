"""Object keys of the processed bucket's run records (the articles are in ``ingest.table``).

    runs/dt=YYYY-MM-DD/<batch>.json          (run manifest, written after the table commit)
"""

from __future__ import annotations


def manifest_key(day: str, batch: str) -> str:
    """Object key of a batch's run manifest."""
    return f"runs/dt={day}/{batch}.json"
