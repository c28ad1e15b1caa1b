"""The editors' web form: one story URL in, the HTML report out (standard library only).

```
GET  /        the form: story URL, optional DOI/PMID
POST /check   validate -> refuse internal addresses -> pipeline.check -> report.render_html
```
Answers: 200 the report; 400 bad input (a FactcheckError with exit status 2, or a refused URL);
502 an upstream service or the story's site failed (exit status 3); 411/413/415 a malformed form
post; 503 another check is running; 500 anything unexpected (logged, never shown).

What the form refuses, and why (DESIGN.md: "only the web form refuses internal addresses"):

- anything but an http(s) URL with a host: no local file paths, no `file:`, no "-";
- a host that resolves to a loopback, private, link-local, multicast, reserved, unspecified or
  otherwise non-global address, IPv4 or IPv6, including IPv4 carried inside IPv6
  (`::ffff:127.0.0.1`, 6to4, NAT64). Every address the host resolves to must be public.
  The same check runs again on every connection the story fetch opens, so a redirect to an
  internal address, or a DNS answer that changes between the check and the fetch, is refused
  too (`public_only_session`). The literature services are not restricted: their addresses come
  from settings, not from the form, and may be local mirrors.

Limits: a form body of at most `MAX_BODY_BYTES`, a URL of at most `MAX_URL_CHARS`, a request
read within `REQUEST_TIMEOUT` seconds, and one check at a time per process (a lock; a second
request while one runs gets 503 "busy, try again" at once rather than queueing). There is no
login: serve on 127.0.0.1 (the default) or behind a proxy that authenticates editors.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import socket
import sys
import threading
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .config import Settings
from .errors import EXIT_UPSTREAM, FactcheckError, InputError

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from .types import Report

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024
MAX_URL_CHARS = 2048
MAX_PAPER_CHARS = 200
REQUEST_TIMEOUT = 30.0  # seconds a client has to send its request
BUSY_RETRY_AFTER = 10  # seconds, sent with a 503

CheckFn = Callable[[str, "str | None"], "Report"]

SECURITY_HEADERS = (
    ("Content-Security-Policy",
     "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
     "frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
)


class InternalAddressError(InputError):
    """The URL's host is this machine or a private network: the web form does not fetch it."""


# -- which addresses are internal ---------------------------------------------------------------

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_problem(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the web form must not connect to `address`, or None when it is a public address.

    IPv4 carried inside IPv6 (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
    `2002:aabb:ccdd::`, Teredo) is judged by the IPv4 address it carries.

    Args:
        address: an IP address, as text (an IPv6 scope such as `%eth0` is allowed) or parsed.

    Returns:
        A phrase such as "a loopback address (this machine)", or None.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_problem(ip.ipv4_mapped)
        if ip in _NAT64:
            return address_problem(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for inner in (ip.sixtofour, *(ip.teredo or ())):
            if inner is not None and (problem := address_problem(inner)):
                return f"an IPv6 address that carries {inner}, {problem}"
    if ip.is_unspecified:
        return "the unspecified address, which means this machine"
    if ip.is_loopback:
        return "a loopback address (this machine)"
    if ip.is_link_local:
        return "a link-local address (the local network segment, where cloud metadata services live)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:  # before is_private, whose table also lists 240.0.0.0/4
        return "a reserved address"
    if ip.is_private:
        return "a private-network address"
    if not ip.is_global:
        return "an address that is not publicly routable"
    return None


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, when every one of them is public.

    Raises:
        InputError: the host does not resolve, or is not a valid host name.
        InternalAddressError: one of its addresses is internal (`address_problem`).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"the host {host} could not be found ({exc.strerror or exc})") from exc
    except (UnicodeError, ValueError) as exc:
        raise InputError(f"{host!r} is not a valid host name") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        problem = address_problem(address)
        if problem:
            literal = host.strip("[]").lower() == address.lower()
            where = f"{host} is" if literal else f"{host} resolves to {address},"
            raise InternalAddressError(
                f"refused: {where} {problem}; the web form only checks stories on the public "
                f"internet")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise InputError(f"the host {host} has no address")
    return addresses


def check_story_url(url: str, *, allow_internal: bool = False) -> str:
    """The story URL an editor typed, validated for the web form.

    Args:
        url: the submitted text.
        allow_internal: skip the address check (tests, a trusted local deployment); the scheme
            and length checks still apply.

    Returns:
        The URL, stripped of surrounding whitespace.

    Raises:
        InputError: empty, too long, not an http(s) URL with a host (a file path, `file:`),
            credentials in the URL, or a host that does not resolve.
        InternalAddressError: the host is internal (see `address_problem`).
    """
    url = url.strip()
    if not url:
        raise InputError("enter the web address of the story to check")
    if len(url) > MAX_URL_CHARS:
        raise InputError(f"the web address is {len(url):,} characters long; the limit is "
                         f"{MAX_URL_CHARS:,}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InputError("the web address contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"not a valid web address ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError("only http:// and https:// web addresses can be checked here, not file "
                         "paths or other schemes")
    host = parts.hostname
    if not host:
        raise InputError("the web address has no host name")
    if parts.username is not None or parts.password is not None:
        raise InputError("web addresses with a user name or password are not accepted")
    if not allow_internal:
        public_addresses(host, port or (443 if parts.scheme.lower() == "https" else 80))
    return url


# -- a requests session that only connects to public addresses ----------------------------------


def _connect_public(conn: HTTPConnection, connect: Callable[[], socket.socket]) -> socket.socket:
    """Open `conn`'s socket to one of its host's vetted public addresses, never another.

    Resolving here, at connect time, closes the gap a redirect or a changed DNS answer would
    open after `check_story_url`. A proxied connection (the proxy's address comes from the
    environment, not the form) is left alone; `_PublicOnlyAdapter.send` vets its target URL.
    """
    if getattr(conn, "proxy", None) is not None:
        return connect()
    host = conn._dns_host
    last: Exception | None = None
    for address in public_addresses(host, conn.port or 80):
        conn._dns_host = address  # TLS still verifies (and sends SNI for) conn.host
        try:
            return connect()
        except (NewConnectionError, ConnectTimeoutError) as exc:
            last = exc
        finally:
            conn._dns_host = host
    assert last is not None
    raise last


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_public(self, super()._new_conn)


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_public(self, super()._new_conn)


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(requests.adapters.HTTPAdapter):
    """Vets every request it sends (each redirect hop too) and every connection it opens."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool,
                                                   "https": _PublicHTTPSPool}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        check_story_url(request.url or "")
        return super().send(request, *args, **kwargs)


def public_only_session(settings: Settings) -> requests.Session:
    """`_http.make_session(settings)` whose requests reach only public addresses.

    A request to (or redirected to) an internal address raises InternalAddressError.
    """
    from ._http import make_session
    session = make_session(settings)
    adapter = _PublicOnlyAdapter(pool_connections=8, pool_maxsize=8, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def pipeline_check_fn(settings: Settings, *, allow_internal: bool = False) -> CheckFn:
    """`check_fn(url, paper) -> Report` over one Context for the process (what `make_app` uses).

    Unless `allow_internal`, the story is fetched with `public_only_session`, while the
    literature services keep the ordinary session (their addresses come from settings).
    """
    from . import pipeline
    ctx = pipeline.build_context(settings)
    if not allow_internal:
        _ = ctx.resolver  # built now, so it keeps the ordinary session
        ctx.session = public_only_session(settings)

    def check_fn(url: str, paper: str | None) -> Report:
        return pipeline.check(url, ctx, paper=paper)

    return check_fn


# -- the pages ------------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2328;
  background: #f4f5f7; margin: 0; padding: 0; font-size: 15px; line-height: 1.5; }
.wrap { max-width: 980px; margin: 0 auto; padding: 0 0 32px 0; background: #ffffff; min-height: 100vh; }
.bar { background: #1f2a37; color: #ffffff; padding: 10px 28px; font-size: 13px; letter-spacing: 0.02em; }
.bar strong { font-weight: 700; letter-spacing: 0.06em; text-transform: uppercase; }
.content { padding: 8px 28px 0 28px; }
h1 { font-family: Georgia, "Times New Roman", serif; font-size: 28px; line-height: 1.25; margin: 18px 0 6px 0;
  font-weight: 700; }
p { margin: 6px 0; }
a { color: #0b57a3; }
.meta { color: #57606a; font-size: 13px; }
.field { margin: 20px 0; }
label { display: block; font-weight: 600; margin: 0 0 4px 0; }
.optional { font-weight: 400; color: #57606a; }
input { box-sizing: border-box; width: 100%; max-width: 720px; font: inherit; padding: 8px 10px;
  border: 1px solid #8c959f; border-radius: 6px; background: #ffffff; color: #1f2328; }
.hint { display: block; color: #57606a; font-size: 13px; margin-top: 4px; }
button { font: inherit; font-weight: 700; color: #ffffff; background: #1f2a37; border: 0; border-radius: 6px;
  padding: 9px 20px; cursor: pointer; }
button:hover { background: #0b57a3; }
input:focus, button:focus, a:focus { outline: 3px solid #f59e0b; outline-offset: 2px; }
.problem { margin: 18px 0 8px 0; padding: 14px 18px; border-left: 6px solid #b42318; background: #fef3f2;
  border-radius: 0 6px 6px 0; }
.problem .line { font-size: 18px; font-weight: 700; margin: 0 0 6px 0; color: #912018; }
.problem.busy { border-color: #b54708; background: #fffaeb; }
.problem.busy .line { color: #93370d; }
.problem .message { overflow-wrap: anywhere; }
.footer { color: #57606a; font-size: 12px; margin: 32px 28px 0 28px; padding-top: 10px;
  border-top: 1px solid #d0d7de; }
"""

_BACK_LINK = ('<p style="margin:0;padding:8px 28px;font-size:13px;background:#eef1f4;'
              'font-family:-apple-system,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif">'
              '<a href="/" style="color:#0b57a3">&larr; Check another story</a></p>')

_HEADINGS = {400: "This address cannot be checked",
             411: "The form was not sent properly",
             413: "The form was too large",
             415: "The form was not sent properly",
             502: "A service the check depends on failed",
             503: "Busy, try again",
             500: "Something went wrong"}


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="color-scheme" content="light">\n'
            f'<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n'
            f'<div class="wrap">\n<div class="bar"><strong>factcheck</strong> · '
            f'check a health story</div>\n<div class="content">\n{body}\n</div>\n'
            f'<p class="footer">factcheck compares what a news story says about a study with the '
            f"abstract of the paper it cites. One check runs at a time; a check takes a few "
            f"seconds.</p>\n</div>\n</body>\n</html>\n")


def form_page(url: str = "", paper: str = "", problem: str | None = None,
              status: int = 400) -> str:
    """The form, filled in with `url` and `paper`, with `problem` above it when there is one."""
    alert = ""
    if problem is not None:
        heading = _HEADINGS.get(status, _HEADINGS[500])
        css = "problem busy" if status == 503 else "problem"
        alert = (f'<div class="{css}" role="alert"><p class="line">{html.escape(heading)}</p>'
                 f'<p class="message">{html.escape(problem)}</p></div>\n')
    q = html.escape
    body = f"""<main>
<h1>Check a health story</h1>
<p>Paste the address of a news story about a medical study. factcheck finds the paper it cites
and lists, sentence by sentence, where the story says something the abstract does not.</p>
{alert}<form method="post" action="/check" accept-charset="utf-8">
<div class="field">
<label for="url">Story web address</label>
<input id="url" name="url" type="url" required maxlength="{MAX_URL_CHARS}"
 placeholder="https://www.example.org/health/story" value="{q(url)}"
 aria-describedby="url-hint" autocomplete="off" spellcheck="false">
<span id="url-hint" class="hint">A public http:// or https:// address.</span>
</div>
<div class="field">
<label for="paper">Paper DOI or PMID <span class="optional">(optional)</span></label>
<input id="paper" name="paper" type="text" maxlength="{MAX_PAPER_CHARS}"
 placeholder="10.1056/NEJMoa1112010" value="{q(paper)}"
 aria-describedby="paper-hint" autocomplete="off" spellcheck="false">
<span id="paper-hint" class="hint">Only needed when the story does not link the study:
a DOI (10.xxxx/…), a PubMed ID or a PMC ID.</span>
</div>
<button type="submit">Check the story</button>
</form>
</main>"""
    title = "factcheck" if problem is None else f"factcheck: {_HEADINGS.get(status, 'error')}"
    return _page(title, body)


def _with_back_link(report_html: str) -> str:
    """The report with a "Check another story" link at the top (unchanged if it has no <body>)."""
    return report_html.replace("<body>", "<body>\n" + _BACK_LINK, 1)


# -- the WSGI application -------------------------------------------------------------------------


class _FormError(Exception):
    def __init__(self, status: int, message: str, url: str = "", paper: str = ""):
        super().__init__(message)
        self.status = status
        self.url = url
        self.paper = paper


class _App:
    def __init__(self, check_fn: Callable[[], CheckFn], allow_internal: bool):
        self._check_fn = check_fn
        self._allow_internal = allow_internal
        self._busy = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/") or "/"
        if path == "/":
            if method in ("GET", "HEAD"):
                return self._respond(start_response, 200, form_page(), head=method == "HEAD")
            return self._not_allowed(start_response, "GET, HEAD")
        if path == "/check":
            if method == "POST":
                return self._check(environ, start_response)
            if method in ("GET", "HEAD"):  # a reload or a typed address: show the form
                return self._respond(start_response, 303, "", extra=[("Location", "/")])
            return self._not_allowed(start_response, "POST")
        return self._respond(start_response, 404, _page("factcheck: not found", (
            '<main><h1>Not found</h1><p><a href="/">Check a story</a></p></main>')))

    def _check(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            url, paper = self._read_form(environ)
        except _FormError as exc:
            return self._error(start_response, exc)
        if not self._busy.acquire(blocking=False):
            return self._error(start_response, _FormError(
                503, "another check is running; this server runs one at a time. Try again in "
                "a few seconds.", url, paper), extra=[("Retry-After", str(BUSY_RETRY_AFTER))])
        try:
            try:
                # inside the lock: one DNS look-up and one check at a time per process
                url = check_story_url(url, allow_internal=self._allow_internal)
                report = self._check_fn()(url, paper or None)
            except FactcheckError as exc:
                status = 502 if exc.exit_status == EXIT_UPSTREAM else 400
                logger.info("check refused or failed (%s): %s", status, exc)
                return self._error(start_response, _FormError(status, str(exc), url, paper))
            except Exception:
                logger.exception("the check of %s failed unexpectedly", url)
                return self._error(start_response, _FormError(
                    500, "the check failed unexpectedly; the error is in the server's log",
                    url, paper))
            from .report import render_html
            page = _with_back_link(render_html(report))
        finally:
            self._busy.release()
        return self._respond(start_response, 200, page)

    def _read_form(self, environ: WSGIEnvironment) -> tuple[str, str]:
        kind = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise _FormError(415, "send the form as application/x-www-form-urlencoded")
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        if not declared:
            raise _FormError(411, "the form arrived without a Content-Length")
        if not declared.isdigit():
            raise _FormError(400, "the form's Content-Length is not a number")
        if int(declared) > MAX_BODY_BYTES:
            raise _FormError(413, f"the form is {int(declared):,} bytes; the limit is "
                                  f"{MAX_BODY_BYTES:,}")
        body = environ["wsgi.input"].read(int(declared))
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True,
                              strict_parsing=False, max_num_fields=10)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _FormError(400, f"the form could not be read ({exc})") from exc
        url = (fields.get("url") or [""])[0]
        paper = (fields.get("paper") or [""])[0].strip()
        if len(paper) > MAX_PAPER_CHARS:
            raise _FormError(400, f"the DOI or PMID is longer than {MAX_PAPER_CHARS} characters",
                             url[:MAX_URL_CHARS])
        return url, paper

    def _error(self, start_response: StartResponse, exc: _FormError,
               extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
        url = exc.url if len(exc.url) <= MAX_URL_CHARS else ""
        return self._respond(start_response, exc.status,
                             form_page(url, exc.paper, str(exc), exc.status), extra=extra)

    def _not_allowed(self, start_response: StartResponse, allow: str) -> Iterable[bytes]:
        return self._respond(start_response, 405, _page("factcheck: method not allowed", (
            '<main><h1>Method not allowed</h1><p><a href="/">Check a story</a></p></main>')),
            extra=[("Allow", allow)])

    @staticmethod
    def _respond(start_response: StartResponse, status: int, page: str, *, head: bool = False,
                 extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
        body = page.encode("utf-8")
        headers = [("Content-Type", "text/html; charset=utf-8"),
                   ("Content-Length", str(len(body))), *SECURITY_HEADERS, *(extra or [])]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [] if head else [body]


def make_app(settings: Settings, *, allow_internal: bool = False,
             check_fn: CheckFn | None = None) -> WSGIApplication:
    """The web form as a WSGI application.

    Args:
        settings: the process's Settings (used for the default check_fn).
        allow_internal: also check stories on loopback and private addresses (tests, a trusted
            local deployment). The web form's default is to refuse them.
        check_fn: `check_fn(url, paper) -> Report`; by default `pipeline_check_fn(settings)`,
            built on the first check (one Context for the life of the process).

    Returns:
        A WSGI callable: GET / the form, POST /check the report or an error page.
    """
    built: list[CheckFn] = [check_fn] if check_fn is not None else []

    def get_check_fn() -> CheckFn:  # called only under the app's lock
        if not built:
            built.append(pipeline_check_fn(settings, allow_internal=allow_internal))
        return built[0]

    return _App(get_check_fn, allow_internal)


# -- the server -------------------------------------------------------------------------------------


class _Handler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    linger_bytes = 1 << 20
    linger_seconds = 2.0

    def shutdown_request(self, request: Any) -> None:
        """Close gracefully: send FIN, then read what the client still sends (an over-size body).

        Closing a socket with unread input sends a reset, which can destroy the response
        (a 413) before the client reads it.
        """
        try:
            request.shutdown(socket.SHUT_WR)
            request.settimeout(self.linger_seconds)
            drained = 0
            while drained < self.linger_bytes:
                chunk = request.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass
        self.close_request(request)


def make_http_server(app: WSGIApplication, host: str = "127.0.0.1", port: int = 8000) -> WSGIServer:
    """A threaded wsgiref server for `app` (port 0: a free port, see `server.server_port`)."""
    return make_server(host, port, app, server_class=_Server, handler_class=_Handler)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
          allow_internal: bool = False) -> None:
    """Serve the web form on host:port until interrupted."""
    app = make_app(settings, allow_internal=allow_internal)
    with make_http_server(app, host, port) as server:
        shown = f"[{host}]" if ":" in host else host
        print(f"factcheck: serving the web form on http://{shown}:{server.server_port}/ "
              f"(Ctrl-C to stop)", file=sys.stderr)
        try:
            loopback = ipaddress.ip_address(socket.getaddrinfo(host, None)[0][4][0]).is_loopback
        except (OSError, ValueError):
            loopback = False
        if not loopback:
            print("factcheck: warning: the form has no login; put it behind a proxy that "
                  "authenticates editors", file=sys.stderr)
        server.serve_forever()


__all__ = ["MAX_BODY_BYTES", "MAX_URL_CHARS", "InternalAddressError", "address_problem",
           "check_story_url", "form_page", "make_app", "make_http_server", "pipeline_check_fn",
           "public_addresses", "public_only_session", "serve"]

