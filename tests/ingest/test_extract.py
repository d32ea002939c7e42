"""Article extraction on the sample pages and on junk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.config import PACKAGE_DIR
from ingest.errors import NotAnArticle
from ingest.extract import EXTRACTOR, extract
from tests.conftest import shared_path

SITE = PACKAGE_DIR / "sample" / "site"
BASE = "http://news.test"


def page(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"{{BASE}}", BASE.encode())


def test_seed_article_is_extracted_without_its_boilerplate() -> None:
    doc = extract(page("globaltimes/content/2014/03/31/japan-nk-talks.html"),
                  f"{BASE}/globaltimes/content/2014/03/31/japan-nk-talks.html")
    seed = shared_path("examples", "globaltimes-2014-03-31-japan-nk-talks.txt").read_text()
    assert doc.title == seed.splitlines()[0]
    assert doc.text.startswith("Japan and North Korea on Sunday held the first formal")
    assert doc.text.rstrip().endswith("Pyongyang will have to pay the price for it.")
    for junk in ("Posted in", "Disqus", "Photo: AFP", "Source:Agencies", "Share this",
                 "Related stories", "All rights reserved"):
        assert junk not in doc.text, junk
    assert "Asia-Pacific" in doc.sections
    assert doc.language == "en"
    assert doc.published_at == datetime(2014, 3, 30, 17, 28, 1, tzinfo=UTC)  # +08:00 kept
    assert doc.site_name == "Global Times"
    assert doc.canonical_url == f"{BASE}/globaltimes/content/2014/03/31/japan-nk-talks.html"
    assert doc.extractor == EXTRACTOR
    # every sentence of the seed's body is there
    for para in seed.split("\n\n")[3:-2]:
        if para.strip():
            assert " ".join(para.split())[:60] in " ".join(doc.text.split())


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("mideast/video/2014/03/31/aqaba-plant.html", "video page"),
        ("africa/premium/2014/03/31/markets-outlook.html", "paywall stub"),
        ("africa/section/business.html", "not an article"),
    ],
)
def test_non_articles_are_refused_with_a_reason(path: str, reason: str) -> None:
    with pytest.raises(NotAnArticle, match=reason):
        extract(page(path), f"{BASE}/{path}")


@pytest.mark.parametrize(
    "html",
    [b"", "   ", b"<html><body></body></html>", b"<<<>>> not html at all \x00\x01",
     "<html><body><div><p>unclosed " * 50],
)
def test_junk_raises_not_an_article(html: str | bytes) -> None:
    with pytest.raises(NotAnArticle):
        extract(html, f"{BASE}/junk")
