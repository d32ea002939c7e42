"""Object keys of the processed bucket's run records (the articles are in ``ingest.table``),
and the Parquet-with-a-JSON-header form the staging and site line history objects share.

    runs/dt=YYYY-MM-DD/<batch>.json          (run manifest, written after the table commit)
    staging/<stage>/<capture>-<version>/<shard>-of-<shards>.parquet
                                             (extracted pages between the two processing
                                             stages, see ``ingest.stage``; removed once
                                             committed)
    state/sitelines/<lines id>/dt=YYYY-MM-DD/group=<group>/<interval>/<version>/<shard>-of-<shards>.parquet
                                             (each feed group's site line history after one
                                             shard of a capture, see ``ingest.sitestate``)
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

STAGING_PREFIX = "staging/"
MANIFESTS = "runs/"  # the run manifests, under dt=<day>/


def manifest_key(day: str, batch: str) -> str:
    """Object key of a batch's run manifest."""
    return f"{MANIFESTS}dt={day}/{batch}.json"


def staging_key(stage: str, capture: str, version: str, shard: int, shards: int) -> str:
    """Object key of one extracted shard of a capture (``version``: the capture's ETag)."""
    name = hashlib.sha256(capture.encode("utf-8")).hexdigest()[:16]
    ver = hashlib.sha256(version.encode("utf-8")).hexdigest()[:12] if version else "missing"
    return f"{STAGING_PREFIX}{stage}/{name}-{ver}/{shard:04d}-of-{shards:04d}.parquet"


def staging_prefix(stage: str, capture: str, version: str | None = None) -> str:
    """The prefix holding every shard of one version of a capture; without ``version``, the
    prefix of all its versions."""
    if version is None:
        name = hashlib.sha256(capture.encode("utf-8")).hexdigest()[:16]
        return f"{STAGING_PREFIX}{stage}/{name}-"
    return staging_key(stage, capture, version, 0, 1).rsplit("/", 1)[0] + "/"


SITELINES_PREFIX = "state/sitelines/"
_CHAIN = re.compile(r"^captures/dt=(\d{4}-\d{2}-\d{2})/(group=[^/]+)/([^/]+)\.warc\.gz$")


def capture_chain(capture: str) -> tuple[str, str, str] | None:
    """A poll capture's day, feed group (``group=<id>``) and interval label; None for a key
    of another shape (its sites have no history between captures)."""
    m = _CHAIN.match(capture)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def capture_of_chain(day: str, chain: str, label: str) -> str:
    """Inverse of :func:`capture_chain`."""
    return f"captures/dt={day}/{chain}/{label}.warc.gz"


def sitelines_prefix(lines: str, day: str, chain: str) -> str:
    """The prefix of one feed group's site line histories of one day."""
    return f"{SITELINES_PREFIX}{lines}/dt={day}/{chain}/"


def sitelines_key(lines: str, capture: str, version: str, shard: int, shards: int) -> str:
    """Object key of the site line history after one shard of a poll capture (``version``:
    the capture's ETag)."""
    found = capture_chain(capture)
    if found is None:
        raise ValueError(f"{capture} is not a poll capture key")
    day, chain, label = found
    ver = hashlib.sha256(version.encode("utf-8")).hexdigest()[:12]
    return f"{sitelines_prefix(lines, day, chain)}{label}/{ver}/{shard:04d}-of-{shards:04d}.parquet"


def headed_parquet(data: pa.Table, meta_key: bytes, header: dict[str, Any]) -> bytes:
    """``data`` as a zstd Parquet object with a JSON ``header`` in its metadata."""
    out = io.BytesIO()
    pq.write_table(data.replace_schema_metadata({meta_key: json.dumps(header, sort_keys=True)}),
                   out, compression="zstd")
    return out.getvalue()


def read_headed_parquet(blob: bytes, meta_key: bytes, schema: pa.Schema, version_field: str,
                        version: int, what: str) -> tuple[pa.Table, dict[str, Any]]:
    """The table and header of an object written by :func:`headed_parquet`; ``ValueError``
    (naming ``what``) if it is not one, or of another version or schema."""
    try:
        data = pq.read_table(io.BytesIO(blob))
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"not a {what}: {exc}") from None
    header = json.loads((data.schema.metadata or {}).get(meta_key, b"{}"))
    if header.get(version_field) != version or not data.schema.equals(
            schema, check_metadata=False):
        raise ValueError(f"{what} of another version: {header.get(version_field)}")
    return data, header
