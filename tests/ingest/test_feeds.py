"""Feed parsing from bytes: every format, malformed and mislabelled input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.config import PACKAGE_DIR
from ingest.errors import FeedParseError
from ingest.feeds import parse_fast, parse_feed, parse_with_feedparser
from tests.conftest import FIXTURES

SITE = PACKAGE_DIR / "sample" / "site"
BASE = "http://news.test"


def sample(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"{{BASE}}", BASE.encode())


@pytest.mark.parametrize(
    ("path", "fmt", "count"),
    [
        ("globaltimes/rss/asia-pacific.xml", "rss20", 2),
        ("eurodesk/atom.xml", "atom10", 2),
        ("mideast/rdf.xml", "rss10", 2),
        ("americas/feed.json", "json1.1", 2),
    ],
)
def test_every_format_gives_entries_with_absolute_links(path: str, fmt: str, count: int) -> None:
    parsed = parse_feed(sample(path), f"{BASE}/{path}", "f")
    assert parsed.format == fmt
    assert len(parsed.entries) == count
    assert all(e.url.startswith(BASE + "/") for e in parsed.entries)
    assert all(e.title for e in parsed.entries)
    assert all(e.published_at is not None and e.published_at.tzinfo for e in parsed.entries)


def test_rss_dates_are_converted_to_utc() -> None:
    parsed = parse_feed(sample("globaltimes/rss/asia-pacific.xml"), BASE, "gt")
    assert parsed.entries[0].published_at == datetime(2014, 3, 30, 17, 28, 1, tzinfo=UTC)
    assert parsed.entries[0].feed_id == "gt"


def test_malformed_xml_still_yields_what_is_readable_and_reports_it() -> None:
    parsed = parse_feed((FIXTURES / "feeds" / "malformed.xml").read_bytes(), BASE, "f")
    assert parsed.warning  # the parser's complaint is kept for the report
    assert [e.url for e in parsed.entries][:1] == ["https://news.example/a"]


def test_wrong_charset_declared_utf8_but_latin1_bytes() -> None:
    parsed = parse_feed((FIXTURES / "feeds" / "wrong_charset.xml").read_bytes(), BASE, "f")
    assert len(parsed.entries) == 1
    assert "prices rise" in parsed.entries[0].title
    assert parsed.entries[0].url == "https://news.example/cafe"


def test_relative_links_resolve_against_the_feed_url_and_linkless_items_are_dropped() -> None:
    parsed = parse_feed((FIXTURES / "feeds" / "relative.xml").read_bytes(),
                        "https://news.example/feeds/world.xml", "f")
    assert [e.url for e in parsed.entries] == ["https://news.example/world/story-1.html"]
    assert parsed.entries[0].entry_id == "id-1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<html><body><p>Just a page</p></body></html>", "not a feed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a feed"),
        (b'{"items": [oops', "malformed JSON Feed"),
        (b'{"title": "no items"}', "not a JSON Feed"),
    ],
)
def test_documents_without_a_feed_raise_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(body, f"{BASE}/feed", "f")


FIXTURE_FEEDS = [
    "globaltimes/rss/asia-pacific.xml", "eurodesk/atom.xml", "mideast/rdf.xml", "africa/rss.xml",
]


@pytest.mark.parametrize("path", FIXTURE_FEEDS)
def test_fast_path_agrees_with_feedparser(path: str) -> None:
    body = sample(path)
    fast = parse_fast(body, f"{BASE}/{path}", "f")
    slow = parse_with_feedparser(body, f"{BASE}/{path}", "f")
    assert fast is not None
    assert [(e.url, e.entry_id, e.title, e.published_at) for e in fast.entries] == [
        (e.url, e.entry_id, e.title, e.published_at) for e in slow.entries]
    assert fast.format == slow.format and fast.title == slow.title


def test_fast_path_handles_escaped_titles_permalink_guids_and_html_atom_titles() -> None:
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
           b"<item><title>Tom &amp; Jerry &lt;b&gt;live&lt;/b&gt;</title>"
           b"<guid>https://news.example/g1</guid></item>"
           b'<item><title>No link</title><guid isPermaLink="false">tag:1</guid></item>'
           b"</channel></rss>")
    fast = parse_fast(rss, "https://news.example/feed", "f")
    assert fast is not None
    assert [(e.url, e.title) for e in fast.entries] == [
        ("https://news.example/g1", "Tom & Jerry live")]
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry>'
            b'<title type="html">Caf&amp;eacute; &lt;i&gt;news&lt;/i&gt;</title>'
            b'<link href="/a/1"/><id>urn:1</id><updated>2014-03-31T10:00:00Z</updated>'
            b"</entry></feed>")
    fast = parse_fast(atom, "https://news.example/atom", "f")
    assert fast is not None
    entry = fast.entries[0]
    assert (entry.url, entry.title) == ("https://news.example/a/1", "Café news")
    assert entry.published_at == datetime(2014, 3, 31, 10, tzinfo=UTC)


def test_fast_path_declines_what_it_cannot_read_safely() -> None:
    assert parse_fast((FIXTURES / "feeds" / "malformed.xml").read_bytes(), BASE, "f") is None
    assert parse_fast((FIXTURES / "feeds" / "wrong_charset.xml").read_bytes(), BASE, "f") is None
    assert parse_fast(b'<feed xmlns="http://purl.org/atom/ns#"><title>0.3</title></feed>',
                      BASE, "f") is None


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
            '<rss version="2.0"><channel><title>t</title><item><title>&x;</title>'
            "<link>https://news.example/1</link></item></channel></rss>").encode()
    parsed = parse_feed(body, BASE, "f")
    assert all("TOP-SECRET" not in e.title for e in parsed.entries)


def test_rss_091_and_092_are_read() -> None:
    for version in ("0.91", "0.92"):
        body = (f'<?xml version="1.0"?><rss version="{version}"><channel><title>Old</title>'
                "<item><title>Old school</title><link>https://news.example/old</link>"
                "<description>d</description></item></channel></rss>").encode()
        parsed = parse_feed(body, BASE, "f")
        assert parsed.format == "rss" + version.replace(".", "")
        assert [e.url for e in parsed.entries] == ["https://news.example/old"]


_RSS = ('<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel><title>t</title>'
        '{}</channel></rss>')
_ATOM_DOC = '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{}</feed>'


@pytest.mark.parametrize("doc", [
    _RSS.format("<item><title>A</title><guid>http://x.test/a</guid></item>"),
    _RSS.format("<item><title>A</title><guid>\n  http://x.test/a\n </guid></item>"),
    _RSS.format("<item><title>A</title><guid><![CDATA[http://x.test/a]]></guid></item>"),
    _RSS.format('<item><title>A</title><atom:link href="http://x.test/a" rel="alternate"/></item>'),
    _RSS.format("<item><title>A &amp; B</title><guid>http://x.test/a</guid></item>"),
    _ATOM_DOC.format("<entry><title>A</title><id>http://x.test/a</id></entry>"),
    _ATOM_DOC.format("<entry><title>A</title><id>\n http://x.test/a \n</id></entry>"),
    _ATOM_DOC.format('<entry><title>A</title><link rel="self" href="http://x.test/s"/>'
                     "<id>http://x.test/a</id></entry>"),
    _ATOM_DOC.format('<entry><title>A</title><link rel="enclosure" href="http://x.test/a.mp3"/>'
                     "<id>http://x.test/a</id></entry>"),
])
def test_entries_with_only_an_id_url_or_a_permalink_guid_are_read_as_feedparser_reads_them(
        doc: str) -> None:
    import feedparser

    expected = [e.get("link") for e in feedparser.parse(doc.encode()).entries]
    assert expected == ["http://x.test/a"]
    assert [e.url for e in parse_feed(doc.encode(), f"{BASE}/f.xml", "f").entries] == expected
    assert [e.url for e in parse_with_feedparser(doc.encode(), f"{BASE}/f.xml", "f").entries] == (
        expected)


def test_feedburner_original_links_and_json_feed_id_urls_are_the_article_urls() -> None:
    doc = _RSS.format("<item><title>A</title><link>http://feeds.test/~r/x/~3/abc/</link>"
                      "<feedburner:origLink>http://x.test/a</feedburner:origLink></item>")
    assert [e.url for e in parse_feed(doc.encode(), f"{BASE}/f.xml", "f").entries] == [
        "http://x.test/a"]
    assert [e.url for e in parse_with_feedparser(doc.encode(), f"{BASE}/f.xml", "f").entries] == [
        "http://x.test/a"]
    json_feed = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": '
                 b'[{"id": "http://x.test/a", "content_text": "x"}, {"id": "42"}]}')
    assert [e.url for e in parse_feed(json_feed, f"{BASE}/f.json", "f",
                                      "application/feed+json").entries] == ["http://x.test/a"]
