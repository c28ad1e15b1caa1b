"""The command-line side of a batch (`factcheck check A B C`, `--from FILE`): lines, bar, summary.

The work is factcheck.batch; this module only writes: one JSON line per story to stdout or
--output as each completes (flushed, so a pipe sees it at once), a progress bar on stderr when
stderr is a terminal, every story in the history store, and one summary line at the end.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path
from typing import IO, Any

import click

from .errors import FactcheckError, InputError

logger = logging.getLogger(__name__)


def check_many_cli(pairs: list[tuple[str, str | None]], output: str | None,
                   fail_on: str | None, jobs: int | None, settings: Any) -> int:
    """Check every (source, paper) pair; returns the exit status of the worst story.

    With settings.queue_url the stories go on the queue and `factcheck worker` processes check
    them (-j is theirs to choose, one per core each); this process collects and stores.
    """
    from .batch import BatchStats, BatchSummary, default_workers, make_jobs, result_report, run_batch
    jobs_list = make_jobs(pairs)
    results: Any
    stats = BatchStats()
    if settings.queue_url:
        from .queue import connect, run_queue, worker_count
        workers = worker_count(connect(settings.queue_url))
        results = run_queue(jobs_list, settings, stats=stats)
    else:
        workers = max(1, min(jobs or default_workers(), len(jobs_list)))
        results = run_batch(jobs_list, settings, workers, stats=stats)
    summary = BatchSummary(total=len(jobs_list), workers=workers)
    out: IO[str]
    try:
        out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    store = _open_store(settings)
    progress, task = _progress(len(jobs_list))
    try:
        for result in results:
            out.write(result.report_json + "\n")
            out.flush()
            report = result_report(result)
            summary.add(result, report, fail_on)
            if store is not None:
                try:
                    store.record_check(report, origin="batch")
                except (sqlite3.Error, OSError, FactcheckError) as exc:
                    logger.warning("could not store %s in the history: %s", result.source, exc)
            if progress is not None:
                progress.update(task, advance=1, description=_short(result.source))
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if progress is not None:
            progress.stop()
        if output:
            out.close()
        if store is not None:
            store.close()
    line = summary.line()
    if stats.restarts:
        line += (f"; {stats.restarts} worker{'s' if stats.restarts != 1 else ''} died, "
                 f"{stats.retried} stor{'ies' if stats.retried != 1 else 'y'} checked again")
    click.echo(line, err=True)
    return 130 if summary.interrupted else summary.exit_status


def _open_store(settings: Any) -> Any:
    from .store import Store
    try:
        return Store.from_settings(settings)
    except (sqlite3.Error, OSError, FactcheckError) as exc:
        logger.warning("the history store cannot be opened; the checks are not kept: %s", exc)
        return None


def _progress(total: int) -> tuple[Any, Any]:
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    progress = Progress(TextColumn("{task.description}", style="dim"), BarColumn(),
                        MofNCompleteColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True), transient=True)
    progress.start()
    return progress, progress.add_task("starting workers", total=total)


def _short(source: str, width: int = 40) -> str:
    name = source if "://" in source else Path(source).name
    return name if len(name) <= width else "…" + name[-(width - 1):]
