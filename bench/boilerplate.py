"""Site-level boilerplate on a multi-page-per-site set: extraction quality page by page, and with
the lines that recur across a site's pages taken out (ingest.boilerplate), side by side.

The set is built from the shared benchmark pages (the hand-annotated Zyte set, and Mozilla
Readability's pages): each page is one site's template, and ``--pages`` variants of it carry
other articles. In a variant every ``<p>`` whose text is part of the page's true body gets a
paragraph of another article of the set instead (headings, list items, quotes and captions too,
shortened to their length; the true body gets the same substitution), so
the variants share the site's markup and boilerplate but not their article text; a page whose
replaced elements make up less than 95 % of its true body is left out (the rest of its
article text, in headings, lists or captions, would be the same on every variant and count as
boilerplate, which no real site's articles share).
Each site's variants are processed together, as the pages of one capture are (a first poll
of a feed); and one at a time, each in a capture of its own that starts from the history the
site's earlier captures stored (``ingest.sitestate``), as hourly polls bring them.

Prints, per benchmark: sites, pages, F1 / precision / recall (the metric of bench/process.py),
page-level F1, pages changed and lines removed.
Run: python bench/boilerplate.py [--pages N]
"""

from __future__ import annotations

import argparse
import random
import re
from typing import Any

import lxml.html
from process import page_f1, score

from ingest.boilerplate import SiteLines
from ingest.errors import NotAnArticle
from ingest.extract import extract

from common import extraction_pages, pin_one_core

_SPACE = re.compile(r"\s+")
_TEXT_TAGS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption")
COVER = 0.95  # share of a page's true body that its replaced <p> elements must make up


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def variants(pages: list[tuple[str, str, bytes, str]], count: int, seed: int = 11
             ) -> list[tuple[str, list[tuple[str, str, bytes, str]]]]:
    """(site, [(id, url, html, true body)]) for every usable page of the set."""
    rnd = random.Random(seed)
    donors = [_norm(p) for _, _, _, truth in pages for p in truth.split("\n") if len(p) > 80]
    sites = []
    for pid, url, html, truth in pages:
        try:
            tree = lxml.html.fromstring(html)
        except (ValueError, lxml.etree.ParserError):
            continue
        gold = _norm(truth)
        paras = [p for p in tree.iter(*_TEXT_TAGS) if len(_norm(p.text_content())) >= 3
                 and _norm(p.text_content()) in gold
                 and not any(a.tag in _TEXT_TAGS for a in p.iterancestors())]
        covered = sum(len(_norm(p.text_content())) for p in paras)
        if not paras or covered < COVER * len(gold):
            continue
        originals = [_norm(p.text_content()) for p in paras]
        site = []
        for v in range(count):
            new_truth = gold
            for p, old in zip(paras, originals, strict=True):
                new = rnd.choice(donors)
                if p.tag != "p" or len(old) < 60:  # a heading or a short line: a short one
                    new = " ".join(new.split()[:max(2, len(old.split()))])
                for child in list(p):
                    p.remove(child)
                p.text = new
                new_truth = new_truth.replace(old, new, 1)
            site.append((f"{pid}-{v}", url, lxml.html.tostring(tree, encoding="utf-8"),
                         new_truth))
        sites.append((pid, site))
    return sites


def extract_text(html: bytes, url: str) -> Any:
    try:
        return extract(html, url).text
    except NotAnArticle:
        return None


def run(name: str, count: int) -> None:
    sites = variants(extraction_pages(name), count)
    truth: dict[str, str] = {}
    alone: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    hourly: dict[str, str] = {}
    changed = removed_lines = changed_hourly = 0
    for site, pages in sites:
        texts = {pid: extract_text(html, url) for pid, url, html, _ in pages}
        learned = SiteLines().learn_all((site, t) for t in texts.values() if t is not None)
        history: dict[str, Any] = {}
        for pid, _, _, true_body in pages:
            truth[pid] = true_body
            text = texts[pid] or ""
            alone[pid] = text
            cleaned[pid], removed = learned.clean(site, text) if text else ("", 0)
            changed += bool(removed)
            removed_lines += removed
            # steady operation: each page of the site comes in a capture of its own and is
            # cleaned with the history the site's earlier captures stored (ingest.sitestate)
            capture = SiteLines(history).learn_all([(site, text)] if text else [])
            hourly[pid], removed = capture.clean(site, text) if text else ("", 0)
            changed_hourly += bool(removed)
            history = capture.history()
    print(f"{name}: {len(sites)} sites x {count} pages = {len(truth)} pages "
          f"({changed} pages changed, {removed_lines} lines removed, all pages of a site in "
          f"one capture; {changed_hourly} pages changed, a page a capture)")
    print(f"  {'':40} {'F1':>6} {'prec':>6} {'recall':>6} {'page F1':>8}")
    for label, got in (("page by page", alone),
                       ("site lines, a site's pages in one capture", cleaned),
                       ("site lines, a page a capture + history", hourly)):
        f1, p, r = score(got, truth)
        print(f"  {label:40} {f1:6.3f} {p:6.3f} {r:6.3f} {page_f1(got, truth):8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=5, help="pages per site")
    args = parser.parse_args()
    pin_one_core()
    for name in ("extraction", "extraction-readability"):
        run(name, args.pages)


if __name__ == "__main__":
    main()
