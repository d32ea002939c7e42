"""Poll and process against real SeaweedFS and a real local HTTP server, faults included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest import table
from ingest.config import SAMPLE_CATALOG, Settings, load_catalog, parse_catalog
from ingest.errors import StorageUnavailable
from ingest.models import DataInterval
from ingest.poll import capture_key, poll_group, state_key
from ingest.process import process_captures
from ingest.query import connect
from ingest.sample.server import SampleServer
from ingest.storage import Stores, make_s3_client
from tests.support import tables
from tests.support.faults import CuttableProxy, install_fault_routes, rss
from tests.support.tables import rows

pytestmark = pytest.mark.integration

INTERVAL = DataInterval(datetime(2014, 3, 31, tzinfo=UTC), datetime(2014, 3, 31, 1, tzinfo=UTC))
NEXT = DataInterval(datetime(2014, 3, 31, 1, tzinfo=UTC), datetime(2014, 3, 31, 2, tzinfo=UTC))


def test_sample_end_to_end(settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    polled = poll_group(settings, stores, catalog, "sample", INTERVAL)
    assert [o.status for o in polled.outcomes] == ["ok"] * 5
    assert polled.capture_keys == [
        "captures/dt=2014-03-31/group=sample/20140331T0000Z-20140331T0100Z.warc.gz"]
    result = process_captures(settings, stores, polled.capture_keys, catalog=catalog)
    assert result.counts["articles"] == 8
    assert result.counts["duplicates"] == 1
    assert result.counts["skipped"] == 3
    reasons = sorted(s["reason"].split(": ", 1)[1] for s in result.skipped)
    assert any("paywall" in r for r in reasons) and any("video page" in r for r in reasons)
    assert result.regions == {"africa": 1, "americas": 1, "asia-pacific": 2, "europe": 3,
                              "middle-east": 1}
    got = rows(settings)
    seed = next(r for r in got if r["url"].endswith("japan-nk-talks.html"))
    assert seed["primary_region"] == "asia-pacific"
    # the page's 2014-03-31T01:28:01+08:00, its feed's Sun, 30 Mar 2014 17:28:01 +0000
    assert seed["published_at"] == datetime(2014, 3, 30, 17, 28, 1, tzinfo=UTC)
    assert "dt=2014-03-30/region=asia-pacific" in result.partitions
    assert "Posted in" not in seed["text"] and "Disqus" not in seed["text"]
    assert seed["title"].startswith("Japan, N.Korea hold first government-level talks")
    assert seed["feed_id"] == "sample-globaltimes-asia-pacific"
    assert seed["is_canonical"] and seed["dup_cluster_id"] == seed["article_id"]
    assert seed["raw_ref"].startswith(f"s3://{settings.raw_bucket}/captures/dt=2014-03-31/")
    assert seed["schema_version"] == 3 and seed["extractor"].startswith("trafilatura/")
    assert seed["language"] == "en" and seed["language_confidence"] > 0.9
    dup = next(r for r in got if not r["is_canonical"])
    original = next(r for r in got if r["article_id"] == dup["duplicate_of"])
    assert dup["dup_cluster_id"] == original["article_id"]
    assert {dup["feed_id"], original["feed_id"]} == {"sample-americas-daily", "sample-eurodesk"}
    manifest = stores.processed.get_json(result.manifest_key)
    assert manifest["partitions"] == result.partitions and manifest["counts"]["articles"] == 8

    # re-running the same interval and batch writes the same keys with the same bytes
    before = tables.state(settings, stores, skip=("state/feeds/", "reports/"))
    again = poll_group(settings, stores, catalog, "sample", INTERVAL)
    assert {o.status for o in again.outcomes} == {"not_modified"}
    assert again.capture_keys == polled.capture_keys
    rerun = process_captures(settings, stores, again.capture_keys, catalog=catalog)
    assert rerun.counts == result.counts
    assert tables.state(settings, stores, skip=("state/feeds/", "reports/")) == before

    # the next interval has nothing new: no capture, no rows
    later = poll_group(settings, stores, catalog, "sample", NEXT)
    assert later.capture_keys == []


def test_duckdb_reads_the_table_straight_from_s3(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    keys = poll_group(settings, stores, catalog, "sample", INTERVAL).capture_keys
    process_captures(settings, stores, keys, catalog=catalog)
    con = connect(settings)
    got = con.execute("""SELECT region, count(*) FROM articles WHERE is_canonical
                         GROUP BY region ORDER BY region""").fetchall()
    assert got == [("africa", 1), ("americas", 1), ("asia-pacific", 2), ("europe", 2),
                   ("middle-east", 1)]


@pytest.fixture
def fault_site() -> Iterator[tuple[SampleServer, dict[str, int]]]:
    with SampleServer() as server:
        switches = install_fault_routes(server)
        server.files["/good.xml"] = rss(server.base, ["/ok", "/flaky", "/gone", "/to-metadata",
                                                      "/huge", "/binary.html", "/loop-a",
                                                      "/huge-gzipped"])
        server.files["/feed500.xml"] = b""
        server.routes["/feed500.xml"] = server.routes["/error500"]
        server.files["/latin1.xml"] = (  # declared UTF-8, sent as Latin-1
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Café</title>'
            f"<item><title>Café crème prices rise</title><link>{server.base}/ok</link></item>"
            "</channel></rss>").encode("latin-1")
        yield server, switches


def fault_catalog(base: str) -> Any:
    feeds = [
        {"id": "good", "url": f"{base}/good.xml"},
        {"id": "broken-xml", "url": f"{base}/malformed.xml"},
        {"id": "server-error", "url": f"{base}/feed500.xml"},
        {"id": "not-found", "url": f"{base}/nothing.xml"},
        {"id": "slow", "url": f"{base}/slow"},
        {"id": "wrong-charset", "url": f"{base}/latin1.xml"},
    ]
    return parse_catalog({"defaults": {"publisher": "Test", "group": "g", "allow_private": True},
                          "feeds": feeds}, env={})


def test_faults_are_recorded_and_a_rerun_completes_what_was_missed(
        settings: Settings, stores: Stores, fault_site: Any) -> None:
    server, switches = fault_site
    catalog = fault_catalog(server.base)
    result = poll_group(settings, stores, catalog, "g", INTERVAL)
    by_id = {o.feed_id: o for o in result.outcomes}
    assert by_id["good"].status == "ok"
    # /huge-gzipped is stored as it came (a few kB of gzip); extraction finds it too big
    assert by_id["good"].pages_ok == 2 and by_id["good"].pages_failed == 6
    errors = {e["url"].rsplit("/", 1)[1]: e for e in by_id["good"].page_errors}
    assert errors["flaky"]["kind"] == "transient" and "HTTP 503" in errors["flaky"]["error"]
    assert "HTTP 404" in errors["gone"]["error"]
    assert "169.254.169.254" in errors["to-metadata"]["error"]
    assert "cap" in errors["huge"]["error"] and "binary" in errors["binary.html"]["error"]
    assert "redirect loop" in errors["loop-a"]["error"]
    assert by_id["broken-xml"].status == "error" and "not a feed" in by_id["broken-xml"].error
    assert by_id["server-error"].status == "error" and "HTTP 500" in by_id["server-error"].error
    assert by_id["not-found"].status == "error" and "HTTP 404" in by_id["not-found"].error
    assert by_id["slow"].status == "error" and "timed out" in by_id["slow"].error
    # declared UTF-8, sent Latin-1: the feed is read anyway and its page fetched
    assert by_id["wrong-charset"].status == "ok" and by_id["wrong-charset"].entries == 1
    assert by_id["wrong-charset"].pages_ok == 1
    report = stores.raw.get_json(result.report_key)
    assert report["counts"]["feeds_failed"] == 4
    state = stores.raw.get_json(state_key("g"))["feeds"]
    assert [p["url"].rsplit("/", 1)[1] for p in state["good"]["pending"]] == ["flaky"]
    assert state["server-error"]["failures"] == 1

    # the flaky server recovers; re-running the same interval adds only the missing page
    switches["flaky_ok"] = 1
    first_capture = stores.raw.get(capture_key("g", INTERVAL))
    again = poll_group(settings, stores, catalog, "g", INTERVAL)
    good = {o.feed_id: o for o in again.outcomes}["good"]
    assert good.status == "not_modified" and good.pages_ok == 1 and good.pages_failed == 0
    assert stores.raw.get_json(state_key("g"))["feeds"]["good"]["pending"] == []
    assert len(stores.raw.get(capture_key("g", INTERVAL))) > len(first_capture)
    processed = process_captures(settings, stores, again.capture_keys, catalog=catalog)
    titles = sorted(r["title"] for r in rows(settings))
    assert titles == ["A fine story", "Flaky story back online"]
    assert processed.counts["articles"] == 2
    (too_big,) = [e for e in processed.errors if e.get("url", "").endswith("/huge-gzipped")]
    assert f"decodes to more than {settings.max_body_bytes} bytes" in too_big["error"]
    assert processed.counts["failed"] == 1


def test_storage_outage_mid_run_loses_nothing_and_a_rerun_completes(
        settings: Settings, sample_server: SampleServer) -> None:
    proxy = CuttableProxy(int((settings.s3_endpoint_url or "").rsplit(":", 1)[1]))
    try:
        via_proxy = settings.model_copy(update={"s3_endpoint_url": proxy.endpoint})
        stores = Stores.from_settings(via_proxy, make_s3_client(via_proxy))
        stores.ensure_buckets()
        catalog = load_catalog(SAMPLE_CATALOG)
        # cut storage while the Global Times page is being served: the run is mid-way
        page = "/globaltimes/content/2014/03/31/japan-nk-talks.html"
        original = sample_server._body(page)
        assert original is not None

        def cut_then_serve(req: Any) -> None:
            proxy.cut()
            from ingest.sample.server import send
            send(req, 200, original, "text/html; charset=utf-8")

        sample_server.routes[page] = cut_then_serve
        with pytest.raises(StorageUnavailable, match="re-run to complete"):
            poll_group(via_proxy, stores, catalog, "sample", INTERVAL)
        del sample_server.routes[page]
        proxy.restore()
        done = poll_group(via_proxy, stores, catalog, "sample", INTERVAL)
        assert len(done.capture_keys) == 1
        assert all(o.status in {"ok", "not_modified", "unchanged"} for o in done.outcomes)
        result = process_captures(via_proxy, stores, done.capture_keys, catalog=catalog)
        assert result.counts["articles"] == 8 and result.counts["failed"] == 0
        # the processing step survives an outage the same way
        proxy.cut()
        with pytest.raises(StorageUnavailable):
            process_captures(via_proxy, stores, done.capture_keys, catalog=catalog)
        proxy.restore()
        assert process_captures(via_proxy, stores, done.capture_keys,
                                catalog=catalog).counts == result.counts
    finally:
        proxy.close()


def _page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{body}</article></body></html>").encode()


def test_syndicated_copy_on_another_day_joins_the_first_story(
        settings: Settings, stores: Stores) -> None:
    paragraphs = [
        f"Part {n}: the port authority in Rotterdam said on Tuesday that container traffic "
        f"rose for the {word} month in a row, as shipping lines returned to routes through the "
        f"North Sea and the Baltic after months of disruption and higher insurance costs."
        for n, word in enumerate(["first", "second", "third", "fourth", "fifth", "sixth"])]
    with SampleServer() as server:
        server.files["/story-a.html"] = _page("Port traffic rises", paragraphs)
        server.files["/story-b.html"] = _page("Rotterdam port traffic up", [
            "ROTTERDAM (Reuters) - " + paragraphs[0], *paragraphs[1:4],
            "Reporting by Bart Meijer; Editing by Jan Harvey"])
        server.files["/a.xml"] = rss(server.base, ["/story-a.html"])
        server.files["/b.xml"] = rss(server.base, ["/story-b.html"])
        catalog = parse_catalog({"defaults": {"publisher": "Test", "allow_private": True},
                                 "feeds": [{"id": "outlet-a", "url": f"{server.base}/a.xml",
                                            "group": "ga"},
                                           {"id": "outlet-b", "url": f"{server.base}/b.xml",
                                            "group": "gb"}]}, env={})
        day2 = DataInterval(datetime(2014, 4, 1, tzinfo=UTC), datetime(2014, 4, 1, 1, tzinfo=UTC))
        first = poll_group(settings, stores, catalog, "ga", INTERVAL).capture_keys
        process_captures(settings, stores, first, catalog=catalog)
        second = poll_group(settings, stores, catalog, "gb", day2).capture_keys
        result = process_captures(settings, stores, second, catalog=catalog)
    segs = [stores.processed.get_json(k) for k in stores.processed.list("state/dedupe/")]
    assert sorted(len(s["near"]) for s in segs) == [1, 1]  # both stories are in the index
    assert result.counts["near_duplicates"] == 1
    by_feed = {r["feed_id"]: r for r in rows(settings)}
    a, b = by_feed["outlet-a"], by_feed["outlet-b"]
    assert a["is_canonical"] and a["dup_cluster_id"] == a["article_id"]
    assert not b["is_canonical"] and b["duplicate_of"] == a["article_id"]
    assert b["dup_cluster_id"] == a["article_id"]
    assert b["content_hash"] != a["content_hash"] and b["similarity"] >= 0.5


def test_two_processing_runs_at_once_are_serialised_and_leave_each_article_once(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from ingest.dedupe import entries_from_segment, segment_key

    catalog = load_catalog(SAMPLE_CATALOG)
    keys = poll_group(settings, stores, catalog, "sample", INTERVAL).capture_keys
    later = poll_group(settings, stores, catalog, "sample", NEXT).capture_keys
    assert keys and not later
    # two different batches over the same capture run at once: their commits take the
    # table's writer lock in turn, and the second replaces the capture's rows of the first
    missing = "captures/dt=2014-03-31/group=missing/x.warc.gz"
    batches = [keys, [*keys, missing]]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda k: process_captures(settings, stores, k, catalog=catalog),
                                 batches))
    assert sorted(stores.processed.list("state/dedupe/")) == sorted(
        {segment_key(keys[0]), segment_key(missing)})  # one segment per capture
    doc = stores.processed.get_json(segment_key(keys[0]))
    assert len(entries_from_segment(doc)) == len(doc["near"]) == 8
    got = rows(settings)
    assert len(got) == 8 and len({r["article_id"] for r in got}) == 8
    assert table.open_table(settings).version() == 1  # two commits, in turn
    assert all(stores.processed.exists(r.manifest_key) for r in results)
    assert "does not exist" in results[1].errors[0]["error"]
    assert not stores.processed.exists(table.LOCK_KEY)  # released


def test_the_dedupe_window_bounds_what_is_read(settings: Settings, stores: Stores) -> None:
    text = [f"Paragraph {n}: the harbour board in Gdansk said on Monday that grain exports rose "
            f"again in the {w} week as ships returned to the Baltic routes after the storms."
            for n, w in enumerate(["first", "second", "third", "fourth", "fifth", "sixth"])]
    narrow = settings.model_copy(update={"dedupe_window_days": 1})
    with SampleServer() as server:
        for name in ("a", "b", "c"):
            server.files[f"/{name}.html"] = _page(f"Grain {name}", text)
            server.files[f"/{name}.xml"] = rss(server.base, [f"/{name}.html"])
        catalog = parse_catalog({"defaults": {"publisher": "T", "allow_private": True},
                                 "feeds": [{"id": f"f{n}", "url": f"{server.base}/{n}.xml",
                                            "group": f"g{n}"} for n in "abc"]}, env={})

        def run(group: str, day: int) -> None:
            start = datetime(2014, 3, day, tzinfo=UTC)
            interval = DataInterval(start, start.replace(hour=1))
            keys = poll_group(narrow, stores, catalog, group, interval).capture_keys
            process_captures(narrow, stores, keys, catalog=catalog)

        run("ga", 1)
        run("gb", 2)   # within one day of the first: a duplicate
        run("gc", 10)  # outside the window: its index is not read, so a new story
    by_feed = {r["feed_id"]: r for r in rows(settings)}
    assert by_feed["fa"]["is_canonical"]
    assert by_feed["fb"]["duplicate_of"] == by_feed["fa"]["article_id"]
    assert by_feed["fc"]["is_canonical"] and by_feed["fc"]["duplicate_of"] is None


def test_the_readmes_duckdb_query_runs_offline_as_written(
        settings: Settings, stores: Stores, sample_server: SampleServer) -> None:
    """The SQL block of the README's "Query it", with this test's endpoint, keys and bucket."""
    import re

    import duckdb

    from ingest.query import _bundled_extension_dir
    from tests.conftest import ROOT

    catalog = load_catalog(SAMPLE_CATALOG)
    keys = poll_group(settings, stores, catalog, "sample", INTERVAL).capture_keys
    process_captures(settings, stores, keys, catalog=catalog)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sql = re.search(r"### Query it.*?```sql\n(.*?)```", readme, re.S).group(1)  # type: ignore[union-attr]
    endpoint = (settings.s3_endpoint_url or "").split("://", 1)[1]
    sql = (sql.replace("'.venv/lib/python3.11/site-packages/duckdb_ext/extensions'",
                       f"'{_bundled_extension_dir()}'")
           .replace("'newsingest'", f"'{settings.s3_access_key}'")
           .replace("'newsingest-secret'", f"'{settings.s3_secret_key}'")
           .replace("127.0.0.1:8333", endpoint)
           .replace("s3://news-processed/", f"s3://{settings.processed_bucket}/"))
    con = duckdb.connect()
    statements = [part.strip() for part in sql.split(";") if part.strip()]
    for statement in statements[:-1]:
        con.execute(statement)
    got = dict(con.execute(statements[-1]).fetchall())
    assert got == {"europe": 2, "asia-pacific": 2, "africa": 1, "americas": 1, "middle-east": 1}


def test_report_reads_the_table(settings: Settings, stores: Stores, sample_server: SampleServer,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from ingest.cli import main

    for name in ("s3_endpoint_url", "s3_access_key", "s3_secret_key", "raw_bucket",
                 "processed_bucket"):
        monkeypatch.setenv(f"NEWS_INGEST_{name.upper()}", str(getattr(settings, name)))
    assert main(["report"]) == 0
    assert "articles" in capsys.readouterr().out  # no table yet: an empty report, no error
    catalog = load_catalog(SAMPLE_CATALOG)
    keys = poll_group(settings, stores, catalog, "sample", INTERVAL).capture_keys
    process_captures(settings, stores, keys, catalog=catalog)
    assert main(["report", "--day", "2014-03-31"]) == 0
    out = capsys.readouterr().out
    assert "europe" in out and "asia-pacific" not in out  # the Asia-Pacific pages are the 30th
    assert main(["report"]) == 0
    assert "asia-pacific" in capsys.readouterr().out


WORLD = {  # feed -> (language, primary region, evidence in the page's own script)
    "sample-huaxia-zh": ("zh", "asia-pacific", "dateline:北京=CN"),
    "sample-toho-ja": ("ja", "europe", "dateline:モスクワ=RU"),
    "sample-hanbit-ko": ("ko", "americas", "dateline:워싱턴=US"),
    "sample-sharq-ar": ("ar", "middle-east", "dateline:القاهرة=EG"),
    "sample-sever-ru": ("ru", "europe", "dateline:БЕРЛИН=DE"),
    "sample-diariosur-es": ("es", "americas", "dateline:SANTIAGO=CL"),
    "sample-courrier-fr": ("fr", "africa", "dateline:DAKAR=SN"),
    "sample-nordkurier-de": ("de", "europe", "dateline:WARSCHAU=PL"),
    "sample-atlantico-pt": ("pt", "africa", "dateline:LUANDA=AO"),
    "sample-warta-id": ("id", "asia-pacific", "dateline:JAKARTA=ID"),
}


def test_the_demo_catalog_reads_every_language(settings: Settings, stores: Stores,
                                               sample_server: SampleServer) -> None:
    """make demo's catalog: the sample plus one outlet per language (the Chinese page in GBK),
    each processed with its language, region, evidence in its own script and its section."""
    from ingest.config import DEMO_CATALOG

    catalog = load_catalog(DEMO_CATALOG)
    polled = poll_group(settings, stores, catalog, "sample", INTERVAL)
    assert [o.status for o in polled.outcomes] == ["ok"] * 15
    result = process_captures(settings, stores, polled.capture_keys, catalog=catalog)
    assert result.counts["articles"] == 8 + len(WORLD) and not result.errors
    by_feed = {r["feed_id"]: r for r in rows(settings)}
    for feed, (language, region, evidence) in WORLD.items():
        row = by_feed[feed]
        assert row["language"] == language, feed
        assert row["language_confidence"] > 0.9, feed
        assert row["primary_region"] == region, (feed, row["region_evidence"])
        assert evidence in row["region_evidence"], (feed, row["region_evidence"])
    # the localised "Posted in:" lines are sections, not text; the GBK page reads as Chinese
    assert "Publié dans" not in by_feed["sample-courrier-fr"]["text"]
    assert "日本和朝鲜政府代表团" in by_feed["sample-huaxia-zh"]["text"]
    # the English sample is what it always was
    assert result.regions["europe"] >= 3 and by_feed["sample-eurodesk"]["language"] == "en"


def test_a_sites_recurring_lines_are_taken_out_of_its_articles(settings: Settings,
                                                               stores: Stores) -> None:
    """Four articles of one site carry the same line of its template inside the article body:
    the extractor keeps it on each page alone; processing the capture removes it from all four
    and says so in ``extractor``, and the articles' own text is untouched."""
    from ingest.config import parse_catalog

    prompt = "The Daily Brief is written by the morning desk of the Harbour Herald."
    places = ["Ashford", "Bexley", "Camden", "Dover"]
    with SampleServer() as server:
        paths = []
        for n, place in enumerate(places):
            paras = "".join(
                f"<p>Officials in {place} said on Monday that the {part} stage of the bridge "
                f"repairs would begin soon, with {n + 3} crews at work and the road closed.</p>"
                for part in ("first", "second", "third", "fourth", "fifth"))
            server.files[f"/news/{n}.html"] = (
                f"<html lang='en'><head><title>{place} bridge repairs</title></head><body>"
                f"<article><h1>{place} bridge repairs</h1>{paras}<p>{prompt}</p>"
                "</article></body></html>").encode()
            paths.append(f"/news/{n}.html")
        server.files["/feed.xml"] = rss(server.base, paths)
        catalog = parse_catalog({"feeds": [{"id": "site", "url": f"{server.base}/feed.xml",
                                            "publisher": "Test", "group": "g",
                                            "allow_private": True}]}, env={})
        polled = poll_group(settings, stores, catalog, "g", INTERVAL)
        result = process_captures(settings, stores, polled.capture_keys, catalog=catalog)
    assert result.counts["articles"] == 4
    got = rows(settings)
    assert len(got) == 4
    for row in got:
        assert prompt not in row["text"] and "bridge repairs would begin soon" in row["text"]
        assert row["extractor"].endswith("(site lines: 1)")
