"""Render a Report: HTML (self-contained, email-safe), Markdown, plain text, JSON.

Every piece of text from a story or a paper goes through jinja2's autoescaping, so a `<script>`
in a story shows as text. Markdown has its own escaping (`md_escape`, the finalizer of the
Markdown template): every character Markdown could read as syntax is backslash-escaped, so a
story's `[x](javascript:...)`, `![](https://tracker/)` or raw `<img>` shows as text, and links
the report itself makes are http(s) only, percent-encoded inside their angle brackets.

The HTML keeps its CSS in one <style> block for browsers; `inline=True`
moves it into style attributes with css-inline for email clients that drop <style>.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup, escape

from .serialize import report_to_json
from .types import Article, Finding, Paper, Report, Span

FORMATS = ("text", "json", "html", "md")
_CONTEXT_CHARS = 220


def templates_dir() -> Path:
    """The report templates: inside the installed package, else the checkout's reports/templates."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "reports" / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no report templates next to {here}; reinstall factcheck")


def template_environment() -> jinja2.Environment:
    """The jinja2 environment over `templates_dir()`, autoescaping HTML templates."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                              autoescape=jinja2.select_autoescape(["html", "html.j2"]),
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


class _MdSafe(str):
    """Markdown the template built itself (a link), which `md_escape` leaves alone."""


# every ASCII punctuation CommonMark lets a backslash escape, that can start syntax mid-line
_MD_SPECIAL = re.compile(r"[\\`*{}\[\]()#+!|<>~&]|(?<!\w)_|_(?!\w)")  # not number_mismatch
_MD_LINE_START = re.compile(r"^(\s*)(\d+)?([-=.)])")


def md_escape(value: object) -> str:
    """`value` as literal Markdown text: syntax characters escaped, one line."""
    if value is None:
        return ""
    if isinstance(value, _MdSafe):
        return value
    text = " ".join(str(value).split())  # a newline would end the list item or start a block
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    start = _MD_LINE_START.match(text)
    if start and (start.group(2) or start.group(3) in "-="):  # "- x", "= x", "12. x", "3) x"
        text = text[:start.start(3)] + "\\" + text[start.start(3):]
    return text


def md_code(value: object) -> str:
    """`value` (an identifier of ours) as an inline code span."""
    return _MdSafe("`" + str(value or "").replace("`", "") + "`")


def md_link(url: object) -> str:
    """An autolink `<url>` for an http(s) URL; anything else is shown as escaped text."""
    text = str(url or "")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return md_escape(text)
    return _MdSafe("<" + quote(text, safe="/:?#[]@!$&'()*+,;=%~-._") + ">")


def markdown_environment() -> jinja2.Environment:
    """The jinja2 environment of the Markdown report: every value goes through `md_escape`."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             autoescape=False, finalize=md_escape, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["link"] = md_link
    env.filters["code"] = md_code
    return env


def _highlight(text: str, span: Span, offset: int = 0) -> Markup:
    """`text` (which starts at `offset` of the span's source) with the span in <mark>, trimmed."""
    start, end = span.start - offset, span.end - offset
    if start < 0 or end > len(text) or text[start:end] != span.text:
        return Markup("<mark>") + escape(span.text) + Markup("</mark>")
    left = text[max(0, start - _CONTEXT_CHARS):start]
    right = text[end:end + _CONTEXT_CHARS]
    lead = "…" if start - _CONTEXT_CHARS > 0 else ""
    tail = "…" if end + _CONTEXT_CHARS < len(text) else ""
    return (escape(lead + left) + Markup("<mark>") + escape(text[start:end]) + Markup("</mark>")
            + escape(right + tail))


def _article_context(article: Article | None, span: Span) -> Markup:
    if article is None:
        return _highlight(span.text, span, span.start)
    for p in article.paragraphs:
        if p.start <= span.start and span.end <= p.end:
            return _highlight(article.text[p.start:p.end], span, p.start)
    return _highlight(article.text, span)


def _abstract_context(papers: tuple[Paper, ...], finding: Finding) -> Markup | None:
    span = finding.abstract_span
    if span is None:
        return None
    for paper in papers:
        if finding.paper and finding.paper not in {paper.doi, f"PMID:{paper.pmid}"}:
            continue
        abstract = paper.abstract
        if abstract[span.start:span.end] != span.text:
            continue
        pos = 0
        for section in paper.sections:
            if pos <= span.start and span.end <= pos + len(section.text):
                label = Markup("<strong class=\"label\">") + escape(section.label or section.category or "") + \
                    Markup("</strong> ") if (section.label or section.category) else Markup("")
                return label + _highlight(section.text, span, pos)
            pos += len(section.text) + 1
    return _highlight(span.text, span, span.start)


def counts(report: Report) -> dict[str, int]:
    out = {"high": 0, "medium": 0, "low": 0}
    for f in report.findings:
        out[f.severity] += 1
    return out


def verdict(report: Report) -> tuple[str, str]:
    """The one-line verdict and its CSS class."""
    c = counts(report)
    if report.problems and not report.papers:
        return f"Not checked: {report.problems[0].message}", "high"
    if c["high"]:
        return f"Needs correction: {c['high']} serious discrepanc{'y' if c['high'] == 1 else 'ies'}.", "high"
    if c["medium"]:
        return f"Needs review: {c['medium']} discrepanc{'y' if c['medium'] == 1 else 'ies'} to check.", "medium"
    if c["low"]:
        return f"Minor issues only: {c['low']} low-severity note{'s' if c['low'] != 1 else ''}.", "low"
    return "No discrepancies found against the abstract.", "clean"


def _title(report: Report) -> str:
    if report.article and report.article.title:
        return report.article.title
    return report.source or "story"


KIND_LABELS = {
    "number_mismatch": "Number differs",
    "unit_mismatch": "Unit or scale differs",
    "sample_size": "Number of participants differs",
    "duration": "Duration differs",
    "direction": "Direction of the effect reversed",
    "significance": "Statistical significance misstated",
    "population": "Population changed or generalised",
    "study_design": "Study design misstated",
    "causal_language": "Cause and effect claimed for an association",
    "hedge_dropped": "Hedge dropped",
    "relative_without_absolute": "Relative effect without the absolute figure",
    "omitted_uncertainty": "Uncertainty left out",
    "not_in_abstract": "Not supported by the abstract",
    "citation_mismatch": "Citation does not match the paper",
    "other": "Other discrepancy",
}

_SERVICE_NAMES = {"pubmed": "PubMed", "europepmc": "Europe PMC", "crossref": "Crossref",
                  "openalex": "OpenAlex", "file": "a local file"}


def _when(stamp: str | None) -> str:
    """An ISO timestamp as "2025-01-03 00:00 UTC" (as given when it does not parse)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def _model(report: Report) -> dict[str, Any]:
    line, css = verdict(report)
    findings = [{
        "kind": f.kind, "label": KIND_LABELS.get(f.kind, f.kind), "severity": f.severity,
        "message": f.message, "rule_id": f.rule_id,
        "score": f.score, "paper": f.paper, "article_span": f.article_span,
        "abstract_span": f.abstract_span,
        "article_context": _article_context(report.article, f.article_span),
        "abstract_context": _abstract_context(report.papers, f),
    } for f in report.findings]
    warnings = list(report.warnings) + [f"{p.stage}: {p.message}" for p in report.problems]
    return {"report": report, "article": report.article, "papers": report.papers,
            "findings": findings, "supported": report.supported, "warnings": warnings,
            "verdict": line, "verdict_class": css, "counts": counts(report), "title": _title(report),
            "checked": _when(report.checked_at), "service_names": _SERVICE_NAMES}


def render_html(report: Report, inline: bool = False) -> str:
    """The report as one self-contained HTML page (no external assets, no JavaScript)."""
    html = template_environment().get_template("report.html.j2").render(**_model(report))
    if inline:
        import css_inline
        html = css_inline.inline(html)
    return html


def render_markdown(report: Report) -> str:
    return markdown_environment().get_template("report.md.j2").render(**_model(report))


def render_text(report: Report, width: int = 100) -> str:
    """A short terminal summary: verdict, then one block per finding, then what checked out."""
    model = _model(report)
    lines = [f"factcheck: {model['title']}"]
    for paper in report.papers:
        ident = paper.doi or (f"PMID {paper.pmid}" if paper.pmid else "")
        lines.append(f"paper: {paper.title or 'untitled'} ({paper.journal or '?'}, "
                     f"{paper.year or '?'}) {ident} [abstract from {paper.source}]")
        if paper.found_by:
            lines.append(f"found by: {paper.found_by}")
    c = model["counts"]
    lines.append(f"{model['verdict']} ({c['high']} high, {c['medium']} medium, {c['low']} low; "
                 f"{len(report.supported)} checked out)")
    for i, f in enumerate(report.findings, 1):
        lines.append("")
        lines.append(f"{i}. [{f.severity.upper()}] {f.kind}: {f.message}")
        lines.extend(textwrap.wrap(f"story:    “{f.article_span.text}”", width,
                                   subsequent_indent="          "))
        quote = f"“{f.abstract_span.text}”" if f.abstract_span else "(nothing in the abstract)"
        lines.extend(textwrap.wrap(f"abstract: {quote}", width, subsequent_indent="          "))
    if report.supported:
        lines.append("")
        lines.append("checked out:")
        for s in report.supported:
            lines.extend(textwrap.wrap(f"  ok  {s.message}", width, subsequent_indent="      "))
    for w in model["warnings"]:
        lines.append(f"warning: {w}")
    return "\n".join(lines) + "\n"


def render(report: Report, fmt: str) -> str:
    """Render in one of FORMATS."""
    if fmt == "json":
        return report_to_json(report) + "\n"
    if fmt == "html":
        return render_html(report)
    if fmt == "md":
        return render_markdown(report)
    if fmt == "text":
        return render_text(report)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
