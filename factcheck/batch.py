"""Many checks at once, on every core: `factcheck check A B C` and `factcheck check --from FILE`.

```
sources (arguments, or --from FILE: "SOURCE [DOI|PMID|PAPER-FILE]" a line, # comments)
  1. plan      BatchJob per source, in the order given
  2. dispatch  parent: the next job whose site is free (host_delay per site, not per batch)
  3. check     worker processes, each with its pipeline built once (on Linux the parent builds
               it and forks the workers, which share its pages copy-on-write); every request
               waits at one Gate whose clock all workers share (gate.shared_clock), so the
               services' rates hold for the whole run however many workers there are
  4. collect   parent: one JSON line per story as it completes, the history store (one writer),
               a progress bar on a terminal, one summary line at the end
```

A story that fails is a line too (its report holds the Problem: stage, error, message), and the
run goes on. A worker process that dies (killed, out of memory) loses nothing: new workers take
over and the stories the old ones held are checked again (once: a story that kills two workers
is reported as failed, WorkerDied). Ctrl-C stops dispatching, lets nothing half-written out, and says
how many stories were left.

Exit status, by the worst story: 3 a site or service failed, 2 bad input, 1 findings at or above
--fail-on, 0 otherwise.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .config import Settings
from .errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, EXIT_UPSTREAM, FactcheckError, InputError
from .gate import Gate, host_key, shared_clock
from .types import Problem, Report

logger = logging.getLogger(__name__)

SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
MAX_WORKER_DEATHS = 1  # a story whose worker died is sent again this many times, then fails


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One story of a batch: where it is, and the paper when the caller names it."""

    index: int
    source: str
    paper: str | None = None
    paper_file: str | None = None
    # the web app's story: fetched only from public addresses (or web.allow_hosts), also after
    # redirects, as the web app itself fetches it (factcheck.web.fetching)
    guarded: bool = False


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a worker sends back: the report as JSON (its Problem when it failed)."""

    index: int
    source: str
    report_json: str
    exit_status: int  # 0 checked, 2 bad input, 3 upstream (findings are judged by the caller)
    seconds: float


@dataclass
class BatchSummary:
    """Counts for the summary line and the exit status."""

    total: int
    workers: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    flagged: int = 0
    clean: int = 0
    bad_input: int = 0
    upstream: int = 0
    over_threshold: int = 0
    interrupted: bool = False

    def add(self, result: BatchResult, report: Report, fail_on: str | None) -> None:
        self.done += 1
        if result.exit_status == EXIT_UPSTREAM:
            self.upstream += 1
        elif result.exit_status != EXIT_OK:
            self.bad_input += 1
        elif any(f.severity in ("high", "medium") for f in report.findings):
            self.flagged += 1
        else:
            self.clean += 1
        if fail_on and any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on]
                           for f in report.findings):
            self.over_threshold += 1

    @property
    def exit_status(self) -> int:
        if self.upstream:
            return EXIT_UPSTREAM
        if self.bad_input:
            return EXIT_BAD_INPUT
        if self.over_threshold:
            return EXIT_FINDINGS
        return EXIT_OK

    def line(self) -> str:
        seconds = max(1e-9, time.monotonic() - self.started)
        failed = self.bad_input + self.upstream
        text = (f"batch: {self.done}/{self.total} stories checked in {seconds:.1f} s "
                f"({self.done / seconds:.2f}/s on {self.workers} worker"
                f"{'s' if self.workers != 1 else ''}): {self.flagged} flagged, {self.clean} clean, "
                f"{failed} failed ({self.bad_input} bad input, {self.upstream} site or service)")
        if self.interrupted:
            text += f"; interrupted, {self.total - self.done} not checked"
        return text


# -- reading the list ---------------------------------------------------------------------------


def read_sources(path: Path | str) -> list[tuple[str, str | None]]:
    """(source, paper) pairs from a file: one "SOURCE [PAPER]" a line; # comments, blanks.

    PAPER is a DOI, PMID or PMCID, or the path of a saved service response (see `make_jobs`).
    """
    try:
        text = Path(path).read_text("utf-8") if str(path) != "-" else _stdin()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: {exc.reason}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        fields = line.split()
        if len(fields) > 2:
            raise InputError(f"{path}:{number}: expected 'SOURCE [DOI|PMID|PAPER-FILE]', got "
                             f"{len(fields)} fields")
        pairs.append((fields[0], fields[1] if len(fields) == 2 else None))
    if not pairs:
        raise InputError(f"{path} lists no stories")
    return pairs


def make_jobs(pairs: Iterable[tuple[str, str | None]]) -> list[BatchJob]:
    """BatchJobs in the given order; a PAPER that is an existing file is a saved response."""
    jobs = []
    for index, (source, paper) in enumerate(pairs):
        if paper and Path(paper).is_file():
            jobs.append(BatchJob(index, source, paper_file=paper))
        else:
            jobs.append(BatchJob(index, source, paper=paper))
    return jobs


def _stdin() -> str:
    import sys
    return sys.stdin.read()


# -- the workers --------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _preload(settings: Settings) -> None:
    """Build what every worker shares and never writes: the rules, NLP, the mention reader.

    Nothing here holds a connection or a file: the cache, the HTTP session and the resolver are
    made in each worker (an SQLite connection or a socket must not cross a fork).
    """
    from .mention import MentionReader
    from .nlp import load_nlp
    from .rules import load_rules
    rules = load_rules()
    _WORKER["shared"] = (rules, load_nlp(settings, rules), MentionReader(rules))


def _init_worker(settings: Settings, clock: Any, log_level: int) -> None:
    """This process's Context, through the gate whose clock all workers share."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    logging.basicConfig(level=max(log_level, logging.WARNING), format="%(message)s")
    _WORKER["ctx"] = worker_context(settings, clock)
    logger.info("batch worker %s ready", os.getpid())


def worker_context(settings: Settings, clock: Any) -> Any:
    """A worker process's Context: the shared pipeline (preloaded before a fork, or built now)
    and its own cache, resolver and session through a Gate on `clock`.

    The local batch's workers pass the machine's shared clock; `factcheck worker` passes a
    RedisClock, so every worker on every machine keeps the services' rates together.
    """
    from .pipeline import Context
    if "shared" not in _WORKER:  # spawned, not forked, or a queue worker
        _preload(settings)
    rules, analyzer, reader = _WORKER["shared"]
    gate = Gate(settings, clock)
    ctx = Context(settings=settings, rules=rules, session=gate.session(), _analyzer=analyzer,
                  _mention_reader=reader)
    _ = ctx.resolver  # built now, not inside a story's budget
    return ctx


def _run_job(job: BatchJob) -> BatchResult:
    return run_job(job, _WORKER["ctx"])


def _guarded(ctx: Any, url: str) -> Any:
    """`ctx` with the web app's vetted story session (built once per worker); `url` vetted."""
    from dataclasses import replace

    from .web.fetching import AllowList, story_session, vet_story_url
    allow = AllowList.parse(ctx.settings.web_allow_hosts)
    vet_story_url(url, allow)  # InternalAddressError: reported like any failed check
    guarded = _WORKER.get("guarded")
    if guarded is None or guarded[0] is not ctx:
        _ = ctx.resolver  # the services keep the ordinary session
        guarded = (ctx, replace(ctx, session=story_session(ctx.settings, allow)))
        _WORKER["guarded"] = guarded
    return guarded[1]


def run_job(job: BatchJob, ctx: Any,
            passthrough: tuple[type[BaseException], ...] = ()) -> BatchResult:
    """Check one story with `ctx`; a failure is a result too (its report holds the Problem).

    Args:
        job: the story.
        ctx: the worker's Context (`worker_context`).
        passthrough: exceptions to let through instead of reporting them (a queue worker's
            job timeout, which its queue retries).
    """
    from .pipeline import check
    from .serialize import report_to_json
    started = time.monotonic()
    try:
        if job.guarded:
            ctx = _guarded(ctx, job.source)
        report = check(job.source, ctx, paper=job.paper,
                       paper_file=Path(job.paper_file) if job.paper_file else None)
        status = EXIT_OK
    except FactcheckError as exc:
        report = failed_report(job.source, exc.stage, type(exc).__name__, str(exc))
        status = exc.exit_status
    except passthrough:
        raise
    except Exception as exc:  # a bug must cost one story, not the batch
        logging.getLogger(__name__).exception("unexpected error checking %s", job.source)
        report = failed_report(job.source, "check", type(exc).__name__,
                               f"unexpected error ({type(exc).__name__}); see the log")
        status = EXIT_UPSTREAM
    return BatchResult(job.index, job.source, report_to_json(report, indent=None), status,
                       time.monotonic() - started)


def failed_report(source: str, stage: str, error: str, message: str) -> Report:
    return Report(version=__version__, source=source, article=None,
                  problems=(Problem(stage=stage, error=error, message=message),),
                  checked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


# -- the run ------------------------------------------------------------------------------------


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


class _Dispatcher:
    """Jobs waiting per site; hands out the next job whose site has had its gap."""

    def __init__(self, jobs: Iterable[BatchJob], delay: float):
        self._delay = delay
        self._queues: dict[str, deque[BatchJob]] = {}
        for job in jobs:
            key = host_key(job.source) if job.source.startswith(("http://", "https://")) else ""
            self._queues.setdefault(key, deque()).append(job)
        self._free_at: dict[str, float] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def next(self) -> BatchJob | None:
        """The oldest job among the sites free now (None if every waiting site is cooling)."""
        now = time.monotonic()
        best: tuple[int, str] | None = None
        for key, queue in self._queues.items():
            if queue and (not key or self._free_at.get(key, 0.0) <= now):
                if best is None or queue[0].index < best[0]:
                    best = (queue[0].index, key)
        if best is None:
            return None
        key = best[1]
        if key:
            self._free_at[key] = now + self._delay
        return self._queues[key].popleft()

    def push_front(self, job: BatchJob) -> None:
        """Put `job` back at the head of its site's queue (its worker died)."""
        key = host_key(job.source) if job.source.startswith(("http://", "https://")) else ""
        self._queues.setdefault(key, deque()).appendleft(job)

    def wait_hint(self) -> float:
        """Seconds until some waiting site is free."""
        now = time.monotonic()
        waits = [self._free_at.get(k, 0.0) - now for k, q in self._queues.items() if q]
        return max(0.0, min(waits)) if waits else 0.0


@dataclass
class BatchStats:
    """What happened to the workers during a run (for the summary)."""

    restarts: int = 0  # worker pools replaced after a worker died
    retried: int = 0  # stories sent again because their worker died


def run_batch(jobs: list[BatchJob], settings: Settings, workers: int | None = None,
              on_result: Callable[[BatchResult], None] | None = None,
              stats: BatchStats | None = None) -> Iterator[BatchResult]:
    """Check `jobs` on `workers` processes; yield each result as it completes.

    Args:
        jobs: the stories, with their index in the caller's list.
        settings: the run's Settings (each worker builds its pipeline from them).
        workers: processes (default: the cores this process may use).
        on_result: called in the parent for each result before it is yielded (optional).
        stats: filled in with worker restarts and retried stories (optional).

    Raises:
        KeyboardInterrupt: after the results finished so far were yielded; stops dispatching.
    """
    workers = max(1, min(workers or default_workers(), len(jobs) or 1))
    stats = stats if stats is not None else BatchStats()
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    if fork and "shared" not in _WORKER:
        _preload(settings)  # once, before the workers fork: they start at once and share it
    if fork:
        # what exists now is kept out of the collector's sweeps, so the workers' collections do
        # not touch (and copy) the pages they share with this process
        gc.freeze()
    manager, clock = shared_clock(context)
    log_level = logging.getLogger().getEffectiveLevel()
    dispatcher = _Dispatcher(jobs, settings.host_delay)

    def pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                   initializer=_init_worker,
                                   initargs=(settings, clock, log_level))

    executor = pool()
    inflight: dict[Future[BatchResult], BatchJob] = {}
    tries: dict[int, int] = {}
    finished = False
    try:
        while len(dispatcher) or inflight:
            while len(inflight) < workers * 2 and len(dispatcher):
                job = dispatcher.next()
                if job is None:
                    break
                inflight[executor.submit(_run_job, job)] = job
            # full, or nothing left to send: wait for a result; otherwise every waiting site is
            # cooling, so wake when the first may be asked again (never a busy loop)
            full = len(inflight) >= workers * 2
            timeout = None if full or not len(dispatcher) else max(0.01, dispatcher.wait_hint())
            if not inflight:
                time.sleep(min(timeout or 0.05, 1.0))
                continue
            done, _ = wait(list(inflight), timeout=timeout, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue  # handled with the rest of the pool's jobs below
                inflight.pop(future)
                if on_result is not None:
                    on_result(result)
                yield result
            if not broken:
                continue
            # a worker died (killed, out of memory): which job it held is unknown, so every job
            # the pool held runs again on a new pool, once; a job in two dead pools fails
            stats.restarts += 1
            for job in sorted(inflight.values(), key=lambda j: -j.index):
                tries[job.index] = tries.get(job.index, 0) + 1
                if tries[job.index] <= MAX_WORKER_DEATHS:
                    stats.retried += 1
                    dispatcher.push_front(job)
                    continue
                result = BatchResult(job.index, job.source, _died(job.source), EXIT_UPSTREAM, 0.0)
                if on_result is not None:
                    on_result(result)
                yield result
            inflight.clear()
            executor.shutdown(wait=False, cancel_futures=True)
            logger.warning("a batch worker died; %s stories go to new workers", stats.retried)
            executor = pool()
        finished = True
    finally:
        for future in inflight:
            future.cancel()
        # interrupted: do not wait for the stories still running (their workers end after them)
        executor.shutdown(wait=finished, cancel_futures=True)
        manager.shutdown()


def _died(source: str) -> str:
    return died_report_json(source)


def died_report_json(source: str) -> str:
    """The report of a story whose worker died each time it was checked."""
    from .serialize import report_to_json
    return report_to_json(failed_report(
        source, "check", "WorkerDied",
        "the worker process checking this story stopped (killed or out of memory); "
        "check it again"), indent=None)


def result_report(result: BatchResult) -> Report:
    from .serialize import report_from_data
    return report_from_data(json.loads(result.report_json))


__all__ = ["BatchJob", "BatchResult", "BatchStats", "BatchSummary", "default_workers",
           "died_report_json", "failed_report", "make_jobs", "read_sources", "result_report",
           "run_batch", "run_job", "worker_context"]
