"""The processed articles as a Delta Lake table (delta-rs), the analysts' data contract.

``s3://<processed bucket>/articles`` is a Delta table partitioned by ``dt`` (UTC publication
date) and ``region`` (primary region, or ``none``), with the columns of ``SCHEMA``. Every
processing batch commits its rows in one transaction that replaces the rows of the captures it
processed (a predicate overwrite on ``capture``; a plain append when the caller knows none of
them was committed before): a reader sees a batch's rows all at once or not
at all, and processing a capture again (a re-run, a rebuild with new code, a batch over
overlapping captures) replaces its rows instead of adding them again. Each commit carries a
Delta application transaction (``news-ingest/<batch>``, version 1), so a batch whose commit went
through before it was killed does not commit again when it is re-run.

Commits: delta-rs writes each log entry with a conditional write (``If-None-Match: *``), which
AWS S3 (since 2024), SeaweedFS, MinIO and R2 honour, so two commits can never take the same
version; no DynamoDB lock table is needed. A store without conditional writes needs
``TABLE_UNSAFE_RENAME=true`` (delta-rs's ``AWS_S3_ALLOW_UNSAFE_RENAME``), which is safe with one
writer only. Either way news-ingest keeps to one writer at a time: every commit holds a lock object (``_locks/articles.json`` in the processed bucket, taken with a conditional
write, ``If-None-Match: *``): a second writer waits for it and, when it is still held after the
lock's lifetime and half a minute more, fails with a transient error (its task is retried), so
concurrent writers are refused, never raced. A lock left by a killed writer expires after
``table_lock_ttl`` seconds (a commit takes about one) and is then taken over (``If-Match``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ingest.config import Settings
from ingest.errors import ObjectExists, StorageError, StorageUnavailable, WriteConflict
from ingest.storage import ObjectStore

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
LOCK_KEY = "_locks/articles.json"

PARTITIONS = ["dt", "region"]
NO_REGION = "none"

SCHEMA = pa.schema([
    ("article_id", pa.string()),
    ("url", pa.string()),
    ("canonical_url", pa.string()),
    ("feed_id", pa.string()),
    ("source_domain", pa.string()),
    ("title", pa.string()),
    ("text", pa.string()),
    ("authors", pa.list_(pa.string())),
    ("published_at", pa.timestamp("us", tz="UTC")),
    ("fetched_at", pa.timestamp("us", tz="UTC")),
    ("language", pa.string()),
    ("countries", pa.list_(pa.struct([("code", pa.string()), ("score", pa.float64())]))),
    ("regions", pa.list_(pa.string())),
    ("primary_region", pa.string()),
    ("region_evidence", pa.list_(pa.string())),
    ("content_hash", pa.string()),
    ("dup_cluster_id", pa.string()),
    ("is_canonical", pa.bool_()),
    ("duplicate_of", pa.string()),
    ("similarity", pa.float64()),
    ("raw_ref", pa.string()),
    ("capture", pa.string()),
    ("extractor", pa.string()),
    ("config_hash", pa.string()),
    ("schema_version", pa.int32()),
    ("dt", pa.string()),
    ("region", pa.string()),
    # schema version 3; last, so a table made by version 2 gets it by adding a column
    ("language_confidence", pa.float64()),
])


def uri(settings: Settings) -> str:
    """The table's location."""
    return f"s3://{settings.processed_bucket}/articles"


def storage_options(settings: Settings) -> dict[str, str]:
    """delta-rs (object_store) options for the configured S3 endpoint and credentials."""
    opts = {"AWS_REGION": settings.s3_region}
    if settings.table_unsafe_rename:
        opts["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
    if settings.s3_access_key:
        opts["AWS_ACCESS_KEY_ID"] = settings.s3_access_key
        opts["AWS_SECRET_ACCESS_KEY"] = settings.s3_secret_key or ""
    if settings.s3_endpoint_url:
        opts["AWS_ENDPOINT_URL"] = settings.s3_endpoint_url
        opts["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "false"
        if settings.s3_endpoint_url.startswith("http://"):
            opts["AWS_ALLOW_HTTP"] = "true"
    return opts


def partition_of(row: Mapping[str, Any]) -> tuple[str, str]:
    """(dt, region) of a row: the UTC publication date (fetch date without one), the region."""
    moment = row["published_at"] or row["fetched_at"]
    return f"{moment:%Y-%m-%d}", row["primary_region"] or NO_REGION


def to_arrow(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts of the article columns) as an Arrow table with the partition columns, in a
    stable order (see :func:`arrange`)."""
    rows = list(rows)
    return arrange({name: [row.get(name) for row in rows] for name in SCHEMA.names
                    if name not in _DERIVED})


_DERIVED = ("schema_version", "dt", "region")


def _partitions(data: Mapping[str, Any]) -> tuple[Any, Any]:
    """The ``dt`` and ``region`` columns of the article columns in ``data`` (Arrow arrays), as
    :func:`partition_of` derives them."""
    import pyarrow.compute as pc

    moment = pc.coalesce(data["published_at"], data["fetched_at"])
    region = data["primary_region"]
    return (pc.strftime(moment, format="%Y-%m-%d"),
            pc.if_else(pc.fill_null(pc.not_equal(region, ""), False), region, NO_REGION))


_ORDER = [("dt", "ascending"), ("region", "ascending"), ("article_id", "ascending")]
# the article columns that set a row's place in that order (:func:`row_order` reads them)
ORDER_COLUMNS = ("published_at", "fetched_at", "primary_region", "article_id")


def row_order(rows: pa.Table) -> pa.Array:
    """The positions of ``rows`` (a table with at least the ``ORDER_COLUMNS``) in the order
    :func:`arrange` gives them, so a caller can take its other columns once, already in order
    (a stable sort, as ``arrange``'s)."""
    import pyarrow.compute as pc

    dt, region = _partitions({name: rows.column(name) for name in ORDER_COLUMNS})
    keys = pa.table({"dt": dt, "region": region, "article_id": rows.column("article_id")})
    return pc.sort_indices(keys, _ORDER)


def arrange(columns: Mapping[str, Any], ordered: bool = False) -> pa.Table:
    """The article columns (Arrow arrays or lists; every column of ``SCHEMA`` but
    ``schema_version``, ``dt`` and ``region``, which are derived here as
    :func:`partition_of` does) as the table's rows, ordered by (dt, region, article_id);
    ``ordered``: the caller gives them in that order already (:func:`row_order`)."""
    data = {name: pa.array(columns[name], SCHEMA.field(name).type)
            if not isinstance(columns[name], pa.ChunkedArray | pa.Array) else columns[name]
            for name in SCHEMA.names if name not in _DERIVED}
    count = len(data["article_id"])
    data["schema_version"] = pa.array([SCHEMA_VERSION] * count, pa.int32())
    data["dt"], data["region"] = _partitions(data)
    built = pa.table([data[name] for name in SCHEMA.names], schema=SCHEMA)
    return (built if ordered else built.sort_by(_ORDER)).combine_chunks()


def _app_id(batch: str) -> str:
    return f"news-ingest/{batch}"


def committed(settings: Settings, batches: Iterable[str]) -> set[str]:
    """Which of ``batches`` have been committed to the table."""
    found = open_table(settings)
    if found is None:
        return set()
    return {b for b in batches if (found.transaction_version(_app_id(b)) or 0) >= 1}


def open_table(settings: Settings, version: int | None = None) -> Any:
    """The table (``deltalake.DeltaTable``), or None when it has not been created yet."""
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError, TableNotFoundError

    try:
        return DeltaTable(uri(settings), version=version, storage_options=storage_options(settings))
    except TableNotFoundError:
        return None
    except OSError as exc:
        raise StorageUnavailable(f"cannot read the Delta table {uri(settings)}: {exc}") from None
    except DeltaError as exc:  # a broken or missing log entry
        raise StorageError(f"the Delta table {uri(settings)} cannot be read"
                           f"{f' at version {version}' if version is not None else ''}: "
                           f"{exc}") from None


class TableBusy(StorageUnavailable):
    """Another writer holds the table's lock (transient: retry later)."""


class WriterLock:
    """The table's single-writer lock, as a context manager around one commit."""

    def __init__(self, store: ObjectStore, ttl: float) -> None:
        self.store = store
        self.wait = ttl + 30
        self.ttl = ttl
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> WriterLock:
        deadline = time.monotonic() + self.wait
        while True:
            body = {"owner": self.token, "expires": time.time() + self.ttl}
            try:
                self.store.put_json(LOCK_KEY, body, if_none_match=True)
                return self
            except ObjectExists:
                pass
            held = self.store.get_versioned(LOCK_KEY)
            if held is not None:
                doc, etag = json.loads(held[0]), held[1]
                if float(doc.get("expires", 0)) < time.time():
                    try:  # a killed writer's lock: take it over, unless someone else does
                        self.store.put_json(LOCK_KEY, body, if_match=etag)
                        log.warning("took over the expired table lock of %s", doc.get("owner"))
                        return self
                    except WriteConflict:
                        pass
            if time.monotonic() > deadline:
                owner = doc.get("owner") if held is not None else "?"
                raise TableBusy(f"{self.store.uri('articles')}: another writer ({owner}) holds "
                                f"the table lock {self.store.uri(LOCK_KEY)}; one writer at a "
                                "time, retry later")
            time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        held = self.store.get_versioned(LOCK_KEY)
        if held is not None and self.token.encode() in held[0]:
            self.store.delete(LOCK_KEY)


def commit(settings: Settings, store: ObjectStore, rows: Sequence[Mapping[str, Any]] | pa.Table,
           captures: Iterable[str], batch: str) -> int | None:
    """Replace the rows of ``captures`` by ``rows`` in one transaction, holding the writer
    lock; returns the new table version, or None when this batch was committed before (a
    re-run after a kill)."""
    with WriterLock(store, settings.table_lock_ttl):
        return commit_locked(settings, rows, captures, batch)


def commit_locked(settings: Settings, rows: Sequence[Mapping[str, Any]] | pa.Table,
                  captures: Iterable[str], batch: str) -> int | None:
    """``commit`` for a caller that holds the ``WriterLock`` already. ``rows``: dicts of the
    article columns, or a table made by :func:`arrange`."""
    return Writer(settings).commit_locked(rows, captures, batch)


class Writer:
    """The commits of one run: the table stays open from one commit to the next, and each
    commit first reads only the log entries written since (another writer may have committed
    between two of them: the writer lock is held per commit, not per run)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._table: Any = None
        self._writer: PartitionFiles | None = None

    def _files(self) -> PartitionFiles:
        if self._writer is None:
            self._writer = PartitionFiles(self.settings)
        return self._writer

    def _current(self) -> Any:
        if self._table is None:
            self._table = open_table(self.settings)
            if self._table is not None:
                evolve(self._table)
        else:
            try:
                self._table.update_incremental()
            except OSError as exc:
                self._table = None
                raise StorageUnavailable(f"cannot read the Delta table {uri(self.settings)}: "
                                         f"{exc}") from None
        return self._table

    def commit_locked(self, rows: Sequence[Mapping[str, Any]] | pa.Table,
                      captures: Iterable[str], batch: str, first_time: bool = False
                      ) -> int | None:
        """:func:`commit_locked` on the kept table. ``first_time``: the caller knows that no
        capture of the batch has rows in the table (none was ever committed: processing keeps
        a dedupe segment of every capture it commits, written before the commit), so the rows
        are appended: a predicate overwrite makes delta-rs look through the table's files for
        rows to replace, which costs more as the table grows."""
        data = rows if isinstance(rows, pa.Table) else to_arrow(rows)
        version, done = self.commit_batches([(data, list(captures), batch)], first_time)
        return version if done else None

    def commit_batches(self, batches: Sequence[tuple[pa.Table, Sequence[str], str]],
                       first_time: bool = False, ready: Callable[[], object] = lambda: None
                       ) -> tuple[int | None, set[str]]:
        """Commit several batches (rows made by :func:`arrange`, their captures, batch id) in
        one transaction that records each batch's id, leaving out those committed before;
        each batch's rows replace its captures' rows (appended when ``first_time``, see
        :meth:`commit_locked`). ``ready`` is called once the data files are stored, right
        before the commit (a caller writing something that must be stored before the commit
        writes it meanwhile, and raises from ``ready`` when it could not: nothing is
        committed). Returns the new table version and the batches it committed (None and
        none when every batch was committed before: a re-run; ``ready`` is not called)."""
        from deltalake import CommitProperties, Schema, Transaction, write_deltalake
        from deltalake.transaction import create_table_with_add_actions

        settings = self.settings
        table = self._current()
        todo = [b for b in batches
                if table is None or (table.transaction_version(_app_id(b[2])) or 0) < 1]
        for _, _, batch in batches:
            if all(batch != b for _, _, b in todo):
                log.info("batch %s: already committed to %s; not again", batch, uri(settings))
        if not todo:
            return None, set()
        ids = [batch for _, _, batch in todo]
        captures = sorted({c for _, cs, _ in todo for c in cs})
        props = CommitProperties(app_transactions=[Transaction(_app_id(b), 1) for b in ids],
                                 custom_metadata={"news_ingest_batch": " ".join(ids),
                                                  "news_ingest_captures": str(len(captures))})
        label = ids[0] if len(ids) == 1 else f"{ids[0]} and {len(ids) - 1} more batches"
        try:
            if table is None:  # the table's first commit creates it
                files = self._files().write([rows for rows, _, _ in todo])
                ready()
                create_table_with_add_actions(
                    uri(settings), Schema.from_arrow(SCHEMA), files,
                    partition_by=PARTITIONS, storage_options=storage_options(settings),
                    commit_properties=props)
            elif first_time:
                files = self._files().write([rows for rows, _, _ in todo])
                ready()
                table.create_write_transaction(
                    files, mode="append", schema=table.schema(), partition_by=PARTITIONS,
                    commit_properties=props)
            else:  # delta-rs finds the files holding these captures' rows and rewrites them
                quoted = ", ".join("'" + c.replace("'", "''") + "'" for c in captures)
                data = todo[0][0] if len(todo) == 1 else pa.concat_tables(
                    [r for r, _, _ in todo]).sort_by(_ORDER)
                ready()
                write_deltalake(table, data, mode="overwrite",
                                predicate=f"capture IN ({quoted})", partition_by=PARTITIONS,
                                commit_properties=props)
        except OSError as exc:
            self._table = None
            raise StorageUnavailable(f"cannot commit batch {label} to {uri(settings)}: {exc}; "
                                     "the table is unchanged, re-run to complete") from None
        except BaseException:
            self._table = None
            raise
        if table is not None:
            table.update_incremental()  # only the new log entry, not the whole log again
            return int(table.version()), set(ids)
        self._table = open_table(settings)
        return (int(self._table.version()) if self._table is not None else None), set(ids)


def evolve(table: Any) -> list[str]:
    """Add the columns of ``SCHEMA`` that an older table lacks (nullable: its rows read as
    null); the caller holds the writer lock. Returns the names added."""
    from deltalake import Field
    from deltalake.exceptions import DeltaError
    from deltalake.schema import PrimitiveType

    have = {field.name for field in table.schema().fields}
    missing = [f for f in SCHEMA if f.name not in have]
    if missing:
        try:
            table.alter.add_columns([Field(f.name, PrimitiveType(_DELTA_TYPES[f.type]),
                                           nullable=True) for f in missing])
        except (OSError, DeltaError) as exc:  # one log entry: written whole or not at all
            if isinstance(exc, DeltaError) and "object store" not in str(exc):
                raise
            raise StorageUnavailable(
                f"cannot add column(s) {', '.join(f.name for f in missing)} to the Delta table "
                f"{table.table_uri}: {exc}; the table is unchanged, re-run to complete") from None
        log.info("articles table: added column(s) %s (schema version %d)",
                 ", ".join(f.name for f in missing), SCHEMA_VERSION)
    return [f.name for f in missing]


_DELTA_TYPES = {pa.float64(): "double", pa.string(): "string", pa.int32(): "integer",
                pa.bool_(): "boolean"}


def read(settings: Settings, version: int | None = None) -> pa.Table:
    """The whole table (as of ``version``) as Arrow; empty when there is no table yet."""
    table = open_table(settings, version)
    if table is None:
        return SCHEMA.empty_table()
    return table.to_pyarrow_table()


def rows(settings: Settings, version: int | None = None) -> list[dict[str, Any]]:
    """The table's rows as dicts, ordered by partition and article id."""
    return sorted(read(settings, version).to_pylist(),
                  key=lambda r: (r["dt"], r["region"], r["article_id"]))


# storage options delta-rs reads itself, unknown to object_store (and so to obstore)
_DELTA_RS_ONLY = {"AWS_S3_ALLOW_UNSAFE_RENAME"}

# the statistics delta-rs records of a file's string column keep at most this many bytes of a
# value (parquet-rs's statistics truncation): a longer minimum is cut at a character boundary,
# a longer maximum cut and then raised to the next string (so it stays an upper bound)
STATS_BYTES = 64


class PartitionFiles:
    """The data files of an append, written and uploaded here rather than by delta-rs's writer,
    then committed with delta-rs (``DeltaTable.create_write_transaction``, or
    ``create_table_with_add_actions`` for the table's first commit: the log entry, its
    conflict checks, application transactions and checkpoints stay delta-rs's).

    Why not ``write_deltalake``: while it writes, it holds several times the commit's Arrow
    data (measured: +450 MiB of resident memory for a commit of 20,000 rows and 125 MB),
    so commits had to stay small (2,000 pages), and the serial stage paid for each commit's
    files: a commit writes one file per (day, region) partition it touches, and when the
    pages of a run spread over many publication days every small commit touches most of
    them again. Here each partition's rows of every batch in the commit (in article order)
    become one Parquet file (pyarrow, snappy, named as delta-rs names them), ``ENCODERS``
    files at a time (each holds its rows' pages until it is closed: +50 MiB for that
    commit), uploaded ``UPLOADS_AT_ONCE`` at a time. The statistics of the log's ``add``
    actions are those delta-rs records (row count, per-column minimum, maximum and null
    count of the non-nested columns, strings cut to ``STATS_BYTES``, timestamps to the
    millisecond), computed for every partition at once by one grouped aggregation
    (tests/integration/test_table_files.py compares them with delta-rs's own on the same
    rows). Uploads go through obstore: the Rust object_store delta-rs itself uses (the same
    endpoint, credential and retry handling), without the GIL; boto3's uploads of many small
    files are bound by Python (300 files: 1.05 s on eight threads, obstore 0.34 s)."""

    UPLOADS_AT_ONCE = 16
    ENCODERS = 2
    TEXT_ROWS = 2000  # rows whose texts are gathered at once (see ``write``)
    IN_FLIGHT = ENCODERS + UPLOADS_AT_ONCE

    def __init__(self, settings: Settings) -> None:
        from datetime import timedelta

        from obstore.store import S3Store

        self.location = uri(settings)
        self.bucket = settings.processed_bucket
        # the table's options but delta-rs's own (object_store rejects keys it does not know)
        config: Any = {k.lower(): v for k, v in storage_options(settings).items()
                       if k not in _DELTA_RS_ONLY}
        self.store = S3Store(self.bucket, config=config,
                             client_options={"connect_timeout": timedelta(seconds=5),
                                             "timeout": timedelta(seconds=60)},
                             retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=60),
                                           "backoff": {"init_backoff": timedelta(seconds=0.1),
                                                       "max_backoff": timedelta(seconds=15),
                                                       "base": 2}})

    def write(self, batches: Sequence[pa.Table]) -> list[Any]:
        """Upload the files of ``batches`` (tables made by :func:`arrange`, each in (dt,
        region, article_id) order): one file per partition, holding the partition's rows of
        every batch in that order, and return their ``AddAction``s. Raises OSError when a
        file cannot be stored (files stored before it stay unreferenced: the table is
        unchanged, and vacuum removes them)."""
        import io
        from concurrent.futures import Future, ThreadPoolExecutor

        from deltalake.transaction import AddAction

        began = time.monotonic()
        keep = [n for n in SCHEMA.names if n not in PARTITIONS]
        # the commit's rows in the table's order, each partition's rows then a slice of them
        # (instead of a concatenation and a sort of every column per partition: a few hundred
        # partitions cost about a millisecond each that way): every column but the text taken
        # at once, the texts (most of the bytes) for about TEXT_ROWS rows at a time as their
        # files are encoded, so that they are never copied whole
        rows = pa.concat_tables(batches)  # (chunks side by side: no copy)
        order: Any = None
        if len(batches) > 1:
            import pyarrow.compute as pc

            order = pc.sort_indices(rows.select([*PARTITIONS, "article_id"]),
                                    _ORDER).to_numpy().astype(np.int64)
            rest = rows.drop_columns(["text"]).take(order).combine_chunks()
        else:
            rest = rows.combine_chunks()
        runs = _runs(rest)
        slices = {part: (start, length) for part, start, length in runs}
        texts: dict[tuple[str, str], tuple[Any, int]] = {}  # a group's texts, where its start
        ends = np.cumsum([batch.num_rows for batch in batches], dtype=np.int64)
        now = int(time.time() * 1000)

        def gather(first: int, last: int) -> Any:
            """The texts of the rows ``first`` .. ``last`` - 1 of ``rest``, taken from each
            batch's own."""
            wanted = order[first:last]
            batch_of = np.searchsorted(ends, wanted, "right")
            by_batch = np.argsort(batch_of, kind="stable")
            pieces = []
            for n in np.unique(batch_of).tolist():
                own = wanted[batch_of == n] - (ends[n] - batches[n].num_rows)
                pieces.append(batches[n].column("text").take(own).combine_chunks())
            back = np.empty_like(by_batch)
            back[by_batch] = np.arange(by_batch.size)
            return pa.concat_arrays(pieces).take(back)

        def count() -> tuple[dict[tuple[str, str], str], float]:
            started = time.monotonic()
            return file_stats(rows), time.monotonic() - started

        def encode(part: tuple[str, str]) -> tuple[str, Any, float]:
            dt, region = part
            start, length = slices[part]
            started = time.monotonic()
            data = rest.slice(start, length)
            if order is not None:
                group, at = texts.pop(part)
                data = data.add_column(keep.index("text"), SCHEMA.field("text"),
                                       group.slice(at, length))
            data = data.select(keep)
            key = (f"dt={_escape(dt)}/region={_escape(region)}/"
                   f"part-00000-{uuid.uuid4()}-c000.snappy.parquet")
            sink = io.BytesIO()
            _write_parquet(data, sink)
            return key, sink.getbuffer(), time.monotonic() - started

        def upload(key: str, body: Any) -> float:
            started = time.monotonic()
            self._put(f"articles/{key}", body)
            return time.monotonic() - started

        def encode_and_upload(part: tuple[str, str]) -> tuple[tuple[str, str], str, int, float,
                                                               Future[float]]:
            """Encode a file here (an encoder thread) and hand it to the uploads; its room in
            the window is given back when its upload has ended (stored or failed)."""
            try:
                key, body, took = encode(part)
                uploading = uploads.submit(upload, key, body)
            except BaseException:
                room.release()
                raise
            uploading.add_done_callback(lambda _: room.release())
            return part, key, len(body), took, uploading

        # the statistics (one grouped aggregation of every row) are counted beside the files;
        # files are encoded ENCODERS at a time (each holds its rows' pages until it is
        # closed) and uploaded many at a time (compressed bytes, waiting on the network), with
        # at most IN_FLIGHT files between the start of their encoding and the end of their
        # upload (without a bound, encoded files waited for their uploads in memory)
        room = threading.Semaphore(self.IN_FLIGHT)
        with ThreadPoolExecutor(1, thread_name_prefix="table-stats") as counter, \
                ThreadPoolExecutor(self.ENCODERS, thread_name_prefix="table-encode") as encoders, \
                ThreadPoolExecutor(self.UPLOADS_AT_ONCE,
                                   thread_name_prefix="table-upload") as uploads:
            counting = counter.submit(count)
            started = []
            for n, (part, start, _) in enumerate(runs):  # (in the table's order)
                if order is not None and part not in texts:  # the texts of the next group
                    last = n
                    while last < len(runs) and runs[last][1] - start < self.TEXT_ROWS:
                        last += 1
                    end = runs[last - 1][1] + runs[last - 1][2]
                    group = gather(start, end)
                    texts.update({p: (group, at - start) for p, at, _ in runs[n:last]})
                room.acquire()
                started.append(encoders.submit(encode_and_upload, part))
            files = [future.result() for future in started]
            encoding = sum(took for *_, took, _ in files)
            uploaded = sum(future.result() for *_, future in files)
            stats, counted = counting.result()
        actions = [AddAction(key, size, {"dt": part[0], "region": part[1]}, now, True,
                             stats[part]) for part, key, size, _, _ in files]
        log.info("%s: %d files of %d rows, %.1f MiB in %.2f s (statistics %.2f s; encoding %.2f "
                 "and uploads %.2f s, summed over their threads)", self.location, len(actions),
                 sum(rows.num_rows for rows in batches),
                 sum(a.size for a in actions) / 2**20, time.monotonic() - began,
                 counted, encoding, uploaded)
        return actions

    def _put(self, key: str, body: Any) -> None:
        import obstore
        from obstore.exceptions import BaseError

        try:
            obstore.put(self.store, key, body)
        except (BaseError, OSError) as exc:
            said = str(exc).split("\n\nDebug source", 1)[0].strip()  # (Rust's debug dump)
            raise OSError(f"cannot store s3://{self.bucket}/{key}: {said}") from None


def _escape(value: str) -> str:
    """A partition value in a file's path, as delta-rs writes it (percent-encoded but for
    letters, digits and ``-_.~``)."""
    from urllib.parse import quote

    return quote(value, safe="")


def _write_parquet(rows: pa.Table, sink: Any) -> None:
    import pyarrow.parquet as pq

    pq.write_table(rows, sink, compression="snappy", use_dictionary=False,
                   write_statistics=[n for n in rows.column_names if n != "text"])


def _runs(data: pa.Table) -> list[tuple[tuple[str, str], int, int]]:
    """The (dt, region) partitions of ``data`` (ordered by them), each with the first row and
    the number of its rows."""
    import pyarrow.compute as pc

    keys = pc.binary_join_element_wise(data.column("dt"), data.column("region"), "\x00")
    ends = pc.run_end_encode(keys.combine_chunks() if isinstance(keys, pa.ChunkedArray)
                             else keys)
    out, start = [], 0
    for end, key in zip(ends.run_ends.to_pylist(), ends.values.to_pylist(), strict=True):
        dt, region = key.split("\x00")
        out.append(((dt, region), start, end - start))
        start = end
    return out


def file_stats(data: pa.Table) -> dict[tuple[str, str], str]:
    """The ``stats`` JSON delta-rs records for each (dt, region) file of ``data``: numRecords,
    and minValues, maxValues and nullCount of every column that is neither nested nor a
    partition column (a column without a non-null, non-NaN value has no minimum or maximum)."""
    import pyarrow.compute as pc

    plain = [f for f in data.schema if f.name not in PARTITIONS and not pa.types.is_nested(f.type)]
    aggregations: list[Any] = [([], "count_all")]
    for f in plain:
        aggregations += [(f.name, "min_max"),
                         (f.name, "count", pc.CountOptions(mode="only_null"))]
    grouped = data.group_by(PARTITIONS, use_threads=False).aggregate(aggregations)
    out = {}
    for got in grouped.to_pylist():
        low, high, nulls = {}, {}, {}
        for f in plain:
            bounds = got[f"{f.name}_min_max"]
            nulls[f.name] = got[f"{f.name}_count"]
            if bounds["min"] is None or bounds["min"] != bounds["min"]:  # none, or NaN only
                continue
            low[f.name], high[f.name] = (_stat(f.type, bounds["min"], False),
                                         _stat(f.type, bounds["max"], True))
        out[(got["dt"], got["region"])] = json.dumps(
            {"numRecords": got["count_all"], "minValues": low, "maxValues": high,
             "nullCount": nulls}, ensure_ascii=False, separators=(",", ":"))
    return out


def _stat(kind: pa.DataType, value: Any, upper: bool) -> Any:
    if pa.types.is_timestamp(kind):
        fraction = f".{value.microsecond // 1000:03d}" if value.microsecond else ""
        return f"{value:%Y-%m-%dT%H:%M:%S}{fraction}Z"
    if pa.types.is_string(kind):
        return _truncate(value, upper)
    return value


def _truncate(value: str, upper: bool) -> str:
    """A string statistic cut to ``STATS_BYTES`` bytes at a character boundary; an upper
    bound then ends at its last character that can be raised to the next one of the same
    UTF-8 width (raised), and is kept whole when none can."""
    data = value.encode()
    if len(data) <= STATS_BYTES:
        return value
    cut = data[:STATS_BYTES].decode("utf-8", "ignore")
    if not upper:
        return cut
    for at in range(len(cut) - 1, -1, -1):
        code = ord(cut[at]) + 1
        if (code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
                and len(chr(code).encode()) == len(cut[at].encode())):
            return cut[:at] + chr(code)
    return value
