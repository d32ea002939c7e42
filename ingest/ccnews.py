"""Common Crawl's CC-NEWS archive as a historical source (news since August 2016).

CC-NEWS publishes WARC files in a public S3 bucket as
``s3://commoncrawl/crawl-data/CC-NEWS/YYYY/MM/CC-NEWS-<yyyymmddHHMMSS>-<serial>.warc.gz``, each
named by the time its crawl started and holding about 1 GB of news pages from every site it
crawled. For an interval, the files that can hold it are the ones started inside it and the last
one started before it. Each is streamed through boto3 (``get_object`` body read in blocks by
warcio, one gzip member at a time), so memory stays flat whatever the file's size; response
records whose ``WARC-Date`` is inside the interval and whose host belongs to one of the group's
feeds (their ``domains`` in the catalog, else the feed URL's host) become that feed's pages,
exactly as archived (nothing is fetched from the sites).

The endpoint, bucket and prefix are settings (``CCNEWS_ENDPOINT_URL``, ``CCNEWS_BUCKET``,
``CCNEWS_PREFIX``; anonymous access by default, as Common Crawl's bucket allows), so a mirror or
a local copy works the same way. A truncated or damaged WARC keeps the records read before the
damage and is reported; a file that cannot be read at all is reported and the others are read.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ingest.archive import Exchange
from ingest.config import FeedSpec, Settings
from ingest.models import DataInterval, Response, parse_digits, parse_iso

log = logging.getLogger(__name__)

_NAME = re.compile(r"CC-NEWS-(\d{14})-\d+\.warc\.gz$")
_HTML = ("text/html", "application/xhtml+xml")


@dataclass
class CCNewsScan:
    """What a scan of the interval's CC-NEWS files found, per feed."""

    pages: dict[str, list[Exchange]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    records: int = 0


def make_client(settings: Settings) -> Any:
    """A boto3 client for the CC-NEWS bucket (unsigned unless ``ccnews_anonymous`` is off)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(signature_version=UNSIGNED if settings.ccnews_anonymous else None,
                    s3={"addressing_style": "path" if settings.ccnews_endpoint_url else "auto"},
                    retries={"max_attempts": 3, "mode": "standard"}, read_timeout=120)
    kwargs: dict[str, Any] = {"endpoint_url": settings.ccnews_endpoint_url,
                              "region_name": "us-east-1", "config": config}
    if not settings.ccnews_anonymous:
        kwargs.update(aws_access_key_id=settings.s3_access_key,
                      aws_secret_access_key=settings.s3_secret_key)
    return boto3.session.Session().client("s3", **kwargs)


def started_at(key: str) -> datetime | None:
    """The crawl start time in a CC-NEWS file name."""
    m = _NAME.search(key)
    return parse_digits(m.group(1)) if m else None


def files_for(client: Any, bucket: str, prefix: str, interval: DataInterval) -> list[str]:
    """The CC-NEWS files that can hold records of the interval, oldest first."""
    months = []
    month = (interval.start - timedelta(days=1)).replace(day=1)  # the file before may be last month's
    while month < interval.end:
        months.append(f"{prefix}{month:%Y/%m}/")
        month = (month + timedelta(days=32)).replace(day=1)
    found: list[tuple[datetime, str]] = []
    paginator = client.get_paginator("list_objects_v2")
    for month_prefix in months:
        for page in paginator.paginate(Bucket=bucket, Prefix=month_prefix):
            for item in page.get("Contents", []):
                when = started_at(item["Key"])
                if when is not None and when < interval.end:
                    found.append((when, item["Key"]))
    found.sort()
    before = [k for w, k in found if w < interval.start][-1:]
    return before + [k for w, k in found if w >= interval.start]


def domains_of(feeds: Iterable[FeedSpec]) -> dict[str, str]:
    """Host suffix -> feed id (the catalog's ``domains``, else the feed URL's host)."""
    out: dict[str, str] = {}
    for feed in feeds:
        hosts = feed.domains or (urlsplit(feed.url).hostname or "",)
        for host in hosts:
            host = host.lower().removeprefix("www.")
            if host:
                out.setdefault(host, feed.id)
    return out


def _feed_of(host: str, domains: dict[str, str]) -> str | None:
    host = host.lower().removeprefix("www.")
    while host:
        if host in domains:
            return domains[host]
        _, _, host = host.partition(".")
    return None


def scan(client: Any, bucket: str, keys: list[str], interval: DataInterval,
         feeds: list[FeedSpec], max_per_feed: int, max_body: int) -> CCNewsScan:
    """Stream the files and keep the group's pages from inside the interval."""
    result = CCNewsScan()
    domains = domains_of(feeds)
    seen: set[str] = set()
    for key in keys:
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            result.problems.append({"warc": key, "error": f"cannot read s3://{bucket}/{key}: {exc}"})
            continue
        read = 0
        last: tuple[list[Exchange], int] | None = None  # where the latest record's page went
        try:
            for record in ArchiveIterator(body):
                read += 1
                last = None
                page = _page(record, interval, domains, max_body, key)
                if page is not None:
                    feed_id, exchange = page
                    pages = result.pages.setdefault(feed_id, [])
                    if exchange.response.url not in seen and len(pages) < max_per_feed:
                        seen.add(exchange.response.url)
                        pages.append(exchange)
                        last = (pages, len(pages) - 1)
                _drain(record)
        except (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError) as exc:
            if last is not None:  # the record being read when the data ran out is incomplete
                pages, at = last
                seen.discard(pages.pop(at).response.url)
                read -= 1
            result.problems.append({"warc": key, "error": f"s3://{bucket}/{key} is truncated or "
                                    f"damaged after {read} records ({type(exc).__name__}: {exc}); "
                                    "the records before it were kept"})
            log.warning("CC-NEWS %s: damaged after %d records: %s", key, read, exc)
        finally:
            body.close()
        result.files.append(key)
        result.records += read
    for pages in result.pages.values():
        pages.sort(key=lambda e: (e.response.fetched_at, e.response.url))
    return result


def _drain(record: Any) -> None:
    """Read the rest of a record in blocks; EOFError when the data ends before its length."""
    stream = record.raw_stream
    while stream.read(1 << 16):
        pass
    if getattr(stream, "limit", 0) > 0:
        raise EOFError(f"the data ends {stream.limit} bytes before the end of a record")


def _page(record: Any, interval: DataInterval, domains: dict[str, str], max_body: int,
          key: str) -> tuple[str, Exchange] | None:
    if record.rec_type != "response" or record.http_headers is None:
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    when = parse_iso(record.rec_headers.get_header("WARC-Date"))
    if when is None or not interval.start <= when < interval.end:
        return None
    feed_id = _feed_of(urlsplit(uri).hostname or "", domains)
    if feed_id is None or record.http_headers.get_statuscode() != "200":
        return None
    ctype = (record.http_headers.get_header("Content-Type") or "").lower()
    if ctype and not any(t in ctype for t in _HTML):
        return None
    body = record.content_stream().read(max_body + 1)
    if len(body) > max_body:
        return None
    headers = tuple((k, v) for k, v in record.http_headers.headers
                    if k.lower() not in {"content-length", "transfer-encoding", "content-encoding"})
    response = Response(url=uri, final_url=uri, status=200, headers=headers, body=body,
                        fetched_at=when)
    return feed_id, Exchange(response, "page", {
        "feed_id": feed_id, "entry_id": uri, "entry_title": "", "entry_published_at": None,
        "source": "ccnews", "ccnews_warc": key})
