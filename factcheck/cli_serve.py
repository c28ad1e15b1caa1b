"""Command-line verb for the editors' web form: `serve`.

Registered on the main group by cli.py (`main.add_command(serve)`).
"""

from __future__ import annotations

from typing import Any

import click

from ._cli_common import common_options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the form has no login, so keep it local or behind an "
                   "authenticating proxy.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--server-name", "server_names", multiple=True, metavar="HOST[:PORT]",
              help="A name browsers reach the form by (repeatable; behind a proxy, its public "
                   "host:port). Requests with another Host are refused. Default: the address "
                   "it listens on.")
@common_options
def serve(host: str, port: int, server_names: tuple[str, ...], settings: Any) -> None:
    """Serve the editors' web form: submit a story URL, read its HTML report.

    The form checks one story at a time and refuses URLs on this machine or a private network.

    Example: factcheck serve --host 127.0.0.1 --port 8000
    """
    from .serve import serve as run_server
    run_server(settings, host=host, port=port, server_names=server_names or None)


__all__ = ["serve"]
