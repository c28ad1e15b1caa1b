"""Command-line verb for the editors' web app: `serve`.

Registered on the main group by cli.py (`main.add_command(serve)`).
"""

from __future__ import annotations

from typing import Any

import click

from ._cli_common import common_options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the app has no login, so keep it local or behind an "
                   "authenticating proxy.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--server-name", "server_names", multiple=True, metavar="HOST[:PORT]",
              help="A name browsers reach the app by (repeatable; behind a proxy, its public "
                   "host:port). Requests with another Host are refused. Default: setting "
                   "web.server_names, else the address it listens on.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Checks at once; more wait in a first-come queue. Default: setting "
                   "web.workers (4).")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST|CIDR",
              help="An internal host name or network stories may be fetched from although the "
                   "SSRF guard refuses internal addresses (repeatable; e.g. a newsroom CMS). "
                   "Default: setting web.allow_hosts.")
@common_options
def serve(host: str, port: int, server_names: tuple[str, ...], workers: int | None,
          allow_hosts: tuple[str, ...], settings: Any) -> None:
    """Serve the editors' web app: submit a story, watch the check, read its report.

    Checks run several at once in a fair queue; each report keeps its address (/checks/ID,
    also .json and .md) and lands in the history with the command line's and the feed's.
    Story URLs on this machine or a private network are refused unless allowed.

    Example: factcheck serve --host 127.0.0.1 --port 8000 --workers 4
    """
    from .web.server import serve as run_server
    run_server(settings, host=host, port=port, server_names=server_names or None,
               workers=workers, allow_hosts=(list(settings.web_allow_hosts) + list(allow_hosts))
               if allow_hosts else None)


__all__ = ["serve"]
