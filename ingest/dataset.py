"""Object keys of the processed bucket's run records (the articles are in ``ingest.table``).

    runs/dt=YYYY-MM-DD/<batch>.json          (run manifest, written after the table commit)
    staging/<stage>/<capture>-<version>/<shard>-of-<shards>.parquet
                                             (extracted pages between the two processing
                                             stages, see ``ingest.stage``; removed once
                                             committed)
"""

from __future__ import annotations

import hashlib

STAGING_PREFIX = "staging/"


def manifest_key(day: str, batch: str) -> str:
    """Object key of a batch's run manifest."""
    return f"runs/dt={day}/{batch}.json"


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
