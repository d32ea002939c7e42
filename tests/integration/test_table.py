"""The articles table on a real SeaweedFS: commits replace captures' rows, once per batch, one
writer at a time, and a damaged log is named, not a stack trace."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest import table
from ingest.config import Settings
from ingest.errors import StorageError
from ingest.query import connect
from ingest.storage import Stores

pytestmark = pytest.mark.integration


def row(article: str, capture: str, region: str | None = "europe") -> dict[str, Any]:
    when = datetime(2014, 3, 31, 12, tzinfo=UTC)
    return {"article_id": article, "url": f"http://x.test/{article}",
            "canonical_url": f"http://x.test/{article}", "feed_id": "f", "source_domain": "x.test",
            "title": article, "text": "text", "authors": [], "published_at": when,
            "fetched_at": when, "language": "en", "countries": [], "regions": [],
            "primary_region": region, "region_evidence": [], "content_hash": article,
            "dup_cluster_id": article, "is_canonical": True, "duplicate_of": None,
            "similarity": None, "raw_ref": f"s3://raw/{capture}#offset=0", "capture": capture,
            "extractor": "t", "config_hash": "c"}


def test_a_commit_replaces_its_captures_rows_once(settings: Settings, stores: Stores) -> None:
    assert table.commit(settings, stores.processed, [row("a", "k1"), row("b", "k1", None),
                                                     row("c", "k2")], ["k1", "k2"], "b1") == 0
    assert table.commit(settings, stores.processed, [row("a", "k1"), row("d", "k1")], ["k1"],
                        "b2") == 1
    got = {(r["article_id"], r["capture"], r["region"]) for r in table.rows(settings)}
    assert got == {("a", "k1", "europe"), ("d", "k1", "europe"), ("c", "k2", "europe")}
    # the same batch again (a re-run after its commit went through) commits nothing
    assert table.commit(settings, stores.processed, [row("x", "k1")], ["k1"], "b2") is None
    assert table.open_table(settings).version() == 1
    assert {r["article_id"] for r in table.rows(settings, version=0)} == {"a", "b", "c"}
    # time travel in DuckDB, as the README shows it
    con = connect(settings)
    con.execute(f"ATTACH '{table.uri(settings)}' AS articles_v0 (TYPE delta, VERSION 0)")
    assert sorted(con.execute("SELECT article_id FROM articles_v0").fetchall()) == [
        ("a",), ("b",), ("c",)]
    assert sorted(con.execute("SELECT article_id FROM articles").fetchall()) == [
        ("a",), ("c",), ("d",)]


def test_writers_take_turns_and_a_killed_writers_lock_expires(
        settings: Settings, stores: Stores) -> None:
    quick = settings.model_copy(update={"table_lock_ttl": 1.0})
    # a writer killed while holding the lock left it behind
    stores.processed.put_json(table.LOCK_KEY, {"owner": "dead:1", "expires": time.time() + 1})
    started = time.monotonic()
    assert table.commit(quick, stores.processed, [row("a", "k1")], ["k1"], "b1") == 0
    assert time.monotonic() - started >= 0.5  # waited for the lock to expire
    # a live writer's lock makes the other wait, then fail for a retry
    with table.WriterLock(stores.processed, ttl=30.0):
        lock = json.loads(stores.processed.get(table.LOCK_KEY))
        assert lock["expires"] > time.time()
        blocked = table.WriterLock(stores.processed, ttl=30.0)
        blocked.wait = 0.5
        with pytest.raises(table.TableBusy, match=r"another writer .* holds the table lock"):
            blocked.__enter__()
    assert not stores.processed.exists(table.LOCK_KEY)
    # two writers at once: both commit, one after the other
    threads = [threading.Thread(target=table.commit, args=(
        settings, stores.processed, [row(name, name)], [name], f"batch-{name}"))
        for name in ("p", "q")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r["article_id"] for r in table.rows(settings)} == {"a", "p", "q"}
    assert table.open_table(settings).version() == 2


def test_a_damaged_log_entry_is_named_with_the_table_and_version(
        settings: Settings, stores: Stores) -> None:
    table.commit(settings, stores.processed, [row("a", "k1")], ["k1"], "b1")
    table.commit(settings, stores.processed, [row("b", "k2")], ["k2"], "b2")
    stores.processed.put("articles/_delta_log/00000000000000000001.json", b"{not json")
    with pytest.raises(StorageError, match=r"the Delta table s3://.*/articles cannot be read"):
        table.rows(settings)
    with pytest.raises(StorageError, match="at version 1"):
        table.rows(settings, version=1)


def test_maintenance_compacts_each_partition_and_vacuums_unused_files(
        settings: Settings, stores: Stores) -> None:
    from ingest.maintain import files_per_partition, maintain

    for n in range(6):  # six batches, each adding a file to the same two partitions
        table.commit(settings, stores.processed,
                     [row(f"e{n}", f"k{n}"), row(f"x{n}", f"k{n}", None)], [f"k{n}"], f"b{n}")
    before = table.rows(settings)
    assert set(files_per_partition(settings).values()) == {6}
    files = [k for k in stores.processed.list("articles/") if k.endswith(".parquet")]
    keep = settings.model_copy(update={"table_retention_days": 7.0})
    report = maintain(keep, stores)
    assert set(files_per_partition(settings).values()) == {1}  # one file per (day, region)
    assert report["compacted"] == {"2014-03-31": {"files_removed": 12, "files_added": 2}}
    assert report["vacuumed"] == 0  # within the retention: old versions stay readable
    assert table.rows(settings) == before
    assert len(table.rows(settings, version=2)) == 6  # time travel still works
    assert stores.processed.exists(report["report"])
    now = maintain(settings.model_copy(update={"table_retention_days": 0.0}), stores)
    assert now["vacuumed"] == len(files)  # the compacted-away files, no longer used
    assert table.rows(settings) == before  # the current version is whole
    assert not stores.processed.exists(table.LOCK_KEY)


def test_maintenance_of_a_tidy_table_commits_nothing(settings: Settings, stores: Stores) -> None:
    from ingest.maintain import maintain

    assert maintain(settings, stores)["compacted"] == {}  # no table yet: nothing to do
    table.commit(settings, stores.processed, [row("a", "k1")], ["k1"], "b1")
    report = maintain(settings, stores)
    assert report["compacted"] == {} and report["vacuumed"] == 0
    assert report["version"] == 0  # readers and re-run checks see the same version


def test_migration_from_the_parquet_layout_rebuilds_from_raw_and_removes_the_old_files(
        settings: Settings, stores: Stores, sample_server: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ingest.config import SAMPLE_CATALOG, load_catalog
    from ingest.maintain import migrate
    from ingest.models import DataInterval
    from ingest.poll import poll_group
    from ingest.query import connect

    monkeypatch.setenv("NEWS_INGEST_CATALOG_PATH", str(SAMPLE_CATALOG))
    catalog = load_catalog(SAMPLE_CATALOG)
    hour = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 3, 31, 1, tzinfo=UTC))
    poll_group(settings, stores, catalog, "sample", hour)
    # what schema version 1 left in the processed bucket: Hive-style parts, per-batch segments
    old = io.BytesIO()
    pq.write_table(pa.table({"article_id": ["old"], "schema_version": [1]}), old)
    stores.processed.put("articles/dt=2014-03-31/region=europe/part-0123456789abcdef.parquet",
                         old.getvalue())
    stores.processed.put_json("state/dedupe/dt=2014-03-31/0123456789abcdef.json",
                              {"version": 1, "batch": "0123456789abcdef", "entries": []})
    report = migrate(settings, stores)
    assert report["old_parts_deleted"] == 1 and report["old_segments_deleted"] == 1
    assert report["days"] == [{"day": "2014-03-31", "articles": 8}] and report["articles"] == 8
    assert not [k for k in stores.processed.list("articles/dt=") if "0123456789abcdef" in k]
    got = connect(settings).execute("SELECT count(*), count(DISTINCT article_id), "
                                    "max(schema_version) FROM articles").fetchone()
    assert got == (8, 8, table.SCHEMA_VERSION)
    again = migrate(settings, stores)  # a repeat finds nothing old and commits nothing new
    assert again["old_parts_deleted"] == 0 and again["articles"] == 8


def test_maintenance_folds_each_days_segments_and_the_index_still_finds_earlier_copies(
        settings: Settings, stores: Stores) -> None:
    from datetime import timedelta

    from ingest.dedupe import day_key
    from ingest.maintain import maintain
    from ingest.models import DataInterval
    from ingest.poll import poll_group
    from ingest.process import process_captures
    from ingest.reprocess import rebuild
    from ingest.sample.server import SampleServer
    from tests.support.site import EPOCH, MovingSite

    def hour(n: int) -> DataInterval:
        return DataInterval(EPOCH + timedelta(hours=n), EPOCH + timedelta(hours=n + 1))

    with SampleServer() as server:
        site = MovingSite(server)
        catalog = site.catalog(["a"])
        for n in range(3):  # three hourly captures of one day
            site.show("a", [n + 1])
            process_captures(settings, stores, poll_group(settings, stores, catalog, "g",
                                                          hour(n)).capture_keys, catalog=catalog)
        assert len(list(stores.processed.list("state/dedupe/"))) == 3
        report = maintain(settings, stores)
        assert report["segments_compacted"] == {"2014-03-31": 3}
        assert list(stores.processed.list("state/dedupe/")) == [day_key("2014-03-31")]
        # a later copy of the first story under another URL: the folded index knows the first
        server.files["/a/101.html"] = server.files["/a/1.html"]
        site.show("a", [101])
        process_captures(settings, stores, poll_group(settings, stores, catalog, "g",
                                                      hour(3)).capture_keys, catalog=catalog)
    by_url = {r["url"].rsplit("/", 1)[1]: r for r in table.rows(settings)}
    assert by_url["101.html"]["duplicate_of"] == by_url["1.html"]["article_id"]
    # a rebuild of the day rewrites its captures' segments over the folded sections
    day = DataInterval(EPOCH, EPOCH + timedelta(days=1))
    rebuild(settings.model_copy(update={"min_article_words": 41}), stores, day, catalog=catalog)
    got = table.rows(settings)
    assert len(got) == 4 and len({r["article_id"] for r in got}) == 4
    assert maintain(settings, stores)["segments_compacted"] == {"2014-03-31": 4}
    assert list(stores.processed.list("state/dedupe/")) == [day_key("2014-03-31")]


def version_2_table(settings: Settings) -> None:
    """A table as schema version 2 wrote it (no language_confidence), with one row."""
    import pyarrow as pa
    from deltalake import write_deltalake

    old_schema = pa.schema([f for f in table.SCHEMA if f.name != "language_confidence"])
    old = table.to_arrow([row("a", "k1")]).select(old_schema.names).cast(old_schema)
    old = old.set_column(old.schema.get_field_index("schema_version"), "schema_version",
                         pa.array([2], pa.int32()))
    write_deltalake(table.uri(settings), old, partition_by=table.PARTITIONS,
                    storage_options=table.storage_options(settings))


def test_a_version_2_table_gets_the_new_column_on_the_first_commit(
        settings: Settings, stores: Stores) -> None:
    """A table written by schema version 2 (no language_confidence) takes version 3's rows:
    the writer adds the column, the old rows read it as null, and DuckDB reads both."""
    version_2_table(settings)
    new = {**row("b", "k2"), "language": "fr", "language_confidence": 0.9876}
    assert table.commit(settings, stores.processed, [new], ["k2"], "b1") is not None
    got = {r["article_id"]: (r["language_confidence"], r["schema_version"])
           for r in table.rows(settings)}
    assert got == {"a": (None, 2), "b": (0.9876, table.SCHEMA_VERSION)}
    con = connect(settings)
    assert sorted(con.execute("SELECT article_id, language_confidence FROM articles")
                  .fetchall()) == [("a", None), ("b", 0.9876)]
    # a second writer opening the evolved table adds nothing
    assert table.evolve(table.open_table(settings)) == []


def test_a_storage_outage_while_adding_the_column_changes_nothing_and_a_rerun_completes(
        settings: Settings, stores: Stores) -> None:
    from ingest.errors import StorageUnavailable
    from tests.support.faults import CuttableProxy

    version_2_table(settings)
    proxy = CuttableProxy(int((settings.s3_endpoint_url or "").rsplit(":", 1)[1]))
    try:
        via_proxy = settings.model_copy(update={"s3_endpoint_url": proxy.endpoint})
        opened = table.open_table(via_proxy)
        proxy.cut()
        with pytest.raises(StorageUnavailable, match="table is unchanged, re-run"):
            table.evolve(opened)
        proxy.restore()
        reopened = table.open_table(settings)
        assert reopened.version() == 0
        assert "language_confidence" not in {f.name for f in reopened.schema().fields}
        # the re-run (a commit through the same endpoint) adds the column and its rows
        assert table.commit(via_proxy, stores.processed, [row("b", "k2")], ["k2"], "b1") == 2
        assert {r["article_id"] for r in table.rows(settings)} == {"a", "b"}
    finally:
        proxy.close()
