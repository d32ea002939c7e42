"""Site-level boilerplate: lines that recur across a site's pages are not article text.

An extractor judges one page at a time, so a newsletter prompt, a share bar, a "Posted in" line
or a copyright line that sits inside the article's container on every page of a site is kept.
Seen across the site's pages, such a line gives itself away: it recurs word for word, where the
article's own lines do not.

``SiteLines`` learns from the pages processed together (a shard of a capture, which holds every
page of its sites: see ``ingest.stage.site_shard``; so the outcome depends neither on how runs
were grouped nor on how many shards a capture was split into) and removes, from
each page's extracted text, the lines found in at least ``MIN_PAGES`` distinct pages of the same
site. Lines are compared normalised (case, digits, spacing: "© 2014 Example News" and
"© 2015 Example News" are one line). Rules that keep article text safe:

- a line longer than ``MAX_LINE`` characters is never boilerplate (it is a paragraph);
- pages with identical text count once, and a page that would lose more than half of its text
  keeps it whole (it is a copy or an update of another page of the site, not its template);
- a site seen in fewer than ``MIN_PAGES`` pages teaches nothing.

The state is small: per site, a count per distinct short line.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable

MIN_PAGES = 3
MAX_LINE = 200
MAX_SHARE = 0.5  # a page losing more than this share of its characters keeps them all

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_EDGES = re.compile(r"^\W+|\W+$")


def line_key(line: str) -> str:
    """A line as compared across pages: case-folded, digits as 0, spacing and outer
    punctuation ignored; "" for a line that cannot be boilerplate (empty or too long)."""
    line = line.strip()
    if not line or len(line) > MAX_LINE:
        return ""
    norm = _EDGES.sub("", _SPACE.sub(" ", _DIGITS.sub("0", line.casefold())))
    return norm


class SiteLines:
    """What a set of pages says about each site's recurring lines."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._texts: dict[str, set[str]] = defaultdict(set)

    def learn(self, site: str, text: str) -> None:
        """Count the distinct short lines of one page of ``site`` (a text seen before on the
        site counts once)."""
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
        if digest in self._texts[site]:
            return
        self._texts[site].add(digest)
        counts = self._counts[site]
        for key in {line_key(line) for line in text.split("\n")} - {""}:
            counts[key] += 1

    def learn_all(self, pages: Iterable[tuple[str, str]]) -> SiteLines:
        for site, text in pages:
            self.learn(site, text)
        return self

    def boilerplate(self, site: str) -> frozenset[str]:
        """The line keys that are boilerplate on ``site``."""
        return frozenset(k for k, n in self._counts.get(site, {}).items() if n >= MIN_PAGES)

    def clean(self, site: str, text: str) -> tuple[str, int]:
        """``text`` without the site's boilerplate lines, and how many lines went."""
        counts = self._counts.get(site)
        if not counts:
            return text, 0
        lines = text.split("\n")
        drop = [counts.get(line_key(line), 0) >= MIN_PAGES for line in lines]
        if not any(drop):
            return text, 0
        lost = sum(len(line) for line, d in zip(lines, drop, strict=True) if d)
        if lost > MAX_SHARE * len(text):
            return text, 0
        kept = [line for line, d in zip(lines, drop, strict=True) if not d]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), sum(drop)

    def size(self) -> int:
        """Distinct (site, line) pairs held."""
        return sum(len(c) for c in self._counts.values())
