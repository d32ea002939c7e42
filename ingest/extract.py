"""Article text and metadata from HTML, with trafilatura.

``extract(html, url)`` returns an ``Extracted`` record or raises ``NotAnArticle`` with the reason
(no main text, too short, video page, paywall stub). Section lines such as "Posted in: Asia-Pacific"
are removed from the text and returned as section hints for region tagging.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Any

import lxml.html
import numpy as np
import trafilatura.core
import trafilatura.main_extractor
from htmldate import find_date
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.settings import Document
from trafilatura.utils import (
    DOCTYPE_TAG,
    FAULTY_HTML,
    decode_file,
    is_dubious_html,
    load_html,
)

from ingest import textunits
from ingest.dates import page_stamp, parse_stamp
from ingest.errors import NotAnArticle
from ingest.models import Extracted
from ingest.urls import url_key
from ingest.xpathsubset import compile_xpath

EXTRACTOR = f"trafilatura/{version('trafilatura')}"  # the fast pass (most rows)
SECOND_OPINION = f"readability-lxml/{version('readability-lxml')}"
# this module's own rules (when the second opinion is asked, which text wins, section and
# boilerplate lines): raised with every change that can change a page's output
RULES = 12
# both libraries and the rules, as the processing configuration (a change of any is a change of
# output; it is in the config hash rows carry, so two builds can be told apart)
EXTRACTORS = f"{EXTRACTOR}+{SECOND_OPINION}+rules/{RULES}"

# "Posted in: Asia-Pacific" and its equivalents in the languages the tagger reads
SECTION_LABELS = ("Posted in", "Filed under", "Filed in", "Published in", "Publicado en",
                  "Publicado em", "Archivado en", "Publié dans", "Classé dans", "Rubrik",
                  "Veröffentlicht in", "Рубрика", "Опубликовано в", "Kategori")
_LABELS = "|".join(re.escape(label).replace(r"\ ", r"\s+") for label in SECTION_LABELS)
_SECTION_LINE = re.compile(
    rf"^\s*(?:{_LABELS})\s*:\s*(?P<sections>[^\n]{{1,120}})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BOILERPLATE_LINE = re.compile(
    r"^\s*(?:blog comments powered by disqus|comments powered by disqus|share this( article)?:?"
    r"|advertisement"
    r"|(?:tags|topics|keywords|related topics)\s*:[^\n]{0,300}"  # a tag line, not a sentence
    r"|source\s*:[^\n]{0,120}?published\s*:[^\n]{0,40}"  # "Source:Agencies Published: 2014-3-31"
    # an embedded video player's interface text (video.js, on very many news sites)
    r"|(?:-\s*)?this is a modal window\.(?: this modal can be closed by pressing the escape key"
    r" or activating the close button\.)?|beginning of dialog window\.[^\n]{0,80}"
    r"|end of dialog window\.|close modal dialog|no compatible source was found for this media\."
    r"|the media could not be loaded, either because[^\n]{0,160}"
    r"|(?:-\s*)?(?:descriptions|subtitles|captions|audio description) off, selected"
    r"|(?:-\s*)?(?:default|captions settings), (?:selected|opens captions settings dialog)"
    r"|-\s*chapters"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE,
)
# Calls to action a page puts inside its article container, in the languages the tagger reads:
# a pointer to other stories ("Read more: <headline>", "See also", "You may also like...": the
# label alone, or followed by a colon, never a sentence that begins with the words), and a
# newsletter or channel prompt (a short line asking to sign up or subscribe to a newsletter,
# an inbox, e-mail, YouTube or a podcast, or thanking for it; not a report of what someone
# said).
_POINTER_LABELS = (
    r"read (?:more|also|next)|see also|related(?: (?:stories|articles|coverage|content|links))?"
    r"|you (?:may|might) also like|recommended(?: for you)?|most (?:popular|read)"
    r"|subscribe(?: now| today)?|lesen sie (?:auch|mehr)|mehr zum thema|leer m[áa]s"
    r"|lea tambi[ée]n|lire aussi|[àa] lire aussi|leia (?:mais|tamb[ée]m)|veja tamb[ée]m"
    r"|читайте также|смотрите также|baca juga")
_PROMO_LINE = re.compile(
    rf"^[ \t\[(]*(?:{_POINTER_LABELS})[ \t]*(?:[:：][^\n]{{0,160}}|[.…]{{0,3}}[\])]?)[ \t]*$"
    r"|^(?=[^\n]{0,200}$)(?![^\n]*\b(?:said|says|told)\b)"
    r"(?=[^\n]*\b(?:sign(?:ing)?[ -]up|subscribe|subscribing)\b)"
    r"(?=[^\n]*\b(?:newsletters?|inbox|e-?mails?|youtube|podcasts?)\b)[^\n]*$"
    r"|^[ \t]*(?:thanks?(?: you)? for (?:signing up|subscribing)|keep an eye on your inbox)"
    r"[^\n]{0,120}$",
    re.IGNORECASE | re.MULTILINE,
)
_HTML_LANG = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
_PAYWALL = re.compile(
    r"\b(subscribe (now|today) to (continue|read)|this (article|content) is (only )?available to "
    r"subscribers|to continue reading,? (please )?(subscribe|log in|sign in))",
    re.IGNORECASE,
)

def extract(html: str | bytes, url: str, min_words: int = 40) -> Extracted:
    """Extract the article in ``html``; raise ``NotAnArticle`` (with a reason) if there is none.

    trafilatura's fast pass first. When its result is refused, or its length is far from the
    amount of paragraph text on the page (``DOUBT``: boilerplate taken in, or part of the
    article left out), readability-lxml gives a second opinion; when one result contains the
    other, the one whose length is closer to the page's paragraph text wins. ``extractor``
    in the result says which produced the text, and why a fallback was asked for.
    """
    raw_head = html[:4096].encode("utf-8", "ignore") if isinstance(html, str) else html[:4096]
    if not raw_head.strip():
        raise NotAnArticle(f"{url}: empty page")
    tree = _load_html(html)
    if tree is None:
        raise NotAnArticle(f"{url}: not parseable as HTML")
    meta = _metadata(tree, url)
    source = html if isinstance(html, bytes) else html.encode("utf-8", "ignore")
    page_sections = _page_sections(tree, source)
    # the page's own <p> text, before trafilatura prunes the tree and before loose runs are
    # wrapped (counted as paragraphs, a sidebar's loose text left out would put the fast result
    # in doubt: the second opinions' cost, for the same text on the shared sets)
    paragraphs, elements = _paragraph_texts(tree)
    _wrap_loose_text(tree)
    # fast=True skips trafilatura's own readability/jusText comparison (about half the cost),
    # and its recall retry is left for pages in doubt (below); the second opinions are asked
    # only where the fast result is in doubt
    first_text = _fast_pass(tree, url, recall_retry=False)
    first, doubt, refused = _judge(first_text, meta, url, min_words, paragraphs, elements)
    extractor = EXTRACTOR
    if doubt and 0 < len(first_text) < RECALL_RETRY_CHARS:
        # trafilatura's recall retry: a short result that covers little of the page extracted
        # again with recall settings (what its default pass does on every such page)
        again = _fast_pass(tree, url, recall_retry=True)
        if again != first_text:
            first, doubt, refused = _judge(again, meta, url, min_words, paragraphs,
                                           elements)
            extractor = f"{EXTRACTOR} (recall retry)"
    body = first
    if doubt:
        second: _Body | None = None
        with contextlib.suppress(NotAnArticle):
            second = _body(readability_text(html), meta, url, min_words)
        body = _choose(first, second, sum(map(len, paragraphs)))
        if body is not None and body is second:
            extractor = f"{SECOND_OPINION} (fallback: {doubt})"
    if body is None:
        assert refused is not None
        repaired, what = _repair(html)
        if what:  # a browser shows nothing either; the author meant the markup to close
            doc_ = extract(repaired, url, min_words)
            return replace(doc_, extractor=f"{doc_.extractor} (repaired: {what})")
        raise refused
    text, sections = body.text, body.sections
    title = (meta.title or "").strip()
    categories = [c.strip() for c in (meta.categories or []) if c and c.strip()]
    # the page's own timestamp with its zone; htmldate's day (from markup, URL) as a fallback,
    # looked for only when there is none (trafilatura extracts from a copy: both read the
    # whole page)
    stamp = page_stamp(tree, source)
    if stamp is None:
        day = _markup_day(tree, meta, url)
        stamp = parse_stamp(day) if day else None
    return Extracted(
        text=text,
        title=title,
        authors=_authors(meta.author or ""),
        published_at=stamp.when if stamp else None,
        published_precision=stamp.precision if stamp else "",
        language=_language(meta.language or "", raw_head),
        site_name=(meta.sitename or "").strip().lstrip("@"),
        description=(meta.description or "").strip(),
        sections=tuple(dict.fromkeys([*sections, *page_sections, *categories])),
        extractor=extractor,
        canonical_url=(meta.url or "").strip(),
    )


# trafilatura's default pass ends with a "recall retry" (its stage 4): a result under this many
# characters that covers little of the page text is extracted again with recall settings. It
# measures the whole page's text for that (a copy and clean of the tree) on every short result:
# about a sixth of the fast pass's cost, for a retry that changed no text on any of the 675
# pages of the shared sets and the scale bench checked. It is asked here only where the fast
# result is in doubt or refused, where it can matter, and trafilatura's own gate then decides
# as before (the limit here is twice its own: it measures its text before formatting).
RECALL_RETRY_CHARS = 2 * trafilatura.core.ESCALATION_MAX_LENGTH
_RETRY_LOCK = threading.Lock()

# trafilatura's pruning expressions (the lists its fast pass and recall retry prune with) and
# the ones it looks for the article's container with, each as a Python query returning the
# same elements (``ingest.xpathsubset``: lxml calls back into Python for every ``re:test`` of
# every element; about a quarter of the fast pass's cost on the scale pages, three quarters
# of it saved). An expression outside the subset stays lxml's.
_XPATH_LISTS = (
    (trafilatura.core, ("RAW_TREE_PRUNE_XPATH", "REMOVE_COMMENTS_AND_LISTS_XPATH",
                        "REMOVE_COMMENTS_XPATH")),
    (trafilatura.main_extractor, ("OVERALL_DISCARD_XPATH", "DISCARD_IMAGE_ELEMENTS",
                                  "TEASER_DISCARD_XPATH", "PRECISION_DISCARD_XPATH",
                                  "BODY_XPATH")))
_QUERIES = [(module, name, [compile_xpath(x.path) or x for x in getattr(module, name)])
            for module, names in _XPATH_LISTS for name in names]


_PREPARE_TREE = trafilatura.core._prepare_tree


def _prepare_without_backup(tree: Any, options: Any, url: str | None) -> tuple[Any, Any]:
    """trafilatura's ``_prepare_tree`` (clean and convert a copy of the page's tree) without
    the copy of the cleaned tree it keeps as a backup when neither of its two readers runs:
    the comparison with other extractors (off in fast mode) and the comment handling (off
    here). That copy of the whole page was about 4 % of the fast pass. ``None`` stands in
    for it, so a reader that appeared in a new trafilatura would fail loudly, not quietly."""
    if not options.fast or options.comments:
        return _PREPARE_TREE(tree, options, url)
    return convert_tags(tree_cleaning(copy(tree), options), options, url), None


@contextlib.contextmanager
def _trafilatura_as_used(recall_retry: bool) -> Iterator[None]:
    """trafilatura as the fast pass uses it, for the calls inside: its pruning lists
    evaluated by the Python queries (``_QUERIES``), no backup copy it would not read
    (``_prepare_without_backup``), and without its recall retry unless asked (it has no
    option for it: its length limit is set to 0). All restored after; a lock keeps two
    threads from interleaving."""
    with _RETRY_LOCK:
        saved = [(module, name, getattr(module, name)) for module, name, _ in _QUERIES]
        limit = trafilatura.core.ESCALATION_MAX_LENGTH
        for module, name, queries in _QUERIES:
            setattr(module, name, queries)
        trafilatura.core._prepare_tree = _prepare_without_backup
        if not recall_retry:
            trafilatura.core.ESCALATION_MAX_LENGTH = 0
        try:
            yield
        finally:
            trafilatura.core.ESCALATION_MAX_LENGTH = limit
            trafilatura.core._prepare_tree = _PREPARE_TREE
            for module, name, expressions in saved:
                setattr(module, name, expressions)


def _fast_pass(tree: Any, url: str, recall_retry: bool) -> str:
    """trafilatura's fast pass over ``tree`` (which it copies), without comments."""
    with _trafilatura_as_used(recall_retry):
        doc = bare_extraction(tree, url=url, with_metadata=False, include_comments=False,
                              fast=True)
    return (doc.text or "") if isinstance(doc, Document) else ""


def _judge(text: str, meta: Document, url: str, min_words: int, paragraphs: list[str],
           elements: list[Any]
           ) -> tuple[_Body | None, str, NotAnArticle | None]:
    """A fast-pass text checked: the body, why it needs a second opinion ('' if not), and the
    refusal when it is not an article."""
    try:
        body = _body(text, meta, url, min_words)
    except NotAnArticle as exc:
        return None, "fast pass refused the page", exc
    return body, _doubt(body.text, paragraphs, elements), None


def _has_xml_forbidden(data: bytes) -> bool:
    """Whether UTF-8 ``data`` holds a character XML forbids (a C0 control other than tab and
    line ends, U+FFFE, U+FFFF; trafilatura's ``INVALID_XML_CHARS``), found with numpy: a
    tenth of the cost of that regex's search of the text, which finds none on almost every
    page."""
    codes = np.frombuffer(data, np.uint8)
    low = codes[codes < 0x20]
    if low.size and bool(((low != 0x09) & (low != 0x0A) & (low != 0x0D)).any()):
        return True
    lead = np.flatnonzero(codes[:-2] == 0xEF)  # U+FFFE, U+FFFF: EF BF BE, EF BF BF
    return bool(((codes[lead + 1] == 0xBF) & (codes[lead + 2] >= 0xBE)).any())


# trafilatura's parser with lxml.html's element classes given in C: lxml.html's own lookup is a
# Python method called for every element lxml hands to Python (trafilatura's walks hand it
# about 1,900 a page; 8 % of our extraction's time). Every element is an HtmlElement, as
# trafilatura expects (its type checks, text_content), but for the special classes of form
# controls (FormElement, InputElement, ...), whose form API no extraction step uses.
_PARSER = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                               remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))


def _load_html(html: str | bytes) -> Any:
    """``trafilatura.utils.load_html`` with the same tree at a quarter less cost: the page
    decoded as it decodes it, repaired as its ``repair_faulty_html`` repairs it (a page where
    ``_has_xml_forbidden`` finds characters XML forbids is left to it whole: its search for
    them is the cost saved on every other page), and parsed as UTF-8 bytes, its own fallback
    parse (the same tree as its parse of the text on 3,288 inputs: the shared sets, 3,000 scale
    pages and damaged ones)."""
    text = decode_file(html)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates in a given text: trafilatura's own way
        return load_html(html)
    if _has_xml_forbidden(data):  # (rare) trafilatura's own way, which removes them
        return load_html(html)
    beginning = text[:50].lower()
    repaired = text
    if "doctype" in beginning:
        first, _, rest = repaired.partition("\n")
        repaired = DOCTYPE_TAG.sub("", first, count=1) + "\n" + rest
    for line in repaired[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            repaired = FAULTY_HTML.sub(r"\1>", repaired, count=1)
            break
    if repaired != text:
        data = repaired.encode("utf-8")
    try:
        tree = lxml.html.fromstring(data, parser=_PARSER)
    except Exception:  # noqa: BLE001 - whatever lxml refuses, trafilatura decides as before
        return load_html(html)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


_UNCLOSED_TITLE = re.compile(rb"(<title[^>]*>)([^<]*)(?=<(?!/title))", re.IGNORECASE)
_UNCLOSED_COMMENT = re.compile(rb"<!--(?![\s\S]*?-->)")


def _repair(html: str | bytes) -> tuple[bytes, str]:
    """The page with an unclosed ``<title>`` closed at the next tag, or an unclosed comment
    opener removed, and what was repaired ('' when there was nothing to repair). Either
    swallows the whole document in an HTML parser, as in a browser."""
    source = html.encode("utf-8") if isinstance(html, str) else html
    fixed, n = _UNCLOSED_TITLE.subn(rb"\1\2</title>", source, count=1)
    if n:
        return fixed, "unclosed <title>"
    fixed, n = _UNCLOSED_COMMENT.subn(b"", source, count=1)
    return (fixed, "unclosed comment") if n else (source, "")


@dataclass(frozen=True)
class _Body:
    """A candidate article body: cleaned text and the section lines taken out of it."""

    text: str
    sections: list[str]


def _body(raw: str, meta: Document, url: str, min_words: int) -> _Body:
    """An extractor's text with section lines and the repeated headline taken out, checked
    for being an article (``NotAnArticle`` with the reason otherwise)."""
    if not raw.strip():
        raise NotAnArticle(f"{url}: no main text found (index, video or empty page?)")
    text, sections = _strip_sections(raw)
    text = _without_own_address(text, (url, meta.url or ""))
    text = _without_gallery(text, min_words)
    title = (meta.title or "").strip()
    first, _, rest = text.partition("\n")
    if title and _same_line(first, title):
        text = rest.strip()  # the headline is metadata, not body text
    text = _DATELINE.sub("", text).strip()
    pagetype = (meta.pagetype or "").lower()
    # words in space-separated scripts, characters as word equivalents in Chinese, Japanese,
    # Thai and the like (ingest.textunits states the ratios)
    # counted line by line once (a word never spans lines): the whole text's count is their sum
    per_line = [textunits.words(line) for line in text.splitlines()]
    words = sum(per_line, 0.0)
    if words < 4 * min_words and _PAYWALL.search(text):
        raise NotAnArticle(f"{url}: paywall stub ({textunits.describe(text)} behind a "
                           "subscription prompt)")
    # a page that says it is an article (og:type or JSON-LD @type) may be a brief or a photo
    # caption: half the minimum will do, when nearly all of it is sentences
    declared = (bool(_ARTICLE_TYPE.search(pagetype)) and _about_title(title, text)
                and bool(_SENTENCE_END.search(text)))
    floor = min_words * BRIEF_SHARE if declared else min_words
    if words < floor:
        what = "video page" if "video" in pagetype else "not an article (index or stub page?)"
        raise NotAnArticle(f"{url}: only {textunits.describe(text)} of text, {what}; minimum "
                           f"is {floor:g} words" + (" for a page typed as an article" if declared
                                                      else ""))
    prose = sum(n for n in per_line if n >= 8)
    if prose < floor or (words < min_words and prose < BRIEF_PROSE * words):
        raise NotAnArticle(f"{url}: {words:.0f} words but only {prose:.0f} in sentences: a list "
                           "of links or headlines (index page?), not an article")
    return _Body(text, sections)


# How short an article a page typed as one may be (a share of the minimum), and how much of
# such a short text must be sentences; it must also end as a sentence does (a run of headlines
# or links flattened into one line does not) and be about the page's title.
BRIEF_SHARE = 0.5
BRIEF_PROSE = 0.8
_ARTICLE_TYPE = re.compile(r"article|blogposting|report", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f\u2026][\"'\u201d\u2019\u00bb)\]]*\s*$")


def _about_title(title: str, text: str) -> bool:
    """Whether ``text`` is about the page's headline: most of the title's words (characters in
    Chinese, Japanese, Thai and the like) are in it. Index pages typed as articles fail: their
    title is the site's or the section's name, their text another story's teaser."""
    words = {w for w in _SHINGLE_TOKEN.findall(title.lower())
             if len(w) >= 3 or _UNSPACED_CHAR.match(w)}
    if not words:
        return False
    found = set(_SHINGLE_TOKEN.findall(text.lower()))
    return len(words & found) >= TITLE_SHARE * len(words)


TITLE_SHARE = 0.5


# The fast result is in doubt when the page has prose it left out (paragraphs of at least
# PROSE_WORDS words, together at least MISSING_SHARE of the result's own length: part of the
# article may be elsewhere, or the fast pass took the wrong block), or when it is much longer
# than the page's paragraph text (LONG times) and looks like boilerplate rather than an article:
# mostly short lines (a list of links or headlines, SHORT_SHARE of its text), or one block of
# BLOCK_CHARS or more holding nearly all of it (a layout container taken whole). Length alone
# is no sign: pages built of <div>s and lists have little <p> text and are read right.
PROSE_WORDS = 20
MISSING_SHARE = 0.5
LONG = 1.5
SHORT_SHARE = 0.5
BLOCK_CHARS = 1000
_PARAGRAPHS = etree.XPath("//p")
_BLOCKS = ("p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br",
           "tr", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "figcaption")


# Loose text: a run of text and inline elements that sits directly in a container beside its
# <p> paragraphs (after a figure, a heading, a list, a <br>, or before the first paragraph), as
# hand-written and older pages have it. trafilatura's fast pass drops such a run (it keeps the
# container's children, not their tails; its default pass recovers the run only through its
# comparison with other extractors, at twice the cost); a browser shows it as a paragraph, and
# so does Readability, which wraps it the same way. Wrapped here in a <p> of its own.
_LOOSE_TEXT = etree.XPath("//p/../text()")
_CONTAINERS = frozenset(("div", "section", "article", "main", "td", "body", "center", "li", "dd",
                         "blockquote"))
_INLINE = frozenset((  # HTML's phrasing content, with the obsolete inline tags
    "a", "abbr", "acronym", "area", "audio", "b", "bdi", "bdo", "big", "blink", "br", "button",
    "canvas", "cite", "code", "data", "datalist", "del", "dfn", "em", "embed", "font", "i",
    "iframe", "img", "input", "ins", "kbd", "label", "link", "map", "mark", "math", "meta",
    "meter", "nobr", "noscript", "object", "output", "picture", "progress", "q", "ruby", "s",
    "samp", "script", "select", "slot", "small", "span", "strike", "strong", "sub", "sup", "svg",
    "template", "textarea", "time", "tt", "u", "var", "video", "wbr"))
_BLOCK = frozenset((
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "dd", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre",
    "section", "summary", "table", "ul"))
_WORDY = re.compile(r"\w")


def _wrap_loose_text(tree: Any) -> None:
    """Each loose run of text in a container that holds paragraphs becomes a ``<p>`` of its
    own (in place; the text and its order are unchanged). A run next to an element that is
    neither a known block nor inline (a custom element such as a math renderer's) is left as
    it is: whether a browser lays it out as a line or a block is the page's CSS's say."""
    runs: dict[Any, list[tuple[int, str]]] = {}  # container: (index of its first child, text)
    for text in _LOOSE_TEXT(tree):  # only the text nodes of containers with paragraphs
        if not _WORDY.search(text):
            continue
        owner = text.getparent()
        if text.is_text:
            runs.setdefault(owner, []).append((0, str(text)))
        elif _kind(owner) == "block":
            container = owner.getparent()
            runs.setdefault(container, []).append((container.index(owner) + 1, str(text)))
    for container, found in runs.items():
        if container.tag not in _CONTAINERS:
            continue
        children = list(container)
        for start, text in sorted(found, reverse=True):  # from the end: indexes stay valid
            end = start
            while end < len(children) and _kind(children[end]) == "inline":
                end += 1
            if end < len(children) and _kind(children[end]) != "block":
                continue
            paragraph = container.makeelement("p", {})
            paragraph.text = text
            for inline in children[start:end]:
                paragraph.append(inline)  # moves it, with its tail
            if start == 0:
                container.text = None
            else:
                children[start - 1].tail = None
            container.insert(start, paragraph)


def _kind(element: Any) -> str:
    """'inline', 'block' or 'other' (an element HTML does not define); comments and
    processing instructions count as inline."""
    if not isinstance(element.tag, str):
        return "inline"
    tag = element.tag.lower()
    return "inline" if tag in _INLINE else "block" if tag in _BLOCK else "other"


def _paragraph_texts(tree: Any) -> tuple[list[str], list[Any]]:
    """The text of the page's ``<p>`` elements, spacing normalised (empty ones left out), and
    the elements."""
    texts, elements = [], []
    for element in _PARAGRAPHS(tree):
        text = " ".join(element.text_content().split())
        if text:
            texts.append(text)
            elements.append(element)
    return texts, elements


# Paragraphs that are not the article's prose however long they are: in a link (a teaser of
# another story), a page header or footer, a sidebar, a menu, <noscript>, a comment section
# (class or id "comment", "comments-area", "commentsContainer"; not "commentary"), a cookie or
# consent notice, a modal or popup, or the only paragraph of an <article> when it is short (a
# story card: a teaser's description). Left out of the prose a fast result is doubted for
# leaving out: on the shared Zyte set, of its 16 doubts of that kind, the 14 where
# readability-lxml's text did not win came from such paragraphs alone, the 2 where it won from
# paragraphs of the story.
CARD_CHARS = 500  # a card's paragraph is a teaser's few sentences, not a story in one <p>
_BESIDE_TAGS = frozenset(("a", "header", "footer", "aside", "nav", "noscript"))
_BESIDE_NAME = re.compile(r"(?<![A-Za-z])(?:[Cc]omments?|[Cc]ookies?|[Cc]onsent|[Mm]odal|[Pp]opup"
                          r"|gdpr|GDPR)(?![a-z])")


def _beside_article(element: Any, text: str) -> bool:
    """Whether paragraph ``element`` (whose text is ``text``) is not part of the article (see
    above)."""
    card = len(text) < CARD_CHARS  # until the nearest <article> is passed
    for ancestor in element.iterancestors():
        if ancestor.tag in _BESIDE_TAGS or _BESIDE_NAME.search(
                f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"):
            return True
        if card and ancestor.tag == "article":
            if sum(1 for _ in ancestor.iter("p")) == 1:
                return True
            card = False
    return False


def _doubt(text: str, paragraphs: list[str], elements: list[Any] | None = None) -> str:
    """Why a fast-pass result ``text`` needs a second opinion ('' if not), given the page's
    paragraph texts (and their elements: those ``_beside_article`` are not prose it left out)."""
    flat = " ".join(text.split())
    missing = sum(len(p) for n, p in enumerate(paragraphs)
                  if p[:60] not in flat and textunits.words(p) >= PROSE_WORDS
                  and (elements is None or not _beside_article(elements[n], p)))
    if missing >= MISSING_SHARE * len(flat):
        return f"page has {missing} characters of prose outside the fast result ({len(flat)})"
    mass = sum(map(len, paragraphs))
    if len(flat) <= LONG * mass:
        return ""
    lines = text.splitlines()
    short = sum(len(line) for line in lines if textunits.words(line) < 8) / len(text)
    if short >= SHORT_SHARE:
        return f"fast result {short:.0%} short lines (a list of links or headlines?)"
    longest = max(map(len, lines))
    if longest >= BLOCK_CHARS and longest >= 0.8 * len(text):
        return f"fast result one block of {longest} characters (a layout container?)"
    return ""


def readability_text(html: str | bytes) -> str:
    """readability-lxml's main text of the page, one line per block ('' if it finds none)."""
    from readability import Document as Readable
    from readability.readability import Unparseable

    source = decode_file(html) if isinstance(html, bytes) else html
    try:
        summary = Readable(source).summary(html_partial=True)
    except (Unparseable, ValueError, TypeError):
        return ""
    try:
        root = lxml.html.fromstring(summary)
    except (etree.ParserError, ValueError):
        return ""
    for node in root.iter(*_BLOCKS):
        node.tail = "\n" + (node.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


# words, and single characters of scripts written without spaces (a Chinese clause is not one
# token), as the near-duplicate shingles count them
_SHINGLE_TOKEN = re.compile(rf"[{textunits.UNSPACED}]|[^\W{textunits.UNSPACED}]+")
_UNSPACED_CHAR = re.compile(rf"[{textunits.UNSPACED}]")


def _choose(first: _Body | None, second: _Body | None, mass: int) -> _Body | None:
    """The better of two candidate bodies: the fast one unless it is missing, or unless one
    contains the other (the same core, one with more around it) and the other's length is
    closer to the page's paragraph text."""
    if first is None or second is None:
        return first or second
    a, b = _shingles(first.text), _shingles(second.text)
    if not a or not b:
        return first if a else second
    common = len(a & b)
    inside_a, inside_b = common / len(a), common / len(b)
    if max(inside_a, inside_b) >= 0.95 and min(inside_a, inside_b) < 0.8 and \
            abs(len(second.text) - mass) < abs(len(first.text) - mass):
        return second
    return first


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = _SHINGLE_TOKEN.findall(text.lower())
    return {tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3))} if tokens else set()


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


_SECTION_META_XPATH = (
    "//meta[@property='article:section' or @name='article:section' or @name='section']/@content")
_SECTION_META = etree.XPath(_SECTION_META_XPATH)
# the text scan reads every element, so it looks only for the labels whose words are in the
# page's source (the source is bytes in its own encoding: labels outside ASCII are looked for
# in UTF-8 and in the legacy encodings of their script); most pages have none and skip it
_LABEL_BYTES = {label.encode(encoding): label for label in SECTION_LABELS
                for encoding in ("utf-8", "cp1251", "cp1252") if _encodable(label, encoding)}
_SECTION_WORDS = re.compile(b"|".join(re.escape(key).replace(rb"\ ", rb"\s+")
                                      for key in _LABEL_BYTES))


@functools.lru_cache(maxsize=64)
def _section_query(labels: tuple[str, ...]) -> Any:
    """``article:section`` meta, and elements whose text starts with one of ``labels``."""
    if not labels:
        return _SECTION_META
    return etree.XPath(
        _SECTION_META_XPATH + " | //*[not(self::script) and not(self::style)]["
        + " or ".join(f"starts-with(normalize-space(text()), '{label}')" for label in labels)
        + "]/text()")


def _page_sections(tree: Any, source: bytes) -> list[str]:
    """Section labels the page gives itself: ``article:section`` meta, "Posted in: X" lines."""
    found: list[str] = []
    present = {_LABEL_BYTES[b" ".join(words.split())] for words in _SECTION_WORDS.findall(source)}
    query = _section_query(tuple(label for label in SECTION_LABELS if label in present))
    for value in query(tree)[:10]:
        value = str(value).strip()
        match = _SECTION_LINE.match(value)
        parts = match.group("sections") if match else value
        if not match and ":" in value[:20]:
            continue
        found.extend(p.strip() for p in re.split(r"[,|;]", parts) if p.strip())
    return [f for f in found if len(f) <= 60]


def _metadata(tree: Any, url: str) -> Document:
    """trafilatura's metadata steps that matter here (meta tags, JSON-LD, title, canonical URL),
    without its slow fallbacks (byline and category scans of the body, tags,
    licence); the tree is only read."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    with contextlib.suppress(Exception):  # trafilatura's JSON-LD parser has known bugs
        meta = extract_meta_json(tree, meta)
    if not meta.title:
        meta.title = extract_title(tree)
    if not meta.url:
        meta.url = extract_url(tree, url)
    return meta


def _markup_day(tree: Any, meta: Document, url: str) -> str | None:
    """htmldate's day from markup and structured data only (its text scan is slow): the
    fallback when the page has no timestamp ``ingest.dates`` reads."""
    return find_date(tree, url=meta.url or url, extensive_search=False, original_date=True,
                     outputformat="%Y-%m-%d")


def _strip_sections(text: str) -> tuple[str, list[str]]:
    sections: list[str] = []
    for match in _SECTION_LINE.finditer(text):
        sections.extend(s.strip() for s in re.split(r"[,|;]", match.group("sections")) if s.strip())
    text = _SECTION_LINE.sub("", text)
    text = _BOILERPLATE_LINE.sub("", text)
    text = _PROMO_LINE.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, sections


# a line that is one address: with its scheme, or from "www.", with a path
_ADDRESS_LINE = re.compile(r"^\s*(?:https?://|www\.)[^\s/]+/\S*\s*$", re.IGNORECASE)


def _without_own_address(text: str, urls: tuple[str, ...]) -> str:
    """``text`` without lines that are the page's own address (a "share this link" or print
    footer), whole or cut short; other addresses are the article's (sources, links it cites).
    Addresses are compared as ``ingest.urls.url_key`` gives them (no scheme, no www.)."""
    own = [url_key(u) for u in urls if u]
    if not own or ("://" not in text and "www." not in text):
        return text

    def is_own(line: str) -> bool:
        if not _ADDRESS_LINE.match(line):
            return False
        line = line.strip().rstrip(".")
        found = url_key(line if "://" in line else f"http://{line}")
        # the whole address, with a query or fragment after it, or cut short near its end
        return any(found.startswith(o) or (o.startswith(found) and len(found) >= 0.6 * len(o))
                   for o in own)

    lines = text.split("\n")
    kept = [line for line in lines if not is_own(line)]
    return "\n".join(kept).strip() if len(kept) < len(lines) else text


_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u00ab\u00bb\u2033"}
                        | {c: "'" for c in "\u2018\u2019\u201a\u2032"}
                        | {c: "-" for c in "\u2013\u2014\u2212"})


def _same_line(line: str, title: str) -> bool:
    """Whether a line of text is the headline: equal once quotes, dashes, spacing and case are
    alike (a page's title tag often has straight quotes where its headline has curly ones)."""
    def norm(value: str) -> str:
        return " ".join(value.translate(_QUOTES).split()).casefold()
    return norm(line) == norm(title)


# a line that only says when the story was posted or updated ("posted on April 21, 2015, at
# 11:29 a.m.", "Updated: 14:05 GMT"): the time is metadata, the line is not article text
_DATE_WORDS = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
               r"|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|at|on|[ap]\.?m\.?|utc|gmt|[a-z]{1,2}[sd]t"
               r"|cet|cest|et|pt|ct|mt")
_DATELINE = re.compile(
    r"^[ \t]*(?:posted|published|updated|last updated|first published)(?: on| at)?[ \t]*:?[ \t]*"
    rf"(?=[^\n]*\d)(?:(?:{_DATE_WORDS})\b|[\d ,.:/|+\t-])+$\n?",
    re.IGNORECASE | re.MULTILINE,
)


# a slideshow's captions: "1/50 <caption>", "- 2/50 <caption>", ... (one total, counting up)
_SLIDE = re.compile(r"^\s*(?:[-•*]\s*)?(\d{1,3})\s*/\s*(\d{1,3})\s+\S")
GALLERY_RUN = 3


def _without_gallery(text: str, min_words: float) -> str:
    """``text`` without the captions of an embedded slideshow (``GALLERY_RUN`` or more lines
    in a row numbered k/N, k+1/N, ... of one total N: often other stories' pictures), unless
    the rest would be too short for an article (then the slideshow is the article)."""
    if "/" not in text:
        return text
    lines = text.split("\n")
    drop: set[int] = set()
    run: list[int] = []
    last: tuple[int, int] | None = None
    for i, line in enumerate([*lines, ""]):
        m = _SLIDE.match(line)
        got = (int(m.group(1)), int(m.group(2))) if m else None
        if got and last and got == (last[0] + 1, last[1]) and got[0] <= got[1]:
            run.append(i)
        else:
            if len(run) >= GALLERY_RUN:
                drop.update(run)
            run = [i] if got and got[0] <= got[1] else []
        last = got
    if not drop:
        return text
    rest = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    return rest if textunits.words(rest) >= min_words else text


def _authors(value: str) -> tuple[str, ...]:
    parts = [p.strip() for p in re.split(r";|\band\b|,(?=\s*[A-Z])", value) if p.strip()]
    return tuple(dict.fromkeys(parts))


def _language(value: str, head: bytes) -> str:
    if value:
        return value.split("-")[0].lower()
    match = _HTML_LANG.search(head)
    return match.group(1).decode().lower() if match else ""
