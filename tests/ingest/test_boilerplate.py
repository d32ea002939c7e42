"""Site-level boilerplate: recurring lines of a site's pages go, the articles' own lines stay."""

from __future__ import annotations

from ingest.boilerplate import MIN_PAGES, SiteLines, line_key

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
    assert sites.boilerplate("example.com") == {line_key(PROMPT), line_key(COPYRIGHT)}
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
