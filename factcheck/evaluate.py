"""Measure the checker: findings against hand-annotated cases (corpora/ and the seed).

A case is a story, its paper and an `expected.json` listing the discrepancies a careful editor
finds (kind, severity, exact quotes) and the claims the story reports faithfully. A finding
matches an expected discrepancy when the kinds agree and the finding's story quote overlaps the
expected one in the story text; each finding matches at most one discrepancy. A faithful claim is
confirmed when a `supported` item overlaps it; a finding that overlaps a faithful claim and
matches no expected discrepancy is a false alarm on it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from rapidfuzz import fuzz

from .types import Finding, Report

logger = logging.getLogger(__name__)


@dataclass
class CaseScore:
    """How one case went."""

    name: str
    expected: list[dict[str, Any]]
    found: list[Finding]
    matched: list[tuple[dict[str, Any], Finding]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    extra: list[Finding] = field(default_factory=list)
    faithful_total: int = 0
    faithful_confirmed: int = 0
    faithful_false_alarms: int = 0
    error: str | None = None


def locate(quote: str, text: str) -> tuple[int, int] | None:
    """Where `quote` stands in `text`: exactly, else case-insensitively, else by fuzzy alignment."""
    if not quote:
        return None
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    at = text.lower().find(quote.lower())
    if at >= 0:
        return at, at + len(quote)
    hit = fuzz.partial_ratio_alignment(quote, text, score_cutoff=85)
    if hit is None:
        return None
    return hit.dest_start, hit.dest_end


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score_case(name: str, report: Report, expected: dict[str, Any]) -> CaseScore:
    """Compare a report's findings and supported claims with a case's expected.json."""
    text = report.article.text if report.article else ""
    wanted = list(expected.get("discrepancies", []))
    result = CaseScore(name=name, expected=wanted, found=list(report.findings))
    used: set[int] = set()
    for item in wanted:
        where = locate(item["article_quote"], text)
        hit = None
        if where is not None:
            for i, f in enumerate(report.findings):
                if i in used or f.kind != item["kind"]:
                    continue
                if _overlaps((f.article_span.start, f.article_span.end), where):
                    hit = i
                    break
        if hit is None:
            result.missed.append(item)
        else:
            used.add(hit)
            result.matched.append((item, report.findings[hit]))
    result.extra = [f for i, f in enumerate(report.findings) if i not in used]
    faithful = expected.get("faithful_claims", [])
    result.faithful_total = len(faithful)
    for item in faithful:
        where = locate(item["article_quote"], text)
        if where is None:
            continue
        if any(_overlaps((s.article_span.start, s.article_span.end), where)
               for s in report.supported):
            result.faithful_confirmed += 1
        if any(_overlaps((f.article_span.start, f.article_span.end), where) for f in result.extra):
            result.faithful_false_alarms += 1
    return result


@dataclass
class Tally:
    """Precision and recall, per finding kind and overall."""

    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)

    def add(self, case: CaseScore) -> None:
        for item, _ in case.matched:
            self.tp[item["kind"]] += 1
        for item in case.missed:
            self.fn[item["kind"]] += 1
        for f in case.extra:
            self.fp[f.kind] += 1

    def kinds(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def prf(self, kind: str | None = None) -> tuple[float, float, float, int, int, int]:
        if kind is None:
            tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        else:
            tp, fp, fn = self.tp[kind], self.fp[kind], self.fn[kind]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f1, tp, fp, fn



def corpus_cases(root: Path) -> list[Path]:
    """Every case folder under `root` (a folder holding story.* and expected.json)."""
    return sorted(p.parent for p in root.rglob("expected.json")
                  if any(p.parent.glob("story.*")))


def format_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain Markdown table (the README pastes it as it is)."""
    def cell(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def tally_table(tally: Tally) -> str:
    rows = []
    for kind in tally.kinds():
        p, r, f1, tp, fp, fn = tally.prf(kind)
        rows.append((kind, p, r, f1, tp, fp, fn))
    p, r, f1, tp, fp, fn = tally.prf()
    rows.append(("**overall**", p, r, f1, tp, fp, fn))
    return format_table(rows, ("kind", "precision", "recall", "F1", "tp", "fp", "fn"))


def supported_summary(cases: Iterable[CaseScore]) -> tuple[int, int, int]:
    total = confirmed = alarms = 0
    for c in cases:
        total += c.faithful_total
        confirmed += c.faithful_confirmed
        alarms += c.faithful_false_alarms
    return total, confirmed, alarms


def _check_case(folder: Path, ctx: Any) -> Report:
    from .pipeline import compare_texts, read_article
    from .resolve import paper_from_file
    story = next(iter(sorted(folder.glob("story.*"))))
    paper_path = next((p for p in sorted(folder.iterdir())
                       if p.name.startswith(("pubmed", "paper", "europepmc", "crossref", "openalex"))
                       and p.suffix in {".xml", ".json"}), None)
    if paper_path is None:
        raise FileNotFoundError(f"{folder}: no pubmed.xml or paper.json")
    ctx.timings.clear()
    article = read_article(str(story), ctx)
    paper = paper_from_file(paper_path)  # efetch XML, service JSON or the seed's paper.json
    return compare_texts(article, (paper,), ctx, source=str(story))


def evaluate_cases(folders: Sequence[Path], ctx: Any) -> list[CaseScore]:
    """Run the checker on each case folder and score it against its expected.json."""
    from .errors import FactcheckError
    scores = []
    for folder in folders:
        expected = json.loads((folder / "expected.json").read_text("utf-8"))
        try:
            report = _check_case(folder, ctx)
        except (FactcheckError, FileNotFoundError) as exc:
            empty = CaseScore(name=folder.name, expected=expected.get("discrepancies", []), found=[],
                              missed=list(expected.get("discrepancies", [])), error=str(exc))
            scores.append(empty)
            continue
        scores.append(score_case(folder.name, report, expected))
    return scores


def _case_lines(scores: Sequence[CaseScore]) -> list[str]:
    lines = []
    for s in scores:
        status = f"error: {s.error}" if s.error else (
            f"{len(s.matched)}/{len(s.expected)} found, {len(s.extra)} extra, "
            f"faithful {s.faithful_confirmed}/{s.faithful_total} confirmed, "
            f"{s.faithful_false_alarms} false alarms on them")
        lines.append(f"- {s.name}: {status}")
        for item in s.missed:
            lines.append(f"    missed {item['kind']}: “{item['article_quote']}”")
        for f in s.extra:
            lines.append(f"    extra  {f.kind} ({f.rule_id}): “{f.article_span.text[:90]}”")
    return lines


def run_eval(settings: Any, corpus_dir: Path, shared: Path, details: bool = False,
             datasets: bool = True) -> tuple[str, int]:
    """Every accuracy figure the project reports, as Markdown text, and how many sets it scored.

    A set is the real stories, corpora/, the story pages, the seed or the data sets; 0 means
    nothing was found to score (the caller treats that as bad input, not success).
    """
    from .pipeline import build_context
    ctx = build_context(settings.with_(offline=True))
    out = []
    scored = 0
    from .evaluate_stories import stories_section  # real stories first, as the README shows them
    out.append("## real stories (../shared/stories)\n")
    section = stories_section(shared, details=details).rstrip()
    scored += not section.startswith("(real stories not found")
    out.append(section)
    out.append("")
    folders = corpus_cases(corpus_dir) if corpus_dir.is_dir() else []
    scored += bool(folders)
    if folders:
        scores = evaluate_cases(folders, ctx)
        tally = Tally()
        for s in scores:
            tally.add(s)
        total, confirmed, alarms = supported_summary(scores)
        clean = [s for s in scores if not s.expected and not s.error]
        out.append(f"## corpora ({len(folders)} cases, {corpus_dir})\n")
        out.append(tally_table(tally))
        out.append(f"\nfaithful claims confirmed: {confirmed}/{total}; findings on faithful claims: "
                   f"{alarms}; faithful stories with no finding: "
                   f"{sum(1 for s in clean if not s.found)}/{len(clean)}")
        if details:
            out.extend(["", *_case_lines(scores)])
    else:
        out.append(f"(no corpus cases under {corpus_dir})")
    pages = corpus_dir.parent / "pages"
    if pages.is_dir():
        scored += 1
        from .evaluate_pages import evaluate_pages
        out.append(f"\n## story pages ({pages})\n")
        table = evaluate_pages(pages, settings.with_(offline=True), ctx.rules).rstrip()
        if not details:  # the per-page table only with --details; the summary always
            table = table[table.rfind("\n\n| measure") + 2:] if "\n\n| measure" in table else table
        out.append(table)
    from .evaluate_resolve import run_resolve_eval
    out.append("\n## finding the paper (../shared/stories, corpora/cases, corpora/prose)\n")
    out.append(run_resolve_eval(corpus_dir.parent, shared, details=details).rstrip())
    seed = shared / "seed"
    if (seed / "expected.json").is_file():
        scored += 1
        scores = evaluate_cases([seed], ctx)
        s = scores[0]
        out.append("\n## seed (../shared/seed)\n")
        tally = Tally()
        tally.add(s)
        out.append(tally_table(tally))
        out.append(f"\nseed discrepancies found: {len(s.matched)}/{len(s.expected)}; faithful claims "
                   f"confirmed: {s.faithful_confirmed}/{s.faithful_total}; findings on faithful "
                   f"claims: {s.faithful_false_alarms}; extra findings: {len(s.extra)}")
        if details:
            out.extend(["", *_case_lines(scores)])
    else:
        out.append(f"\n(seed not found under {seed}; skipped)")
    if datasets and (shared / "datasets").is_dir():
        scored += 1
        from .evaluate_datasets import run_dataset_evals
        out.append("\n## public data sets (../shared/datasets)\n")
        out.append(run_dataset_evals(shared, ctx.analyzer, ctx.settings).rstrip())
        from .evaluate_checkcovid import run_check_covid
        out.append("\n## news claims vs abstracts (Check-COVID)\n")
        out.append(run_check_covid(shared, ctx).rstrip())
    elif datasets:
        out.append(f"\n(data sets not found under {shared / 'datasets'}; skipped)")
    return "\n".join(out) + "\n", scored
