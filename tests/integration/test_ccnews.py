"""CC-NEWS as a historical source: a local S3 bucket laid out like Common Crawl's, holding small
CC-NEWS-style WARC files (one truncated), read through boto3 without fetching any site."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ingest import ccnews
from ingest.archive import read_warc
from ingest.config import Settings, parse_catalog
from ingest.history import backfill_group
from ingest.models import DataInterval
from ingest.poll import capture_key
from ingest.process import process_captures
from ingest.storage import Stores, make_s3_client
from tests.support.history import story

pytestmark = pytest.mark.integration

DAY = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))
PREFIX = "crawl-data/CC-NEWS/"


def warc(records: list[tuple[str, str, int, str, bytes]]) -> bytes:
    """(url, WARC-Date, status, content type, body) -> a CC-NEWS-style WARC.gz."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for url, when, status, ctype, body in records:
        http = StatusAndHeaders(f"{status} OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Date": when}))
        request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")], is_http_request=True)
        writer.write_record(writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""), http_headers=request,
            warc_headers_dict={"WARC-Date": when}))
    return out.getvalue()


def page(n: int) -> bytes:
    return story(datetime(2014, 3, 31).date(), n, salt=99)


@pytest.fixture
def archive(settings: Settings, stores: Stores) -> Settings:
    client = make_s3_client(settings)
    bucket = f"{settings.raw_bucket}-ccnews"
    client.create_bucket(Bucket=bucket)
    files = {
        # started the evening before: its last records are inside the interval
        "2014/03/CC-NEWS-20140330220000-00001.warc.gz": warc([
            ("https://www.alpha.example/old.html", "2014-03-30T23:00:00Z", 200, "text/html", page(0)),
            ("https://www.alpha.example/a1.html", "2014-03-31T00:10:00Z", 200, "text/html", page(1)),
            ("https://news.beta.example/b1.html", "2014-03-31T00:20:00Z", 200, "text/html", page(2)),
            ("https://gamma.example/other.html", "2014-03-31T00:30:00Z", 200, "text/html", page(3)),
        ]),
        "2014/03/CC-NEWS-20140331120000-00002.warc.gz": warc([
            ("https://alpha.example/a2.html", "2014-03-31T12:10:00Z", 200, "text/html; charset=utf-8", page(4)),
            ("https://alpha.example/gone.html", "2014-03-31T12:11:00Z", 404, "text/html", b"gone"),
            ("https://alpha.example/pic.jpg", "2014-03-31T12:12:00Z", 200, "image/jpeg", b"\xff\xd8"),
        ]),
        # not started before the interval ended: never read
        "2014/04/CC-NEWS-20140401000000-00003.warc.gz": b"not even a warc",
        "2014/03/warc.paths.gz": gzip.compress(b"listing"),
    }
    cut = warc([("https://beta.example/b3.html", "2014-03-31T18:01:00Z", 200, "text/html",
                 page(6))])
    files["2014/03/CC-NEWS-20140331180000-00004.warc.gz"] = warc([
        ("https://beta.example/b2.html", "2014-03-31T18:00:00Z", 200, "text/html", page(5)),
    ]) + cut[: len(cut) // 3]  # the download stopped inside the next record
    for name, body in files.items():
        client.put_object(Bucket=bucket, Key=PREFIX + name, Body=body)
    return settings.model_copy(update={"ccnews_endpoint_url": settings.s3_endpoint_url,
                                       "ccnews_bucket": bucket, "ccnews_anonymous": False})


def test_file_selection(archive: Settings) -> None:
    client = ccnews.make_client(archive)
    assert [k.rsplit("/", 1)[1] for k in ccnews.files_for(client, archive.ccnews_bucket,
                                                           PREFIX, DAY)] == [
        "CC-NEWS-20140330220000-00001.warc.gz", "CC-NEWS-20140331120000-00002.warc.gz",
        "CC-NEWS-20140331180000-00004.warc.gz"]


def test_a_group_backfills_from_cc_news_without_fetching(archive: Settings, stores: Stores) -> None:
    catalog = parse_catalog({"version": 1, "defaults": {"group": "g", "history": ["captures", "ccnews"]},
                             "feeds": [
        {"id": "alpha", "url": "https://feeds.alpha.example/rss", "publisher": "Alpha",
         "domains": ["alpha.example"]},
        {"id": "beta", "url": "https://news.beta.example/rss.xml", "publisher": "Beta",
         "domains": ["beta.example"]},
    ]})
    result = backfill_group(archive, stores, catalog, "g", DAY)
    key = capture_key("g", DAY)
    got = sorted(r.url for r in read_warc(stores.raw.get(key), key) if r.kind == "page")
    assert got == ["https://alpha.example/a2.html", "https://beta.example/b2.html",
                   "https://news.beta.example/b1.html", "https://www.alpha.example/a1.html"]
    alpha, beta = result.outcomes
    assert alpha.sources == {"captures": 0, "ccnews": 2} and alpha.pages_ok == 2
    assert beta.sources == {"captures": 0, "ccnews": 2}
    assert any("truncated or damaged" in p["error"] for p in beta.problems)
    records = [r for r in read_warc(stores.raw.get(key), key) if r.kind == "page"]
    assert {r.meta["source"] for r in records} == {"ccnews"}
    assert min(r.fetched_at for r in records) == datetime(2014, 3, 31, 0, 10, tzinfo=UTC)

    again = backfill_group(archive, stores, catalog, "g", DAY)
    assert again.outcomes[0].pages_ok == 0 and again.outcomes[0].pages_skipped == 2
    processed = process_captures(archive, stores, [key], catalog=catalog)
    assert processed.counts["articles"] == 4


def test_an_unreachable_archive_is_reported_per_feed(archive: Settings, stores: Stores) -> None:
    catalog = parse_catalog({"version": 1, "feeds": [
        {"id": "alpha", "url": "https://alpha.example/rss", "publisher": "Alpha",
         "group": "g", "history": ["ccnews"]}]})
    broken = archive.model_copy(update={"ccnews_bucket": "no-such-bucket-here"})
    result = backfill_group(broken, stores, catalog, "g", DAY)
    assert result.outcomes[0].status == "error"
    assert "no-such-bucket" in result.outcomes[0].error or "NoSuchBucket" in result.outcomes[0].error
