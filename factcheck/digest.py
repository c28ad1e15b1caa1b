"""The desk's one email per run: every checked story, and every flagged story's findings.

```
multipart/mixed
  multipart/alternative
    text/plain      the digest as text
    text/html       the digest, CSS inlined: per flagged story its findings, severity first,
                    the story's words and the abstract's side by side, a link to the full report
  application/json  the run's rows and what was not checked (digest-KEY.json)
  application/gzip  every report of the run in full, one JSON report a line (reports-KEY.jsonl.gz)
```

The HTML stays under `DigestOptions.max_html_bytes` (setting mail.digest_max_kb, 200 KB): when
every finding does not fit, each story shows fewer (its most severe first), and the digest says
how many more each has and where they are (the full report's link, the attached reports). The
message is rebuilt from the store, so a digest resent after a crash is the same digest.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from .report import template_environment, verdict
from .serialize import report_to_json
from .store import CheckRow, SkipRow, Store
from .types import Finding, Report

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_QUOTE_CHARS = 320  # longest quote shown per side before it is cut with an ellipsis
# findings shown per flagged story, tried in turn until the HTML fits the size cap
_FINDINGS_PER_STORY = (None, 8, 5, 3, 1, 0)


@dataclass(frozen=True, slots=True)
class DigestOptions:
    """How the run's digest is written (from the settings; the defaults are the shipped ones)."""

    report_url: str = ""  # the web app's base URL: links go to {report_url}/checks/ID
    max_html_bytes: int = 200_000
    per_story: bool = False  # flagged stories also get their own email


@dataclass(frozen=True, slots=True)
class DigestFinding:
    severity: str
    kind: str
    message: str
    story: str
    abstract: str | None


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One story in a digest."""

    check: CheckRow
    verdict: str
    verdict_class: str
    findings: tuple[DigestFinding, ...] = ()
    more: int = 0  # findings of this story the digest had no room for
    link: str = ""


def _cut(text: str, limit: int = _QUOTE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _findings(report: Report) -> list[DigestFinding]:
    ordered: list[Finding] = sorted(report.findings,
                                    key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), -(f.score or 0.0)))
    return [DigestFinding(f.severity, f.kind, _cut(f.message, 400), _cut(f.article_span.text),
                          _cut(f.abstract_span.text) if f.abstract_span else None)
            for f in ordered]


def _link(options: DigestOptions, check_id: int) -> str:
    base = options.report_url.rstrip("/")
    return f"{base}/checks/{check_id}" if base else ""


def _lines(store: Store, rows: Sequence[CheckRow], options: DigestOptions,
           reports: dict[int, Report], limit: int | None) -> list[DigestLine]:
    out = []
    for row in rows:
        if row.problem and not row.paper_key and not (row.high or row.medium or row.low):
            out.append(DigestLine(row, f"Not checked: {row.problem}", "failed"))
            continue
        report = reports[row.id]
        line, css = verdict(report)
        found = _findings(report) if row.flagged else []
        shown = found if limit is None else found[:limit]
        out.append(DigestLine(row, line, css, tuple(shown), len(found) - len(shown),
                              _link(options, row.id)))
    return out


def _model(lines: list[DigestLine], rows: Sequence[CheckRow], skips: Sequence[SkipRow],
           options: DigestOptions, when: str) -> dict:
    return {"lines": lines, "flagged": sum(1 for r in rows if r.flagged),
            "failed": sum(1 for line in lines if line.verdict_class == "failed"),
            "total": len(rows), "date": when, "skips": skips, "per_story": options.per_story,
            "cut": any(line.more for line in lines)}


def build_digest_message(store: Store, key: str, *, mail_from: str, to: Sequence[str],
                         message_id: str, date: datetime | None = None,
                         options: DigestOptions | None = None) -> EmailMessage | None:
    """The run's digest: one line per checked story, flagged ones first with their findings,
    then "Not checked" (the stories the pre-filter skipped); None when there is nothing."""
    from .notify import _base_message
    options = options or DigestOptions()
    rows = store.digest_checks(key)
    skips = store.digest_skips(key)
    if not rows and not skips:
        return None
    reports = {row.id: store.get_report(row.id) for row in rows}
    when = (date or datetime.now(UTC)).strftime("%Y-%m-%d")
    env = template_environment()
    import css_inline
    for limit in _FINDINGS_PER_STORY:
        lines = _lines(store, rows, options, reports, limit)
        model = _model(lines, rows, skips, options, when)
        html = css_inline.inline(env.get_template("digest.html.j2").render(**model))
        if len(html.encode("utf-8")) <= options.max_html_bytes:
            break
    text = env.get_template("digest.txt.j2").render(**model)
    flagged = model["flagged"]
    subject = (f"[factcheck] Digest {when}: {len(rows)} stor{'y' if len(rows) == 1 else 'ies'}, "
               f"{flagged} flagged" + (f", {len(skips)} not checked" if skips else ""))
    msg = _base_message(subject, mail_from, to, message_id, date)
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    data = [{"id": r.id, "checked_at": r.checked_at, "source": r.source, "title": r.title,
             "paper": r.paper_key, "paper_title": r.paper_title, "flagged": r.flagged,
             "findings": {"high": r.high, "medium": r.medium, "low": r.low},
             "supported": r.supported, "problem": r.problem,
             "report": _link(options, r.id) or None} for r in rows]
    not_checked = [{"title": k.title, "source": k.url, "reason": k.reason} for k in skips]
    msg.add_attachment(json.dumps({"digest": key, "stories": data, "not_checked": not_checked},
                                  indent=2, ensure_ascii=False).encode("utf-8"),
                       maintype="application", subtype="json", filename=f"{key}.json")
    if rows:
        full = "".join(report_to_json(reports[r.id], indent=None) + "\n" for r in rows)
        msg.add_attachment(gzip.compress(full.encode("utf-8"), mtime=0),
                           maintype="application", subtype="gzip",
                           filename=f"reports-{key}.jsonl.gz")
    return msg


def render_digest_preview(store: Store, key: str, options: DigestOptions | None = None) -> str:
    """The digest's plain text (for logs and tests)."""
    options = options or DigestOptions()
    rows = store.digest_checks(key)
    reports = {row.id: store.get_report(row.id) for row in rows}
    lines = _lines(store, rows, options, reports, None)
    model = _model(lines, rows, store.digest_skips(key), options,
                   datetime.now(UTC).strftime("%Y-%m-%d"))
    return template_environment().get_template("digest.txt.j2").render(**model)


__all__ = ["DigestFinding", "DigestLine", "DigestOptions", "build_digest_message",
           "render_digest_preview"]
