"""Rebuilding processed data from raw captures: one commit replaces the days' rows, a repeat
changes nothing, two builds are told apart by their config hash, and any mix of rebuilt days
leaves each article once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from ingest import table
from ingest.config import SAMPLE_CATALOG, Settings, load_catalog
from ingest.dedupe import segment_key
from ingest.models import DataInterval
from ingest.poll import poll_group
from ingest.process import config_hash, process_captures
from ingest.reprocess import days_of, rebuild
from ingest.sample.server import SampleServer
from ingest.storage import Stores
from tests.support import tables
from tests.support.site import MovingSite
from tests.support.tables import rows

pytestmark = pytest.mark.integration

HOUR = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 3, 31, 1, tzinfo=UTC))
DAY = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))


def test_rebuild_replaces_the_days_rows_in_one_commit_and_repeats_without_change(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    polled = poll_group(settings, stores, catalog, "sample", HOUR)
    process_captures(settings, stores, polled.capture_keys, catalog=catalog)
    before = rows(settings)
    assert len(before) == 8

    done = rebuild(settings, stores, DAY, catalog=catalog)
    assert done.result is not None and done.result.table_version == 1  # one commit
    after = rows(settings)
    assert sorted(r["article_id"] for r in after) == sorted(r["article_id"] for r in before)
    assert max(Counter(r["article_id"] for r in after).values()) == 1  # old rows are gone
    assert list(stores.processed.list("state/dedupe/")) == [segment_key(polled.capture_keys[0])]
    assert {r["config_hash"] for r in after} == {config_hash(settings)}

    snapshot = tables.state(settings, stores)
    again = rebuild(settings, stores, DAY, catalog=catalog)
    assert again.result is not None and again.result.table_version is None  # committed before
    assert tables.state(settings, stores) == snapshot

    # another build (a settings change that shapes output) replaces it, told apart by its hash
    other = settings.model_copy(update={"min_article_words": 41})
    third = rebuild(other, stores, DAY, catalog=catalog)
    assert third.result is not None and third.result.table_version == 2
    assert {r["config_hash"] for r in rows(settings)} == {config_hash(other)} != {
        config_hash(settings)}
    assert len(rows(settings)) == 8
    # time travel: the table as the first build left it
    assert {r["config_hash"] for r in table.rows(settings, version=1)} == {config_hash(settings)}


def test_a_one_day_rebuild_after_a_two_day_rebuild_applies_the_new_config(
        settings: Settings, stores: Stores) -> None:
    with SampleServer() as server:
        site = MovingSite(server)
        catalog = site.catalog(["wire"])
        monday = DataInterval(datetime(2014, 3, 30, 9, tzinfo=UTC),
                              datetime(2014, 3, 30, 10, tzinfo=UTC))
        site.show("wire", [1, 2, 3])
        process_captures(settings, stores, poll_group(settings, stores, catalog, "g",
                                                      monday).capture_keys, catalog=catalog)
        site.show("wire", [3, 4, 5])
        process_captures(settings, stores, poll_group(settings, stores, catalog, "g",
                                                      HOUR).capture_keys, catalog=catalog)
    two_days = DataInterval(datetime(2014, 3, 30, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))
    rebuild(settings, stores, two_days, catalog=catalog)
    assert len(rows(settings)) == 5
    other = settings.model_copy(update={"min_article_words": 41})
    rebuild(other, stores, DAY, catalog=catalog)  # only the second day
    got = rows(settings)
    assert len(got) == 5 and len({r["article_id"] for r in got}) == 5  # each article once
    by_day = {r["capture"].split("/")[1]: r["config_hash"] for r in got}
    assert by_day == {"dt=2014-03-30": config_hash(settings), "dt=2014-03-31": config_hash(other)}


def test_a_day_without_captures_is_a_no_op(settings: Settings, stores: Stores) -> None:
    assert rebuild(settings, stores, DAY).result is None
    assert days_of(DataInterval(datetime(2014, 3, 30, 12, tzinfo=UTC),
                                datetime(2014, 4, 1, tzinfo=UTC))) == ["2014-03-30", "2014-03-31"]


def test_processing_and_rebuilding_one_day_at_once_leave_each_article_once(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    catalog = load_catalog(SAMPLE_CATALOG)
    keys = poll_group(settings, stores, catalog, "sample", HOUR).capture_keys
    other = settings.model_copy(update={"min_article_words": 41})
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(process_captures, settings, stores, keys, catalog=catalog)
        second = pool.submit(rebuild, other, stores, DAY, catalog=catalog)
        first.result(), second.result()
    got = rows(settings)
    assert len(got) == 8 and len({r["article_id"] for r in got}) == 8  # never 16
    assert len({r["config_hash"] for r in got}) == 1  # one whole batch, whichever came last
    assert table.open_table(settings).version() == 1  # two commits, one after the other
    assert list(stores.processed.list("state/dedupe/")) == [segment_key(keys[0])]
