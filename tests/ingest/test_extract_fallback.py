"""The second opinion: readability-lxml where trafilatura's fast pass is refused or far from
the page's paragraph text, on real pages of the shared benchmark and on damaged HTML."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
import trafilatura

from ingest.errors import NotAnArticle
from ingest.extract import EXTRACTOR, SECOND_OPINION, extract, readability_text
from tests.conftest import benchmark_page, shared_path


def _f1(predicted: str, truth: str) -> float:
    """The benchmark's metric for one page: word 4-gram shingles."""
    def shingles(text: str) -> Counter[tuple[str, ...]]:
        tokens = re.findall(r"\w+", text)
        return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3)))
    pred, gold = shingles(predicted), shingles(truth)
    tp = sum((pred & gold).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(pred.values()), tp / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


@pytest.mark.parametrize(("key", "why"), [
    # the fast pass keeps a third of a long article (the rest is in another container)
    ("d48aeb9cf2f2ff15769a57513249b4a6a669159f3e50b335e741d4206a824e88", "prose outside the fast result"),
    # the fast pass takes in 8,000 characters of boilerplate around a short piece
    ("f6ac15a4d98511396da23e4428deb5605422b1c8bbc8284e771f6896bdccf57f", "short lines"),
    # the fast pass takes a layout table's row whole: the story and the page around it
    ("d90bda7ed14df19574f4ca8b1ccde5752a78f40058af1393e81cc99adb3e8756", "one block"),
])
def test_a_doubtful_fast_result_gets_the_second_opinion(key: str, why: str) -> None:
    html, url, truth = benchmark_page("extraction", key)
    doc = extract(html, url)
    assert doc.extractor.startswith(f"{SECOND_OPINION} (fallback: ")
    assert why in doc.extractor
    fast = trafilatura.extract(html, url=url, fast=True, include_comments=False) or ""
    assert _f1(doc.text, truth) >= max(0.85, _f1(fast, truth) + 0.2)


def test_a_page_the_fast_pass_refuses_is_recovered() -> None:
    html, url, truth = benchmark_page("extraction-readability", "mathjax")
    doc = extract(html, url)
    assert doc.extractor == f"{SECOND_OPINION} (fallback: fast pass refused the page)"
    assert _f1(doc.text, truth) > 0.9


def test_a_confident_fast_result_is_kept() -> None:
    html, url, truth = benchmark_page("extraction", sorted(json.loads(shared_path(
        "benchdata", "extraction", "ground-truth.json").read_text()))[1])
    doc = extract(html, url)
    assert doc.extractor == EXTRACTOR
    assert _f1(doc.text, truth) > 0.9


BODY = "".join(f"<p>Paragraph {i}: the harbour authority said on Monday that container traffic "
               "rose for a third month as new routes to South-East Asia opened.</p>"
               for i in range(8))


@pytest.mark.parametrize(("html", "repair"), [
    (f"<html><head><title>Port traffic rises</head><body>{BODY}</body></html>", "<title>"),
    (f"<html><head><title>Port</title></head><body><!-- never closed {BODY}", "comment"),
])
def test_an_unclosed_title_or_comment_is_repaired(html: str, repair: str) -> None:
    # an HTML parser (and a browser) takes the rest of the page into the title or comment
    doc = extract(html, "https://news.example/port")
    assert "container traffic" in doc.text and doc.title.startswith("Port")
    assert doc.extractor == f"{EXTRACTOR} (repaired: unclosed {repair})"


@pytest.mark.parametrize("html", [
    f"<html><head><meta charset='iso-8859-1'></head><body>{BODY}</body></html>".encode(),
    f"<html><body>{BODY}</body></html>".encode("utf-16"),  # the declared charset is wrong
    ("<html><body>" + BODY.replace("\n", " ") * 40 + "</body></html>"),  # one huge line
])
def test_damaged_html_gives_text_or_a_reason(html: str | bytes) -> None:
    try:
        doc = extract(html, "https://news.example/port")
    except NotAnArticle as exc:
        assert "https://news.example/port" in str(exc)
    else:
        assert "container traffic" in doc.text


def test_the_containment_check_reads_chinese_by_character() -> None:
    from ingest.extract import _shingles

    # a clause without spaces is many characters, not one token: two texts sharing most of a
    # Chinese paragraph share most of their shingles
    whole = "国务院总理主持召开常务会议，部署进一步稳定和扩大就业的政策措施，会议强调要加大支持力度。"
    part = whole[:30]
    assert len(_shingles(whole)) > 30
    assert len(_shingles(part) & _shingles(whole)) / len(_shingles(part)) > 0.9
    assert _shingles("The committee met on Tuesday") == {("the", "committee", "met", "on"),
                                                         ("committee", "met", "on", "tuesday")}


class _Counted:
    """readability_text as it is, counting its calls (the second opinion's cost)."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = readability_text

    def __call__(self, html: str | bytes) -> str:
        self.calls += 1
        return self._real(html)


@pytest.mark.parametrize(("benchmark", "key"), [
    # long pages built of lists, tables and <div>s: far more text than their <p> elements,
    # read right by the fast pass (the second opinion costs up to 1.6 s on the first)
    ("extraction-readability", "wikipedia-2"),
    ("extraction-readability", "wikipedia-4"),
    ("extraction-readability", "royal-road"),
    # an article whose <p> text beyond the fast result is a few short paragraphs (captions)
    ("extraction-readability", "wapo-1"),
    # a blog post under a long comment section: the comments are not prose the fast result
    # left out (readability-lxml's text, asked for them, scored 0.873 against its 1.000)
    ("extraction-readability", "wordpress"),
])
def test_a_confident_fast_result_costs_no_second_opinion(
        benchmark: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = _Counted()
    monkeypatch.setattr("ingest.extract.readability_text", counted)
    html, url, truth = benchmark_page(benchmark, key)
    doc = extract(html, url)
    assert counted.calls == 0
    assert doc.extractor == EXTRACTOR
    assert _f1(doc.text, truth) > 0.95


def test_prose_left_out_of_the_fast_result_is_doubted() -> None:
    from ingest.extract import _doubt

    story = [f"Paragraph {i} of the story says the port reopened on Monday after the storm and "
             "that ferries to the islands will run again from Wednesday morning." for i in range(6)]
    # the fast pass kept the first two paragraphs: the four others are prose it left out
    kept = "\n".join(story[:2])
    assert "prose outside the fast result" in _doubt(kept, story)
    # all kept; short paragraphs left out (captions, bylines) are no sign
    assert _doubt("\n".join(story), [*story, "Photo: Reuters", "By Ana Lima"]) == ""
    # far longer than the page's paragraphs but prose in paragraphs: not doubted
    assert _doubt("\n".join(story * 4), story[:1]) == ""
    # far longer and mostly short lines: a list of links or headlines
    menu = "\n".join(f"Section {i}" for i in range(200))
    assert "short lines" in _doubt(menu + "\n" + story[0], story[:1])


def _teaser_page() -> str:
    """A story whose body sits in a "teaser" block: trafilatura's fast pass drops such blocks
    and keeps only the short lead; its recall retry reads the page again and finds the body."""
    # (the lead longer than trafilatura's minimum result, 250 characters: shorter, its first
    # pass recovers the paragraphs around it itself)
    lead = "Lead paragraph of the story, which is short but clearly written as one sentence " \
           "of prose here. " * 3
    body = "".join(f"<p>The council voted on Tuesday to approve a new budget for schools and "
                   f"roads after months of debate among its members, officials said. Item {i}."
                   "</p>" for i in range(14))
    return (f"<html><head><title>Budget</title></head><body><article><p>{lead}</p>"
            f'<div class="story-teaser-body">{body}</div></article></body></html>')


class _Passes:
    """ingest.extract._fast_pass as it is, recording whether each call allowed the recall
    retry."""

    def __init__(self) -> None:
        from ingest.extract import _fast_pass

        self.calls: list[bool] = []
        self._real = _fast_pass

    def __call__(self, tree: object, url: str, recall_retry: bool) -> str:
        self.calls.append(recall_retry)
        return self._real(tree, url, recall_retry)


def test_trafilaturas_recall_retry_is_asked_where_the_fast_result_is_in_doubt(
        monkeypatch: pytest.MonkeyPatch) -> None:
    passes, second = _Passes(), _Counted()
    monkeypatch.setattr("ingest.extract._fast_pass", passes)
    monkeypatch.setattr("ingest.extract.readability_text", second)
    html = _teaser_page()
    doc = extract(html, "https://news.example/budget")
    # the fast pass alone kept the lead (its prose left out: in doubt); the retry found the body
    assert passes.calls == [False, True]
    assert doc.extractor == f"{EXTRACTOR} (recall retry)"
    assert doc.text.count("The council voted on Tuesday") == 14
    assert second.calls == 0  # the retried result is not in doubt: no readability
    # what trafilatura's own default pass gives (its retry runs on every short result)
    whole = trafilatura.extract(html, url="https://news.example/budget", fast=True,
                                include_comments=False) or ""
    assert doc.text.count("Item ") == whole.count("Item ") == 14
    assert trafilatura.core.ESCALATION_MAX_LENGTH == 3000  # switched off only inside the call


def test_a_confident_fast_result_costs_no_recall_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = _Passes()
    monkeypatch.setattr("ingest.extract._fast_pass", passes)
    html, url, _ = benchmark_page("extraction", sorted(json.loads(shared_path(
        "benchdata", "extraction", "ground-truth.json").read_text()))[1])
    assert extract(html, url).extractor == EXTRACTOR
    assert passes.calls == [False]
    with pytest.raises(NotAnArticle):  # a refused page: the limit is restored all the same
        extract("<html><body><p>Too short.</p></body></html>", "https://news.example/x")
    assert trafilatura.core.ESCALATION_MAX_LENGTH == 3000


_STORY = "".join(
    f"<p>Paragraph {n} of the council story says what the members decided about the harbour"
    f" and why the vote took so long this year.</p>" for n in range(4))


def test_loose_text_beside_paragraphs_is_kept() -> None:
    """Text runs that sit directly in the story's container (before the first paragraph, after
    a figure, a heading, a list, a line break) are paragraphs to a reader; trafilatura's fast
    pass drops them unless they are wrapped (the yahoo-3 page of the Readability set loses two
    sentences after a photo frame that way)."""
    loose = {
        "lead": "Harbour town, Monday. The lead sentence sits before any paragraph element.",
        "figure": "After the photo frame the reporter goes on, with <a href='/a'>a link</a>"
                  " inside the run, as the page wrote it.",
        "heading": "Under the heading the story continues in loose text without a paragraph.",
        "list": "Below the list the mayor's answer follows, still part of the article.",
        "break": "After a line break a last loose sentence closes the piece for readers.",
    }
    html = (
        "<html><head><title>Council votes on the harbour</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<div class='article-body'>{loose['lead']}{_STORY}"
        "<div class='photo-frame'><span><img src='/p.jpg' alt=''><p class='legend'>The harbour"
        f"</p></span></div>{loose['figure']}{_STORY}"
        f"<h2>What comes next</h2>{loose['heading']}{_STORY}"
        "<ul><li>first point of the plan</li><li>second point of the plan</li></ul>"
        f"{loose['list']}{_STORY}<p>A short one.</p><br>{loose['break']}"
        "</div></body></html>")
    doc = extract(html, "https://example.org/harbour")
    flat = " ".join(doc.text.split())
    for where, run in loose.items():
        assert re.sub(r"<[^>]+>", "", run) in flat, where
    # in the page's order, each once
    positions = [flat.index(re.sub(r"<[^>]+>", "", run)) for run in loose.values()]
    assert positions == sorted(positions)
    assert flat.count("the reporter goes on") == 1
    assert doc.extractor == EXTRACTOR


def test_loose_text_beside_an_unknown_element_is_left_alone() -> None:
    """A run next to an element HTML does not define (a math renderer's custom element) is not
    wrapped: the page's CSS decides whether it is a line or a block (the mathjax page of the
    Readability set lost its formulas' context when such runs were split into paragraphs)."""
    from lxml import etree
    from trafilatura.utils import load_html

    from ingest.extract import _wrap_loose_text

    source = ("<html><body><div><p>First paragraph of text.</p>When <mjx-container>a</mjx-container>"
              ", there are two solutions<h2>Next</h2>Loose after the heading<p>Last.</p>"
              "</div></body></html>")
    tree = load_html(source)
    _wrap_loose_text(tree)
    markup = etree.tostring(tree, encoding=str)
    assert "</p>When <mjx-container>" in markup  # left as it was
    assert "<h2>Next</h2><p>Loose after the heading</p><p>Last.</p>" in markup
    assert " ".join(tree.text_content().split()) == " ".join(
        load_html(source).text_content().split())


_ODD_INPUTS: list[str | bytes] = [
    b"", b"   ", b"\x00\x01binary\xff\xfe", b"just some text, not html at all",
    "<html><body><p>caf\u00e9 \x0b a control, \x1f another</p></body></html>".encode(),
    "<html><body><p>a\ufffeb\uffffc</p></body></html>".encode(),  # XML's noncharacters
    "<html><body><p>\uffbe is allowed</p></body></html>".encode(),
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x"><html><body><p>x</p></body></html>',
    b"<!doctype html><html><body><p>one line, no line end</p></body></html>",
    b"<html/>\n<body><p>self-closing html</p></body>",
    "<html><p>\ud800 a lone surrogate</p></html>", "<p>text input \u00e9</p>",
    b"\xef\xbb\xbf<html><body><p>a BOM</p></body></html>",
    b"<?xml version='1.0' encoding='iso-8859-1'?><html><body><p>caf\xe9</p></body></html>",
    b"<html><head><meta charset='windows-1251'></head><body><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>"
    b"</body></html>",
    f"<html><body>{BODY}</body></html>".encode("utf-16"),
]


def test_the_page_is_parsed_into_trafilaturas_tree() -> None:
    """``_load_html`` (trafilatura's loading without its costliest search where it would find
    nothing) gives the tree trafilatura's ``load_html`` gives, on every page of the
    Readability set and on damaged and odd inputs."""
    import gzip

    from lxml import etree
    from lxml.html import HtmlElement
    from trafilatura.utils import load_html

    from ingest.extract import _load_html

    pages = sorted(shared_path("benchdata", "extraction-readability", "html").glob("*.html.gz"))
    inputs = [gzip.decompress(path.read_bytes()) for path in pages] + _ODD_INPUTS
    assert len(inputs) > 100
    for source in inputs:
        theirs, ours = load_html(source), _load_html(source)
        assert (None if theirs is None else etree.tostring(theirs)) == (
            None if ours is None else etree.tostring(ours)), repr(source[:60])
        # every element an HtmlElement, as trafilatura's type checks and text_content() expect
        # (lxml's element classes given in C, not by lxml.html's per-element Python lookup)
        assert ours is None or all(isinstance(e, HtmlElement) for e in ours.iter()
                                   if isinstance(e.tag, str)), repr(source[:60])


_PROSE = ("the council met on Monday to weigh the plan for the harbour, and members said the"
          " vote would come before the end of the month after a last hearing")


@pytest.mark.parametrize(("around", "doubted"), [
    # a comment section, teasers of other stories (paragraphs in links), a footer, a sidebar
    ("<div id='comments' class='comments-area'>{}</div>", False),
    ("<ul>" + "<li><a href='/other'>{}</a></li>" + "</ul>", False),
    ("<footer>{}</footer>", False),
    ("<aside class='widget'>{}</aside>", False),
    ("<div class='cli-modal' id='cliSettingsPopup'><div>{}</div></div>", False),
    ("<div id='cookie-notice'>{}</div>", False),
    ("<noscript>{}</noscript>", False),
    ("cards", False),
    # prose beside the story in containers of the article (not a comment section: a
    # commentary is an article)
    ("<div class='commentary-body'>{}</div>", True),
    ("<div class='article-chunk'>{}</div>", True),
    ("<div class='modality-report'>{}</div>", True),
    ("one-paragraph story", True),
])
def test_only_the_articles_own_prose_left_out_puts_the_fast_result_in_doubt(
        around: str, doubted: bool) -> None:
    """Long paragraphs left out of the fast result count as prose it left out, except where
    they are not the article's: comments, teasers, a footer or sidebar (on the Zyte set such
    paragraphs made 14 of its 16 doubts of that kind, where readability-lxml's text never won,
    at about 25 ms a page each)."""
    from lxml import etree
    from trafilatura.utils import load_html

    from ingest.extract import _doubt, _paragraph_texts

    story = [f"Paragraph {i}: {_PROSE}." for i in range(3)]
    others = "".join(f"<p>Other {i}: {_PROSE}.</p>" for i in range(6))
    extra = around.format(others) if "<li>" not in around else "<ul>" + "".join(
        f"<li><a href='/o{i}'><p>Other {i}: {_PROSE}.</p></a></li>" for i in range(6)) + "</ul>"
    if around == "cards":  # other stories as cards, a paragraph each
        extra = "".join(f"<article class='card'><h3>Other {i}</h3><p>Other {i}: {_PROSE}.</p>"
                        "</article>" for i in range(6))
    if around == "one-paragraph story":  # a story written as one long <p> is no card
        extra = "<article><p>" + " ".join(f"Other {i}: {_PROSE}." for i in range(6)) + \
            "</p></article>"
    page = ("<html><body><article>" + "".join(f"<p>{p}</p>" for p in story) + "</article>"
            f"{extra}</body></html>")
    texts, elements = _paragraph_texts(load_html(page))
    assert len(texts) == (4 if around == "one-paragraph story" else 9), etree.tostring(
        load_html(page))
    reason = _doubt("\n".join(story), texts, elements)
    assert ("prose outside the fast result" in reason) is doubted, reason
    # without the elements (the texts alone), every long paragraph counts
    assert "prose outside the fast result" in _doubt("\n".join(story), texts)
