"""``table.row_order``: taking a batch's columns once in its order gives the table
``table.arrange`` sorts (the serial stage builds its rows that way, ``ingest.process._rows``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from ingest import table


def _columns(count: int, seed: int) -> dict[str, list[Any]]:
    """Article columns with what makes an order awkward: repeated ids, no publication date
    (the fetch date decides the day), empty and missing regions, days either side of midnight."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, 23, 0, tzinfo=UTC)
    cols: dict[str, list[Any]] = {name: [] for name in table.SCHEMA.names
                                  if name not in ("schema_version", "dt", "region")}
    for n in range(count):
        fetched = start + timedelta(minutes=rng.randrange(180))
        row = {name: None for name in cols}
        row.update(article_id=f"a{rng.randrange(count // 2)}", url=f"https://x.example/{n}",
                   text=f"text {n}", fetched_at=fetched,
                   published_at=(None if rng.random() < 0.3
                                 else fetched - timedelta(hours=rng.randrange(72))),
                   primary_region=rng.choice([None, "", "europe", "asia-pacific", "africa"]))
        for name, value in row.items():
            cols[name].append(value)
    return cols


def test_columns_taken_in_row_order_are_the_table_arrange_sorts() -> None:
    for seed in range(5):
        cols = _columns(300, seed)
        expected = table.arrange(cols)
        order = table.row_order(pa.table({
            name: pa.array(cols[name], table.SCHEMA.field(name).type)
            for name in ("published_at", "fetched_at", "primary_region", "article_id")}))
        taken = {name: [values[i] for i in order.to_pylist()] for name, values in cols.items()}
        got = table.arrange(taken, ordered=True)
        assert got.equals(expected)
        assert sorted(order.to_pylist()) == list(range(300))
        # the order is the table's: (dt, region, article_id), ties kept in the given order
        keys = list(zip(got.column("dt").to_pylist(), got.column("region").to_pylist(),
                        got.column("article_id").to_pylist(), strict=True))
        assert keys == sorted(keys)
        assert "none" in got.column("region").to_pylist()
