"""Command-line verb for the queue backend: `worker`.

Registered on the main group by cli.py (`main.add_command(worker)`).
"""

from __future__ import annotations

import logging
from typing import Any

import click

from ._cli_common import common_options


@click.command()
@click.option("--queue", "queue_url", metavar="URL",
              help="The Redis of the queue (redis://host:6379/0; default: FACTCHECK_QUEUE_URL "
                   "or the [queue] url setting).")
@click.option("--burst", is_flag=True, help="Quit once the queue is empty instead of waiting.")
@click.option("--heartbeat", type=click.FloatRange(0.5, 300), default=5.0, show_default=True,
              help="Seconds between beats while a story is checked; a worker silent for three "
                   "beats (killed, frozen, cut off) has its story handed to another worker.")
@common_options
def worker(queue_url: str | None, burst: bool, heartbeat: float, settings: Any) -> None:
    """Check the stories other commands put on the queue, until stopped (Ctrl-C, SIGTERM).

    Builds the pipeline once, then runs one story at a time; start one per core on each
    machine. The services' rates and per-site gaps hold for all workers together, through
    the queue's Redis. Results go back to whoever enqueued the story, which stores them.

    Example: factcheck worker --queue redis://queue.internal:6379/0
    """
    from .queue import run_worker
    url = queue_url or settings.queue_url
    if not url:
        raise click.UsageError("give --queue URL, or set FACTCHECK_QUEUE_URL or [queue] url")
    level = logging.getLogger().getEffectiveLevel()
    run_worker(settings, url, burst=burst, heartbeat=heartbeat,
               log_level="INFO" if level <= logging.INFO else "WARNING")


__all__ = ["worker"]
