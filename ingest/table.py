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
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
                       first_time: bool = False) -> tuple[int | None, set[str]]:
        """Commit several batches (rows made by :func:`arrange`, their captures, batch id) in
        one transaction that records each batch's id, leaving out those committed before;
        each batch's rows replace its captures' rows (appended when ``first_time``, see
        :meth:`commit_locked`). Returns the new table version and the batches it committed
        (None and none when every batch was committed before: a re-run)."""
        from deltalake import CommitProperties, Transaction, write_deltalake

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
        data = todo[0][0] if len(todo) == 1 else pa.concat_tables([r for r, _, _ in todo]).sort_by(
            _ORDER)
        props = CommitProperties(app_transactions=[Transaction(_app_id(b), 1) for b in ids],
                                 custom_metadata={"news_ingest_batch": " ".join(ids),
                                                  "news_ingest_captures": str(len(captures))})
        quoted = ", ".join("'" + c.replace("'", "''") + "'" for c in captures)
        label = ids[0] if len(ids) == 1 else f"{ids[0]} and {len(ids) - 1} more batches"
        try:
            if table is None:
                write_deltalake(uri(settings), data, mode="append", partition_by=PARTITIONS,
                                storage_options=storage_options(settings),
                                commit_properties=props)
            elif first_time:
                write_deltalake(table, data, mode="append", partition_by=PARTITIONS,
                                commit_properties=props)
            else:
                write_deltalake(table, data, mode="overwrite", predicate=f"capture IN ({quoted})",
                                partition_by=PARTITIONS, commit_properties=props)
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
