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


# -- issue 6: page cache, conditional GET, politeness, robots.txt, big pages, PDFs, rendering ---

from factcheck.fetch import HostPoliteness, PageCache, PaperPdfError, RobotsRules, pdf_doi  # noqa: E402
from factcheck.render import render_page  # noqa: E402


def _etag_handler(body: bytes) -> Handler:
    def handler(req: BaseHTTPRequestHandler, n: int) -> None:
        if req.headers.get("If-None-Match") == '"v1"':
            req.send_response(304)
            req.send_header("ETag", '"v1"')
            req.end_headers()
        else:
            _send(req, 200, body, headers={"ETag": '"v1"',
                                           "Last-Modified": "Tue, 11 Feb 2025 08:00:00 GMT"})
    return handler


def test_fetch_conditional_get_uses_the_page_cache(server: _Server, settings: Settings) -> None:
    server.routes["/story"] = _etag_handler(_article_bytes())
    first = fetch_page(server.url("/story"), settings)
    seen: list[str | None] = []
    inner = server.routes["/story"]

    def spy(req: BaseHTTPRequestHandler, n: int) -> None:
        seen.append(req.headers.get("If-None-Match"))
        seen.append(req.headers.get("If-Modified-Since"))
        inner(req, n)

    server.routes["/story"] = spy
    second = fetch_page(server.url("/story"), settings)
    assert seen == ['"v1"', "Tue, 11 Feb 2025 08:00:00 GMT"]
    assert second.html == first.html and second.status == 200
    assert (settings.cache_dir / "pages.sqlite3").is_file()


def test_fetch_offline_answers_from_the_page_cache(server: _Server, settings: Settings) -> None:
    server.routes["/story"] = _etag_handler(_article_bytes())
    online = fetch_page(server.url("/story"), settings)
    server.httpd.shutdown()  # nothing may be asked now
    offline = fetch_page(server.url("/story"), settings.with_(offline=True))
    assert offline.html == online.html
    with pytest.raises(FetchError, match="offline mode: .* is not in the page cache"):
        fetch_page(server.url("/other"), settings.with_(offline=True))


def test_fetch_page_cache_can_be_turned_off(server: _Server, settings: Settings) -> None:
    server.routes["/story"] = _etag_handler(_article_bytes())
    fetch_page(server.url("/story"), settings.with_(page_cache=False))
    assert PageCache.from_settings(settings).get(server.url("/story")) is None


def test_host_politeness_spaces_requests_per_host() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    polite = HostPoliteness(2.0, jitter=0.0, clock=lambda: now[0], sleep=sleep)
    polite.wait("https://a.example/1")
    polite.wait("https://b.example/1")  # another host: no wait
    polite.wait("https://a.example/2")
    assert slept == [2.0]
    polite.set_host_delay("https://a.example/", 5.0)  # a robots.txt Crawl-delay
    polite.wait("https://a.example/3")
    assert slept == [2.0, 2.0]  # the gap set before the change still holds
    polite.wait("https://a.example/4")
    assert slept[-1] == 5.0


def test_host_politeness_jitter_is_bounded() -> None:
    now = [0.0]
    polite = HostPoliteness(1.0, jitter=0.5, clock=lambda: now[0], sleep=lambda s: None)
    polite.wait("https://a.example/")
    assert 1.0 <= polite._next["https://a.example"] <= 1.5


ROBOTS = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n"


def test_fetch_respects_robots_only_when_asked(server: _Server, settings: Settings) -> None:
    server.routes["/robots.txt"] = lambda req, n: _send(req, 200, ROBOTS, "text/plain")
    server.routes["/private/story"] = lambda req, n: _send(req, 200, _article_bytes())
    server.routes["/story"] = lambda req, n: _send(req, 200, _article_bytes())
    with pytest.raises(FetchError, match="robots.txt .* disallows"):
        fetch_page(server.url("/private/story"), settings, respect_robots=True)
    assert "/private/story" not in server.hits
    assert fetch_page(server.url("/private/story"), settings).status == 200  # an editor's URL
    polite = HostPoliteness(0.0)
    import requests as _requests
    with _requests.Session() as session:
        robots = RobotsRules(settings, session, politeness=polite)
        fetch_page(server.url("/story"), settings, session, respect_robots=True, robots=robots,
                   politeness=polite)
        fetch_page(server.url("/story"), settings, session, respect_robots=True, robots=robots)
    assert server.hits["/robots.txt"] == 2  # once for the first call, once for this run
    assert polite._extra[f"http://127.0.0.1:{server.httpd.server_address[1]}"] == 3.0


def test_fetch_missing_robots_allows_everything(server: _Server, settings: Settings) -> None:
    server.routes["/story"] = lambda req, n: _send(req, 200, _article_bytes())
    assert fetch_page(server.url("/story"), settings, respect_robots=True).status == 200


def test_fetch_robots_server_error_skips_the_host(server: _Server, settings: Settings) -> None:
    server.routes["/robots.txt"] = lambda req, n: _send(req, 503, b"down")
    server.routes["/story"] = lambda req, n: _send(req, 200, _article_bytes())
    with pytest.raises(FetchError, match=r"robots.txt .* could not be read \(HTTP 503\)"):
        fetch_page(server.url("/story"), settings.with_(retries=0), respect_robots=True)


FIFTY_MB = 50 * 1024 * 1024


def test_fetch_50_mb_page_is_aborted_while_streaming(server: _Server, settings: Settings) -> None:
    sent = [0]

    def huge(req: BaseHTTPRequestHandler, n: int) -> None:
        req.close_connection = True
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.end_headers()
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        try:
            while sent[0] < FIFTY_MB:
                req.wfile.write(chunk)
                sent[0] += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    server.routes["/huge"] = huge
    with pytest.raises(TooLargeError, match="10,000,000-byte cap; aborted"):
        fetch_page(server.url("/huge"), settings.with_(max_page_bytes=10_000_000))
    time.sleep(0.1)
    assert sent[0] < FIFTY_MB  # the client hung up; 50 MB were never read


def test_fetch_50_mb_declared_length_is_refused_at_once(server: _Server,
                                                        settings: Settings) -> None:
    def declared(req: BaseHTTPRequestHandler, n: int) -> None:
        req.close_connection = True
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.send_header("Content-Length", str(FIFTY_MB))
        req.end_headers()
        try:
            req.wfile.write(b"<html>" + b" " * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass

    server.routes["/huge"] = declared
    with pytest.raises(TooLargeError, match="52,428,800 bytes"):
        fetch_page(server.url("/huge"), settings)


PAPER_PDF = (b"%PDF-1.7\n1 0 obj\n<< /Title (Salt substitution and stroke) "
             b"/Subject (N Engl J Med 2021; doi:10.1056/NEJMoa2105675) >>\nendobj\n%%EOF\n")


def test_fetch_pdf_of_the_paper_says_so(server: _Server, settings: Settings) -> None:
    server.routes["/paper.pdf"] = lambda req, n: _send(req, 200, PAPER_PDF, "application/pdf")
    with pytest.raises(PaperPdfError, match=r"PDF of a scholarly paper \(DOI "
                                            r"10.1056/nejmoa2105675\).*--paper") as info:
        fetch_page(server.url("/paper.pdf"), settings)
    assert info.value.doi == "10.1056/nejmoa2105675"
    assert isinstance(info.value, NotHtmlError)


def test_pdf_doi_in_a_compressed_stream() -> None:
    import zlib
    text = b"BT /F1 9 Tf (https://doi.org/10.1001/jama.2025.0123) Tj ET"
    stream = zlib.compress(text)
    pdf = (b"%PDF-1.5\n4 0 obj\n<< /Length " + str(len(stream)).encode()
           + b" /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream\nendobj\n%%EOF\n")
    assert pdf_doi(pdf) == "10.1001/jama.2025.0123"
    assert pdf_doi(b"%PDF-1.4\n%%EOF\n") is None


def test_fetch_local_pdf_of_the_paper(tmp_path: Path, settings: Settings) -> None:
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(PAPER_PDF)
    with pytest.raises(PaperPdfError, match="the file is a PDF of a scholarly paper"):
        fetch_page(str(pdf), settings)


def test_render_without_browser_says_how_to_enable(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"
    with pytest.raises(FetchError, match="apt-get install chromium"):
        render_page("https://news.example.org/story", settings.with_(browser=str(missing)))


def test_render_with_a_browser_dumps_the_dom(settings: Settings, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    log = tmp_path / "args.txt"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {log}\n"
                    "echo '<html><body><article><p>Rendered story.</p></article></body></html>'\n")
    fake.chmod(0o755)
    page = render_page("https://news.example.org/story", settings.with_(browser=str(fake)))
    assert "Rendered story." in page.html
    assert page.content_type == "text/html"
    args = log.read_text()
    assert "--headless" in args and "--dump-dom https://news.example.org/story" in args
    assert "--user-data-dir=" in args and "--no-sandbox" in args


def test_render_browser_timeout(settings: Settings, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexec sleep 5\n")
    fake.chmod(0o755)
    with pytest.raises(FetchError, match="did not finish rendering"):
        render_page("https://news.example.org/story",
                    settings.with_(browser=str(fake), render_timeout=0.3))
