"""The web app through Starlette's TestClient: the form, refusals, CSRF/Host, the pool, errors.

Checks that need a story run the real pipeline: the corpus stories are served by a loopback
site (allowed with `web.allow_hosts`, the SSRF guard stays on for everything else) and their
papers by the literature stand-in (tests/fakes.py), so nothing answers with a canned report.
Tests of the queue and of error pages use small check functions that block or raise.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes import ServiceStandIn

from factcheck.errors import CheckBudgetExceeded, CitationNotFound, ConfigError, PaperNotFound, UpstreamError
from factcheck.resolve import paper_from_file
from factcheck.store import Store
from factcheck.web import MAX_BODY_BYTES, MAX_TEXT_CHARS, AllowList, create_app
from factcheck.web.jobs import PASTED

with warnings.catch_warnings():  # starlette 1.x suggests httpx2; httpx is what is pinned
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CASES = Path(__file__).resolve().parent.parent / "corpora" / "cases"
SLUGS = ("coffee-mortality-causal", "dapagliflozin-ckd-faithful", "statin-crp-number-mismatch")
PICNIC = ("<html><head><title>Ten tips for a summer picnic</title></head><body><article>"
          "<h1>Ten tips for a summer picnic</h1>" + "".join(
              f"<p>Tip {n}: {tip} It makes the afternoon easier for everyone, and the children "
              f"will remember it long after the summer is over.</p>" for n, tip in enumerate((
                  "Pack a blanket that can get wet.", "Bring more water than you think.",
                  "Choose a shady spot under a tree.", "Arrive early to find parking.",
                  "Keep the salads cold in a cool box.", "Take a bag for the rubbish.",
                  "Bring a ball or a kite.", "Check the weather the night before."), 1))
          + "</article></body></html>").encode()


# -- the loopback story site and the literature stand-in ---------------------------------------


@dataclass
class Site:
    base: str = ""
    pages: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds every /slow/ page waits before answering

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@contextlib.contextmanager
def story_site(host: str = "127.0.0.1") -> Iterator[Site]:
    """The corpus stories under /news/SLUG and /slow/SLUG (after `site.delay` seconds)."""
    site = Site()
    for slug in SLUGS:
        site.pages[f"/news/{slug}"] = (CASES / slug / "story.html").read_bytes()
    site.pages["/news/picnic"] = PICNIC

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            site.hits.append(self.path)
            path = self.path
            if path.startswith("/slow/"):
                time.sleep(site.delay)
                path = "/news/" + path.removeprefix("/slow/")
            if path in site.redirects:
                self.send_response(302)
                self.send_header("Location", site.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = site.pages.get(path)
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

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    site.base = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def literature() -> Iterator[ServiceStandIn]:
    papers = [paper_from_file(CASES / slug / "pubmed.xml") for slug in SLUGS]
    with ServiceStandIn(papers=[(p, p.pmid) for p in papers]) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def stand_in():
    with literature() as server:
        yield server


@pytest.fixture
def site():
    with story_site() as state:
        yield state


# -- an editor's browser, as the TestClient --------------------------------------------------------


class Editor:
    """Opens the form (token and cookie), posts it from the same origin, follows the job."""

    def __init__(self, client: TestClient):
        self.client = client

    def token(self) -> str:
        page = self.client.get("/").text
        return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)

    def post(self, url: str = "", text: str = "", paper: str = "", headers=None):
        return self.client.post("/check", data={"url": url, "text": text, "paper": paper,
                                                "csrf": self.token()},
                                headers={"Origin": "http://testserver", **(headers or {})},
                                follow_redirects=False)

    def submit(self, url: str = "", text: str = "", paper: str = "") -> str:
        answer = self.post(url, text, paper)
        assert answer.status_code == 303, answer.text[:3000]
        return answer.headers["location"]

    def wait(self, job: str, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.client.get(f"{job}.json").json()
            if state["state"] in ("done", "failed"):
                return state
            time.sleep(0.05)
        raise AssertionError(f"{job} did not finish in {timeout} s")


def _never_called(request, ctx):
    raise AssertionError(f"the check must not run for a refused form: {request}")


@contextlib.contextmanager
def app_client(settings, **kwargs) -> Iterator[Editor]:
    with TestClient(create_app(settings, **kwargs), base_url="http://testserver") as client:
        yield Editor(client)


@pytest.fixture
def refusing(settings):
    with app_client(settings, check_fn=_never_called) as editor:
        yield editor


# -- the form -----------------------------------------------------------------------------------


def test_web_form_is_accessible_without_scripts(refusing):
    answer = refusing.client.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    page = answer.text
    assert '<form method="post" action="/check"' in page
    assert '<label for="url">' in page and 'id="url" name="url" type="url"' in page
    assert '<label for="text">' in page and '<textarea id="text" name="text"' in page
    assert '<label for="paper">' in page and 'name="paper"' in page
    assert '<html lang="en">' in page and "<main>" in page and 'href="/history"' in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "SameSite=Strict" in answer.headers["set-cookie"]


def test_web_sets_security_headers_on_every_answer(refusing):
    for answer in (refusing.client.get("/"), refusing.post("file:///etc/passwd"),
                   refusing.client.get("/nope"), refusing.client.get("/status")):
        csp = answer.headers["content-security-policy"]
        assert csp.startswith("default-src 'none'; style-src 'unsafe-inline'")
        assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"  # no referrer to other sites
        assert answer.headers["x-frame-options"] == "DENY"


def test_web_other_paths_and_methods(refusing):
    client = refusing.client
    missing = client.get("/nope")
    assert missing.status_code == 404 and "Not found" in missing.text
    assert client.put("/").status_code == 405
    assert client.put("/check").headers["allow"] == "POST"
    again = client.get("/check", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/"
    assert client.get("/jobs/unknown").status_code == 404
    assert client.get("/checks/999").status_code == 404
    assert client.get("/checks/999.json").status_code == 404
    assert client.get("/status").json() == {"workers": 4, "running": 0, "queued": 0,
                                            "max_queue": 100}


# -- what the form refuses --------------------------------------------------------------------------


def test_web_refuses_a_loopback_url_and_refills_the_form(refusing):
    answer = refusing.post("http://127.0.0.1:9/story.html")
    assert answer.status_code == 400
    assert "Refused: 127.0.0.1 is a loopback address (this machine)" in answer.text
    assert 'role="alert"' in answer.text and "This address is on an internal network" in answer.text
    assert 'value="http://127.0.0.1:9/story.html"' in answer.text


@pytest.mark.parametrize(("url", "reason"), [
    ("http://10.0.0.5/x", "a private-network address"),
    ("http://[::1]/", "a loopback address"),
    ("http://169.254.169.254/", "a link-local address"),
    ("http://[::ffff:127.0.0.1]/", "a loopback address"),
    ("http://[::ffff:10.0.0.5]:8080/", "a private-network address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://[fd00::1]/", "a private-network address"),
    ("http://0.0.0.0/", "the unspecified address"),
    ("http://[::]/", "the unspecified address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://100.64.0.1/", "not publicly routable"),
    ("https://192.168.1.1/", "a private-network address"),
    ("http://[2002:7f00:1::]/", "carries 127.0.0.1"),
    ("http://localhost/", "a loopback address"),
])
def test_web_refuses_internal_addresses(refusing, url, reason):
    answer = refusing.post(url)
    assert answer.status_code == 400
    assert reason in answer.text and "public internet" in answer.text


@pytest.mark.parametrize(("url", "reason"), [
    ("file:///etc/passwd", "only http:// and https://"),
    ("/etc/passwd", "only http:// and https://"),
    ("-", "only http:// and https://"),
    ("ftp://example.org/story", "only http:// and https://"),
    ("", "enter the web address"),
    ("http:///path-only", "no host name"),
    ("http://user:secret@example.org/", "user name or password"),
    ("http://example.org/a b", "spaces or control characters"),
    ("http://[::1/", "not a valid web address"),
    ("http://" + "a" * 3000 + ".org/", "the limit is 2,048"),
])
def test_web_refuses_what_is_not_a_public_web_address(refusing, url, reason):
    answer = refusing.post(url)
    assert answer.status_code == 400
    assert reason in answer.text.lower() or reason in answer.text


def test_web_escapes_what_it_echoes(refusing):
    answer = refusing.post('javascript:"><script>alert(1)</script>', paper="<b>x</b>")
    assert answer.status_code == 400
    assert "<script>alert" not in answer.text and "<b>x</b>" not in answer.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert "&lt;b&gt;x&lt;/b&gt;" in answer.text


def test_web_refuses_a_body_over_the_cap(refusing):
    answer = refusing.client.post("/check", content=b"url=" + b"x" * (MAX_BODY_BYTES + 10),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413
    assert f"the limit is {MAX_BODY_BYTES:,}" in answer.text


def test_web_refuses_pasted_text_over_its_cap_and_text_with_a_url(refusing):
    long = refusing.post(text="word " * (MAX_TEXT_CHARS // 5 + 10))
    assert long.status_code == 413 and f"the limit is {MAX_TEXT_CHARS:,}" in long.text
    both = refusing.post("https://example.org/story", text="A story.")
    assert both.status_code == 400 and "not both" in both.text


def test_web_refuses_other_form_encodings(refusing):
    answer = refusing.client.post("/check", content=b'{"url": "https://example.org/"}',
                                  headers={"Content-Type": "application/json"})
    assert answer.status_code == 415


# -- cross-site posts and foreign hosts ----------------------------------------------------------


def test_web_refuses_a_post_without_the_form_token(refusing):
    answer = refusing.client.post("/check", data={"url": "https://example.org/story"},
                                  headers={"Origin": "http://testserver"})
    assert answer.status_code == 403 and "reload the form" in answer.text
    assert 'name="csrf" value="' in answer.text


def test_web_refuses_a_token_from_another_browser(settings):
    with app_client(settings, check_fn=_never_called) as one, \
            app_client(settings, check_fn=_never_called) as other:
        token = one.token()
        other.token()  # the other browser has its own cookie
        answer = other.client.post("/check", data={"url": "https://example.org/s", "csrf": token},
                                   headers={"Origin": "http://testserver"})
    assert answer.status_code == 403


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://testserver:1"])
def test_web_refuses_a_cross_origin_post(refusing, origin):
    answer = refusing.post("https://example.org/story", headers={"Origin": origin})
    assert answer.status_code == 403 and "another site" in answer.text


def test_web_refuses_a_referer_from_another_site(refusing):
    token = refusing.token()
    answer = refusing.client.post("/check", data={"url": "https://example.org/s", "csrf": token},
                                  headers={"Referer": "https://evil.example/page"})
    assert answer.status_code == 403


def test_web_refuses_a_foreign_host_header(settings):
    app = create_app(settings, check_fn=_never_called, server_names=["testserver", "news:80"])
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/").status_code == 200
        foreign = client.get("/", headers={"Host": "attacker.example"})
        assert foreign.status_code == 400 and "attacker.example" in foreign.text
        assert foreign.headers["x-frame-options"] == "DENY"
        assert client.get("/history", headers={"Host": "attacker.example"}).status_code == 400


def test_web_allow_list_parses_hosts_and_networks():
    allow = AllowList.parse(["CMS.Intranet.", "10.20.0.0/16", "192.168.1.7", "[fd00::1]", " "])
    assert allow.names("cms.intranet") and not allow.names("other.intranet")
    assert allow.covers("10.20.3.4") and allow.covers("::ffff:10.20.3.4")
    assert allow.covers("192.168.1.7") and not allow.covers("192.168.1.8")
    assert allow.covers("fd00::1") and not allow.covers("10.21.0.1")
    assert not AllowList.parse([])
    with pytest.raises(ConfigError, match="web.allow_hosts"):
        AllowList.parse(["cms.intranet:8080"])


# -- errors written for editors -------------------------------------------------------------------


def _failing(exc):
    def check_fn(request, ctx):
        ctx.on_stage("fetch")
        raise exc
    return check_fn


@pytest.mark.parametrize(("exc", "status", "heading", "asks_paper"), [
    (CitationNotFound("the story links to no DOI, PubMed or PMC record; pass the paper with "
                      "--paper DOI|PMID"), 400, "does not say which paper", True),
    (PaperNotFound("no paper matches <i>the reference</i> well enough"), 400,
     "paper was not found", True),
    (UpstreamError("PubMed failed (HTTP 503) after 3 attempts", service="pubmed"), 502,
     "literature service failed", False),
    (CheckBudgetExceeded("the check ran out of time while asking the literature services for "
                         "the paper: it took longer than its 90 s budget (setting check.budget); "
                         "try again later, or pass the paper with --paper", step="sources",
                         budget=90.0), 502, "took too long", True),
])
def test_web_a_failed_check_says_what_to_try_and_never_gives_a_flag(settings, exc, status,
                                                                     heading, asks_paper):
    with app_client(settings, check_fn=_failing(exc), allow_hosts=["127.0.0.1"]) as editor:
        job = editor.submit("http://127.0.0.1:9/story", paper="")
        state = editor.wait(job)
        page = editor.client.get(job)
    assert state["state"] == "failed" and state["error"]["status"] == status
    assert page.status_code == status and heading in page.text
    assert "What to try" in page.text and 'role="alert"' in page.text
    assert "--paper" not in page.text and "setting check.budget" not in page.text
    assert "<i>" not in page.text
    assert ("Give the paper and check again" in page.text) == asks_paper
    assert 'value="http://127.0.0.1:9/story"' in page.text  # the retry form is filled in
    assert re.search(r'name="paper"[^>]*autofocus', page.text) or not asks_paper
    assert state["check"] is not None  # the failure is in the history too


def test_web_an_unexpected_error_is_500_without_details(settings):
    with app_client(settings, check_fn=_failing(RuntimeError("secret internals")),
                    allow_hosts=["127.0.0.1"]) as editor:
        job = editor.submit("http://127.0.0.1:9/story")
        assert editor.wait(job)["error"]["status"] == 500
        page = editor.client.get(job)
    assert page.status_code == 500 and "secret internals" not in page.text
    assert "server&#39;s log" in page.text


def test_web_passes_the_paper_field(settings):
    seen: list[tuple[str | None, str | None]] = []

    def check_fn(request, ctx):
        seen.append((request.url, request.paper))
        raise PaperNotFound("no paper matches")

    with app_client(settings, check_fn=check_fn, allow_hosts=["127.0.0.0/8"]) as editor:
        editor.wait(editor.submit(" http://127.0.0.1:9/story ", paper=" 10.1000/none "))
        editor.wait(editor.submit("http://127.0.0.1:9/story", paper=""))
    assert seen == [("http://127.0.0.1:9/story", "10.1000/none"), ("http://127.0.0.1:9/story", None)]


# -- the pool: many at once, a fair queue, never "busy" while it can take work -----------------------


def test_web_runs_checks_at_once_and_queues_the_rest_in_order(settings):
    started: list[str] = []
    release = threading.Event()
    lock = threading.Lock()

    def check_fn(request, ctx):
        with lock:
            started.append(request.url)
        ctx.on_stage("fetch")
        assert release.wait(30)
        raise PaperNotFound("done")

    with app_client(settings, check_fn=check_fn, workers=2, allow_hosts=["127.0.0.1"]) as editor:
        jobs = [editor.submit(f"http://127.0.0.1:9/{n}") for n in range(5)]
        deadline = time.monotonic() + 10
        while len(started) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        assert len(started) == 2  # two checkers busy, nobody turned away
        states = [editor.client.get(f"{j}.json").json() for j in jobs]
        assert [s["state"] for s in states] == ["running"] * 2 + ["queued"] * 3
        assert [s["position"] for s in states] == [0, 0, 1, 2, 3]
        waiting = editor.client.get(jobs[3]).text
        assert "number 2 in the queue" in waiting and "2 of 2 checkers are busy" in waiting
        assert '<meta http-equiv="refresh" content="2">' in waiting
        assert editor.client.get("/status").json()["queued"] == 3
        release.set()
        assert all(editor.wait(j)["state"] == "failed" for j in jobs)
    assert started == [f"http://127.0.0.1:9/{n}" for n in range(5)]  # first come, first served


def test_web_a_full_queue_is_503_with_retry_after(settings):
    release = threading.Event()

    def check_fn(request, ctx):
        assert release.wait(30)
        raise PaperNotFound("done")

    with app_client(settings, check_fn=check_fn, workers=1, max_queue=1,
                    allow_hosts=["127.0.0.1"]) as editor:
        try:
            first = editor.submit("http://127.0.0.1:9/a")
            deadline = time.monotonic() + 10
            while editor.client.get(f"{first}.json").json()["state"] != "running":
                assert time.monotonic() < deadline
                time.sleep(0.02)
            editor.submit("http://127.0.0.1:9/b")  # waits: the queue holds one
            full = editor.post("http://127.0.0.1:9/c")
            assert full.status_code == 503 and full.headers["retry-after"] == "30"
            assert "Busy, try again" in full.text and 'value="http://127.0.0.1:9/c"' in full.text
        finally:
            release.set()


# -- real checks: the pipeline on corpus stories, papers from the stand-in ---------------------------


@pytest.fixture
def real(stand_in, site, tmp_path):
    settings = stand_in.settings(tmp_path / "state", host_delay=0.0)
    with app_client(settings, allow_hosts=["127.0.0.1"], workers=2) as editor:
        yield editor, site, settings


def test_web_checks_a_story_and_keeps_the_report_at_its_address(real):
    editor, site, settings = real
    story = site.url("/news/coffee-mortality-causal")
    job = editor.submit(story)
    assert job.startswith("/jobs/")
    state = editor.wait(job)
    assert state["state"] == "done", state
    assert state["stages"][:3] == ["fetch", "article", "claims"] and "judge" in state["stages"]
    done = editor.client.get(job, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == state["report"]
    report = editor.client.get(state["report"])
    assert report.status_code == 200
    assert '<span class="kind">causal_language</span>' in report.text
    assert "Coffee helps you live longer" in report.text
    assert '<a href="/"' in report.text and f'href="{state["report"]}.json"' in report.text
    for raw in ("<script", "<iframe", "application/ld+json"):
        assert raw not in report.text
    data = editor.client.get(f"{state['report']}.json")
    assert data.headers["content-type"] == "application/json"
    assert "causal_language" in {f["kind"] for f in data.json()["findings"]}
    markdown = editor.client.get(f"{state['report']}.md")
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert "causal" in markdown.text.lower()
    hits = len(site.hits)
    for _ in range(3):  # reloading the result never runs the check again
        assert editor.client.get(state["report"]).status_code == 200
        assert editor.client.get(job).status_code == 200
    assert len(site.hits) == hits
    with Store.from_settings(settings) as store:
        row = store.get_check(state["check"])
    assert row.origin == "web" and row.paper_key == "doi:10.5555/fc.coffee-mortality-causal"


def test_web_checks_pasted_text_with_the_papers_doi(real):
    editor, _site, _settings = real
    text = ("Coffee helps you live longer, major study shows\n\n"
            "Drinking coffee makes you live longer, according to a major study of 400,000 "
            "older adults followed for 13 years. Coffee drinkers were less likely to die "
            "during the study than people who drank none, the researchers said.\n")
    state = editor.wait(editor.submit(text=text, paper="10.5555/fc.coffee-mortality-causal"))
    assert state["state"] == "done", state
    data = editor.client.get(f"{state['report']}.json").json()
    assert data["papers"][0]["doi"] == "10.5555/fc.coffee-mortality-causal"
    page = editor.client.get(state["report"]).text
    assert PASTED in page and "/tmp/" not in page


def test_web_a_page_that_cites_no_paper_offers_the_doi_form(real):
    editor, site, _settings = real
    job = editor.submit(site.url("/news/picnic"))
    state = editor.wait(job)
    assert state["state"] == "failed"
    page = editor.client.get(job).text
    assert state["error"]["kind"] == "CitationNotFound", state
    assert "does not say which paper it is about" in page
    assert "--paper" not in page and "What to try" in page and "Give the paper and" in page
    assert 'name="paper"' in page and site.url("/news/picnic") in page


def test_web_allowed_host_redirecting_elsewhere_inside_is_refused(stand_in, site, tmp_path):
    settings = stand_in.settings(tmp_path / "state")
    site.redirects["/news/moved"] = "http://127.0.0.2:9/metadata"
    with app_client(settings, allow_hosts=["127.0.0.1"]) as editor:
        job = editor.submit(site.url("/news/moved"))
        state = editor.wait(job)
        page = editor.client.get(job).text
    assert state["state"] == "failed", state
    assert "127.0.0.2 is a loopback address" in page and "internal network" in page


def test_web_allows_a_host_by_name(stand_in, tmp_path):
    settings = stand_in.settings(tmp_path / "state", host_delay=0.0)
    with story_site() as site, app_client(settings, allow_hosts=["localhost"]) as editor:
        story = site.url("/news/dapagliflozin-ckd-faithful").replace("127.0.0.1", "localhost")
        state = editor.wait(editor.submit(story))
        refused = editor.post(site.url("/news/coffee-mortality-causal"))  # 127.0.0.1: not named
    assert state["state"] == "done", state
    assert refused.status_code == 400 and "loopback" in refused.text


# -- history ----------------------------------------------------------------------------------------


def test_web_history_lists_web_cli_and_feed_checks_and_searches(settings):
    from test_report import make_report
    from test_store import _clean

    with Store.from_settings(settings) as store:
        story = store.upsert_story("g", "https://n.example/a", None, "t", "h")
        feed = store.record_check(_clean("Green tea and memory", "Daily Planet", "10.1/tea"),
                                  story_id=story.id)
        cli = store.record_check(make_report())
        web = store.record_check(_clean("Coffee <b>and</b> you", "Morning Post", "10.2/cof"),
                                 origin="web")
    with app_client(settings, check_fn=_never_called) as editor:
        page = editor.client.get("/history").text
        for check_id, by in ((feed, "nightly feed"), (cli, "command line"), (web, "web form")):
            assert f'href="/checks/{check_id}"' in page and by in page
        assert "Coffee &lt;b&gt;and&lt;/b&gt; you" in page
        assert page.index(f"/checks/{web}") < page.index(f"/checks/{feed}")  # newest first

        def found(**params):
            text = editor.client.get("/history", params=params).text
            return [int(n) for n in re.findall(r'href="/checks/(\d+)"', text)]

        assert found(q="tea") == [feed]
        assert found(q="10.2/cof") == [web]
        assert found(site="morning") == [web]
        assert found(verdict="needs_correction") == [cli]
        assert found(verdict="clean", origin="feed") == [feed]
        assert found(origin="nonsense") == [web, cli, feed]  # an unknown filter is ignored
        assert "No check matches" in editor.client.get("/history", params={"q": "zzz"}).text
        report = editor.client.get(f"/checks/{cli}")
        assert report.status_code == 200 and f"check #{cli}, command line" in report.text
