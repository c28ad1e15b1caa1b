"""The web app under uvicorn on 127.0.0.1: what only a real socket shows (lying or broken
bodies, the Host check with the default server names, `factcheck serve` itself)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from factcheck.web import create_app
from factcheck.web.server import bind, default_server_names, running

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _never_called(request, ctx):
    raise AssertionError(f"the check must not run: {request}")


@pytest.fixture
def served(settings):
    sock = bind("127.0.0.1", 0)
    names = default_server_names("127.0.0.1", sock.getsockname()[1])
    with running(create_app(settings, check_fn=_never_called, server_names=names),
                 sock=sock) as base:
        yield base


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=30) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode(), dict(exc.headers)


def test_web_http_answers_on_its_names_and_refuses_others(served):
    port = urllib.parse.urlsplit(served).port
    assert _get(f"{served}/")[0] == 200
    assert _get(f"http://localhost:{port}/")[0] == 200
    status, body, _ = _get(f"{served}/", headers={"Host": "attacker.example"})
    assert status == 400 and "attacker.example" in body


def test_web_http_refuses_a_declared_huge_body_without_reading_it(served):
    parts = urllib.parse.urlsplit(served)
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


def test_web_http_a_body_shorter_than_its_content_length_is_not_a_500(served, caplog):
    parts = urllib.parse.urlsplit(served)
    page = _OPENER.open(f"{served}/", timeout=10)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.read().decode()).group(1)
    cookie = page.headers["Set-Cookie"].split(";")[0]
    body = urllib.parse.urlencode({"url": "https://example.org/", "csrf": token}).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(b"POST /check HTTP/1.1\r\nHost: " + parts.netloc.encode()
                     + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     + b"Cookie: " + cookie.encode() + b"\r\nOrigin: " + served.encode()
                     + f"\r\nContent-Length: {len(body) + 500}\r\n\r\n".encode() + body)
        sock.shutdown(socket.SHUT_WR)  # the client stops: 500 bytes never come
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    # uvicorn (h11) closes a half-closed connection without an answer; a 400 is the other
    # acceptable outcome. Never a 500, never a traceback in the log.
    assert not answer.startswith(b"HTTP/1.1 500"), answer[:200]
    assert not answer or answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert "Traceback" not in caplog.text


def test_web_http_factcheck_serve_runs_the_app_and_stops_on_sigterm(tmp_path):
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # a free port for the child to take
    env = {**os.environ, "FACTCHECK_CACHE": str(tmp_path / "cache")}
    child = subprocess.Popen([sys.executable, "-m", "factcheck", "serve", "--port", str(port),
                              "--workers", "3"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _body, headers = _get(f"http://127.0.0.1:{port}/status")
                break
            except OSError:
                assert time.monotonic() < deadline and child.poll() is None
                time.sleep(0.2)
        assert status == 200 and headers["content-security-policy"].startswith("default-src")
        assert '"workers":3' in _get(f"http://127.0.0.1:{port}/status")[1]
    finally:
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells it
    assert child.returncode in (0, -signal.SIGTERM), err
    assert f"serving the web app on http://127.0.0.1:{port}/ with 3 checker(s)" in err
