"""`factcheck resolve --story SOURCE`: what the resolver read in a story and what its search found.

JSON (the default) carries the whole record: the study mention with every field's span, each
query as sent in its service's syntax, the ranked candidates with their evidence, the choice and
its margin. `--format text` is the same for a person. Exit 0 when a paper is accepted, 2 when the
search abstains (the candidates are listed so the editor can pass one with `--paper`).
"""

from __future__ import annotations

import json
from typing import Any

import click

from .errors import EXIT_BAD_INPUT, EXIT_OK
from .serialize import to_data
from .types import Candidate, SearchOutcome, StudyMention


def show_story_search(source: str, ctx: Any, fmt: str) -> int:
    """Print the story search for `source` in `fmt` (json | text); return the exit status."""
    from .pipeline import search_story
    article, citations, outcome = search_story(source, ctx)
    linked = [c for c in citations if c.kind in ("doi", "pmid", "pmcid") and c.primary]
    if fmt == "json":
        data = {
            "story": {"url": article.url, "title": article.title, "published": article.published},
            "linked": [to_data(c) for c in linked],
            "mention": to_data(outcome.mention),
            "queries": [to_data(r) for r in outcome.runs],
            "candidates": [_candidate(c) for c in outcome.candidates],
            "accepted": _candidate(outcome.accepted) if outcome.accepted else None,
            "margin": outcome.margin,
            "reason": outcome.reason,
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in _text(article.title, linked, outcome):
            click.echo(line)
    return EXIT_OK if outcome.accepted is not None else EXIT_BAD_INPUT


def _candidate(c: Candidate) -> dict[str, Any]:
    p = c.paper
    return {"title": p.title, "journal": p.journal, "year": p.year, "published": p.published,
            "doi": p.doi, "pmid": p.pmid, "authors": list(p.authors[:3]) + (
                ["…", p.authors[-1]] if len(p.authors) > 3 else []),
            "score": c.score, "evidence": [{"what": k, "score": v} for k, v in c.evidence],
            "found_by": list(c.found_by)}


def _mention_lines(m: StudyMention) -> list[str]:
    lines = []
    if m.journals:
        lines.append("journal:      " + "; ".join(
            f"{j.value} ({j.detail})" if j.detail else j.value for j in m.journals))
    if m.researchers:
        lines.append("researchers:  " + "; ".join(
            f"{r.detail or r.value} [{r.role}]" for r in m.researchers))
    if m.institutions:
        lines.append("institutions: " + "; ".join(i.value for i in m.institutions))
    if m.study_names:
        lines.append("study name:   " + "; ".join(s.value for s in m.study_names))
    if m.registry_ids:
        lines.append("registry:     " + "; ".join(r.value for r in m.registry_ids))
    if m.story_date or m.window:
        said = f", says {m.paper_date.span.text!r} -> {m.paper_date.value}" if m.paper_date else ""
        window = f"; window {m.window[0]} to {m.window[1]}" if m.window else ""
        lines.append(f"dates:        story {m.story_date or 'undated'}{said}{window}")
    if m.topic:
        lines.append("topic:        " + ", ".join(t.value for t in m.topic))
    if m.numbers:
        lines.append("numbers:      " + ", ".join(n.span.text for n in m.numbers))
    return lines or ["(the story names nothing to search for)"]


def _text(title: str | None, linked: list[Any], outcome: SearchOutcome) -> list[str]:
    lines = [f"story: {title or '(untitled)'}"]
    if linked:
        lines.append("links: " + ", ".join(f"{c.kind} {c.value}" for c in linked)
                     + " (a check uses the link; the search below is what the prose alone finds)")
    lines += ["", "what the story says about its study:"] + ["  " + x for x in
                                                            _mention_lines(outcome.mention)]
    lines += ["", f"queries ({sum(r.requests for r in outcome.runs)} requests):"]
    for r in outcome.runs:
        status = f"error: {r.error}" if r.error else f"{r.hits} hit(s)"
        lines.append(f"  [{r.step}] {r.service}: {r.query}  -> {status}")
    lines += ["", "candidates:"]
    for i, c in enumerate(outcome.candidates, 1):
        p = c.paper
        ident = f"doi {p.doi}" if p.doi else f"PMID {p.pmid}"
        lines.append(f"  {i}. {c.score:5.1f}  {p.title} ({p.journal}, {p.year}; {ident})")
        lines.append("            " + "; ".join(f"{k} {v:+.1f}" for k, v in c.evidence
                                                 if k not in ("identity", "coverage")))
    if not outcome.candidates:
        lines.append("  (none)")
    lines.append("")
    if outcome.accepted is not None:
        lines.append(f"accepted: {outcome.accepted.paper.title} ({outcome.reason})")
    else:
        lines.append(f"no paper accepted: {outcome.reason}; pass one with --paper DOI|PMID")
    return lines
