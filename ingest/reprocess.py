"""Rebuilding processed data from raw captures (the news_reprocess DAG), without fetching.

After an extractor, tagger or dedupe change, a rebuild of an interval processes every raw
capture of the interval's days again with the current code, as one batch: its rows replace
those captures' rows in the articles table in one commit, and its dedupe segments replace
theirs (see ``ingest.process``). Captures of other days keep their rows and their index
entries, so rebuilding one day after rebuilding two, or a rebuild next to normal processing of
other captures, never leaves an article twice or drops one. The batch id is a hash of the
capture keys and the config hash, so repeating a rebuild with the same code changes nothing
(the table's application transaction says it was committed); with other code it commits the
new rows. A failed rebuild leaves the table at its last version; a re-run completes it.

Rows carry ``extractor`` and ``config_hash``, so two builds can be told apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ingest.config import Catalog, Settings
from ingest.models import DataInterval
from ingest.process import ProcessResult, batch_id, config_hash, process_captures
from ingest.regions import Tagger
from ingest.storage import Stores

log = logging.getLogger(__name__)


@dataclass
class RebuildResult:
    """What a rebuild did: the days and the batch that rebuilt them."""

    days: list[str]
    result: ProcessResult | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        out: dict[str, Any] = self.result.as_dict() if self.result else {"batch": "", "counts": {}}
        return {**out, "days": self.days}


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
    keys = sorted({k for day in days for k in stores.raw.list(f"captures/dt={day}/")
                   if k.endswith(".warc.gz")})
    if not keys:
        log.info("rebuild %s: no raw captures for %s", interval.label, ", ".join(days))
        return out
    # the batch: these captures as they are now (a capture that grew since the last rebuild
    # makes another batch) with this configuration
    versions = {key: (stores.raw.stat(key) or ("",))[0] for key in keys}
    batch = batch_id({**versions, "|config": config_hash(settings)})
    out.result = process_captures(settings, stores, keys, catalog=catalog, tagger=tagger,
                                  batch=batch, day=days[0])
    log.info("rebuild %s: batch %s from %d captures, table version %s", interval.label, batch,
             len(keys), out.result.table_version)
    return out
