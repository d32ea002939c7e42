"""Region tagging: countries mentioned in an article, weighted by where they appear, mapped to
world regions through a replaceable table (``ingest/data/regions.yaml``).

Evidence: country names and spellings, demonyms, capitals and large cities (``gazetteer.json``,
derived offline by ``scripts/build_gazetteer.py``), case-sensitive short forms (US, U.K., UAE),
section hints ("Posted in: Asia-Pacific", ``article:section``) and the catalog's region hint.
Titles and datelines weigh more than body mentions. An article in which none of these appear
is matched once more against a list of small towns (``fallback`` in the gazetteer: US, British,
Irish, Canadian, Australian and New Zealand places of 1,000 people, elsewhere 20,000, and US
county names without "County"), evidence labelled ``town:``. No evidence gives no region, never
a guess.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import ahocorasick
import yaml

from ingest import localnames
from ingest.errors import ConfigError
from ingest.models import RegionTags

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_TABLE = DATA / "regions.yaml"

TITLE_WEIGHT = 3.0
DATELINE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
BODY_CAP = 6.0
LARGE_CITY_FACTOR = 0.8
CITY_FACTOR = 0.6
ADMIN_FACTOR = 0.8
CURRENCY_FACTOR = 0.6  # "£" anywhere in the article, counted once
SHORT_FACTOR = 0.7  # "U.S.", "UK": national short forms fill international stories too
FALLBACK_FACTOR = 0.6  # a small town (consulted only when nothing else is found)
DEMONYM_FACTOR = 0.7  # "Italian food", "Irish pub": a demonym says less than a place name
SECTION_WEIGHT = 4.0
FEED_HINT_WEIGHT = 2.0
MIN_REGION_SCORE = 0.6  # one mention of a city is evidence
MIN_REGION_SHARE = 0.25
# Names that are also first names or surnames: not evidence next to another capitalised word.
PERSONISH = {"Jordan", "Chad", "Israel", "Kenya", "Georgia", "India", "Paris", "Chelsea",
             "Victoria", "Sydney", "Austin", "Houston", "Phoenix", "Florence", "Regina",
             "Madison", "Orlando", "Lincoln", "Jackson", "Eugene", "Troy"}

# Region names as they appear in section labels, lower-cased.
SECTION_ALIASES = {
    "asia-pacific": "asia-pacific", "asia pacific": "asia-pacific", "asia": "asia-pacific",
    "apac": "asia-pacific", "australia": "asia-pacific", "oceania": "asia-pacific",
    "europe": "europe", "uk": "europe", "americas": "americas", "latin america": "americas",
    "us": "americas", "u.s.": "americas", "north america": "americas", "canada": "americas",
    "middle east": "middle-east", "middle-east": "middle-east", "mideast": "middle-east",
    "africa": "africa",
}
# Phrases that contain a country name but are not that country: they win as longer matches.
BLOCKERS = ("New Mexico", "New South Wales", "New England", "New Guinea", "Papua New Guinea",
            "Guinea pig", "New Jersey", "Jersey City", "Washington Post", "Washington state",
            "Georgia Tech", "Indian Ocean", "American Samoa", "Latin America", "South America",
            "North America", "Central America", "Latin American", "South American",
            "North American", "Central American", "Native American", "Turkish delight",
            "China Sea", "Korean War", "French fries", "Irish coffee")
# candidates for the case-sensitive short forms (US, U.S., UK, UAE, DPRK...), checked against the
# gazetteer's list; starting with a character class keeps the scan fast
_SHORT = re.compile(r"[UDPR](?<=\b[UDPR])[A-Z.]{1,5}(?![\w])")


class RegionTable:
    """Country code -> region, loaded from YAML."""

    def __init__(self, regions: dict[str, list[str]]) -> None:
        self.by_country: dict[str, str] = {}
        for region, codes in regions.items():
            for code in codes:
                self.by_country[code.upper()] = region
        self.names = tuple(sorted(regions))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_TABLE) -> RegionTable:
        """Read a region table; ``ConfigError`` if it is malformed."""
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            regions = doc["regions"]
            if not isinstance(regions, dict) or not all(isinstance(v, list) for v in regions.values()):
                raise TypeError
        except FileNotFoundError:
            raise ConfigError(f"region table {path} does not exist") from None
        except (yaml.YAMLError, KeyError, TypeError):
            raise ConfigError(
                f"region table {path}: expected 'regions:' mapping region names to lists of "
                "ISO 3166 alpha-2 codes"
            ) from None
        return cls(regions)


class Tagger:
    """Matches place names in text and scores countries and regions."""

    def __init__(self, table: RegionTable | None = None) -> None:
        self.table = table or RegionTable.load()
        doc = json.loads((DATA / "gazetteer.json").read_text(encoding="utf-8"))
        self.short_forms: dict[str, str] = doc["short_forms"]
        self.alternates: dict[str, list[str]] = {k: list(v) for k, v in
                                                 doc.get("alternates", {}).items()}
        self.us_namesakes: frozenset[str] = frozenset(doc.get("us_namesakes", []))
        self._fallback_names: dict[str, str] = doc.get("fallback", {})
        self._towns: ahocorasick.Automaton | None = None
        self.given_names: frozenset[str] = frozenset(doc.get("given_names", []))
        ambiguous = set(doc["ambiguous"])
        self.automaton = ahocorasick.Automaton()
        entries: dict[str, tuple[str, str, float, str]] = {}
        # lowest priority first, so country names beat capitals beat cities beat divisions;
        # a name taken from another country keeps that country as an alternate
        for kind, factor in (("regions", ADMIN_FACTOR), ("cities", CITY_FACTOR),
                             ("capitals", 1.0), ("demonyms", DEMONYM_FACTOR), ("names", 1.0)):
            for code, info in doc["countries"].items():
                large = set(info.get("large", []))
                for name in info.get(kind, []):
                    if name in ambiguous:
                        continue
                    weight = LARGE_CITY_FACTOR if kind == "cities" and name in large else factor
                    old = entries.get(name.lower())
                    if old is not None and old[1] != code:
                        others = self.alternates.setdefault(name, [])
                        if old[1] not in others:
                            others.append(old[1])
                    entries[name.lower()] = (name, code, weight, kind)
        for phrase in BLOCKERS:
            entries.setdefault(phrase.lower(), (phrase, "", 0.0, "blocker"))
        # Georgia: the US state or the country, settled by the other evidence (see tag()).
        entries["georgia"] = ("Georgia", "?GE-US", 1.0, "names")
        entries["jordan"] = ("Jordan", "JO", 1.0, "names")
        abbrevs = "|".join(re.escape(a) for a in doc.get("us_state_abbreviations", []))
        self.us_abbrev = re.compile(rf", ({abbrevs})(?![\w.])") if abbrevs else None
        # Keys in their written case plus all capitals (datelines): matching the text as it is
        # skips the many lower-case hits ("Iran" in "veteran") a case-folded search wades through.
        for value in entries.values():
            name = value[0]
            for key in {name, name.upper(), name[:1].upper() + name[1:]}:
                self.automaton.add_word(key, (len(key), *value))
        self.automaton.make_automaton()
        self.sections = {**localnames.section_aliases(), **SECTION_ALIASES}

    def tag(
        self,
        text: str,
        title: str = "",
        hints: Iterable[str] = (),
        feed_region: str | None = None,
        exclude: Iterable[str] = (),
        language: str | None = None,
    ) -> RegionTags:
        """Score the article; ``hints`` are section labels, ``exclude`` publisher names,
        ``language`` the article's language (other scripts are recognised in the text)."""
        text = text or ""
        title = title or ""
        scores: dict[str, float] = defaultdict(float)
        body_scores: dict[str, float] = defaultdict(float)
        evidence: list[str] = []
        langs = dict.fromkeys((*localnames.languages_of(title, language),
                               *localnames.languages_of(text, language)))
        local = [localnames.names_for(lang) for lang in langs]
        found = [(where, m) for where, chunk in (("title", title), ("text", text))
                 for m in self._matches(chunk, exclude, where == "title", local=local)]
        if not found and self._fallback_names:  # no other evidence: small towns (see build)
            towns = self._fallback_automaton()
            found = [(where, m) for where, chunk in (("title", title), ("text", text))
                     for m in self._matches(chunk, exclude, where == "title", towns)]
        if "£" in text or "£" in title:  # prices in pounds: a British story, weakly
            found.append(("text", (len(text), "£", "GB", CURRENCY_FACTOR, "currency")))
        resolved = self._resolve_alternates(found)
        for (where, (start, name, _code, factor, kind)), code in zip(found, resolved,
                                                                     strict=True):
            chunk = title if where == "title" else text
            if where == "title":
                weight, label = TITLE_WEIGHT * factor, "title"
            elif start < 120 and _is_dateline(chunk, start, len(name)):
                weight, label = DATELINE_WEIGHT * factor, "dateline"
            else:
                room = BODY_CAP - body_scores[code]
                weight, label = max(0.0, min(BODY_WEIGHT * factor, room)), "body"
                body_scores[code] += weight
            if weight > 0:
                scores[code] += weight
                kind_label = kind if kind in ("town", "currency") else label
                evidence.append(f"{kind_label}:{name}={code}")
        if "?GE-US" in scores:
            georgia = scores.pop("?GE-US")
            # any sign of the country (Tbilisi, Georgian) wins: US evidence is in every other story
            target = "GE" if scores.get("GE") else "US" if scores.get("US") else ""
            if target:
                scores[target] += georgia
            evidence = [e.replace("=?GE-US", f"={target or '?'}") for e in evidence]
        region_scores: dict[str, float] = defaultdict(float)
        for code, score in scores.items():
            region = self.table.by_country.get(code)
            if region:
                region_scores[region] += score
        for hint in hints:
            region = self.sections.get(hint.strip().lower())
            if region in self.table.names:
                region_scores[region] += SECTION_WEIGHT
                evidence.append(f"section:{hint.strip()}={region}")
        if feed_region and feed_region in self.table.names:
            region_scores[feed_region] += FEED_HINT_WEIGHT
            evidence.append(f"feed:{feed_region}")
        ranked = sorted(region_scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked or ranked[0][1] < MIN_REGION_SCORE:
            return RegionTags(countries=_rounded(scores), region_scores=_rounded(region_scores),
                              evidence=tuple(evidence))
        top = ranked[0][1]
        regions = tuple(r for r, s in ranked if s >= max(MIN_REGION_SCORE, MIN_REGION_SHARE * top))
        return RegionTags(
            countries=_rounded(scores),
            regions=regions,
            primary_region=ranked[0][0],
            region_scores=_rounded(region_scores),
            evidence=tuple(evidence),
        )

    def _resolve_alternates(self, found: list[tuple[str, _Match]]) -> list[str]:
        """Country of each match. A place name that several countries share goes to the one
        the whole article supports most: unambiguous mentions count twice, every mention of a
        shared name once for each of its countries; ties keep the usual owner ("Paris" with
        "Texas" is in the US, "Edmonton" with "London" and "Enfield" is in England).

        A foreign place that is also a US town ("Lebanon", "Athens", "Jordan") is the US town
        when the story names US states, counties, towns or AP state abbreviations at least
        twice and nothing else outside the US (no "Lebanese", no "Beirut", no other foreign
        place: "Amsterdam" and "Brussels" together are the European cities). A place written as
        "Place, State" is already settled by its state."""
        support: dict[str, int] = defaultdict(int)
        for _, (_, name, code, _, kind) in found:
            others = self.alternates.get(name)
            if others is None or kind == "settled":
                support[code] += 2
            else:
                for country in (code, *others):
                    support[country] += 1
        codes = []
        for _, (_, name, code, _, kind) in found:
            others = self.alternates.get(name)
            if others and kind != "settled":
                best = max(others, key=lambda c: support[c])
                if support[best] > support[code]:
                    code = best
            codes.append(code)
        us_local = sum(1 for (_, (_, name, _, _, kind)), code in zip(found, codes, strict=True)
                       if code == "US" and kind in _US_LOCAL and name not in self.us_namesakes)
        if us_local >= 2:
            names_of: dict[str, set[str]] = defaultdict(set)
            for (_, (_, name, _, _, _)), code in zip(found, codes, strict=True):
                names_of[code].add(name)
            foreign = {n for code, ns in names_of.items() if code != "US" for n in ns}
            for i, (_, (_, name, _, _, kind)) in enumerate(found):
                code = codes[i]
                if (code != "US" and kind != "settled" and name in self.us_namesakes
                        and foreign == {name}):
                    codes[i] = "US"
        return codes

    def _fallback_automaton(self) -> ahocorasick.Automaton:
        """The small-town matcher, built on first use (most articles never need it)."""
        if self._towns is None:
            towns = ahocorasick.Automaton()
            for name, code in self._fallback_names.items():
                towns.add_word(name, (len(name), name, code, FALLBACK_FACTOR, "town"))
            towns.make_automaton()
            self._towns = towns
        return self._towns

    def _matches(self, chunk: str, exclude: Iterable[str], title: bool = False,
                 automaton: ahocorasick.Automaton | None = None,
                 local: Iterable[localnames.LocalNames] = ()) -> list[_Match]:
        if not chunk:
            return []
        blocked = _spans(chunk, exclude)
        title_case = title and _is_title_case(chunk)
        found: list[tuple[int, int, str, str, float, str]] = []
        size = len(chunk)
        for end, (length, _name, code, factor, kind) in (automaton or self.automaton).iter(chunk):
            start = end - length + 1
            # cheapest test first: most raw matches sit inside lower-case words
            if not chunk[start].isupper():
                continue  # "china" (porcelain), "turkey" (the bird), "Mali" in "Somalia"
            if start > 0 and (chunk[start - 1].isalnum() or chunk[start - 1] == "_"):
                continue
            if end + 1 < size and (chunk[end + 1].isalnum() or chunk[end + 1] == "_"):
                continue
            name = chunk[start:end + 1]
            person_like = name in PERSONISH or kind in ("cities", "town")
            if (person_like or kind == "regions") and _next_to_capitalised(
                    chunk, start, end + 1, title or not person_like,
                    self.given_names if title_case else None):
                continue  # "Michael Jordan", "Jordan Peterson", "Paris Hilton"
            if kind == "demonyms" and _CULTURE.match(chunk, end + 1):
                continue  # "Italian food", "French students", "Japanese restaurant"
            found.append((start, end + 1, name, code, factor, kind))
        if not _mostly_upper(chunk):
            for m in _SHORT.finditer(chunk):
                if m.start() and chunk[m.start() - 1] == ".":
                    continue
                token = m.group(0)
                if token not in self.short_forms:
                    token = token.rstrip(".")  # "US." at the end of a sentence
                    if token not in self.short_forms:
                        continue
                code = self.short_forms[token]
                found.append((m.start(), m.start() + len(token), token, code, SHORT_FACTOR, "short"))
            if self.us_abbrev is not None and ", " in chunk:
                for m in self.us_abbrev.finditer(chunk):
                    if m.start() > 0 and chunk[m.start() - 1].isalpha():
                        found.append((m.start(1), m.end(1), m.group(1), "US", ADMIN_FACTOR,
                                      "abbrev"))
        for names in local:
            for start, end, name, code, kind in names.find(chunk):
                found.append((start, end, name, code, _LOCAL_FACTORS[kind], kind))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        chosen: list[_Match] = []
        last_end = prev_end = -1
        for start, end, name, code, factor, kind in found:
            if start < last_end or any(s <= start < e for s, e in blocked):
                continue
            last_end = end
            if not code:
                continue
            if (kind in ("regions", "abbrev") and chosen and chosen[-1][4] in _PLACES
                    and chunk[prev_end:start] == ", "):
                # "Belgrade, Minn.", "Paris, Texas", "London, Ontario": the place is in that state
                chosen[-1] = (*chosen[-1][:2], code, chosen[-1][3], "settled")
            chosen.append((start, name, code, factor, kind))
            prev_end = end
        return chosen


_Match = tuple[int, str, str, float, str]  # start, name, country, weight factor, kind
_LOCAL_FACTORS = {"names": 1.0, "capitals": 1.0, "cities": CITY_FACTOR,
                  "demonyms": DEMONYM_FACTOR, "institutions": ADMIN_FACTOR}
_PLACES = frozenset({"cities", "capitals", "names"})
_US_LOCAL = frozenset({"regions", "cities", "abbrev", "settled"})
# A demonym before one of these words describes a cuisine, a language or a style, not a story
# about the country.
_CULTURE = re.compile(
    r"\s+(?:food|foods|cuisine|restaurants?|dish(?:es)?|cooking|sausages?|salads?|breads?|"
    r"pastr(?:y|ies)|coffee|wines?|beers?|fries|class(?:es)?|students?|teachers?|lessons?|"
    r"language|club|dressing|style|music|dances?|dancing|cafes?|bakery|market|festival|"
    r"heritage|cultural|culture)\b", re.IGNORECASE)
_CAP_BEFORE = re.compile(r"\b([A-Z][a-z]+)\s+$")
_CAP_AFTER = re.compile(r"\s+[A-Z][a-z]+")
_NOT_NAMES = {"The", "In", "From", "To", "Of", "And", "For", "On", "At", "By", "With", "Northern",
              "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
              "January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December", "Mr", "Mrs", "Ms", "Dr",
              "Southern", "Eastern", "Western", "Central", "North", "South", "East", "West",
              "Said", "Says", "New", "Greater", "Upper", "Lower"}


def _next_to_capitalised(chunk: str, start: int, end: int, title: bool,
                         given: frozenset[str] | None = None) -> bool:
    """Whether a name stands in a run of capitalised words, like a person's full name
    ("Michael Jordan", "Jordan Peterson"); in headlines only the word before counts, and in
    title-case headlines (``given``: every word is capitalised) only a given name before it
    ("Michael Jordan Retires", not "Official Visits Georgia")."""
    before = _CAP_BEFORE.search(chunk[max(0, start - 30):start])
    if before and before.group(1) not in _NOT_NAMES and (
            given is None or before.group(1) in given):
        return True
    if title or chunk[start:end].isupper():
        return False
    after = _CAP_AFTER.match(chunk, end)
    return bool(after and after.group(0).strip() not in _NOT_NAMES)


def _is_title_case(chunk: str) -> bool:
    """A headline with (nearly) every word capitalised."""
    words = [w for w in chunk.split() if w[:1].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def _spans(chunk: str, names: Iterable[str]) -> list[tuple[int, int]]:
    names = [n.strip().lower() for n in names if n and len(n.strip()) >= 3]
    if not names:
        return []
    lower = chunk.lower()
    if len(lower) != len(chunk):  # a few characters change length when lower-cased
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in chunk)
    spans = []
    for name in names:
        start = lower.find(name)
        while start >= 0:
            spans.append((start, start + len(name)))
            start = lower.find(name, start + 1)
    return spans


def _is_dateline(chunk: str, start: int, length: int) -> bool:
    """An upper-case place name at the start of a line followed by a comma or dash
    ("МОСКВА, 31 марта", "PARIS (AFP) -"); in scripts without capitals, a place near the start
    of a line followed by a date, a dash or an agency mark ("新华社北京3月31日电",
    "【ワシントン共同】", "(서울=연합뉴스)", "موسكو - (رويترز)")."""
    line_start = chunk.rfind("\n", 0, start) + 1
    span = chunk[start:start + length]
    if span.upper() == span.lower():
        return start - line_start <= 12 and bool(_UNCASED_DATELINE.match(chunk, start + length))
    if chunk[line_start:start].strip(" ()"):
        return False
    after = chunk[start + length:start + length + 3]
    return span.isupper() and bool(re.match(r"\s*[,(\u2014\u2013-]", after))


_UNCASED_DATELINE = re.compile(r"\s*(?:[,(\u2014\u2013=:\u060c/-]|\d{1,2}\s*月|電|电|共同|時事|発)")


_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")


def _mostly_upper(chunk: str) -> bool:
    head = chunk[:400]
    upper, lower = len(_UPPER.findall(head)), len(_LOWER.findall(head))
    return upper + lower > 20 and upper > 4 * lower


def _rounded(scores: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))}


@functools.lru_cache(maxsize=4)
def data_fingerprint(table_path: str = "") -> str:
    """Short hash of the gazetteers and the region table (changes when any of them changes)."""
    digest = hashlib.sha256((DATA / "gazetteer.json").read_bytes())
    digest.update(localnames.DATA.read_bytes())
    digest.update(Path(table_path or DEFAULT_TABLE).read_bytes())
    return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def default_tagger(table_path: str = "") -> Tagger:
    """A shared tagger (building the matcher takes a moment; do it once per process)."""
    return Tagger(RegionTable.load(table_path) if table_path else None)


def tag(text: str, title: str = "", hints: Iterable[str] = (), **kwargs: object) -> RegionTags:
    """Tag one article with the default region table."""
    return default_tagger().tag(text, title=title, hints=hints, **kwargs)  # type: ignore[arg-type]
