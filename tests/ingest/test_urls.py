"""URL canonicalisation and ids."""

from __future__ import annotations

import pytest

from ingest.urls import article_id, canonical_url, domain, same_site, url_key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM:443/a/b?utm_source=rss&id=3#top", "https://www.example.com/a/b?id=3"),
        ("https://example.com/news/story/amp", "https://example.com/news/story"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://example.com/news/story?outputType=amp", "https://example.com/news/story"),
        ("https://example.com/x?b=2&a=1&fbclid=zzz", "https://example.com/x?a=1&b=2"),
        ("http://example.com:80/", "http://example.com/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_variants_of_one_page_share_an_id() -> None:
    variants = [
        "https://www.example.com/world/story-1",
        "http://example.com/world/story-1/",
        "https://m.example.com/world/story-1?utm_campaign=x",
        "https://amp.example.com/world/story-1/amp",
    ]
    assert len({url_key(u) for u in variants}) == 1
    assert len({article_id(u) for u in variants}) == 1
    assert article_id("https://example.com/world/story-2") != article_id(variants[0])
    assert len(article_id(variants[0])) == 16


def test_domains() -> None:
    assert domain("https://WWW.BBC.co.uk/news") == "bbc.co.uk"
    assert same_site("https://m.bbc.co.uk/a", "https://www.bbc.co.uk/b")
    assert not same_site("https://bbc.co.uk/a", "https://cnn.com/a")
