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


BRIEF = ("The city council voted on Tuesday to extend the night bus service to the airport "
         "from next month, after a year-long trial carried more passengers than expected, "
         "the transport office said.")
BRIEF_ZH = ("东京都交通局周二宣布，连接羽田机场与市中心的地铁新线路将于下月开通，"
            "预计每天可运送约五万名乘客，票价与现有线路相同。")


def brief_page(body: str, og_type: str = "article",
               title: str = "Night buses to run to the airport") -> str:
    meta = f'<meta property="og:type" content="{og_type}">' if og_type else ""
    nav = "".join(f'<li><a href="/s/{i}">Section {i}</a></li>' for i in range(12))
    return (f"<html><head><title>{title}</title>{meta}</head><body><nav><ul>{nav}</ul></nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            "<footer><p>Copyright 2026 City Paper</p></footer></body></html>")


@pytest.mark.parametrize(("body", "og_type", "title"), [
    (f"<p>{BRIEF}</p>", "article", "Night buses to run to the airport"),
    (f"<p>{BRIEF}</p>", "NewsArticle", "Night buses to run to the airport"),
    (f"<p>{BRIEF_ZH}</p>", "article", "羽田机场地铁新线路下月开通"),
])
def test_a_brief_typed_as_an_article_is_kept(body: str, og_type: str, title: str) -> None:
    """A news brief of 20-39 words is an article when the page says it is one (og:type) and
    the text is about its headline."""
    doc = extract(brief_page(body, og_type, title), f"{BASE}/brief")
    assert doc.text == body[3:-4]


@pytest.mark.parametrize(("body", "og_type", "title", "reason"), [
    # not typed as an article: the full minimum applies
    (f"<p>{BRIEF}</p>", "", "Night buses to run to the airport", "minimum is 40 words$"),
    (f"<p>{BRIEF}</p>", "website", "Night buses to run to the airport", "minimum is 40 words$"),
    # typed as an article, but an index page: the title is the site's, the text a teaser
    (f"<p>{BRIEF}</p>", "article", "City Paper - Home", "minimum is 40 words$"),
    # about the title, but headlines rather than sentences
    ("<ul>" + "".join(f"<li><a href='/{i}'>Night buses and airport news {i}</a></li>"
                      for i in range(4)) + "</ul>", "article",
     "Night buses to run to the airport", "minimum is 40 words$"),
])
def test_a_short_page_that_is_no_brief_is_refused(body: str, og_type: str, title: str,
                                                  reason: str) -> None:
    with pytest.raises(NotAnArticle, match=reason):
        extract(brief_page(body, og_type, title), f"{BASE}/brief")


ARTICLE = " ".join(["The harbour authority said on Monday that the new ferry terminal would open "
                    "in the spring, after two years of delays caused by the storm damage."] * 4)


@pytest.mark.parametrize(("extra", "gone"), [
    # the page's own address, whole or cut short, in a print or share footer
    ("https://www.city.test/news/2026/ferry-terminal-opens-in-spring-4417", True),
    ("www.city.test/news/2026/ferry-terminal-opens-in-spri", True),
    ("https://www.city.test/news/2026/ferry-terminal-opens-in-spring-4417?ref=print", True),
    # a tag line
    ("Topics: ferries, harbour, storms, city council", True),
    ("Tags: ferries, harbour", True),
    # addresses the article cites are its text
    ("https://www.harbour.test/reports/terminal-2026.pdf", False),
    ("www.city.test/news", False),
])
def test_own_address_and_tag_lines_are_taken_out(extra: str, gone: bool) -> None:
    text = text_with_line(extra)
    assert (extra not in text) == gone


def text_with_line(line: str, after: str = "") -> str:
    """The extracted text of a ferry story with ``line`` after its paragraph (and ``after``
    after that), at the address the story's own-address cases name."""
    tail = f"<p>{after}</p>" if after else ""
    html = (f"<html><head><title>Ferry terminal to open</title></head><body><article>"
            f"<p>{ARTICLE}</p><p>{line}</p>{tail}</article></body></html>")
    doc = extract(html, "https://www.city.test/news/2026/ferry-terminal-opens-in-spring-4417")
    assert doc.text.startswith("The harbour authority")
    return doc.text


@pytest.mark.parametrize(("line", "gone"), [
    # pointers to other stories: the label alone, or with a colon
    ("Read more: Harbour strike ends after two weeks", True),
    ("READ MORE: Storm closes the coast road", True),
    ("Related: The ten busiest ferry routes", True),
    ("You may also like...", True),
    ("Lesen Sie auch: Neue Fähre für Kiel", True),
    ("Читайте также: Паром в Калининград", True),
    ("Baca juga: Kapal feri baru", True),
    # newsletter and channel prompts
    ("Subscribe to the Morning Harbour newsletter", True),
    ("Get the day's top stories delivered to your inbox by subscribing to our newsletter.", True),
    ("Thanks for signing up!", True),
    # sentences that only begin with the words, or report a newsletter, stay
    ("Related to the delays, the council said it would review the contract.", False),
    ("Read more widely, the report shows the delays were expected.", False),
    ("Subscribers were told first, the operator said in its newsletter on Monday.", False),
])
def test_calls_to_action_are_not_article_text(line: str, gone: bool) -> None:
    text = text_with_line(line, after=f"{ARTICLE[:100]}.")
    assert (line not in text) == gone


@pytest.mark.parametrize(("line", "gone"), [
    # an embedded video player's interface text (video.js)
    ("This is a modal window.", True),
    ("Beginning of dialog window. Escape will cancel and close the window.", True),
    ("End of dialog window.", True),
    ("subtitles off, selected", True),
    ("captions settings, opens captions settings dialog", True),
    ("No compatible source was found for this media.", True),
    # sentences about such things stay
    ("The window of the modal building was broken, the police said.", False),
    ("Subtitles were off for the first showing, the festival said.", False),
])
def test_a_video_players_interface_text_is_not_article_text(line: str, gone: bool) -> None:
    text = text_with_line(line, after=f"{ARTICLE[:100]}.")
    assert (line not in text) == gone


def gallery(count: int, total: int, start: int = 1) -> str:
    return "".join(f"<li>{k}/{total} Pier {k} reopens Boats return to the harbour after the "
                   "storm.</li>" for k in range(start, start + count))


def test_an_embedded_slideshows_captions_are_not_article_text() -> None:
    html = (f"<html><head><title>Ferry terminal to open</title></head><body><article>"
            f"<p>{ARTICLE}</p><ul>{gallery(12, 50)}</ul><p>{ARTICLE[:120]}.</p>"
            "</article></body></html>")
    text = extract(html, "https://www.city.test/news/ferry").text
    assert "/50" not in text and "Pier 3 reopens" not in text
    assert text.startswith("The harbour authority") and text.endswith(f"{ARTICLE[:120]}.")


@pytest.mark.parametrize(("items", "kept"), [
    (gallery(2, 50), True),  # two slides are no slideshow
    # numbered, but not one total counting up
    ("".join(gallery(1, 50 + k, start=k) for k in range(1, 5)), True),
    (gallery(1, 50, start=1) + gallery(1, 50, start=3) + gallery(1, 50, start=5), True),
    ("".join(f"<li>{a}/{b} results in the first round of the count</li>"
             for a, b in ((23, 16), (74, 60), (14, 7), (58, 45))), True),  # a table of figures
])
def test_numbered_lines_that_are_no_slideshow_stay(items: str, kept: bool) -> None:
    html = (f"<html><head><title>Ferry terminal to open</title></head><body><article>"
            f"<p>{ARTICLE}</p><ul>{items}</ul></article></body></html>")
    text = extract(html, "https://www.city.test/news/ferry").text
    first = items.split("<li>")[1].split("</li>")[0]
    assert (first in text) == kept


def test_a_slideshow_that_is_the_whole_article_stays() -> None:
    html = (f"<html><head><title>The storm in pictures</title></head><body><article>"
            f"<p>The storm, in pictures.</p><ul>{gallery(6, 6)}</ul></article></body></html>")
    text = extract(html, "https://www.city.test/news/storm-pictures").text
    assert "1/6 Pier 1 reopens" in text and "6/6 Pier 6 reopens" in text


@pytest.mark.parametrize(("line", "gone"), [
    # a line that only says when the story was posted or updated
    ("posted on April 21, 2015, at 11:29 a.m.", True),
    ("Updated: 14:05 GMT", True),
    ("UPDATED: Tue., Nov. 19, 2019", True),
    ("Last updated on Tue 4 Jun 2019 10.22 BST", True),
    # sentences that begin with the words stay
    ("Published in 1998, the report sold 40,000 copies.", False),
    ("Posted on the harbour wall were 3 notices.", False),
    ("Updated figures show 5 ferries were cancelled.", False),
])
def test_a_posted_or_updated_line_is_not_article_text(line: str, gone: bool) -> None:
    text = text_with_line(line, after=f"{ARTICLE[:100]}.")
    assert (line not in text) == gone


def test_the_headline_is_taken_out_whatever_its_quotes() -> None:
    """The page's metadata has straight quotes and hyphens, its headline typographic ones."""
    html = ("<html><head><meta property='og:title' content='Ferry \"will open\" in spring - "
            "harbour'><title>x</title></head><body><article><h1>Ferry \u201cwill open\u201d in "
            f"spring \u2013 harbour</h1><p>{ARTICLE}</p></article></body></html>")
    doc = extract(html, "https://www.city.test/news/ferry")
    assert doc.title == 'Ferry "will open" in spring - harbour'
    assert doc.text.startswith("The harbour authority")


def test_a_page_wrapped_in_one_form_keeps_its_article_and_drops_its_search_form() -> None:
    # ASP.NET WebForms put the whole page in one <form>: trafilatura keeps a form that holds
    # most of the text (read through its element classes' text_content) and drops the others
    paras = "".join(f"<p>The harbour board met on day {n} to weigh the dredging plan, and its "
                    f"members said the vote on item {n} would come before the end of the month."
                    "</p>" for n in range(1, 7))
    page = ("<html lang='en'><head><title>Harbour plan</title></head><body>"
            "<form id='aspnetForm' action='/x'><div id='main'><article><h1>Harbour plan</h1>"
            f"{paras}</article></div>"
            "<form class='search'><label>Search the archive of every story we keep</label>"
            "<input name='q' value='type here'></form></form></body></html>")
    got = extract(page, "https://news.example/harbour.html")
    assert "dredging plan" in got.text and "day 6" in got.text
    assert "Search the archive" not in got.text and "type here" not in got.text
