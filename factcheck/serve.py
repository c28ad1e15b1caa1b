"""The editors' web app, as `factcheck serve` and older imports know it.

The app itself is factcheck.web (Starlette under uvicorn, jinja2 pages, a pool of checkers, a
page per check, permanent reports, history). This module keeps the names callers used when the
form was a single-check wsgiref page:

- `serve(settings, host, port, server_names, workers, allow_hosts)`: run the app until
  interrupted (`factcheck serve`);
- `make_app(settings, ...)`: the ASGI app (`factcheck.web.create_app`);
- `default_server_names(host, port)`: the Host values a server accepts by default;
- the SSRF guard's names (`check_story_url`, `public_only_session`, `address_problem`, ...),
  which live in factcheck.guard.

There is no login: serve on 127.0.0.1 (the default) or behind a proxy that authenticates editors.
"""

from __future__ import annotations

from .guard import (  # noqa: F401 - the guard's names are part of the web app's interface
    MAX_URL_CHARS,
    InternalAddressError,
    _PublicHTTPConnection,
    address_problem,
    check_story_url,
    public_addresses,
    public_only_session,
)
from .web.app import MAX_BODY_BYTES
from .web.app import create_app as make_app
from .web.server import default_server_names, serve

__all__ = ["MAX_BODY_BYTES", "MAX_URL_CHARS", "InternalAddressError", "address_problem",
           "check_story_url", "default_server_names", "make_app", "public_addresses",
           "public_only_session", "serve"]
