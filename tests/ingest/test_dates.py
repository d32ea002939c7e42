"""Publication times keep their time and zone; the most precise source wins."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.dates import DAY, EXACT, LOCAL, Stamp, choose, parse_stamp
from ingest.extract import extract
from ingest.feeds import parse_feed

SITE = Path(__file__).resolve().parents[2] / "ingest" / "sample" / "site" / "globaltimes"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("value", "when", "precision"), [
    ("2014-03-31T01:28:01+08:00", utc(2014, 3, 30, 17, 28, 1), EXACT),
    ("2014-03-31T01:28:01.123+0800", utc(2014, 3, 30, 17, 28, 1), EXACT),
    ("2014-03-30T17:28:01Z", utc(2014, 3, 30, 17, 28, 1), EXACT),
    ("2014-03-30 12:00:00-05:00", utc(2014, 3, 30, 17, 0), EXACT),
    ("Sun, 30 Mar 2014 17:28:01 +0000", utc(2014, 3, 30, 17, 28, 1), EXACT),
    ("2014-03-31T01:28", utc(2014, 3, 31, 1, 28), LOCAL),
    ("2014-03-31", utc(2014, 3, 31), DAY),
])
def test_values_keep_their_time_and_zone(value: str, when: datetime, precision: str) -> None:
    assert parse_stamp(value) == Stamp(when, precision)


@pytest.mark.parametrize("value", ["", "yesterday", "2014-13-45", "1970-01-01", "2999-01-01"])
def test_what_is_not_a_plausible_date_is_none(value: str) -> None:
    assert parse_stamp(value) is None


def test_the_most_precise_source_wins() -> None:
    entry = utc(2014, 3, 30, 17, 28, 1)
    exact = Stamp(utc(2014, 3, 30, 17, 28, 1), EXACT)
    assert choose(exact, utc(2014, 3, 30, 20)) == exact.when  # the page's instant
    assert choose(Stamp(utc(2014, 3, 31), DAY), entry) == entry  # local day, a day from UTC
    assert choose(Stamp(utc(2014, 4, 20), DAY), entry) == utc(2014, 4, 20)  # far apart: page
    assert choose(Stamp(utc(2014, 3, 31, 1, 28, 1), LOCAL), entry) == entry  # UTC+8 wall clock
    assert choose(Stamp(utc(2014, 3, 31, 1, 13, 7), LOCAL), entry) == utc(2014, 3, 31, 1, 13, 7)
    assert choose(None, entry) == entry and choose(None, None) is None


def test_the_seed_article_is_published_on_the_30th_utc() -> None:
    """The Global Times page says 2014-03-31T01:28:01+08:00, its feed Sun, 30 Mar 2014
    17:28:01 +0000: the same instant, on 2014-03-30 in UTC."""
    url = "http://sample.test/globaltimes/content/2014/03/31/japan-nk-talks.html"
    page = (SITE / "content/2014/03/31/japan-nk-talks.html").read_bytes()
    doc = extract(page.replace(b"{{BASE}}", b"http://sample.test"), url)
    assert (doc.published_at, doc.published_precision) == (utc(2014, 3, 30, 17, 28, 1), EXACT)
    feed = (SITE / "rss/asia-pacific.xml").read_bytes().replace(b"{{BASE}}", b"http://sample.test")
    entry = next(e for e in parse_feed(feed, "http://sample.test/rss", "gt").entries
                 if e.url == url)
    when = choose(Stamp(doc.published_at, doc.published_precision), entry.published_at)
    assert when == utc(2014, 3, 30, 17, 28, 1) and f"{when:%Y-%m-%d}" == "2014-03-30"


def test_json_ld_and_microdata_times_are_read() -> None:
    body = ("<p>" + "Officials in Lima said the new line would open in May. " * 12 + "</p>")
    ld = ('<script type="application/ld+json">{"@context":"https://schema.org","@graph":'
          '[{"@type":"NewsArticle","datePublished":"2020-05-04T09:30:00-05:00"}]}</script>')
    doc = extract(f"<html><head><title>Metro</title>{ld}</head><body><article>{body}"
                  "</article></body></html>", "http://x.test/a")
    assert doc.published_at == utc(2020, 5, 4, 14, 30) and doc.published_precision == EXACT
    micro = (f"<html><head><title>Metro</title></head><body><article><time itemprop="
             f"'datePublished' datetime='2020-05-04T16:30+02:00'>4 May</time>{body}</article>"
             "</body></html>")
    assert extract(micro, "http://x.test/b").published_at == utc(2020, 5, 4, 14, 30)


@pytest.mark.parametrize("markup", [
    # microdata on a span (only the full query finds it), JSON-LD naming the same property
    "<span itemprop='datePublished' content='2020-05-04T09:30:00-05:00'></span>",
    "<span ItemProp = \"datePublished\" content='2020-05-04T09:30:00-05:00'></span>",
    '<script type="application/ld+json">{"datePublished":"2020-05-04T09:30:00-05:00"}</script>',
    "<meta property='article:published_time' content='2020-05-04T09:30:00-05:00'>",
    "<time pubdate datetime='2020-05-04T09:30:00-05:00'>4 May</time>",
    "<meta name='date' content='2020-05-04'><meta itemprop='datePublished' content='2020-05-04T"
    "09:30:00-05:00'>",
])
def test_the_source_shortcut_finds_what_the_query_finds(markup: str) -> None:
    """Given the page's bytes, the stamp is looked for by tag where the source has no
    microdata date; every kind of stamp is still found, the same as without the bytes."""
    from trafilatura.utils import load_html

    from ingest.dates import page_stamp

    source = f"<html><head><title>t</title></head><body>{markup}<p>Text.</p></body></html>"
    tree = load_html(source)
    stamp = page_stamp(tree, source.encode())
    assert stamp is not None and stamp == page_stamp(tree)
    assert stamp.when.date() == datetime(2020, 5, 4).date()


def test_the_source_shortcut_gives_the_querys_stamps_on_the_benchmark_pages() -> None:
    from trafilatura.utils import load_html

    from ingest.dates import _candidates
    from tests.conftest import shared_path

    pages = sorted(shared_path("benchdata", "extraction-readability", "html").glob("*.html.gz"))
    assert len(pages) > 90
    for path in pages:
        source = gzip.decompress(path.read_bytes())
        tree = load_html(source)
        assert list(_candidates(tree, source)) == list(_candidates(tree)), path.name
