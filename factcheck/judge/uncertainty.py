"""Uncertainty: omitted_uncertainty (intervals and effect sizes left out) and relative_without_absolute.

The three omitted-uncertainty rules read one account of the abstract's intervals for the story
claim (`_intervals`): a matched effect whose interval includes no effect, or an effect told as
established when every interval crosses no effect (`ci-omitted-crosses-null-v1`); a matched
effect with a very wide interval (`ci-omitted-wide-v1`); an effect asserted without the size the
abstract gives (`effect-size-omitted-v1`). The later two skip a claim the first has flagged
(`unless` in rules/checks.toml). After the run, `dedupe_omissions` and `merge_uncertainty` tidy
the findings of the whole story.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from ..types import Alignment, Claim, Finding, Quantity, Span
from ._common import EFFECT_KINDS, RESULT_SECTIONS, Run, clause, cover, describe, fmt, same_number, sentence_span
from .numbers import is_relative, ratio_like, worded_as_change
from .registry import check

logger = logging.getLogger(__name__)


def _null_value(q: Quantity, as_ratio: bool = False) -> float:
    return 1.0 if q.kind == "ratio" or as_ratio else 0.0


def _crosses_null(q: Quantity, as_ratio: bool = False) -> bool:
    """The interval includes no effect (1 for a ratio, 0 for a difference). `as_ratio`: a bare
    number the story told as a percentage change ("1.09 (0.96 to 1.23)" as "9 percent")."""
    if q.low is None or q.high is None:
        return False
    null = _null_value(q, as_ratio)
    return min(q.low, q.high) <= null <= max(q.low, q.high)


def _ci_text(q: Quantity) -> str:
    return f"{fmt(q.low)} to {fmt(q.high)}"


@dataclass(frozen=True, slots=True)
class _Intervals:
    """What the abstract's confidence intervals say about a story claim that gives none."""

    evidence: Claim  # the abstract sentence that holds them
    with_ci: list[Quantity]  # its effects given with an interval
    matched: list[tuple[Quantity, Quantity]]  # (story number, abstract effect) that agree


def _intervals(run: Run, al: Alignment) -> _Intervals | None:
    """The abstract's effects with intervals near the story claim; None when there is nothing to judge."""
    claim, evidence = al.article, al.abstract
    verdicts = run.verdicts
    if any(q.kind == "ci" or q.low is not None for q in claim.quantities):
        return None
    aligned = evidence is not None and al.score >= verdicts["align"]["min_score"]
    def interval_effects(c: Claim) -> list[Quantity]:
        return [p for p in c.quantities if p.low is not None and p.high is not None
                and (p.kind in EFFECT_KINDS or (p.kind == "number" and not p.unit))]

    def matching(c: Claim) -> list[tuple[Quantity, Quantity]]:
        return [(q, p) for q in claim.quantities if q.kind in EFFECT_KINDS
                for p in interval_effects(c) if same_number(q, p, verdicts) or
                ratio_like(q, p, verdicts)]

    with_ci = interval_effects(evidence) if aligned and evidence is not None else []
    matched = matching(evidence) if aligned and evidence is not None else []
    if not matched and run.abstract_claims:
        # the effect may be stated in another sentence than the best-aligned one
        for other in run.abstract_claims[al.paper_index]:
            found = matching(other)
            if found and (other.section or "").upper() in RESULT_SECTIONS:
                evidence, matched, with_ci = other, found, interval_effects(other)
                break
    if evidence is None or not (aligned or matched):
        return None  # an unaligned claim is judged only on an effect it states
    return _Intervals(evidence=evidence, with_ci=with_ci, matched=matched)


def _told(seen: _Intervals) -> tuple[Span, str, str]:
    """The abstract span of the matched effects, the story's numbers and the intervals, as text."""
    first = min(p.span.start for _, p in seen.matched)
    last = max(p.span.end for _, p in seen.matched)
    abstract_span = cover(seen.evidence, first, last)
    article_values = " and ".join(describe(q) for q, _ in seen.matched)
    cis = "; ".join(f"{describe(p)}: 95% CI {_ci_text(p)}" for _, p in seen.matched)
    return abstract_span, article_values, cis


def _asserts_effect(claim: Claim) -> bool:
    return claim.significance == "significant" or claim.direction in {"increase", "decrease"}


@check("ci-omitted-crosses-null-v1", needs=("evidence", "abstract"),
       also=("nonsignificant-told-as-effect-v1",))
def interval_includes_no_effect(run: Run, al: Alignment) -> None:
    """The story gives an effect without the interval that includes no effect.

    A ratio, or a change told from one, stated plainly as a finding (not hedged, not called
    non-significant, not "due to chance") is a significance problem: the abstract's estimate is
    not statistically significant (`nonsignificant-told-as-effect-v1`). Hedged, it is an
    omitted interval.
    """
    seen = _intervals(run, al)
    if seen is None or al.article.significance == "not_significant":
        return  # the story says so itself ("too small to rule out chance")
    claim, verdicts = al.article, run.verdicts
    if seen.matched:
        crossing = [p for q, p in seen.matched
                    if _crosses_null(p, as_ratio=ratio_like(q, p, verdicts))]
        if crossing:
            abstract_span, article_values, cis = _told(seen)
            null = "no change" if all(p.kind != "ratio" for p in crossing) else "no effect"
            note = "; ".join(f"the interval for {describe(p)} ({_ci_text(p)}) includes {null}"
                             for p in crossing)
            # a ratio (or a change told from one) stated plainly is the study's effect
            relative = all(p.kind == "ratio" or ratio_like(q, p, verdicts)
                           for q, p in seen.matched if p in crossing)
            told_as_effect = relative and not claim.hedged and \
                claim.significance != "not_significant"
            told = [q for q, p in seen.matched if p in crossing]
            article_span = clause(claim, min(q.span.start for q in told),
                                  max(q.span.end for q in told))
            run.add("nonsignificant-told-as-effect-v1" if told_as_effect else
                    "ci-omitted-crosses-null-v1", claim, article_span, abstract_span,
                    {"article_values": article_values, "null_note": note, "abstract_cis": cis},
                    al.score, al.paper_index)
        return
    if al.abstract is None or al.score < verdicts["align"]["min_score"]:
        return
    effect_numbers = [q for q in claim.quantities if q.kind in EFFECT_KINDS]
    with_ci = seen.with_ci
    if _asserts_effect(claim) and not claim.hedged and not effect_numbers and with_ci and \
            all(_crosses_null(p) for p in with_ci) and \
            al.score >= verdicts["align"]["strong_score"]:
        p = with_ci[0]
        null = "no effect" if p.kind == "ratio" or (p.value or 0) < 3 else "no change"
        run.add("ci-omitted-crosses-null-v1", claim, sentence_span(claim),
                clause(seen.evidence, p.span.start, p.span.end),
                {"article_values": "the effect as established",
                 "null_note": f"the abstract's interval ({describe(p)}, {_ci_text(p)}) "
                              f"includes {null}",
                 "abstract_cis": _ci_text(p)}, al.score, al.paper_index)


@check("ci-omitted-wide-v1", needs=("evidence", "abstract"))
def interval_very_wide(run: Run, al: Alignment) -> None:
    """The story gives an effect without its very wide interval."""
    seen = _intervals(run, al)
    if seen is None or not seen.matched:
        return
    wide = [p for _, p in seen.matched if p.value and abs((p.high or 0) - (p.low or 0)) >
            run.verdicts["uncertainty"]["wide_ratio"] * abs(p.value)]
    if wide:
        abstract_span, article_values, cis = _told(seen)
        run.add("ci-omitted-wide-v1", al.article, sentence_span(al.article), abstract_span,
                {"article_values": article_values, "abstract_cis": cis},
                al.score, al.paper_index)


@check("effect-size-omitted-v1", needs=("evidence", "abstract", "story"))
def effect_size_omitted(run: Run, al: Alignment) -> None:
    """The story asserts an effect without the size (and interval) the abstract gives for it."""
    seen = _intervals(run, al)
    if seen is None or seen.matched:
        return
    claim, verdicts, with_ci = al.article, run.verdicts, seen.with_ci
    effect_numbers = [q for q in claim.quantities if q.kind in EFFECT_KINDS]
    reports_result = claim.significance is not None or claim.direction is not None
    told = [q for c in run.article_claims for q in c.quantities if q.value is not None]
    untold = [p for p in with_ci if p.value is not None and not any(
        same_number(q, p, verdicts) or ratio_like(q, p, verdicts) for q in told)]
    if reports_result and _asserts_effect(claim) and not effect_numbers and untold and \
            len(untold) == len(with_ci) and al.score >= verdicts["align"]["strong_score"]:
        p = untold[0]
        run.add("effect-size-omitted-v1", claim, sentence_span(claim),
                clause(seen.evidence, p.span.start, p.span.end),
                {"abstract_value": f"{describe(p)}, 95% CI {_ci_text(p)}"},
                al.score, al.paper_index)


# --- relative without absolute -----------------------------------------------------------------

def _is_share_of_count(claim: Claim, p: Quantity) -> bool:
    """A percentage given as the share of a count: "35 (4.3%)", "13 participants (1.6%)"."""
    before = claim.text[:max(0, p.span.start - claim.start)]
    # tried once per run of digits and commas (from each digit of it, 100 KB of digits took
    # minutes); the run is all one number to this test
    return bool(re.search(r"(?<![\d,]),*+\d[\d,]*+(?:\s+[a-z]++){0,2}\s*[(\[]\s*$", before))


def _relative_holder(run: Run, al: Alignment, relative: Sequence[Quantity]) -> Claim | None:
    """The abstract claim that states the story's relative figure (62%, or a ratio of 0.38)."""
    claims = run.abstract_claims[al.paper_index] if run.abstract_claims else ()
    for c in claims:
        for p in c.quantities:
            for q in relative:
                if p.kind != "ci" and (same_number(q, p, run.verdicts) or
                                       ratio_like(q, p, run.verdicts)):
                    return c
    return None


@check("relative-without-absolute-v1", needs=("evidence", "abstract", "story"))
def relative_without_absolute(run: Run, al: Alignment) -> None:
    """A relative change told without the absolute figures the abstract reports."""
    claim, evidence = al.article, al.abstract
    relative = [q for q in claim.quantities if q.kind in {"percent", "ratio"} and is_relative(claim, q)]
    absolute_here = [q for q in claim.quantities if q.kind == "percent" and not is_relative(claim, q)]
    if not relative or absolute_here:
        return
    holder = _relative_holder(run, al, relative)
    if holder is not None:
        evidence = holder
    elif evidence is None or al.score < run.verdicts["align"]["min_score"]:
        return
    absolute = [p for p in evidence.quantities if p.kind == "percent" and p.low is None and
                (_is_share_of_count(evidence, p) or not is_relative(evidence, p))]
    if len(absolute) < 2:
        return
    told = {round(v.value, 1) for c in run.article_claims for v in c.quantities
            if v.value is not None and v.kind == "percent"}
    if all(round(p.value or 0, 1) in told for p in absolute[:2]):
        return  # the story gives the absolute figures elsewhere
    q = relative[0]
    shown = " vs ".join(describe(p) for p in absolute[:2])
    run.add("relative-without-absolute-v1", claim, clause(claim, q.span.start, q.span.end),
            cover(evidence, absolute[0].span.start, absolute[1].span.end),
            {"article_value": describe(q), "abstract_value": shown}, al.score, al.paper_index)


@check("relative-told-as-absolute-v1", needs=("alignment", "abstract"))
def relative_told_as_absolute(run: Run, al: Alignment) -> None:
    """A relative change told as if it were an absolute share: "at 45% risk of breast cancer" for
    a hazard ratio of 1.45, "a reduction in 16 percent of people" for a risk ratio of 0.84."""
    claim = al.article
    if not run.abstract_claims or claim.hedged:
        return
    frames = run.verdicts["uncertainty"]
    before_re = re.compile(frames["absolute_frame_before"] + r"\s*$", re.I)
    after_re = re.compile(r"^\s*(?:" + frames["absolute_frame_after"] + r")", re.I)
    abstract = run.abstract_claims[al.paper_index]
    for q in claim.quantities:
        if q.kind != "percent" or q.value is None:
            continue
        before = run.article.text[max(claim.start, q.span.start - 25):q.span.start]
        after = run.article.text[q.span.end:min(claim.end, q.span.end + 40)]
        if not (after_re.match(after) and (before_re.search(before) or
                                            re.match(r"^\s+of\b", after, re.I))):
            continue
        same = [(c, p) for c in abstract for p in c.quantities
                if p.kind == "percent" and p.value is not None and same_number(q, p, run.verdicts)]
        changes = [(c, p) for c, p in same if worded_as_change(c, p)]
        if len(changes) < len(same):
            continue  # the abstract gives a share of that size ("45% higher" is a change, no share)
        ratios = changes or [(c, p) for c in abstract for p in c.quantities
                             if p.kind in {"ratio", "number"} and ratio_like(q, p, run.verdicts)]
        if not ratios:
            continue
        c, p = ratios[0]
        run.add("relative-told-as-absolute-v1", claim, clause(claim, q.span.start, q.span.end),
                clause(c, p.span.start, p.span.end),
                {"article_value": describe(q), "abstract_value": describe(p)},
                al.score, al.paper_index)
        return


# --- after the run: one finding per omission ---------------------------------------------------

def dedupe_omissions(findings: Sequence[Finding]) -> list[Finding]:
    """An effect size left out is reported once, at the story's first claim that omits it."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for f in sorted(findings, key=lambda f: f.article_span.start):
        if f.rule_id == "effect-size-omitted-v1" and f.abstract_span is not None:
            key = (f.rule_id, f.abstract_span.start, f.abstract_span.end)
            if key in seen:
                continue
            seen.add(key)
        out.append(f)
    return out


def merge_uncertainty(findings: Sequence[Finding], text: str,
                       abstracts: Mapping[str | None, str]) -> list[Finding]:
    """Omitted-CI findings on clauses of one sentence become one finding over the sentence."""
    order = {"high": 0, "medium": 1, "low": 2}
    out: list[Finding] = []
    for f in sorted(findings, key=lambda f: f.article_span.start):
        prev = out[-1] if out else None
        if prev is not None and f.kind == prev.kind == "omitted_uncertainty" and \
                f.rule_id != "effect-size-omitted-v1" and prev.rule_id != "effect-size-omitted-v1" \
                and not re.search(r"[.!?]\s", text[prev.article_span.end:f.article_span.start]) \
                and "\n" not in text[prev.article_span.end:f.article_span.start]:
            start, end = prev.article_span.start, f.article_span.end
            keep = prev if order[prev.severity] <= order[f.severity] else f
            a_span = prev.abstract_span
            source = abstracts.get(prev.paper)
            if prev.abstract_span and f.abstract_span and prev.paper == f.paper and source:
                a0 = min(prev.abstract_span.start, f.abstract_span.start)
                a1 = max(prev.abstract_span.end, f.abstract_span.end)
                a_span = Span(a0, a1, source[a0:a1])
            out[-1] = Finding(kind=keep.kind, severity=keep.severity,
                              message=f"{prev.message} {f.message}" if prev.message != f.message
                              else prev.message,
                              article_span=Span(start, end, text[start:end]),
                              abstract_span=a_span, rule_id=keep.rule_id, score=keep.score,
                              paper=keep.paper, details=prev.details + f.details)
            continue
        out.append(f)
    return out
