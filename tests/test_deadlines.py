"""Every check ends in bounded time: trickling and hanging servers on loopback, real sockets.

Per-read timeouts do not bound a server that sends one byte at a time; these tests hold the
total deadline of one response (`http.page_deadline`) and the budget of a whole check
(`check.budget`), through the library and through the `factcheck` command.
"""

from __future__ import annotations

import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from factcheck import _http, budget
from factcheck.errors import EXIT_UPSTREAM, CheckBudgetExceeded

REPO = Path(__file__).resolve().parent.parent
STORY = (REPO / "corpora" / "cases" / "coffee-mortality-causal" / "story.html").read_bytes()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve(behaviour):
    """A raw TCP server on loopback whose handler is `behaviour(sock, stop)`."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(2.0)
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                behaviour(self.request, stop, data)
            except OSError:
                pass  # the client hung up: what the deadline is for

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stop, f"http://127.0.0.1:{server.server_address[1]}"


def _trickle_body(sock, stop, _request, declare_length=True):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    head += b"Content-Length: 100000\r\n" if declare_length else b"Connection: close\r\n"
    sock.sendall(head + b"\r\n")
    body = STORY * 10
    for i in range(len(body)):
        if stop.is_set():
            return
        sock.sendall(body[i:i + 1])
        time.sleep(0.05)


def _trickle_headers(sock, stop, _request):
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while not stop.is_set():
        sock.sendall(f"X-Slow-{n}: {'a' * 5}\r\n".encode())
        n += 1
        time.sleep(0.1)


def _hang(sock, stop, _request):
    stop.wait(60)


def _ok(sock, stop, _request):
    body = b"<html><body><p>fine</p></body></html>"
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)


@pytest.fixture
def serve():
    started = []

    def start(behaviour):
        server, stop, url = _serve(behaviour)
        started.append((server, stop))
        return url

    yield start
    for server, stop in started:
        stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def quick(settings):
    """Generous per-read timeouts (a trickle never trips them), a short total deadline."""
    return settings.with_(read_timeout=10.0, connect_timeout=2.0, retries=2, page_deadline=1.5)


@pytest.mark.parametrize("behaviour", [
    _trickle_body,
    lambda sock, stop, req: _trickle_body(sock, stop, req, declare_length=False),
    _trickle_headers,
], ids=["body", "body-without-length", "headers"])
def test_a_trickling_response_ends_at_its_total_deadline(serve, quick, behaviour):
    url = serve(behaviour)
    session = _http.make_session(quick)
    started = time.monotonic()
    with pytest.raises(_http.DeadlineExceeded) as caught:
        _http.get(session, url + "/story", quick)
    took = time.monotonic() - started
    # a read timeout of 10 s never fires on a trickle; only the 1.5 s deadline ends it
    assert took < 6, took
    assert "http.page_deadline" in str(caught.value)


def test_a_cut_off_body_is_never_taken_for_the_whole_page(serve, quick):
    # no Content-Length: closing the socket looks like the end of the body to the reader
    url = serve(lambda sock, stop, req: _trickle_body(sock, stop, req, declare_length=False))
    session = _http.make_session(quick)
    with pytest.raises(_http.DeadlineExceeded):
        _http.get(session, url + "/story", quick)


def test_the_session_still_works_after_a_deadline(serve, quick):
    slow, fine = serve(_trickle_body), serve(_ok)
    session = _http.make_session(quick)
    with pytest.raises(_http.DeadlineExceeded):
        _http.get(session, slow + "/a", quick)
    resp = _http.get(session, fine + "/b", quick)
    assert resp.status == 200 and b"fine" in resp.content
    # and a quick answer well inside the deadline is not refused later by the watchdog
    time.sleep(quick.page_deadline + 0.5)
    assert _http.get(session, fine + "/c", quick).status == 200


def test_the_check_budget_bounds_a_request_and_names_the_step(serve, quick):
    url = serve(_hang)
    session = _http.make_session(quick)
    started = time.monotonic()
    with budget.limit(1.0):
        budget.step("sources")
        with pytest.raises(CheckBudgetExceeded) as caught:
            _http.get(session, url + "/esearch.fcgi", quick.with_(page_deadline=30.0))
        # once spent, the next request is not even started
        with pytest.raises(CheckBudgetExceeded):
            _http.get(session, url + "/efetch.fcgi", quick)
    assert time.monotonic() - started < 5
    assert caught.value.step == "sources"
    assert "literature services" in str(caught.value) and "check.budget" in str(caught.value)
    assert budget.current() is None


def test_no_budget_outside_a_check(serve, quick):
    url = serve(_ok)
    assert budget.current() is None
    assert _http.get(_http.make_session(quick), url, quick).status == 200


def _run_check(url: str, tmp_path: Path, config: str, services: str | None = None):
    cfg = tmp_path / "deadline.toml"
    cfg.write_text(config, "utf-8")
    env = dict(os.environ, FACTCHECK_CACHE=str(tmp_path / "cache"), FACTCHECK_CONFIG=str(cfg))
    if services:
        for name in ("PUBMED", "EUROPEPMC", "CROSSREF", "OPENALEX", "CLINICALTRIALS"):
            env[f"FACTCHECK_{name}_URL"] = services + "/"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "factcheck", "check", url], env=env,
                          capture_output=True, text=True, timeout=120)
    return proc, time.monotonic() - started


def test_cli_a_trickling_story_site_is_one_line_and_exit_3(serve, tmp_path):
    url = serve(_trickle_body)
    proc, took = _run_check(url + "/story", tmp_path,
                            "[http]\nread_timeout = 20.0\npage_deadline = 2.0\nretries = 1\n")
    assert proc.returncode == EXIT_UPSTREAM, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "did not arrive in time" in lines[0] and "http.page_deadline" in lines[0]
    assert took < 30, took


def test_cli_hanging_services_stop_at_the_check_budget(serve, tmp_path):
    story = serve(lambda sock, stop, req: sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
        + str(len(STORY)).encode() + b"\r\n\r\n" + STORY))
    services = serve(_hang)
    proc, took = _run_check(story + "/story", tmp_path,
                            "[http]\nread_timeout = 30.0\npage_deadline = 30.0\nretries = 3\n"
                            "[check]\nbudget = 4.0\n", services=services)
    assert proc.returncode == EXIT_UPSTREAM, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "ran out of time while asking the literature services" in lines[0]
    assert "check.budget" in lines[0]
    # four services, each allowed 4 x 30 s of reads before: now the 4 s budget, plus start-up
    assert took < 40, took


def test_the_socket_watchdog_only_touches_its_own_request(serve, quick):
    """Two threads, one slow request and one quick: the deadline of one never cuts the other."""
    slow, fine = serve(_trickle_body), serve(_ok)
    session = _http.make_session(quick)
    errors: list[BaseException] = []

    def quick_ones():
        try:
            for _ in range(20):
                assert _http.get(session, fine, quick).status == 200
                time.sleep(0.1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=quick_ones)
    worker.start()
    with pytest.raises(_http.DeadlineExceeded):
        _http.get(session, slow, quick)
    worker.join()
    assert not errors, errors


def test_socket_shutdown_of_a_closed_socket_is_harmless():
    sock = socket.socket()
    sock.close()
    _http._shut(sock)  # no exception: the watchdog may fire just as the request ends


def test_every_session_factcheck_builds_keeps_the_deadline(serve, quick):
    """The feed's gated sessions, the batch gate's and the web app's vetted one."""
    from factcheck.feed import RequestGate
    from factcheck.gate import Gate
    from factcheck.guard import AllowList, public_only_session
    url = serve(_trickle_body)
    sessions = [RequestGate(quick).session(quick), Gate(quick).session(),
                public_only_session(quick, AllowList.parse(["127.0.0.1"]))]
    for session in sessions:
        with pytest.raises(_http.DeadlineExceeded):
            _http.get(session, url + "/story", quick.with_(host_delay=0.0))
