"""Rebuilding processed data from raw captures: replaces the old batches, byte-identical when
repeated, and two builds are told apart by their config hash."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from ingest import dataset
from ingest.config import SAMPLE_CATALOG, Settings, load_catalog
from ingest.models import DataInterval
from ingest.poll import poll_group
from ingest.process import config_hash, process_captures
from ingest.reprocess import days_of, rebuild
from ingest.sample.server import SampleServer
from ingest.storage import Stores

pytestmark = pytest.mark.integration

HOUR = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 3, 31, 1, tzinfo=UTC))
DAY = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))


def processed(stores: Stores) -> dict[str, bytes]:
    return {k: stores.processed.get(k) for k in stores.processed.list("")}


def rows(stores: Stores) -> list[dict[str, object]]:
    out = []
    for key in stores.processed.list("articles/"):
        out += dataset.read_parquet(stores.processed.get(key)).to_pylist()
    return out


def test_rebuild_replaces_old_batches_and_repeats_byte_for_byte(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    polled = poll_group(settings, stores, catalog, "sample", HOUR)
    first = process_captures(settings, stores, polled.capture_keys, catalog=catalog)
    before = rows(stores)
    assert len(before) == 8

    done = rebuild(settings, stores, DAY, catalog=catalog)
    assert done.replaced == [first.batch] and done.result is not None
    after = rows(stores)
    assert sorted(r["article_id"] for r in after) == sorted(r["article_id"] for r in before)
    assert max(Counter(r["article_id"] for r in after).values()) == 1  # old rows are gone
    assert list(stores.processed.list("runs/")) == [done.result.manifest_key]
    assert list(stores.processed.list("state/dedupe/")) == [
        f"state/dedupe/dt=2014-03-31/{done.result.batch}.json"]
    assert {r["config_hash"] for r in after} == {config_hash(settings)}

    snapshot = processed(stores)
    again = rebuild(settings, stores, DAY, catalog=catalog)
    assert again.replaced == [] and processed(stores) == snapshot

    # another build (a settings change that shapes output) replaces it, told apart by its hash
    other = settings.model_copy(update={"min_article_words": 41})
    third = rebuild(other, stores, DAY, catalog=catalog)
    assert third.replaced == [done.result.batch]
    assert {r["config_hash"] for r in rows(stores)} == {config_hash(other)} != {
        config_hash(settings)}
    assert len(rows(stores)) == 8


def test_a_day_without_captures_is_a_no_op(settings: Settings, stores: Stores) -> None:
    assert rebuild(settings, stores, DAY).result is None
    assert days_of(DataInterval(datetime(2014, 3, 30, 12, tzinfo=UTC),
                                datetime(2014, 4, 1, tzinfo=UTC))) == ["2014-03-30", "2014-03-31"]
