"""Counting text in every script, and extraction of Chinese, Japanese and Korean news pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import textunits
from ingest.errors import NotAnArticle
from ingest.extract import extract
from tests.conftest import benchmark_page

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def test_word_equivalents_per_script() -> None:
    assert textunits.words("Officials said the talks would go on.") == 7
    # Chinese and Japanese: two characters a word; digits and Latin inside count as words
    assert textunits.words("新华社北京3月31日电") == 8 / 2 + 2  # "3", "31" are words
    assert textunits.words("東京都は31日、新しい計画を発表した。") == 15 / 2 + 1
    # Korean separates its words with spaces
    assert textunits.words("부산항의 컨테이너 물동량이 늘었다") == 4
    # Thai: four characters a word
    assert textunits.words("กรุงเทพมหานคร") == 13 / 4
    assert textunits.describe("北京消息") == "2 words (4 CJK characters)"


@pytest.mark.parametrize("key", ["qq", "pixnet", "gmw", "youth", "yahoo-4", "hukumusume"])
def test_real_chinese_and_japanese_pages_are_articles(key: str) -> None:
    html, url, body = benchmark_page("extraction-readability", key)
    doc = extract(html, url)
    # the article's longest paragraph is in the text (spacing aside: these pages pad with
    # ideographic spaces)
    sentence = "".join(max(body.splitlines(), key=len).split())[:40]
    assert sentence in "".join(doc.text.split()), (sentence, doc.text[:300])


def test_a_korean_news_page_is_an_article() -> None:
    html = (PAGES / "ko-news.html").read_bytes()
    doc = extract(html, "https://news.example.kr/economy/2026/03/31/busan-port")
    assert doc.title.startswith("부산항 물동량 3개월 연속 증가")
    assert "부산항만공사는 31일" in doc.text and "중소 화주들이 버티기 어렵다" in doc.text
    assert "무단 전재" not in doc.text and "많이 본 뉴스" not in doc.text
    assert doc.language == "ko"


def test_a_chinese_brief_below_the_threshold_is_refused_with_characters_named() -> None:
    brief = "北京3月31日电 国家统计局今天发布数据，一季度工业生产平稳。"  # 26 characters
    html = (f"<html lang='zh'><head><title>简讯</title></head><body><article><p>{brief}</p>"
            "</article></body></html>").encode()
    with pytest.raises(NotAnArticle, match="CJK characters"):
        extract(html, "https://news.example.cn/brief")
