"""The queue backend on a real redis-server: two `factcheck worker` processes drain a 50-story
queue with the services' rates held in total, and a worker SIGKILLed mid-check loses nothing.

Everything is real: redis-server on a free loopback port (tests/conftest_redis.py; skipped when
it is not installed), the workers and the enqueuing `factcheck check --from` are subprocesses,
the literature services are tests/fakes.py's stand-in on loopback (it records when each request
arrived), the story sites are loopback HTTP servers, and the kill is a real SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest_redis import redis_url  # noqa: F401  (the fixture)
from fakes import ServiceStandIn
from test_batch import _pid_talking_to, _Site

from factcheck.store import HISTORY_FILENAME

REPO = Path(__file__).resolve().parent.parent
CASES = sorted(p for p in (REPO / "corpora" / "cases").iterdir() if (p / "story.html").is_file())
RATE = 4.0  # requests per second each service allows in these tests
SERVICES = ("pubmed", "europepmc", "crossref", "openalex")


def _worker_command() -> list[str]:
    from factcheck.cli import main
    if "worker" in main.commands:
        return [sys.executable, "-m", "factcheck", "worker"]
    return [sys.executable, "-c", "import sys; from factcheck.cli_worker import worker; "
                                  "sys.exit(worker())"]


def _env(tmp_path: Path, name: str, stand_in: ServiceStandIn | None, config: str = "",
         ) -> dict[str, str]:
    cfg = tmp_path / "queue.toml"
    if not cfg.exists():
        rates = "".join(f"{s}_rate = {RATE}\n" for s in SERVICES)
        cfg.write_text("[http]\nretries = 0\nbackoff = 0.01\n[services]\n" + rates
                       + "[fetch]\npage_cache = false\nhost_delay = 0.2\n" + config, "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "FACTCHECK_QUEUE_URL"}
    env.update(FACTCHECK_CACHE=str(tmp_path / name), FACTCHECK_CONFIG=str(cfg))
    env.update(stand_in.env if stand_in is not None else {})
    return env


class _Workers:
    """`factcheck worker` subprocesses, their logs in files; stopped with SIGTERM at the end."""

    def __init__(self, tmp_path: Path, url: str, env: dict[str, str], count: int,
                 heartbeat: float = 5.0):
        self.logs = [tmp_path / f"worker{i}.log" for i in range(count)]
        self.procs = []
        for log in self.logs:
            with log.open("w") as handle:
                self.procs.append(subprocess.Popen(
                    [*_worker_command(), "--queue", url, "--heartbeat", str(heartbeat), "-v"],
                    env=env, stdout=handle, stderr=subprocess.STDOUT))

    def checked(self) -> list[int]:
        """Stories each worker reports it checked."""
        return [log.read_text("utf-8", "replace").count("checked ") for log in self.logs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def stand_in() -> Iterator[ServiceStandIn]:
    with ServiceStandIn() as services:
        yield services


def _check_from(listing: Path, url: str, env: dict[str, str], timeout: float = 400):
    return subprocess.run([sys.executable, "-m", "factcheck", "check", "--from", str(listing),
                           "--queue", url], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _busiest_second(times: list[float]) -> int:
    """The most requests that arrived within any one second."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_queue_redis_clock_books_one_slot_per_gap_for_every_process(redis_url):  # noqa: F811
    from factcheck.gate import RedisClock
    # four clients (as four machines would be) book 40 starts for one key at once
    clocks = [RedisClock.from_url(redis_url) for _ in range(4)]
    booked: list[float] = []
    lock = threading.Lock()

    def book(clock: RedisClock) -> None:
        for _ in range(10):
            wait = clock.reserve("service:pubmed", 0.25)
            with lock:
                booked.append(time.time() + wait)

    threads = [threading.Thread(target=book, args=(c,)) for c in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts = sorted(booked)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 40 and min(gaps) > 0.2, gaps  # no two bookings share a slot
    assert 9.0 < starts[-1] - starts[0] < 11.0
    assert 0 < clocks[0].free_in("service:pubmed") <= 10.5
    import redis
    ttl = redis.Redis.from_url(redis_url).pttl("factcheck:gate:service:pubmed")
    assert 0 < ttl <= 10_500 + 60_000  # the key goes away a minute after its last slot
    assert clocks[0].free_in("service:never-used") == 0.0


def test_queue_two_workers_drain_fifty_stories_with_the_services_rate_held(
        tmp_path, redis_url, stand_in):  # noqa: F811
    site = _Site({f"/{case.name}": (case / "story.html").read_bytes() for case in CASES})
    workers = _Workers(tmp_path, redis_url, _env(tmp_path, "worker-cache", stand_in), 2)
    try:
        # 30 saved stories with their saved abstracts, and 20 stories on a site whose papers
        # are looked up at the (rate-limited) services
        saved, web = CASES[:30], [f"{site.url}/{case.name}" for case in CASES[-20:]]
        listing = tmp_path / "list.txt"
        listing.write_text("".join(f"{c / 'story.html'} {c / 'pubmed.xml'}\n" for c in saved)
                           + "".join(f"{url}\n" for url in web), "utf-8")
        proc = _check_from(listing, redis_url, _env(tmp_path, "desk-cache", stand_in))
    finally:
        workers.stop()
        site.close()
    lines = _lines(proc.stdout)
    assert proc.returncode in (0, 1, 2), proc.stderr
    # every story once, with the JSON lines and summary the local batch writes
    assert sorted(line["source"] for line in lines) == sorted(
        [str(c / "story.html") for c in saved] + web)
    assert all(not line["problems"] for line in lines if not line["source"].startswith("http"))
    assert "batch: 50/50 stories checked" in proc.stderr.strip().splitlines()[-1], proc.stderr
    # both workers took stories
    assert sum(workers.checked()) == 50 and min(workers.checked()) > 0, workers.checked()
    # the services' rate held for both workers together
    asked = {s: sorted(r.time for r in stand_in.requests_for(s)) for s in SERVICES}
    assert min(len(times) for times in asked.values()) >= len(web), asked  # each story asked
    span = int(RATE)  # any RATE + 1 requests in a row took at least a second (less arrival
    for service, times in asked.items():  # jitter); two workers on their own would take half
        spans = [b - a for a, b in zip(times, times[span:])]
        assert min(spans) >= 1.0 - 0.15, (service, spans)
        assert _busiest_second(times) <= RATE + 1, (service, times)
        assert (len(times) - 1) / (times[-1] - times[0]) <= RATE * 1.05, service
    # one writer: the desk's history has every story; the workers never opened one
    with sqlite3.connect(tmp_path / "desk-cache" / HISTORY_FILENAME) as conn:
        assert conn.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 50
    assert not (tmp_path / "worker-cache" / HISTORY_FILENAME).exists()


def test_queue_a_killed_worker_loses_no_story(tmp_path, redis_url, stand_in):  # noqa: F811
    story = (CASES[0] / "story.html").read_bytes()
    site = _Site({"/slow": story, **{f"/fast{i}": story for i in range(3)}},
                 hold="/slow", hold_seconds=8)
    env = _env(tmp_path, "worker-cache", stand_in)
    workers = _Workers(tmp_path, redis_url, env, 2, heartbeat=1.0)
    saved = CASES[1:5]
    expected = ([f"{site.url}/slow"] + [f"{site.url}/fast{i}" for i in range(3)]
                + [str(c / "story.html") for c in saved])
    try:
        listing = tmp_path / "list.txt"
        paper = CASES[0] / "pubmed.xml"
        listing.write_text(f"{site.url}/slow {paper}\n"
                           + "".join(f"{site.url}/fast{i} {paper}\n" for i in range(3))
                           + "".join(f"{c / 'story.html'} {c / 'pubmed.xml'}\n" for c in saved),
                           "utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "factcheck", "check", "--from", str(listing), "--queue",
             redis_url], env=_env(tmp_path, "desk-cache", stand_in), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not any(path == "/slow" for path, _ in site.arrivals):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        holder = _pid_talking_to(site.server.server_address[1])
        assert holder in [w.pid for w in workers.procs]
        os.kill(holder, signal.SIGKILL)  # the worker in the middle of the slow story
        out, err = proc.communicate(timeout=180)
    finally:
        workers.stop()
        site.close()
    lines = _lines(out)
    # every story exactly once, each checked: the slow one again, by the other worker
    assert sorted(line["source"] for line in lines) == sorted(expected), err
    assert all(not line["problems"] for line in lines), [line["problems"] for line in lines]
    assert [path for path, _ in site.arrivals].count("/slow") == 2
    assert proc.returncode in (0, 1), err
    summary = err.strip().splitlines()[-1]
    assert "batch: 8/8 stories checked" in summary and "1 story checked again" in summary, err
    with sqlite3.connect(tmp_path / "desk-cache" / HISTORY_FILENAME) as conn:
        assert conn.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 8


def test_queue_unreachable_redis_is_one_line_and_exit_3(tmp_path):
    listing = tmp_path / "list.txt"
    case = CASES[0]
    listing.write_text(f"{case / 'story.html'} {case / 'pubmed.xml'}\n" * 2, "utf-8")
    proc = _check_from(listing, "redis://127.0.0.1:1/0", _env(tmp_path, "cache", None), 120)
    assert proc.returncode == 3, proc.stderr
    assert "cannot reach the queue at redis://127.0.0.1:1/0" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_queue_worker_needs_a_queue_url(monkeypatch, tmp_path):
    from factcheck.cli_worker import worker
    monkeypatch.delenv("FACTCHECK_QUEUE_URL", raising=False)
    monkeypatch.setenv("FACTCHECK_CACHE", str(tmp_path))
    result = CliRunner().invoke(worker, [])
    assert result.exit_code == 2 and "--queue URL" in result.output


def test_queue_losing_redis_mid_run_is_one_line_and_exit_3(tmp_path):
    import redis
    from conftest_redis import start_redis
    folder = tmp_path / "redis"
    folder.mkdir()
    server, url = start_redis(folder)
    try:
        listing = tmp_path / "list.txt"
        listing.write_text("".join(f"{c / 'story.html'} {c / 'pubmed.xml'}\n" for c in CASES[:3]),
                           "utf-8")
        proc = subprocess.Popen(  # no worker: the stories wait on the queue
            [sys.executable, "-m", "factcheck", "check", "--from", str(listing), "--queue", url],
            env=_env(tmp_path, "cache", None), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        connection = redis.Redis.from_url(url)
        deadline = time.monotonic() + 60
        while connection.llen("rq:queue:factcheck") < 3:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        server.kill()
        server.wait()
        out, err = proc.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert proc.returncode == 3, err
    assert "lost the queue at " + url + " with 3 stories unanswered" in err
    assert "Traceback" not in err and out == ""
