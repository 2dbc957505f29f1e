"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright (never a
downloaded browser), against a live server holding a small seeded grid. Each page loads
its data from the JSON endpoints, draws its charts, refreshes by itself, and logs no
console error. Screenshots go to $ONEGRID_ARTIFACTS (default test-artifacts/dashboard);
with ONEGRID_UPDATE_DOCS=1 the overview is also saved as docs/dashboard.png for the README.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "monitor"))

from monitor_seed import seed_grid

from gridtest import LiveServer
from onegrid.client import OneGridClient

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).parents[2]
ARTIFACTS = Path(os.environ.get("ONEGRID_ARTIFACTS", REPO / "test-artifacts")) / "dashboard"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

OVERVIEW_CHARTS = ["chart-country", "chart-sitetype", "chart-transfer-volume", "chart-cpu-series", "chart-cpu-activity",
                   "chart-cpu-site", "chart-jobs-state"]
RULES_CHARTS = ["chart-rules-state", "chart-transfer-states"]
JOBS_CHARTS = ["chart-jobs-state-2", "chart-jobs-site"]


@pytest.fixture
def db_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the pages read the endpoints whose figures the API tests check on both databases."""
    path = tmp_path / "onegrid.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def fast_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_MONITOR__REFRESH_SECONDS", "1")  # the pages reload every second


@pytest.fixture
def seeded(fast_refresh: None, live_server: LiveServer) -> tuple[LiveServer, dict[str, str]]:
    return live_server, seed_grid(live_server)


@pytest.fixture
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        # Chromium refuses to run as root with its sandbox.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: errors.append(f"request failed: {req.method} {req.url} {req.failure}"))
        yield page, errors
        browser.close()


def drawn_charts(page: Any, ids: list[str]) -> dict[str, dict[str, float]]:
    """For each canvas: whether Chart.js owns it, the sum of its data, and its painted pixels."""
    return page.evaluate("""(ids) => Object.fromEntries(ids.map((id) => {
        const canvas = document.getElementById(id);
        const chart = Chart.getChart(canvas);
        const total = chart ? chart.data.datasets.flatMap((d) => d.data).reduce((a, b) => a + Number(b), 0) : 0;
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
        return [id, {chart: chart ? 1 : 0, total, painted}];
    }))""", ids)


def assert_drawn(page: Any, ids: list[str]) -> None:
    charts = drawn_charts(page, ids)
    for cid, c in charts.items():
        assert c["chart"] == 1, f"{cid}: no chart"
        assert c["total"] > 0, f"{cid}: chart without data"
        assert c["painted"] > 500, f"{cid}: canvas is blank"


def open_page(page: Any, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_selector(f"body[data-loaded='{name}']", timeout=20_000)


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, account: str, password: str) -> None:
    page.fill("#login-account", account)
    page.fill("#login-password", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector(f"#whoami:has-text('signed in as {account}')", timeout=10_000)


def test_overview_draws_the_seed_charts_and_refreshes_itself(
        seeded: tuple[LiveServer, dict[str, str]], browser_page: tuple[Any, list[str]]) -> None:
    live, tokens = seeded
    page, errors = browser_page
    open_page(page, f"{live.url}/", "overview")
    assert_drawn(page, OVERVIEW_CHARTS)
    sites = page.inner_text("#sites-table")
    assert "DESY" in sites and "Banned" in sites and "SRM endpoint down" in sites
    assert "18.0 GB / 18.0 TB" in sites  # KEK: used / total over its two RSEs
    assert "KEK-TAPE" in page.inner_text("#rses-table")
    legend = page.evaluate("Chart.getChart(document.getElementById('chart-country')).data.labels")
    assert legend == ["Japan", "Germany", "Italy"]
    shoot(page, "overview")
    page.select_option("#volume-span", "1:1")  # the last hour in one-minute bars
    page.wait_for_function("Chart.getChart(document.getElementById('chart-transfer-volume')).data.labels.length"
                           " === 61", timeout=10_000)
    assert_drawn(page, ["chart-transfer-volume"])  # the 30- and 20-minute-old copies are in this hour
    if os.environ.get("ONEGRID_UPDATE_DOCS") == "1":
        page.screenshot(path=str(REPO / "docs" / "dashboard.png"), full_page=True)

    # The page reloads its data by itself: a site banned now shows up without a reload.
    OneGridClient(live.url, tokens["root"]).wms.ban_site("KIT", "downtime")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#sites-table tr')].some("
        "(tr) => tr.innerText.includes('KIT') && tr.innerText.includes('downtime'))", timeout=15_000)
    assert page.evaluate("window.onegridDashboard.refreshes") >= 2
    assert errors == []


def test_rules_and_transfers_page_shows_details_after_sign_in(
        seeded: tuple[LiveServer, dict[str, str]], browser_page: tuple[Any, list[str]]) -> None:
    live, _ = seeded
    page, errors = browser_page
    open_page(page, f"{live.url}/#rules", "rules")
    assert_drawn(page, RULES_CHARTS)
    links = page.inner_text("#links-table")
    assert "KEK-DISK" in links and "2 / 4" in links
    assert page.is_hidden("#stuck-table") and page.is_visible("text=Sign in to see rules")
    sign_in(page, "root", "root-password")
    page.wait_for_selector("#stuck-table:has-text('no space left on KIT-DISK')", timeout=10_000)
    page.wait_for_selector("#failures-table:has-text('checksum mismatch')", timeout=10_000)
    shoot(page, "rules")
    assert errors == []


def test_jobs_page_searches_and_shows_a_jobs_logging_history(
        seeded: tuple[LiveServer, dict[str, str]], browser_page: tuple[Any, list[str]]) -> None:
    live, _ = seeded
    page, errors = browser_page
    open_page(page, f"{live.url}/#jobs", "jobs")
    assert_drawn(page, JOBS_CHARTS)
    assert "3 / 5 jobs done" in page.inner_text("#productions-table")
    sign_in(page, "alice", "alice-password")  # a user sees her own jobs
    assert page.is_hidden("#job-history")  # no job chosen yet
    page.select_option("#job-search select[name=status]", "Done")
    page.click("#job-search button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#jobs-table tbody tr').length === 1 && "
                           "document.querySelector('#jobs-table tbody').innerText.includes('Done')", timeout=10_000)
    assert "analysis_" in page.inner_text("#jobs-table")
    page.click("#jobs-table tbody a")
    page.wait_for_selector("#job-history-table:has-text('Received')", timeout=10_000)
    history = page.inner_text("#job-history-table")
    assert history.index("Matched") < history.index("Running") < history.index("Done")
    shoot(page, "jobs")
    assert errors == []


def test_an_expired_session_falls_back_to_the_public_view(
        seeded: tuple[LiveServer, dict[str, str]], browser_page: tuple[Any, list[str]]) -> None:
    live, _ = seeded
    page, errors = browser_page
    open_page(page, f"{live.url}/", "overview")
    page.evaluate("sessionStorage.setItem('onegrid.token', 'expired.or.forged')")
    page.reload()
    page.wait_for_selector("body[data-loaded='overview']", timeout=20_000)
    assert_drawn(page, ["chart-country"])
    assert page.evaluate("sessionStorage.getItem('onegrid.token')") is None
    assert page.is_visible("#login")
    # The one refused request is the browser's own report of the 401; nothing else went wrong.
    assert [e for e in errors if "401" not in e] == []
