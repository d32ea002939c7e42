"""Near-duplicate clustering: syndication variants join, hard negatives and junk stay apart."""

from __future__ import annotations

from ingest.dedupe import NearDuplicateIndex, cluster
from ingest.minhash import normalise, similarity, sketch

STORY = (
    "The central bank raised interest rates by a quarter point on Tuesday, citing persistent "
    "inflation in services and a tight labour market. Officials said further increases were "
    "possible if price pressures did not ease over the coming months, while some members argued "
    "for a pause. Markets had largely expected the move, and bond yields rose slightly after the "
    "announcement. The governor told reporters that the outlook remained uncertain given slowing "
    "growth abroad, and that the committee would watch wage settlements closely this spring."
)
OTHER = (
    "The city council approved a new budget on Monday that expands bus services and repairs "
    "dozens of bridges, after months of debate over property taxes. Council members said the "
    "plan would hire two hundred drivers and extend night routes to the eastern suburbs, where "
    "commuters have complained about long waits. Opponents argued that the spending relied on "
    "optimistic revenue forecasts and could force cuts to libraries and parks next year."
)
BLURB = ("Sign up for our morning newsletter to get the day's top stories delivered to your "
         "inbox, and follow us on social media for breaking news and videos from our newsroom.")


def test_syndication_variants_cluster_with_the_original() -> None:
    words = STORY.split(" ")
    items = [
        ("orig", STORY),
        ("wire", "WASHINGTON (Reuters) - " + STORY + "\nReporting by Jane Doe; Editing by Tim"),
        ("cut", " ".join(words[: len(words) * 2 // 3])),
        ("quotes", STORY.replace("'", "\u2019").replace(" ", "  ")),
        ("related", STORY.replace(". Markets", ".\nRelated: Stocks rally\nMarkets")),
        ("other", OTHER),
    ]
    got = cluster(items)
    assert {got[k] for k in ("orig", "wire", "cut", "quotes", "related")} == {"orig"}
    assert got["other"] == "other"


def test_leaked_boilerplate_does_not_join_different_stories() -> None:
    got = cluster([("a", STORY + "\n" + BLURB), ("blurb", BLURB), ("b", OTHER + "\n" + BLURB)])
    assert got == {"a": "a", "blurb": "blurb", "b": "b"}


def test_order_decides_the_cluster_id_and_variants_bridge_clusters() -> None:
    words = STORY.split(" ")
    head = " ".join(words[: len(words) * 2 // 3])
    tail_edit = " ".join(words[len(words) // 4:])
    got = cluster([("head", head), ("tail", tail_edit), ("full", STORY)])
    assert set(got.values()) == {"head"}


def test_junk_gets_a_defined_outcome() -> None:
    enormous = " ".join(f"word{i}" for i in range(200_000))
    items = [("empty", ""), ("one", "word"), ("spaces", "   \n "), ("big", enormous),
             ("big2", enormous), ("cjk", "東京で会談が行われた。" * 30), ("none", None)]
    got = cluster((i, t or "") for i, t in items)
    assert got["empty"] == "empty" and got["one"] == "one" and got["spaces"] == "spaces"
    assert got["big2"] == "big" and got["cjk"] == "cjk"


def test_same_id_twice_keeps_its_first_text_and_cluster() -> None:
    got = cluster([("a", STORY), ("b", OTHER), ("a", OTHER), ("c", OTHER)])
    assert got == {"a": "a", "b": "b", "c": "b"}


def test_normalisation_and_estimates() -> None:
    assert normalise("LONDON (AP) — Hello “world”")[:2] == ["hello", "world"]
    a, b = sketch(STORY), sketch(STORY)
    assert similarity(a, b) == (1.0, 1.0)
    assert similarity(sketch(STORY), sketch(OTHER))[0] < 0.1
    assert similarity(sketch(""), a) == (0.0, 0.0)


def test_a_loaded_index_keeps_clusters_and_finds_later_copies() -> None:
    first = NearDuplicateIndex()
    assert first.add("orig", STORY, "2026-11-01T08:00:00+00:00") == "orig"
    assert first.add("wire", "LONDON (AP) - " + STORY, "2026-11-01T09:00:00+00:00") == "orig"
    assert first.add("other", OTHER, "2026-11-01T10:00:00+00:00") == "other"
    rows = first.segment_rows()
    assert [r[0] for r in rows] == ["orig", "wire", "other"]
    assert [r[2] for r in rows] == ["orig", "orig", "other"]
    assert rows[0][1] == "2026-11-01T08:00:00+00:00"

    # Rows listed before their cluster's first member, and rows of an older format.
    later = NearDuplicateIndex()
    later.load_rows([rows[1], rows[0], rows[2], ["old", "2026-10-01T00:00:00+00:00", "old", 50,
                                                  "AAAA"]])
    assert later.skipped_rows == 1
    assert later.add("copy", STORY + "\nReporting by Jane Doe", "2026-11-02T08:00:00+00:00") == "orig"
    assert later.matches["copy"].earlier
    # A copy fetched before the indexed ones (a backfill) joins the cluster and names it.
    assert later.add("early", STORY, "2026-10-30T08:00:00+00:00") == "early"
    assert not later.matches["early"].earlier
    assert later.segment_rows()[0][:3] == ["early", "2026-10-30T08:00:00+00:00", "early"]


def test_a_cluster_whose_first_member_left_the_window_keeps_its_id() -> None:
    first = NearDuplicateIndex()
    first.add("gone", STORY, "2026-10-01T08:00:00+00:00")
    first.add("kept", STORY + "\n© 2026 Reuters", "2026-11-01T08:00:00+00:00")
    later = NearDuplicateIndex()
    later.load_rows([r for r in first.segment_rows() if r[0] == "kept"])
    assert later.add("new", "WASHINGTON (Reuters) - " + STORY, "2026-11-02T08:00:00+00:00") == "gone"
    assert later.matches["new"].duplicate_of == "kept"


def _variants(count: int, seed: int) -> list[tuple[str, str, str]]:
    """(id, text, seen_at): stories and their copies (whole, cut, edited, bridging two
    stories), some with equal seen times, in a shuffled order of ids."""
    import random

    rng = random.Random(seed)
    words = (STORY + " " + OTHER).split(" ")
    bases = [" ".join(rng.choice(words) for _ in range(80)) for _ in range(count // 4)]
    out = []
    for n in range(count):
        base = bases[rng.randrange(len(bases))].split(" ")
        kind = rng.randrange(5)
        if kind == 1:
            base = base[:60]
        elif kind == 2:
            base = [rng.choice(words) if rng.random() < 0.15 else w for w in base]
        elif kind == 3:
            base = base[:40] + bases[rng.randrange(len(bases))].split(" ")[40:]
        elif kind == 4 and rng.random() < 0.3:
            base = base[:5]  # too short to index
        out.append((f"id{rng.randrange(10**6):06d}-{n}", " ".join(base),
                    f"2026-10-01T{rng.randrange(3):02d}:00:00+00:00"))
    return out


def test_adding_many_at_once_equals_adding_one_by_one() -> None:
    """add_sketches (candidates among the indexed items looked up for all items at once) gives
    the clusters, matches and stored rows of add_sketch called item by item, on an index with
    loaded items and on an empty one."""
    loaded, items = _variants(300, 1), _variants(400, 2)
    for preload in (True, False):
        one, many = NearDuplicateIndex(), NearDuplicateIndex()
        if preload:
            for index in (one, many):
                seed = NearDuplicateIndex()
                for item_id, text, seen in loaded:
                    seed.add(item_id, text, seen)
                index.load_rows(seed.segment_rows())
        singly = [one.cluster_of(one.add_sketch(i, sketch(t), s)) for i, t, s in items]
        at_once = many.add_sketches([(i, sketch(t), s) for i, t, s in items])
        assert at_once == singly
        assert many.matches == one.matches and len(one.matches) > 50
        assert many.segment_rows() == one.segment_rows()
        assert len(set(singly)) < len(items) - 50  # the set has real clusters to find
