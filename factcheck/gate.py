"""One gate for every request of a run: the services' published rates and per-site politeness.

A `Gate` turns a URL into a key and a gap: a literature service's base URL becomes
`service:NAME` with a gap of 1/rate seconds (settings.service_rates); any other host becomes
`host:HOST` with `settings.host_delay` plus up to a quarter of it at random. The gaps are kept by
a `Clock`, which is the one thing that changes with the scale of the run:

```
LocalClock    the threads of one process (the feed's workers)
SharedClock   the worker processes of one machine (`factcheck check A B C`): a LocalClock served
              by a multiprocessing manager, so two processes never exceed a service's rate
RedisClock    every `factcheck worker` on every machine (the queue backend): the next start per
              key lives in Redis, booked by one Lua script (atomic on the server) that reads the
              server's TIME, so the machines' own clocks never matter
```

`Gate.session()` is a requests session whose every request (redirects included) waits at the
gate first; its connections are the HTTP layer's watched ones, so deadlines still hold.
"""

from __future__ import annotations

import random
import threading
import time
from multiprocessing.managers import BaseManager
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests

from ._http import WatchedAdapter, make_session
from .config import Settings

if TYPE_CHECKING:
    from redis import Redis

_JITTER = 0.25  # fraction of host_delay added at random, so a batch does not beat a rhythm


class Clock(Protocol):
    def reserve(self, key: str, gap: float) -> float:
        """Book the next start for `key`, `gap` seconds after the previous one; seconds to wait."""
        ...

    def free_in(self, key: str) -> float:
        """Seconds until `key` may start again (0 when it may start now), without booking."""
        ...


class LocalClock:
    """Start times per key, shared by the threads of one process."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, gap: float) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(key, 0.0))
            self._next[key] = start + max(0.0, gap)
            return start - now

    def free_in(self, key: str) -> float:
        with self._lock:
            return max(0.0, self._next.get(key, 0.0) - time.monotonic())


class _ClockManager(BaseManager):
    pass


_ClockManager.register("LocalClock", LocalClock, exposed=("reserve", "free_in"))


def shared_clock(context: Any) -> tuple[BaseManager, Clock]:
    """A clock the worker processes of this machine share (CLOCK_MONOTONIC is system-wide).

    Returns the started manager (shut it down at the end of the run) and the clock's proxy,
    which pickles into the workers.
    """
    manager = _ClockManager(ctx=context)
    manager.start()
    return manager, manager.LocalClock()  # type: ignore[attr-defined]


# KEYS[1] the key; ARGV[1] the gap in seconds, ARGV[2] extra milliseconds the key outlives its
# next start. Returns the seconds to wait as a string (Lua numbers reach Redis as integers).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local nxt = start + math.max(0, tonumber(ARGV[1]))
local ttl = math.ceil((nxt - now) * 1000) + tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.6f', nxt), 'PX', ttl)
return string.format('%.6f', start - now)
"""
_FREE_IN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
return string.format('%.6f', math.max(0, nxt - now))
"""


class RedisClock:
    """Start times per key in Redis, shared by every process on every machine that uses it.

    Each booking is one Lua script, so two workers can never book the same slot; the times are
    the Redis server's (TIME), so workers on machines whose clocks disagree still keep the gap.
    A key expires a minute after its last booked start has passed: idle sites leave nothing.
    """

    def __init__(self, connection: Redis, prefix: str = "factcheck:gate:",
                 linger_ms: int = 60_000):
        self._redis = connection
        self._prefix = prefix
        self._linger_ms = linger_ms
        self._reserve = connection.register_script(_RESERVE)
        self._free_in = connection.register_script(_FREE_IN)

    @classmethod
    def from_url(cls, url: str) -> RedisClock:
        from redis import Redis
        return cls(Redis.from_url(url))

    def reserve(self, key: str, gap: float) -> float:
        return float(self._reserve(keys=[self._prefix + key], args=[repr(gap), self._linger_ms]))

    def free_in(self, key: str) -> float:
        return float(self._free_in(keys=[self._prefix + key]))


def host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"host:{(parts.hostname or '').lower()}:{parts.port or ''}"


class Gate:
    """Holds every request to the services' rates and to per-site politeness."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.clock: Clock = clock if clock is not None else LocalClock()
        self._services = sorted(
            ((base, f"service:{name}", 1.0 / rate if rate > 0 else 0.0)
             for name, base in settings.service_urls.items()
             for rate in (settings.service_rates.get(name, 0.0),)),
            key=lambda t: -len(t[0]))

    def key(self, url: str) -> tuple[str, float]:
        """The clock key of `url` and the gap its requests keep."""
        for base, key, gap in self._services:
            if url.startswith(base):
                return key, gap
        return host_key(url), self.settings.host_delay * (1 + _JITTER * random.random())

    def wait(self, url: str) -> float:
        """Sleep until `url` may be requested; returns the seconds slept."""
        key, gap = self.key(url)
        delay = self.clock.reserve(key, gap)
        if delay > 0:
            time.sleep(delay)
        return delay

    def free_in(self, url: str) -> float:
        """Seconds until `url`'s site or service may be asked again."""
        return self.clock.free_in(self.key(url)[0])

    def session(self) -> requests.Session:
        """A new session whose every request passes through this gate."""
        session = make_session(self.settings)
        adapter = _GatedAdapter(self, pool_connections=8, pool_maxsize=8, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


class _GatedAdapter(WatchedAdapter):
    def __init__(self, gate: Gate, **kwargs: Any):
        super().__init__(**kwargs)
        self._gate = gate

    def send(self, request: requests.PreparedRequest,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        self._gate.wait(request.url or "")
        return super().send(request, **kwargs)
