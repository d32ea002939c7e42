"""Article text and metadata from HTML, with trafilatura.

``extract(html, url)`` returns an ``Extracted`` record or raises ``NotAnArticle`` with the reason
(no main text, too short, video page, paywall stub). Section lines such as "Posted in: Asia-Pacific"
are removed from the text and returned as section hints for region tagging.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.metadata import version

from trafilatura import bare_extraction
from trafilatura.settings import Document

from ingest.errors import NotAnArticle
from ingest.models import Extracted

EXTRACTOR = f"trafilatura/{version('trafilatura')}"

_SECTION_LINE = re.compile(
    r"^\s*(?:posted|filed|published)\s+(?:in|under)\s*:\s*(?P<sections>[^\n]{1,120})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BOILERPLATE_LINE = re.compile(
    r"^\s*(?:blog comments powered by disqus|comments powered by disqus|share this( article)?:?"
    r"|advertisement)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_HTML_LANG = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
_PAYWALL = re.compile(
    r"\b(subscribe (now|today) to (continue|read)|this (article|content) is (only )?available to "
    r"subscribers|to continue reading,? (please )?(subscribe|log in|sign in))",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


def extract(html: str | bytes, url: str, min_words: int = 40) -> Extracted:
    """Extract the article in ``html``; raise ``NotAnArticle`` (with a reason) if there is none."""
    raw_head = html[:4096].encode("utf-8", "ignore") if isinstance(html, str) else html[:4096]
    if not raw_head.strip():
        raise NotAnArticle(f"{url}: empty page")
    doc = bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, favor_precision=True,
    )
    if not isinstance(doc, Document) or not (doc.text or "").strip():
        raise NotAnArticle(f"{url}: no main text found (index, video or empty page?)")
    text, sections = _strip_sections(doc.text or "")
    title = (doc.title or "").strip()
    first, _, rest = text.partition("\n")
    if title and first.strip() == title:
        text = rest.strip()  # the headline is metadata, not body text
    pagetype = (doc.pagetype or "").lower()
    words = len(_WORD.findall(text))
    if _PAYWALL.search(text) and words < 4 * min_words:
        raise NotAnArticle(f"{url}: paywall stub ({words} words behind a subscription prompt)")
    if words < min_words:
        what = "video page" if "video" in pagetype else "not an article (index or stub page?)"
        raise NotAnArticle(f"{url}: only {words} words of text, {what}; minimum is {min_words}")
    categories = [c.strip() for c in (doc.categories or []) if c and c.strip()]
    return Extracted(
        text=text,
        title=title,
        authors=_authors(doc.author or ""),
        published_at=_date(doc.date or ""),
        language=_language(doc.language or "", raw_head),
        site_name=(doc.sitename or "").strip(),
        description=(doc.description or "").strip(),
        sections=tuple(dict.fromkeys([*sections, *categories])),
        extractor=EXTRACTOR,
        canonical_url=(doc.url or "").strip(),
    )


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


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _language(value: str, head: bytes) -> str:
    if value:
        return value.split("-")[0].lower()
    match = _HTML_LANG.search(head)
    return match.group(1).decode().lower() if match else ""
