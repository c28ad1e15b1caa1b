"""The nightly job on the queue backend: the feed decides and stores, `factcheck worker`s check.

A real redis-server, two `factcheck worker` subprocesses, the feed's loopback news site and the
literature stand-in of tests/test_feed.py.
"""

from __future__ import annotations

from pathlib import Path

from conftest_redis import redis_url  # noqa: F401  (the fixture)
from test_feed import PICNIC, _items, _settings, rss, serve_site, stand_in  # noqa: F401
from test_queue import _env, _Workers

from factcheck.feed import run_feeds
from factcheck.rules import load_rules
from factcheck.store import HISTORY_FILENAME, Store


def test_feed_on_the_queue_is_checked_by_workers_and_stored_here(tmp_path: Path, redis_url,  # noqa: F811
                                                                 stand_in):  # noqa: F811
    with serve_site() as site:
        items = _items(["coffee-mortality-causal", "statin-crp-number-mismatch"])
        site.feeds["/feeds/rss.xml"] = rss(site, items + [("guid-picnic", "/news/picnic",
                                                           *PICNIC)])
        env = _env(tmp_path, "worker-cache", stand_in)
        workers = _Workers(tmp_path, redis_url, env, 2, heartbeat=1.0)
        try:
            settings = _settings(stand_in, tmp_path, queue_url=redis_url)
            run = run_feeds([site.url("/feeds/rss.xml")], settings, rules=load_rules(),
                            quiet=True)
        finally:
            workers.stop()
    with Store.from_settings(settings) as store:
        problems = [store.get_report(i).problems for i in run.check_ids]
    logs = [log.read_text("utf-8", "replace")[-2000:] for log in workers.logs]
    assert run.checked == len(items) and run.not_study == 1, (run.summary(), problems, logs)
    assert sum(workers.checked()) == len(items)  # the workers checked them, not this process
    with Store.from_settings(settings) as store:
        rows = store.list_checks(limit=None)
    assert sorted(r.source for r in rows) == sorted(site.url(it[1]) for it in items)
    assert all(r.paper_key for r in rows)
    # the workers never write a history: this process is the one writer
    assert not (tmp_path / "worker-cache" / HISTORY_FILENAME).exists()
