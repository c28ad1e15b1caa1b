"""Fault suite (issue 12): `python -m factcheck feed` killed with real SIGKILLs, then run again.

Everything is real and on loopback: the news site with its RSS feed (tests/test_feed.py's
`serve_site`), the literature services (tests/fakes.py's ServiceStandIn), an aiosmtpd server
(tests/smtp_stand_in.py) and the feed job as a subprocess. The job is killed at random moments
(seeded; the seed is in every failure message, set FACTCHECK_KILL_SEED to replay one) and right
after the SMTP server has received a message's DATA but before the job hears "250", then run
until it finishes. Afterwards:

- every SQLite file in the state folder passes `PRAGMA integrity_check`;
- every story was checked exactly once (one check row per story) and the non-study item was
  skipped once;
- every email in the outbox is `sent` and its Message-ID arrived; no story and no digest went out
  under two different Message-IDs, and each check is in exactly one digest that arrived;
- a Message-ID arrived more than once only for an email whose delivery a kill left uncertain
  (the outbox counts more than one attempt), which is the resend the README promises.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest
from fakes import ServiceStandIn
from smtp_stand_in import SmtpStandIn
from test_feed import CASES, PICNIC, STORIES, _items, rss, serve_site

from factcheck.resolve import paper_from_file

RANDOM_KILLS = 3
DATA_KILLS = 2
RUN_TIMEOUT = 60.0  # seconds one uninterrupted run may take on a loaded machine
CONFIG = """\
[mail]
per_story = true
[http]
connect_timeout = 2.0
read_timeout = 5.0
retries = 1
backoff = 0.01
max_retry_after = 1.0
[fetch]
host_delay = 0.0
[services]
pubmed_rate = 1000.0
europepmc_rate = 1000.0
crossref_rate = 1000.0
openalex_rate = 1000.0
"""


class _Job:
    """The feed job as a subprocess, and the kill switch the SMTP server pulls."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.kill_at_data: int | None = None  # kill on this DATA of the run (1 = the first)
        self.data_seen = 0
        self.killed_at_data = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> subprocess.Popen[str]:
        with self._lock:
            self.data_seen = 0
            self.killed_at_data.clear()
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
            return self.proc

    def on_data(self, _msg: object) -> None:
        with self._lock:
            self.data_seen += 1
            if self.proc is not None and self.kill_at_data == self.data_seen:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.kill_at_data = None
                self.killed_at_data.set()

    def kill(self) -> None:
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def world(tmp_path):
    papers = [paper_from_file(CASES / slug / "pubmed.xml") for slug in STORIES]
    with ServiceStandIn(papers=[(p, p.pmid) for p in papers]) as services, serve_site() as site, \
            SmtpStandIn() as smtp:
        config = tmp_path / "fast.toml"
        config.write_text(CONFIG, "utf-8")
        env = {**os.environ, **services.env, **smtp.env,
               "FACTCHECK_CACHE": str(tmp_path / "state")}
        job = _Job([sys.executable, "-m", "factcheck", "feed", site.url("/feeds/rss.xml"),
                    "--email", "desk@news.example", "--workers", "2", "-q",
                    "--config", str(config)], env)
        smtp.on_data(job.on_data)
        try:
            yield job, smtp, tmp_path / "state", site
        finally:
            smtp.on_data(None)
            job.kill()


def _edition(site, round_no: int) -> list[tuple[str, str, str, str]]:
    """Two new stories for this round: corpus pages under new URLs, GUIDs and headlines."""
    out = []
    for slug in list(STORIES)[round_no % 2 * 2:][:2]:
        path = f"/news/r{round_no}-{slug}"
        site.pages[path] = site.pages[f"/news/{slug}"]
        title, summary = STORIES[slug]
        out.append((f"guid-r{round_no}-{slug}", path, f"{title} (edition {round_no})", summary))
    return out


def _finish(proc: subprocess.Popen[str], seed: int) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"seed {seed}: a feed run did not finish in {RUN_TIMEOUT}s: {err[-2000:]}")
    return proc.returncode, out, err


def _received(smtp: SmtpStandIn) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """check id -> Message-IDs of the story emails and of the digests that reported it."""
    stories: dict[int, set[str]] = defaultdict(set)
    digests: dict[int, set[str]] = defaultdict(set)
    for msg in smtp.messages:
        mid = str(msg["Message-ID"]).strip()
        attachment = next(msg.iter_attachments())
        data = json.loads(attachment.get_content())
        if "digest" in data:
            for story in data["stories"]:
                digests[story["id"]].add(mid)
        else:
            check_id = int(attachment.get_filename().removeprefix("factcheck-").split(".")[0])
            stories[check_id].add(mid)
    return stories, digests


def test_feed_kills_lose_nothing_and_send_each_email_under_one_message_id(world):
    job, smtp, state, site = world
    items = _items(list(STORIES)) + [("guid-picnic", "/news/picnic", *PICNIC)]
    seed = int(os.environ.get("FACTCHECK_KILL_SEED") or time.time_ns() % 100_000)
    rng = random.Random(seed)
    started = time.monotonic()
    statuses: list[str] = []

    # SIGKILL at random moments (starting up, reading the feed, checking, storing, sending) and
    # right after the SMTP server has a message, before the job hears "250". Each round adds
    # two new stories to the feed (corpus pages under new URLs and headlines), so every run has
    # stories to check and emails to send when the kill comes.
    plan = ["random", "data", "random", "data", "random"]
    assert plan.count("random") == RANDOM_KILLS and plan.count("data") == DATA_KILLS
    for round_no, kind in enumerate(plan):
        items.extend(_edition(site, round_no))
        site.feeds["/feeds/rss.xml"] = rss(site, items)
        if kind == "data":
            job.kill_at_data = rng.randint(1, 2)
            code, _out, _err = _finish(job.start(), seed)
            statuses.append(f"DATA kill {'done' if job.killed_at_data.is_set() else 'not reached'}"
                            f" (exit {code})")
            job.kill_at_data = None
            continue
        proc = job.start()
        delay = rng.uniform(1.0, 5.0)
        try:
            proc.wait(timeout=delay)
            statuses.append(f"finished before {delay:.1f}s")
        except subprocess.TimeoutExpired:
            job.kill()
            statuses.append(f"killed at {delay:.1f}s")
        proc.communicate()

    # 3. run to the end, then once more: the second run has nothing to do or send
    code, out, err = _finish(job.start(), seed)
    where = f"seed {seed}; runs: {statuses}; last run: {out} {err[-3000:]}"
    print(where)  # shown with -s, and by pytest when an assertion fails
    assert code == 0, where
    arrived = len(smtp.messages)
    code, out, err = _finish(job.start(), seed)
    assert code == 0 and "0 checked" in out and len(smtp.messages) == arrived, where
    assert time.monotonic() - started < 300, where  # bounded: no run hangs

    # the files are whole
    for path in sorted(state.glob("*.sqlite3")):
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], \
                f"{path.name}: {where}"

    with sqlite3.connect(state / "history.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        checks = conn.execute("SELECT story_id, COUNT(*) AS n FROM checks "
                              "GROUP BY story_id").fetchall()
        stories = conn.execute("SELECT id, url, state FROM stories").fetchall()
        skips = conn.execute("SELECT url FROM skips").fetchall()
        emails = conn.execute("SELECT * FROM emails").fetchall()
        check_rows = conn.execute("SELECT id, story_id, flagged, digest FROM checks").fetchall()

    # every story checked exactly once; the picnic skipped once, never checked
    study = {r["id"] for r in stories if not r["url"].endswith("/news/picnic")}
    assert len(study) == len(STORIES) + 2 * len(plan), where
    assert {r["story_id"]: r["n"] for r in checks} == dict.fromkeys(study, 1), where
    assert all(r["state"] == "checked" for r in stories if r["id"] in study), where
    assert [r["url"] for r in skips] == [s["url"] for s in stories
                                         if s["url"].endswith("/news/picnic")], where

    # every email sent, and arrived; a repeated Message-ID only where a kill made it uncertain
    ids = smtp.message_ids()
    assert emails and all(e["state"] == "sent" for e in emails), where
    for e in emails:
        if e["error"] == "nothing to report":
            continue
        assert e["message_id"] in ids, f"{e['key']} never arrived: {where}"
        if ids.count(e["message_id"]) > 1:
            assert e["attempts"] > 1, f"{e['key']} sent twice in one attempt: {where}"
    known = {e["message_id"] for e in emails}
    assert set(ids) <= known, f"a message the outbox does not know: {where}"

    # one Message-ID per story email; each check in exactly one digest that arrived
    story_mails, digest_mails = _received(smtp)
    flagged = {r["id"] for r in check_rows if r["flagged"]}
    assert set(story_mails) == flagged, where
    assert all(len(mids) == 1 for mids in story_mails.values()), where
    assert {r["id"] for r in check_rows} == set(digest_mails), where
    assert all(len(mids) == 1 for mids in digest_mails.values()), where
