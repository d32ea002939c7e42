"""Processing throughput and extraction quality on the shared extraction benchmarks.

Prints, on one core and side by side:
- articles/s of the pipeline's per-page work (extract with metadata + region tagging + Parquet
  serialisation of the rows) against bare ``trafilatura.extract(html, url=url)``, and the ratio;
- extraction F1 / precision / recall scored as the benchmark's README describes;
- on both shared sets (``extraction``, hand-annotated; ``extraction-readability``), news-ingest's
  extractor (production thresholds: a refused page is empty) next to trafilatura defaults,
  trafilatura ``fast=True`` and readability-lxml: F1, P, R, page-level F1 (empty = 0), refused
  pages, time per page, the cost against trafilatura defaults (target <= 1.3x).
Run: python bench/process.py [--repeat N] [--quality-only]
"""

from __future__ import annotations

import argparse
import io
import re
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq
import trafilatura

from ingest import table
from ingest.dedupe import text_hash
from ingest.errors import NotAnArticle
from ingest.extract import SECOND_OPINION, extract, readability_text
from ingest.regions import default_tagger
from ingest.urls import article_id, canonical_url

from common import extraction_pages, pin_one_core

TOKEN = re.compile(r"\w+")


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))


def score(predicted: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    precisions, recalls = [], []
    for pid, true_text in truth.items():
        pred, gold = shingles(predicted.get(pid, "")), shingles(true_text)
        tp = sum((pred & gold).values())
        fp = sum(pred.values()) - tp
        fn = sum(gold.values()) - tp
        total = tp + fp + fn
        if total == 0:
            continue
        tp, fp, fn = tp / total, fp / total, fn / total
        if sum(pred.values()):
            precisions.append(tp / (tp + fp))
        if sum(gold.values()):
            recalls.append(tp / (tp + fn))
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    return 2 * p * r / (p + r), p, r


def pipeline_pass(pages: list[tuple[str, str, bytes, str]]) -> dict[str, str]:
    tagger = default_tagger()
    texts: dict[str, str] = {}
    rows = []
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for pid, url, html, _ in pages:
        try:
            doc = extract(html, url, min_words=1)
        except NotAnArticle:
            texts[pid] = ""
            continue
        texts[pid] = doc.text
        tags = tagger.tag(doc.text, title=doc.title, hints=doc.sections, exclude=[doc.site_name])
        canonical = canonical_url(url)
        rows.append({
            "article_id": article_id(canonical), "url": url, "canonical_url": canonical,
            "feed_id": "bench", "source_domain": "", "title": doc.title, "text": doc.text,
            "authors": list(doc.authors), "published_at": doc.published_at, "fetched_at": now,
            "language": doc.language,
            "countries": [{"code": c, "score": s} for c, s in tags.countries.items()],
            "regions": list(tags.regions), "primary_region": tags.primary_region,
            "region_evidence": list(tags.evidence), "content_hash": text_hash(doc.text),
            "dup_cluster_id": "", "is_canonical": True, "duplicate_of": None, "similarity": None,
            "raw_ref": "", "capture": "", "extractor": doc.extractor, "config_hash": "",
        })
    pq.write_table(table.to_arrow(rows), io.BytesIO(), compression="zstd")  # the table's files
    return texts


def baseline_pass(pages: list[tuple[str, str, bytes, str]]) -> dict[str, str]:
    return {pid: trafilatura.extract(html, url=url) or "" for pid, url, html, _ in pages}


def page_f1(predicted: dict[str, str], truth: dict[str, str]) -> float:
    """Mean F1 per page, an empty result scoring 0 (a refused page costs its reader)."""
    scores = []
    for pid, true_text in truth.items():
        pred, gold = shingles(predicted.get(pid, "")), shingles(true_text)
        tp = sum((pred & gold).values())
        scores.append(2 * tp / (sum(pred.values()) + sum(gold.values())) if tp else 0.0)
    return sum(scores) / len(scores)


def ours(html: bytes, url: str) -> str:
    try:
        return extract(html, url).text  # the production thresholds: a refusal is empty
    except NotAnArticle:
        return ""


EXTRACTORS = {
    "news-ingest extract": ours,
    "trafilatura defaults": lambda html, url: trafilatura.extract(
        html, url=url, include_comments=False) or "",
    "trafilatura fast=True": lambda html, url: trafilatura.extract(
        html, url=url, include_comments=False, fast=True) or "",
    "readability-lxml": lambda html, url: readability_text(html),
}


def quality(repeat: int) -> None:
    """Every extractor on both shared sets, side by side (interleaved, best time of
    ``repeat``)."""
    for benchmark in ("extraction", "extraction-readability"):
        pages = extraction_pages(benchmark)
        truth = {pid: body for pid, _, _, body in pages}
        times: dict[str, float] = {}
        outputs: dict[str, dict[str, str]] = {}
        for _ in range(repeat):
            for name, fn in EXTRACTORS.items():
                start = time.perf_counter()
                outputs[name] = {pid: fn(html, url) for pid, url, html, _ in pages}
                times[name] = min(times.get(name, 1e9), time.perf_counter() - start)
        print(f"\n{benchmark}: {len(pages)} pages, one core, best of {repeat}")
        print(f"{'':24} {'F1':>6} {'P':>6} {'R':>6} {'page F1':>8} {'empty':>6} {'ms/page':>8}")
        for name in EXTRACTORS:
            f1, p, r = score(outputs[name], truth)
            empty = sum(1 for text in outputs[name].values() if not text.strip())
            print(f"{name:24} {f1:6.3f} {p:6.3f} {r:6.3f} {page_f1(outputs[name], truth):8.3f} "
                  f"{empty:6d} {1000 * times[name] / len(pages):8.1f}")
        paths = Counter("fallback" if e.extractor.startswith(SECOND_OPINION) else "fast"
                        for pid, url, html, _ in pages for e in _extracted(html, url))
        print(f"cost news-ingest / trafilatura defaults: "
              f"{times['news-ingest extract'] / times['trafilatura defaults']:.2f}x "
              f"(target <= 1.3x); text from the second opinion on {paths['fallback']} pages")


def _extracted(html: bytes, url: str) -> list[Any]:
    try:
        return [extract(html, url)]
    except NotAnArticle:
        return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quality-only", action="store_true",
                        help="only the side-by-side extraction quality on both shared sets")
    args = parser.parse_args()
    if args.quality_only:
        pin_one_core()
        quality(args.repeat)
        return
    pin_one_core()
    pages = extraction_pages()
    default_tagger()  # built once per process, outside the timed loop (like a worker)
    pipeline_pass(pages[:5])
    baseline_pass(pages[:5])
    times: dict[str, list[float]] = {"pipeline": [], "baseline": []}
    outputs = {}
    for _ in range(args.repeat):  # interleaved so machine noise hits both alike
        for name, fn in (("baseline", baseline_pass), ("pipeline", pipeline_pass)):
            start = time.perf_counter()
            outputs[name] = fn(pages)
            times[name].append(time.perf_counter() - start)
    truth = {pid: body for pid, _, _, body in pages}
    n = len(pages)
    print(f"pages: {n} (../shared/benchdata/extraction), one core, best of {args.repeat}")
    print(f"{'':34} {'seconds':>8} {'articles/s':>11} {'F1':>7} {'P':>7} {'R':>7}")
    for name, label in (("baseline", "bare trafilatura.extract"),
                        ("pipeline", "news-ingest extract+tag+write")):
        best = min(times[name])
        f1, p, r = score(outputs[name], truth)
        print(f"{label:34} {best:8.2f} {n / best:11.1f} {f1:7.3f} {p:7.3f} {r:7.3f}")
    ratio = min(times["pipeline"]) / min(times["baseline"])
    print(f"time ratio pipeline / baseline: {ratio:.2f}x (target <= 1.25x)")
    quality(args.repeat)


if __name__ == "__main__":
    main()
