"""Rebuilding processed data from raw captures (the news_reprocess DAG), without fetching.

After an extractor, tagger or dedupe change, a rebuild of an interval processes every raw
capture of the interval's days again with the current code, as one batch, and then replaces the
batches that processed those days before:

1. inputs: the captures under ``captures/dt=<day>/`` for each day of the interval, plus every
   capture the old batches of those days (their run manifests under ``runs/dt=<day>/``) read,
   so nothing an old batch covered is lost;
2. the rebuild's batch id is a hash of those capture keys and the config hash, so repeating a
   rebuild with the same code rewrites the same objects with the same bytes; its manifest and
   segment are filed under the interval's first day;
3. the dedupe index leaves out the old batches' segments (they hold the old versions of the same
   articles), and keeps every other batch in the window;
4. the new Parquet parts, dedupe segment, run manifest and completeness reports are written
   first; only then are the old batches' parts, segments and manifests deleted (manifest last),
   so a failed rebuild leaves the old data in place and a re-run completes it. Readers may see
   both versions for the moment between the two steps.

Rows carry ``extractor`` and ``config_hash``, so two builds can be told apart.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ingest.config import Catalog, Settings
from ingest.dedupe import segment_key
from ingest.models import DataInterval
from ingest.process import ProcessResult, config_hash, process_captures
from ingest.regions import Tagger
from ingest.storage import Stores

log = logging.getLogger(__name__)


@dataclass
class RebuildResult:
    """What a rebuild did: the new batch and the batches it replaced."""

    days: list[str]
    result: ProcessResult | None = None
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        out: dict[str, Any] = self.result.as_dict() if self.result else {"batch": "", "counts": {}}
        return {**out, "days": self.days, "replaced": self.replaced, "deleted": len(self.deleted)}


def days_of(interval: DataInterval) -> list[str]:
    """The UTC days an interval touches (at least the day it starts)."""
    day = interval.start.date()
    last = (interval.end - timedelta(microseconds=1)).date() if interval.end > interval.start else day
    out = []
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def rebuild(settings: Settings, stores: Stores, interval: DataInterval,
            catalog: Catalog | None = None, tagger: Tagger | None = None) -> RebuildResult:
    """Rebuild the processed data of the interval's days from their raw captures."""
    days = days_of(interval)
    out = RebuildResult(days)
    keys: set[str] = set()
    old: dict[str, dict[str, Any]] = {}
    for day in days:
        keys.update(k for k in stores.raw.list(f"captures/dt={day}/") if k.endswith(".warc.gz"))
        for key in stores.processed.list(f"runs/dt={day}/"):
            manifest = stores.processed.get_json(key, {}) or {}
            old[key] = manifest
            keys.update(manifest.get("captures", []))
    if not keys:
        log.info("rebuild %s: no raw captures for %s", interval.label, ", ".join(days))
        return out
    chash = config_hash(settings)
    batch = hashlib.sha256(("\n".join(sorted(keys)) + "|" + chash).encode()).hexdigest()[:16]
    replacing = {m.get("batch", ""): k for k, m in old.items() if m.get("batch") != batch}
    out.replaced = sorted(replacing)
    out.result = process_captures(settings, stores, sorted(keys), catalog=catalog, tagger=tagger,
                                  batch=batch, replacing=frozenset(replacing), day=days[0])
    keep = set(out.result.partitions)
    for old_batch, manifest_key in sorted(replacing.items()):
        manifest = old[manifest_key]
        targets = [p for p in manifest.get("partitions", []) if p not in keep]
        targets.append(segment_key(str(manifest.get("day", "")), old_batch))
        for key in targets:
            stores.processed.delete(key)
            out.deleted.append(key)
        stores.processed.delete(manifest_key)  # last: the manifest says the batch was complete
        out.deleted.append(manifest_key)
    log.info("rebuild %s: batch %s from %d captures replaced %d batches (%d objects deleted)",
             interval.label, batch, len(keys), len(replacing), len(out.deleted))
    return out
