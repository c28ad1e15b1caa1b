"""An on-disk cache of raw service answers, so a rerun costs nothing.

One SQLite file, `cache.sqlite3` under `settings.cache_dir`, created on first use, in WAL mode so
several processes (the CLI and the nightly job) can read while one writes. Entries are keyed by
`(service, key)` and hold the raw response text and the time it was fetched; an entry older than
`ttl` seconds is stale: `get` skips it unless asked for stale answers (offline runs, or when the
service is failing).

The cache is an optimisation, never a source of failure: a corrupt, locked or unwritable file is
logged and the caller carries on as if the entry were missing. A file that is not a database at
all is moved aside (`cache.sqlite3.corrupt-<time>`) and a fresh one started.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

logger = logging.getLogger(__name__)

CACHE_FILENAME = "cache.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    service TEXT NOT NULL,
    key     TEXT NOT NULL,
    text    TEXT NOT NULL,
    fetched REAL NOT NULL,
    PRIMARY KEY (service, key)
)
"""


class Cache:
    """A thread-safe SQLite cache of raw response texts keyed by (service, key).

    Args:
        path: the cache folder (`settings.cache_dir`); the file `cache.sqlite3` is made inside it.
            A path ending in `.sqlite3` or `.db` is taken as the database file itself.
        ttl: seconds an entry stays fresh.
        clock: returns the current time in seconds since the epoch (tests pass a fake one).

    Example:
        >>> cache = Cache(settings.cache_dir, settings.cache_ttl)
        >>> cache.put("pubmed", "efetch.fcgi?id=1", "<PubmedArticleSet/>")
        >>> cache.get("pubmed", "efetch.fcgi?id=1")
        '<PubmedArticleSet/>'
    """

    def __init__(self, path: Path, ttl: int, clock: Callable[[], float] = time.time):
        path = Path(path)
        self.path = path if path.suffix in {".sqlite3", ".db"} else path / CACHE_FILENAME
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._disabled = False

    @classmethod
    def from_settings(cls, settings: object) -> Cache:
        """The cache a run uses: `settings.cache_dir` with `settings.cache_ttl`."""
        return cls(settings.cache_dir, settings.cache_ttl)  # type: ignore[attr-defined]

    # -- connection -------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False,
                               isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _connection(self) -> sqlite3.Connection | None:
        """The open connection, opening (or repairing) the file on first use; None if unusable."""
        if self._conn is not None or self._disabled:
            return self._conn
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            # "file is not a database": keep the bad file for inspection and start afresh.
            if self.path.exists() and not isinstance(exc, sqlite3.OperationalError):
                aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._clock())}")
                logger.warning("cache file is corrupt, moving it aside: %s -> %s (%s)",
                               self.path, aside, exc)
                try:
                    self.path.replace(aside)
                    for suffix in ("-wal", "-shm"):
                        Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                    self._conn = self._open()
                    return self._conn
                except (OSError, sqlite3.Error) as exc2:
                    exc = exc2  # type: ignore[assignment]
            self._disable(exc)
        except OSError as exc:
            self._disable(exc)
        return self._conn

    def _disable(self, exc: Exception) -> None:
        logger.warning("cache disabled for this run: %s: %s", self.path, exc)
        self._disabled = True
        self._conn = None

    def close(self) -> None:
        """Close the database connection (it reopens on next use)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public API -------------------------------------------------------------------------

    def get(self, service: str, key: str, allow_stale: bool = False,
            max_age: int | None = None) -> str | None:
        """The cached text for `(service, key)`, or None when missing, stale or unreadable.

        Args:
            service: the service name, e.g. "pubmed".
            key: the request's cache key (path and query without credentials).
            allow_stale: also return entries older than the TTL.
            max_age: a shorter freshness than the TTL for this read (search answers).

        Returns:
            The raw response text, or None.
        """
        with self._lock:
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute("SELECT text, fetched FROM entries WHERE service=? AND key=?",
                                   (service, key)).fetchone()
            except sqlite3.Error as exc:
                logger.warning("cache read failed, treating as a miss: %s %s: %s",
                               service, key, exc)
                return None
        if row is None:
            return None
        text, fetched = row
        fresh = self.ttl if max_age is None else min(self.ttl, max_age)
        if not allow_stale and self._clock() - fetched > fresh:
            logger.debug("cache entry is stale: %s %s", service, key)
            return None
        return text

    def put(self, service: str, key: str, text: str) -> None:
        """Store `text` as the answer for `(service, key)`, fetched now; failures are logged only.

        Args:
            service: the service name, e.g. "pubmed".
            key: the request's cache key.
            text: the raw response text.
        """
        with self._lock:
            conn = self._connection()
            if conn is None:
                return
            try:
                conn.execute("INSERT OR REPLACE INTO entries (service, key, text, fetched) "
                             "VALUES (?, ?, ?, ?)", (service, key, text, self._clock()))
            except sqlite3.Error as exc:
                logger.warning("cache write failed, answer not cached: %s %s: %s",
                               service, key, exc)

    def stats(self) -> dict:
        """What the cache holds.

        Returns:
            A dict with `path`, `entries`, `fresh`, `stale`, `bytes` (file size) and
            `services` (entries per service); `available` is False when the file is unusable.
        """
        out: dict = {"path": str(self.path), "available": False, "entries": 0, "fresh": 0,
                     "stale": 0, "bytes": 0, "services": {}}
        with self._lock:
            conn = self._connection()
            if conn is None:
                return out
            try:
                cutoff = self._clock() - self.ttl
                rows = conn.execute("SELECT service, COUNT(*), SUM(fetched >= ?) FROM entries "
                                    "GROUP BY service", (cutoff,)).fetchall()
            except sqlite3.Error as exc:
                logger.warning("cache stats failed: %s: %s", self.path, exc)
                return out
        out["available"] = True
        for service, count, fresh in rows:
            out["services"][service] = count
            out["entries"] += count
            out["fresh"] += int(fresh or 0)
        out["stale"] = out["entries"] - out["fresh"]
        try:
            out["bytes"] = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*")
                               if ".corrupt-" not in p.name)
        except OSError:
            pass
        return out

    def clear(self, service: str | None = None) -> int:
        """Delete every entry, or only `service`'s.

        Args:
            service: the service whose entries go; None for all.

        Returns:
            The number of entries deleted (0 when the cache is unusable).
        """
        with self._lock:
            conn = self._connection()
            if conn is None:
                return 0
            try:
                if service is None:
                    cur = conn.execute("DELETE FROM entries")
                else:
                    cur = conn.execute("DELETE FROM entries WHERE service=?", (service,))
            except sqlite3.Error as exc:
                logger.warning("cache clear failed: %s: %s", self.path, exc)
                return 0
        return cur.rowcount
