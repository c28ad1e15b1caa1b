"""Batch checks: `factcheck check A B C` / `--from FILE` on worker processes, through the command.

Real processes throughout: the command runs as a subprocess, its workers are real processes, the
story sites are HTTP servers on loopback that record when each request arrived, and a worker is
killed with a real SIGKILL.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from factcheck.batch import BatchJob, _Dispatcher, make_jobs, read_sources
from factcheck.errors import InputError
from factcheck.store import HISTORY_FILENAME

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "corpora" / "cases"
COFFEE, STATIN = CASES / "coffee-mortality-causal", CASES / "statin-crp-number-mismatch"


def _env(tmp_path: Path, config: str = "") -> dict[str, str]:
    cfg = tmp_path / "batch.toml"
    cfg.write_text("[http]\nretries = 0\nbackoff = 0.01\n" + config, "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "FACTCHECK_QUEUE_URL"}  # in-process
    return dict(env, FACTCHECK_CACHE=str(tmp_path / "cache"), FACTCHECK_CONFIG=str(cfg))


def _run(args: list[str], env: dict[str, str], timeout: float = 180):
    return subprocess.run([sys.executable, "-m", "factcheck", "check", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_read_sources_reads_lines_comments_and_papers(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("# stories for tonight\n\nhttps://a.example/1\n"
                       "https://b.example/2 10.1056/NEJMoa1\n"
                       f"story.html {COFFEE / 'pubmed.xml'}  # saved abstract\n", "utf-8")
    pairs = read_sources(listing)
    assert pairs == [("https://a.example/1", None), ("https://b.example/2", "10.1056/NEJMoa1"),
                     ("story.html", str(COFFEE / "pubmed.xml"))]
    jobs = make_jobs(pairs)
    assert jobs[1].paper == "10.1056/NEJMoa1" and jobs[1].paper_file is None
    assert jobs[2].paper_file == str(COFFEE / "pubmed.xml") and jobs[2].paper is None
    bad = tmp_path / "bad.txt"
    bad.write_text("a b c\n", "utf-8")
    with pytest.raises(InputError, match="bad.txt:1"):
        read_sources(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", "utf-8")
    with pytest.raises(InputError, match="lists no stories"):
        read_sources(empty)


def test_dispatcher_keeps_the_gap_per_site_not_per_batch():
    jobs = [BatchJob(0, "https://a.example/1"), BatchJob(1, "https://a.example/2"),
            BatchJob(2, "https://b.example/1"), BatchJob(3, "story.html")]
    dispatcher = _Dispatcher(jobs, delay=60.0)
    assert dispatcher.next().index == 0
    # a.example is cooling for a minute; b.example and the local file go meanwhile
    assert dispatcher.next().index == 2
    assert dispatcher.next().index == 3
    assert dispatcher.next() is None and len(dispatcher) == 1
    assert 59 < dispatcher.wait_hint() <= 60


def test_cli_batch_writes_json_lines_a_summary_and_the_worst_status(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{COFFEE / 'story.html'} {COFFEE / 'pubmed.xml'}\n"
                       f"{STATIN / 'story.html'} {STATIN / 'pubmed.xml'}\n", "utf-8")
    missing = tmp_path / "no-such-story.html"
    env = _env(tmp_path)
    proc = _run(["--from", str(listing), str(missing), "--offline", "-j", "2"], env)
    assert proc.returncode == 2, proc.stderr  # the worst story: a missing file is bad input
    lines = _lines(proc.stdout)
    assert sorted(line["source"] for line in lines) == sorted(
        [str(COFFEE / "story.html"), str(STATIN / "story.html"), str(missing)])
    by_source = {line["source"]: line for line in lines}
    assert by_source[str(COFFEE / "story.html")]["findings"]
    assert by_source[str(missing)]["problems"][0]["stage"] == "input"
    summary = proc.stderr.strip().splitlines()[-1]
    assert re.match(r"batch: 3/3 stories checked in [\d.]+ s \([\d.]+/s on 2 workers\): "
                    r"\d+ flagged, \d+ clean, 1 failed \(1 bad input, 0 site or service\)", summary)
    # every story is in the history, as a check made by hand is
    with sqlite3.connect(tmp_path / "cache" / HISTORY_FILENAME) as conn:
        assert conn.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 3


def test_cli_batch_fail_on_and_output_file(tmp_path):
    out = tmp_path / "reports.jsonl"
    proc = subprocess.run(  # the list on stdin
        [sys.executable, "-m", "factcheck", "check", "--from", "-", "--offline", "--fail-on",
         "high", "-o", str(out)], env=_env(tmp_path), capture_output=True, text=True,
        timeout=180, input=f"{COFFEE / 'story.html'} {COFFEE / 'pubmed.xml'}\n"
                          f"{STATIN / 'story.html'} {STATIN / 'pubmed.xml'}\n")
    lines = _lines(out.read_text("utf-8"))
    assert len(lines) == 2 and proc.stdout == ""
    high = any(f["severity"] == "high" for line in lines for f in line["findings"])
    assert proc.returncode == (1 if high else 0), proc.stderr


@pytest.mark.parametrize("extra", [["--paper", "10.1/x"], ["--format", "html"], ["--render"]])
def test_cli_batch_refuses_one_story_options(tmp_path, extra):
    proc = _run(["a.html", "b.html", *extra], _env(tmp_path), timeout=60)
    assert proc.returncode == 64, proc.stderr


class _Site:
    """Story pages on loopback; records (path, arrival time) and can hold one page back."""

    def __init__(self, pages: dict[str, bytes], hold: str | None = None, hold_seconds: float = 0):
        self.arrivals: list[tuple[str, float]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                site.arrivals.append((self.path, time.monotonic()))
                if self.path == hold:
                    time.sleep(hold_seconds)
                body = pages.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_cli_batch_politeness_is_per_site(tmp_path):
    story = (COFFEE / "story.html").read_bytes()
    a = _Site({f"/s{i}": story for i in range(3)})
    b = _Site({f"/s{i}": story for i in range(3)})
    try:
        listing = tmp_path / "list.txt"
        listing.write_text("".join(f"{site.url}/s{i} {COFFEE / 'pubmed.xml'}\n"
                                   for site in (a, b) for i in range(3)), "utf-8")
        started = time.monotonic()
        proc = _run(["--from", str(listing), "-j", "2"],
                    _env(tmp_path, "[fetch]\nhost_delay = 1.5\npage_cache = false\n"))
        assert proc.returncode in (0, 1), proc.stderr
        assert len(_lines(proc.stdout)) == 6
        for site in (a, b):
            times = sorted(t for _, t in site.arrivals)
            assert len(times) == 3
            gaps = [later - earlier for earlier, later in zip(times, times[1:])]
            assert min(gaps) >= 1.4, gaps  # the site's own gap holds across both workers
        # and the second site did not wait behind the first: it started with it
        assert abs(min(t for _, t in a.arrivals) - min(t for _, t in b.arrivals)) < 1.4
        assert max(t for site in (a, b) for _, t in site.arrivals) - started < 60
    finally:
        a.close()
        b.close()


def test_cli_batch_a_killed_worker_loses_no_story(tmp_path):
    story = (COFFEE / "story.html").read_bytes()
    site = _Site({"/slow": story, "/fast": story}, hold="/slow", hold_seconds=8)
    try:
        listing = tmp_path / "list.txt"
        listing.write_text(f"{site.url}/slow {COFFEE / 'pubmed.xml'}\n"
                           + "".join(f"{p / 'story.html'} {p / 'pubmed.xml'}\n"
                                     for p in (COFFEE, STATIN, COFFEE, STATIN)), "utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "factcheck", "check", "--from", str(listing), "-j", "2"],
            env=_env(tmp_path, "[fetch]\npage_cache = false\n"), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not any(path == "/slow" for path, _ in site.arrivals):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        holder = _pid_talking_to(site.server.server_address[1])
        assert holder is not None
        os.kill(holder, signal.SIGKILL)  # the worker that holds the slow story
        out, err = proc.communicate(timeout=120)
    finally:
        site.close()
    lines = _lines(out)
    # every story once, each checked: the ones the dead worker's pool held were sent again
    assert sorted(line["source"] for line in lines) == sorted(
        [f"{site.url}/slow"] + [str(p / "story.html") for p in (COFFEE, STATIN, COFFEE, STATIN)])
    assert all(not line["problems"] for line in lines), [line["problems"] for line in lines]
    assert [path for path, _ in site.arrivals].count("/slow") == 2  # killed once, then again
    assert proc.returncode in (0, 1), err
    summary = err.strip().splitlines()[-1]
    assert "batch: 5/5 stories checked" in summary and "1 worker died" in summary


def _pid_talking_to(port: int) -> int | None:
    """The process with an open TCP connection to 127.0.0.1:`port` (a client, not the server)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":  # ESTABLISHED, we are the remote end
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None
