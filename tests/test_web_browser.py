"""The web app in a real headless browser: Playwright driving Debian's /usr/bin/chromium against
uvicorn on 127.0.0.1, checking corpus stories with the real pipeline (stories from a loopback
site, some of it slow; papers from the literature stand-in). Skipped without the browser.

What an editor does: submit a story, watch the job page move through the stages (meta refresh,
no JavaScript), land on the report's permanent address, open its JSON, reload it without a new
check, find it in the history; two editors at once; an error page whose DOI form fixes it.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_web import Site, literature, story_site

from factcheck.web import create_app
from factcheck.web.server import bind, default_server_names, running

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--no-proxy-server"]
COFFEE_DOI = "10.5555/fc.coffee-mortality-causal"

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None,
                                reason="no /usr/bin/chromium (apt install chromium)")


@dataclass
class Live:
    base: str
    site: Site


@contextlib.contextmanager
def live_app(state_dir: Path, workers: int = 2, delay: float = 2.0) -> Iterator[Live]:
    """The web app on a free loopback port over the real pipeline, the stand-in and the site."""
    with literature() as stand_in, story_site() as site:
        site.delay = delay
        settings = stand_in.settings(state_dir, host_delay=0.0, read_timeout=15.0)
        sock = bind("127.0.0.1", 0)
        names = default_server_names("127.0.0.1", sock.getsockname()[1])
        app = create_app(settings, server_names=names, workers=workers,
                         allow_hosts=["127.0.0.1"])
        with running(app, sock=sock) as base:
            yield Live(base, site)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("playwright.sync_api")
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_app(tmp_path_factory.mktemp("web-browser")) as app:
        yield app


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _submit(page, live: Live, url: str = "", paper: str = "") -> None:
    page.goto(f"{live.base}/")
    if url:
        page.fill("#url", url)
    if paper:
        page.fill("#paper", paper)
    page.click("button[type=submit]")


def _report_id(page, timeout_s: float = 120) -> int:
    page.wait_for_url(re.compile(r".*/checks/\d+$"), timeout=timeout_s * 1000)
    return int(page.url.rsplit("/", 1)[1])


def test_web_browser_submit_watch_progress_and_open_the_permalink(page, live):
    story = live.site.url("/slow/coffee-mortality-causal")
    live.site.delay = 5.0
    try:
        _submit(page, live, story)
        _watch_and_open(page, live)
    finally:
        live.site.delay = 2.0


def _watch_and_open(page, live: Live) -> None:
    page.wait_for_url(re.compile(r".*/jobs/[\w-]+$"))
    job_url = page.url
    status = page.locator("[role=status]")
    assert "Checking" in status.inner_text() or "Waiting" in status.inner_text()
    # the slow site holds the first stage for 5 s, over two refreshes: the page shows it in
    # progress with the stages still to come
    page.wait_for_selector("ol.stages li.now:has-text('Fetching the story')", timeout=30_000)
    assert page.locator("ol.stages li.todo").count() >= 5
    check_id = _report_id(page)
    assert "Coffee helps you live longer" in page.inner_text("h1")
    assert page.locator("span.kind", has_text="causal_language").count() >= 1
    hits = len(live.site.hits)
    page.reload()
    page.goto(job_url)  # the job's address leads to the same report, checked once
    assert _report_id(page) == check_id and len(live.site.hits) == hits
    page.click("text=JSON")
    data = json.loads(page.inner_text("body"))
    assert "causal_language" in {f["kind"] for f in data["findings"]}
    page.goto(f"{live.base}/checks/{check_id}.md")
    assert "causal" in page.inner_text("body").lower()


def test_web_browser_two_editors_at_once_both_get_their_reports(browser, live):
    editors = [browser.new_context() for _ in range(2)]
    try:
        pages = [e.new_page() for e in editors]
        stories = ["/slow/dapagliflozin-ckd-faithful", "/slow/statin-crp-number-mismatch"]
        for page, path in zip(pages, stories):
            _submit(page, live, live.site.url(path))
        for page in pages:
            page.wait_for_url(re.compile(r".*/jobs/[\w-]+$"))
            assert "Busy" not in page.content()
        ids = [_report_id(page) for page in pages]
        assert ids[0] != ids[1]
        titles = [page.inner_text("h1") for page in pages]
        assert "kidney" in titles[0].lower() or "dapagliflozin" in titles[0].lower()
        assert "statin" in titles[1].lower()
    finally:
        for e in editors:
            e.close()


def test_web_browser_history_finds_the_check_by_doi(page, live):
    _submit(page, live, live.site.url("/news/coffee-mortality-causal"))
    check_id = _report_id(page)
    page.click("text=History")
    page.fill("#q", COFFEE_DOI)
    page.select_option("#origin", "web")
    page.click("form[role=search] button")
    assert f"q={COFFEE_DOI.replace('/', '%2F')}" in page.url
    rows = page.locator("table.history tbody tr")
    assert rows.count() >= 1
    assert page.locator(f'a[href="/checks/{check_id}"]').count() == 1
    page.click(f'a[href="/checks/{check_id}"]')
    assert page.url.endswith(f"/checks/{check_id}")


def test_web_browser_an_error_page_whose_doi_form_fixes_the_check(page, live):
    _submit(page, live, live.site.url("/news/coffee-mortality-causal"), paper="10.5555/no-such")
    page.wait_for_selector("[role=alert]", timeout=120_000)
    alert = page.inner_text("[role=alert]")
    assert "The paper was not found" in alert and "What to try" in alert
    assert "--paper" not in page.content()
    assert page.input_value("#url") == live.site.url("/news/coffee-mortality-causal")
    page.fill("#paper", COFFEE_DOI)
    page.click("button[type=submit]")
    _report_id(page)
    assert "Coffee helps you live longer" in page.inner_text("h1")


def test_web_browser_an_internal_address_is_refused_with_the_form_refilled(page, live):
    _submit(page, live, "http://10.0.0.5/story")
    alert = page.inner_text("[role=alert]")
    assert "internal network" in alert and "10.0.0.5 is a private-network address" in alert
    assert page.input_value("#url") == "http://10.0.0.5/story"
