"""Judge each aligned story claim against the abstract -> findings and supported claims.

Stage 8 (`align_claims`, judge/align.py) pairs every story claim with its best evidence among the
abstract's claims; stage 9 (`judge`) runs the registered checks over those pairs. Each check is a
small function registered under the rule id it raises (`@check` in judge/registry.py), in one
module per family:

- citation.py    retraction, corrections, the journal, author and year the story names (per paper)
- results.py     not in the abstract, direction and significance, numbers given to the wrong group
- numbers.py     number, unit, sample size, study length, a subgroup figure told as the whole
- uncertainty.py intervals and effect sizes left out, relative changes without absolute figures
- population.py  animals told as people, a narrower group told as everyone
- wording.py     study design, causal language, dropped hedges, hardened certainty, terminology

The checks run in the order of the tables of rules/checks.toml, which also gives every finding
its kind, severity and message; thresholds and word lists come from rules/verdicts.toml.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Sequence

from ..nlp.quantities import pint_names
from ..rules import Rules
from ..types import Alignment, Article, Claim, Finding, Paper, Supported
from . import citation, numbers, population, results, uncertainty, wording  # noqa: F401  (registers the checks)
from ._common import Run, Vocab
from .align import align_claims
from .registry import run_checks

logger = logging.getLogger(__name__)

__all__ = ["align_claims", "judge", "one_per_span"]


def one_per_span(findings: Sequence[Finding], rule_order: Sequence[str]) -> list[Finding]:
    """One finding per quoted stretch of the story: of findings that quote the same words, the
    most serious stays (the first in rules/checks.toml order on a tie) and says what else was
    found. Findings on different clauses of one sentence stay apart: each names its own slip."""
    rank = {"high": 0, "medium": 1, "low": 2}
    position = {rule: i for i, rule in enumerate(rule_order)}
    ordered = sorted(findings, key=lambda f: (rank[f.severity], position.get(f.rule_id, 1 << 20)))
    kept: list[Finding] = []
    also: dict[int, list[Finding]] = {}
    for f in ordered:
        home = next((i for i, k in enumerate(kept) if k.paper == f.paper and
                     (k.article_span.start, k.article_span.end) ==
                     (f.article_span.start, f.article_span.end)), None)
        if home is None:
            kept.append(f)
        else:
            also.setdefault(home, []).append(f)
    out = []
    for i, f in enumerate(kept):
        extra = also.get(i, [])
        if extra:
            note = " Also: " + " ".join(e.message for e in extra)
            f = replace(f, message=f.message + note, details=f.details + tuple(
                ("also", f"{e.kind} ({e.rule_id})") for e in extra))
        out.append(f)
    return out


_VOCABS: dict[int, tuple[Rules, Vocab]] = {}


def _vocab(rules: Rules) -> Vocab:
    """The rules' word lists as patterns, compiled once per loaded Rules (not once per story)."""
    hit = _VOCABS.get(id(rules))
    if hit is None or hit[0] is not rules:
        hit = (rules, Vocab.from_rules(rules))  # holds `rules`, so its id is not reused
        _VOCABS[id(rules)] = hit
    return hit[1]


def judge(article: Article, papers: Sequence[Paper], article_claims: Sequence[Claim],
          abstract_claims: Sequence[Sequence[Claim]], alignments: Sequence[Alignment],
          rules: Rules) -> tuple[tuple[Finding, ...], tuple[Supported, ...]]:
    """Run every registered check over the story, its papers and the aligned claims.

    Args:
        article: the story (for its text, paragraphs and links).
        papers: the cited papers, in report order.
        article_claims: the story's claims.
        abstract_claims: the claims of each paper's abstract, in the same order as `papers`.
        alignments: one per story claim, from `align_claims`.
        rules: the loaded rules (checks.toml, verdicts.toml, lexicons).

    Returns:
        The findings (most severe first, then in story order) and the supported claims.

    Raises:
        RuleError: rules/checks.toml and the registered checks disagree.
    """
    run = Run(article=article, papers=papers, abstract_claims=abstract_claims,
              article_claims=article_claims, rules=rules, units=pint_names(rules),
              directions={row["term"]: row["direction"] for row in rules.tables.get("direction", ())},
              vocab=_vocab(rules),
              checks=rules.setting("checks"), verdicts=rules.setting("verdicts"))
    run_checks(run, alignments)
    order = {s: i for i, s in enumerate(("high", "medium", "low"))}
    abstracts = {run.paper_id(i): p.abstract for i, p in enumerate(papers)}
    merged = uncertainty.merge_uncertainty(uncertainty.dedupe_omissions(run.findings), article.text,
                                           abstracts)
    findings = sorted(one_per_span(merged, list(run.checks)),
                      key=lambda f: (order[f.severity], f.article_span.start))
    supported = sorted(run.supported, key=lambda s: s.article_span.start)
    return tuple(findings), tuple(supported)
