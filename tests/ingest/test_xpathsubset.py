"""trafilatura's pruning XPaths as Python queries (``ingest.xpathsubset``): the same elements as
lxml's XPath, in the same order, on every shared benchmark page and on edge cases built for
each construct; expressions outside the subset are left to lxml."""

from __future__ import annotations

import gzip
from copy import copy

import pytest
import trafilatura.core
import trafilatura.main_extractor
from lxml import etree, html
from trafilatura import xpaths
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor

from ingest.extract import _QUERIES, _XPATH_LISTS, _load_html, _prepare_without_backup, extract
from ingest.xpathsubset import compile_xpath
from tests.conftest import shared_path


def _trafilatura_expressions() -> list[tuple[str, etree.XPath]]:
    return [(f"{name}[{i}]", x) for name in sorted(dir(xpaths)) if name.isupper()
            and isinstance(getattr(xpaths, name), list)
            for i, x in enumerate(getattr(xpaths, name)) if isinstance(x, etree.XPath)]


def _shared_trees() -> list[object]:
    paths = [*shared_path("benchdata", "extraction", "html").glob("*.html.gz"),
             *shared_path("benchdata", "extraction-readability", "html").glob("*.html.gz")]
    assert len(paths) > 250
    options = Extractor(fast=True, comments=False)
    trees = []
    for path in sorted(paths):
        tree = _load_html(gzip.decompress(path.read_bytes()))
        if tree is None:
            continue
        trees.append(tree)  # as the pruning before cleaning sees it, and after
        trees.append(convert_tags(tree_cleaning(copy(tree), options), options))
    return trees


def test_every_compiled_trafilatura_expression_finds_what_lxml_finds() -> None:
    trees = _shared_trees()
    compiled = 0
    for label, expression in _trafilatura_expressions():
        query = compile_xpath(expression.path)
        if query is None:
            continue
        compiled += 1
        for tree in trees:
            assert query(tree) == expression(tree), label
    assert compiled >= 12


def test_the_fast_pass_lists_are_all_python_queries() -> None:
    """Every expression the fast pass prunes with or looks for the article with is compiled
    (else the cost comes back unnoticed), except BODY_XPATH's last (a union, cheap in lxml)."""
    for module, name, queries in _QUERIES:
        left = [q.path for q in queries if isinstance(q, etree.XPath)]
        assert len(left) == (1 if name == "BODY_XPATH" else 0), name
        assert len(queries) == len(getattr(module, name))
    assert [name for _, names in _XPATH_LISTS for name in names][:5] == [
        "RAW_TREE_PRUNE_XPATH", "REMOVE_COMMENTS_AND_LISTS_XPATH", "REMOVE_COMMENTS_XPATH",
        "OVERALL_DISCARD_XPATH", "DISCARD_IMAGE_ELEMENTS"]


_EDGES = """<html><body>
<div class="a first" id="x-1">one<!-- a comment --><?pi here?>
  <section id="comment-7" class="Teaser TEASER b"><h1>title</h1><p>p</p></section>
  <div id="hidden-box" style="display:none" class="">empty class</div>
  <span style="color:red" id="hidden-2">style before id</span>
  <div class="reply-x" id="y">class before id</div>
  <div id="reply-y" class="z">id before class</div>
  <p aria-hidden="true" data-lp-replacement-content="">flags</p>
  <div role="Navigation">role</div><div role="NAV">upper role</div>
  <ul class="CommentList"><li class="comment-1">nested</li></ul>
  <aside class="infinite-scroll"><div class="infinite-scroll">inner</div></aside>
  <aside class="infinite-scroll"><h1>kept: holds the h1</h1></aside>
  <div class="main-Content MAIN-content">case</div>
  <div class="FullText">ignore case</div>
</div></body></html>"""

_CONSTRUCTS = [
    ".//*[self::div or self::section]",
    ".//*[self::div or self::section][@id]",
    ".//*[@class='' or @class='z']",
    ".//*[@data-lp-replacement-content]",
    ".//*[@aria-hidden='true' or @role='NAV']",
    ".//*[@id|@class]",
    ".//*[starts-with(@id|@class, 'reply-')]",
    ".//*[re:test(@id|@style, 'hidden')]",
    ".//*[re:test(@class|@id, '^(?:x|hidden|reply)')]",
    ".//*[contains(@style, 'display:none') or contains(@style, 'display: none')]",
    ".//*[contains(translate(@role, 'N', 'n'), 'nav')]",
    ".//*[contains(translate(@class, 'TEASR', 'teasr'), 'teaser teaser')]",
    ".//*[contains(translate(@class, 'CMX', 'cm'), 'main-content')]",
    ".//*[re:test(@class, 'fulltext', 'i')]",
    ".//*[re:test(@class, 'fulltext')]",
    ".//*[re:test(@class, '')]",
    ".//*[re:test(@nothing, '^$')]",
    ".//*[not(@class)]",
    ".//*[self::aside][re:test(@class, 'infinite-?scroll')][not(.//h1) or @id]",
    ".//*[self::ul or self::div or self::li][re:test(@class, '^[Cc]omment(?!ary)')]"
    "[not(self::ol or self::ul) or re:test(@id, '^x')]",
    ".//*[(self::div and @id) or (self::p and not(@class))]",
    ".//*[self::li]",
    ".//li", ".//div[@id]",
    # positions: each parent's first match, the first in document order
    ".//*[self::div or self::section][@id or @class][1]", ".//*[@class][1]",
    "(.//*[self::div or self::section][@id or @class])[1]", "(.//li)[1]", "(.//article)[1]",
]


@pytest.mark.parametrize("source", _CONSTRUCTS)
def test_each_construct_means_what_xpath_means(source: str) -> None:
    tree = html.fromstring(_EDGES)
    expression = etree.XPath(source, namespaces={"re": "http://exslt.org/regular-expressions"})
    query = compile_xpath(source)
    assert query is not None
    assert query(tree) == expression(tree)
    assert query(tree[0]) == expression(tree[0])  # a subtree as the context


@pytest.mark.parametrize("source", [
    ".//*[self::div][2]", "(.//div)[2]", ".//*[1][@id]", "(.//div)", ".//*[@a]|.//*[@b]",
    ".//*[normalize-space(@class)='x']", ".//*[@class!='x']", ".//*[", "//*[@id]",
    ".//*", ".//*[@id][position() < 2]", ".//*[contains(text(), 'x')]",
    ".//*[@xml:lang='en']", ".//svg:path", ".//*[self::svg:g]",
])
def test_an_expression_outside_the_subset_is_left_to_lxml(source: str) -> None:
    assert compile_xpath(source) is None


def test_extraction_leaves_trafilaturas_own_lists_in_place() -> None:
    """The queries replace trafilatura's lists only inside the fast pass; trafilatura called
    directly afterwards (the benches' baseline) uses its own XPaths."""
    before = {(module.__name__, name): getattr(module, name) for module, names in _XPATH_LISTS
              for name in names}
    prepare = trafilatura.core._prepare_tree
    page = ("<html><body><article><h1>Council</h1>"
            + "<p>The council met on Monday to weigh the plan for the harbour again.</p>" * 12
            + "<div class='share-buttons'>Share this</div></article></body></html>")
    assert "harbour" in extract(page, "https://example.org/a").text
    for (module_name, name), value in before.items():
        module = trafilatura.core if module_name == "trafilatura.core" \
            else trafilatura.main_extractor
        assert getattr(module, name) is value
        assert all(isinstance(x, etree.XPath) for x in value)
    assert trafilatura.core._prepare_tree is prepare


def test_the_fast_pass_prepares_the_tree_trafilatura_prepares() -> None:
    """Without the backup copy nothing reads in fast mode without comments, the cleaned and
    converted tree is trafilatura's own; with comments or outside fast mode, its function."""
    paths = sorted(shared_path("benchdata", "extraction", "html").glob("*.html.gz"))[:40]
    fast = Extractor(fast=True, comments=False)
    for path in paths:
        tree = _load_html(gzip.decompress(path.read_bytes()))
        ours, backup = _prepare_without_backup(tree, fast, "https://example.org/a")
        theirs, _ = trafilatura.core._prepare_tree(tree, fast, "https://example.org/a")
        assert backup is None
        assert etree.tostring(ours) == etree.tostring(theirs), path.name
    slow = Extractor(fast=False, comments=True)
    assert _prepare_without_backup(tree, slow, None)[1] is not None
