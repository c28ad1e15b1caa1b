"""`factcheck serve` and factcheck.serve: the names older callers import, the SSRF guard, the verb.

The web app itself is tested in tests/test_web.py (TestClient), tests/test_web_http.py (uvicorn
on loopback) and tests/test_web_browser.py (headless Chromium). Every URL these tests submit is
either refused before any connection or served on loopback.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from factcheck.cli_serve import serve as serve_command
from factcheck.serve import (
    InternalAddressError,
    _PublicHTTPConnection,
    address_problem,
    check_story_url,
    default_server_names,
    make_app,
    public_only_session,
)
from factcheck.store import Store
from factcheck.web import AllowList, CheckRequest, JobPool, story_session

CASE = Path(__file__).resolve().parent.parent / "corpora" / "cases" / "coffee-mortality-causal"


@contextmanager
def story_site(directory: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_serve_make_app_is_the_web_app(settings):
    assert isinstance(make_app(settings), Starlette)


def test_serve_check_story_url_accepts_loopback_only_when_allowed():
    assert check_story_url(" http://127.0.0.1:9/s ", allow_internal=True) == "http://127.0.0.1:9/s"
    with pytest.raises(InternalAddressError):
        check_story_url("http://127.0.0.1:9/s")
    with pytest.raises(Exception, match="only http"):
        check_story_url("file:///etc/passwd", allow_internal=True)


@pytest.mark.parametrize(("address", "problem"), [
    ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
    ("::ffff:8.8.8.8", None),
    ("64:ff9b::808:808", None),
    ("64:ff9b::a00:5", "a private-network address"),
    ("127.0.0.53", "a loopback address (this machine)"),
    ("::ffff:169.254.169.254", "a link-local address (the local network segment, where cloud "
                               "metadata services live)"),
    ("fe80::1%1", "a link-local address (the local network segment, where cloud metadata "
                  "services live)"),
    ("255.255.255.255", "a reserved address"),
    ("ff02::1", "a multicast address"),
    ("::7f00:1", "a reserved address"),
])
def test_serve_address_problem(address, problem):
    assert address_problem(address) == problem


def test_serve_fetch_session_never_connects_to_an_internal_address(settings):
    with story_site(CASE) as site:
        session = public_only_session(settings)
        with pytest.raises(InternalAddressError, match="loopback"):
            session.get(f"{site}/story.html", timeout=5)
        # the connection itself is vetted too (a redirect hop or a changed DNS answer)
        port = urllib.parse.urlsplit(site).port
        with pytest.raises(InternalAddressError, match="loopback"):
            _PublicHTTPConnection("127.0.0.1", port).connect()


def test_serve_command_help_has_an_example():
    result = CliRunner().invoke(serve_command, ["--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
    assert "Example: factcheck serve" in result.output


def test_serve_default_server_names():
    assert default_server_names("127.0.0.1", 8000) == [
        "127.0.0.1:8000", "[::1]:8000", "localhost:8000"]
    assert default_server_names("0.0.0.0", 8000) is None
    assert "news.example" in default_server_names("news.example", 80)


def test_serve_the_web_story_session_is_the_guard_without_an_allow_list(settings):
    with story_site(CASE) as site:
        with pytest.raises(InternalAddressError, match="loopback"):
            story_session(settings, AllowList()).get(f"{site}/story.html", timeout=5)
        allowed = story_session(settings, AllowList.parse(["127.0.0.1"]))
        assert allowed.get(f"{site}/story.html", timeout=5).status_code == 200


def test_serve_a_web_check_fetches_through_the_guard_even_past_the_form(settings):
    with story_site(CASE) as site, Store.from_settings(settings) as store:
        pool = JobPool(settings, store, workers=1)  # no allow-list: the guard as it is
        try:
            job = pool.submit(CheckRequest(url=f"{site}/story.html"))  # not vetted by a form
            deadline = time.monotonic() + 120
            while (view := pool.view(job.id)).state not in ("done", "failed"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            pool.close()
    assert view.state == "failed" and view.error is not None
    assert view.error.kind == "InternalAddressError" and "loopback" in view.error.detail
    assert urllib.parse.urlsplit(site).hostname == "127.0.0.1"


def test_serve_command_has_workers_and_allow_host_options():
    result = CliRunner().invoke(serve_command, ["--help"])
    assert "--workers" in result.output and "--allow-host" in result.output
    assert "--server-name" in result.output
