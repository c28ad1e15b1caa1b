"""The nightly job: read RSS/Atom feeds, check each new story once, store the results, email.

```
feeds (URLs, files, --feeds FILE)
  1. read       read_feed(url)              -> [FeedItem]     one broken feed never stops the run
  2. triage     Store.upsert_story + plan   -> new / changed / seen / not about a study
  3. check      pipeline.check(url, ctx)    -> Report          2-4 threads, rate limited
  4. store      Store.record_check          -> check id (+ its email queued in the same commit)
  5. deliver    digest + story emails       -> SMTP, or .eml files with --dry-run
                                            => FeedRun (one summary line, an exit status)
```

A story is checked once: it is known by GUID, URL or content hash (title, summary and content of
the feed item), and checked again only when that hash changes or when its last check failed for a
reason that may pass (site or service down; at most `MAX_STORY_ATTEMPTS` runs). Stories that are
not about a study are skipped by a cheap pre-filter: `rules/lexicons/study_cues.txt` on the
title and summary. When those say too little to tell (fewer than `PREFILTER_MIN_WORDS` words, e.g.
a bare headline "Low-dose naltrexone and fibromyalgia"), the worker reads the page itself
(`pipeline.read_article`) and the same cues decide on the story's text. Every skipped story is
listed with its reason in the run's summary (stderr) and under "Not checked" in the digest.

Exit status (`FeedRun.exit_status`): 0 done; 3 no feed could be read; 4 the run finished but left
work undone: there were stories to check and every one failed, or an email stayed unsent (failed,
uncertain, or interrupted by a crash and not resent because the run had no --email).

Concurrency stays inside the services' rate limits and the sites' politeness: every HTTP request
of the run goes through one `RequestGate` (per-service `RateLimiter`s at the published rates, and
`HostPoliteness` with robots.txt for story sites), shared by the worker threads. Each thread has
its own Context and HTTP session; the NLP pipeline is shared behind a lock (spaCy makes no promise
about threads, and it is CPU-bound anyway). Only the main thread writes to the store.

Killed at any point: a story is stored with its email in one transaction, emails go through the
store's outbox, so a restart checks only what was not stored and sends only what was not sent.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from . import __version__
from ._http import WatchedAdapter
from .config import Settings
from .digest import DigestOptions
from .errors import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_UPSTREAM,
    FactcheckError,
    InputError,
)
from .feed_read import (  # noqa: F401 - FeedItem, FeedError and the readers are the job's API
    PREFILTER_MIN_WORDS,
    FeedError,
    FeedItem,
    is_about_study,
    parse_feed,
    read_feed,
    read_feeds_file,
    says_too_little,
    text_is_about_study,
)
from .notify import (
    MAX_EMAIL_ATTEMPTS,
    DeliveryResult,
    EmlWriter,
    SmtpSender,
    deliver_outbox,
    make_message_id,
    sender_address,
)
from .store import Store, StoryRow
from .types import Problem, Report

logger = logging.getLogger(__name__)

DEFAULT_WORKERS = 3
MAX_WORKERS = 4
QUEUE_IN_FLIGHT = 16  # with the queue backend: stories waiting on `factcheck worker`s at once
MAX_STORY_ATTEMPTS = 3  # runs that retry a story whose site or services were down
LOCK_FILENAME = "feed.lock"
CheckFn = Callable[[str, Any], Report]


@dataclass
class FeedRun:
    """What one run did; `summary()` is the line printed at the end."""

    run: str
    feeds: int = 0
    feed_errors: list[tuple[str, str]] = field(default_factory=list)
    items: int = 0
    checked: int = 0
    flagged: int = 0
    failed: int = 0
    seen: int = 0
    not_study: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (title or URL, reason)
    deferred: int = 0  # new stories over the run's cap, left for the next run
    check_ids: list[int] = field(default_factory=list)
    delivery: DeliveryResult | None = None
    recovered: list[str] = field(default_factory=list)  # outbox keys a killed run left sending
    dry_run: bool = False
    email_note: str | None = None  # why no email was built, when one might have been expected
    seconds: float = 0.0

    @property
    def unsent(self) -> int:
        """Emails this run should have delivered and did not (for sure)."""
        if self.delivery is None:
            return 0 if self.dry_run else len(self.recovered)
        return self.delivery.undelivered

    @property
    def exit_status(self) -> int:
        """0 done; 3 no feed could be read; 4 work left undone: every story to check failed,
        or an email stayed failed, uncertain or unsent."""
        if self.feeds and len(self.feed_errors) == self.feeds:
            return EXIT_UPSTREAM
        if self.failed and not self.checked:
            return EXIT_INCOMPLETE
        if self.unsent:
            return EXIT_INCOMPLETE
        return EXIT_OK

    def summary(self) -> str:
        """One line: feeds, stories, checks, emails."""
        ok = self.feeds - len(self.feed_errors)
        parts = [f"feed: {ok}/{self.feeds} feeds read", f"{self.items} items",
                 f"{self.checked} checked ({self.flagged} flagged, {self.failed} failed)",
                 f"{self.seen} already seen", f"{self.not_study} not about a study"]
        if self.deferred:
            parts.append(f"{self.deferred} left for the next run (fetch.max_new_stories)")
        d = self.delivery
        if d is None:
            parts.append(self.email_note or "no email")
            if self.recovered and not self.dry_run:
                parts.append(f"{_emails(len(self.recovered))} interrupted by a crash wait for "
                             f"a run with --email")
        elif self.dry_run:
            folder = f" to {d.written[0].parent}" if d.written else ""
            parts.append(f"{_emails(len(d.written))} written{folder}")
        else:
            extra = f", {len(d.failed)} failed" if d.failed else ""
            extra += f", {len(d.uncertain)} uncertain" if d.uncertain else ""
            parts.append(f"{_emails(len(d.sent))} sent{extra}")
            if d.resent:
                parts.append(f"{_emails(len(d.resent))} resent after an interrupted run")
        if d is not None and d.given_up:
            parts.append(f"{_emails(len(d.given_up))} left for a human after "
                         f"{MAX_EMAIL_ATTEMPTS} attempts (factcheck history emails)")
        return "; ".join(parts) + f" in {self.seconds:.1f}s"


def _emails(n: int) -> str:
    return f"{n} email{'' if n == 1 else 's'}"


# -- the request gate -------------------------------------------------------------------------


class RequestGate:
    """Holds every request of a run to the services' rates and to per-host politeness.

    Args:
        settings: `service_urls`, `service_rates` and `host_delay` come from here.
    """

    def __init__(self, settings: Settings):
        from ._http import RateLimiter
        from .fetch import HostPoliteness
        self._services = sorted(
            ((base, RateLimiter(settings.service_rates.get(name, 0.0)))
             for name, base in settings.service_urls.items()), key=lambda t: -len(t[0]))
        self.politeness = HostPoliteness(settings.host_delay)

    def wait(self, url: str) -> None:
        """Sleep until `url` may be requested."""
        for base, limiter in self._services:
            if url.startswith(base):
                limiter.wait()
                return
        self.politeness.wait(url)

    def session(self, settings: Settings) -> requests.Session:
        """A new session whose every request passes through this gate."""
        from ._http import make_session
        session = make_session(settings)
        adapter = _GatedAdapter(self, pool_connections=8, pool_maxsize=8, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


class _GatedAdapter(WatchedAdapter):  # watched connections: page deadlines hold in the feed too
    def __init__(self, gate: RequestGate, **kwargs: Any):
        super().__init__(**kwargs)
        self._gate = gate

    def send(self, request: requests.PreparedRequest,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        self._gate.wait(request.url or "")
        return super().send(request, **kwargs)


class _LockedAnalyzer:
    """The shared NLP pipeline, one caller at a time."""

    def __init__(self, analyzer: Any):
        self._analyzer = analyzer
        self._lock = threading.Lock()

    def claims(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._analyzer.claims(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._analyzer, name)


class _Workers:
    """Per-thread Contexts sharing the rules, the answer cache, the NLP pipeline and the gate."""

    def __init__(self, settings: Settings, gate: RequestGate, rules: Any = None):
        from .cache import Cache
        from .fetch import RobotsRules
        from .rules import load_rules
        self.settings = settings
        self.gate = gate
        self.rules = rules or load_rules()
        self.cache = Cache(settings.cache_dir / "cache.sqlite3", settings.cache_ttl)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._analyzer: _LockedAnalyzer | None = None
        self._sessions: list[requests.Session] = []
        self.robots = RobotsRules(settings, self._new_session(), None, gate.politeness)

    def _new_session(self) -> requests.Session:
        session = self.gate.session(self.settings)
        with self._lock:
            self._sessions.append(session)
        return session

    def analyzer(self) -> _LockedAnalyzer:
        with self._lock:
            if self._analyzer is None:
                from .nlp import load_nlp
                self._analyzer = _LockedAnalyzer(load_nlp(self.settings, self.rules))
            return self._analyzer

    def context(self) -> Any:
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            from .pipeline import Context
            ctx = Context(settings=self.settings, rules=self.rules, session=self._new_session(),
                          _cache=self.cache, _analyzer=self.analyzer())
            self._local.ctx = ctx
        return ctx

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self.cache.close()


def _failed_report(source: str, exc: Exception) -> Report:
    stage = exc.stage if isinstance(exc, FactcheckError) else "bug"
    return Report(version=__version__, source=source, article=None,
                  problems=(Problem(stage=stage, error=type(exc).__name__, message=str(exc)),),
                  checked_at=datetime.now(UTC).isoformat(timespec="seconds"))


@dataclass(frozen=True, slots=True)
class _Skip:
    """The worker read the page and found no study in it."""

    reason: str


@dataclass(frozen=True, slots=True)
class _Job:
    item: FeedItem
    story: StoryRow
    read_page_first: bool = False  # the feed item said too little: the page decides


def _check_one(job: _Job, workers: _Workers, check_fn: CheckFn,
               cues: frozenset[str] = frozenset()) -> Report | _Skip:
    url = job.item.url
    try:
        if not workers.settings.offline:
            workers.robots.check(url)
        if job.read_page_first:
            from .pipeline import read_article
            article = read_article(url, workers.context())
            if not text_is_about_study(f"{article.title or ''} {article.text}", cues):
                return _Skip("no study cue in the feed item or the page")
        return check_fn(url, workers.context())
    except FactcheckError as exc:
        logger.info("check failed: %s: %s", url, exc)
        return _failed_report(url, exc)
    except Exception as exc:
        logger.exception("check crashed (a bug; the run goes on): %s", url)
        return _failed_report(url, exc)


# -- the run ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _run_lock(folder: Path) -> Iterator[None]:
    """One feed run at a time per state folder (a cron run overlapping a slow one waits not)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILENAME
    with open(path, "a+") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"another `factcheck feed` run holds {path}; try again when it "
                             f"ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _plan(item: FeedItem, story: StoryRow, known: bool = False) -> str:
    """What to do with a seen item: "check", "seen" or "gave_up"."""
    if known or (story.checked_hash == item.hash and
                 story.state in ("checked", "skipped", "failed")):
        return "seen"
    if story.state == "failed" and story.checked_hash is None and story.content_hash == item.hash:
        return "gave_up" if story.attempts >= MAX_STORY_ATTEMPTS else "check"
    return "check"


def _progress(total: int, quiet: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    console = Console(stderr=True)
    disable = quiet or not console.is_terminal
    return Progress(TextColumn("checking stories"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, disable=disable, transient=True)


def run_feeds(feeds: Sequence[str], settings: Settings, *, email_to: Sequence[str] = (),
              dry_run: bool = False, outbox: Path = Path("reports/out/emails"),
              workers: int = DEFAULT_WORKERS, flag_on: str = "medium", use_filter: bool = True,
              quiet: bool = False, check_fn: CheckFn | None = None, rules: Any = None,
              sender: Any = None) -> FeedRun:
    """Run the nightly job once.

    Args:
        feeds: feed URLs (or local feed files).
        settings: the run's Settings; state lives in `settings.cache_dir`.
        email_to: recipients of the digest and the flagged stories' emails; none sends nothing.
        dry_run: write the emails as .eml files under `outbox` instead of sending them (with
            no `email_to` there is nothing to write; the summary says so).
        outbox: the folder for a dry run's .eml files.
        workers: threads checking stories (clamped to 1..4).
        flag_on: the least severity that gives a story its own email.
        use_filter: skip stories without a study cue in their title or summary (or, when
            those are shorter than PREFILTER_MIN_WORDS, in the page).
        quiet: no progress bar even on a terminal.
        check_fn: checks one story (`pipeline.check` by default; tests inject failures here).
        rules: loaded Rules (loaded once here when None).
        sender: a ready Sender (tests); an SmtpSender from the settings when None.

    Returns:
        The FeedRun with its counts, summary line and exit status (0, 3 or 4; see the
        module docstring).

    Raises:
        InputError: no feeds given; an email is wanted but no SMTP host is set; another run is
            in progress.
    """
    if not feeds:
        raise InputError("no feeds given: pass feed URLs, or --feeds FILE with one per line")
    mail_from = sender_address(settings) if email_to else ""
    if email_to and not dry_run and sender is None and not settings.smtp.host:
        raise InputError("--email needs an SMTP server: export FACTCHECK_SMTP_HOST (and PORT, "
                         "USER, PASSWORD, MAIL_FROM), or add --dry-run to write .eml files")
    in_flight = max(1, min(MAX_WORKERS, workers))
    if check_fn is None and settings.queue_url:
        # the queue backend: the run's threads only decide and wait; `factcheck worker`
        # processes check, and this process stays the one writer of the store
        check_fn, in_flight = queued_check(settings), QUEUE_IN_FLIGHT
    elif check_fn is None:
        from .pipeline import check as pipeline_check
        check_fn = pipeline_check
    started = time.monotonic()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    result = FeedRun(run=run_id, feeds=len(feeds), dry_run=dry_run)
    if dry_run and not email_to:
        result.email_note = ("dry run without --email: no emails built, nothing written "
                             f"(add --email ADDR to write them under {outbox})")
        logger.warning("%s", result.email_note)
    gate = RequestGate(settings)
    pool = _Workers(settings, gate, rules)
    cues = pool.rules.lexicon("study_cues")
    with _run_lock(settings.cache_dir), Store.from_settings(settings) as store:
        result.recovered = [row.key for row in store.recover_interrupted()]
        todo: list[_Job] = []
        queued: set[int] = set()
        hashes: dict[int, set[str]] = {}  # every version of each story seen this run
        feed_session = gate.session(settings)
        try:
            for feed in feeds:
                try:
                    items = read_feed(feed, settings, feed_session)
                except FeedError as exc:
                    result.feed_errors.append((feed, str(exc)))
                    logger.error("feed failed, going on with the others: %s", exc)
                    continue
                logger.info("feed read: %s: %s items", feed, len(items))
                for item in items:
                    result.items += 1
                    story = store.upsert_story(item.guid, item.url, item.feed, item.title,
                                               item.hash)
                    hashes.setdefault(story.id, set()).add(item.hash)
                    plan = _plan(item, story, store.knows_hash(story.id, item.hash))
                    if plan != "check" or story.id in queued:
                        result.seen += 1
                        continue
                    read_page = False
                    if use_filter and not is_about_study(item, cues):
                        if says_too_little(item):
                            read_page = True  # a bare headline: the page decides (a worker)
                        else:
                            reason = "no study cue in the feed's title or summary"
                            store.mark_skipped(story.id, reason, run_id)
                            _note_skip(result, item, reason)
                            continue
                    queued.add(story.id)
                    todo.append(_Job(item, story, read_page))
        finally:
            feed_session.close()
        cap = settings.max_new_stories
        if cap and len(todo) > cap:
            # the rest stay "new" in the store, so the next run plans them again
            result.deferred = len(todo) - cap
            logger.warning("%s new stories; checking %s this run, %s left for the next",
                           len(todo), cap, result.deferred)
            todo = todo[:cap]
        try:
            # by default the desk gets the run's digest only; per-story emails are a setting
            story_email_to = email_to if settings.per_story_emails else ()
            _check_all(todo, store, pool, check_fn, result, run_id, story_email_to, mail_from,
                       flag_on, in_flight, quiet, hashes, cues)
        finally:
            pool.close()
        if email_to:
            store.prepare_digest(run_id, email_to, make_message_id(f"digest-{run_id}", mail_from))
            if dry_run:
                out: Any = EmlWriter(outbox)
            else:
                out = sender or SmtpSender(settings.smtp)
            try:
                result.delivery = deliver_outbox(store, out, mail_from, dry_run=dry_run,
                                                 digest=digest_options(settings))
            finally:
                out.close()
    result.seconds = time.monotonic() - started
    return result


def _note_skip(result: FeedRun, item: FeedItem, reason: str) -> None:
    result.not_study += 1
    result.skipped.append((item.title or item.url, reason))
    logger.info("not checked: %s: %s", item.title or item.url, reason)


def digest_options(settings: Settings) -> DigestOptions:
    """How this run's digest is written, from the settings."""
    return DigestOptions(report_url=settings.web_public_url,
                         max_html_bytes=settings.digest_max_kb * 1024,
                         per_story=settings.per_story_emails)


def queued_check(settings: Settings) -> CheckFn:
    """A check function that puts the story on the queue and waits for a worker's report."""
    from .batch import BatchJob, result_report
    from .queue import run_queue

    def check(url: str, ctx: Any) -> Report:
        [result] = list(run_queue([BatchJob(0, url)], settings))
        return result_report(result)  # a failed check is a Report holding the worker's Problem

    return check


def _check_all(todo: list[_Job], store: Store, pool: _Workers, check_fn: CheckFn,
               result: FeedRun, run_id: str, email_to: Sequence[str], mail_from: str,
               flag_on: str, workers: int, quiet: bool, hashes: Mapping[int, set[str]],
               cues: frozenset[str]) -> None:
    """Check the queued stories in `workers` threads; store each as it finishes."""
    if not todo:
        return
    with _progress(len(todo), quiet) as progress:
        task = progress.add_task("check", total=len(todo))
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="factcheck-feed")
        pending: dict[Future[Report | _Skip], _Job] = {}
        queue = iter(todo)
        try:
            # keep at most `workers` stories in flight, so a kill loses at most those
            for job in queue:
                pending[executor.submit(_check_one, job, pool, check_fn, cues)] = job
                if len(pending) >= workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    outcome = future.result()
                    if isinstance(outcome, _Skip):
                        store.mark_skipped(job.story.id, outcome.reason, run_id)
                        _note_skip(result, job.item, outcome.reason)
                    else:
                        _store_report(outcome, job, store, result, run_id, email_to,
                                      mail_from, flag_on, hashes)
                    progress.advance(task)
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[executor.submit(_check_one, nxt, pool, check_fn, cues)] = nxt
        finally:
            for future in pending:
                future.cancel()
            executor.shutdown(wait=True, cancel_futures=True)


def _store_report(report: Report, job: _Job, store: Store, result: FeedRun, run_id: str,
                  email_to: Sequence[str], mail_from: str, flag_on: str,
                  hashes: Mapping[int, set[str]]) -> None:
    message_id = make_message_id("story", mail_from) if email_to else None
    check_id = store.record_check(report, story_id=job.story.id, run=run_id, flag_on=flag_on,
                                  email_to=email_to, message_id=message_id,
                                  hashes=sorted(hashes.get(job.story.id, ())))
    result.check_ids.append(check_id)
    row = store.get_check(check_id)
    if row.problem and not row.paper_key:
        result.failed += 1
    else:
        result.checked += 1
    result.flagged += int(row.flagged)


def print_summary(run: FeedRun) -> None:
    """Print the run's summary line to stdout; failed feeds, stories not checked, emails not
    sent and why the exit status is not 0 to stderr."""
    for _feed, error in run.feed_errors:
        print(f"factcheck: feed failed: {error}", file=sys.stderr)
    for title, reason in run.skipped:
        print(f"factcheck: not checked: {title} ({reason})", file=sys.stderr)
    if run.delivery is not None:
        for key, error in run.delivery.failed:
            print(f"factcheck: email not sent: {key}: {error}", file=sys.stderr)
        for key in run.delivery.uncertain:
            print(f"factcheck: email may not have arrived, resent next run: {key}",
                  file=sys.stderr)
    if run.exit_status == EXIT_INCOMPLETE:
        why = ("every story failed to check" if run.failed and not run.checked
               else f"{_emails(run.unsent)} not delivered")
        print(f"factcheck: work left undone (exit {EXIT_INCOMPLETE}): {why}; "
              f"`factcheck history` and `factcheck history emails` list it", file=sys.stderr)
    print(run.summary())


__all__ = ["PREFILTER_MIN_WORDS", "FeedError", "FeedItem", "FeedRun", "RequestGate",
           "is_about_study", "parse_feed", "print_summary", "read_feed", "read_feeds_file",
           "run_feeds", "says_too_little", "text_is_about_study"]
