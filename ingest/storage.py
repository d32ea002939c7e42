"""Object storage on boto3: every read and write of the pipeline goes through here.

Works with AWS S3 and S3-compatible servers (SeaweedFS, MinIO, Garage, Ceph): give an endpoint
URL and path-style addressing is used. Errors are mapped onto ``ingest.errors``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from ingest.config import Settings
from ingest.errors import ObjectExists, StorageError, StorageUnavailable, WriteConflict

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
# storage calls at once for one caller's independent reads and writes: each waits on the
# network (a few ms on loopback, tens of ms on a cloud store), not on the CPU
CALLS_AT_ONCE = 8


def each(fn: Callable[[T], R], items: Iterable[T], at_once: int = CALLS_AT_ONCE) -> list[R]:
    """``fn`` over ``items`` on up to ``at_once`` threads (independent storage calls: one
    client serves them all); the results in the items' order. If a call raises, the first
    error is raised once the calls already started have ended."""
    todo = list(items)
    if len(todo) <= 1:
        return [fn(item) for item in todo]
    with ThreadPoolExecutor(min(at_once, len(todo)), thread_name_prefix="storage") as pool:
        return list(pool.map(fn, todo))

_MISSING = {"NoSuchKey", "404", "NotFound"}
_TRANSIENT = {"500", "502", "503", "504", "InternalError", "ServiceUnavailable", "SlowDown",
              "RequestTimeout"}


def make_s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint (path-style for non-AWS endpoints)."""
    config = Config(
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=64,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name=settings.s3_region,
        config=config,
    )


class ObjectStore:
    """One bucket of an S3-compatible store."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def __repr__(self) -> str:
        return f"ObjectStore(bucket={self.bucket!r})"

    def uri(self, key: str) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{key}"

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write ``data`` at ``key`` and return its ETag. ``if_none_match``: only if the key does not exist
        (``ObjectExists`` otherwise); ``if_match``: only if the object still has this ETag
        (``WriteConflict`` otherwise). A store without conditional writes (501) is written
        unconditionally, with a warning."""
        extra: dict[str, Any] = {}
        if if_none_match:
            extra["IfNoneMatch"] = "*"
        if if_match:
            extra["IfMatch"] = if_match
        try:
            resp = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra
            )
        except ClientError as exc:
            code = _code(exc)
            if code in {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}:
                if if_match:
                    raise WriteConflict(f"{self.uri(key)} changed since it was read") from None
                raise ObjectExists(f"{self.uri(key)} already exists") from None
            if extra and code in {"NotImplemented", "501"}:
                log.warning("%s: the store does not support conditional writes; writing %s "
                            "unconditionally", self.bucket, key)
                return self.put(key, data, content_type)
            raise self._mapped(exc, "write", key) from None
        except (BotoCoreError, ConnectionError) as exc:
            raise _unreachable(exc, f"cannot write {self.uri(key)}: {exc}") from None
        log.debug("wrote %s (%d bytes)", self.uri(key), len(data))
        return str(resp.get("ETag", ""))

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        """The object at ``key`` with its ETag (for a later ``put(if_match=...)``), or None."""
        resp = self._maybe("read", key, self.client.get_object)
        return None if resp is None else (bytes(resp["Body"].read()), str(resp.get("ETag", "")))

    def get(self, key: str) -> bytes:
        """Read the object at ``key``; ``KeyError`` if it does not exist."""
        got = self.get_versioned(key)
        if got is None:
            raise KeyError(key)
        return got[0]

    def get_json(self, key: str, default: Any = None) -> Any:
        """Read a JSON object, or ``default`` when the key does not exist."""
        try:
            return json.loads(self.get(key))
        except KeyError:
            return default

    def put_json(self, key: str, value: Any, if_none_match: bool = False,
                 if_match: str | None = None) -> bytes:
        """Write ``value`` as canonical JSON (sorted keys) and return the bytes written."""
        data = dumps(value)
        self.put(key, data, "application/json", if_none_match=if_none_match, if_match=if_match)
        return data

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""
        return self.version(key) is not None

    def version(self, key: str) -> str | None:
        """An opaque token that changes whenever ``key`` is written (ETag and modification
        time), or None when it does not exist."""
        head = self._head(key)
        return None if head is None else f"{head.get('ETag', '')}|{head.get('LastModified', '')}"

    def stat(self, key: str) -> tuple[str, int] | None:
        """(ETag, size in bytes) of ``key``, or None when it does not exist."""
        head = self._head(key)
        return None if head is None else (str(head.get("ETag", "")),
                                           int(head.get("ContentLength", 0)))

    def modified(self, key: str) -> datetime | None:
        """When ``key`` was last written (UTC), or None when it does not exist."""
        when = (self._head(key) or {}).get("LastModified")
        return when if isinstance(when, datetime) else None

    def _head(self, key: str) -> dict[str, Any] | None:
        return self._maybe("check", key, self.client.head_object)

    def _maybe(self, action: str, key: str, call: Any) -> dict[str, Any] | None:
        """``call(Bucket=..., Key=key)``, or None when the key does not exist."""
        try:
            return dict(call(Bucket=self.bucket, Key=key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._mapped(exc, action, key) from None
        except (BotoCoreError, ConnectionError) as exc:
            verb = "read" if action == "read" else "reach"
            raise _unreachable(exc, f"cannot {verb} {self.uri(key)}: {exc}") from None

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` in lexical order."""
        for key, _etag, _modified in self.list_info(prefix):
            yield key

    def list_info(self, prefix: str, start_after: str = ""
                  ) -> Iterator[tuple[str, str, datetime]]:
        """(key, ETag, last modified) of the objects under ``prefix`` in lexical order (only
        keys after ``start_after``, when given): one listing tells a reader which objects
        changed since it last read them. Pages are asked for as the caller reads on."""
        extra = {"StartAfter": start_after} if start_after else {}
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, **extra):
                for item in page.get("Contents", []):
                    yield item["Key"], str(item.get("ETag", "")), item["LastModified"]
        except ClientError as exc:
            raise self._mapped(exc, "list", prefix) from None
        except (BotoCoreError, ConnectionError) as exc:
            raise _unreachable(exc, f"cannot list {self.uri(prefix)}: {exc}") from None

    def delete(self, key: str) -> None:
        """Delete ``key`` (no error if it is missing)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            raise self._mapped(exc, "delete", key) from None
        except (BotoCoreError, ConnectionError) as exc:
            raise _unreachable(exc, f"cannot delete {self.uri(key)}: {exc}") from None

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _MISSING | {"NoSuchBucket"}:
                raise self._mapped(exc, "open bucket", "") from None
        except (BotoCoreError, ConnectionError, EndpointConnectionError) as exc:
            raise _unreachable(exc, f"cannot reach bucket {self.bucket}: {exc}") from None
        try:
            self.client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise self._mapped(exc, "create bucket", "") from None

    def _mapped(self, exc: ClientError, action: str, key: str) -> Exception:
        code = _code(exc)
        msg = f"cannot {action} {self.uri(key)}: {code} {exc.response.get('Error', {}).get('Message', '')}"
        if code in _TRANSIENT:
            return StorageUnavailable(msg.strip())
        return StorageError(msg.strip())


def dumps(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8; the same value gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def _unreachable(exc: Exception, message: str) -> Exception:
    """A boto error that is not an answer from the store: missing credentials (say where to
    set them; retrying will not help) or a connection problem (transient)."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StorageError(
            "no S3 credentials: set NEWS_INGEST_S3_ACCESS_KEY and NEWS_INGEST_S3_SECRET_KEY, or "
            "the Airflow connection news_s3 (login = access key, password = secret key, extra "
            f'{{"endpoint_url": ...}}), or AWS\'s own variables or profile ({exc})')
    return StorageUnavailable(message)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Stores:
    """The raw and processed buckets, built from settings or given explicitly."""

    def __init__(self, raw: ObjectStore, processed: ObjectStore) -> None:
        self.raw = raw
        self.processed = processed

    @classmethod
    def from_settings(cls, settings: Settings, client: Any = None) -> Stores:
        """Stores on one client for both buckets."""
        client = client or make_s3_client(settings)
        return cls(ObjectStore(client, settings.raw_bucket),
                   ObjectStore(client, settings.processed_bucket))

    def ensure_buckets(self) -> None:
        """Create both buckets if needed."""
        self.raw.ensure_bucket()
        self.processed.ensure_bucket()
