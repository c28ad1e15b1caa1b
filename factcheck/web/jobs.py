"""The web app's checks: a fair queue in front of a bounded pool of worker threads.

```
submit(CheckRequest) -> Job (queued)        QueueFull when `max_queue` jobs already wait
worker thread: take the oldest job -> running -> check_fn(request, its Context)
               -> Store.record_check(report, origin="web") -> done (job.check_id)
               or FactcheckError -> the failed report stored too -> failed (job.error)
```
First come, first served: one deque, `web.workers` threads, each with its own pipeline Context
(its own story session through the SSRF guard), sharing the rules, the answer cache, one Resolver
(so the services' rate limits hold for the whole app) and the NLP pipeline behind a lock (spaCy
makes no promise about threads, and it is CPU-bound anyway). A job shows its place in the queue
while it waits and each stage's name as it starts (`Context.on_stage`). Jobs live in memory (the
newest `KEEP_JOBS`); their results live in the history store, so a report's address survives a
restart and reloading it never runs the check again.
"""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable, Literal

from .. import __version__
from ..config import Settings
from ..errors import FactcheckError
from ..store import Store
from ..types import Problem, Report
from .fetching import AllowList, story_session
from .messages import EditorError, explain, for_editors, unexpected

logger = logging.getLogger(__name__)

KEEP_JOBS = 1000  # finished jobs remembered (their reports are in the store for good)
PASTED = "pasted text"
JobState = Literal["queued", "running", "done", "failed"]
_LOOKS_HTML = re.compile(r"<(?:!doctype|html|body|p|article|div|h1)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What an editor asked for: a story URL or pasted text, and perhaps the paper's DOI/PMID."""

    url: str | None = None
    text: str | None = None
    paper: str | None = None

    @property
    def label(self) -> str:
        return self.url or PASTED


CheckFn = Callable[[CheckRequest, Any], Report]  # (request, pipeline Context) -> Report


@dataclass
class Job:
    """One check asked for on the web; changed only by the pool, under its lock."""

    id: str
    request: CheckRequest
    created: float = field(default_factory=time.time)
    state: JobState = "queued"
    stages: list[str] = field(default_factory=list)
    check_id: int | None = None
    error: EditorError | None = None
    started: float | None = None
    finished: float | None = None


@dataclass(frozen=True, slots=True)
class JobView:
    """A consistent copy of a job for a page, with its place in the queue (1 = next)."""

    id: str
    request: CheckRequest
    state: JobState
    stages: tuple[str, ...]
    position: int
    running: int
    workers: int
    check_id: int | None
    error: EditorError | None
    elapsed: float


class QueueFull(Exception):
    """`max_queue` checks are already waiting."""


def pipeline_check(request: CheckRequest, ctx: Any) -> Report:
    """The real check: pipeline.check on the URL, or on the pasted text saved to a file."""
    from ..pipeline import check
    if request.text is None:
        return check(request.url or "", ctx, paper=request.paper)
    suffix = ".html" if _LOOKS_HTML.search(request.text[:4096]) else ".txt"
    with tempfile.TemporaryDirectory(prefix="factcheck-web-") as tmp:
        path = Path(tmp) / f"story{suffix}"
        path.write_text(request.text, encoding="utf-8")
        report = check(str(path), ctx, paper=request.paper)
    article = report.article
    if article is not None:
        article = replace(article, url=PASTED, final_url=PASTED)
    return replace(report, source=PASTED, article=article)


def queued_check(settings: Settings) -> CheckFn:
    """With the queue backend: a story URL goes to the `factcheck worker`s (fetched there with
    the same guard as here); pasted text, which lives only in this process, is checked here."""
    from .. import errors, guard
    from ..batch import BatchJob, result_report
    from ..queue import run_queue

    def check(request: CheckRequest, ctx: Any) -> Report:
        if request.text is not None:
            return pipeline_check(request, ctx)
        if ctx.on_stage is not None:
            ctx.on_stage("queue")
        [result] = list(run_queue([BatchJob(0, request.url or "", paper=request.paper,
                                            guarded=True)], settings))
        report = result_report(result)
        if report.problems and not report.papers and result.exit_status:
            problem = report.problems[0]  # the worker's error, as the page explains it
            cls = getattr(errors, problem.error, None) or getattr(guard, problem.error, None)
            exc = (cls(problem.message) if isinstance(cls, type) and
                   issubclass(cls, errors.FactcheckError) else _Remote(problem.message))
            if not isinstance(cls, type):
                exc.exit_status = result.exit_status
            raise exc
        return report

    return check


class _Remote(FactcheckError):
    """A worker's failure whose class this process does not know (WorkerDied, a bug)."""


class _LockedAnalyzer:
    """The shared NLP pipeline, loaded on first use, one caller at a time."""

    def __init__(self, load: Callable[[], Any]):
        self._load = load
        self._analyzer: Any = None
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._analyzer is None:
                self._analyzer = self._load()
            value = getattr(self._analyzer, name)
        if not callable(value):
            return value

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return value(*args, **kwargs)
        return locked


class _Contexts:
    """One pipeline Context per worker thread over shared rules, cache, resolver and NLP."""

    def __init__(self, settings: Settings, allow: AllowList):
        from .._http import make_session
        from ..cache import Cache
        from ..resolve import Resolver
        from ..rules import load_rules
        self.settings = settings
        self.allow = allow
        self.rules = load_rules()
        self.cache = Cache.from_settings(settings)
        # the services' addresses come from settings, not from editors: the ordinary session
        self.resolver = Resolver(settings, session=make_session(settings), cache=self.cache)
        self.analyzer = _LockedAnalyzer(self._load_nlp)
        self._local = threading.local()
        self._sessions: list[Any] = []
        self._lock = threading.Lock()

    def _load_nlp(self) -> Any:
        from ..nlp import load_nlp
        return load_nlp(self.settings, self.rules)

    def context(self) -> Any:
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            from ..pipeline import Context
            session = story_session(self.settings, self.allow)
            with self._lock:
                self._sessions.append(session)
            ctx = Context(settings=self.settings, rules=self.rules, session=session,
                          _cache=self.cache, _analyzer=self.analyzer, _resolver=self.resolver)
            self._local.ctx = ctx
        return ctx

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self.resolver.close()
        self.cache.close()


def _failed_report(request: CheckRequest, exc: FactcheckError) -> Report:
    """The failed check as the history keeps it, worded as the job page words it."""
    return Report(version=__version__, source=request.label, article=None,
                  problems=(Problem(stage=exc.stage, error=type(exc).__name__,
                                    message=for_editors(str(exc))),),
                  checked_at=datetime.now(UTC).isoformat(timespec="seconds"))


class JobPool:
    """A first-come queue and `workers` threads that run checks and store their reports.

    Args:
        settings: the app's Settings (the pipeline's, and `web.allow_hosts` for story fetches).
        store: the history store every finished check is recorded in (origin "web").
        workers: threads, i.e. checks at once (`web.workers`).
        max_queue: jobs that may wait; one more is refused (`QueueFull`, the app's 503).
        check_fn: `check_fn(request, ctx) -> Report`; `pipeline_check` by default.
        allow: the allow-list for internal story hosts.
    """

    def __init__(self, settings: Settings, store: Store, workers: int = 4, max_queue: int = 100,
                 check_fn: CheckFn | None = None, allow: AllowList | None = None):
        self.settings = settings
        self.store = store
        self.workers = max(1, workers)
        self.max_queue = max(1, max_queue)
        self._check_fn = check_fn or pipeline_check
        self._allow = allow or AllowList()
        self._contexts: _Contexts | None = None
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: deque[Job] = deque()
        self._running = 0
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    # -- asking ----------------------------------------------------------------------------

    def submit(self, request: CheckRequest) -> Job:
        """Queue a check; it starts as soon as a worker is free.

        Raises:
            QueueFull: `max_queue` jobs are already waiting.
        """
        with self._cond:
            if self._closed:
                raise QueueFull("the server is shutting down")
            if len(self._waiting) >= self.max_queue:
                raise QueueFull(f"{len(self._waiting)} checks are waiting")
            job = Job(id=secrets.token_urlsafe(12), request=request)
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._forget_old()
            self._start_threads()
            self._cond.notify()
        logger.info("web check queued: %s (%s waiting)", request.label, len(self._waiting))
        return job

    def view(self, job_id: str) -> JobView | None:
        """The job as a page shows it, or None when it is unknown (or long forgotten)."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            position = 0
            if job.state == "queued":
                position = next(i for i, j in enumerate(self._waiting, 1) if j is job)
            begun = job.started or job.created
            return JobView(id=job.id, request=job.request, state=job.state,
                           stages=tuple(job.stages), position=position, running=self._running,
                           workers=self.workers, check_id=job.check_id, error=job.error,
                           elapsed=(job.finished or time.time()) - begun)

    def status(self) -> dict[str, int]:
        """Workers, checks running and checks waiting (the app's /status)."""
        with self._cond:
            return {"workers": self.workers, "running": self._running,
                    "queued": len(self._waiting), "max_queue": self.max_queue}

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking jobs; let running checks end (up to `timeout` seconds each)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        if self._contexts is not None:
            self._contexts.close()

    # -- working ---------------------------------------------------------------------------

    def _start_threads(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"factcheck-web-{len(self._threads)}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.state in ("done", "failed")]
        for key in finished[:max(0, len(self._jobs) - KEEP_JOBS)]:
            del self._jobs[key]

    def _context(self) -> Any:
        with self._cond:
            if self._contexts is None:
                self._contexts = _Contexts(self.settings, self._allow)
            contexts = self._contexts
        return contexts.context()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                job.state, job.started = "running", time.time()
                self._running += 1
            try:
                self._run(job)
            finally:
                with self._cond:
                    self._running -= 1
                    job.finished = time.time()

    def _stage(self, job: Job, stage: str) -> None:
        with self._cond:
            if stage not in job.stages:
                job.stages.append(stage)

    def _run(self, job: Job) -> None:
        request = job.request
        report: Report | None = None
        error: EditorError | None = None
        try:
            ctx = self._context()
            ctx.on_stage = lambda stage: self._stage(job, stage)
            try:
                report = self._check_fn(request, ctx)
            finally:
                ctx.on_stage = None
        except FactcheckError as exc:
            logger.info("web check failed: %s: %s", request.label, exc)
            error = explain(exc)
            report = _failed_report(request, exc)
        except Exception:
            logger.exception("web check crashed (a bug): %s", request.label)
            error = unexpected()
        check_id = None
        if report is not None:
            try:
                check_id = self.store.record_check(report, origin="web")
            except Exception:
                logger.exception("web check could not be stored: %s", request.label)
                error = error or unexpected("the report could not be saved in the history")
        with self._cond:
            job.check_id = check_id
            job.error = error
            job.state = "failed" if error is not None else "done"
        logger.info("web check %s: %s (check #%s)", job.state, request.label, check_id)


__all__ = ["PASTED", "CheckFn", "CheckRequest", "Job", "JobPool", "JobView", "QueueFull",
           "pipeline_check"]
