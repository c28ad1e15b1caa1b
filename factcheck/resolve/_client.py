"""What every literature client shares: cache first, then one polite GET through `_http.get`.

`ServiceClient.fetch` is the only place the clients touch the network or the cache:

0. the URL is built from percent-encoded segments (`path`) and must stay under the service's
   base URL (`url_for`), else `InputError` and nothing is sent;
1. offline: answer from the cache, stale entries allowed, else `PaperNotFound("offline and not
   cached")`;
2. a fresh cache entry that parses is the answer;
3. otherwise GET with the service's rate limiter, retries and backoff (`factcheck._http.get`);
   200 -> parse, and only an answer the parser accepted is cached and returned (an HTML error
   page, a truncated body or JSON of the wrong shape is `UpstreamError`, never cached);
   400/404/410 -> None (the service does not know it); 429/5xx after retries, a transport
   failure or a malformed answer -> `UpstreamError`, unless a stale cache entry that parses can
   answer instead (logged).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping, TypeVar
from urllib.parse import quote, unquote, urlencode, urlsplit

import requests

from .._http import RateLimiter, TransportError, get
from ..cache import Cache
from ..config import Settings
from ..errors import InputError, PaperNotFound, UpstreamError
from ._parse import SERVICE_NAMES

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Parameters that identify us or hold secrets: sent, but never part of a cache key.
_UNKEYED = frozenset({"tool", "email", "api_key", "mailto"})
_NOT_FOUND = frozenset({400, 404, 410})


class ServiceClient:
    """Base of the four clients; subclasses set `service` and call `fetch`.

    Args:
        settings: the run's Settings (base URL, rate, timeouts, retries, offline flag).
        session: the shared requests session (`factcheck._http.make_session`).
        cache: the raw-answer cache, or None for no caching.
        limiter: the service's RateLimiter shared by all threads of the run; one is made from
            `settings.service_rates[service]` when None.
    """

    service = ""

    def __init__(self, settings: Settings, session: requests.Session, cache: Cache | None = None,
                 limiter: RateLimiter | None = None):
        self.settings = settings
        self.session = session
        self.cache = cache
        self.limiter = limiter or RateLimiter(settings.service_rates.get(self.service, 0.0))
        self.base_url = settings.service_urls[self.service].rstrip("/")
        # per thread, as one client serves every thread of a run: the requests this thread sent
        # (retries included, cache answers not) and a cap on the attempts of the next ones
        self._local = threading.local()

    @property
    def requests(self) -> int:
        """HTTP requests this thread has sent through this client (the search's budget)."""
        return int(getattr(self._local, "requests", 0))

    @contextmanager
    def attempts_at_most(self, attempts: int) -> Iterator[None]:
        """Within the block, each request is tried at most `attempts` times (retries included):
        a search never spends more than its budget on a failing service."""
        previous = getattr(self._local, "cap", None)
        self._local.cap = max(1, attempts)
        try:
            yield
        finally:
            self._local.cap = previous

    @property
    def name(self) -> str:
        """The service's display name ("Europe PMC")."""
        return SERVICE_NAMES.get(self.service, self.service)

    def _params(self, params: Mapping[str, str]) -> dict[str, str]:
        """Extra parameters every request carries (contact address, keys); subclasses add theirs."""
        return dict(params)

    def path(self, *segments: str, safe: str = "") -> str:
        """A request path from `segments`, each percent-encoded ("/", "?", "%" and the rest), so
        an identifier can never add a segment, a query or a fragment of its own.

        Args:
            segments: the path's parts, e.g. ("works", "10.1000", "xyz").
            safe: characters left as they are (OpenAlex's "doi:" needs ":").
        """
        return "/".join(quote(segment, safe=safe) for segment in segments)

    def url_for(self, path: str) -> str:
        """`base/path`, checked to stay under the service's base URL.

        Raises:
            InputError: the URL would leave the base (a "..", however encoded, or another host);
                nothing is sent.
        """
        url = f"{self.base_url}/{path.lstrip('/')}"
        if not _under(url, self.base_url):
            raise InputError(f"refusing to send {self.name} a request outside its base URL "
                             f"{self.base_url}/: {url[:160]!r}")
        return url

    def fetch(self, path: str, params: Mapping[str, str], query: str,
              max_age: int | None = None, *, parse: Callable[[str], T]) -> T | None:
        """`parse` of the text of `GET base/path?params`, from the cache when possible.

        An answer is cached only once `parse` has accepted it: an HTML error page, a truncated
        body or JSON of the wrong shape sent with status 200 is an `UpstreamError` and leaves
        nothing behind, so the next run asks again.

        Args:
            path: the endpoint relative to the service's base URL, e.g. "esearch.fcgi"; build
                paths that hold identifiers with `path()`.
            params: query parameters (credentials and contact are added by `_params`).
            query: what is being looked up, for messages ("doi 10.1/x").
            max_age: seconds a cached answer stays fresh for this request, when shorter than
                the cache's TTL (search answers: a paper may be indexed tomorrow).
            parse: turns the text into the answer; raises `UpstreamError` when it is malformed.

        Returns:
            The parsed answer, or None when the service answered that it has no such record.

        Raises:
            InputError: the URL would leave the service's base URL (nothing is sent).
            PaperNotFound: offline and the answer is not in the cache.
            UpstreamError: 429/5xx after retries, the service could not be reached, or its
                answer was malformed, and no cached answer (even stale) can stand in.
        """
        url = self.url_for(path)
        # the base URL is part of the key: a mirror's answers are not the public service's
        key = url + ("?" + urlencode(sorted((k, v) for k, v in params.items() if k not in _UNKEYED))
                     if params else "")
        if self.settings.offline:
            cached = self._cached(key, parse, allow_stale=True)
            if cached is None:
                raise PaperNotFound(f"{self.name}: offline and not cached: {query}",
                                    service=self.service, query=query)
            return cached[0]
        cached = self._cached(key, parse, max_age=max_age)
        if cached is not None:
            logger.debug("cache hit: %s %s", self.service, key)
            return cached[0]
        cap = getattr(self._local, "cap", None)
        settings = self.settings if cap is None else self.settings.with_(
            retries=max(0, min(self.settings.retries, cap - 1)))
        try:
            resp = get(self.session, url, settings, params=self._params(params),
                       limiter=self.limiter, max_bytes=self.settings.max_page_bytes)
            self._local.requests = self.requests + resp.attempts
        except TransportError as exc:
            self._local.requests = self.requests + exc.attempts
            error = UpstreamError(f"{self.name} could not be reached for {query}: {exc}",
                                  service=self.service, query=query, status=exc.status)
            return self._stale_or_raise(key, error, parse)
        if resp.status == 200:
            text = resp.content.decode("utf-8", errors="replace")
            try:
                value = self._parse(parse, text, query)
            except UpstreamError as exc:
                logger.info("malformed answer, not cached: %s %s: %s", self.service, key, exc)
                return self._stale_or_raise(key, exc, parse)
            if self.cache is not None and not self._empty_answer(path, text):
                self.cache.put(self.service, key, text)
            return value
        if resp.status in _NOT_FOUND:
            logger.info("%s has no record (HTTP %s): %s", self.service, resp.status, query)
            return None
        attempts = resp.attempts
        error = UpstreamError(
            f"{self.name} answered HTTP {resp.status} for {query} after {attempts} attempt"
            f"{'s' if attempts != 1 else ''}; try again later",
            service=self.service, query=query, status=resp.status)
        return self._stale_or_raise(key, error, parse)

    def _parse(self, parse: Callable[[str], T], text: str, query: str) -> T:
        """`parse(text)`; a parser tripping over an answer it did not foresee is the service's
        malformed answer too, not a crash of the run."""
        try:
            return parse(text)
        except UpstreamError:
            raise
        except (LookupError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            logger.debug("parser failed on a %s answer for %s", self.service, query,
                         exc_info=True)
            raise UpstreamError(f"{self.name} returned an answer factcheck cannot read for "
                                f"{query} ({type(exc).__name__}); nothing was cached, try again "
                                "later", service=self.service, query=query) from exc

    def _cached(self, key: str, parse: Callable[[str], T], allow_stale: bool = False,
                max_age: int | None = None) -> tuple[T] | None:
        """(parsed answer,) from the cache, or None when missing, stale or unreadable (an entry
        an older version cached before it parsed answers first is fetched again)."""
        if self.cache is None:
            return None
        text = self.cache.get(self.service, key, allow_stale=allow_stale, max_age=max_age)
        if text is None:
            return None
        try:
            return (self._parse(parse, text, key),)
        except UpstreamError as exc:
            logger.info("cached answer is malformed, asking again: %s %s: %s", self.service,
                        key, exc)
            return None

    def _empty_answer(self, path: str, text: str) -> bool:
        """An answer that found nothing: not cached, since papers reach the indexes days after
        the news does, and a month-long "not found" would hide them."""
        return False

    def _stale_or_raise(self, key: str, error: UpstreamError, parse: Callable[[str], T]) -> T:
        cached = self._cached(key, parse, allow_stale=True)
        if cached is not None:
            logger.warning("%s; using the stale cached answer", error)
            return cached[0]
        raise error


def _remove_dots(path: str) -> str:
    """RFC 3986 remove_dot_segments, as a server resolves "a/./b/../c" to "a/c"."""
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if path.endswith(("/.", "/..")):
        out.append("")
    return "/".join(out)


def _under(url: str, base: str) -> bool:
    """Whether `url` stays under `base` however a server or proxy reads it: percent-escapes
    decoded (repeatedly), backslashes taken as slashes, dot segments resolved."""
    parts, root = urlsplit(url), urlsplit(base)
    if (parts.scheme.lower(), parts.netloc.lower()) != (root.scheme.lower(), root.netloc.lower()):
        return False
    path = parts.path
    for _ in range(4):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    path = _remove_dots(path.replace("\\", "/"))
    prefix = _remove_dots(unquote(root.path)).rstrip("/") + "/"
    return (path.rstrip("/") + "/").startswith(prefix) and not any(
        ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url)
