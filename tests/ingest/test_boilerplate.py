"""Site-level boilerplate: recurring lines of a site's pages go, the articles' own lines stay."""

from __future__ import annotations

from ingest.boilerplate import HISTORY_PAGES, MIN_PAGES, SiteLines, line_hash

PROMPT = "Sign up for our morning newsletter and never miss a story."
COPYRIGHT = "© 2014 Example News. All rights reserved."


PLACES = ["Ashford", "Bexley", "Camden", "Dover", "Ealing", "Fulham", "Greenwich", "Hackney",
          "Ilford", "Jarrow"]


def story(n: int, *extra: str) -> str:
    place = PLACES[n]
    return "\n".join([f"Officials in {place} reported progress on the new bridge.", *extra,
                      f"Work on the {place} road continues through the summer, they said."])


def test_lines_recurring_on_a_site_are_removed_from_every_page() -> None:
    pages = [("example.com", story(n, PROMPT, COPYRIGHT.replace("2014", str(2010 + n))))
             for n in range(4)]
    sites = SiteLines().learn_all(pages)
    assert sites.boilerplate("example.com") == {line_hash(PROMPT), line_hash(COPYRIGHT)}
    for n, (site, text) in enumerate(pages):
        cleaned, removed = sites.clean(site, text)
        assert (cleaned, removed) == (story(n), 2)


def test_too_few_pages_another_site_or_long_lines_teach_nothing() -> None:
    few = SiteLines().learn_all(("a.com", story(n, PROMPT)) for n in range(MIN_PAGES - 1))
    assert few.clean("a.com", story(9, PROMPT)) == (story(9, PROMPT), 0)
    many = SiteLines().learn_all(("a.com", story(n, PROMPT)) for n in range(5))
    assert many.clean("b.com", story(9, PROMPT)) == (story(9, PROMPT), 0)
    paragraph = "A long paragraph of the article itself " * 8  # over MAX_LINE characters
    long = SiteLines().learn_all(("a.com", story(n, paragraph)) for n in range(5))
    assert long.clean("a.com", story(1, paragraph))[1] == 0


def test_copies_of_one_article_are_not_its_template() -> None:
    # the same story in four feeds of the site, and updates of one story: kept whole
    same = SiteLines().learn_all(("a.com", story(1)) for _ in range(4))
    assert same.clean("a.com", story(1)) == (story(1), 0)
    updates = [story(1, f"Updated at {h} pm with the minister's comments.") for h in range(4)]
    sites = SiteLines().learn_all(("a.com", t) for t in updates)
    assert all(sites.clean("a.com", t) == (t, 0) for t in updates)


def test_the_outcome_does_not_depend_on_page_order() -> None:
    pages = [("a.com", story(n, PROMPT)) for n in range(5)] + [("b.com", story(7))]
    forward, backward = SiteLines().learn_all(pages), SiteLines().learn_all(reversed(pages))
    assert [forward.clean(s, t) for s, t in pages] == [backward.clean(s, t) for s, t in pages]
    assert forward.size() == backward.size()


def test_a_capture_of_one_page_is_cleaned_with_what_the_sites_history_taught() -> None:
    # an hourly poll brings one new page a site: alone it teaches nothing, with the history
    # stored after the site's earlier captures its template lines go
    earlier = SiteLines().learn_all(("a.com", story(n, PROMPT, COPYRIGHT)) for n in range(3))
    alone = SiteLines().learn_all([("a.com", story(5, PROMPT, COPYRIGHT))])
    assert alone.clean("a.com", story(5, PROMPT, COPYRIGHT))[1] == 0
    later = SiteLines(earlier.history()).learn_all([("a.com", story(5, PROMPT, COPYRIGHT))])
    assert later.clean("a.com", story(5, PROMPT, COPYRIGHT)) == (story(5), 2)
    # one page at a time, each capture starting from the last one's history: the same lines go
    history: dict = {}
    for n in range(6):
        sites = SiteLines(history).learn_all([("a.com", story(n, PROMPT))])
        removed = sites.clean("a.com", story(n, PROMPT))[1]
        assert removed == (1 if n >= MIN_PAGES - 1 else 0)
        history = sites.history()


def test_the_history_keeps_the_newest_distinct_pages_of_each_site() -> None:
    pages = [("a.com", story(n % len(PLACES), f"Part {n} of the series.")) for n in range(40)]
    history = SiteLines().learn_all(pages).history()
    assert len(history["a.com"]) == HISTORY_PAGES
    # a page seen before (a copy fetched again later) counts once
    again = SiteLines(history).learn_all([pages[-1]]).history()
    assert again == history
    # a line only the oldest pages had is forgotten with them
    old = SiteLines().learn_all(("a.com", story(n, PROMPT)) for n in range(3))
    newer = SiteLines(old.history()).learn_all(
        ("a.com", story(n % len(PLACES), f"Update {n}.")) for n in range(HISTORY_PAGES))
    assert line_hash(PROMPT) not in SiteLines(newer.history()).boilerplate("a.com")
