"""Numbers: number_mismatch, unit_mismatch, sample_size, duration, and a subgroup figure told as the whole.

One decision per story number: a number the abstract states (allowing rounding, approximation,
unit conversion and a ratio told as a percentage change) is supported, unless the abstract gives
it only for a subgroup (`subgroup-as-whole-v1`) or counts the screened where the story counts the
enrolled; a study length or a head count the abstract does not state is compared with the
abstract's own; any other number is compared with the aligned abstract sentence's. Number
primitives the other families use (`find_match`, `is_ratio`, `ratio_like`, `is_relative`) live
here too.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Mapping, Sequence

from ..nlp.quantities import convert
from ..types import Alignment, Claim, Quantity, Span
from ._common import (
    NUMERIC_KINDS,
    PRIMARY_DEFINED,
    Run,
    clause,
    cover,
    describe,
    fmt,
    is_participants,
    numbers_of,
    rounds_to,
    same_number,
    sentence_span,
    word_stem,
)
from .align import content_words, ranked_evidence
from .registry import check

logger = logging.getLogger(__name__)


def _unit(q: Quantity) -> str:
    return (q.unit or "").strip().lower()


def _kind_group(q: Quantity) -> str:
    return "number" if q.kind in {"number", "measure"} and not q.unit else q.kind


def _convertible(story: Quantity, paper: Quantity, run: Run) -> float | None:
    """The paper's value in the story's unit, when the units differ but convert."""
    if not story.unit or not paper.unit or _unit(story) == _unit(paper) or paper.value is None:
        return None
    return convert(paper.value, paper.unit, story.unit, run.units)


def _primary_results(run: Run, al: Alignment) -> Alignment:
    """When the story matches the abstract's definition of its primary outcome, its evidence is the
    result sentence that reports that outcome ("Rates of the primary end point were ...")."""
    evidence = al.abstract
    if evidence is None or not PRIMARY_DEFINED.search(evidence.text) or \
            any(q.kind in NUMERIC_KINDS for q in evidence.quantities if q.kind != "duration"):
        return al
    for c in run.abstract_claims[al.paper_index] if run.abstract_claims else ():
        if (c.section or "").upper() == "RESULTS" and \
                re.search(r"\bprimary[- ](?:composite\s+)?(?:end\s*-?point|outcome)", c.text, re.I):
            return Alignment(al.article, c, al.score, al.paper_index)
    return al


@check("number-mismatch-v1", needs=("evidence", "abstract"),
       also=("unit-mismatch-v1", "sample-size-v1", "duration-v1", "subgroup-as-whole-v1",
             "figure-not-in-abstract-v1"))
def numbers(run: Run, al: Alignment) -> None:
    """Each number of the story claim: supported, or the one finding its decision picks."""
    primary = _primary_results(run, al)
    swapped = primary is not al
    al = primary
    claim, evidence = al.article, al.abstract
    verdicts = run.verdicts
    nouns = frozenset(word_stem(w) for w in verdicts["population"]["participant_nouns"])
    everything = list(numbers_of(run.abstract_claims[al.paper_index])) if run.abstract_claims else []
    strong = (al.score >= verdicts["align"]["min_score"] or swapped) and evidence is not None
    for q in claim.quantities:
        if q.kind not in NUMERIC_KINDS or q.value is None:
            continue
        local = [(evidence, p) for p in evidence.quantities] if strong and evidence else []
        # a relative change told against the primary result's ratio is judged on that ratio
        # alone: another outcome's ratio elsewhere in the abstract does not make it right
        own_ratio = swapped and q.kind == "percent" and is_relative(claim, q) and \
            any(is_ratio(p) for _, p in local)
        match = find_match(q, local, run) or \
            (None if own_ratio else find_match(q, everything, run))
        if match:
            other_claim, p = match
            if _subgroup_told_as_whole(run, claim, q, other_claim, p):
                run.add("subgroup-as-whole-v1", claim, clause(claim, q.span.start, q.span.end),
                        clause(other_claim, p.span.start, p.span.end),
                        {"article_value": describe(q), "abstract_value": describe(p)},
                        al.score, al.paper_index)
                continue
            if is_participants(q, nouns, claim) and _role(claim, q, run) == "enrolled" and \
                    _role(other_claim, p, run) == "screened":
                enrolled = _enrolment_counts(run, al.paper_index, nouns)
                if enrolled:
                    other, r = enrolled[0]
                    run.add("sample-size-v1", claim, clause(claim, q.span.start, q.span.end),
                            clause(other, r.span.start, r.span.end),
                            {"article_value": f"{describe(q)} taking part",
                             "abstract_value": f"{describe(r)} (the {describe(p)} were only "
                                               f"screened)"}, al.score, al.paper_index)
                    continue
            swapped_for = _given_for_another_outcome(run, claim, q, other_claim, p)
            if swapped_for is not None:
                mine, theirs = swapped_for
                run.add("number-mismatch-v1", claim, clause(claim, q.span.start, q.span.end),
                        clause(other_claim, p.span.start, p.span.end),
                        {"article_value": f"{describe(q)} for {mine}",
                         "abstract_value": f"{describe(p)} for {theirs}"},
                        al.score, al.paper_index, once=False)
                continue
            run.support(f"{describe(q)} matches the abstract's {describe(p)}.",
                        clause(claim, q.span.start, q.span.end),
                        clause(other_claim, p.span.start, p.span.end), "number-match-v1",
                        al.score, al.paper_index)
            continue
        if q.kind == "duration":
            _flag_duration(run, al, q)
            continue
        if is_participants(q, nouns, claim) and _role(claim, q, run) == "enrolled":
            _flag_sample_size(run, al, q, nouns)
            continue
        if strong and evidence is not None and _flag_mismatch(run, al, q, nouns):
            continue
        _flag_unsupported_figure(run, al, q)


def _flag_unsupported_figure(run: Run, al: Alignment, q: Quantity) -> None:
    """A result figure (a percentage, a ratio, "three times as likely") that no abstract sentence
    states, told as the study's result: what the abstract does not report, shown next to the
    closest abstract sentence."""
    claim = al.article
    figures = run.verdicts["not_in_abstract"]
    if q.kind not in figures["figure_kinds"] or (q.of or "").lower() == "age":
        return
    if claim.kind not in figures["claim_kinds"] and claim.section not in {"title", "standfirst"}:
        return
    if _range_end(claim, q) or not run.abstract_claims:
        return
    if _derived(q, run.abstract_claims[al.paper_index], run):
        return
    if any(p.value is not None and p.kind != "ci" and rounds_to(q, p.value)
           for _, p in numbers_of(run.abstract_claims[al.paper_index])):
        return  # the number is there, in another unit or form: the other rules judge it
    closest = al.abstract
    if closest is None:
        ranked = ranked_evidence(claim, run.abstract_claims[al.paper_index],
                                 run.verdicts["align"], run.synonyms)
        closest = ranked[0][1] if ranked else None
    run.add("figure-not-in-abstract-v1", claim, clause(claim, q.span.start, q.span.end),
            sentence_span(closest) if closest is not None else None,
            {"article_value": describe(q)}, al.score, al.paper_index)


_LIST_JOIN = re.compile(r"^[\s%]*(?:and|,)?[\s,]*$", re.I)  # "5.7% and 1.2%"; not "5.6% vs 0.3%"


def _groups(claim: Claim, after: bool = True) -> list[tuple[list[Quantity], set[str]]]:
    """The claim's numbers in lists ("5.7% and 1.2%"), each with the words that follow it up to the
    next list ("in false positives"), or with `after` False those before it since the last list
    ("false positives fell by"): what the list's numbers are for."""
    # effect figures only: percentages and ratios, or decimals ("5.7 and 1.2 percent")
    numbers = sorted((q for q in claim.quantities if q.value is not None and (
        q.kind in {"percent", "ratio"} or (q.kind == "number" and "." in q.span.text))),
        key=lambda q: q.span.start)
    groups: list[list[Quantity]] = []
    for q in numbers:
        if groups and _LIST_JOIN.match(claim.text[groups[-1][-1].span.end - claim.start:
                                                  q.span.start - claim.start]):
            groups[-1].append(q)
        else:
            groups.append([q])
    out = []
    for i, group in enumerate(groups):
        if after:
            end = groups[i + 1][0].span.start if i + 1 < len(groups) else claim.end
            label = claim.text[group[-1].span.end - claim.start:end - claim.start]
            words = content_words(label)[:8]
        else:  # "false positives fell by 5.7% and 1.2% and false negatives by 9.4% and 2.7%"
            start = groups[i - 1][-1].span.end if i else claim.start
            label = claim.text[start - claim.start:group[0].span.start - claim.start]
            words = content_words(label)[-8:]
        out.append((group, set(words)))
    return out


def _given_for_another_outcome(run: Run, claim: Claim, q: Quantity, other: Claim,
                               p: Quantity) -> tuple[str, str] | None:
    """The story's number is the abstract's, but the abstract gives it for another of the
    outcomes it lists: "5.7% and 1.2% in false positives and 9.4% and 2.7% in false negatives"
    told as "reduce false negatives by 5.7 and 1.2 percent". Returns (story's, abstract's) outcome."""
    for after in (True, False):  # outcomes named after their figures, or before them
        found = _swapped(run, claim, q, p, _groups(other, after))
        if found is not None:
            return found
    return None


def _swapped(run: Run, claim: Claim, q: Quantity, p: Quantity,
             groups: list[tuple[list[Quantity], set[str]]]) -> tuple[str, str] | None:
    if len(groups) < 2:
        return None
    home_group, home = next(((group, words) for group, words in groups if p in group), ([], set()))
    told = next((group for group, _ in _groups(claim) if q in group), [])
    # a list told as a list: the story's figures are the abstract's list, in order
    if len(told) < 2 or len(told) != len(home_group) or not home or \
            not all(same_number(a, b, run.verdicts) for a, b in zip(told, home_group)):
        return None
    before = content_words(claim.text[:q.span.start - claim.start])[-6:]
    mine = set(before)  # what the story puts before its number
    for group, words in groups:
        if p in group or not words:
            continue
        theirs_only, home_only = words - home, home - words
        if not words & home:
            continue  # not parallel labels ("in false positives" / "in false negatives")
        if mine & theirs_only and not mine & home_only:
            said = " ".join(w for w in before if w in theirs_only)
            own = " ".join(sorted(home_only)) or "another outcome"
            return f"“{said}”", f"“{own}”"
    return None


def _derived(q: Quantity, claims: Sequence[Claim], run: Run) -> bool:
    """The story's ratio or relative change worked out from two shares one abstract sentence
    gives ("almost twice as likely" from 18.0% against 9.9%; "a 40% drop" from 6% against 10%)."""
    for c in claims:
        shares = [p.value for p in c.quantities if p.kind == "percent" and p.value]
        for a in shares:
            for b in shares:
                if a == b:
                    continue
                value = a / b if q.kind == "ratio" else abs(1 - a / b) * 100
                if same_number(q, Quantity(value=round(value, 4), unit=q.unit, kind=q.kind,
                                           span=q.span), run.verdicts):
                    return True
    return False


def _role(claim: Claim, q: Quantity, run: Run) -> str | None:
    """What a head count counts: "screened" people, or those "enrolled" in the study."""
    near = clause(claim, q.span.start, q.span.end).text
    if run.words.screened.search(near):
        return "screened"
    if run.words.enrolled.search(near):
        return "enrolled"
    return None

_ENROLMENT_NUMBER = re.compile(r"\b(?:randomly assigned|randomi[sz]ed|enrol+ed|recruited|included)\s+"
                               r"(?:a total of\s+)?(\d[\d,]*)\b", re.I)


def _enrolment_counts(run: Run, index: int, nouns: frozenset[str]) -> list[tuple[Claim, Quantity]]:
    """The abstract's counts of people enrolled or randomised, methods first."""
    claims = list(run.abstract_claims[index]) if run.abstract_claims else []
    ordered = sorted(claims, key=lambda c: (c.section or "").upper() not in {"METHODS", "RESULTS"})
    minimum = run.verdicts["population"]["min_sample"]
    found = [(c, p) for c in ordered for p in c.quantities
             if is_participants(p, nouns, c) and _role(c, p, run) == "enrolled" and
             (p.value or 0) >= minimum]
    if found:
        return found
    for c in ordered:  # "we screened 2654 individuals and randomly assigned 1260 to ..."
        for m in _ENROLMENT_NUMBER.finditer(c.text):
            value = float(m.group(1).replace(",", ""))
            if value >= minimum:
                span = Span(c.start + m.start(1), c.start + m.end(1), m.group(1))
                found.append((c, Quantity(value=value, unit=None, kind="count", span=span,
                                          of="participants")))
    return found


def _flag_sample_size(run: Run, al: Alignment, q: Quantity, nouns: frozenset[str]) -> None:
    """A story's head count of the study that the abstract does not give: compare with its own."""
    if (q.value or 0) < run.verdicts["population"]["min_sample"]:
        return
    counts = _enrolment_counts(run, al.paper_index, nouns)
    if not counts:
        return
    other, p = max(counts, key=lambda cp: cp[1].value or 0)  # the whole study, not one arm
    run.add("sample-size-v1", al.article, clause(al.article, q.span.start, q.span.end),
            clause(other, p.span.start, p.span.end),
            {"article_value": describe(q), "abstract_value": describe(p)},
            al.score, al.paper_index, once=False)


def _subgroup_told_as_whole(run: Run, claim: Claim, q: Quantity, other: Claim,
                           p: Quantity) -> bool:
    """The abstract gives this figure for a subgroup; the story gives it for everyone."""
    if q.kind not in {"percent", "count", "measure"}:
        return False
    markers = [re.compile(m, re.I) for m in run.verdicts["subgroup"]["markers"]]
    theirs = clause(other, p.span.start, p.span.end).text
    before = other.text[:max(0, p.span.start - other.start)]
    near = before[-80:] + " " + theirs
    if not any(m.search(near) for m in markers):
        return False
    if re.search(r"\bwho (?:received|were (?:randomly )?assigned|were given|took|were treated|got)\b",
                 near, re.I):
        return False  # "patients who received remdesivir": a trial arm, not a subgroup
    story_markers = [re.compile(m, re.I) for m in run.verdicts["subgroup"]["story_markers"]]
    mine = clause(claim, q.span.start, q.span.end).text
    return not any(m.search(mine) for m in markers + story_markers)


def find_match(q: Quantity, pool: Sequence[tuple[Claim, Quantity]],
                run: Run) -> tuple[Claim, Quantity] | None:
    verdicts = run.verdicts
    for other_claim, p in pool:
        if p.kind == "ci" or p.value is None:
            continue
        if q.kind == "percent" and ratio_like(q, p, verdicts):
            return other_claim, p
        if q.kind == "duration" or p.kind == "duration":
            if q.kind == p.kind == "duration" and _same_duration(q, p, run):
                return other_claim, p
            continue
        unitless = (q.kind == "number" and not q.unit) or (p.kind == "number" and not p.unit)
        if unitless:
            if same_number(q, p, verdicts):
                return other_claim, p
            continue
        if _kind_group(p) != _kind_group(q) and not ({p.kind, q.kind} <= {"count", "number"}):
            continue
        if _unit(p) == _unit(q) or not p.unit or not q.unit:
            if same_number(q, p, verdicts):
                return other_claim, p
        else:
            converted = _convertible(q, p, run)
            if converted is not None and same_number(q, Quantity(
                    value=converted, unit=q.unit, kind=p.kind, span=p.span), verdicts):
                return other_claim, p
    return None


def _days(q: Quantity, run: Run) -> float | None:
    """A duration in days, converted by pint through units.tsv ("18 months", "a decade")."""
    if q.value is None or not q.unit:
        return None
    return convert(q.value, q.unit, "day", run.units)


def _same_duration(q: Quantity, p: Quantity, run: Run) -> bool:
    verdicts = run.verdicts
    a, b = _days(q, run), _days(p, run)
    if a is None or b is None:
        return _unit(q) == _unit(p) and same_number(q, p, verdicts)
    tolerance = verdicts["numbers"]["approximate_tolerance"] if q.qualifier else \
        verdicts["durations"]["tolerance"]
    return abs(a - b) <= tolerance * max(a, b) or rounds_to(q, b / ((a / q.value) if q.value else 1))


def _ratio_as_percent(p: Quantity) -> float | None:
    """A hazard/risk/odds ratio as the percentage change a story would say (0.56 -> 44)."""
    if p.value is None or p.value <= 0:
        return None
    return round(abs(1.0 - p.value) * 100, 6)


def _is_ratio_change(q: Quantity, p: Quantity, verdicts: Mapping[str, Any]) -> bool:
    pct = _ratio_as_percent(p)
    if pct is None or q.value is None:
        return False
    return abs(q.value - pct) <= max(1.0, pct * verdicts["numbers"]["relative_tolerance"])


def _range_end(claim: Claim, q: Quantity) -> bool:
    """The top of a range read on its own ("an 8% to 34% lower risk"; not "from 92 to 30")."""
    before = claim.text[:max(0, q.span.start - claim.start)]
    # a number starts where its digits start, and the spaces are read once (tried from every
    # digit of a long run this was quadratic)
    m = re.search(r"(?<!\d)(\d++(?:\.\d++)?)\s*+(?:(?:%|percent|per cent)\s*+)?(?:to|-|–|and)\s*$",
                  before, re.I)
    return m is not None and q.value is not None and float(m.group(1)) < q.value


def _study_length(q: Quantity, claims: Sequence[Claim]) -> bool:
    """A duration that tells how long the study ran: not "every two weeks" or "aged 50 years"."""
    claim = next((c for c in claims if c.start <= q.span.start <= c.end), None)
    if claim is None:
        return False
    before = claim.text[:q.span.start - claim.start]
    after = claim.text[q.span.end - claim.start:]
    if re.search(r"\b(?:every|each|per|within|aged?|age|by|than)\s+$", before, re.I):
        return False  # an interval, an age, or an effect ("shortened recovery by 5 days")
    if re.search(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
                 r"\s*(?:to|-|–|or)\s*$", before, re.I):
        return False  # the top of a range ("three to five months"), read without its bottom
    if re.match(r"^\s*(?:old|of age|after|before|later|earlier|apart)\b", after, re.I):
        return False
    return True


def _flag_duration(run: Run, al: Alignment, q: Quantity) -> None:
    """A study length the abstract does not state: compare with the abstract's study lengths."""
    claim = al.article
    if not _study_length(q, [claim]) or _days(q, run) is None:
        return
    claims = run.abstract_claims[al.paper_index] if run.abstract_claims else ()
    lengths = [(c, p) for c, p in numbers_of(claims)
               if p.kind == "duration" and _days(p, run) and _study_length(p, [c])]
    if not lengths:
        return
    target = _days(q, run) or 0.0
    other, p = min(lengths, key=lambda cp: abs((_days(cp[1], run) or 0) - target))
    run.add("duration-v1", claim, clause(claim, q.span.start, q.span.end),
            clause(other, p.span.start, p.span.end),
            {"article_value": describe(q), "abstract_value": describe(p)},
            al.score, al.paper_index, once=False)


def _flag_mismatch(run: Run, al: Alignment, q: Quantity, nouns: frozenset[str]) -> bool:
    """Compare a number the abstract does not state with the aligned sentence's; True when it
    raised a finding or the number is not one to judge (a bare number, an age, a range end)."""
    claim, evidence = al.article, al.abstract
    assert evidence is not None
    candidates = [p for p in evidence.quantities if p.kind == q.kind and p.value is not None]
    if q.kind == "count":
        if not is_participants(q, nouns, claim) or \
                (q.value or 0) < run.verdicts["population"]["min_sample"]:
            return True
        candidates = [p for p in candidates if is_participants(p, nouns, evidence)]
        rule = "sample-size-v1"
    elif q.kind == "percent" and claim.direction in {"decrease", "increase"} and \
            not [p for p in candidates if _unit(p) == _unit(q)] and \
            [p for p in evidence.quantities if is_ratio(p) and p.value]:
        ratios = [p for p in evidence.quantities if is_ratio(p) and p.value]
        p = min(ratios, key=lambda r: abs((_ratio_as_percent(r) or 0) - (q.value or 0)))
        run.add("number-mismatch-v1", claim, clause(claim, q.span.start, q.span.end),
                cover(evidence, p.span.start, p.span.end),
                {"article_value": describe(q),
                 "abstract_value": f"{describe(p)}, a change of {fmt(_ratio_as_percent(p))}%"},
                al.score, al.paper_index, once=False)
        return True
    else:
        if not q.unit or (q.of or "").lower() == "age":
            return True  # a bare number or an age limit: too little to compare
        same_unit = [p for p in candidates if _unit(p) == _unit(q)]
        families = [{u.lower() for u in family} for family in run.verdicts["units"]["families"]]
        same_value = [p for p in evidence.quantities if p.value is not None and
                      p.kind != "ci" and _unit(p) != _unit(q) and q.unit and p.unit and
                      rounds_to(q, p.value) and _convertible(q, p, run) is None and
                      any({_unit(p), _unit(q)} <= family for family in families)]
        if _unit(q) in {"percentage points", "pp"}:
            # points are the careful wording for a difference the abstract may write with "%"
            same_value = [p for p in same_value if _unit(p) not in {"%"}]
        if not same_value and _range_end(claim, q):
            return True  # the top of a range read on its own
        if same_value:
            p = same_value[0]
            run.add("unit-mismatch-v1", claim, clause(claim, q.span.start, q.span.end),
                    clause(evidence, p.span.start, p.span.end),
                    {"article_value": describe(q), "abstract_value": describe(p)},
                    al.score, al.paper_index)
            return True
        candidates = same_unit
        rule = "number-mismatch-v1"
        same_outcome = bool(claim.outcome and evidence.outcome) and \
            run.mentioned(claim.outcome or "", [evidence.text], 1.0)
        if al.score < run.verdicts["align"]["strong_score"] and not same_outcome:
            return False
    if not candidates:
        return False
    p = min(candidates, key=lambda c: abs((c.value or 0) - (q.value or 0)))
    run.add(rule, claim, clause(claim, q.span.start, q.span.end),
            clause(evidence, p.span.start, p.span.end),
            {"article_value": describe(q), "abstract_value": describe(p)},
            al.score, al.paper_index, once=False)
    return True

_RELATIVE_BEFORE = re.compile(r"\b(?:by|cut|cuts|halved|slashed|reduced|lowered|raised)\s+"
                              r"(?:about\s+|around\s+|nearly\s+|almost\s+|some\s+)?$", re.I)

_RELATIVE_AFTER = re.compile(r"^\s*(?:lower|higher|fewer|less|more|greater|smaller|reduction|increased?|"
                             r"reduced|decreased?|drop|rise|cut|relative|excess)\b", re.I)


def worded_as_change(claim: Claim, q: Quantity) -> bool:
    """The words right after the number make it a change ("45% higher", "a 20% reduction")."""
    return bool(_RELATIVE_AFTER.match(claim.text[q.span.end - claim.start:]))


def is_relative(claim: Claim, q: Quantity) -> bool:
    """A relative change: flagged by the claims stage, or worded as one ("cut by 38%", "50% lower")."""
    if q.relative:
        return True
    if q.kind not in {"percent", "ratio"} or q.relative is False and q.kind == "ratio":
        return False
    before = claim.text[:q.span.start - claim.start]
    after = claim.text[q.span.end - claim.start:]
    return bool(_RELATIVE_BEFORE.search(before) or _RELATIVE_AFTER.match(after))


def is_ratio(p: Quantity) -> bool:
    """A hazard, odds or risk ratio: so tagged, or a bare number near 1 given with an interval."""
    return p.kind == "ratio" or (p.kind == "number" and p.value is not None and 0 < p.value < 3
                                 and p.low is not None and p.high is not None)


def ratio_like(q: Quantity, p: Quantity, verdicts: Mapping[str, Any]) -> bool:
    """A story's percentage change told from a ratio, even one read as a bare number with a CI."""
    if q.kind != "percent":
        return False
    if p.kind == "ratio":
        return _is_ratio_change(q, p, verdicts)
    if p.kind == "number" and p.value is not None and 0 < p.value < 3 and p.low is not None:
        return _is_ratio_change(q, Quantity(value=p.value, unit=None, kind="ratio", span=p.span),
                                verdicts)
    return False
