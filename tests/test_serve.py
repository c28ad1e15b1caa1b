"""The editors' web form, over real HTTP on 127.0.0.1: the form, refusals, limits, the report.

Every URL the tests submit is either refused before any connection (literal internal addresses
and bad schemes resolve without a network) or, with `allow_internal=True`, served on loopback.
"""

from __future__ import annotations

import functools
import http.client
import http.server
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from factcheck.cli_serve import serve as serve_command
from factcheck.errors import PaperNotFound, UpstreamError
from factcheck.pipeline import build_context, check
from factcheck.serve import (
    MAX_BODY_BYTES,
    InternalAddressError,
    _PublicHTTPConnection,
    address_problem,
    check_story_url,
    default_server_names,
    make_app,
    make_http_server,
    pipeline_check_fn,
    public_only_session,
)

CASE = Path(__file__).resolve().parent.parent / "corpora" / "cases" / "coffee-mortality-causal"

# no proxy from the environment: every request goes straight to 127.0.0.1
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


def _never_called(url: str, paper: str | None):
    raise AssertionError(f"check_fn must not run for a refused URL: {url}")


@contextmanager
def running(app) -> Iterator[str]:
    server = make_http_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


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


def request(url: str, data: bytes | None = None, method: str | None = None,
            content_type: str = "application/x-www-form-urlencoded",
            headers: dict[str, str] | None = None) -> Answer:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with _OPENER.open(req, timeout=60) as resp:
            return Answer(resp.status, resp.headers, resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.headers, exc.read().decode("utf-8"))


def form_token(base: str) -> tuple[str, str]:
    """What a browser holds after opening the form: its CSRF field and its cookie."""
    answer = request(f"{base}/")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', answer.body).group(1)
    cookie = answer.headers["Set-Cookie"].split(";")[0]
    return token, cookie


def post(base: str, url: str, paper: str = "", headers: dict[str, str] | None = None) -> Answer:
    """Submit the form as a browser does: open it first, then post with its token and cookie."""
    token, cookie = form_token(base)
    return request(f"{base}/check",
                   urllib.parse.urlencode({"url": url, "paper": paper, "csrf": token}).encode(),
                   headers={"Cookie": cookie, "Origin": base, **(headers or {})})


@pytest.fixture
def refusing(settings):
    with running(make_app(settings, check_fn=_never_called)) as base:
        yield base


# -- the form -------------------------------------------------------------------------------------


def test_serve_get_shows_an_accessible_form_without_scripts(refusing):
    answer = request(f"{refusing}/")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    page = answer.body
    assert '<form method="post" action="/check"' in page
    assert '<label for="url">' in page and 'id="url" name="url" type="url" required' in page
    assert '<label for="paper">' in page and 'name="paper"' in page
    assert '<html lang="en">' in page and "<main>" in page
    assert "<script" not in page
    assert "<link" not in page and "src=" not in page


def test_serve_sets_security_headers(refusing):
    for answer in (request(f"{refusing}/"), post(refusing, "file:///etc/passwd")):
        csp = answer.headers["Content-Security-Policy"]
        assert csp.startswith("default-src 'none'; style-src 'unsafe-inline'")
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_serve_other_paths_and_methods(refusing):
    assert request(f"{refusing}/nope").status == 404
    assert request(f"{refusing}/", data=b"x=1", method="PUT").status == 405
    answer = request(f"{refusing}/check")  # urllib follows the 303 back to the form
    assert answer.status == 200 and "<form" in answer.body


# -- what the form refuses --------------------------------------------------------------------------


def test_serve_refuses_a_loopback_url_and_says_why(refusing):
    port = urllib.parse.urlsplit(refusing).port
    answer = post(refusing, f"http://127.0.0.1:{port}/story.html")
    assert answer.status == 400
    assert "refused: 127.0.0.1 is a loopback address (this machine)" in answer.body
    assert 'role="alert"' in answer.body
    assert f'value="http://127.0.0.1:{port}/story.html"' in answer.body  # the form is refilled


@pytest.mark.parametrize(("url", "reason"), [
    ("http://10.0.0.5/x", "a private-network address"),
    ("http://[::1]/", "a loopback address"),
    ("http://169.254.169.254/", "a link-local address"),
    ("http://[::ffff:127.0.0.1]/", "a loopback address"),
    ("http://[::ffff:10.0.0.5]:8080/", "a private-network address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://[fd00::1]/", "a private-network address"),
    ("http://0.0.0.0/", "the unspecified address"),
    ("http://[::]/", "the unspecified address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://100.64.0.1/", "not publicly routable"),
    ("https://192.168.1.1/", "a private-network address"),
    ("http://[2002:7f00:1::]/", "carries 127.0.0.1"),
    ("http://localhost/", "a loopback address"),
])
def test_serve_refuses_internal_addresses(refusing, url, reason):
    answer = post(refusing, url)
    assert answer.status == 400
    assert reason in answer.body
    assert "public internet" in answer.body


@pytest.mark.parametrize(("url", "reason"), [
    ("file:///etc/passwd", "only http:// and https://"),
    ("/etc/passwd", "only http:// and https://"),
    ("-", "only http:// and https://"),
    ("ftp://example.org/story", "only http:// and https://"),
    ("", "enter the web address"),
    ("http:///path-only", "no host name"),
    ("http://user:secret@example.org/", "user name or password"),
    ("http://example.org/a b", "spaces or control characters"),
    ("http://[::1/", "not a valid web address"),
    ("http://" + "a" * 3000 + ".org/", "the limit is 2,048"),
])
def test_serve_refuses_what_is_not_a_public_web_address(refusing, url, reason):
    answer = post(refusing, url)
    assert answer.status == 400
    assert reason in answer.body


def test_serve_escapes_what_it_echoes(refusing):
    answer = post(refusing, 'javascript:"><script>alert(1)</script>', paper="<b>x</b>")
    assert answer.status == 400
    assert "<script>alert" not in answer.body and "<b>x</b>" not in answer.body
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in answer.body
    assert "&lt;b&gt;x&lt;/b&gt;" in answer.body


def test_serve_refuses_a_body_over_the_cap(refusing):
    body = urllib.parse.urlencode({"url": "https://example.org/" + "x" * (MAX_BODY_BYTES * 3)})
    answer = request(f"{refusing}/check", body.encode())
    assert answer.status == 413
    assert f"the limit is {MAX_BODY_BYTES:,}" in answer.body


def test_serve_refuses_a_declared_huge_body_without_reading_it(refusing):
    parts = urllib.parse.urlsplit(refusing)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("POST", "/check")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", "1000000000")
        conn.endheaders(b"url=http%3A%2F%2Fexample.org%2F")
        resp = conn.getresponse()
        assert resp.status == 413
        assert b"1,000,000,000 bytes" in resp.read()
    finally:
        conn.close()


def test_serve_refuses_other_form_encodings(refusing):
    answer = request(f"{refusing}/check", b'{"url": "https://example.org/"}',
                     content_type="application/json")
    assert answer.status == 415


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


def test_serve_default_check_fn_fetches_through_the_guard(settings):
    with story_site(CASE) as site:
        check_fn = pipeline_check_fn(settings)
        with pytest.raises(InternalAddressError):
            check_fn(f"{site}/story.html", None)  # even past the form's own check


# -- checks -----------------------------------------------------------------------------------------


def test_serve_checks_a_story_and_returns_the_report(settings):
    ctx = build_context(settings)
    calls: list[tuple[str, str | None]] = []

    def check_fn(url: str, paper: str | None):
        calls.append((url, paper))
        return check(url, ctx, paper_file=CASE / "pubmed.xml")

    with story_site(CASE) as site, \
            running(make_app(settings, allow_internal=True, check_fn=check_fn)) as base:
        answer = post(base, f"{site}/story.html")
    assert calls == [(f"{site}/story.html", None)]
    assert answer.status == 200, answer.body[:2000]
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    report = answer.body
    assert '<span class="kind">causal_language</span>' in report
    assert "Coffee helps you live longer" in report
    assert '<a href="/"' in report  # the way back to the form
    for raw in ("<script", "application/ld+json", "<iframe", "<meta property"):
        assert raw not in report


def test_serve_passes_the_paper_field(settings):
    seen: list[str | None] = []

    def check_fn(url: str, paper: str | None):
        seen.append(paper)
        raise PaperNotFound("no paper matches 10.1000/none")

    with running(make_app(settings, allow_internal=True, check_fn=check_fn)) as base:
        post(base, "http://127.0.0.1:9/story", paper=" 10.1000/none ")
        post(base, "http://127.0.0.1:9/story", paper="")
    assert seen == ["10.1000/none", None]


def test_serve_paper_not_found_is_400_with_the_message(settings):
    def check_fn(url: str, paper: str | None):
        raise PaperNotFound("no paper matches <i>the reference</i> well enough")

    with running(make_app(settings, allow_internal=True, check_fn=check_fn)) as base:
        answer = post(base, "http://127.0.0.1:9/story")
    assert answer.status == 400
    assert "no paper matches &lt;i&gt;the reference&lt;/i&gt; well enough" in answer.body
    assert "<i>" not in answer.body


def test_serve_upstream_error_is_502_with_the_message(settings):
    def check_fn(url: str, paper: str | None):
        raise UpstreamError("PubMed failed (HTTP 503) after 3 attempts", service="pubmed")

    with running(make_app(settings, allow_internal=True, check_fn=check_fn)) as base:
        answer = post(base, "http://127.0.0.1:9/story")
    assert answer.status == 502
    assert "PubMed failed (HTTP 503) after 3 attempts" in answer.body


def test_serve_unexpected_error_is_500_without_details(settings):
    def check_fn(url: str, paper: str | None):
        raise RuntimeError("secret internals")

    with running(make_app(settings, allow_internal=True, check_fn=check_fn)) as base:
        answer = post(base, "http://127.0.0.1:9/story")
    assert answer.status == 500
    assert "secret internals" not in answer.body


def test_serve_runs_one_check_at_a_time(settings):
    started, release = threading.Event(), threading.Event()

    def check_fn(url: str, paper: str | None):
        started.set()
        assert release.wait(30)
        raise PaperNotFound("done")

    with running(make_app(settings, allow_internal=True, check_fn=check_fn)) as base:
        first: list[Answer] = []
        worker = threading.Thread(target=lambda: first.append(post(base, "http://127.0.0.1:9/a")))
        worker.start()
        try:
            assert started.wait(30)
            busy = post(base, "http://127.0.0.1:9/b")
        finally:
            release.set()
            worker.join(30)
        assert busy.status == 503
        assert "Busy, try again" in busy.body and busy.headers["Retry-After"]
        assert first[0].status == 400
        started.clear()
        assert post(base, "http://127.0.0.1:9/c").status == 400  # the lock was released


def test_serve_command_help_has_an_example():
    result = CliRunner().invoke(serve_command, ["--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
    assert "Example: factcheck serve" in result.output


# -- cross-site posts, foreign hosts, broken bodies ----------------------------------------------


def test_serve_refuses_a_post_without_the_form_token(refusing):
    body = urllib.parse.urlencode({"url": "https://example.org/story"}).encode()
    answer = request(f"{refusing}/check", body)
    assert answer.status == 403
    assert "reload the form" in answer.body
    # the page shown again carries a fresh token, so the editor can simply resubmit
    assert 'name="csrf" value="' in answer.body and "Set-Cookie" in answer.headers


def test_serve_refuses_a_token_from_another_browser(refusing):
    token, _ = form_token(refusing)
    _, other_cookie = form_token(refusing)
    body = urllib.parse.urlencode({"url": "https://example.org/story", "csrf": token}).encode()
    answer = request(f"{refusing}/check", body, headers={"Cookie": other_cookie})
    assert answer.status == 403


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
def test_serve_refuses_a_cross_origin_post(refusing, origin):
    answer = post(refusing, "https://example.org/story", headers={"Origin": origin})
    assert answer.status == 403 and "another site" in answer.body


def test_serve_refuses_a_referer_from_another_site(refusing):
    token, cookie = form_token(refusing)
    body = urllib.parse.urlencode({"url": "https://example.org/story", "csrf": token}).encode()
    answer = request(f"{refusing}/check", body, headers={
        "Cookie": cookie, "Referer": "https://evil.example/page"})
    assert answer.status == 403


def test_serve_refuses_a_foreign_host_header(settings):
    app = make_app(settings, check_fn=_never_called)
    server = make_http_server(app, "127.0.0.1", 0)
    names = default_server_names("127.0.0.1", server.server_port)
    server.set_app(make_app(settings, check_fn=_never_called, server_names=names))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert request(f"{base}/").status == 200
        assert request(f"http://localhost:{server.server_port}/").status == 200
        answer = request(f"{base}/", headers={"Host": "attacker.example"})
        assert answer.status == 400 and "attacker.example" in answer.body
        # a post with a foreign Host is refused even with a valid token and a matching Origin
        answer = post(base, "https://example.org/story", headers={
            "Host": "attacker.example", "Origin": "http://attacker.example"})
        assert answer.status == 400
    finally:
        server.shutdown()
        server.server_close()


def test_serve_default_server_names():
    assert default_server_names("127.0.0.1", 8000) == [
        "127.0.0.1:8000", "[::1]:8000", "localhost:8000"]
    assert default_server_names("0.0.0.0", 8000) is None
    assert "news.example" in default_server_names("news.example", 80)


def test_serve_a_body_shorter_than_its_content_length_is_400_not_500(settings, caplog):
    app = make_app(settings, check_fn=_never_called)
    with running(app) as base:
        token, cookie = form_token(base)
        parts = urllib.parse.urlsplit(base)
        body = urllib.parse.urlencode({"url": "https://example.org/", "csrf": token}).encode()
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(b"POST /check HTTP/1.1\r\nHost: " + parts.netloc.encode()
                         + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         + b"Cookie: " + cookie.encode() + b"\r\n"
                         + f"Content-Length: {len(body) + 500}\r\n\r\n".encode() + body)
            sock.shutdown(socket.SHUT_WR)  # the client stops: 500 bytes never come
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:80]
    assert b"incomplete" in answer
    assert "Traceback" not in caplog.text
