"""The history database's schema, its migrations and its row types (factcheck.store uses them).

Version 2 added each check's origin (web, cli, feed, batch), outlet and verdict; a version-1 file
is upgraded in place and backfilled from its stored reports.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from .serialize import report_from_data
from .types import Report

logger = logging.getLogger("factcheck.store")

HISTORY_FILENAME = "history.sqlite3"
SCHEMA_VERSION = 2
Origin = Literal["web", "cli", "feed", "batch"]
ORIGINS: tuple[Origin, ...] = ("web", "cli", "feed", "batch")
Verdict = Literal["not_checked", "needs_correction", "needs_review", "minor", "clean"]
VERDICTS: tuple[Verdict, ...] = ("needs_correction", "needs_review", "minor", "clean",
                                 "not_checked")
StoryState = Literal["new", "checked", "failed", "skipped"]
EmailState = Literal["pending", "sending", "sent", "uncertain", "failed"]
# Problems whose cause may pass (a site or service down): the story is tried again next run.
# Failures the next run retries (up to feed.MAX_STORY_ATTEMPTS runs): a site or service down, or a
# search that found no paper clearly enough yet (papers reach the indexes days after the news).
RETRYABLE_ERRORS = frozenset({"FetchError", "SiteUnavailable", "UpstreamError", "TooLargeError",
                              "NoConfidentMatch", "PageDeadline", "CheckBudgetExceeded",
                              "QueueUnavailable", "WorkerDied"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stories (
    id           INTEGER PRIMARY KEY,
    guid         TEXT,
    url          TEXT NOT NULL,
    feed         TEXT,
    title        TEXT,
    content_hash TEXT,
    checked_hash TEXT,
    state        TEXT NOT NULL DEFAULT 'new',
    attempts     INTEGER NOT NULL DEFAULT 0,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    last_check   INTEGER
);
CREATE INDEX IF NOT EXISTS stories_guid ON stories (guid);
CREATE INDEX IF NOT EXISTS stories_url ON stories (url);
CREATE INDEX IF NOT EXISTS stories_hash ON stories (checked_hash);
CREATE TABLE IF NOT EXISTS story_hashes (
    story_id INTEGER NOT NULL REFERENCES stories (id),
    hash     TEXT NOT NULL,
    PRIMARY KEY (story_id, hash)
);
CREATE TABLE IF NOT EXISTS checks (
    id          INTEGER PRIMARY KEY,
    story_id    INTEGER REFERENCES stories (id),
    source      TEXT NOT NULL,
    title       TEXT,
    checked_at  TEXT NOT NULL,
    run         TEXT,
    paper_key   TEXT,
    paper_title TEXT,
    high        INTEGER NOT NULL DEFAULT 0,
    medium      INTEGER NOT NULL DEFAULT 0,
    low         INTEGER NOT NULL DEFAULT 0,
    supported   INTEGER NOT NULL DEFAULT 0,
    problem     TEXT,
    flagged     INTEGER NOT NULL DEFAULT 0,
    digest      TEXT,
    report      TEXT NOT NULL,
    origin      TEXT,
    site        TEXT,
    verdict     TEXT
);
CREATE INDEX IF NOT EXISTS checks_digest ON checks (digest);
CREATE TABLE IF NOT EXISTS papers (
    key        TEXT PRIMARY KEY,
    doi        TEXT,
    pmid       TEXT,
    title      TEXT,
    journal    TEXT,
    year       INTEGER,
    source     TEXT,
    retracted  INTEGER NOT NULL DEFAULT 0,
    data       TEXT NOT NULL,
    updated    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS emails (
    key        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    check_id   INTEGER REFERENCES checks (id),
    run        TEXT,
    recipients TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    created    TEXT NOT NULL,
    updated    TEXT NOT NULL,
    error      TEXT
);
CREATE INDEX IF NOT EXISTS emails_state ON emails (state);
CREATE TABLE IF NOT EXISTS skips (
    id         INTEGER PRIMARY KEY,
    story_id   INTEGER REFERENCES stories (id),
    title      TEXT,
    url        TEXT NOT NULL,
    reason     TEXT NOT NULL,
    run        TEXT,
    skipped_at TEXT NOT NULL,
    digest     TEXT
);
CREATE INDEX IF NOT EXISTS skips_digest ON skips (digest);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def content_hash(*parts: str | None) -> str:
    """A stable hash of a story's words: NFC, whitespace collapsed, case kept."""
    text = "\x1f".join(" ".join(unicodedata.normalize("NFC", p or "").split()) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story the feed job has seen."""

    id: int
    guid: str | None
    url: str
    title: str | None
    content_hash: str | None
    checked_hash: str | None
    state: str
    attempts: int
    last_check: int | None


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One stored check, as `factcheck history` lists it."""

    id: int
    checked_at: str
    source: str
    title: str | None
    paper_key: str | None
    paper_title: str | None
    high: int
    medium: int
    low: int
    supported: int
    problem: str | None
    flagged: bool
    story_id: int | None = None
    origin: str | None = None
    site: str | None = None
    verdict: str | None = None


@dataclass(frozen=True, slots=True)
class SkipRow:
    """A story left unchecked because the pre-filter found it is not about a study."""

    id: int
    story_id: int | None
    title: str | None
    url: str
    reason: str
    skipped_at: str


@dataclass(frozen=True, slots=True)
class EmailRow:
    """One outbox entry."""

    key: str
    kind: str
    check_id: int | None
    run: str | None
    recipients: tuple[str, ...]
    message_id: str
    state: str
    attempts: int
    error: str | None


def site_of(report: Report) -> str | None:
    """The outlet of a report: the story's site name, else its web address's host."""
    if report.article is not None and report.article.site:
        return report.article.site
    host = urlsplit(report.source or "").hostname if "://" in (report.source or "") else None
    return host.removeprefix("www.") if host else None


def verdict_of(report: Report) -> Verdict:
    """The verdict's code (as report.verdict words it): worst severity, or not checked."""
    if report.problems and not report.papers:
        return "not_checked"
    counts = severity_counts(report)
    for severity, code in (("high", "needs_correction"), ("medium", "needs_review"),
                           ("low", "minor")):
        if counts[severity]:
            return code  # type: ignore[return-value]
    return "clean"


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a file written by an older factcheck up to SCHEMA_VERSION (inside a transaction)."""
    version = int(conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])
    if version >= SCHEMA_VERSION:
        return
    added = [name for name in ("origin", "site", "verdict")
             if name not in _columns(conn, "checks")]
    for name in added:
        conn.execute(f"ALTER TABLE checks ADD COLUMN {name} TEXT")
    logger.info("history: schema %s -> %s, checks gained %s", version, SCHEMA_VERSION,
                ", ".join(added) or "nothing")
    conn.execute("UPDATE checks SET origin = CASE WHEN story_id IS NULL THEN 'cli' ELSE 'feed' "
                 "END WHERE origin IS NULL")
    todo = conn.execute("SELECT id, report FROM checks WHERE site IS NULL OR verdict IS NULL"
                        ).fetchall()
    for row in todo:
        try:
            report = report_from_data(json.loads(row["report"]))
        except (ValueError, TypeError, KeyError) as exc:  # an unreadable old row stays listed
            logger.warning("history: check %s has an unreadable report: %s", row["id"], exc)
            continue
        conn.execute("UPDATE checks SET site = COALESCE(site, ?), verdict = COALESCE(verdict, ?) "
                     "WHERE id = ?", (site_of(report), verdict_of(report), row["id"]))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))


def _story(row: sqlite3.Row) -> StoryRow:
    return StoryRow(id=row["id"], guid=row["guid"], url=row["url"], title=row["title"],
                    content_hash=row["content_hash"], checked_hash=row["checked_hash"],
                    state=row["state"], attempts=row["attempts"], last_check=row["last_check"])


def _check(row: sqlite3.Row) -> CheckRow:
    return CheckRow(id=row["id"], checked_at=row["checked_at"], source=row["source"],
                    title=row["title"], paper_key=row["paper_key"], paper_title=row["paper_title"],
                    high=row["high"], medium=row["medium"], low=row["low"],
                    supported=row["supported"], problem=row["problem"],
                    flagged=bool(row["flagged"]), story_id=row["story_id"],
                    origin=row["origin"], site=row["site"], verdict=row["verdict"])


def _email(row: sqlite3.Row) -> EmailRow:
    return EmailRow(key=row["key"], kind=row["kind"], check_id=row["check_id"], run=row["run"],
                    recipients=tuple(json.loads(row["recipients"])), message_id=row["message_id"],
                    state=row["state"], attempts=row["attempts"], error=row["error"])


def severity_counts(report: Report) -> dict[str, int]:
    """Findings of `report` by severity."""
    out = {"high": 0, "medium": 0, "low": 0}
    for finding in report.findings:
        out[finding.severity] += 1
    return out
