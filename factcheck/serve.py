"""The editors' web form: one story URL in, the HTML report out (standard library only).

```
GET  /        the form: story URL, optional DOI/PMID
POST /check   validate -> refuse internal addresses -> pipeline.check -> report.render_html
```
Answers: 200 the report; 400 bad input (a FactcheckError with exit status 2, or a refused URL);
502 an upstream service or the story's site failed (exit status 3); 411/413/415 a malformed form
post; 503 another check is running; 500 anything unexpected (logged, never shown).

What the form refuses, and why: factcheck.guard (internal addresses, also after redirects).

Cross-site posts are refused (403): the form carries a token, the HMAC of a nonce the browser
holds in a SameSite=Strict cookie, so only a page this server sent can post it; a POST whose
Origin (or Referer) is another site, or whose Host is not one of the server's names
(`serve --server-name`, by default the address it listens on), is refused before anything runs.
A body shorter than its Content-Length, or one that stops arriving, is a 400, not a 500.

Limits: a form body of at most `MAX_BODY_BYTES`, a URL of at most `MAX_URL_CHARS`, a request
read within `REQUEST_TIMEOUT` seconds, and one check at a time per process (a lock; a second
request while one runs gets 503 "busy, try again" at once rather than queueing). There is no
login: serve on 127.0.0.1 (the default) or behind a proxy that authenticates editors.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import logging
import secrets
import socket
import sys
import threading
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .config import Settings
from .errors import EXIT_UPSTREAM, FactcheckError
from .guard import (  # noqa: F401 - the guard's names are part of the web form's interface
    MAX_URL_CHARS,
    InternalAddressError,
    _PublicHTTPConnection,
    address_problem,
    check_story_url,
    public_addresses,
    public_only_session,
)

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from .types import Report

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024
MAX_PAPER_CHARS = 200
REQUEST_TIMEOUT = 30.0  # seconds a client has to send its request
BUSY_RETRY_AFTER = 10  # seconds, sent with a 503
CSRF_COOKIE = "factcheck_csrf"

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
             403: "The form could not be accepted",
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
              status: int = 400, token: str = "") -> str:
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
<input type="hidden" name="csrf" value="{q(token)}">
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


def _cookie(environ: WSGIEnvironment, name: str) -> str | None:
    from http.cookies import CookieError, SimpleCookie
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE") or "")
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def _origin_host(value: str) -> str | None:
    parts = urlsplit(value)
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


class _App:
    def __init__(self, check_fn: Callable[[], CheckFn], allow_internal: bool,
                 server_names: Iterable[str] | None = None):
        self._check_fn = check_fn
        self._allow_internal = allow_internal
        self._busy = threading.Lock()
        self._secret = secrets.token_bytes(32)  # per process: a restart asks for a reload
        self._names = frozenset(n.lower() for n in server_names) if server_names else None

    def _token(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def _form(self, start_response: StartResponse, environ: WSGIEnvironment,
              head: bool = False) -> Iterable[bytes]:
        token, cookie = self._token_for(environ)
        return self._respond(start_response, 200, form_page(token=token), head=head,
                             extra=cookie)

    def _token_for(self, environ: WSGIEnvironment | None) -> tuple[str, list[tuple[str, str]]]:
        """The form token for this browser, and the Set-Cookie header when it needs a nonce."""
        nonce = _cookie(environ, CSRF_COOKIE) if environ is not None else None
        if nonce and len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
            return self._token(nonce), []
        nonce = secrets.token_urlsafe(24)
        return self._token(nonce), [("Set-Cookie",
                                     f"{CSRF_COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Strict")]

    def _host_problem(self, environ: WSGIEnvironment) -> str | None:
        """Why this request's Host is not one of ours (None when it is, or no names are set)."""
        host = (environ.get("HTTP_HOST") or "").strip().lower()
        if self._names is not None and host not in self._names:
            return (f"this server answers as {', '.join(sorted(self._names))}, not "
                    f"{host[:100] or 'a request without a Host'}; open the form at its address")
        return None

    def _cross_site(self, environ: WSGIEnvironment, token: str) -> str | None:
        """Why this POST may come from another site (None when it is the form's own)."""
        host = (environ.get("HTTP_HOST") or "").strip().lower()
        for header in ("HTTP_ORIGIN", "HTTP_REFERER"):
            value = (environ.get(header) or "").strip()
            if value:
                if value == "null" or _origin_host(value) != host:
                    return "the form was sent from another site; open the form here and submit it"
                break
        nonce = _cookie(environ, CSRF_COOKIE)
        if not nonce or not token or not hmac.compare_digest(token, self._token(nonce)):
            return ("the form has expired or was not sent from this page; reload the form and "
                    "submit it again")
        return None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/") or "/"
        problem = self._host_problem(environ)
        if problem is not None:
            return self._respond(start_response, 400, _page("factcheck: wrong address", (
                f"<main><h1>Wrong address</h1><p>{html.escape(problem)}</p></main>")))
        if path == "/":
            if method in ("GET", "HEAD"):
                return self._form(start_response, environ, head=method == "HEAD")
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
            url, paper, token = self._read_form(environ)
        except _FormError as exc:
            return self._error(start_response, environ=environ, exc=exc)
        refused = self._cross_site(environ, token)
        if refused is not None:
            logger.info("cross-site or stale form refused: %s", refused)
            return self._error(start_response, environ=environ, exc=_FormError(403, refused))
        if not self._busy.acquire(blocking=False):
            return self._error(start_response, environ=environ, exc=_FormError(
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
                return self._error(start_response, environ=environ,
                                   exc=_FormError(status, str(exc), url, paper))
            except Exception:
                logger.exception("the check of %s failed unexpectedly", url)
                return self._error(start_response, environ=environ, exc=_FormError(
                    500, "the check failed unexpectedly; the error is in the server's log",
                    url, paper))
            from .report import render_html
            page = _with_back_link(render_html(report))
        finally:
            self._busy.release()
        return self._respond(start_response, 200, page)

    def _read_form(self, environ: WSGIEnvironment) -> tuple[str, str, str]:
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
        try:
            body = environ["wsgi.input"].read(int(declared))
        except (OSError, ValueError) as exc:  # the client stopped sending (timeout, reset)
            raise _FormError(400, "the form did not arrive whole; submit it again") from exc
        if len(body) < int(declared):
            raise _FormError(400, f"the form arrived incomplete ({len(body):,} of "
                                  f"{int(declared):,} bytes); submit it again")
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True,
                              strict_parsing=False, max_num_fields=10)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _FormError(400, f"the form could not be read ({exc})") from exc
        url = (fields.get("url") or [""])[0]
        paper = (fields.get("paper") or [""])[0].strip()
        token = (fields.get("csrf") or [""])[0].strip()
        if len(paper) > MAX_PAPER_CHARS:
            raise _FormError(400, f"the DOI or PMID is longer than {MAX_PAPER_CHARS} characters",
                             url[:MAX_URL_CHARS])
        return url, paper, token

    def _error(self, start_response: StartResponse, exc: _FormError,
               extra: list[tuple[str, str]] | None = None,
               environ: WSGIEnvironment | None = None) -> Iterable[bytes]:
        url = exc.url if len(exc.url) <= MAX_URL_CHARS else ""
        token, cookie = self._token_for(environ)  # the form shown again can be resubmitted
        return self._respond(start_response, exc.status,
                             form_page(url, exc.paper, str(exc), exc.status, token),
                             extra=[*(extra or []), *cookie])

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
             check_fn: CheckFn | None = None,
             server_names: Iterable[str] | None = None) -> WSGIApplication:
    """The web form as a WSGI application.

    Args:
        settings: the process's Settings (used for the default check_fn).
        allow_internal: also check stories on loopback and private addresses (tests, a trusted
            local deployment). The web form's default is to refuse them.
        check_fn: `check_fn(url, paper) -> Report`; by default `pipeline_check_fn(settings)`,
            built on the first check (one Context for the life of the process).
        server_names: the Host values ("host:port") the server answers to; None accepts any
            Host (posts must still come from the same origin with a valid form token).

    Returns:
        A WSGI callable: GET / the form, POST /check the report or an error page.
    """
    built: list[CheckFn] = [check_fn] if check_fn is not None else []

    def get_check_fn() -> CheckFn:  # called only under the app's lock
        if not built:
            built.append(pipeline_check_fn(settings, allow_internal=allow_internal))
        return built[0]

    return _App(get_check_fn, allow_internal, server_names)


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


def default_server_names(host: str, port: int) -> list[str] | None:
    """The Host values a server on host:port answers to by default (None: any, for 0.0.0.0)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None and address.is_unspecified:
        return None
    if address is None:
        names = [f"{host.lower()}:{port}"]
    else:
        names = [f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"]
    if address is not None and address.is_loopback:
        names += [f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"]
    if port in (80, 443):  # browsers leave the default port out of Host
        names += [name.rsplit(":", 1)[0] for name in names]
    return sorted(set(names))


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
          allow_internal: bool = False, server_names: Iterable[str] | None = None) -> None:
    """Serve the web form on host:port until interrupted.

    `server_names` are the "host:port" values browsers reach it by (behind a proxy: the public
    name); by default the listening address, and any Host when listening on every interface.
    """
    with make_http_server(make_app(settings, allow_internal=allow_internal), host, port) as server:
        names = list(server_names or []) or default_server_names(host, server.server_port)
        server.set_app(make_app(settings, allow_internal=allow_internal, server_names=names))
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
        if names is None:
            print("factcheck: warning: listening on every interface with no --server-name: "
                  "any Host header is accepted (posts must still come from the form)",
                  file=sys.stderr)
        server.serve_forever()


__all__ = ["MAX_BODY_BYTES", "MAX_URL_CHARS", "InternalAddressError", "address_problem",
           "check_story_url", "default_server_names", "form_page", "make_app", "make_http_server", "pipeline_check_fn",
           "public_addresses", "public_only_session", "serve"]

