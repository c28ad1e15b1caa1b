"""The command line: thin click commands that parse options, call the library and print.

Errors are converted here, at the boundary: a FactcheckError becomes one line on stderr and the
exit status DESIGN.md gives (2 bad input, 3 upstream failure); `--debug` shows the traceback.
A usage error (unknown option, missing argument, a --paper-file that does not exist) exits 64
(EX_USAGE), not click's 2, so a script can tell a typo in its own command line from a bad story.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from ._cli_common import _write, common_options
from .cli_extra import feed, history
from .cli_serve import serve
from .cli_worker import worker
from .errors import EXIT_FINDINGS, EXIT_USAGE, FactcheckError, InputError

logger = logging.getLogger(__name__)

_SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}


class _Commands(click.Group):
    """The command group, with usage errors on their own exit status (64)."""

    def main(self, args: Any = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        run = super().main
        if not standalone_mode:
            return run(args, prog_name, complete_var, False, **extra)
        try:
            value = run(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("factcheck: interrupted", err=True)
            sys.exit(130)
        sys.exit(value if isinstance(value, int) else 0)


@click.group(cls=_Commands)
@click.version_option(__version__, prog_name="factcheck")
def main() -> None:
    """factcheck: compare a health news story with the abstract of the paper it cites."""


main.add_command(feed)  # the nightly job and the history live in cli_extra
main.add_command(history)
main.add_command(serve)  # the editors' web form
main.add_command(worker)  # a queue worker (factcheck.queue)


@main.command()
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@click.option("--from", "from_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also check the stories listed in this file (one 'SOURCE [DOI|PMID|PAPER-FILE]' "
                   "a line; - for stdin).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "md"]), default=None,
              help="Report format (default: text to the terminal; with --output, from its suffix). "
                   "Several stories are always JSON lines.")
@click.option("-o", "--output", help="Write the report (several stories: the JSON lines) to this "
                                     "file; the summary still prints.")
@click.option("--paper", help="The paper's DOI, PMID or PMCID, when the story does not link it.")
@click.option("--paper-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the paper from a saved PubMed/Europe PMC/Crossref/OpenAlex response.")
@click.option("--fail-on", type=click.Choice(["low", "medium", "high"]), default=None,
              help="Exit 1 when a finding at or above this severity is found.")
@click.option("--render", is_flag=True,
              help="Load the page in headless Chromium first (for JavaScript-only sites).")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help="Worker processes for several stories (default: one per core).")
@click.option("--queue", "queue_url", metavar="URL",
              help="Put several stories on this queue's Redis for `factcheck worker` processes "
                   "(default: FACTCHECK_QUEUE_URL or [queue] url; none: run them here).")
@common_options
def check(sources: tuple[str, ...], from_file: Path | None, fmt: str | None, output: str | None,
          paper: str | None, paper_file: Path | None, fail_on: str | None, render: bool,
          jobs: int | None, queue_url: str | None, settings: Any) -> None:
    """Check stories (URLs, .html/.txt files, or - for stdin) against the papers they cite.

    One story prints its report; several (or --from FILE) run on every core and print one JSON
    line per story as it completes, then a summary; the exit status is the worst story's.

    Example: factcheck check https://example.org/news/ldn-fibromyalgia --format html -o reports/ldn.html
    """
    if not sources and from_file is None:
        raise click.UsageError("give a SOURCE, several, or --from FILE")
    if len(sources) == 1 and from_file is None:
        _check_one(sources[0], fmt, output, paper, paper_file, fail_on, render, settings)
        return
    if paper or paper_file or render:
        raise click.UsageError("--paper, --paper-file and --render name one story's paper or "
                               "page; for several, give 'SOURCE DOI' lines in --from FILE")
    if fmt not in (None, "json"):
        raise click.UsageError("several stories are written as JSON lines; drop --format or "
                               "use --format json")
    pairs: list[tuple[str, str | None]] = [(s, None) for s in sources]
    if from_file is not None:
        from .batch import read_sources
        pairs += read_sources(from_file)
    from ._cli_batch import check_many_cli
    if queue_url:
        settings = settings.with_(queue_url=queue_url)
    sys.exit(check_many_cli(pairs, output, fail_on, jobs, settings))


def _check_one(source: str, fmt: str | None, output: str | None, paper: str | None,
               paper_file: Path | None, fail_on: str | None, render: bool, settings: Any) -> None:
    from .pipeline import build_context
    from .pipeline import check as run_check
    from .report import render as render_report
    from .report import render_text
    ctx = build_context(settings)
    report = run_check(source, ctx, paper=paper, paper_file=paper_file, render=render)
    if output:
        chosen = fmt or {".html": "html", ".htm": "html", ".json": "json", ".md": "md"}.get(
            Path(output).suffix.lower(), "text")
        _write(render_report(report, chosen), output)
        if chosen != "text":
            click.echo(render_text(report), nl=False)
    else:
        click.echo(render_report(report, fmt or "text"), nl=False)
    _remember(report, settings)  # after the report is out: a broken history never costs it
    if fail_on and any(_SEVERITY_RANK[f.severity] >= _SEVERITY_RANK[fail_on]
                       for f in report.findings):
        sys.exit(EXIT_FINDINGS)


def _remember(report: Any, settings: Any) -> None:
    """Keep a hand check in the history (`factcheck history`); a broken store never fails a check."""
    from .store import record_report
    try:
        ident = record_report(settings, report)
        logger.info("stored as check #%s", ident)
    except (sqlite3.Error, OSError, FactcheckError) as exc:
        logger.warning("could not store the check in the history: %s", exc)


@main.command()
@click.argument("source")
@common_options
def extract(source: str, settings: Any) -> None:
    """Print the story's text, paragraphs, links and citations as JSON.

    Example: factcheck extract corpora/cases/statin-number/story.html
    """
    from .citations import find_citations
    from .pipeline import build_context, read_article
    from .serialize import to_data
    ctx = build_context(settings)
    article = read_article(source, ctx)
    data = to_data(article)
    data["citations"] = to_data(find_citations(article, ctx.rules))
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@main.command()
@click.argument("file")
@click.option("--origin", type=click.Choice(["article", "abstract"]), default="article",
              help="Whether the text is a story or an abstract.")
@common_options
def claims(file: str, origin: str, settings: Any) -> None:
    """Print the claims in a text or HTML file (or - for stdin) as JSON lines.

    Example: factcheck claims story.txt --origin article
    """
    from .pipeline import build_context, read_article
    from .serialize import claim_to_json
    ctx = build_context(settings)
    sections: tuple[tuple[int, int, str], ...] = ()
    if file != "-" and Path(file).suffix.lower() in {".html", ".htm"}:
        article = read_article(file, ctx)
        text = article.text
        sections = tuple((p.start, p.end, p.role) for p in article.paragraphs)
    else:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{file} is not UTF-8 text: {exc.reason}") from exc
        except OSError as exc:
            raise InputError(f"cannot read {file}: {exc.strerror or exc}") from exc
    for claim in ctx.analyzer.claims(text, origin, sections):
        click.echo(json.dumps(claim_to_json(claim), ensure_ascii=False))


@main.command()
@click.argument("query", required=False)
@click.option("--story", "story", metavar="SOURCE",
              help="Read a story (URL or file) and show how its paper is searched for: the study "
                   "mention, every query, the ranked candidates.")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json",
              help="With --story: JSON (default) or a summary for people.")
@common_options
def resolve(query: str | None, story: str | None, fmt: str, settings: Any) -> None:
    """Find a paper by DOI, PMID, PMCID or reference text and print it as JSON (exit 2 if none).

    Example: factcheck resolve 10.1007/s40263-025-01183-7
    Example: factcheck resolve --story https://www.example.org/news/diet-soda-dementia --format text
    """
    from .errors import NoAbstract
    from .pipeline import build_context
    from .resolve import resolve_query
    from .serialize import to_data
    ctx = build_context(settings)
    if story is not None:
        from .cli_resolve import show_story_search
        sys.exit(show_story_search(story, ctx, fmt))
    if not query:
        raise click.UsageError("give a DOI, PMID or reference text, or --story SOURCE")
    try:
        paper = resolve_query(query, settings, session=ctx.session, cache=ctx.cache)
    except NoAbstract as exc:
        found = getattr(exc, "paper", None)
        if found is None:
            raise
        click.echo(f"factcheck: warning: {exc}", err=True)  # matched: exit 0, abstract empty
        paper = found
    data = to_data(paper)
    data["abstract"] = paper.abstract
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@main.command()
@click.argument("result")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "md"]), default="html")
@click.option("-o", "--output", help="Write the rendered report here instead of stdout.")
@common_options
def report(result: str, fmt: str, output: str | None, settings: Any) -> None:
    """Render a saved report (a JSON file, or a history ID such as 12) as HTML, Markdown or text.

    Example: factcheck report 12 --format html -o reports/story-12.html
    """
    from .cli_extra import render_stored
    _write(render_stored(result, fmt, settings), output)


def _default_shared() -> Path:
    return Path.cwd().parent / "shared"


@main.command("eval")
@click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("corpora/cases"), show_default=True,
              help="Folder of cases (story.*, pubmed.xml, expected.json).")
@click.option("--shared", "shared_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="The shared folder with seed/ and datasets/ (default ../shared).")
@click.option("--details", is_flag=True, help="List every missed and extra finding per case.")
@click.option("--no-datasets", is_flag=True, help="Skip the public data sets (the slow part).")
@common_options
def eval_(corpus_dir: Path, shared_dir: Path | None, details: bool, no_datasets: bool,
          settings: Any) -> None:
    """Score the checker on corpora/ and the seed: precision and recall per finding kind.

    Example: factcheck eval --details
    """
    from .evaluate import run_eval
    shared = shared_dir or _default_shared()
    text, scored = run_eval(settings, corpus_dir, shared, details=details,
                            datasets=not no_datasets)
    click.echo(text)
    if not scored:
        raise InputError(f"nothing to score: no cases under {corpus_dir} and no stories, seed or "
                         f"data sets under {shared}; pass --corpus and --shared")


@main.group()
def rules() -> None:
    """Inspect the rule files under rules/."""


@rules.command("validate")
@common_options
def rules_validate(settings: Any) -> None:
    """Load every rule file, check checks.toml against the registered checks, report the first error.

    Example: factcheck rules validate
    """
    from .judge.registry import ordered_checks
    from .rules import load_rules
    loaded = load_rules()
    checks = ordered_checks(loaded.setting("checks"))  # checks.toml agrees with the registered checks
    click.echo(f"ok: {len(loaded.lexicons)} lexicons, {len(loaded.tables)} tables, "
               f"{len(loaded.patterns)} patterns, {len(loaded.settings)} settings files, "
               f"{len(checks)} checks in {loaded.root}")


@rules.command("list")
@common_options
def rules_list(settings: Any) -> None:
    """List every pattern id with its label, and every check id with its finding kind.

    Example: factcheck rules list
    """
    from .rules import load_rules
    loaded = load_rules()
    for pattern in loaded.patterns:
        click.echo(f"{pattern.id}\t{pattern.label}\t{Path(pattern.path).name}:{pattern.line}")
    for rule_id, spec in loaded.setting("checks").items():
        click.echo(f"{rule_id}\t{spec['kind']}\tchecks.toml")


@main.group()
def cache() -> None:
    """Look at or empty the cache of service answers."""


@cache.command("stats")
@common_options
def cache_stats(settings: Any) -> None:
    """Print how many answers are cached per service.

    Example: factcheck cache stats
    """
    from .pipeline import build_context
    click.echo(json.dumps(build_context(settings).cache.stats(), indent=2, default=str))


@cache.command("clear")
@click.option("--service", help="Only this service's answers.")
@common_options
def cache_clear(service: str | None, settings: Any) -> None:
    """Delete cached service answers.

    Example: factcheck cache clear --service crossref
    """
    from .pipeline import build_context
    removed = build_context(settings).cache.clear(service)
    click.echo(f"removed {removed} cached answers")


if __name__ == "__main__":  # pragma: no cover
    main()

