"""``table.PartitionFiles``: an append whose data files news-ingest writes itself (pyarrow,
obstore) and delta-rs commits. Its log records the statistics delta-rs records for the same
rows, its files sit where delta-rs puts them, and readers (delta-rs, DuckDB) see the rows a
``write_deltalake`` append gives; a file that cannot be stored fails the commit with a clear
error and leaves the table as it was."""

from __future__ import annotations

import itertools
import json
import random
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from ingest import table
from ingest.config import Settings
from ingest.errors import StorageUnavailable
from ingest.query import connect
from ingest.storage import Stores

pytestmark = pytest.mark.integration

# strings around the 64-byte statistics cut: several scripts, characters of every UTF-8 width,
# characters whose successor is wider or a surrogate, the last character of Unicode
AWKWARD = ["", "a", "\u00e9", "\u0800", "\u07ff", "\u0fff", "\ud7ff", "\uffff", "\U0001f600",
           "\U0010ffff", "\x7f", "z", "\u4e2d", "\u0627"]


def _text(rng: random.Random) -> str | None:
    pick = rng.random()
    if pick < 0.1:
        return None
    if pick < 0.3:
        return "".join(rng.choice("abc xyz") for _ in range(rng.randrange(1, 20)))
    width = rng.choice([60, 62, 63, 64, 65, 66, 70, 200])
    out = ""
    while len(out.encode()) < width:
        out += rng.choice(AWKWARD) * rng.randrange(1, 4)
    return out


def _when(rng: random.Random) -> datetime | None:
    if rng.random() < 0.2:
        return None
    return (datetime(2026, 10, 1, tzinfo=UTC)
            + timedelta(days=rng.randrange(3), seconds=rng.randrange(86400),
                        microseconds=rng.choice([0, 500, 1000, 123456, 999999])))


def _columns(count: int, seed: int) -> dict[str, list[Any]]:
    """Article columns with what statistics make awkward: nulls, columns null in a whole
    partition, NaN, timestamps below the millisecond, strings to cut."""
    rng = random.Random(seed)
    cols: dict[str, list[Any]] = {name: [] for name in table.SCHEMA.names
                                  if name not in ("schema_version", "dt", "region")}
    for n in range(count):
        region = rng.choice([None, "europe", "asia-pacific", "middle east", "50%/x"])
        row = {
            "article_id": f"a{rng.randrange(count)}", "url": f"https://x.example/{n}",
            "canonical_url": _text(rng), "feed_id": rng.choice(["f1", "f2"]),
            "source_domain": "x.example", "title": _text(rng), "text": _text(rng),
            "authors": rng.choice([None, [], ["A", None]]),
            "published_at": _when(rng),
            "fetched_at": datetime(2026, 10, 3, 12, tzinfo=UTC)
            + timedelta(microseconds=rng.randrange(10**9)),
            "language": rng.choice([None, "en", "zh"]),
            "countries": rng.choice([None, [], [{"code": "FR", "score": 0.5}]]),
            "regions": [region] if region else [], "primary_region": region,
            "region_evidence": None, "content_hash": f"h{n}", "dup_cluster_id": f"c{n % 7}",
            "is_canonical": rng.choice([None, True, False]),
            # the title decides which partitions have no duplicate_of at all
            "duplicate_of": None if region == "europe" else rng.choice([None, "a1"]),
            "similarity": rng.choice([None, float("nan"), 0.8, 1.0, -0.0]),
            "raw_ref": f"s3://raw/k#offset={n}", "capture": f"k{n % 3}", "extractor": "t",
            "config_hash": "c",
            "language_confidence": None if region == "asia-pacific" else rng.random()}
        for name, value in row.items():
            cols[name].append(value)
    return cols


def _adds(log_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["add"] for entry in sorted(log_dir.glob("*.json"))
            for line in entry.read_text().splitlines() if '"add"' in line]


def test_statistics_are_those_delta_rs_records_for_the_same_rows(tmp_path: Path) -> None:
    for seed in range(4):
        data = table.arrange(_columns(400, seed))
        where = tmp_path / f"t{seed}"
        write_deltalake(str(where), data, partition_by=table.PARTITIONS)
        theirs = {(a["partitionValues"]["dt"], a["partitionValues"]["region"]):
                  json.loads(a["stats"]) for a in _adds(where / "_delta_log")}
        ours = {part: json.loads(stats) for part, stats in table.file_stats(data).items()}
        assert set(ours) == set(theirs)
        for part, stats in theirs.items():
            assert ours[part] == stats, part
        # the cases the rows were made for are there
        assert any(len(json.dumps(s["maxValues"].get("title", ""))) > 60 for s in ours.values())
        assert any("duplicate_of" not in s["minValues"] for s in ours.values())


def _comparable(rows: pa.Table) -> pa.Table:
    """``rows`` in one order, NaN made comparable (NaN equals nothing, itself included)."""
    import pyarrow.compute as pc

    rows = rows.sort_by([("article_id", "ascending"), ("url", "ascending")])
    similarity = rows.column("similarity")
    return rows.set_column(rows.schema.get_field_index("similarity"), "similarity",
                           pc.if_else(pc.is_nan(similarity), -9.0, similarity))


def test_an_append_reads_back_as_write_deltalakes_with_files_where_it_puts_them(
        settings: Settings, stores: Stores, tmp_path: Path) -> None:
    cols = _columns(300, 7)
    first = table.arrange({name: values[:100] for name, values in cols.items()})
    rest = table.arrange({name: values[100:] for name, values in cols.items()})
    writer = table.Writer(settings)
    # the table's first commit creates it; the next appends the rows of new captures, of two
    # batches in one commit
    assert writer.commit_batches([(first, ["k0"], "b0")]) == (0, {"b0"})
    half = rest.num_rows // 2
    version, done = writer.commit_batches([(rest.slice(0, half), ["k1"], "b1"),
                                           (rest.slice(half), ["k2"], "b2")], first_time=True)
    assert (version, done) == (1, {"b1", "b2"})
    # the same rows appended by delta-rs's writer
    local = tmp_path / "reference"
    write_deltalake(str(local), first, partition_by=table.PARTITIONS)
    write_deltalake(str(local), rest, partition_by=table.PARTITIONS, mode="append")
    expected = _comparable(DeltaTable(str(local)).to_pyarrow_table())
    got = _comparable(table.read(settings))
    assert got.equals(expected)
    assert got.num_rows == 300
    # a re-run of the batch commits nothing
    assert writer.commit_batches([(rest, ["k1", "k2"], "b1")], first_time=True) == (None, set())
    # one file per partition and commit, its rows in article order
    files = list(stores.processed.list("articles/dt="))
    assert len(files) == len(table._runs(first)) + len(table._runs(rest))
    for key in files:
        ids = pq.read_table(pa.BufferReader(stores.processed.get(key))).column(
            "article_id").to_pylist()
        assert ids == sorted(ids)
    # paths as delta-rs writes them: the partition values percent-encoded in the object's
    # key, and the key encoded again in the log
    uuid = re.compile(r"part-00000-[0-9a-f-]{36}-c000\.snappy\.parquet$")
    logged = [json.loads(line)["add"] for key in sorted(stores.processed.list("articles/_delta_log/"))
              if key.endswith(".json")
              for line in stores.processed.get(key).decode().splitlines() if '"add"' in line]
    ours = {uuid.sub("", a["path"]) for a in logged}
    theirs = {uuid.sub("", a["path"]) for a in _adds(local / "_delta_log")}
    assert ours == theirs
    assert any("%2520" in path for path in ours)  # "middle east"
    keys = set(stores.processed.list("articles/dt="))
    assert {uuid.sub("", k.removeprefix("articles/")) for k in keys} == {
        p.replace("%25", "%") for p in theirs}
    # the commit records the batch, and the statistics readers skip files by
    entry = table.open_table(settings).history(1)[0]
    assert entry["operation"] == "WRITE" and entry["news_ingest_batch"] == "b1 b2"
    assert sum(json.loads(a["stats"])["numRecords"] for a in logged) == 300
    # DuckDB reads it as analysts do, and skips by the statistics
    con = connect(settings)
    assert con.execute("SELECT count(*), count(DISTINCT region) FROM articles").fetchone() == (
        300, 5)
    counted = con.execute("SELECT count(*) FROM articles WHERE region = 'middle east'").fetchone()
    assert counted == (sum(1 for r in cols["primary_region"] if r == "middle east"),)


def test_a_file_that_cannot_be_stored_fails_the_commit_and_leaves_the_table(
        settings: Settings, stores: Stores) -> None:
    cols = _columns(60, 3)
    writer = table.Writer(settings)
    writer.commit_batches([(table.arrange(cols), ["k0"], "b0")])
    before = _comparable(table.read(settings))
    # the store answers the log's reads, then its files' uploads find it gone (a port
    # nothing listens on)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    broken = table.Writer(settings)
    broken._writer = table.PartitionFiles(settings.model_copy(update={"s3_endpoint_url": dead}))
    with pytest.raises(StorageUnavailable, match=r"cannot commit batch b1 to s3://.*: cannot "
                       r"store s3://.*/articles/dt=.*re-run to complete"):
        broken.commit_batches([(table.arrange(cols), ["k1"], "b1")], first_time=True)
    assert _comparable(table.read(settings)).equals(before)
    assert table.open_table(settings).version() == 0
    # a re-run completes it
    assert table.Writer(settings).commit_batches(
        [(table.arrange(cols), ["k1"], "b1")], first_time=True) == (1, {"b1"})
    assert table.read(settings).num_rows == 2 * before.num_rows == 120


def test_a_batch_without_rows_is_committed_as_such(settings: Settings, stores: Stores) -> None:
    """A batch whose pages were all duplicates or skipped still records its commit: the table
    is created empty, an append adds no file, and neither batch is committed again."""
    empty = table.arrange({name: [] for name in table.SCHEMA.names
                           if name not in ("schema_version", "dt", "region")})
    writer = table.Writer(settings)
    assert writer.commit_batches([(empty, ["k0"], "b0")]) == (0, {"b0"})
    assert writer.commit_batches([(empty, ["k1"], "b1")], first_time=True) == (1, {"b1"})
    assert table.read(settings).num_rows == 0
    assert table.committed(settings, ["b0", "b1", "b2"]) == {"b0", "b1"}
    assert list(stores.processed.list("articles/dt=")) == []


def test_a_store_without_conditional_writes_setting_appends_too(
        settings: Settings, stores: Stores) -> None:
    """``TABLE_UNSAFE_RENAME`` is delta-rs's own storage option: the files' uploads go
    without it (object_store refuses keys it does not know), the commits with it."""
    unsafe = settings.model_copy(update={"table_unsafe_rename": True})
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" in table.storage_options(unsafe)
    cols = _columns(40, 5)
    writer = table.Writer(unsafe)
    assert writer.commit_batches([(table.arrange(cols), ["k0"], "b0")]) == (0, {"b0"})
    assert writer.commit_batches([(table.arrange(cols), ["k1"], "b1")], first_time=True) == (
        1, {"b1"})
    assert table.read(unsafe).num_rows == 80


def test_texts_gathered_a_few_rows_at_a_time_stay_with_their_rows(
        settings: Settings, stores: Stores, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit of several batches takes every column but the text in the table's order at
    once and gathers the texts a group of rows at a time: with groups of a few rows (a group
    ending inside a partition's rows or spanning several partitions), every file still holds
    each row with its own text, in article order."""
    monkeypatch.setattr(table.PartitionFiles, "TEXT_ROWS", 5)
    cols = _columns(300, 11)
    rows = table.arrange(cols)
    cuts = [0, 40, 41, 170, 300]
    batches = [(table.arrange({name: values[a:b] for name, values in cols.items()}),
                [f"k{n}"], f"b{n}") for n, (a, b) in enumerate(itertools.pairwise(cuts))]
    assert table.Writer(settings).commit_batches(batches) == (0, {"b0", "b1", "b2", "b3"})
    local = tmp_path / "reference"
    write_deltalake(str(local), rows, partition_by=table.PARTITIONS)
    assert _comparable(table.read(settings)).equals(
        _comparable(DeltaTable(str(local)).to_pyarrow_table()))
    texts = dict(zip(rows.column("url").to_pylist(), rows.column("text").to_pylist(),
                     strict=True))
    files = list(stores.processed.list("articles/dt="))
    assert len(files) == len(table._runs(rows)) and len(files) > 10
    for key in files:
        got = pq.read_table(pa.BufferReader(stores.processed.get(key)))
        ids = got.column("article_id").to_pylist()
        assert ids == sorted(ids)
        assert [texts[url] for url in got.column("url").to_pylist()] == got.column(
            "text").to_pylist()
