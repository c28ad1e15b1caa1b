"""What every command shares: logging set-up, the common options and the error boundary.

A FactcheckError becomes one line on stderr and the exit status DESIGN.md gives (2 bad input,
3 upstream failure); disk and database errors exit 3; `--debug` shows the traceback.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .errors import EXIT_UPSTREAM, FactcheckError, InputError

logger = logging.getLogger(__name__)


def _setup_logging(verbose: int) -> None:
    from rich.console import Console
    from rich.logging import RichHandler
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(message)s", datefmt="[%X]",
                        handlers=[RichHandler(console=Console(stderr=True), show_path=False)])


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command shares: --config, --offline, -v, --debug."""
    @click.option("--config", "config_file", type=click.Path(dir_okay=False),
                  help="A TOML file of settings that override the defaults.")
    @click.option("--offline", is_flag=True, help="Use only the cache and local files.")
    @click.option("-v", "--verbose", count=True, help="-v for progress, -vv for debugging logs.")
    @click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
    @functools.wraps(fn)
    def wrapper(*args: Any, config_file: str | None, offline: bool, verbose: int, debug: bool,
                **kwargs: Any) -> Any:
        _setup_logging(verbose)
        try:
            from .config import load_settings
            settings = load_settings(config_file, offline=offline)
            return fn(*args, settings=settings, **kwargs)
        except FactcheckError as exc:
            if debug:
                raise
            click.echo(f"factcheck: error: {exc}", err=True)
            sys.exit(exc.exit_status)
        except KeyboardInterrupt:
            click.echo("factcheck: interrupted", err=True)
            sys.exit(130)
        except (OSError, sqlite3.Error) as exc:
            # the disk or a database, not the input: one line, never a traceback that exits 1
            if debug:
                raise
            click.echo(f"factcheck: error: {exc}", err=True)
            sys.exit(EXIT_UPSTREAM)
    return wrapper


def _write(text: str, output: str | None) -> None:
    if output:
        path = Path(output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc
        click.echo(f"report written to {path}", err=True)
    else:
        click.echo(text, nl=False)
