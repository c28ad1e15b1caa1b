"""What every literature client shares: cache first, then one polite GET through `_http.get`.

`ServiceClient.fetch` is the only place the clients touch the network or the cache:

1. offline: answer from the cache, stale entries allowed, else `PaperNotFound("offline and not
   cached")`;
2. a fresh cache entry is the answer;
3. otherwise GET with the service's rate limiter, retries and backoff (`factcheck._http.get`);
   200 -> cache and return the text; 400/404/410 -> None (the service does not know it);
   429/5xx after retries or a transport failure -> `UpstreamError`, unless a stale cache entry
   can answer instead (logged).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator, Mapping
from urllib.parse import urlencode

import requests

from .._http import RateLimiter, TransportError, get
from ..cache import Cache
from ..config import Settings
from ..errors import PaperNotFound, UpstreamError
from ._parse import SERVICE_NAMES

logger = logging.getLogger(__name__)

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

    def fetch(self, path: str, params: Mapping[str, str], query: str,
              max_age: int | None = None) -> str | None:
        """The text of `GET base/path?params`, from the cache when possible.

        Args:
            path: the endpoint relative to the service's base URL, e.g. "esearch.fcgi".
            params: query parameters (credentials and contact are added by `_params`).
            query: what is being looked up, for messages ("doi 10.1/x").
            max_age: seconds a cached answer stays fresh for this request, when shorter than
                the cache's TTL (search answers: a paper may be indexed tomorrow).

        Returns:
            The response text, or None when the service answered that it has no such record.

        Raises:
            PaperNotFound: offline and the answer is not in the cache.
            UpstreamError: 429/5xx after retries, or the service could not be reached, and no
                cached answer (even stale) exists.
        """
        # the base URL is part of the key: a mirror's answers are not the public service's
        key = f"{self.base_url}/{path.lstrip('/')}" + (
            "?" + urlencode(sorted((k, v) for k, v in params.items() if k not in _UNKEYED))
            if params else "")
        if self.settings.offline:
            text = self.cache.get(self.service, key, allow_stale=True) if self.cache else None
            if text is None:
                raise PaperNotFound(f"{self.name}: offline and not cached: {query}",
                                    service=self.service, query=query)
            return text
        if self.cache is not None:
            text = self.cache.get(self.service, key, max_age=max_age)
            if text is not None:
                logger.debug("cache hit: %s %s", self.service, key)
                return text
        url = f"{self.base_url}/{path.lstrip('/')}"
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
            return self._stale_or_raise(key, error)
        if resp.status == 200:
            text = resp.content.decode("utf-8", errors="replace")
            if self.cache is not None and not self._empty_answer(path, text):
                self.cache.put(self.service, key, text)
            return text
        if resp.status in _NOT_FOUND:
            logger.info("%s has no record (HTTP %s): %s", self.service, resp.status, query)
            return None
        attempts = resp.attempts
        error = UpstreamError(
            f"{self.name} answered HTTP {resp.status} for {query} after {attempts} attempt"
            f"{'s' if attempts != 1 else ''}; try again later",
            service=self.service, query=query, status=resp.status)
        return self._stale_or_raise(key, error)

    def _empty_answer(self, path: str, text: str) -> bool:
        """An answer that found nothing: not cached, since papers reach the indexes days after
        the news does, and a month-long "not found" would hide them."""
        return False

    def _stale_or_raise(self, key: str, error: UpstreamError) -> str:
        if self.cache is not None:
            text = self.cache.get(self.service, key, allow_stale=True)
            if text is not None:
                logger.warning("%s; using the stale cached answer", error)
                return text
        raise error
