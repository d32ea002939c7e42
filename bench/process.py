"""Processing throughput and extraction quality on ../shared/benchdata/extraction.

Prints, on one core and side by side:
- articles/s of the pipeline's per-page work (extract with metadata + region tagging + Parquet
  serialisation of the rows) against bare ``trafilatura.extract(html, url=url)``, and the ratio;
- extraction F1 / precision / recall scored as the benchmark's README describes.
Run: python bench/process.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import re
import time
from collections import Counter
from datetime import UTC, datetime

import pyarrow.parquet as pq
import trafilatura

from ingest import table
from ingest.dedupe import text_hash
from ingest.errors import NotAnArticle
from ingest.extract import extract
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
