"""The web app under uvicorn: `serve` for `factcheck serve`, `running` for tests and scripts.

The socket is bound before the app is built, so port 0 gets a free port and the app's default
server names (the Host values it accepts) carry the real one. uvicorn is told not to configure
logging (the CLI does that) and to speak h11, the pure-Python HTTP/1.1 it always ships.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from ..config import Settings

KEEP_ALIVE_SECONDS = 5
GRACEFUL_SECONDS = 10  # a shutdown waits this long for requests in flight


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


def bind(host: str = "127.0.0.1", port: int = 8000) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def uvicorn_server(app: Any, sock: socket.socket) -> Any:
    """A uvicorn Server for `app` on the bound socket `sock` (run it with `.run(sockets=[sock])`)."""
    import uvicorn
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, host=host, port=port, log_config=None, http="h11",
                            loop="asyncio", lifespan="on", access_log=False,
                            timeout_keep_alive=KEEP_ALIVE_SECONDS, server_header=False,
                            timeout_graceful_shutdown=GRACEFUL_SECONDS)
    return uvicorn.Server(config)


@contextlib.contextmanager
def running(app: Any, host: str = "127.0.0.1", port: int = 0,
            sock: socket.socket | None = None) -> Iterator[str]:
    """Serve `app` in a background thread; yields its base URL ("http://127.0.0.1:PORT")."""
    sock = sock or bind(host, port)
    server = uvicorn_server(app, sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="factcheck-uvicorn")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("the web app did not start within 30 s")
    shown_host, shown_port = sock.getsockname()[:2]
    shown = f"[{shown_host}]" if ":" in shown_host else shown_host
    try:
        yield f"http://{shown}:{shown_port}"
    finally:
        server.should_exit = True
        thread.join(GRACEFUL_SECONDS + 10)
        sock.close()


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
          server_names: Iterable[str] | None = None, workers: int | None = None,
          allow_hosts: Iterable[str] | None = None) -> None:
    """Serve the web app on host:port until interrupted (Ctrl-C or SIGTERM).

    Args:
        settings: the run's Settings (`web.workers`, `web.allow_hosts`, `web.server_names`).
        host, port: where to listen (port 0: a free port).
        server_names: the "host:port" values browsers reach it by (behind a proxy: the public
            name); by default `web.server_names`, else the listening address, and any Host when
            listening on every interface.
        workers: checks at once (default `web.workers`).
        allow_hosts: internal hosts or CIDRs to fetch stories from (default `web.allow_hosts`).
    """
    from .app import create_app
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    names = list(server_names or settings.web_server_names or []) or \
        default_server_names(host, bound)
    allow = list(allow_hosts) if allow_hosts is not None else None
    app = create_app(settings, server_names=names, workers=workers, allow_hosts=allow)
    pool = app.state.web.pool
    shown = f"[{host}]" if ":" in host else host
    print(f"factcheck: serving the web app on http://{shown}:{bound}/ with {pool.workers} "
          f"checker(s) (Ctrl-C to stop)", file=sys.stderr)
    try:
        loopback = ipaddress.ip_address(socket.getaddrinfo(host, None)[0][4][0]).is_loopback
    except (OSError, ValueError):
        loopback = False
    if not loopback:
        print("factcheck: warning: the web app has no login; put it behind a proxy that "
              "authenticates editors", file=sys.stderr)
    if names is None:
        print("factcheck: warning: listening on every interface with no --server-name: any "
              "Host header is accepted (posts must still come from the form)", file=sys.stderr)
    uvicorn_server(app, sock).run(sockets=[sock])


__all__ = ["bind", "default_server_names", "running", "serve", "uvicorn_server"]
