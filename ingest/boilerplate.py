"""Site-level boilerplate: lines that recur across a site's pages are not article text.

An extractor judges one page at a time, so a newsletter prompt, a share bar, a "Posted in" line
or a copyright line that sits inside the article's container on every page of a site is kept.
Seen across the site's pages, such a line gives itself away: it recurs word for word, where the
article's own lines do not.

``SiteLines`` learns from the site's earlier pages (its *history*: the last ``HISTORY_PAGES``
distinct pages of the site seen before, kept between captures by ``ingest.sitestate``) and from
the pages processed together (a shard of a capture, which holds every page of its sites: see
``ingest.stage.site_shard``), and removes, from each page's extracted text, the lines found in
at least ``MIN_PAGES`` distinct pages of the same site. So an hourly poll that brings one or two
new pages of a site still has them cleaned with what the site's earlier pages taught, and a
first poll that brings a whole feed learns from the feed's own pages.

Lines are compared normalised (case, digits, spacing: "© 2014 Example News" and
"© 2015 Example News" are one line), as an 8-byte hash of that form. Rules that keep article
text safe:

- a line longer than ``MAX_LINE`` characters is never boilerplate (it is a paragraph);
- pages with identical text count once (a page seen again in a later capture too), and a page
  that would lose more than half of its text keeps it whole (it is a copy or an update of
  another page of the site, not its template);
- a site seen in fewer than ``MIN_PAGES`` pages teaches nothing.

The state is small: per site, the line hashes of its last ``HISTORY_PAGES`` distinct pages.
The outcome for a page is a function of the site's history and the pages processed with it:
deterministic for a given order of captures.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

MIN_PAGES = 3
MAX_LINE = 200
MAX_SHARE = 0.5  # a page losing more than this share of its characters keeps them all
HISTORY_PAGES = 30  # distinct pages of a site kept in its history (the newest)

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_EDGES = re.compile(r"^\W+|\W+$")

# one remembered page of a site: a digest of its text, the hashes of its distinct short lines
Remembered = tuple[str, tuple[int, ...]]


def line_key(line: str) -> str:
    """A line as compared across pages: case-folded, digits as 0, spacing and outer
    punctuation ignored; "" for a line that cannot be boilerplate (empty or too long)."""
    line = line.strip()
    if not line or len(line) > MAX_LINE:
        return ""
    norm = _EDGES.sub("", _SPACE.sub(" ", _DIGITS.sub("0", line.casefold())))
    return norm


def line_hash(line: str) -> int:
    """The stored form of a line: a signed 64-bit hash of its ``line_key`` (0: not a
    candidate)."""
    key = line_key(line)
    if not key:
        return 0
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(),
                          "big", signed=True) or 1


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


class SiteLines:
    """What a site's earlier pages and a set of pages say about each site's recurring lines."""

    def __init__(self, history: Mapping[str, Sequence[Remembered]] | None = None) -> None:
        self._counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self._texts: dict[str, set[str]] = defaultdict(set)
        # every distinct page per site in order: the history first, then the pages learned
        self._pages: dict[str, list[Remembered]] = defaultdict(list)
        for site, pages in (history or {}).items():
            for digest, keys in pages:
                self._add(site, digest, keys)

    def _add(self, site: str, digest: str, keys: Iterable[int]) -> None:
        if digest in self._texts[site]:
            return
        self._texts[site].add(digest)
        kept = tuple(sorted(set(keys) - {0}))
        self._pages[site].append((digest, kept))
        counts = self._counts[site]
        for key in kept:
            counts[key] += 1

    def learn(self, site: str, text: str) -> None:
        """Count the distinct short lines of one page of ``site`` (a text seen before on the
        site, in this set or in its history, counts once)."""
        self._add(site, text_digest(text), (line_hash(line) for line in text.split("\n")))

    def learn_all(self, pages: Iterable[tuple[str, str]]) -> SiteLines:
        for site, text in pages:
            self.learn(site, text)
        return self

    def boilerplate(self, site: str) -> frozenset[int]:
        """The line hashes that are boilerplate on ``site``."""
        return frozenset(k for k, n in self._counts.get(site, {}).items() if n >= MIN_PAGES)

    def clean(self, site: str, text: str) -> tuple[str, int]:
        """``text`` without the site's boilerplate lines, and how many lines went."""
        counts = self._counts.get(site)
        if not counts:
            return text, 0
        lines = text.split("\n")
        drop = [counts.get(line_hash(line), 0) >= MIN_PAGES for line in lines]
        if not any(drop):
            return text, 0
        lost = sum(len(line) for line, d in zip(lines, drop, strict=True) if d)
        if lost > MAX_SHARE * len(text):
            return text, 0
        kept = [line for line, d in zip(lines, drop, strict=True) if not d]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), sum(drop)

    def history(self) -> dict[str, list[Remembered]]:
        """The state to carry to the next capture: per site, its last ``HISTORY_PAGES``
        distinct pages (oldest first)."""
        return {site: pages[-HISTORY_PAGES:] for site, pages in sorted(self._pages.items())
                if pages}

    def size(self) -> int:
        """Distinct (site, line) pairs held."""
        return sum(len(c) for c in self._counts.values())
