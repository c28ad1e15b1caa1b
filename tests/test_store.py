"""The history store: transactions, dedup keys, the outbox, and a crash in the middle."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from test_report import make_report

from factcheck.errors import InputError
from factcheck.store import Store, content_hash, is_flagged
from factcheck.types import Problem, Report


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "state") as s:
        yield s


def _failed(error: str) -> Report:
    return Report(version="0", source="https://news.example/x", article=None,
                  problems=(Problem(stage="fetch", error=error, message="site down"),))


def test_store_uses_wal_and_round_trips_a_report(store):
    mode = store._query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"
    report = make_report()
    check_id = store.record_check(report)
    again = store.get_report(check_id)
    assert again.findings == report.findings and again.papers == report.papers
    row = store.get_check(check_id)
    assert (row.high, row.medium, row.low, row.supported) == (1, 1, 0, 1)
    assert row.flagged and row.paper_key == "doi:10.5555/pill"
    assert store.paper("doi:10.5555/pill")["journal"] == "Journal of Examples"
    with pytest.raises(InputError, match="no stored check"):
        store.get_report(999)


def test_store_matches_stories_by_guid_url_and_hash(store):
    h = content_hash("Title", "Summary")
    a = store.upsert_story("guid-1", "https://n.example/a", "feed", "Title", h)
    assert store.upsert_story("guid-1", "https://n.example/moved", "feed", "Title", h).id == a.id
    assert store.upsert_story(None, "https://n.example/a", "feed", "Title", h).id == a.id
    # by hash only once the story has been checked (a syndicated copy of a checked story)
    store.record_check(make_report(), story_id=a.id)
    assert store.match_story("other", "https://elsewhere.example/a", h).id == a.id
    assert store.match_story("other", "https://elsewhere.example/b", content_hash("New")) is None
    assert content_hash(" Title ", "Summary\n") == h


def test_store_retryable_failure_leaves_story_unchecked(store):
    h = content_hash("t")
    s = store.upsert_story("g", "https://n.example/a", None, "t", h)
    store.record_check(_failed("UpstreamError"), story_id=s.id)
    again = store.story(s.id)
    assert again.state == "failed" and again.checked_hash is None and again.attempts == 1
    store.record_check(_failed("CitationNotFound"), story_id=s.id)
    assert store.story(s.id).checked_hash == h  # permanent: not retried


def test_store_story_whose_paper_is_not_found_yet_is_retried(store):
    # the search abstained: the paper may reach the indexes in a day or two, so the next run
    # tries again instead of calling the story seen
    s = store.upsert_story("g2", "https://n.example/b", None, "t", content_hash("t2"))
    store.record_check(_failed("NoConfidentMatch"), story_id=s.id)
    again = store.story(s.id)
    assert again.state == "failed" and again.checked_hash is None


def test_store_transaction_rolls_back_whole(store, monkeypatch):
    s = store.upsert_story("g", "https://n.example/a", None, "t", content_hash("t"))
    before = store.counts()
    bad = replace(make_report(), checked_at=object())  # not storable: fails inside the transaction
    with pytest.raises((sqlite3.Error, TypeError, ValueError)):
        store.record_check(bad, story_id=s.id, email_to=["d@news.example"])
    assert store.counts() == before
    assert store.story(s.id).state == "new"


def test_store_outbox_recovers_sending_as_uncertain_and_offers_it_again(store):
    """Issue 12: a row a killed run left `sending` is marked uncertain and offered for one more
    delivery with the same Message-ID (before, it was never sent again)."""
    check_id = store.record_check(make_report(), email_to=["d@news.example"], message_id="<m@x>")
    key = f"story-{check_id}"
    store.mark_email(key, "sending")
    # a new process after a crash
    uncertain = store.recover_interrupted()
    assert [e.key for e in uncertain] == [key]
    assert store.email(key).state == "uncertain"
    again = store.pending_emails()
    assert [(e.key, e.message_id, e.state) for e in again] == [(key, "<m@x>", "uncertain")]
    store.mark_email(key, "sending")
    store.mark_email(key, "sent")
    assert store.recover_interrupted() == [] and store.pending_emails() == []


def test_store_skipped_stories_go_into_the_next_digest(store):
    s1 = store.upsert_story("g1", "https://n.example/1", None, "Low-dose naltrexone", "h1")
    store.mark_skipped(s1.id, "no study cue in the page", "run1")
    assert store.story(s1.id).state == "skipped"
    # a digest that was never attempted folds its skips into the next one, like its checks
    assert store.prepare_digest("run1", ["d@news.example"], "<d1@x>") == "digest-run1"
    assert store.prepare_digest("run2", ["d@news.example"], "<d2@x>") == "digest-run2"
    skips = store.digest_skips("digest-run2")
    assert [(k.title, k.url, k.reason) for k in skips] == [
        ("Low-dose naltrexone", "https://n.example/1", "no study cue in the page")]
    store.mark_email("digest-run2", "sending")
    store.mark_email("digest-run2", "sent")
    assert store.prepare_digest("run3", ["d@news.example"], "<d3@x>") is None


def test_store_digest_folds_unsent_digests(store):
    s1 = store.upsert_story("g1", "https://n.example/1", None, "one", content_hash("1"))
    s2 = store.upsert_story("g2", "https://n.example/2", None, "two", content_hash("2"))
    store.record_check(make_report(), story_id=s1.id)
    assert store.prepare_digest("run1", ["d@news.example"], "<d1@x>") == "digest-run1"
    store.record_check(replace(make_report(), findings=()), story_id=s2.id)
    assert store.prepare_digest("run2", ["d@news.example"], "<d2@x>") == "digest-run2"
    assert store.email("digest-run1") is None  # never attempted: folded into run2's digest
    rows = store.digest_checks("digest-run2")
    assert next(r.title for r in rows) and rows[0].flagged and not rows[1].flagged
    store.mark_email("digest-run2", "sending")
    store.mark_email("digest-run2", "sent")
    assert store.prepare_digest("run3", ["d@news.example"], "<d3@x>") is None


def test_store_is_flagged_threshold():
    report = make_report()
    assert is_flagged(report, "high") and is_flagged(report, "medium")
    low_only = replace(report, findings=tuple(replace(f, severity="low") for f in report.findings))
    assert not is_flagged(low_only, "medium") and is_flagged(low_only, "low")


# -- origin, outlet, verdict and the history search ------------------------------------------------


def _clean(title: str, site: str | None, doi: str) -> Report:
    report = make_report()
    paper = replace(report.papers[0], doi=doi, title=f"Paper about {title}")
    return replace(report, article=replace(report.article, title=title, site=site),
                   papers=(paper,), findings=(), source=f"https://{(site or 'x').lower()}.example/a")


def test_store_records_origin_site_and_verdict(store):
    story = store.upsert_story("g", "https://n.example/a", None, "t", content_hash("t"))
    by_hand = store.record_check(make_report())
    feed = store.record_check(make_report(), story_id=story.id)
    web = store.record_check(_clean("Tea", None, "10.1/tea"), origin="web")
    failed = store.record_check(_failed("CitationNotFound"), origin="batch")
    rows = {r.id: r for r in store.list_checks()}
    assert (rows[by_hand].origin, rows[feed].origin) == ("cli", "feed")
    assert (rows[web].origin, rows[failed].origin) == ("web", "batch")
    assert rows[by_hand].site == "Example News" and rows[web].site == "x.example"
    assert rows[failed].site == "news.example"
    assert rows[by_hand].verdict == "needs_correction" and rows[web].verdict == "clean"
    assert rows[failed].verdict == "not_checked"


def test_store_search_checks_by_words_outlet_doi_verdict_and_origin(store):
    tea = store.record_check(_clean("Green tea and memory", "Daily Planet", "10.1/tea"),
                             origin="web")
    coffee = store.record_check(_clean("Coffee 50% longer life", "Morning Post", "10.2/cof_fee"))
    pill = store.record_check(make_report(), origin="web")

    def ids(**kw):
        return [r.id for r in store.search_checks(**kw)]

    assert ids() == [pill, coffee, tea]
    assert ids(text="TEA memory") == [tea]
    assert ids(text="10.2/cof_fee") == [coffee]  # a DOI, underscore and all
    assert ids(text="cof%fee") == []  # LIKE wildcards are literal characters
    assert ids(text="50%") == [coffee]
    assert ids(text="pmid:90000009") == [pill, coffee, tea]
    assert ids(site="planet") == [tea]
    assert ids(verdict="clean") == [coffee, tea]
    assert ids(verdict="needs_correction", origin="web") == [pill]
    assert ids(origin="cli") == [coffee]
    assert ids(limit=1, offset=1) == [coffee]


def test_store_upgrades_a_version_1_file(tmp_path):
    path = tmp_path / "old"
    with Store(path) as s:
        story = s.upsert_story("g", "https://n.example/a", None, "t", content_hash("t"))
        feed = s.record_check(make_report(), story_id=story.id)
        by_hand = s.record_check(_clean("Tea", "Daily Planet", "10.1/tea"))
    conn = sqlite3.connect(path / "history.sqlite3")
    with conn:
        for column in ("origin", "site", "verdict"):  # what a version-1 file looks like
            conn.execute(f"ALTER TABLE checks DROP COLUMN {column}")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.close()
    with Store(path) as s:
        assert s._query("SELECT value FROM meta WHERE key = 'schema'")[0][0] == "2"
        rows = {r.id: r for r in s.list_checks()}
        assert (rows[feed].origin, rows[feed].site, rows[feed].verdict) == (
            "feed", "Example News", "needs_correction")
        assert (rows[by_hand].origin, rows[by_hand].site, rows[by_hand].verdict) == (
            "cli", "Daily Planet", "clean")
        assert s.search_checks(site="planet")[0].id == by_hand
        new = s.record_check(make_report(), origin="web")
        assert s.get_check(new).origin == "web"
    with Store(path) as s:  # opening again changes nothing
        assert [r.origin for r in s.list_checks()] == ["web", "cli", "feed"]
