"""First region tagging: the seed article and the basic rules."""

from __future__ import annotations

from pathlib import Path

from ingest.regions import RegionTable, default_tagger, tag
from tests.conftest import shared_path


def test_seed_article_is_asia_pacific_with_evidence() -> None:
    seed = shared_path("examples", "globaltimes-2014-03-31-japan-nk-talks.txt").read_text()
    title, _, body = seed.partition("\n")
    tags = tag(body, title=title, hints=["Asia-Pacific"], exclude=["Global Times"])
    assert tags.primary_region == "asia-pacific"
    assert tags.regions[0] == "asia-pacific"
    assert {"JP", "KP", "CN", "KR", "US"} <= set(tags.countries)
    assert max(tags.countries, key=lambda c: tags.countries[c]) == "JP"
    assert "title:Japan=JP" in tags.evidence
    assert "section:Asia-Pacific=asia-pacific" in tags.evidence


def test_dateline_and_title_weigh_more_than_body() -> None:
    tags = tag("PARIS, May 2 - Officials met. A delegate from Kenya was mentioned once.")
    assert tags.primary_region == "europe"
    assert tags.countries["FR"] > tags.countries["KE"]
    assert "dateline:PARIS=FR" in tags.evidence


def test_no_evidence_gives_no_region() -> None:
    for text in ("", "The committee met on Tuesday to discuss the budget.", "<p></p>"):
        tags = tag(text)
        assert tags.primary_region is None and tags.regions == ()


def test_lower_case_common_words_are_not_countries() -> None:
    tags = tag("We ate turkey from fine china plates while we chatted about nothing.")
    assert tags.countries == {}


def test_short_forms_are_case_sensitive() -> None:
    assert "US" in tag("Officials in the US said so.").countries
    assert "US" not in tag("Let us go and tell us more.").countries
    assert tag("Talks in the UAE and the U.K. ended.").countries.keys() >= {"AE", "GB"}


def test_blockers_beat_shorter_names() -> None:
    tags = tag("Storms hit New South Wales and New Mexico on Friday.")
    assert "GB" not in tags.countries and "MX" not in tags.countries


def test_person_names_are_not_places() -> None:
    assert "JO" not in tag("Michael Jordan scored 40 points on Friday.").countries
    assert "JO" not in tag("The critic Jordan Peterson spoke.").countries
    assert tag("Troops crossed into Jordan on Friday.").countries.keys() == {"JO"}
    assert "RU" not in tag("The president met Vladimir Putin for talks.").countries


def test_georgia_follows_the_other_evidence() -> None:
    assert tag("Atlanta, the capital of Georgia, voted; Texas too.").countries.get("US", 0) > 0
    assert "US" not in tag("Tbilisi said Georgia wants talks; Georgian troops left.").countries
    assert tag("Tbilisi said Georgia wants talks.").countries.get("GE", 0) >= 2
    visit = tag("A senior U.S. official visited Georgia. Georgian leaders met him.",
                title="U.S. official visits Georgia")
    assert "body:Georgia=GE" in visit.evidence


def test_publisher_name_is_not_evidence() -> None:
    tags = tag("The Japan Times reported the vote in the city council.",
               exclude=["The Japan Times"])
    assert "JP" not in tags.countries


def test_region_table_covers_the_default_taxonomy() -> None:
    table = RegionTable.load()
    assert table.names == ("africa", "americas", "asia-pacific", "europe", "middle-east")
    expect = {"JP": "asia-pacific", "AU": "asia-pacific", "IR": "middle-east", "EG": "middle-east",
              "GE": "europe", "CY": "europe", "AM": "europe", "RU": "europe", "NG": "africa",
              "BR": "americas", "US": "americas", "SA": "middle-east", "IN": "asia-pacific"}
    assert {c: table.by_country[c] for c in expect} == expect


def test_tagger_is_shared() -> None:
    assert default_tagger() is default_tagger()


def test_shared_place_names_follow_the_article_context() -> None:
    assert tag("A Paris man was arrested, Texas police said.").primary_region == "americas"
    assert tag("A Paris man was arrested, French police said.").primary_region == "europe"


def test_a_single_state_or_province_is_evidence() -> None:
    assert tag("Drivers in Minnesota were warned about ice.").primary_region == "americas"
    assert tag("Floods hit Queensland again.").primary_region == "asia-pacific"


def test_config_hash_changes_with_the_region_table(tmp_path: Path) -> None:
    from ingest.config import Settings
    from ingest.process import config_hash
    from ingest.regions import DEFAULT_TABLE

    other = tmp_path / "regions.yaml"
    other.write_text(DEFAULT_TABLE.read_text(encoding="utf-8") + "\n# north america split\n",
                     encoding="utf-8")
    assert config_hash(Settings()) == config_hash(Settings())
    assert config_hash(Settings(regions_path=str(other))) != config_hash(Settings())


def test_shared_names_follow_the_article_as_a_whole() -> None:
    story = "Edmonton teenager jailed. The Edmonton youth, from Enfield in north London, was held."
    assert tag(story).primary_region == "europe"
    paris = tag("Paris officials met. French ministers and the US ambassador talked in Paris.")
    assert paris.primary_region == "europe"


def test_place_followed_by_its_state_is_in_that_state() -> None:
    tags = tag("A woman was found dead in Belgrade, Minn., after a house fire on Sunday.")
    assert tags.primary_region == "americas" and "body:Belgrade=US" in tags.evidence
    assert list(tag("The fair in Paris, Texas, drew a crowd.").countries) == ["US"]


def test_foreign_names_that_are_us_towns_follow_a_local_us_story() -> None:
    local = ("Lebanon schedules its spring clean-up for Saturday. Volunteers from Zionsville and "
             "Boone County will meet at the Lebanon town hall, the Indiana town said.")
    assert tag(local, title="Lebanon schedules spring clean-up").primary_region == "americas"
    # a sign of the country itself keeps it there
    abroad = local + " A Beirut charity and Lebanese families sent a message of thanks."
    assert "LB" in tag(abroad).countries
    # national US words are in every foreign story too: they do not make Cairo a US town
    envoy = "The U.S. envoy arrived in Cairo on Monday for talks, the State Department said."
    assert tag(envoy).countries.get("EG")


def test_saint_spellings_and_their_namesakes() -> None:
    russia = ("Activists in St. Petersburg protested a new law. Russian officials in the Kremlin "
              "said the Sochi games would go ahead.")
    assert tag(russia).primary_region == "europe"
    florida = "St. Petersburg police said the beach in Pinellas County, Florida, reopened."
    assert tag(florida).primary_region == "americas"


def test_small_towns_count_only_when_nothing_else_does() -> None:
    local = "Deputies in Pointe Coupee arrested a teenager on a weapons count on Friday."
    tags = tag(local)
    assert tags.primary_region == "americas" and "town:Pointe Coupee=US" in tags.evidence
    # with other evidence the small-town list is not consulted
    assert not any(e.startswith("town:") for e in tag(local + " Officials in Kenya said.").evidence)


def test_title_case_headlines_keep_places_after_capitalised_words() -> None:
    tags = tag("The general met officials in Tbilisi.",
               title="Senior Military Official Visits Georgia")
    assert "title:Georgia=GE" in tags.evidence
    assert "Jordan" not in " ".join(tag("", title="Michael Jordan Retires From Basketball").evidence)


def test_cultural_demonyms_pounds_and_institutions() -> None:
    fair = ("The Walker County fair offers Italian food, Greek salads and Polish sausage this "
            "week, organisers in Walker County said.")
    assert tag(fair).primary_region == "americas"
    assert "body:Italian=IT" not in tag(fair).evidence
    assert tag("Italian officials said the talks in Rome would resume.").primary_region == "europe"
    shop = "The corner shop sold a winning ticket worth £1m, its owner said on Tuesday."
    assert "currency:£=GB" in tag(shop).evidence and tag(shop).primary_region == "europe"
    assert tag("Gardai are investigating a robbery on the main street.").countries == {"IE": 1.0}
