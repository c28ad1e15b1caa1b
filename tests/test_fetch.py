"""fetch_page against a real HTTP server on 127.0.0.1, local files and stdin."""

from __future__ import annotations

import io
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import pytest

from factcheck.config import Settings
from factcheck.errors import FetchError, InputError, NotHtmlError, TooLargeError
from factcheck.fetch import decode, fetch_page

PAGES = Path(__file__).parent / "fixtures" / "pages"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "story.txt"

Handler = Callable[[BaseHTTPRequestHandler, int], None]


def _send(req: BaseHTTPRequestHandler, status: int, body: bytes = b"",
          content_type: str | None = "text/html; charset=utf-8",
          headers: dict[str, str] | None = None, length: bool = True) -> None:
    req.send_response(status)
    if content_type:
        req.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        req.send_header(key, value)
    if length:
        req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


class _Server:
    """A tiny threaded server: routes map a path to a handler called with the hit count."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = self.path.split("?")[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                handler = server.routes.get(path)
                if handler is None:
                    _send(self, 404, b"<html><body>Not found</body></html>")
                else:
                    handler(self, server.hits[path])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """conftest's settings, pinned to what these tests count on (3 attempts, quick backoff)."""
    return settings.with_(retries=2, backoff=0.01, connect_timeout=2.0, read_timeout=2.0)


def _article_bytes() -> bytes:
    return (PAGES / "news_article.html").read_bytes()


def test_fetch_html_page(server: _Server, settings: Settings) -> None:
    server.routes["/story"] = lambda req, n: _send(req, 200, _article_bytes())
    page = fetch_page(server.url("/story"), settings)
    assert page.status == 200
    assert page.content_type == "text/html"
    assert page.encoding == "utf-8"
    assert page.url == page.final_url == server.url("/story")
    assert "Walking after meals linked to lower blood sugar" in page.html
    assert page.fetched_at.endswith("+00:00")


def test_fetch_follows_redirect_and_records_final_url(server: _Server, settings: Settings) -> None:
    server.routes["/old"] = lambda req, n: _send(req, 301, headers={"Location": "/story"})
    server.routes["/story"] = lambda req, n: _send(req, 200, _article_bytes())
    page = fetch_page(server.url("/old"), settings)
    assert page.url == server.url("/old")
    assert page.final_url == server.url("/story")


@pytest.mark.parametrize("status, words", [
    (404, "page not found (HTTP 404)"),
    (410, "page removed (HTTP 410)"),
    (400, "HTTP 400"),
])
def test_fetch_client_errors_name_the_status(server: _Server, settings: Settings, status: int,
                                            words: str) -> None:
    server.routes["/gone"] = lambda req, n: _send(req, status, b"<html>no</html>")
    with pytest.raises(FetchError) as info:
        fetch_page(server.url("/gone"), settings)
    assert info.value.status == status
    assert words in str(info.value)
    assert str(info.value).endswith(server.url("/gone"))
    assert "\n" not in str(info.value)
    assert server.hits["/gone"] == 1  # 4xx is not retried


def test_fetch_403_says_the_site_refused(server: _Server, settings: Settings) -> None:
    server.routes["/wall"] = lambda req, n: _send(req, 403, b"<html>Access denied</html>")
    with pytest.raises(FetchError, match=r"refused .*HTTP 403.*bot wall or a paywall") as info:
        fetch_page(server.url("/wall"), settings)
    assert info.value.status == 403


def test_fetch_retries_a_500_then_succeeds(server: _Server, settings: Settings) -> None:
    def flaky(req: BaseHTTPRequestHandler, n: int) -> None:
        _send(req, 500, b"oops") if n == 1 else _send(req, 200, _article_bytes())

    server.routes["/flaky"] = flaky
    page = fetch_page(server.url("/flaky"), settings)
    assert page.status == 200
    assert server.hits["/flaky"] == 2


def test_fetch_gives_up_on_persistent_5xx(server: _Server, settings: Settings) -> None:
    server.routes["/down"] = lambda req, n: _send(req, 503, b"down")
    with pytest.raises(FetchError, match=r"HTTP 503\) after 3 attempts") as info:
        fetch_page(server.url("/down"), settings)
    assert info.value.status == 503
    assert server.hits["/down"] == 3


def test_fetch_honours_retry_after_on_429(server: _Server, settings: Settings) -> None:
    def limited(req: BaseHTTPRequestHandler, n: int) -> None:
        if n == 1:
            _send(req, 429, b"slow down", headers={"Retry-After": "1"})
        else:
            _send(req, 200, _article_bytes())

    server.routes["/busy"] = limited
    started = time.monotonic()
    page = fetch_page(server.url("/busy"), settings.with_(backoff=0.0))
    assert page.status == 200
    assert time.monotonic() - started >= 0.9  # waited as told, not the zero backoff
    assert server.hits["/busy"] == 2


def test_fetch_persistent_429_is_a_fetch_error(server: _Server, settings: Settings) -> None:
    server.routes["/busy"] = lambda req, n: _send(req, 429, b"", headers={"Retry-After": "0"})
    with pytest.raises(FetchError, match="rate-limiting") as info:
        fetch_page(server.url("/busy"), settings)
    assert info.value.status == 429


def test_fetch_pdf_is_not_html(server: _Server, settings: Settings) -> None:
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    server.routes["/paper.pdf"] = lambda req, n: _send(req, 200, pdf, "application/pdf")
    with pytest.raises(NotHtmlError, match=r"is a PDF, not a web page.*--paper") as info:
        fetch_page(server.url("/paper.pdf"), settings)
    assert info.value.content_type == "application/pdf"


def test_fetch_pdf_served_as_html_is_still_a_pdf(server: _Server, settings: Settings) -> None:
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    server.routes["/paper"] = lambda req, n: _send(req, 200, pdf, "text/html")
    with pytest.raises(NotHtmlError, match="PDF"):
        fetch_page(server.url("/paper"), settings)


@pytest.mark.parametrize("content_type, body, words", [
    ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "an image (image/png)"),
    ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "an image (image/jpeg)"),
    ("application/json", b'{"title": "story"}', "JSON"),
    ("application/rss+xml", b"<rss version='2.0'></rss>", "factcheck feed"),
])
def test_fetch_other_media_types_are_named(server: _Server, settings: Settings,
                                           content_type: str, body: bytes, words: str) -> None:
    server.routes["/thing"] = lambda req, n: _send(req, 200, body, content_type)
    with pytest.raises(NotHtmlError) as info:
        fetch_page(server.url("/thing"), settings)
    assert words in str(info.value)
    assert "not a" in str(info.value)


def test_fetch_plain_text_response(server: _Server, settings: Settings) -> None:
    body = "Headline here\nFirst paragraph of the story.\n".encode()
    server.routes["/story.txt"] = lambda req, n: _send(req, 200, body, "text/plain; charset=utf-8")
    page = fetch_page(server.url("/story.txt"), settings)
    assert page.content_type == "text/plain"
    assert page.html == body.decode()


def test_fetch_empty_page(server: _Server, settings: Settings) -> None:
    server.routes["/empty"] = lambda req, n: _send(req, 200, b"   \n")
    with pytest.raises(FetchError, match="empty") as info:
        fetch_page(server.url("/empty"), settings)
    assert info.value.status == 200


def test_fetch_size_cap_by_content_length(server: _Server, settings: Settings) -> None:
    big = b"<html><body>" + b"<p>word</p>" * 2000 + b"</body></html>"
    server.routes["/big"] = lambda req, n: _send(req, 200, big)
    with pytest.raises(TooLargeError, match="too large"):
        fetch_page(server.url("/big"), settings.with_(max_page_bytes=5000))


def test_fetch_size_cap_when_streamed_without_length(server: _Server, settings: Settings) -> None:
    big = b"<html><body>" + b"<p>word</p>" * 2000 + b"</body></html>"

    def streamed(req: BaseHTTPRequestHandler, n: int) -> None:
        req.close_connection = True
        _send(req, 200, big, length=False)

    server.routes["/big"] = streamed
    with pytest.raises(TooLargeError, match="cap"):
        fetch_page(server.url("/big"), settings.with_(max_page_bytes=5000))


def test_fetch_redirect_loop(server: _Server, settings: Settings) -> None:
    server.routes["/a"] = lambda req, n: _send(req, 302, headers={"Location": "/b"})
    server.routes["/b"] = lambda req, n: _send(req, 302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_page(server.url("/a"), settings.with_(max_redirects=5))


def test_fetch_timeout(server: _Server, settings: Settings) -> None:
    def slow(req: BaseHTTPRequestHandler, n: int) -> None:
        time.sleep(1.0)
        _send(req, 200, _article_bytes())

    server.routes["/slow"] = slow
    with pytest.raises(FetchError, match="timed out"):
        fetch_page(server.url("/slow"), settings.with_(read_timeout=0.2, retries=0))


def test_fetch_connection_refused(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="could not"):
        fetch_page(f"http://127.0.0.1:{port}/story", settings.with_(retries=0))


def test_fetch_invalid_url_is_input_error(settings: Settings) -> None:
    with pytest.raises(InputError, match="not a valid URL"):
        fetch_page("http://exa mple..org:99999999/story", settings.with_(retries=0))


def test_fetch_offline_refuses_urls(settings: Settings) -> None:
    with pytest.raises(FetchError, match="offline"):
        fetch_page("http://127.0.0.1:9/story", settings.with_(offline=True))


CAFE = "<p>Le café de la rue a servi 3 crèmes à 12 h — naïve idée.</p>"


def test_fetch_header_charset_wrong_meta_charset_right(server: _Server, settings: Settings) -> None:
    html = f'<html><head><meta charset="windows-1252"></head><body>{CAFE}</body></html>'
    body = html.encode("cp1252")
    server.routes["/cp"] = lambda req, n: _send(req, 200, body, "text/html; charset=utf-8")
    page = fetch_page(server.url("/cp"), settings)
    assert CAFE in page.html
    assert page.encoding == "cp1252"


def test_fetch_header_latin1_but_page_is_utf8(server: _Server, settings: Settings) -> None:
    html = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">' \
           f'</head><body>{CAFE}</body></html>'
    server.routes["/u"] = lambda req, n: _send(req, 200, html.encode(),
                                               "text/html; charset=ISO-8859-1")
    page = fetch_page(server.url("/u"), settings)
    assert CAFE in page.html
    assert page.encoding == "utf-8"


def test_fetch_header_charset_is_used_when_it_fits(server: _Server, settings: Settings) -> None:
    text = "<p>Le café coûte 3 €, une idée naïve.</p>"
    html = f"<html><body>{text}</body></html>"
    server.routes["/l"] = lambda req, n: _send(req, 200, html.encode("iso-8859-15"),
                                               "text/html; charset=iso-8859-15")
    page = fetch_page(server.url("/l"), settings)
    assert text in page.html
    assert page.encoding == "iso8859_15"


def test_decode_detects_an_undeclared_charset() -> None:
    text = ("Les chercheurs ont découvert que les participants âgés qui marchaient après "
            "le dîner avaient une glycémie plus basse le lendemain matin. L'étude, publiée "
            "jeudi, a suivi des élèves et des retraités pendant deux années à Genève. ") * 3
    decoded, encoding = decode(text.encode("cp1252"), None, html=True)
    assert decoded == text
    assert encoding


def test_decode_utf8_bom() -> None:
    decoded, encoding = decode("\ufeffcafé".encode("utf-8"), "iso-8859-1")
    assert decoded == "café"
    assert encoding == "utf-8"


def test_fetch_local_html_file(settings: Settings) -> None:
    page = fetch_page(str(PAGES / "news_article.html"), settings)
    assert page.content_type == "text/html"
    assert page.status == 200
    assert page.url == str(PAGES / "news_article.html")
    assert page.final_url.startswith("file://")
    assert "<article" in page.html


def test_fetch_local_text_file(tmp_path: Path, settings: Settings) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Headline\nBody line.\n", encoding="utf-8")
    page = fetch_page(str(story), settings)
    assert page.content_type == "text/plain"
    assert page.html == "Headline\nBody line.\n"


@pytest.mark.skipif(not SEED.exists(), reason="needs ../shared/seed")
def test_fetch_seed_story_as_text(settings: Settings) -> None:
    page = fetch_page(str(SEED), settings)
    assert page.content_type == "text/plain"
    assert page.html.startswith("Low-Dose Naltrexone")


def test_fetch_missing_file(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(InputError, match="no such file"):
        fetch_page(str(tmp_path / "nope.html"), settings)


def test_fetch_host_without_scheme_hints_at_url(settings: Settings) -> None:
    with pytest.raises(InputError, match="did you mean https://"):
        fetch_page("news.example.org/health/story", settings)


def test_fetch_folder_is_input_error(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(InputError, match="folder"):
        fetch_page(str(tmp_path), settings)


def test_fetch_empty_local_file(tmp_path: Path, settings: Settings) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        fetch_page(str(empty), settings)


def test_fetch_local_pdf_file(tmp_path: Path, settings: Settings) -> None:
    pdf = tmp_path / "paper.html"
    pdf.write_bytes(b"%PDF-1.5\n...")
    with pytest.raises(NotHtmlError, match="the file is a PDF"):
        fetch_page(str(pdf), settings)


def test_fetch_stdin_html(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_article_bytes())))
    page = fetch_page("-", settings)
    assert page.url == "-"
    assert page.content_type == "text/html"
    assert "JAMA Network Open" in page.html


def test_fetch_stdin_text(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("A headline\nA body line.\n"))
    page = fetch_page("-", settings)
    assert page.content_type == "text/plain"
    assert page.html.startswith("A headline")


def test_fetch_stdin_empty(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(InputError, match="standard input"):
        fetch_page("-", settings)
