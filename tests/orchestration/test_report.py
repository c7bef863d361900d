"""The nightly report, opened as a manager opens it: the published page in a real browser
(Debian's chromium through Playwright), offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.report import REPORT_DIR, REPORT_FILE, build_report, report_timezone
from orchestration.serving import SERVING_FILE, STATUS_FILE, current_night
from tests.conftest import DemoRun

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SECTIONS = ("Meaningful relationship moments per team and week",
            "First response in the last 30 days",
            "Waiting past the SLA now", "Volume and sentiment over time", "Share of voice",
            "Community: segments and ambassador candidates")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is not installed (.ci/run installs it with apt-get)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _open(browser, page_file: Path):
    """The page loaded from file:// with every network request refused, and what went wrong."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []

    def refuse_network(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    context.route("**/*", refuse_network)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_file.as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    return page, errors, requested


def _night(demo_run: DemoRun) -> Path:
    night = current_night(demo_run.warehouse.parent / "serving")
    assert night is not None, "the demo run published no night"
    return night


def test_the_published_report_shows_every_section_offline_in_a_browser(
        demo_run: DemoRun, browser, tmp_path: Path) -> None:
    night = _night(demo_run)
    page_file = night / REPORT_DIR / REPORT_FILE
    assert page_file.exists(), "publishing wrote no report"
    page, errors, requested = _open(browser, page_file)
    assert errors == [] and requested == []
    headings = page.locator("section h2").all_inner_texts()
    assert headings == list(SECTIONS)
    # one drawn chart per figure: MRMs, MRM rate, response, volume, share of voice, segments
    assert page.locator(".js-plotly-plot .main-svg").count() >= 6
    assert "without problems" in page.locator("#banner").inner_text()
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

    with duckdb.connect(str(night / SERVING_FILE), read_only=True) as con:
        waiting = con.execute("select count(*) from marts.fct_conversations "
                              "where is_unanswered").fetchone()[0]
    assert waiting > 0  # the demo has people waiting: the count shown is not a default 0
    assert page.locator("#waiting-count").inner_text() == str(waiting)
    status = json.loads((night / STATUS_FILE).read_text())
    shown = page.locator("#data-as-of").inner_text()
    assert shown.endswith(("CET", "CEST")), shown  # the reporting time zone, Berlin
    assert status["data_as_of"][:4] in shown


def test_a_failed_night_puts_its_reason_on_top_of_the_last_good_report(
        demo_run: DemoRun, browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    night = tmp_path / "night"
    night.mkdir()
    shutil.copy(_night(demo_run) / SERVING_FILE, night / SERVING_FILE)
    status = json.loads((_night(demo_run) / STATUS_FILE).read_text())
    status.update(last_attempt_status="failed", last_attempt_at="2026-07-01T00:30:00Z",
                  last_failure="check raw_x_tweets_row_count failed: <b>42</b> rows")
    (night / STATUS_FILE).write_text(json.dumps(status))
    monkeypatch.setenv("RAPPORT_REPORT_TIMEZONE", "America/New_York")
    page, errors, _ = _open(browser, build_report(night, report_timezone()))
    banner = page.locator("#banner").inner_text()
    assert errors == []
    assert "failed" in banner and "<b>42</b> rows" in banner  # shown as text, not markup
    assert "Tue 30 Jun 2026, 20:30 EDT" in banner


def test_an_unknown_reporting_time_zone_is_refused_by_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_REPORT_TIMEZONE", "Berlin/Europe")
    with pytest.raises(ValueError, match="RAPPORT_REPORT_TIMEZONE='Berlin/Europe'"):
        report_timezone()
