"""The web app on the queue backend: editors' stories are checked by `factcheck worker`s.

A real redis-server, two worker subprocesses, the web app under Starlette's TestClient, the
corpus stories on a loopback site and the literature stand-in of tests/test_web.py. The workers
fetch an editor's story with the web app's own guard: a redirect to an address the allow-list
does not cover is refused there too.
"""

from __future__ import annotations

from pathlib import Path

from conftest_redis import redis_url  # noqa: F401  (the fixture)
from test_queue import _env, _Workers
from test_web import app_client, stand_in, story_site  # noqa: F401

from factcheck.store import Store


def test_web_on_the_queue_checks_on_workers_with_the_guard(tmp_path: Path, redis_url,  # noqa: F811
                                                            stand_in):  # noqa: F811
    env = _env(tmp_path, "worker-cache", stand_in,
               config='[web]\nallow_hosts = ["127.0.0.1/32"]\n')
    workers = _Workers(tmp_path, redis_url, env, 2, heartbeat=1.0)
    try:
        with story_site() as site:
            site.redirects["/news/elsewhere"] = site.url("/news/coffee-mortality-causal").replace(
                "127.0.0.1", "127.0.0.2")  # internal, and not on the allow-list
            settings = stand_in.settings(tmp_path / "state", host_delay=0.0, queue_url=redis_url)
            with app_client(settings, allow_hosts=["127.0.0.1/32"], workers=2) as editor:
                good = editor.wait(editor.submit(site.url("/news/coffee-mortality-causal")))
                bad = editor.wait(editor.submit(site.url("/news/elsewhere")))
                assert good["state"] == "done", good
                assert good["stages"] == ["queue"]  # the stages ran on a worker
                report = editor.client.get(f"/checks/{good['check']}.json").json()
                assert report["findings"] and report["papers"]
                assert bad["state"] == "failed", bad
                # refused by the guard on the worker, explained as the web app explains it
                assert bad["error"]["kind"] == "InternalAddressError", bad
                assert "127.0.0.2" in bad["error"]["detail"], bad
            # the redirect target was never fetched by anyone
            assert site.hits.count("/news/coffee-mortality-causal") == 1
    finally:
        workers.stop()
    assert sum(workers.checked()) == 2
    with Store.from_settings(settings) as store:
        origins = {row.origin for row in store.search_checks()}
    assert origins == {"web"}
