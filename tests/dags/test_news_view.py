"""The News view in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium against Airflow's components (``scripts/stack.py``, what
``make run`` and ``make demo`` start) with the plugin, after a demo-sized run of the offline
sample plus a failing feed and a feed whose title is markup.

Logs in through Airflow's login form, opens the view from the navigation, checks every screen
against DuckDB and the reports, clicks the failing feed for its report, and fails on any
error in the browser console. Screenshots go to ``test-artifacts/news-view/`` (or
``$NEWS_INGEST_TEST_ARTIFACTS/news-view/``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ingest.config import SAMPLE_CATALOG, Settings
from ingest.overview import COVERAGE_SQL, backfill_command
from ingest.query import connect
from ingest.sample.server import SampleServer, send
from ingest.storage import Stores
from tests.dags.conftest import ROOT, sample_stack_env

sys.path.insert(0, str(ROOT / "scripts"))
from stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]

SCRIPT_TITLE = "<script>window.injected = 1</script><img src=x onerror=\"window.injected=2\">"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("NEWS_INGEST_TEST_ARTIFACTS") or ROOT / "test-artifacts") / \
    "news-view"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;")


def _routes(server: SampleServer) -> None:
    def broken(req: BaseHTTPRequestHandler) -> None:
        send(req, 500, b"internal error", "text/plain")

    def markup(req: BaseHTTPRequestHandler) -> None:
        items = "".join(f"<item><title>Lost {i}</title><link>{server.base}/lost/{i}.html</link>"
                        "</item>" for i in range(2))
        send(req, 200, (f"<?xml version='1.0'?><rss version='2.0'><channel><title>"
                        f"{_xml(SCRIPT_TITLE)}</title>{items}</channel></rss>").encode(),
             "application/rss+xml")

    server.routes["/broken.xml"] = broken
    server.routes["/markup.xml"] = markup


@pytest.fixture
def airflow(tmp_path: Path, settings: Settings, stores: Stores,
            sample_server: SampleServer) -> Iterator[Stack]:
    _routes(sample_server)
    catalog = yaml.safe_load(SAMPLE_CATALOG.read_text())
    catalog["feeds"] += [
        {"id": "broken-feed", "url": "${NEWS_INGEST_SAMPLE_BASE}/broken.xml",
         "publisher": "Broken Wire"},
        {"id": "markup-feed", "url": "${NEWS_INGEST_SAMPLE_BASE}/markup.xml",
         "publisher": "Markup Wire"},
    ]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    # the store is given as the news_s3 connection, as the compose deployment does: the
    # view's API server reads it outside any task
    env = sample_stack_env(tmp_path, settings, sample_server, catalog=path, s3_connection=True)
    server = Stack.start_fresh(tmp_path, env)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).exists(), (f"{binary} is missing: `make test` installs Debian's "
                                       "chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_anonymous_requests_are_refused(airflow: Stack) -> None:
    paths = ["/news/", "/news/app.js", "/news/api/feeds", "/news/api/coverage",
             "/news/api/completeness", "/news/api/runs", "/news/api/feeds/broken-feed/report"]
    for path in paths:
        anonymous = httpx.get(airflow.base + path, timeout=30)
        assert anonymous.status_code == 401, (path, anonymous.text)
        assert "feeds" not in anonymous.text
        forged = httpx.get(airflow.base + path, headers={"Authorization": "Bearer not-a-token"},
                           timeout=30)
        assert forged.status_code in (401, 403), (path, forged.status_code)
    airflow.login()
    token = {"Authorization": f"Bearer {airflow._token}"}
    assert httpx.get(airflow.base + "/news/api/runs", headers=token, timeout=30).status_code == 200
    bad = httpx.get(airflow.base + "/news/api/coverage?start=2026-02-30", headers=token, timeout=30)
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["detail"]


def test_the_view_in_a_real_browser(airflow: Stack, browser: Any, settings: Settings,
                                    stores: Stores) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    airflow.wait_for_dags(["news_poll", "news_process"])
    poll = airflow.wait_for_runs("news_poll", 1)[0]
    assert poll["state"] == "success", airflow.logs()
    process = airflow.wait_for_runs("news_process", 1)[0]
    assert process["state"] == "success", airflow.logs()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, 60)

    def shot(name: str) -> None:
        browser.switch_to.default_content()
        browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe"))

    def loaded(tab: str) -> None:
        status = browser.find_element(By.ID, "status")
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute(
            f"data-{tab}-loaded") == "true" or status.get_attribute("class") == "error")
        assert status.get_attribute("class") != "error", status.text

    def fresh(tab: str, ready: Any) -> None:
        """Open ``tab`` until ``ready(browser)``: the view answers from data at most its TTL
        (30 s) old, and the run's last writes (reports, manifests) are seconds old."""
        def opened(d: Any) -> bool:
            d.find_element(By.CSS_SELECTOR, f"#tabs a[data-tab={tab}]").click()
            loaded(tab)
            return bool(ready(d))
        wait.until(opened)

    # log in through Airflow's own form; the view is in the navigation
    browser.get(airflow.base + "/")
    wait.until(lambda d: d.find_elements(By.NAME, "username"))
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(airflow.password())
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)
    browser.get_log("browser")  # the login page's own 401 before signing in is not ours
    link = wait.until(lambda d: [a for a in d.find_elements(By.CSS_SELECTOR, "a[href]")
                                 if a.get_attribute("href").endswith("/plugin/news")])
    link[0].click()
    frame = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "iframe"))[0]
    assert frame.get_attribute("src").endswith("/news/")
    browser.switch_to.frame(frame)

    # feed health: failing feed first, the markup title shown as text (once the answer is from
    # after the poll: one computed when the API server started may be served for its TTL)
    fresh("feeds", lambda d: d.find_elements(
        By.CSS_SELECTOR, "tr[data-feed=markup-feed] .sub")[0].text != "Markup Wire")
    rows = browser.find_elements(By.CSS_SELECTOR, "#feed-table tbody tr")
    assert rows[0].get_attribute("data-feed") == "broken-feed"
    assert len(rows) == 7
    markup = browser.find_element(By.CSS_SELECTOR, "tr[data-feed=markup-feed] .sub")
    assert markup.text == SCRIPT_TITLE
    assert browser.execute_script("return window.injected") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "#feed-table script, #feed-table img")
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert
    shot("feed-health")
    rows[0].click()
    wait.until(lambda d: '"status": "error"' in d.find_element(By.ID, "feed-report-json").text)
    report = browser.find_element(By.ID, "feed-report-json").text
    assert "500" in report and "broken-feed" in report
    shot("feed-report")

    # coverage: the numbers shown are DuckDB's
    browser.find_element(By.CSS_SELECTOR, "#tabs a[data-tab=coverage]").click()
    loaded("coverage")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#coverage-chart rect.bar"))
    start = browser.find_element(By.CSS_SELECTOR, "#coverage-range input[name=start]")
    end = browser.find_element(By.CSS_SELECTOR, "#coverage-range input[name=end]")
    first, last = start.get_attribute("value"), end.get_attribute("value")
    con = connect(settings)
    expected = {(d, r): n for d, r, n in con.execute(
        COVERAGE_SQL.format(start=first, end=last)).fetchall()}
    assert expected, "the demo run wrote no rows in the range the view chose"
    shown = {(c.get_attribute("data-day"), c.get_attribute("data-region")): int(c.text)
             for c in browser.find_elements(By.CSS_SELECTOR, "#coverage-table td.count")}
    assert {k: v for k, v in shown.items() if v} == expected
    assert int(browser.find_element(By.ID, "coverage-total").text) == sum(expected.values())
    bars = {(b.get_attribute("data-day"), b.get_attribute("data-series")):
            int(b.get_attribute("data-value"))
            for b in browser.find_elements(By.CSS_SELECTOR, "#coverage-chart rect.bar")}
    assert bars == expected
    shot("coverage")

    # completeness: the failing feed's day is partial; two clicks give the backfill command
    def statuses(d: Any) -> set[str]:
        return {c.get_attribute("data-status")
                for c in d.find_elements(By.CSS_SELECTOR, "#grid tbody tr td.cell")}

    fresh("completeness", lambda d: {"partial", "complete"} <= statuses(d))
    assert {"partial", "complete"} <= statuses(browser)
    headers = browser.find_elements(By.CSS_SELECTOR, "#grid thead th[data-day]")
    headers[0].click()
    headers[2].click()
    command = browser.find_element(By.ID, "backfill-command").text
    assert command == backfill_command(headers[0].get_attribute("data-day"),
                                       headers[2].get_attribute("data-day"))
    broken = {c.get_attribute("data-status") for c in browser.find_elements(
        By.XPATH, "//table[@id='grid']/tbody/tr[th='broken-feed']/td")}
    assert broken == {"missing", "partial"}  # polled today only, and failing
    shot("completeness")

    # runs: the manifest's counts
    manifests = list(stores.processed.list("runs/"))
    fresh("runs", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#run-table tbody tr"))
          >= len(manifests))
    manifest = stores.processed.get_json(manifests[0])
    first_run = browser.find_elements(By.CSS_SELECTOR, "#run-table tbody tr")[0]
    assert str(manifest["counts"]["articles"]) in first_run.text
    shot("runs")

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
