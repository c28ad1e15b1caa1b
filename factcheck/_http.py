"""The one HTTP layer: a polite requests session, retries with backoff, a size cap, rate limits.

Both the story fetcher and the literature clients go through `get()`, so timeouts, Retry-After,
backoff with jitter and the streamed size cap behave the same everywhere.

Per-read timeouts alone do not bound a request: a server that trickles one byte a second never
lets a read time out. So each `get()` has a total deadline (`http.page_deadline`, retries and
backoff included, and never past the end of the check's budget, `factcheck.budget`): the
session's connections register their socket while a response is read, and a watchdog timer
shuts that socket down when the deadline passes, which ends the blocked read at once.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timezone
from typing import Callable, Mapping

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import __version__, budget
from .config import Settings

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Response:
    """What a finished request gave us: status, headers (lowercased keys) and the body bytes."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed: float
    attempts: int = 1  # requests sent, retries included

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class TransportError(Exception):
    """The request could not be completed (after retries); `status` is None for network errors."""

    def __init__(self, message: str, url: str, status: int | None = None,
                 response: Response | None = None, attempts: int = 1):
        super().__init__(message)
        self.url = url
        self.status = status
        self.response = response
        self.attempts = attempts  # requests sent, retries included


class TooLarge(TransportError):
    pass


class DeadlineExceeded(TransportError):
    """No complete answer within the request's total deadline (`http.page_deadline`)."""


# -- the watchdog -------------------------------------------------------------------------------

class _Watch:
    """The deadline of one `get()` and the socket its response is being read from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False
        self.active = True

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired and sock is not None:
                _shut(sock)

    def fire(self) -> None:
        with self._lock:
            if not self.active:
                return
            self.fired = True
            if self._sock is not None:
                _shut(self._sock)

    def close(self) -> None:
        with self._lock:
            self.active = False
            self._sock = None


def _shut(sock: socket.socket) -> None:
    try:  # the base class's shutdown: an SSLSocket's own one would tear down its TLS state
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


_watching = threading.local()


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        watch = getattr(_watching, "watch", None)
        if watch is not None:
            watch.attach(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        watch = getattr(_watching, "watch", None)
        if watch is not None:
            watch.attach(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with connections the watchdog can shut down."""

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool,
                                                   "https": _WatchedHTTPSPool}


class RateLimiter:
    """A token-spacing limiter shared by all threads of a run: at most `rate` starts per second."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def defer(self, seconds: float) -> None:
        """Start no request for `seconds` (a 429's Retry-After applies to the whole run)."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


def user_agent(settings: Settings) -> str:
    return f"factcheck/{__version__} (+https://github.com/factcheck; mailto:{settings.mailto})"


def make_session(settings: Settings) -> requests.Session:
    """A pooled session with the tool's User-Agent and a redirect limit."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent(settings)
    session.max_redirects = settings.max_redirects
    adapter = WatchedAdapter(pool_connections=8, pool_maxsize=8, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_SECRET_PARAMS = re.compile(r"\b(api_key|apikey|email|mailto|token)=[^&\s)'\"]*", re.I)


def redact(text: object) -> str:
    """`text` with credentials and contact addresses in query strings masked."""
    return _SECRET_PARAMS.sub(r"\1=***", str(text))


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if parsed.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are UTC
            parsed = parsed.replace(tzinfo=timezone.utc)
        seconds = parsed.timestamp() - time.time()
    return max(0.0, seconds)


def _read_capped(resp: requests.Response, max_bytes: int | None, url: str,
                 watch: _Watch | None = None) -> bytes:
    declared = resp.headers.get("content-length")
    if max_bytes is not None and declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"response is {int(declared):,} bytes, over the {max_bytes:,}-byte cap",
                       url, resp.status_code)
    chunks, total = [], 0
    for chunk in resp.iter_content(chunk_size=65536):
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise TooLarge(f"response passed the {max_bytes:,}-byte cap; aborted", url,
                           resp.status_code)
        chunks.append(chunk)
        if watch is not None and watch.fired:
            break
    return b"".join(chunks)


def get(session: requests.Session, url: str, settings: Settings, *,
        params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None, limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep) -> Response:
    """GET `url`, retrying 429/5xx and connection errors with backoff; honour Retry-After.

    Returns the final Response whatever its status when it is not retryable (the caller decides
    what a 404 means), or after the last retry of a retryable status. The whole call, retries
    and waits included, ends by `settings.page_deadline` and by the end of the current check's
    budget, whichever comes first.

    Raises:
        TransportError: the connection failed or timed out on every attempt.
        DeadlineExceeded: no complete answer within `page_deadline` (however slowly it came).
        CheckBudgetExceeded: the check's budget ran out before the answer was complete.
        TooLarge: the body passed `max_bytes` (streamed; never silently truncated).
    """
    seconds, check = settings.page_deadline, budget.current()
    by_budget = False
    if check is not None:
        left = check.remaining()
        if left <= 0:
            raise check.exceeded()
        if seconds <= 0 or left < seconds:
            seconds, by_budget = left, True
    if seconds <= 0:
        return _get(session, url, settings, params, headers, max_bytes, limiter, sleep, None, None)
    watch = _Watch()
    timer = threading.Timer(seconds, watch.fire)
    timer.daemon = True
    _watching.watch = watch
    timer.start()
    try:
        result = _get(session, url, settings, params, headers, max_bytes, limiter, sleep,
                      time.monotonic() + seconds, watch)
    except (TransportError, requests.RequestException) as exc:
        if watch.fired:
            raise _late(url, seconds, by_budget, check) from exc
        raise
    finally:
        timer.cancel()
        watch.close()
        _watching.watch = None
    if watch.fired:  # a body cut off by the watchdog can look complete: never use it
        raise _late(url, seconds, by_budget, check)
    return result


def _late(url: str, seconds: float, by_budget: bool, check: budget.Budget | None) -> Exception:
    if by_budget and check is not None:
        return check.exceeded()
    return DeadlineExceeded(f"no complete answer within {seconds:g} s (setting "
                            f"http.page_deadline)", url)


def _get(session: requests.Session, url: str, settings: Settings,
         params: Mapping[str, str] | None, headers: Mapping[str, str] | None,
         max_bytes: int | None, limiter: RateLimiter | None, sleep: Callable[[float], None],
         deadline: float | None, watch: _Watch | None) -> Response:
    """The attempts of `get`, none started or waited for past `deadline`."""
    def time_left() -> float:
        return float("inf") if deadline is None else deadline - time.monotonic()

    attempts = settings.retries + 1
    last_error: Exception | None = None
    for attempt in range(attempts):
        if limiter is not None:
            limiter.wait()
        started = time.monotonic()
        try:
            with session.get(url, params=params, headers=headers, timeout=settings.timeout,
                             stream=True, allow_redirects=True) as resp:
                content = _read_capped(resp, max_bytes, url, watch)
                result = Response(
                    url=url, final_url=resp.url, status=resp.status_code,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    content=content, elapsed=time.monotonic() - started, attempts=attempt + 1)
        except TooLarge:
            raise
        except requests.TooManyRedirects as exc:
            raise TransportError(f"too many redirects (more than {settings.max_redirects})",
                                 url) from exc
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            last_error = exc
            if watch is not None and watch.fired:
                raise
            logger.info("request failed (attempt %s/%s): %s: %s", attempt + 1, attempts,
                        redact(url), redact(exc))
            if attempt + 1 < attempts:
                wait = settings.backoff * 2 ** attempt * (1 + random.random() / 2)
                if wait >= time_left():
                    attempts = attempt + 1
                    break
                sleep(wait)
            continue
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema):
            raise  # a bad URL is the caller's input error, not a transport failure
        except requests.RequestException as exc:
            raise TransportError(f"the request could not be made: {redact(exc)}", url) from exc
        if watch is not None and watch.fired:
            return result  # get() refuses it
        if result.status not in RETRY_STATUSES or attempt + 1 == attempts:
            return result
        wait = _retry_after(result.headers.get("retry-after"))
        if wait is not None and wait > settings.max_retry_after:
            logger.info("status %s asks us to wait %.0fs, longer than we wait: %s", result.status,
                        wait, redact(url))
            return result  # give up now rather than spend retries inside the server's window
        if wait is None:
            wait = settings.backoff * 2 ** attempt * (1 + random.random() / 2)
        if wait >= time_left():
            logger.info("status %s, no time left to retry: %s", result.status, redact(url))
            return result
        if limiter is not None and result.status in (429, 503):
            limiter.defer(wait)  # hold back every thread of the run, not only this one
        logger.info("status %s, retrying in %.2fs: %s", result.status, wait, redact(url))
        sleep(wait)
    kind = "timed out" if isinstance(last_error, requests.Timeout) else "could not connect"
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    raise TransportError(f"{kind} after {tries}: {redact(last_error)}", url, attempts=attempts)
