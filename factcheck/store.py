"""SQLite history of checked stories, their papers and reports, and the email outbox.

One file, `history.sqlite3` under `settings.cache_dir`, in WAL mode with `synchronous=FULL`, so
`factcheck history` can read while the nightly job writes and a committed row survives a crash or
a power cut. Every change that belongs together is one transaction:

- `record_check` stores a story's report, its papers, its findings counts, the story's new state
  and (when the story is flagged) the outbox row for its email, all at once. A run killed before
  that commit loses only the story being checked, which is still "new" on the next run; a run
  killed after it has lost nothing, and the next run sends the pending email.
- Emails follow an outbox: `pending` -> `sending` (committed before the SMTP conversation) ->
  `sent`, or `failed` (tried again on the next runs, up to notify.MAX_EMAIL_ATTEMPTS). A row
  found in `sending` after a crash (or whose connection broke while the message was handed
  over) may or may not have reached the server: it is marked `uncertain` and sent once more on
  the next delivery, rebuilt from the store with the *same* Message-ID, so a mail client that
  already has it drops the copy. The desk may see a duplicate; it never misses an email.
  `factcheck history emails` lists every row and its state.
- A story the pre-filter finds not about a study is `skipped` and gets a `skips` row (title, URL,
  reason), which the next digest lists under "Not checked" so the desk sees what was left out.

Tables:

```
stories   one row per story seen in a feed: guid, url, content hash, state, attempts
checks    one row per check: the report JSON, counts by severity, paper, outbox digest id,
          origin (web | cli | feed | batch), outlet (site), verdict
papers    one row per paper (keyed by DOI, else PMID), its metadata as JSON
emails    the outbox: key, kind (story | digest), state, Message-ID, recipients, attempts
skips     one row per story skipped as not about a study: title, URL, reason, digest id
```

Story identity for the feed job (`Store.match_story`): a story is the same story when its GUID
matches, or its URL matches, or (a syndicated copy under a new URL) its content hash matches a
story already checked. The content hash is over the feed item's title, summary and content, so a
corrected story (new headline, new summary) gets a new hash and is checked again.

History search (`Store.search_checks`, the web app's /history): newest first, by outlet, words
of the title, story URL or paper (DOI, PMID, title), verdict and origin. The schema carries its
version in `meta`; opening a version-1 file adds the origin, site and verdict columns and fills
them from the stored reports (feed checks are those with a story, the rest were made by hand).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Self

from .config import Settings
from .errors import InputError
from .serialize import report_from_data, report_to_data
from .store_rows import (  # noqa: F401 - the row types and helpers are the store's API
    _SCHEMA,
    HISTORY_FILENAME,
    ORIGINS,
    RETRYABLE_ERRORS,
    SCHEMA_VERSION,
    VERDICTS,
    CheckRow,
    EmailRow,
    EmailState,
    Origin,
    SkipRow,
    StoryRow,
    StoryState,
    Verdict,
    _check,
    _email,
    _migrate,
    _now,
    _story,
    content_hash,
    severity_counts,
    site_of,
    verdict_of,
)
from .types import Report

logger = logging.getLogger(__name__)

def _paper_key(doi: str | None, pmid: str | None) -> str | None:
    if doi:
        return f"doi:{doi.lower()}"
    if pmid:
        return f"pmid:{pmid}"
    return None


_RANK = {"low": 1, "medium": 2, "high": 3}


def is_flagged(report: Report, flag_on: str = "medium") -> bool:
    """True when `report` has a finding at or above `flag_on`, or cites a retracted paper."""
    if any(p.retracted for p in report.papers):
        return True
    return any(_RANK[f.severity] >= _RANK[flag_on] for f in report.findings)


class Store:
    """The history database. One connection, guarded by a lock; open it once per process.

    Args:
        path: the folder for `history.sqlite3` (`settings.cache_dir`), or a `.sqlite3`/`.db` file.

    Example:
        >>> with Store.from_settings(settings) as store:
        ...     check_id = store.record_check(report)
        ...     store.list_checks(limit=20)
    """

    def __init__(self, path: Path | str):
        path = Path(path)
        self.path = path if path.suffix in {".sqlite3", ".db"} else path / HISTORY_FILENAME
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                         check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed story survives a power cut, not only a killed process
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            with self.transaction() as conn:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                             (str(SCHEMA_VERSION),))
                _migrate(conn)
        except (sqlite3.Error, OSError) as exc:
            raise InputError(f"cannot open the history database {self.path}: {exc}; check the "
                             f"folder is writable (FACTCHECK_CACHE) or move a damaged file "
                             f"aside") from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store under `settings.cache_dir`."""
        return cls(settings.cache_dir)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------------------

    class _Tx:
        def __init__(self, store: Store):
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._lock.acquire()
            try:
                # IMMEDIATE: take the write lock now, so two writers never deadlock half-way
                self.store._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._lock.release()
                raise
            return self.store._conn

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            try:
                if exc_type is None:
                    self.store._conn.execute("COMMIT")
                else:
                    self.store._conn.execute("ROLLBACK")
            finally:
                self.store._lock.release()

    def transaction(self) -> Store._Tx:
        """A context manager: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""
        return Store._Tx(self)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- stories ------------------------------------------------------------------------------

    def match_story(self, guid: str | None, url: str, chash: str | None) -> StoryRow | None:
        """The stored story this feed item is, by GUID, then URL, then content hash."""
        for column, value in (("guid", guid), ("url", url), ("checked_hash", chash)):
            if not value:
                continue
            rows = self._query(f"SELECT * FROM stories WHERE {column} = ? "
                               "ORDER BY id DESC LIMIT 1", (value,))
            if rows:
                return _story(rows[0])
        return None

    def upsert_story(self, guid: str | None, url: str, feed: str | None, title: str | None,
                     chash: str | None) -> StoryRow:
        """Record that a feed item was seen (new, or the same story seen again); returns its row."""
        now = _now()
        with self.transaction() as conn:
            found = self.match_story(guid, url, chash)
            if found is None:
                cur = conn.execute(
                    "INSERT INTO stories (guid, url, feed, title, content_hash, state, first_seen, "
                    "last_seen) VALUES (?, ?, ?, ?, ?, 'new', ?, ?)",
                    (guid, url, feed, title, chash, now, now))
                story_id = int(cur.lastrowid or 0)
            else:
                story_id = found.id
                conn.execute("UPDATE stories SET last_seen = ?, content_hash = ?, "
                             "title = COALESCE(?, title), guid = COALESCE(guid, ?) WHERE id = ?",
                             (now, chash, title, guid, story_id))
        story = self.story(story_id)
        assert story is not None
        return story

    def story(self, story_id: int) -> StoryRow | None:
        """One story by id."""
        rows = self._query("SELECT * FROM stories WHERE id = ?", (story_id,))
        return _story(rows[0]) if rows else None

    def knows_hash(self, story_id: int, content_hash: str) -> bool:
        """True when this version of the story (as some feed item carried it) was checked."""
        return bool(self._query("SELECT 1 FROM story_hashes WHERE story_id = ? AND hash = ?",
                                (story_id, content_hash)))

    def mark_skipped(self, story_id: int, reason: str, run: str | None = None) -> None:
        """A story that is not about a study: remembered so it is not looked at again, and
        listed (title, URL, `reason`) under "Not checked" in the next digest."""
        with self.transaction() as conn:
            conn.execute("UPDATE stories SET state = 'skipped', checked_hash = content_hash "
                         "WHERE id = ?", (story_id,))
            conn.execute("INSERT INTO skips (story_id, title, url, reason, run, skipped_at) "
                         "SELECT id, title, url, ?, ?, ? FROM stories WHERE id = ?",
                         (reason, run, _now(), story_id))
        logger.debug("story skipped: %s: %s", story_id, reason)

    # -- checks -------------------------------------------------------------------------------

    def record_check(self, report: Report, *, story_id: int | None = None, run: str | None = None,
                     flag_on: str = "medium", email_to: Sequence[str] = (),
                     message_id: str | None = None, hashes: Sequence[str] = (),
                     origin: Origin | None = None) -> int:
        """Store one report, its papers and counts (and its email, when flagged) in one transaction.

        Args:
            report: the Report (a failed check holds its Problem).
            story_id: the feed story it belongs to; None for a check made by hand.
            run: the feed run's id.
            flag_on: the least severity that flags a story for its own email.
            email_to: recipients; when given and the story is flagged, an outbox row is added.
            message_id: the Message-ID for that email (made by the caller, stable from now on).
            hashes: every content hash the story's feed items had this run (one story can sit in
                several feeds with different summaries); all count as checked from now on.
            origin: where the check was asked for ("web", "cli", "feed", "batch"); by default
                "feed" for a check of a feed story, else "cli".

        Returns:
            The check's id (what `factcheck history` lists and `history show` takes).
        """
        data = report_to_data(report)
        counts = severity_counts(report)
        problem = report.problems[0] if report.problems else None
        failed = problem is not None and not report.papers
        flagged = not failed and is_flagged(report, flag_on)
        paper = report.papers[0] if report.papers else None
        title = (report.article.title if report.article else None)
        now = _now()
        with self.transaction() as conn:
            for p in report.papers:
                key = _paper_key(p.doi, p.pmid)
                if key is None:
                    continue
                paper_data = next(d for d in data["papers"] if d.get("doi") == p.doi
                                  and d.get("pmid") == p.pmid)
                conn.execute(
                    "INSERT INTO papers (key, doi, pmid, title, journal, year, source, retracted, "
                    "data, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO "
                    "UPDATE SET doi=excluded.doi, pmid=excluded.pmid, title=excluded.title, "
                    "journal=excluded.journal, year=excluded.year, source=excluded.source, "
                    "retracted=excluded.retracted, data=excluded.data, updated=excluded.updated",
                    (key, p.doi, p.pmid, p.title, p.journal, p.year, p.source, int(p.retracted),
                     json.dumps(paper_data, ensure_ascii=False), now))
            cur = conn.execute(
                "INSERT INTO checks (story_id, source, title, checked_at, run, paper_key, "
                "paper_title, high, medium, low, supported, problem, flagged, report, origin, "
                "site, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (story_id, report.source, title, report.checked_at or now, run,
                 _paper_key(paper.doi, paper.pmid) if paper else None,
                 paper.title if paper else None, counts["high"], counts["medium"], counts["low"],
                 len(report.supported),
                 f"{problem.stage}: {problem.message}" if problem else None, int(flagged),
                 json.dumps(data, ensure_ascii=False),
                 origin or ("cli" if story_id is None else "feed"), site_of(report),
                 verdict_of(report)))
            check_id = int(cur.lastrowid or 0)
            if story_id is not None:
                if failed and problem is not None and problem.error in RETRYABLE_ERRORS:
                    # a site or service was down: leave the hash unset so the next run retries
                    conn.execute("UPDATE stories SET state = 'failed', attempts = attempts + 1, "
                                 "last_check = ? WHERE id = ?", (check_id, story_id))
                else:
                    conn.execute("UPDATE stories SET state = ?, attempts = attempts + 1, "
                                 "checked_hash = content_hash, last_check = ? WHERE id = ?",
                                 ("failed" if failed else "checked", check_id, story_id))
                    conn.executemany("INSERT OR IGNORE INTO story_hashes (story_id, hash) "
                                     "VALUES (?, ?)", [(story_id, h) for h in hashes])
            if flagged and email_to:
                conn.execute(
                    "INSERT OR IGNORE INTO emails (key, kind, check_id, run, recipients, "
                    "message_id, state, created, updated) VALUES (?, 'story', ?, ?, ?, ?, "
                    "'pending', ?, ?)",
                    (f"story-{check_id}", check_id, run, json.dumps(list(email_to)),
                     message_id or f"<factcheck-story-{check_id}@localhost>", now, now))
        return check_id

    def get_report(self, check_id: int) -> Report:
        """The stored Report of one check.

        Raises:
            InputError: no check has that id.
        """
        rows = self._query("SELECT report FROM checks WHERE id = ?", (check_id,))
        if not rows:
            raise InputError(f"no stored check with id {check_id}; `factcheck history` lists them")
        return report_from_data(json.loads(rows[0]["report"]))

    def get_check(self, check_id: int) -> CheckRow:
        """The history row of one check.

        Raises:
            InputError: no check has that id.
        """
        rows = self._query("SELECT * FROM checks WHERE id = ?", (check_id,))
        if not rows:
            raise InputError(f"no stored check with id {check_id}; `factcheck history` lists them")
        return _check(rows[0])

    def list_checks(self, limit: int | None = 50, flagged_only: bool = False,
                    since: str | None = None) -> list[CheckRow]:
        """Past checks, newest first."""
        sql = "SELECT * FROM checks WHERE 1=1"
        params: list[Any] = []
        if flagged_only:
            sql += " AND flagged = 1"
        if since:
            sql += " AND checked_at >= ?"
            params.append(since)
        sql += " ORDER BY id DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [_check(r) for r in self._query(sql, params)]

    def search_checks(self, text: str = "", *, site: str = "", verdict: str = "",
                      origin: str = "", limit: int = 50, offset: int = 0) -> list[CheckRow]:
        """Past checks, newest first, that match every filter given (case-insensitive).

        Args:
            text: words that must each appear in the title, story URL, outlet, paper title or
                paper key (`doi:10.1000/x`), or be the paper's PMID (`123`, `pmid:123`).
            site: part of the outlet's name (`site_of`).
            verdict: one of VERDICTS.
            origin: one of ORIGINS.
            limit: at most this many rows; offset: skip this many (the next page).
        """
        sql, params = "SELECT * FROM checks WHERE 1=1", list[Any]()
        for word in text.split()[:8]:
            like = f"%{_like(word.lower())}%"
            sql += (" AND (lower(COALESCE(title, '')) LIKE ? ESCAPE '\\' OR lower(source) "
                    "LIKE ? ESCAPE '\\' OR lower(COALESCE(site, '')) LIKE ? ESCAPE '\\' OR "
                    "lower(COALESCE(paper_title, '')) LIKE ? ESCAPE '\\' OR "
                    "lower(COALESCE(paper_key, '')) LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 "
                    "FROM papers WHERE papers.key = checks.paper_key AND papers.pmid = ?))")
            params += [like] * 5 + [word.lower().removeprefix("pmid:")]
        if site.strip():
            sql += " AND lower(COALESCE(site, '')) LIKE ? ESCAPE '\\'"
            params.append(f"%{_like(site.strip().lower())}%")
        for column, value in (("verdict", verdict), ("origin", origin)):
            if value:
                sql += f" AND {column} = ?"
                params.append(value)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        params += [max(1, limit), max(0, offset)]
        return [_check(r) for r in self._query(sql, params)]

    def paper(self, key: str) -> dict[str, Any] | None:
        """A stored paper's JSON (as the report's `papers` items) by `doi:...` or `pmid:...`."""
        rows = self._query("SELECT data FROM papers WHERE key = ?", (key,))
        return json.loads(rows[0]["data"]) if rows else None

    def counts(self) -> dict[str, int]:
        """How many stories, checks, papers and emails are stored (by state for emails)."""
        out: dict[str, int] = {}
        for table in ("stories", "checks", "papers"):
            out[table] = int(self._query(f"SELECT COUNT(*) FROM {table}")[0][0])
        for row in self._query("SELECT state, COUNT(*) FROM emails GROUP BY state"):
            out[f"emails_{row[0]}"] = int(row[1])
        return out

    # -- outbox -------------------------------------------------------------------------------

    def recover_interrupted(self) -> list[EmailRow]:
        """Mark emails a killed run left in `sending` as `uncertain`; return them.

        They may or may not have reached the server. `pending_emails` offers them again, and
        the next delivery resends each once with its stored Message-ID (a copy the desk's mail
        client drops, rather than an email that never arrives).
        """
        with self.transaction() as conn:
            rows = conn.execute("SELECT * FROM emails WHERE state = 'sending'").fetchall()
            conn.execute("UPDATE emails SET state = 'uncertain', updated = ?, error = "
                         "'the run stopped during the SMTP conversation; resent with the same "
                         "Message-ID' WHERE state = 'sending'", (_now(),))
        for row in rows:
            logger.warning("email may or may not have been sent before a crash; it will be "
                           "resent with the same Message-ID: %s (%s)", row["key"],
                           row["message_id"])
        return [_email(r) for r in rows]

    def prepare_digest(self, run: str, recipients: Sequence[str], message_id: str) -> str | None:
        """Create this run's digest row, folding in every check no digest has gone out for.

        Digests that were prepared but never attempted (a crashed or dry run) are dropped and
        their checks (and skipped stories) taken into this one, so the desk gets one digest,
        not one per failed run.

        Returns:
            The digest's outbox key, or None when there is nothing to report.
        """
        key = f"digest-{run}"
        now = _now()
        with self.transaction() as conn:
            stale = [r["key"] for r in conn.execute(
                "SELECT key FROM emails WHERE kind = 'digest' AND state = 'pending' AND "
                "attempts = 0 AND key != ?", (key,))]
            for old in stale:
                conn.execute("UPDATE checks SET digest = NULL WHERE digest = ?", (old,))
                conn.execute("UPDATE skips SET digest = NULL WHERE digest = ?", (old,))
                conn.execute("DELETE FROM emails WHERE key = ?", (old,))
            todo = conn.execute("SELECT COUNT(*) FROM checks WHERE digest IS NULL AND "
                                "story_id IS NOT NULL").fetchone()[0]
            todo += conn.execute("SELECT COUNT(*) FROM skips WHERE digest IS NULL").fetchone()[0]
            if not todo:
                return None
            conn.execute(
                "INSERT OR IGNORE INTO emails (key, kind, run, recipients, message_id, state, "
                "created, updated) VALUES (?, 'digest', ?, ?, ?, 'pending', ?, ?)",
                (key, run, json.dumps(list(recipients)), message_id, now, now))
            conn.execute("UPDATE checks SET digest = ? WHERE digest IS NULL AND "
                         "story_id IS NOT NULL", (key,))
            conn.execute("UPDATE skips SET digest = ? WHERE digest IS NULL", (key,))
        return key

    def digest_checks(self, key: str) -> list[CheckRow]:
        """The checks a digest reports: flagged first, then by severity counts, then by id."""
        rows = self._query("SELECT * FROM checks WHERE digest = ? ORDER BY flagged DESC, "
                           "problem IS NOT NULL, high DESC, medium DESC, low DESC, id", (key,))
        return [_check(r) for r in rows]

    def digest_skips(self, key: str) -> list[SkipRow]:
        """The stories a digest lists as not checked (not about a study), in the order seen."""
        rows = self._query("SELECT * FROM skips WHERE digest = ? ORDER BY id", (key,))
        return [SkipRow(id=r["id"], story_id=r["story_id"], title=r["title"], url=r["url"],
                        reason=r["reason"], skipped_at=r["skipped_at"]) for r in rows]

    def pending_emails(self) -> list[EmailRow]:
        """Emails to deliver: pending, failed on an earlier run, or uncertain (to be resent
        with the same Message-ID), oldest first, story emails before digests."""
        rows = self._query("SELECT * FROM emails WHERE state IN ('pending', 'failed', "
                           "'uncertain') "
                           "ORDER BY kind = 'digest', created, key")
        return [_email(r) for r in rows]

    def email(self, key: str) -> EmailRow | None:
        """One outbox row."""
        rows = self._query("SELECT * FROM emails WHERE key = ?", (key,))
        return _email(rows[0]) if rows else None

    def emails(self, states: Sequence[str] | None = None) -> list[EmailRow]:
        """Outbox rows, optionally only in `states`."""
        if states:
            marks = ",".join("?" * len(states))
            rows = self._query(f"SELECT * FROM emails WHERE state IN ({marks}) "
                               "ORDER BY created, key", list(states))
        else:
            rows = self._query("SELECT * FROM emails ORDER BY created, key")
        return [_email(r) for r in rows]

    def mark_email(self, key: str, state: EmailState, error: str | None = None) -> None:
        """Move an outbox row to `state` (committed before this returns)."""
        with self.transaction() as conn:
            bump = 1 if state == "sending" else 0
            conn.execute("UPDATE emails SET state = ?, attempts = attempts + ?, error = ?, "
                         "updated = ? WHERE key = ?", (state, bump, error, _now(), key))

    def iter_reports(self, check_ids: Sequence[int]) -> Iterator[tuple[int, Report]]:
        """(id, Report) for each id, in the order given."""
        for check_id in check_ids:
            yield check_id, self.get_report(check_id)


def _like(text: str) -> str:
    """`text` with LIKE's wildcards escaped (a search for "50%" means the characters)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def record_report(settings: Settings, report: Report, origin: Origin = "cli") -> int:
    """Store a report checked by hand (`factcheck check`) in the history; returns its id."""
    with Store.from_settings(settings) as store:
        return store.record_check(report, origin=origin)


__all__ = ["ORIGINS", "VERDICTS", "CheckRow", "EmailRow", "Origin", "SkipRow", "Store", "StoryRow",
           "Verdict", "content_hash", "is_flagged", "record_report", "severity_counts", "site_of",
           "verdict_of"]
