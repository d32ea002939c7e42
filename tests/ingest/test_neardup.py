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


# Chinese and Japanese news text written for these tests (no spaces between words)
ZH_STORY = (
    "国家统计局周二公布的数据显示，今年一季度国内生产总值同比增长百分之五点三，增速高于市场预期。"
    "统计局发言人表示，工业生产和服务业均保持稳定恢复，消费对经济增长的贡献率明显提高。"
    "分析人士指出，出口订单回暖和基础设施投资加快是推动经济回升的主要因素，但房地产市场仍然低迷，"
    "地方政府债务压力不容忽视。发言人说，下一阶段将继续实施积极的财政政策和稳健的货币政策，"
    "进一步扩大国内需求，巩固经济回升向好的基础。"
)
ZH_OTHER = (
    "国家统计局周二还公布了三月份的就业数据，全国城镇调查失业率为百分之五点二，比上月下降零点一个百分点。"
    "其中青年失业率有所回落，但仍处于较高水平。人力资源和社会保障部表示，将加大对高校毕业生就业的支持力度，"
    "扩大企业吸纳就业补贴范围，并组织更多线上招聘活动，帮助求职者与用人单位对接。"
)
JA_STORY = (
    "政府は二十八日の閣議で、物価高騰への対策を盛り込んだ総額十三兆円規模の補正予算案を決定した。"
    "電気料金やガス料金の負担を軽減する補助金を来年三月まで延長するほか、低所得世帯への給付金を支給する。"
    "財務相は記者会見で、家計と中小企業を支えるために必要な措置だと強調した。"
    "一方、野党は財源の多くを国債の追加発行に頼っているとして、財政規律の緩みを批判している。"
    "補正予算案は来月召集される臨時国会に提出される見通しだ。"
)
JA_OTHER = (
    "日本銀行は二十八日、金融政策決定会合を開き、短期金利の誘導目標を据え置くことを決めた。"
    "総裁は会見で、賃金と物価の好循環が続いているかを慎重に見極める必要があると述べた。"
    "市場では年明けの追加利上げを予想する声が多く、為替相場は円高方向に振れた。"
)


def _edit(text: str, every: int) -> str:
    """A copy edited lightly: one character in ``every`` replaced (a copy-desk change)."""
    return "".join("的" if i % every == every // 2 else c for i, c in enumerate(text))


def test_chinese_and_japanese_syndication_variants_cluster_with_the_original() -> None:
    """Characters are the shingle tokens of scripts without spaces: agency datelines and
    footers, truncation and light edits keep a copy with its original; another story from
    the same source on the same day stays apart."""
    for story, other, dateline, footer in (
            (ZH_STORY, ZH_OTHER, "新华社北京4月16日电（记者 王晓明）", "\n（完）\n责任编辑：李华"),
            (JA_STORY, JA_OTHER, "【東京共同】", "\n（共同）")):
        items = [
            ("orig", story),
            ("wire", dateline + story + footer),
            ("cut", story[: int(len(story) * 0.7)]),
            ("edited", _edit(story, 40)),
            ("other", other),
        ]
        got = cluster(items)
        assert {got[k] for k in ("orig", "wire", "cut", "edited")} == {"orig"}, got
        assert got["other"] == "other"
        assert len(normalise(story)) == sum(1 for c in story if c.isalnum())  # one per character


def test_spaced_scripts_keep_word_tokens() -> None:
    text = "Москва, 31 марта. Министр заявил: «переговоры продолжатся» — Seoul 서울 회담"
    assert normalise(text) == ["москва", "31", "марта", "министр", "заявил", "переговоры",
                               "продолжатся", "seoul", "서울", "회담"]
    assert normalise("(서울=연합뉴스) 홍길동 기자 = 정부는 오늘") == ["정부는", "오늘"]


def test_texts_without_spaces_shingle_by_three_characters_and_others_by_five_words() -> None:
    from ingest.minhash import SHINGLE, SHINGLE_UNSPACED, normalise, shingle_size

    assert shingle_size(normalise("国务院总理主持召开常务会议，部署稳定就业的措施。")) == SHINGLE_UNSPACED == 3
    assert shingle_size(normalise("政府は31日、新たな経済対策を閣議決定した。")) == 3
    assert shingle_size(normalise("The committee met on Tuesday to discuss the budget.")) == SHINGLE
    # a few Chinese names in an English text do not change how it is shingled
    assert shingle_size(normalise("Officials in 北京 met their counterparts on Monday.")) == 5


def test_related_reading_lines_and_cjk_sign_offs_are_not_part_of_the_story() -> None:
    from ingest.minhash import normalise

    body = "国务院总理主持召开常务会议，部署稳定就业的措施。"
    for extra in ("\n相关阅读：股市收盘上涨", "\n【编辑:王五】", "\n（记者 李四）\n（完）",
                  "\n関連記事：株価が続伸", "\n（ロイター）"):
        assert normalise(body + extra) == normalise(body), extra


def test_signatures_with_their_times_in_micros_equal_those_with_iso_times() -> None:
    """add_signatures given the fetch times as microseconds too (the serial stage has them)
    decides as when it parses the ISO times itself."""
    import numpy as np

    from ingest.dedupe import _micros
    from ingest.minhash import NUM_PERM

    items = _variants(200, 3)
    sketches = [sketch(t) for _, t, _ in items]
    sigs = np.stack([sk.signature if sk.size else np.zeros(NUM_PERM, np.uint8)
                     for sk in sketches]).astype(np.uint8)
    sizes = np.array([sk.size for sk in sketches], np.int64)
    ids, times = [i for i, _, _ in items], [s for _, _, s in items]
    parsed, given = NearDuplicateIndex(), NearDuplicateIndex()
    clusters = parsed.add_signatures(ids, sigs, sizes, times)
    micros = [_micros(s) for s in times]
    micros[0] = None  # (a missing one is parsed from its ISO time)
    assert given.add_signatures(ids, sigs, sizes, times, micros) == clusters
    assert given.matches == parsed.matches and len(parsed.matches) > 20
    assert given.segment_rows() == parsed.segment_rows()
