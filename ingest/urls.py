"""URL canonicalisation and the ids derived from it.

``canonical_url`` builds on courlan's normalisation (scheme and host case, default ports,
tracking parameters, fragments, sorted query) and adds AMP handling. ``url_key`` goes further for
identity: it ignores the scheme and the www./m./amp. host prefixes, so the http and https, desktop,
mobile and AMP copies of one page share one ``article_id``.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

_HOST_PREFIX = re.compile(r"^(?:www\d?|m|mobile|amp)\.")
_AMP_PARAMS = {"amp", "outputtype", "output"}


def canonical_url(url: str) -> str:
    """The normalised form of ``url`` (tracking parameters, fragment and AMP markers removed)."""
    try:
        normal = normalize_url(url.strip())
    except (ValueError, TypeError):
        normal = url.strip()
    parts = urlsplit(normal)
    path = re.sub(r"(?:/amp)+/?$", "/", parts.path) if parts.path.endswith(("/amp", "/amp/")) else parts.path
    if path.endswith(".amp.html"):
        path = path[: -len(".amp.html")] + ".html"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not (k.lower() in _AMP_PARAMS and v.lower() in {"", "1", "amp", "true"})]
    if path != "/" and path.endswith("/") and not parts.path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path or "/", urlencode(sorted(query)), ""))


def url_key(url: str) -> str:
    """The identity of a page: canonical URL without scheme or www./m./amp. host prefix."""
    parts = urlsplit(canonical_url(url))
    host = _HOST_PREFIX.sub("", parts.hostname or "")
    if parts.port:
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    return host + path + (f"?{parts.query}" if parts.query else "")


def article_id(url: str) -> str:
    """A stable id for the page at ``url``: 16 hex chars of SHA-256 over its ``url_key``."""
    return hashlib.sha256(url_key(url).encode("utf-8")).hexdigest()[:16]


def domain(url: str) -> str:
    """The host of ``url`` without the www. prefix, lower case."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same site (equal hosts after dropping www./m./amp.)."""
    return _HOST_PREFIX.sub("", domain(a)) == _HOST_PREFIX.sub("", domain(b))
