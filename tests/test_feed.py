"""The nightly job end to end: a local news site with RSS and Atom feeds, the literature stand-in,
a real SMTP server; dedup, re-checks, broken feeds, a run killed midway, --dry-run."""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from fakes import ServiceStandIn
from smtp_stand_in import SmtpStandIn

from factcheck.cli_extra import feed as feed_command
from factcheck.cli_extra import history as history_command
from factcheck.config import load_settings
from factcheck.feed import FeedItem, is_about_study, run_feeds
from factcheck.pipeline import check as pipeline_check
from factcheck.resolve import paper_from_file
from factcheck.rules import load_rules
from factcheck.store import Store

CASES = Path(__file__).resolve().parent.parent / "corpora" / "cases"
STORIES = {  # slug -> the feed item's title and summary (the corpus headlines, our summaries)
    "coffee-mortality-causal": ("Coffee helps you live longer, major study shows",
                                "A study of 400,000 people followed for 13 years."),
    "statin-crp-number-mismatch": ("Statin slashes heart attacks in people with normal cholesterol",
                                   "Researchers report the results of a large trial."),
    "rsv-vaccine-faithful": ("RSV jab protected over-60s through their first winter, trial finds",
                             "The vaccine trial enrolled adults aged 60 and over."),
    "resveratrol-mice-population": ("Red wine compound lets people eat fatty food and live longer",
                                    "Scientists published the findings in a journal."),
}
PICNIC = ("Ten tips for a summer picnic", "Pack a blanket and plenty of water.")


class _Killed(BaseException):
    """Stands for SIGKILL: nothing in the job may catch it."""


@dataclass
class Site:
    base: str
    pages: dict[str, bytes] = field(default_factory=dict)
    feeds: dict[str, bytes] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def rss(site: Site, items: list[tuple[str, str, str, str]]) -> bytes:
    """items: (guid, path, title, summary)"""
    body = "".join(
        f"<item><guid isPermaLink='false'>{escape(g)}</guid><link>{escape(site.url(p))}</link>"
        f"<title>{escape(t)}</title><description>{escape(s)}</description>"
        f"<pubDate>Tue, 25 Nov 2025 06:00:00 GMT</pubDate></item>" for g, p, t, s in items)
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Health</title><link>{site.base}</link><description>news</description>"
            f"{body}</channel></rss>").encode()


def atom(site: Site, items: list[tuple[str, str, str, str]]) -> bytes:
    body = "".join(
        f"<entry><id>{escape(g)}</id><link rel='alternate' href='{escape(p)}'/>"
        f"<title>{escape(t)}</title><summary>{escape(s)}</summary>"
        f"<updated>2025-11-25T06:00:00Z</updated></entry>" for g, p, t, s in items)
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Health</title><id>urn:site</id><updated>2025-11-25T06:00:00Z</updated>"
            f"<link href='{site.base}/'/>{body}</feed>").encode()


@pytest.fixture(scope="module")
def stand_in():
    papers = [paper_from_file(CASES / slug / "pubmed.xml") for slug in STORIES]
    with ServiceStandIn(papers=[(p, p.pmid) for p in papers]) as server:
        yield server


@contextlib.contextmanager
def serve_site() -> Iterator[Site]:
    """The news site on a free loopback port: the corpus stories under /news/, feeds under
    /feeds/ (set `site.feeds[path]`), every request path kept in `site.hits`."""
    state = Site(base="")
    for slug in STORIES:
        state.pages[f"/news/{slug}"] = (CASES / slug / "story.html").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state.hits.append(self.path)
            body = state.pages.get(self.path) or state.feeds.get(self.path)
            if body is None:
                self.send_error(404)
                return
            ctype = "application/rss+xml" if self.path.startswith("/feeds/") else "text/html"
            self.send_response(200)
            self.send_header("Content-Type", f"{ctype}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    state.feeds["/feeds/broken.xml"] = b"<html><body>Service Unavailable</body>"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site():
    with serve_site() as state:
        yield state


@pytest.fixture
def smtp():
    with SmtpStandIn() as server:
        yield server


def _settings(stand_in, tmp_path, smtp=None, **changes):
    env = {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "state"),
           **(smtp.env if smtp else {})}
    base = load_settings(env=env)
    knobs = stand_in.settings(tmp_path / "state")
    return knobs.with_(smtp=base.smtp, host_delay=0.0, **changes)


def _items(slugs):
    return [(f"guid-{s}", f"/news/{s}", *STORIES[s]) for s in slugs]


def _standard_feeds(site):
    slugs = list(STORIES)
    site.feeds["/feeds/rss.xml"] = rss(site, _items(slugs[:2]) + [("guid-picnic", "/news/picnic",
                                                                   *PICNIC)])
    # Atom: relative links; one item repeats an RSS story under another GUID (same URL)
    site.feeds["/feeds/atom.xml"] = atom(site, [(f"urn:{s}", f"/news/{s}", *STORIES[s])
                                                for s in slugs[1:]])
    return [site.url("/feeds/rss.xml"), site.url("/feeds/atom.xml")]


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def test_feed_prefilter_uses_study_cues(rules):
    cues = rules.lexicon("study_cues")

    def item(title, summary=""):
        return FeedItem("f", "http://x", None, title, summary, None, "h")

    assert is_about_study(item("Coffee helps you live longer, major study shows"), cues)
    assert is_about_study(item("Pill works", "Published in the BMJ today."), cues)
    assert is_about_study(item("Pill works", "https://doi.org/10.1000/xyz"), cues)
    assert not is_about_study(item(*PICNIC), cues)
    assert not is_about_study(item("Students return to campus"), cues)  # not "studies"


def test_feed_rss_and_atom_each_story_checked_once(stand_in, site, tmp_path, rules):
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path)
    first = run_feeds(feeds, settings, rules=rules, quiet=True)
    assert first.feed_errors == []
    assert (first.items, first.checked, first.failed, first.not_study, first.seen) == (6, 4, 0, 1, 1)
    assert first.flagged >= 1 and first.exit_status == 0
    requests_before = len(stand_in.requests)
    story_hits = len([h for h in site.hits if h.startswith("/news/")])
    second = run_feeds(feeds, settings, rules=rules, quiet=True)
    assert (second.checked, second.seen, second.not_study) == (0, 6, 0)
    assert len(stand_in.requests) == requests_before  # no paper looked up again
    assert len([h for h in site.hits if h.startswith("/news/")]) == story_hits  # nor story
    with Store.from_settings(settings) as store:
        rows = store.list_checks(limit=None)
    assert len(rows) == 4 and all(r.paper_key for r in rows)
    assert "/news/picnic" not in site.hits


def test_feed_cap_leaves_the_rest_for_the_next_run(stand_in, site, tmp_path, rules):
    """fetch.max_new_stories: a run checks at most that many new stories; the others stay new and
    the next run checks them, so nothing is skipped and no run goes on for hours."""
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path, max_new_stories=2)
    first = run_feeds(feeds, settings, rules=rules, quiet=True)
    assert (first.checked, first.deferred) == (2, 2)
    assert "2 left for the next run" in first.summary()
    second = run_feeds(feeds, settings, rules=rules, quiet=True)
    assert (second.checked, second.deferred) == (2, 0)
    third = run_feeds(feeds, settings, rules=rules, quiet=True)
    assert (third.checked, third.deferred) == (0, 0)
    with Store.from_settings(settings) as store:
        assert len(store.list_checks(limit=None)) == 4  # every story checked once, over two runs


def test_feed_changed_story_is_rechecked_and_syndicated_copy_is_not(stand_in, site, tmp_path,
                                                                     rules):
    settings = _settings(stand_in, tmp_path)
    slug = "coffee-mortality-causal"
    title, summary = STORIES[slug]
    site.feeds["/feeds/rss.xml"] = rss(site, [(f"guid-{slug}", f"/news/{slug}", title, summary)])
    feed_url = [site.url("/feeds/rss.xml")]
    assert run_feeds(feed_url, settings, rules=rules, quiet=True).checked == 1
    # the same words under a new GUID and URL (a syndicated copy): not checked again
    site.pages["/news/copy"] = site.pages[f"/news/{slug}"]
    site.feeds["/feeds/rss.xml"] = rss(site, [("guid-copy", "/news/copy", title, summary)])
    assert run_feeds(feed_url, settings, rules=rules, quiet=True).checked == 0
    # the desk's story is corrected: new headline, same GUID -> checked again
    site.feeds["/feeds/rss.xml"] = rss(site, [(f"guid-{slug}", f"/news/{slug}",
                                               "Coffee drinkers live longer, study finds", summary)])
    again = run_feeds(feed_url, settings, rules=rules, quiet=True)
    assert again.checked == 1
    with Store.from_settings(settings) as store:
        assert [r.source for r in store.list_checks()] == [site.url(f"/news/{slug}")] * 2


def test_feed_story_in_two_feeds_with_different_summaries_is_checked_once(stand_in, site,
                                                                           tmp_path, rules):
    settings = _settings(stand_in, tmp_path)
    slug = "coffee-mortality-causal"
    title, summary = STORIES[slug]
    site.feeds["/feeds/a.xml"] = rss(site, [(f"guid-{slug}", f"/news/{slug}", title, summary)])
    site.feeds["/feeds/b.xml"] = rss(site, [(f"guid-{slug}", f"/news/{slug}", title,
                                             "The same study, summarised by another desk.")])
    feeds = [site.url("/feeds/a.xml"), site.url("/feeds/b.xml")]
    assert run_feeds(feeds, settings, rules=rules, quiet=True).checked == 1
    for _ in range(2):  # night after night: neither feed's version is new
        assert run_feeds(feeds, settings, rules=rules, quiet=True).checked == 0
    with Store.from_settings(settings) as store:
        assert len(store.list_checks()) == 1


def test_feed_broken_feed_is_reported_and_the_run_goes_on(stand_in, site, tmp_path, rules):
    settings = _settings(stand_in, tmp_path)
    feeds = _standard_feeds(site)
    run = run_feeds([site.url("/feeds/broken.xml"), site.url("/feeds/missing.xml"), *feeds],
                    settings, rules=rules, quiet=True)
    assert run.checked == 4 and run.exit_status == 0
    errors = dict(run.feed_errors)
    assert "not valid RSS or Atom" in errors[site.url("/feeds/broken.xml")] or \
        "not an RSS or Atom feed" in errors[site.url("/feeds/broken.xml")]
    assert "HTTP 404" in errors[site.url("/feeds/missing.xml")]
    assert "feed: 2/4 feeds read" in run.summary()


def test_feed_cli_every_feed_failed_exits_3(stand_in, site, tmp_path, monkeypatch):
    for key, value in {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "state")}.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(feed_command, [site.url("/feeds/broken.xml"),
                                               site.url("/feeds/missing.xml"), "-q"])
    assert result.exit_code == 3, result.output
    assert "feed failed" in result.stderr and "HTTP 404" in result.stderr
    assert result.stdout.startswith("feed: 0/2 feeds read")
    # bad input is exit 2 with one line, no traceback
    bad = CliRunner().invoke(feed_command, [site.url("/feeds/rss.xml"), "--email", "nobody"])
    assert bad.exit_code == 2 and "not an email address" in bad.stderr


def test_feed_killed_midway_loses_nothing_and_sends_nothing_twice(stand_in, site, tmp_path,
                                                                  rules, smtp):
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path, smtp, per_story_emails=True)  # story emails too
    calls = []

    def dies_after_two(url, ctx):
        if len(calls) == 2:
            raise _Killed()
        calls.append(url)
        return pipeline_check(url, ctx)

    with pytest.raises(_Killed):
        run_feeds(feeds, settings, rules=rules, quiet=True, workers=1, check_fn=dies_after_two,
                  email_to=["desk@news.example"])
    with Store.from_settings(settings) as store:
        assert len(store.list_checks(limit=None)) == 2  # the two finished stories are kept
        queued = store.emails()
    assert smtp.messages == []  # killed before delivery
    assert all(e.state == "pending" for e in queued)

    # restart: the two other stories are checked; queued and new emails go out once each
    run = run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"])
    assert run.checked == 2 and run.seen == 4 - 2 + 1 + 1  # 2 stored, picnic, the repeat
    with Store.from_settings(settings) as store:
        flagged = [r for r in store.list_checks(limit=None) if r.flagged]
        assert len(store.list_checks(limit=None)) == 4
    assert len(smtp.messages) == len(flagged) + 1  # one per flagged story, one digest
    ids = smtp.message_ids()
    assert len(set(ids)) == len(ids)
    digest = [m for m in smtp.messages if "Digest" in str(m["Subject"])]
    assert len(digest) == 1
    text = digest[0].get_body(("plain",)).get_content()
    assert text.count("/news/") == 4  # the killed run's stories are in the digest too
    assert run.delivery is not None and len(run.delivery.sent) == len(smtp.messages)

    # a third run has nothing new and sends nothing
    third = run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"])
    assert third.checked == 0 and len(smtp.messages) == len(ids)


def test_feed_killed_while_sending_resends_with_the_same_message_id(stand_in, site, tmp_path,
                                                                    rules, smtp):
    """Issue 12: an email whose delivery a kill left uncertain is sent again on the next run with
    the same Message-ID (the mail client drops the copy), and the summary says so. Before, it
    was marked uncertain and never sent, and the run still exited 0."""
    from factcheck.notify import SmtpSender
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path, smtp, per_story_emails=True)  # story emails too

    class DiesAfterFirstSend(SmtpSender):
        def send(self, msg, name):
            super().send(msg, name)
            raise _Killed()  # killed after the server took it, before it was marked sent

    with pytest.raises(_Killed):
        run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"],
                  sender=DiesAfterFirstSend(settings.smtp, backoff=0.01))
    assert len(smtp.messages) == 1
    first_id = smtp.message_ids()[0]
    run = run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"])
    ids = smtp.message_ids()
    assert ids.count(first_id) == 2  # resent once, under the same Message-ID
    assert len(set(ids)) == len(ids) - 1  # and nothing else twice
    assert run.delivery is not None and len(run.delivery.resent) == 1
    assert "1 email resent after an interrupted run" in run.summary()
    assert run.exit_status == 0
    with Store.from_settings(settings) as store:
        assert store.emails(["uncertain", "failed", "pending", "sending"]) == []
    # the resent copy is the same email, rebuilt from the store
    first, again = [m for m in smtp.messages if str(m["Message-ID"]) == first_id]
    assert str(first["Subject"]) == str(again["Subject"])
    assert first.get_body(("plain",)).get_content() == again.get_body(("plain",)).get_content()


def test_feed_dry_run_writes_eml_files(stand_in, site, tmp_path, monkeypatch):
    feeds = _standard_feeds(site)
    for key, value in {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "state")}.items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "fast.toml"
    config.write_text("[fetch]\nhost_delay = 0.0\n[mail]\nper_story = true\n", "utf-8")
    out = tmp_path / "reports"
    result = CliRunner().invoke(feed_command, [*feeds, "--email", "desk@news.example",
                                               "--dry-run", "--outbox", str(out), "-q",
                                               "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "emails written" in result.stdout
    files = sorted(out.glob("*.eml"))
    assert any(f.name.startswith("digest-") for f in files)
    assert any(f.name.startswith("story-") for f in files)
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert msg.get_content_type() == "multipart/mixed"
        alternative = next(msg.iter_parts())
        assert alternative.get_content_type() == "multipart/alternative"
        assert next(p.get_filename() for p in msg.iter_attachments()).endswith(".json")
        assert str(msg["To"]) == "desk@news.example"

    listing = CliRunner().invoke(history_command, [])
    assert listing.exit_code == 0 and len(listing.stdout.strip().splitlines()) == 5
    first_id = listing.stdout.splitlines()[1].split()[0]
    shown = CliRunner().invoke(history_command, ["show", first_id, "--format", "md"])
    assert shown.exit_code == 0 and shown.stdout.startswith("# factcheck:")


def test_feed_workers_stay_inside_the_rate_limit(stand_in, site, tmp_path, rules):
    stand_in.rate_limits = {"pubmed": 4}
    try:
        settings = _settings(stand_in, tmp_path, service_rates={
            "pubmed": 4.0, "europepmc": 100.0, "crossref": 100.0, "openalex": 100.0})
        site.feeds["/feeds/rss.xml"] = rss(site, _items(list(STORIES)))
        start = len(stand_in.requests)
        run = run_feeds([site.url("/feeds/rss.xml")], settings, rules=rules, quiet=True,
                        workers=4)
        assert run.checked == 4 and run.failed == 0
        statuses = [r.status for r in stand_in.requests[start:] if r.service == "pubmed"]
        assert statuses and 429 not in statuses
    finally:
        stand_in.rate_limits = {}


NOT_A_STUDY_PAGE = ("<html><head><title>Ten tips for a summer picnic</title></head><body><article>"
                    "<h1>Ten tips for a summer picnic</h1>" + "".join(
                        f"<p>Tip {n}: pack a blanket, plenty of water, a hat and some fruit; "
                        f"pick a shady spot near the river and take your rubbish home.</p>"
                        for n in range(1, 11)) + "</article></body></html>").encode()


def test_feed_bare_headline_is_decided_from_the_page(stand_in, site, tmp_path, rules, smtp):
    """Issue 12: an item with only a title and link ("Low-dose naltrexone and fibromyalgia") was
    counted 'not about a study' and never checked; now the page decides, and what is skipped is
    listed in the summary and under "Not checked" in the digest."""
    site.pages["/news/naltrexone"] = site.pages["/news/rsv-vaccine-faithful"]
    site.pages["/news/picnic-tips"] = NOT_A_STUDY_PAGE
    site.feeds["/feeds/rss.xml"] = rss(site, [
        ("guid-ldn", "/news/naltrexone", "Low-dose naltrexone and fibromyalgia", ""),
        ("guid-picnic-tips", "/news/picnic-tips", "Ten tips for a summer picnic", ""),
        ("guid-picnic", "/news/picnic", *PICNIC)])  # says enough: skipped without a fetch
    settings = _settings(stand_in, tmp_path, smtp)
    run = run_feeds([site.url("/feeds/rss.xml")], settings, rules=rules, quiet=True,
                    email_to=["desk@news.example"])
    assert (run.checked, run.not_study) == (1, 2)
    assert "/news/picnic" not in site.hits and "/news/picnic-tips" in site.hits
    assert sorted(run.skipped) == [
        ("Ten tips for a summer picnic", "no study cue in the feed item or the page"),
        ("Ten tips for a summer picnic", "no study cue in the feed's title or summary")]
    with Store.from_settings(settings) as store:
        [row] = store.list_checks()
        assert row.source == site.url("/news/naltrexone") and row.paper_key
    [digest] = [m for m in smtp.messages if "Digest" in str(m["Subject"])]
    assert "2 not checked" in str(digest["Subject"])
    text = digest.get_body(("plain",)).get_content()
    section = text[text.index("Not checked (2)"):]
    assert section.count("Ten tips for a summer picnic") == 2
    assert "(no study cue in the feed item or the page)" in section
    html = digest.get_body(("html",)).get_content()
    assert "Not checked (2)" in html and site.url("/news/picnic-tips") in html
    # the next night nothing is fetched again for the skipped stories
    hits = len(site.hits)
    again = run_feeds([site.url("/feeds/rss.xml")], settings, rules=rules, quiet=True)
    assert (again.seen, again.not_study, again.skipped) == (3, 0, [])
    assert [h for h in site.hits[hits:] if h.startswith("/news/")] == []


def test_feed_summary_lists_skipped_titles_on_stderr(stand_in, site, tmp_path, monkeypatch):
    for key, value in {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "state")}.items():
        monkeypatch.setenv(key, value)
    site.feeds["/feeds/rss.xml"] = rss(site, [("guid-picnic", "/news/picnic", *PICNIC)])
    result = CliRunner().invoke(feed_command, [site.url("/feeds/rss.xml"), "-q"])
    assert result.exit_code == 0, result.output
    assert ("not checked: Ten tips for a summer picnic (no study cue in the feed's title or "
            "summary)") in result.stderr


def test_feed_every_story_failed_exits_4(stand_in, site, tmp_path, monkeypatch):
    """Issue 12: a run whose every story failed exited 0."""
    for key, value in {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "state")}.items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "fast.toml"
    config.write_text("[fetch]\nhost_delay = 0.0\n", "utf-8")
    site.feeds["/feeds/rss.xml"] = rss(site, [(f"guid-{n}", f"/news/gone-{n}", *STORIES[s])
                                              for n, s in enumerate(STORIES)])
    result = CliRunner().invoke(feed_command, [site.url("/feeds/rss.xml"), "-q",
                                               "--config", str(config)])
    assert result.exit_code == 4, result.output
    assert "0 checked (0 flagged, 4 failed)" in result.stdout
    assert "work left undone (exit 4): every story failed to check" in result.stderr


def test_feed_email_not_delivered_exits_4(stand_in, site, tmp_path, rules, smtp):
    """Issue 12: emails that stayed unsent were exit 3 at best; now 4 (work left undone), and 0
    once the next run has delivered them."""
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path, smtp)
    smtp.reject(100)
    run = run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"])
    assert run.checked == 4 and run.delivery is not None and run.delivery.failed
    assert run.exit_status == 4 and "failed" in run.summary()
    smtp.reject(0)
    again = run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"])
    assert again.delivery is not None and len(again.delivery.sent) == len(run.delivery.failed)
    assert again.exit_status == 0


def test_feed_interrupted_email_without_email_option_exits_4(stand_in, site, tmp_path, rules,
                                                             smtp):
    from factcheck.notify import SmtpSender
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path, smtp)

    class DiesAfterFirstSend(SmtpSender):
        def send(self, msg, name):
            super().send(msg, name)
            raise _Killed()

    with pytest.raises(_Killed):
        run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"],
                  sender=DiesAfterFirstSend(settings.smtp, backoff=0.01))
    run = run_feeds(feeds, settings, rules=rules, quiet=True)  # no --email: nothing goes out
    assert run.exit_status == 4
    assert "1 email interrupted by a crash wait for a run with --email" in run.summary()


def test_feed_dry_run_without_email_says_so(stand_in, site, tmp_path, monkeypatch):
    """Issue 12: `feed --dry-run` without --email silently wrote nothing."""
    feeds = _standard_feeds(site)
    for key, value in {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "state")}.items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "fast.toml"
    config.write_text("[fetch]\nhost_delay = 0.0\n", "utf-8")
    out = tmp_path / "emails"
    result = CliRunner().invoke(feed_command, [*feeds, "--dry-run", "--outbox", str(out), "-q",
                                               "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "dry run without --email: no emails built, nothing written" in result.stdout
    assert "--email ADDR" in result.stdout and not out.exists()
    # with --email the summary says where the files went
    again = CliRunner().invoke(feed_command, [*feeds, "--dry-run", "--outbox", str(out), "-q",
                                              "--config", str(config), "--email",
                                              "desk@news.example"])
    assert again.exit_code == 0, again.output
    assert f"written to {out}" in again.stdout and list(out.glob("digest-*.eml"))


def test_feed_local_file_is_not_reported_as_broken(site, tmp_path, caplog):
    """Issue 12: a local feed file logged 'feed has errors: no Content-type specified'."""
    import requests

    from factcheck.feed import read_feed
    path = tmp_path / "health.xml"
    path.write_bytes(rss(site, _items(list(STORIES)[:2])))
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path / "state")})
    with caplog.at_level(logging.INFO, logger="factcheck.feed"), requests.Session() as session:
        items = read_feed(str(path), settings, session)
        items_uri = read_feed(path.as_uri(), settings, session)
    assert len(items) == len(items_uri) == 2
    assert "feed has errors" not in caplog.text and "Content-type" not in caplog.text
    # a truly broken local file is still reported
    path.write_bytes(rss(site, _items(list(STORIES)[:2])).replace(b"</channel>", b"<item>"))
    with caplog.at_level(logging.WARNING, logger="factcheck.feed"), requests.Session() as session:
        read_feed(str(path), settings, session)
    assert "feed has errors" in caplog.text


# -- the desk's mailbox (issue 13): one digest per run, findings inside, size capped -----------


def test_feed_sends_one_digest_with_every_flagged_storys_findings(stand_in, site, tmp_path,
                                                                   rules, smtp):
    import gzip
    import json
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path, smtp, web_public_url="https://checks.example/")
    run = run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"])
    assert run.checked == 4
    [digest] = smtp.messages  # one message for the run, not one per flagged story
    assert "Digest" in str(digest["Subject"])
    html = digest.get_body(("html",)).get_content()
    text = digest.get_body(("plain",)).get_content()
    with Store.from_settings(settings) as store:
        flagged = [r for r in store.list_checks(limit=None) if r.flagged]
        assert flagged
        for row in flagged:
            report = store.get_report(row.id)
            worst = min(report.findings, key=lambda f: {"high": 0, "medium": 1, "low": 2}[
                f.severity])
            # the story's words and the abstract's, side by side, and the link to the report
            story_quote = " ".join(worst.article_span.text.split())[:60]
            assert story_quote in text
            assert f'href="https://checks.example/checks/{row.id}"' in html
            if worst.abstract_span:
                assert " ".join(worst.abstract_span.text.split())[:60] in text
    assert "The story says" in html and "The abstract says" in html
    assert len(html.encode()) <= 200 * 1024
    # every report of the run travels in one attachment
    attachments = {p.get_filename(): p for p in digest.iter_attachments()}
    packed = next(p for name, p in attachments.items() if name.endswith(".jsonl.gz"))
    reports = [json.loads(line) for line in
               gzip.decompress(packed.get_content()).decode().splitlines()]
    assert len(reports) == 4 and all("findings" in r for r in reports)


def test_feed_per_story_emails_are_a_setting(stand_in, site, tmp_path, rules, smtp):
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path, smtp, per_story_emails=True)
    run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"])
    with Store.from_settings(settings) as store:
        flagged = [r for r in store.list_checks(limit=None) if r.flagged]
    assert len(smtp.messages) == len(flagged) + 1


def test_digest_stays_under_its_size_cap(stand_in, site, tmp_path, rules):
    from factcheck.digest import DigestOptions, build_digest_message
    feeds = _standard_feeds(site)
    settings = _settings(stand_in, tmp_path)
    run_feeds(feeds, settings, rules=rules, quiet=True, email_to=["desk@news.example"],
              dry_run=True, outbox=tmp_path / "out")
    with Store.from_settings(settings) as store:
        key = next(e.key for e in store.emails() if e.kind == "digest")
        whole = build_digest_message(store, key, mail_from="f@news.example", to=["d@news.example"],
                                     message_id="<a@b>")
        full_html = whole.get_body(("html",)).get_content()
        cap = len(full_html.encode()) - 2000  # too small for every finding
        small = build_digest_message(store, key, mail_from="f@news.example",
                                     to=["d@news.example"], message_id="<a@b>",
                                     options=DigestOptions(max_html_bytes=cap))
    html = small.get_body(("html",)).get_content()
    assert len(html.encode()) <= cap
    assert "more finding" in html and "did not fit" in html
    assert "more finding" not in full_html
