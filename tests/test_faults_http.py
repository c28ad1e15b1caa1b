"""Hostile story sites on loopback: gzip bombs, resets mid-body, error pages sent with 200.

Real sockets and a real `factcheck check` process; each ends in bounded time with one line on
stderr and the status its cause deserves (2 the page cannot be used, 3 the site failed).
"""

from __future__ import annotations

import gzip
import os
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from factcheck import _http
from factcheck.errors import EXIT_BAD_INPUT, EXIT_UPSTREAM

REPO = Path(__file__).resolve().parent.parent
STORY = (REPO / "corpora" / "cases" / "coffee-mortality-causal" / "story.html").read_bytes()


def _bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GB of zeros."""
    out = bytearray()
    chunk = gzip.compress(b"\0" * (1 << 24), compresslevel=9)  # 16 MB -> ~16 KB
    for _ in range(64):
        out += chunk  # concatenated gzip members inflate one after another
    return bytes(out)


BOMB = _bomb()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def site():
    hits: list[str] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            line = self.rfile.readline().decode("latin-1")
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            path = line.split(" ")[1] if " " in line else "/"
            hits.append(path)
            try:
                if path == "/bomb":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                     b"Content-Encoding: gzip\r\nContent-Length: "
                                     + str(len(BOMB)).encode() + b"\r\n\r\n" + BOMB)
                elif path == "/reset":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                     b"Content-Length: 100000\r\n\r\n" + STORY[:2000])
                    self.wfile.flush()
                    # SO_LINGER 0: close sends RST, the client sees a reset mid-body
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                elif path == "/error-page":
                    body = (b"<html><head><title>503 Service Unavailable</title></head><body>"
                            b"<h1>Service Unavailable</h1><p>Try later.</p></body></html>")
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                     b"Content-Length: " + str(len(body)).encode()
                                     + b"\r\n\r\n" + body)
            except OSError:
                pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _check(url: str, tmp_path: Path):
    cfg = tmp_path / "faults.toml"
    cfg.write_text("[http]\nretries = 2\nbackoff = 0.01\nmax_page_bytes = 2_000_000\n", "utf-8")
    env = dict(os.environ, FACTCHECK_CACHE=str(tmp_path / "cache"), FACTCHECK_CONFIG=str(cfg))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "factcheck", "check", url], env=env,
                          capture_output=True, text=True, timeout=120)
    return proc, time.monotonic() - started


def test_a_gzip_bomb_stops_at_the_size_cap_not_in_memory(site, settings):
    base, _ = site
    session = _http.make_session(settings)
    with pytest.raises(_http.TooLarge) as caught:
        _http.get(session, base + "/bomb", settings, max_bytes=2_000_000)
    assert "2,000,000-byte cap" in str(caught.value)


def test_cli_a_gzip_bomb_is_one_line_and_exit_2(site, tmp_path):
    base, _ = site
    proc, took = _check(base + "/bomb", tmp_path)
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "too large" in lines[0], proc.stderr
    assert took < 60


def test_cli_a_reset_mid_body_is_retried_then_exit_3(site, tmp_path):
    base, hits = site
    proc, took = _check(base + "/reset", tmp_path)
    assert proc.returncode == EXIT_UPSTREAM, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not fetch the page" in lines[0], proc.stderr
    assert hits.count("/reset") == 3  # the first attempt and two retries
    assert took < 60


def test_cli_an_error_page_sent_with_200_is_no_article_not_a_finding(site, tmp_path):
    base, _ = site
    proc, _ = _check(base + "/error-page", tmp_path)
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "text" in proc.stderr.lower()  # too little article text, said so
