from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from factcheck.cache import CACHE_FILENAME, Cache


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_cache_put_get_roundtrip(tmp_path: Path) -> None:
    cache = Cache(tmp_path, ttl=60)
    assert cache.get("pubmed", "efetch.fcgi?id=1") is None
    cache.put("pubmed", "efetch.fcgi?id=1", "<PubmedArticleSet/>")
    assert cache.get("pubmed", "efetch.fcgi?id=1") == "<PubmedArticleSet/>"
    # keyed by service too
    assert cache.get("europepmc", "efetch.fcgi?id=1") is None
    cache.put("pubmed", "efetch.fcgi?id=1", "newer")
    assert cache.get("pubmed", "efetch.fcgi?id=1") == "newer"


def test_cache_file_created_on_demand_in_wal_mode(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet"
    cache = Cache(folder, ttl=60)
    assert not folder.exists()
    cache.put("crossref", "works/10.5555/x", "{}")
    assert (folder / CACHE_FILENAME).is_file()
    conn = sqlite3.connect(folder / CACHE_FILENAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_cache_accepts_a_database_file_path(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "mine.sqlite3", ttl=60)
    cache.put("openalex", "k", "v")
    assert (tmp_path / "mine.sqlite3").is_file()


def test_cache_ttl_makes_entries_stale(tmp_path: Path) -> None:
    clock = FakeClock()
    cache = Cache(tmp_path, ttl=100, clock=clock)
    cache.put("pubmed", "k", "answer")
    clock.now += 100
    assert cache.get("pubmed", "k") == "answer"
    clock.now += 1
    assert cache.get("pubmed", "k") is None
    assert cache.get("pubmed", "k", allow_stale=True) == "answer"


def test_cache_persists_across_instances(tmp_path: Path) -> None:
    Cache(tmp_path, ttl=60).put("pubmed", "k", "kept")
    assert Cache(tmp_path, ttl=60).get("pubmed", "k") == "kept"


def test_cache_stats_and_clear(tmp_path: Path) -> None:
    clock = FakeClock()
    cache = Cache(tmp_path, ttl=10, clock=clock)
    cache.put("pubmed", "a", "1")
    cache.put("pubmed", "b", "2")
    clock.now += 20
    cache.put("crossref", "c", "3")
    stats = cache.stats()
    assert stats["available"] is True
    assert stats["entries"] == 3
    assert stats["fresh"] == 1 and stats["stale"] == 2
    assert stats["services"] == {"pubmed": 2, "crossref": 1}
    assert stats["bytes"] > 0
    assert cache.clear("pubmed") == 2
    assert cache.get("pubmed", "a", allow_stale=True) is None
    assert cache.clear() == 1
    assert cache.stats()["entries"] == 0


def test_cache_corrupt_file_is_moved_aside_and_answers_still_flow(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / CACHE_FILENAME).write_bytes(b"this is not a database at all" * 100)
    cache = Cache(tmp_path, ttl=60)
    assert cache.get("pubmed", "k") is None
    cache.put("pubmed", "k", "v")
    assert cache.get("pubmed", "k") == "v"
    assert list(tmp_path.glob(f"{CACHE_FILENAME}.corrupt-*"))
    assert "corrupt" in caplog.text


def test_cache_unusable_location_logs_and_carries_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = Cache(blocker / "cache", ttl=60)  # its parent is a file: cannot be created
    cache.put("pubmed", "k", "v")  # must not raise
    assert cache.get("pubmed", "k") is None
    assert cache.clear() == 0
    assert cache.stats()["available"] is False
    assert "cache disabled" in caplog.text


def test_cache_write_failure_is_logged_not_raised(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = Cache(tmp_path, ttl=60)
    cache.put("pubmed", "k", "v")
    conn = cache._connection()
    assert conn is not None
    conn.execute("DROP TABLE entries")  # simulate a damaged schema
    cache.put("pubmed", "k2", "v2")
    assert cache.get("pubmed", "k2") is None
    assert "cache write failed" in caplog.text


def test_cache_is_thread_safe(tmp_path: Path) -> None:
    cache = Cache(tmp_path, ttl=60)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(30):
                cache.put("pubmed", f"{n}-{i}", f"text {n} {i}")
                assert cache.get("pubmed", f"{n}-{i}") == f"text {n} {i}"
        except BaseException as exc:  # noqa: BLE001 - collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.stats()["entries"] == 180


def test_cache_close_and_reopen(tmp_path: Path) -> None:
    with Cache(tmp_path, ttl=60) as cache:
        cache.put("pubmed", "k", "v")
    assert cache.get("pubmed", "k") == "v"  # reopens on use
