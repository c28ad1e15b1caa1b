"""What stops another site, or another Host, from using the web app (ported from the old form).

- **Host**: a request whose Host is not one of the server's names (`web.server_names` /
  `serve --server-name`, by default the address it listens on) is refused (400) before anything
  runs; that defeats DNS rebinding onto a server that listens on 127.0.0.1.
- **Origin**: a POST whose Origin (or, without one, Referer) is another site, or `null`, is
  refused (403).
- **CSRF token**: every form carries the HMAC of a nonce the browser holds in a
  `SameSite=Strict; HttpOnly` cookie; a POST without the matching pair is refused (403). The
  secret is per process, so after a restart an editor reloads the form.
- **Headers** on every answer: a CSP that allows no scripts, no external anything and form posts
  only to this origin; nosniff, no referrer to other sites (`same-origin`: `no-referrer` would
  make browsers send `Origin: null` on the form's own post), no framing, no caching of pages.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

CSRF_COOKIE = "factcheck_csrf"

SECURITY_HEADERS = (
    ("content-security-policy",
     "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
     "base-uri 'none'; frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    # not no-referrer: with it, Chromium sends `Origin: null` on the form's own POST, which the
    # same-origin check must refuse; same-origin still sends nothing to other sites
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
)


def _origin_host(value: str) -> str | None:
    parts = urlsplit(value)
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


def cookie_value(header: str, name: str) -> str | None:
    """One cookie's value from a Cookie header (None when absent or the header is malformed)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header or "")
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class Guard:
    """Host names, form tokens and same-origin checks of one app.

    Args:
        server_names: the Host values ("host:port") the app answers to; None accepts any Host
            (posts must still come from the same origin with a valid token).
    """

    def __init__(self, server_names: Iterable[str] | None = None):
        self._secret = secrets.token_bytes(32)
        names = [n.strip().lower() for n in server_names or () if n.strip()]
        self.names = frozenset(names) if names else None

    def token(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def token_for(self, cookie_header: str) -> tuple[str, str | None]:
        """The form token for this browser, and the Set-Cookie value when it needs a nonce."""
        nonce = cookie_value(cookie_header, CSRF_COOKIE)
        if nonce and len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
            return self.token(nonce), None
        nonce = secrets.token_urlsafe(24)
        return self.token(nonce), f"{CSRF_COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Strict"

    def host_problem(self, host: str) -> str | None:
        """Why this Host is not one of ours (None when it is, or no names are set)."""
        host = host.strip().lower()
        if self.names is not None and host not in self.names:
            return (f"this server answers as {', '.join(sorted(self.names))}, not "
                    f"{host[:100] or 'a request without a Host'}; open the form at its address")
        return None

    def cross_site(self, headers: Any, token: str) -> str | None:
        """Why this POST may come from another site (None when it is the form's own)."""
        host = (headers.get("host") or "").strip().lower()
        for name in ("origin", "referer"):
            value = (headers.get(name) or "").strip()
            if value:
                if value == "null" or _origin_host(value) != host:
                    return "the form was sent from another site; open the form here and submit it"
                break
        nonce = cookie_value(headers.get("cookie") or "", CSRF_COOKIE)
        if not nonce or not token or not hmac.compare_digest(token, self.token(nonce)):
            return ("the form has expired or was not sent from this page; reload the form and "
                    "submit it again")
        return None


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP answer, and the Host check first."""

    def __init__(self, app: Any, guard: Guard, refuse: Any):
        self.app = app
        self.guard = guard
        self.refuse = refuse  # refuse(problem) -> an ASGI app answering 400

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in {h for h, _ in SECURITY_HEADERS}]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
                message = {**message, "headers": headers}
            await send(message)

        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
        problem = self.guard.host_problem(host)
        if problem is not None:
            await self.refuse(problem)(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)


__all__ = ["CSRF_COOKIE", "SECURITY_HEADERS", "Guard", "SecurityHeaders", "cookie_value"]
