"""Region tagging: primary-region accuracy on labelled news and throughput.

Labels come from the annotated geoparsing corpora in ../shared/benchdata/geo. TR-News and LGL
resolve each toponym to a GeoNames entry with its country; GeoWebNews (GWN) gives coordinates,
turned into a country with the offline ``reverse_geocode`` package (nearest GeoNames place;
toponyms marked non-locational are skipped). Rule: map every annotated toponym mention to its
country's region through the default region table; an article's label is the region of a strict
majority (> 50 %) of its mentions; articles without toponyms or without such a majority are left
out. The tagger sees only the title and the text.

Prints accuracy overall and per region (with counts), articles/s on 5 KB articles on one core,
and the matcher's start-up time. Then, per language, the accuracy on the hand-written sets in
``bench/langsets`` (see its README; label: the region of the story's country) and the tagging
speed on 5 KB articles of that language.
Run: python bench/regions.py [--show-errors N] [--languages-only]
"""

from __future__ import annotations

import argparse
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from ingest.regions import RegionTable, Tagger

from common import SHARED, pin_one_core

GEONAMES_ALIASES = {
    "United States": "US", "United Kingdom": "GB", "Russia": "RU", "South Korea": "KR",
    "North Korea": "KP", "Iran": "IR", "Syria": "SY", "Vietnam": "VN", "Laos": "LA",
    "Czechia": "CZ", "Czech Republic": "CZ", "Palestinian Territory": "PS", "Macedonia": "MK",
    "North Macedonia": "MK", "Republic of the Congo": "CG", "Democratic Republic of the Congo": "CD",
    "Ivory Coast": "CI", "Bolivia": "BO", "Venezuela": "VE", "Tanzania": "TZ", "Moldova": "MD",
    "Taiwan": "TW", "Brunei": "BN", "Cabo Verde": "CV", "Cape Verde": "CV", "Eswatini": "SZ",
    "Swaziland": "SZ", "Myanmar": "MM", "Burma": "MM", "Kosovo": "XK", "Vatican": "VA",
    "Micronesia": "FM", "Hong Kong": "HK", "Macao": "MO", "East Timor": "TL", "Timor-Leste": "TL",
}


@dataclass
class Labelled:
    source: str
    docid: str
    title: str
    text: str
    label: str


def country_codes() -> dict[str, str]:
    import json

    from ingest.regions import DATA

    doc = json.loads((DATA / "gazetteer.json").read_text(encoding="utf-8"))
    codes = {}
    for code, info in doc["countries"].items():
        for name in [info["name"], *info["names"]]:
            codes.setdefault(name, code)
    codes.update(GEONAMES_ALIASES)
    return codes


def labelled_articles(table: RegionTable) -> tuple[list[Labelled], Counter[str]]:
    codes = country_codes()
    unknown: Counter[str] = Counter()
    out = []
    for name in ("TR-News.xml", "lgl.xml"):
        root = ET.parse(SHARED / "benchdata" / "geo" / name).getroot()
        for art in root.iter("article"):
            regions: Counter[str] = Counter()
            for country in art.iterfind("./toponyms/toponym/gaztag/country"):
                cname = (country.text or "").strip()
                code = codes.get(cname)
                if code is None:
                    unknown[cname] += 1
                    continue
                region = table.by_country.get(code)
                if region:
                    regions[region] += 1
            label = majority(regions)
            if label:
                out.append(Labelled(name.split(".")[0], art.get("docid", ""),
                                    (art.findtext("title") or "").strip(),
                                    (art.findtext("text") or "").strip(), label))
    out.extend(_gwn_articles(table))
    return out, unknown


def majority(regions: Counter[str]) -> str | None:
    """The region of a strict majority (> 50 %) of the mentions, if there is one."""
    total = sum(regions.values())
    if not total:
        return None
    region, count = regions.most_common(1)[0]
    return region if count * 2 > total else None


def _gwn_articles(table: RegionTable) -> list[Labelled]:
    import reverse_geocode

    root = ET.parse(SHARED / "benchdata" / "geo" / "GWN.xml").getroot()
    out = []
    for art in root.iter("article"):
        points = []
        for top in art.iterfind("./toponyms/toponym"):
            lat, lon = top.findtext("latitude"), top.findtext("longitude")
            if lat and lon and (top.findtext("nonLocational") or "No") != "Yes":
                points.append((float(lat), float(lon)))
        regions: Counter[str] = Counter()
        for place in (reverse_geocode.get(p) for p in points):
            region = table.by_country.get(place["country_code"])
            if region:
                regions[region] += 1
        label = majority(regions)
        if label:
            out.append(Labelled("GWN", art.get("file", ""), (art.findtext("title") or "").strip(),
                                (art.findtext("text") or "").strip(), label))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show-errors", type=int, default=0)
    parser.add_argument("--languages-only", action="store_true")
    args = parser.parse_args()
    pin_one_core()
    start = time.perf_counter()
    tagger = Tagger()
    startup = time.perf_counter() - start
    if not args.languages_only:
        english(tagger, args.show_errors, startup)
    languages(tagger, args.show_errors)


LANGSETS = Path(__file__).resolve().parent / "langsets"


def languages(tagger: Tagger, show_errors: int) -> None:
    """Accuracy and speed per language on the hand-written sets."""
    print(f"{'language':9} {'articles':>8} {'accuracy':>9} {'articles/s':>11}  (targets: "
          "accuracy >= 0.90, >= 2000 articles/s on one core)")
    errors = []
    for path in sorted(LANGSETS.glob("*.tsv")):
        lang = path.stem
        rows = [line.rstrip("\n").split("\t") for line in path.read_text("utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
        ok = 0
        for code, title, text in rows:
            label = tagger.table.by_country[code]
            tags = tagger.tag(text, title=title, language=lang)
            ok += tags.primary_region == label
            if tags.primary_region != label:
                errors.append((lang, code, label, title, tags))
        body = " ".join(f"{title}. {text}" for _, title, text in rows)
        chunks = [body[i:i + 5000] for i in range(0, len(body), 5000) if len(body) - i >= 1000]
        chunks = (chunks * (200 // max(1, len(chunks)) + 1))[:200]
        tagger.tag(chunks[0], language=lang)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for chunk in chunks:
                tagger.tag(chunk, language=lang)
            best = min(best, time.perf_counter() - start)
        print(f"{lang:9} {len(rows):8d} {ok / len(rows):9.3f} {len(chunks) / best:11.0f}")
    for lang, code, label, title, tags in errors[:show_errors]:
        print(f"- {lang} {code} label={label} got={tags.primary_region} {title[:40]!r} "
              f"{tags.evidence[:6]}")


def english(tagger: Tagger, show_errors: int, startup: float) -> None:
    """The English corpora: accuracy overall, per source and per region; speed."""
    articles, unknown = labelled_articles(tagger.table)
    correct: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors = []
    for art in articles:
        tags = tagger.tag(art.text, title=art.title)
        ok = tags.primary_region == art.label
        totals[art.label] += 1
        correct[art.label] += ok
        by_source[art.source][0] += ok
        by_source[art.source][1] += 1
        if not ok:
            errors.append((art, tags))
    n = len(articles)
    print(f"labelled articles: {n} (TR-News + LGL + GWN, strict-majority region of annotated "
          "toponyms)")
    if unknown:
        print(f"  toponym countries not mapped: {dict(unknown.most_common(8))}")
    print(f"primary-region accuracy: {sum(correct.values()) / n:.4f} ({sum(correct.values())} of {n}; "
          "target >= 0.92)")
    for source, (ok, total) in sorted(by_source.items()):
        print(f"  {source:8} {ok / total:.3f} ({total} articles)")
    print(f"{'region':14} {'articles':>8} {'accuracy':>9}")
    for region in sorted(totals, key=lambda r: -totals[r]):
        flag = "" if totals[region] < 10 else "  (target >= 0.85)"
        print(f"{region:14} {totals[region]:8d} {correct[region] / totals[region]:9.3f}{flag}")
    for art, tags in errors[:show_errors]:
        print(f"- {art.source}:{art.docid} label={art.label} got={tags.primary_region} "
              f"{art.title[:60]!r} {tags.evidence[:6]}")

    body = " ".join(a.text for a in articles)
    chunks = [body[i:i + 5000] for i in range(0, min(len(body), 5000 * 400), 5000)]
    tagger.tag(chunks[0])
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for chunk in chunks:
            tagger.tag(chunk)
        best = min(best, time.perf_counter() - start)
    print(f"throughput: {len(chunks) / best:.0f} articles/s on {len(chunks)} 5 KB articles "
          "(text of the labelled articles), one core, best of 3 (target >= 2000)")
    print(f"start-up (building the matcher): {startup:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
