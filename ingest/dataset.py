"""The processed dataset: article schema (versioned data contract) and Parquet partitions.

Layout in the processed bucket::

    articles/dt=YYYY-MM-DD/region=<primary_region|none>/part-<batch>.parquet
    runs/dt=YYYY-MM-DD/<batch>.json          (run manifest, written last)

``dt`` is the UTC publication date (the fetch date when the page gives none). Columns are listed
in ``SCHEMA``; ``schema_version`` changes when a column changes meaning or type.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA_VERSION = 1

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
    ("extractor", pa.string()),
    ("config_hash", pa.string()),
    ("schema_version", pa.int32()),
])

NO_REGION = "none"


def partition_key(day: str, region: str | None, batch: str) -> str:
    """Object key of one Parquet part."""
    return f"articles/dt={day}/region={region or NO_REGION}/part-{batch}.parquet"


def manifest_key(day: str, batch: str) -> str:
    """Object key of a batch's run manifest."""
    return f"runs/dt={day}/{batch}.json"


def to_parquet(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Serialise rows (dicts with the schema's columns) to Parquet bytes, deterministically."""
    table = pa.Table.from_pylist(list(rows), schema=SCHEMA)
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", write_statistics=True)
    return out.getvalue()


def read_parquet(data: bytes) -> pa.Table:
    """Read Parquet bytes back into a table."""
    return pq.read_table(io.BytesIO(data))


def partitions(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """Group rows by (dt, region) in a stable order (by article id within a part)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        moment = row["published_at"] or row["fetched_at"]
        groups[(f"{moment:%Y-%m-%d}", row["primary_region"] or NO_REGION)].append(row)
    return {k: sorted(v, key=lambda r: r["article_id"]) for k, v in sorted(groups.items())}
