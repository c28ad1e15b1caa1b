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
title and summary.

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
import html as html_lib
import logging
import re
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
from urllib.parse import urljoin, urlsplit

import requests

from . import __version__
from .config import Settings
from .errors import EXIT_OK, EXIT_UPSTREAM, FactcheckError, FetchError, InputError
from .notify import (
    DeliveryResult,
    EmlWriter,
    SmtpSender,
    deliver_outbox,
    make_message_id,
    sender_address,
)
from .store import Store, StoryRow, content_hash
from .types import Problem, Report

logger = logging.getLogger(__name__)

DEFAULT_WORKERS = 3
MAX_WORKERS = 4
MAX_STORY_ATTEMPTS = 3  # runs that retry a story whose site or services were down
LOCK_FILENAME = "feed.lock"
_DOI = re.compile(r"\b10\.\d{4,9}/\S+")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")

CheckFn = Callable[[str, Any], Report]


class FeedError(FetchError):
    """A feed could not be read or is not RSS/Atom."""

    stage = "feed"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, as the job sees it."""

    feed: str
    url: str
    guid: str | None
    title: str | None
    summary: str
    published: str | None
    hash: str


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
    deferred: int = 0  # new stories over the run's cap, left for the next run
    check_ids: list[int] = field(default_factory=list)
    delivery: DeliveryResult | None = None
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def exit_status(self) -> int:
        """0 ok; 3 when every feed failed or an email could not be delivered."""
        if self.feeds and len(self.feed_errors) == self.feeds:
            return EXIT_UPSTREAM
        if self.delivery is not None and self.delivery.failed:
            return EXIT_UPSTREAM
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
            parts.append("no email")
        elif self.dry_run:
            parts.append(f"{len(d.written)} emails written")
        else:
            extra = f", {len(d.failed)} failed" if d.failed else ""
            extra += f", {len(d.uncertain)} uncertain" if d.uncertain else ""
            parts.append(f"{len(d.sent)} emails sent{extra}")
        return "; ".join(parts) + f" in {self.seconds:.1f}s"


# -- reading feeds ----------------------------------------------------------------------------


def read_feeds_file(path: Path) -> list[str]:
    """Feed URLs from a file: one per line, `#` comments and blank lines ignored.

    Raises:
        InputError: the file cannot be read.
    """
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the feeds file {path}: {exc.strerror or exc}") from exc
    return [line.split("#", 1)[0].strip() for line in text.splitlines()
            if line.split("#", 1)[0].strip()]


def _plain(text: str | None) -> str:
    return " ".join(html_lib.unescape(_TAG.sub(" ", text or "")).split())


def read_feed(url: str, settings: Settings, session: requests.Session) -> list[FeedItem]:
    """The stories in one RSS or Atom feed (an http(s) URL or a local file).

    Raises:
        FeedError: the feed cannot be fetched, answered an error status, or is not RSS/Atom.
    """
    import feedparser

    from . import _http
    headers: dict[str, str] = {"content-location": url}
    if urlsplit(url).scheme.lower() in ("http", "https"):
        if settings.offline:
            raise FeedError(f"offline mode: cannot read the feed {url}", url)
        try:
            resp = _http.get(session, url, settings, max_bytes=settings.max_page_bytes,
                             headers={"Accept": "application/rss+xml, application/atom+xml, "
                                                "application/xml;q=0.9, */*;q=0.5"})
        except _http.TransportError as exc:
            raise FeedError(f"cannot read the feed {url}: {exc}", url) from exc
        except requests.RequestException as exc:
            raise FeedError(f"not a usable feed URL {url}: {exc}", url) from exc
        if resp.status != 200:
            raise FeedError(f"the feed {url} answered HTTP {resp.status}", url, resp.status)
        content = resp.content
        headers["content-type"] = resp.headers.get("content-type", "")
        base = resp.final_url
    else:
        path = Path(urlsplit(url).path if url.startswith("file:") else url)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise FeedError(f"cannot read the feed file {path}: {exc.strerror or exc}", url) from exc
        base = path.resolve().as_uri()
    parsed = feedparser.parse(content, response_headers=headers)
    if not parsed.entries:
        if parsed.get("bozo"):
            reason = parsed.get("bozo_exception")
            raise FeedError(f"the feed {url} is not valid RSS or Atom ({reason})", url)
        if not parsed.get("version"):
            raise FeedError(f"{url} is not an RSS or Atom feed", url)
        return []
    if parsed.get("bozo"):
        logger.warning("feed has errors, read what could be read: %s: %s", url,
                       parsed.get("bozo_exception"))
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link:
            for alt in entry.get("links", []):
                if alt.get("href"):
                    link = alt["href"]
                    break
        link = urljoin(base, link.strip()) if link else ""
        if urlsplit(link).scheme.lower() not in ("http", "https"):
            logger.info("feed item without a web link, skipped: %s: %s", url, entry.get("title"))
            continue
        title = _plain(entry.get("title")) or None
        summary = _plain(entry.get("summary"))
        body = " ".join(_plain(c.get("value")) for c in entry.get("content", []))
        items.append(FeedItem(
            feed=url, url=link, guid=(entry.get("id") or "").strip() or None, title=title,
            summary=summary, published=entry.get("published") or entry.get("updated"),
            hash=content_hash(title, summary, body)))
    return items


def is_about_study(item: FeedItem, cues: frozenset[str]) -> bool:
    """True when the item's title or summary has a study cue or a DOI."""
    text = f"{item.title or ''} {item.summary}"
    if _DOI.search(text) or "doi.org/" in text.lower():
        return True
    words = f" {' '.join(_WORD.findall(text.lower()))} "
    return any(f" {cue} " in words for cue in cues)


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


class _GatedAdapter(requests.adapters.HTTPAdapter):
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


def _check_one(url: str, workers: _Workers, check_fn: CheckFn) -> Report:
    try:
        if not workers.settings.offline:
            workers.robots.check(url)
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
        dry_run: write the emails as .eml files under `outbox` instead of sending them.
        outbox: the folder for a dry run's .eml files.
        workers: threads checking stories (clamped to 1..4).
        flag_on: the least severity that gives a story its own email.
        use_filter: skip stories without a study cue in their title or summary.
        quiet: no progress bar even on a terminal.
        check_fn: checks one story (`pipeline.check` by default; tests inject failures here).
        rules: loaded Rules (loaded once here when None).
        sender: a ready Sender (tests); an SmtpSender from the settings when None.

    Returns:
        The FeedRun with its counts, summary line and exit status.

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
    if check_fn is None:
        from .pipeline import check as pipeline_check
        check_fn = pipeline_check
    started = time.monotonic()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    result = FeedRun(run=run_id, feeds=len(feeds), dry_run=dry_run)
    gate = RequestGate(settings)
    pool = _Workers(settings, gate, rules)
    cues = pool.rules.lexicon("study_cues")
    with _run_lock(settings.cache_dir), Store.from_settings(settings) as store:
        store.recover_interrupted()
        todo: list[tuple[FeedItem, StoryRow]] = []
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
                    if use_filter and not is_about_study(item, cues):
                        store.mark_skipped(story.id, "no study cue in title or summary")
                        result.not_study += 1
                        continue
                    queued.add(story.id)
                    todo.append((item, story))
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
            _check_all(todo, store, pool, check_fn, result, run_id, email_to, mail_from,
                       flag_on, max(1, min(MAX_WORKERS, workers)), quiet, hashes)
        finally:
            pool.close()
        if email_to:
            store.prepare_digest(run_id, email_to, make_message_id(f"digest-{run_id}", mail_from))
            if dry_run:
                out: Any = EmlWriter(outbox)
            else:
                out = sender or SmtpSender(settings.smtp)
            try:
                result.delivery = deliver_outbox(store, out, mail_from, dry_run=dry_run)
            finally:
                out.close()
    result.seconds = time.monotonic() - started
    return result


def _check_all(todo: list[tuple[FeedItem, StoryRow]], store: Store, pool: _Workers,
               check_fn: CheckFn, result: FeedRun, run_id: str, email_to: Sequence[str],
               mail_from: str, flag_on: str, workers: int, quiet: bool,
               hashes: Mapping[int, set[str]]) -> None:
    """Check the queued stories in `workers` threads; store each as it finishes."""
    if not todo:
        return
    with _progress(len(todo), quiet) as progress:
        task = progress.add_task("check", total=len(todo))
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="factcheck-feed")
        pending: dict[Future[Report], tuple[FeedItem, StoryRow]] = {}
        queue = iter(todo)
        try:
            # keep at most `workers` stories in flight, so a kill loses at most those
            for item, story in queue:
                pending[executor.submit(_check_one, item.url, pool, check_fn)] = (item, story)
                if len(pending) >= workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    item, story = pending.pop(future)
                    report = future.result()
                    message_id = make_message_id("story", mail_from) if email_to else None
                    check_id = store.record_check(report, story_id=story.id, run=run_id,
                                                  flag_on=flag_on, email_to=email_to,
                                                  message_id=message_id,
                                                  hashes=sorted(hashes.get(story.id, ())))
                    result.check_ids.append(check_id)
                    row = store.get_check(check_id)
                    if row.problem and not row.paper_key:
                        result.failed += 1
                    else:
                        result.checked += 1
                    result.flagged += int(row.flagged)
                    progress.advance(task)
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[executor.submit(_check_one, nxt[0].url, pool, check_fn)] = nxt
        finally:
            for future in pending:
                future.cancel()
            executor.shutdown(wait=True, cancel_futures=True)


def print_summary(run: FeedRun) -> None:
    """Print the run's summary line to stdout and each failed feed to stderr."""
    for _feed, error in run.feed_errors:
        print(f"factcheck: feed failed: {error}", file=sys.stderr)
    if run.delivery is not None:
        for key, error in run.delivery.failed:
            print(f"factcheck: email not sent: {key}: {error}", file=sys.stderr)
    print(run.summary())


__all__ = ["FeedError", "FeedItem", "FeedRun", "RequestGate", "is_about_study", "print_summary",
           "read_feed", "read_feeds_file", "run_feeds"]
