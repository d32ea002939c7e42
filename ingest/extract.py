"""Article text and metadata from HTML, with trafilatura.

``extract(html, url)`` returns an ``Extracted`` record or raises ``NotAnArticle`` with the reason
(no main text, too short, video page, paywall stub). Section lines such as "Posted in: Asia-Pacific"
are removed from the text and returned as section hints for region tagging.
"""

from __future__ import annotations

import contextlib
import re
from importlib.metadata import version
from typing import Any

from htmldate import find_date
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.settings import Document
from trafilatura.utils import load_html

from ingest import textunits
from ingest.dates import page_stamp, parse_stamp
from ingest.errors import NotAnArticle
from ingest.models import Extracted

EXTRACTOR = f"trafilatura/{version('trafilatura')}"

_SECTION_LINE = re.compile(
    r"^\s*(?:posted|filed|published)\s+(?:in|under)\s*:\s*(?P<sections>[^\n]{1,120})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BOILERPLATE_LINE = re.compile(
    r"^\s*(?:blog comments powered by disqus|comments powered by disqus|share this( article)?:?"
    r"|advertisement"
    r"|source\s*:[^\n]{0,120}?published\s*:[^\n]{0,40}"  # "Source:Agencies Published: 2014-3-31"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_HTML_LANG = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
_PAYWALL = re.compile(
    r"\b(subscribe (now|today) to (continue|read)|this (article|content) is (only )?available to "
    r"subscribers|to continue reading,? (please )?(subscribe|log in|sign in))",
    re.IGNORECASE,
)

def extract(html: str | bytes, url: str, min_words: int = 40) -> Extracted:
    """Extract the article in ``html``; raise ``NotAnArticle`` (with a reason) if there is none."""
    raw_head = html[:4096].encode("utf-8", "ignore") if isinstance(html, str) else html[:4096]
    if not raw_head.strip():
        raise NotAnArticle(f"{url}: empty page")
    tree = load_html(html)
    if tree is None:
        raise NotAnArticle(f"{url}: not parseable as HTML")
    meta = _metadata(tree, url)
    page_sections = _page_sections(tree, html if isinstance(html, bytes)
                                   else html.encode("utf-8", "ignore"))
    # fast=True skips trafilatura's readability/jusText comparison: on the extraction
    # benchmark it scores higher (F1 0.965 vs 0.953 for trafilatura's defaults) at about half
    # the cost, which pays for the metadata pass (see bench/process.py).
    doc = bare_extraction(tree, url=url, with_metadata=False, include_comments=False, fast=True)
    if not isinstance(doc, Document) or not (doc.text or "").strip():
        raise NotAnArticle(f"{url}: no main text found (index, video or empty page?)")
    text, sections = _strip_sections(doc.text or "")
    title = (meta.title or "").strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title:
        text = rest.strip()  # the headline is metadata, not body text
    pagetype = (meta.pagetype or "").lower()
    # words in space-separated scripts, characters as word equivalents in Chinese, Japanese,
    # Thai and the like (ingest.textunits states the ratios)
    words = textunits.words(text)
    if _PAYWALL.search(text) and words < 4 * min_words:
        raise NotAnArticle(f"{url}: paywall stub ({textunits.describe(text)} behind a "
                           "subscription prompt)")
    if words < min_words:
        what = "video page" if "video" in pagetype else "not an article (index or stub page?)"
        raise NotAnArticle(f"{url}: only {textunits.describe(text)} of text, {what}; minimum "
                           f"is {min_words} words")
    prose = sum(n for line in text.splitlines() if (n := textunits.words(line)) >= 8)
    if prose < min_words:
        raise NotAnArticle(f"{url}: {words:.0f} words but only {prose:.0f} in sentences: a list "
                           "of links or headlines (index page?), not an article")
    categories = [c.strip() for c in (meta.categories or []) if c and c.strip()]
    # the page's own timestamp with its zone; htmldate's day (from markup, URL) as a fallback
    stamp = page_stamp(tree) or (parse_stamp(meta.date) if meta.date else None)
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
        extractor=EXTRACTOR,
        canonical_url=(meta.url or "").strip(),
    )


_SECTION_META_XPATH = (
    "//meta[@property='article:section' or @name='article:section' or @name='section']/@content")
_SECTION_META = etree.XPath(_SECTION_META_XPATH)
_SECTION_TEXT = etree.XPath(
    _SECTION_META_XPATH + " | //*[not(self::script) and not(self::style)]"
    "[starts-with(normalize-space(text()), 'Posted in') or "
    "starts-with(normalize-space(text()), 'Filed under') or "
    "starts-with(normalize-space(text()), 'Filed in')]/text()"
)
# the text scan reads every element; pages without these words in their source skip it
_SECTION_WORDS = re.compile(rb"Posted\s+in|Filed\s+(?:under|in)")


def _page_sections(tree: Any, source: bytes) -> list[str]:
    """Section labels the page gives itself: ``article:section`` meta, "Posted in: X" lines."""
    found: list[str] = []
    query = _SECTION_TEXT if _SECTION_WORDS.search(source) else _SECTION_META
    for value in query(tree)[:10]:
        value = str(value).strip()
        match = _SECTION_LINE.match(value)
        parts = match.group("sections") if match else value
        if not match and ":" in value[:20]:
            continue
        found.extend(p.strip() for p in re.split(r"[,|;]", parts) if p.strip())
    return [f for f in found if len(f) <= 60]


def _metadata(tree: Any, url: str) -> Document:
    """trafilatura's metadata steps that matter here (meta tags, JSON-LD, title, canonical URL,
    date from markup), without its slow fallbacks (byline and category scans of the body, tags,
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
    # a day from markup and structured data only (htmldate's text scan is slow); the time
    # with its zone comes from ingest.dates, and the feed entry's time when that is better
    meta.date = find_date(tree, url=meta.url or url, extensive_search=False, original_date=True,
                          outputformat="%Y-%m-%d")
    return meta


def _strip_sections(text: str) -> tuple[str, list[str]]:
    sections: list[str] = []
    for match in _SECTION_LINE.finditer(text):
        sections.extend(s.strip() for s in re.split(r"[,|;]", match.group("sections")) if s.strip())
    text = _SECTION_LINE.sub("", text)
    text = _BOILERPLATE_LINE.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, sections


def _authors(value: str) -> tuple[str, ...]:
    parts = [p.strip() for p in re.split(r";|\band\b|,(?=\s*[A-Z])", value) if p.strip()]
    return tuple(dict.fromkeys(parts))


def _language(value: str, head: bytes) -> str:
    if value:
        return value.split("-")[0].lower()
    match = _HTML_LANG.search(head)
    return match.group(1).decode().lower() if match else ""
