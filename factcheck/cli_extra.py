"""Command-line verbs for the nightly job and the history: `feed`, `history`, `history show`.

Registered on the main group by cli.py (`main.add_command(feed)`, `main.add_command(history)`);
`render_stored` is what `factcheck report ID|FILE` calls to re-render a stored check.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from ._cli_common import common_options
from .config import Settings
from .errors import InputError

logger = logging.getLogger(__name__)

FORMATS = ("text", "json", "html", "md")


def render_stored(id_or_path: str, fmt: str, settings: Settings) -> str:
    """A stored check (by history ID) or a saved JSON report (by path), rendered in `fmt`.

    Args:
        id_or_path: a check ID as `factcheck history` lists it ("12" or "#12"), or the path of a
            JSON report written by `factcheck check --format json`.
        fmt: one of text, json, html, md.
        settings: where the history lives (`settings.cache_dir`).

    Returns:
        The rendered report.

    Raises:
        InputError: no such file or check, or the file is not a factcheck JSON report.
    """
    from .report import render
    from .serialize import report_from_data
    path = Path(id_or_path)
    if path.is_file():
        try:
            report = report_from_data(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path} is not a factcheck JSON report: {exc}") from exc
        return render(report, fmt)
    ident = id_or_path.strip().lstrip("#")
    if not ident.isdigit():
        raise InputError(f"{id_or_path} is neither a file nor a check ID; `factcheck history` "
                         f"lists the IDs")
    from .store import Store
    with Store.from_settings(settings) as store:
        return render(store.get_report(int(ident)), fmt)


def _short(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@click.argument("feeds", nargs=-1)
@click.option("--feeds", "feeds_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file of feed URLs, one per line (# comments allowed).")
@click.option("--email", "emails", multiple=True,
              help="Send the digest and flagged stories here (repeat or comma-separate).")
@click.option("--dry-run", is_flag=True,
              help="Write the emails as .eml files (see --outbox) instead of sending them; "
                   "needs --email (without it no email is built, and the summary says so).")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path),
              default=Path("reports/out/emails"), show_default=True,
              help="Where --dry-run writes its .eml files.")
@click.option("--workers", type=click.IntRange(1, 4), default=3, show_default=True,
              help="Stories checked at once (the services' rate limits hold whatever the number).")
@click.option("--flag-on", type=click.Choice(["low", "medium", "high"]), default="medium",
              show_default=True, help="Least severity that gives a story its own email.")
@click.option("--no-filter", is_flag=True,
              help="Check every story, not only those whose title or summary (or, for a bare "
                   "headline, page) mentions a study.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@common_options
def feed(feeds: tuple[str, ...], feeds_file: Path | None, emails: tuple[str, ...], dry_run: bool,
         outbox: Path, workers: int, flag_on: str, no_filter: bool, quiet: bool,
         settings: Any) -> None:
    """Check every new story in RSS/Atom feeds once, keep the results, and email the desk.

    Exit status: 0 done (a broken feed is reported and skipped), 2 bad input or another run in
    progress, 3 no feed could be read, 4 finished but left work undone: every story to check
    failed, or an email stayed unsent (failed, uncertain, or interrupted and not yet resent).
    Stories not about a study are listed on stderr and in the digest under "Not checked".

    Example: factcheck feed https://example.org/health/rss.xml --email desk@example.org
    """
    from .feed import print_summary, read_feeds_file, run_feeds
    from .notify import parse_recipients
    urls = list(feeds) + (read_feeds_file(feeds_file) if feeds_file else [])
    to = parse_recipients(list(emails)) if emails else ()
    run = run_feeds(urls, settings, email_to=to, dry_run=dry_run, outbox=outbox, workers=workers,
                    flag_on=flag_on, use_filter=not no_filter, quiet=quiet)
    print_summary(run)
    sys.exit(run.exit_status)


@click.group(invoke_without_command=True)
@click.option("--limit", type=click.IntRange(0), default=50, show_default=True,
              help="How many checks to list (0: all).")
@click.option("--flagged", is_flag=True, help="Only stories flagged for the desk.")
@click.option("--since", help="Only checks on or after this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
@common_options
def history(ctx: click.Context, limit: int, flagged: bool, since: str | None, as_json: bool,
            settings: Any) -> None:
    """List past checks: ID, date, story, paper, findings by severity.

    Example: factcheck history --flagged --limit 20
    """
    if ctx.invoked_subcommand is not None:
        return
    from .store import Store
    with Store.from_settings(settings) as store:
        rows = store.list_checks(limit=limit or None, flagged_only=flagged, since=since)
    if as_json:
        for r in rows:
            click.echo(json.dumps({
                "id": r.id, "checked_at": r.checked_at, "story": r.title, "source": r.source,
                "paper": r.paper_key, "paper_title": r.paper_title, "flagged": r.flagged,
                "findings": {"high": r.high, "medium": r.medium, "low": r.low},
                "supported": r.supported, "problem": r.problem}, ensure_ascii=False))
        return
    if not rows:
        click.echo("no checks stored yet", err=True)
        return
    click.echo(f"{'ID':>5}  {'DATE':<10}  {'H':>2} {'M':>2} {'L':>2}  {'':1} "
               f"{'STORY':<48}  PAPER")
    for r in rows:
        mark = "!" if r.flagged else ("x" if r.problem and not r.paper_key else " ")
        paper = r.paper_key or (_short(r.problem, 40) if r.problem else "")
        click.echo(f"{r.id:>5}  {r.checked_at[:10]:<10}  {r.high:>2} {r.medium:>2} {r.low:>2}  "
                   f"{mark} {_short(r.title or r.source, 48):<48}  {paper}")


@history.command("show")
@click.argument("check_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", help="Write the rendered report here instead of stdout.")
@common_options
def history_show(check_id: str, fmt: str, output: str | None, settings: Any) -> None:
    """Re-render one stored check as text, JSON, HTML or Markdown.

    Example: factcheck history show 12 --format html -o reports/12.html
    """
    text = render_stored(check_id, fmt, settings)
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"report written to {path}", err=True)
    else:
        click.echo(text, nl=False)


@history.command("emails")
@click.option("--state", type=click.Choice(["pending", "sending", "sent", "uncertain", "failed"]),
              multiple=True, help="Only emails in this state (repeatable).")
@common_options
def history_emails(state: tuple[str, ...], settings: Any) -> None:
    """List the email outbox: key, state, attempts, Message-ID, last error.

    Example: factcheck history emails --state uncertain --state failed
    """
    from .store import Store
    with Store.from_settings(settings) as store:
        rows = store.emails(list(state) or None)
    for r in rows:
        click.echo(f"{r.key}\t{r.state}\t{r.attempts}\t{r.message_id}\t{r.error or ''}")


__all__ = ["feed", "history", "render_stored"]
