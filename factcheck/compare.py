"""Judge each aligned story claim against the abstract -> findings and supported claims.

Each check is a small function `(ctx, item) -> None` that appends to `ctx.findings` or
`ctx.supported`. The kind, severity and wording of every finding come from rules/checks.toml
(keyed by rule id); thresholds come from rules/verdicts.toml. The checks, in order:

1. citation status: retraction, corrections, journal named in the story  (paper level)
2. not-in-abstract: primary results from a secondary paper; outcomes the abstract never mentions
3. numbers: number_mismatch, unit_mismatch, sample_size, duration; matches become `supported`
4. uncertainty: confidence intervals or effect sizes left out
5. direction and significance flips (only on strong alignments)
6. population: women -> patients, mice -> people
7. study design: a cohort called a trial, a preprint called peer-reviewed
8. causal language, dropped hedges, hardened certainty
9. relative without absolute
10. terminology slips from rules/lexicons/terminology.tsv
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, Sequence

from rapidfuzz import fuzz

from .align import content_words, ranked_evidence
from .nlp.quantities import convert, pint_names
from .rules import Rules
from .types import Alignment, Article, Claim, Finding, Paper, Quantity, Span, Supported

logger = logging.getLogger(__name__)

_NUMERIC_KINDS = frozenset({"count", "measure", "percent", "ratio", "duration", "money", "number"})
_EFFECT_KINDS = frozenset({"measure", "percent", "ratio"})
_CONTEXTS = frozenset({"title", "standfirst", "caption"})


def _words_re(words: Iterable[str], tail: str = "") -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w).replace("\\ ", r"\s+")
                            for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives}){tail}\b", re.I)


@dataclass(frozen=True)
class _Vocab:
    """The word lists of rules/ that the checks read, as patterns built once per check."""

    generic_outcomes: frozenset[str]
    negation: re.Pattern[str]  # a negation cue a few words before a direction word
    compared_noun: re.Pattern[str]  # "lower risk": a comparison, not a verb
    male: re.Pattern[str]
    female: re.Pattern[str]
    animal: re.Pattern[str]
    enrolled: re.Pattern[str]
    screened: re.Pattern[str]
    idioms: tuple[tuple[re.Pattern[str], str, str], ...]

    @classmethod
    def from_rules(cls, rules: Rules) -> _Vocab:
        v = rules.setting("verdicts")["vocabulary"]
        nouns = sorted(set(rules.lexicons.get("relative_cues", frozenset())) |
                       set(v["compared_nouns"]))
        modifiers = "|".join(re.escape(m) for m in v["compared_noun_modifiers"])
        # "n't" hangs on its verb ("didn't"), so only whole-word cues get a leading \b
        negations = "|".join(("" if n.startswith("n'") else r"\b") + re.escape(n).replace("\\ ", r"\s+")
                             for n in sorted(rules.lexicon("negations"), key=len, reverse=True))
        return cls(
            generic_outcomes=frozenset(v["generic_outcome_words"]),
            negation=re.compile(rf"(?:{negations})\b(?:\s+\w+){{0,3}}\s*$", re.I),
            compared_noun=re.compile(rf"^\s+(?:(?:{modifiers})\s+)?(?:{'|'.join(nouns)})s?\b", re.I),
            male=_words_re(v["male_words"]), female=_words_re(v["female_words"]),
            animal=_words_re(v["animal_words"]), enrolled=_words_re(v["enrolled_words"]),
            screened=_words_re(v["screened_words"]),
            idioms=tuple((re.compile(i["pattern"], re.I), i["outcome"], i["direction"])
                         for i in v["idioms"]))


@dataclass
class _Ctx:
    article: Article
    papers: Sequence[Paper]
    abstract_claims: Sequence[Sequence[Claim]]
    article_claims: Sequence[Claim]
    rules: Rules
    checks: Mapping[str, Any]
    verdicts: Mapping[str, Any]
    units: Mapping[str, str | None] = field(default_factory=dict)  # canonical unit -> pint
    directions: Mapping[str, str] = field(default_factory=dict)  # direction word -> direction
    vocab: _Vocab | None = None
    findings: list[Finding] = field(default_factory=list)
    supported: list[Supported] = field(default_factory=list)
    flagged: set[tuple[int, str]] = field(default_factory=set)  # (claim start, kind) already raised

    @property
    def words(self) -> _Vocab:
        assert self.vocab is not None, "judge() builds the vocabulary"
        return self.vocab

    @property
    def synonyms(self) -> Sequence[Mapping[str, str]]:
        return self.rules.tables.get("outcome_synonyms", ())

    def mentioned(self, phrase: str, sentences: Sequence[str], coverage: float = 1.0) -> bool:
        """Whether one of `sentences` names the outcome `phrase` (synonyms and inflections too)."""
        return _mentioned(phrase, sentences, coverage, self.synonyms, self.words.generic_outcomes)

    def paper_id(self, index: int) -> str | None:
        if not self.papers:
            return None
        paper = self.papers[index]
        return paper.doi or (f"PMID:{paper.pmid}" if paper.pmid else None)

    def add(self, rule_id: str, claim: Claim, article_span: Span, abstract_span: Span | None,
            fields: Mapping[str, object], score: float | None = None, paper_index: int = 0,
            once: bool = True) -> None:
        spec = self.checks[rule_id]
        kind = spec["kind"]
        key = (claim.start, kind)
        if once and key in self.flagged:
            return
        self.flagged.add(key)
        context = claim.section if claim.section in _CONTEXTS else "default"
        severities = spec["severity"]
        severity = severities.get(context, severities["default"])
        message = spec["message"].format_map(_Fields(fields))
        details = tuple((k, str(v)) for k, v in fields.items())
        self.findings.append(Finding(
            kind=kind, severity=severity, message=message, article_span=article_span,
            abstract_span=abstract_span, rule_id=rule_id,
            score=None if score is None else round(score, 3),
            paper=self.paper_id(paper_index), details=details))

    def support(self, message: str, article_span: Span, abstract_span: Span, rule_id: str,
                score: float | None = None, paper_index: int = 0) -> None:
        for item in self.supported:
            if (item.article_span, item.abstract_span, item.message) == \
                    (article_span, abstract_span, message):
                return
        self.supported.append(Supported(
            message=message, article_span=article_span, abstract_span=abstract_span,
            rule_id=rule_id, score=None if score is None else round(score, 3),
            paper=self.paper_id(paper_index)))


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "?"


# --- spans -------------------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(r"[;:]|,\s+(?=(?:whereas|while|but|and|which|although|though|with)\b)|,\s")


def clause(claim: Claim, start: int, end: int) -> Span:
    """The clause of `claim` around [start, end): split at ; : and commas outside brackets."""
    text, base = claim.text, claim.start
    rel_start, rel_end = start - base, end - base
    depth, cuts = 0, [0]
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0:
            m = _CLAUSE_BREAK.match(text, i)
            if m:
                cuts.append(m.end())
    cuts.append(len(text) + 1)
    left = max(c for c in cuts if c <= max(rel_start, 0))
    right_candidates = [c for c in cuts if c > rel_end]
    right = min(right_candidates) if right_candidates else len(text)
    piece = text[left:right].rstrip(" ,;:.")
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    return Span(base + left + lead, base + left + lead + len(piece), piece)


def sentence_span(claim: Claim) -> Span:
    text = claim.text.rstrip()
    trimmed = text.rstrip(".")
    return Span(claim.start, claim.start + len(trimmed), trimmed)


# --- numbers -----------------------------------------------------------------------------------

def _decimals(q: Quantity) -> int:
    m = re.search(r"\d+(?:[.,]\d+)*", q.span.text)
    if not m or "." not in m.group(0):
        return 0
    return len(m.group(0).rsplit(".", 1)[1])


def _rounds_to(story: Quantity, paper_value: float) -> bool:
    if story.value is None:
        return False
    step = Decimal(1).scaleb(-_decimals(story))
    return Decimal(str(paper_value)).quantize(step, rounding=ROUND_HALF_UP) == \
        Decimal(str(story.value)).quantize(step, rounding=ROUND_HALF_UP)


def same_number(story: Quantity, paper: Quantity, verdicts: Mapping[str, Any]) -> bool:
    """True when the story's number is the paper's, allowing rounding and stated approximation."""
    if story.value is None or paper.value is None:
        return False
    if _rounds_to(story, paper.value):
        return True
    if story.value > 0 > paper.value and _rounds_to(story, -paper.value):
        return True  # "a difference of 5.81 points" for -5.81: the sign is carried by the words
    bound = verdicts["numbers"]["bound_slack"]
    if story.qualifier in (">", ">="):  # "more than 2,000" is true of 2,262, not of 25,871 ... or 200
        return story.value <= paper.value <= story.value * bound
    if story.qualifier in ("<", "<="):
        return story.value / bound <= paper.value <= story.value
    tolerance = verdicts["numbers"]["relative_tolerance"]
    if story.qualifier:
        tolerance = verdicts["numbers"]["approximate_tolerance"]
    scale = max(abs(paper.value), 1e-9)
    return abs(story.value - paper.value) / scale <= tolerance


def _unit(q: Quantity) -> str:
    return (q.unit or "").strip().lower()


def _kind_group(q: Quantity) -> str:
    return "number" if q.kind in {"number", "measure"} and not q.unit else q.kind


def _convertible(story: Quantity, paper: Quantity, ctx: _Ctx) -> float | None:
    """The paper's value in the story's unit, when the units differ but convert."""
    if not story.unit or not paper.unit or _unit(story) == _unit(paper) or paper.value is None:
        return None
    return convert(paper.value, paper.unit, story.unit, ctx.units)


def _describe(q: Quantity) -> str:
    text = q.span.text.strip()
    if q.of and q.of.lower() not in text.lower() and q.of != q.unit:
        text = f"{text} {q.of}"
    return f"“{text}”"


def _is_participants(q: Quantity, nouns: frozenset[str], claim: Claim | None = None) -> bool:
    if claim is not None:
        before = claim.text[:max(0, q.span.start - claim.start)]
        after = claim.text[q.span.end - claim.start:]
        if re.search(r"\bper\s*$", before) or re.match(r"^-?\s*years?\b", after):
            return False  # a rate's denominator ("per 1,000 participant-years"), not a sample
    if q.value is None or q.value != int(q.value):
        return False  # 5.8 cases per 1,000: a rate, not a head count
    return q.kind == "count" and bool(q.of) and _stem((q.of or "").lower().split()[-1]) in nouns


def _stem(word: str) -> str:
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _numbers_of(claims: Iterable[Claim]) -> Iterable[tuple[Claim, Quantity]]:
    for claim in claims:
        for q in claim.quantities:
            if q.kind in _NUMERIC_KINDS and q.value is not None:
                yield claim, q


def _primary_results(ctx: _Ctx, al: Alignment) -> Alignment:
    """When the story matches the abstract's definition of its primary outcome, its evidence is the
    result sentence that reports that outcome ("Rates of the primary end point were ...")."""
    evidence = al.abstract
    if evidence is None or not _PRIMARY_DEFINED.search(evidence.text) or \
            any(q.kind in _NUMERIC_KINDS for q in evidence.quantities if q.kind != "duration"):
        return al
    for c in ctx.abstract_claims[al.paper_index] if ctx.abstract_claims else ():
        if (c.section or "").upper() == "RESULTS" and \
                re.search(r"\bprimary[- ](?:composite\s+)?(?:end\s*-?point|outcome)", c.text, re.I):
            return Alignment(al.article, c, al.score, al.paper_index)
    return al


def check_numbers(ctx: _Ctx, al: Alignment) -> None:
    primary = _primary_results(ctx, al)
    swapped = primary is not al
    al = primary
    claim, evidence = al.article, al.abstract
    verdicts = ctx.verdicts
    nouns = frozenset(_stem(w) for w in verdicts["population"]["participant_nouns"])
    everything = list(_numbers_of(ctx.abstract_claims[al.paper_index])) if ctx.abstract_claims else []
    strong = (al.score >= verdicts["align"]["min_score"] or swapped) and evidence is not None
    for q in claim.quantities:
        if q.kind not in _NUMERIC_KINDS or q.value is None:
            continue
        local = [(evidence, p) for p in evidence.quantities] if strong and evidence else []
        # a relative change told against the primary result's ratio is judged on that ratio
        # alone: another outcome's ratio elsewhere in the abstract does not make it right
        own_ratio = swapped and q.kind == "percent" and _is_relative(claim, q) and \
            any(_is_ratio(p) for _, p in local)
        match = _find_match(q, local, ctx) or \
            (None if own_ratio else _find_match(q, everything, ctx))
        if match:
            other_claim, p = match
            if _subgroup_told_as_whole(ctx, claim, q, other_claim, p):
                ctx.add("subgroup-as-whole-v1", claim, clause(claim, q.span.start, q.span.end),
                        clause(other_claim, p.span.start, p.span.end),
                        {"article_value": _describe(q), "abstract_value": _describe(p)},
                        al.score, al.paper_index)
                continue
            if _is_participants(q, nouns, claim) and _role(claim, q, ctx) == "enrolled" and \
                    _role(other_claim, p, ctx) == "screened":
                enrolled = _enrolment_counts(ctx, al.paper_index, nouns)
                if enrolled:
                    other, r = enrolled[0]
                    ctx.add("sample-size-v1", claim, clause(claim, q.span.start, q.span.end),
                            clause(other, r.span.start, r.span.end),
                            {"article_value": f"{_describe(q)} taking part",
                             "abstract_value": f"{_describe(r)} (the {_describe(p)} were only "
                                               f"screened)"}, al.score, al.paper_index)
                    continue
            ctx.support(f"{_describe(q)} matches the abstract's {_describe(p)}.",
                        clause(claim, q.span.start, q.span.end),
                        clause(other_claim, p.span.start, p.span.end), "number-match-v1",
                        al.score, al.paper_index)
            continue
        if q.kind == "duration":
            _flag_duration(ctx, al, q)
            continue
        if _is_participants(q, nouns, claim) and _role(claim, q, ctx) == "enrolled":
            _flag_sample_size(ctx, al, q, nouns)
            continue
        if not strong or evidence is None:
            continue
        _flag_mismatch(ctx, al, q, nouns)




def _role(claim: Claim, q: Quantity, ctx: _Ctx) -> str | None:
    """What a head count counts: "screened" people, or those "enrolled" in the study."""
    near = clause(claim, q.span.start, q.span.end).text
    if ctx.words.screened.search(near):
        return "screened"
    if ctx.words.enrolled.search(near):
        return "enrolled"
    return None


_ENROLMENT_NUMBER = re.compile(r"\b(?:randomly assigned|randomi[sz]ed|enrol+ed|recruited|included)\s+"
                               r"(?:a total of\s+)?(\d[\d,]*)\b", re.I)


def _enrolment_counts(ctx: _Ctx, index: int, nouns: frozenset[str]) -> list[tuple[Claim, Quantity]]:
    """The abstract's counts of people enrolled or randomised, methods first."""
    claims = list(ctx.abstract_claims[index]) if ctx.abstract_claims else []
    ordered = sorted(claims, key=lambda c: (c.section or "").upper() not in {"METHODS", "RESULTS"})
    minimum = ctx.verdicts["population"]["min_sample"]
    found = [(c, p) for c in ordered for p in c.quantities
             if _is_participants(p, nouns, c) and _role(c, p, ctx) == "enrolled" and
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


def _flag_sample_size(ctx: _Ctx, al: Alignment, q: Quantity, nouns: frozenset[str]) -> None:
    """A story's head count of the study that the abstract does not give: compare with its own."""
    if (q.value or 0) < ctx.verdicts["population"]["min_sample"]:
        return
    counts = _enrolment_counts(ctx, al.paper_index, nouns)
    if not counts:
        return
    other, p = max(counts, key=lambda cp: cp[1].value or 0)  # the whole study, not one arm
    ctx.add("sample-size-v1", al.article, clause(al.article, q.span.start, q.span.end),
            clause(other, p.span.start, p.span.end),
            {"article_value": _describe(q), "abstract_value": _describe(p)},
            al.score, al.paper_index, once=False)


def _subgroup_told_as_whole(ctx: _Ctx, claim: Claim, q: Quantity, other: Claim,
                           p: Quantity) -> bool:
    """The abstract gives this figure for a subgroup; the story gives it for everyone."""
    if q.kind not in {"percent", "count", "measure"}:
        return False
    markers = [re.compile(m, re.I) for m in ctx.verdicts["subgroup"]["markers"]]
    theirs = clause(other, p.span.start, p.span.end).text
    before = other.text[:max(0, p.span.start - other.start)]
    near = before[-80:] + " " + theirs
    if not any(m.search(near) for m in markers):
        return False
    if re.search(r"\bwho (?:received|were (?:randomly )?assigned|were given|took|were treated|got)\b",
                 near, re.I):
        return False  # "patients who received remdesivir": a trial arm, not a subgroup
    story_markers = [re.compile(m, re.I) for m in ctx.verdicts["subgroup"]["story_markers"]]
    mine = clause(claim, q.span.start, q.span.end).text
    return not any(m.search(mine) for m in markers + story_markers)


def _find_match(q: Quantity, pool: Sequence[tuple[Claim, Quantity]],
                ctx: _Ctx) -> tuple[Claim, Quantity] | None:
    verdicts = ctx.verdicts
    for other_claim, p in pool:
        if p.kind == "ci" or p.value is None:
            continue
        if q.kind == "percent" and _ratio_like(q, p, verdicts):
            return other_claim, p
        if q.kind == "duration" or p.kind == "duration":
            if q.kind == p.kind == "duration" and _same_duration(q, p, ctx):
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
            converted = _convertible(q, p, ctx)
            if converted is not None and same_number(q, Quantity(
                    value=converted, unit=q.unit, kind=p.kind, span=p.span), verdicts):
                return other_claim, p
    return None


def _days(q: Quantity, ctx: _Ctx) -> float | None:
    """A duration in days, converted by pint through units.tsv ("18 months", "a decade")."""
    if q.value is None or not q.unit:
        return None
    return convert(q.value, q.unit, "day", ctx.units)


def _same_duration(q: Quantity, p: Quantity, ctx: _Ctx) -> bool:
    verdicts = ctx.verdicts
    a, b = _days(q, ctx), _days(p, ctx)
    if a is None or b is None:
        return _unit(q) == _unit(p) and same_number(q, p, verdicts)
    tolerance = verdicts["numbers"]["approximate_tolerance"] if q.qualifier else \
        verdicts["durations"]["tolerance"]
    return abs(a - b) <= tolerance * max(a, b) or _rounds_to(q, b / ((a / q.value) if q.value else 1))


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
    m = re.search(r"(\d+(?:\.\d+)?)\s*(?:%|percent|per cent)?\s*(?:to|-|–|and)\s*$", before, re.I)
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


def _flag_duration(ctx: _Ctx, al: Alignment, q: Quantity) -> None:
    """A study length the abstract does not state: compare with the abstract's study lengths."""
    claim = al.article
    if not _study_length(q, [claim]) or _days(q, ctx) is None:
        return
    claims = ctx.abstract_claims[al.paper_index] if ctx.abstract_claims else ()
    lengths = [(c, p) for c, p in _numbers_of(claims)
               if p.kind == "duration" and _days(p, ctx) and _study_length(p, [c])]
    if not lengths:
        return
    target = _days(q, ctx) or 0.0
    other, p = min(lengths, key=lambda cp: abs((_days(cp[1], ctx) or 0) - target))
    ctx.add("duration-v1", claim, clause(claim, q.span.start, q.span.end),
            clause(other, p.span.start, p.span.end),
            {"article_value": _describe(q), "abstract_value": _describe(p)},
            al.score, al.paper_index, once=False)


def _flag_mismatch(ctx: _Ctx, al: Alignment, q: Quantity, nouns: frozenset[str]) -> None:
    claim, evidence = al.article, al.abstract
    assert evidence is not None
    candidates = [p for p in evidence.quantities if p.kind == q.kind and p.value is not None]
    if q.kind == "count":
        if not _is_participants(q, nouns, claim) or \
                (q.value or 0) < ctx.verdicts["population"]["min_sample"]:
            return
        candidates = [p for p in candidates if _is_participants(p, nouns, evidence)]
        rule = "sample-size-v1"
    elif q.kind == "percent" and claim.direction in {"decrease", "increase"} and \
            not [p for p in candidates if _unit(p) == _unit(q)] and \
            [p for p in evidence.quantities if _is_ratio(p) and p.value]:
        ratios = [p for p in evidence.quantities if _is_ratio(p) and p.value]
        p = min(ratios, key=lambda r: abs((_ratio_as_percent(r) or 0) - (q.value or 0)))
        ctx.add("number-mismatch-v1", claim, clause(claim, q.span.start, q.span.end),
                _cover(evidence, p.span.start, p.span.end),
                {"article_value": _describe(q),
                 "abstract_value": f"{_describe(p)}, a change of {_fmt(_ratio_as_percent(p))}%"},
                al.score, al.paper_index, once=False)
        return
    else:
        if not q.unit or (q.of or "").lower() == "age":
            return  # a bare number or an age limit: too little to compare
        same_unit = [p for p in candidates if _unit(p) == _unit(q)]
        families = [{u.lower() for u in family} for family in ctx.verdicts["units"]["families"]]
        same_value = [p for p in evidence.quantities if p.value is not None and
                      p.kind != "ci" and _unit(p) != _unit(q) and q.unit and p.unit and
                      _rounds_to(q, p.value) and _convertible(q, p, ctx) is None and
                      any({_unit(p), _unit(q)} <= family for family in families)]
        if _unit(q) in {"percentage points", "pp"}:
            # points are the careful wording for a difference the abstract may write with "%"
            same_value = [p for p in same_value if _unit(p) not in {"%"}]
        if not same_value and _range_end(claim, q):
            return  # the top of a range read on its own
        if same_value:
            p = same_value[0]
            ctx.add("unit-mismatch-v1", claim, clause(claim, q.span.start, q.span.end),
                    clause(evidence, p.span.start, p.span.end),
                    {"article_value": _describe(q), "abstract_value": _describe(p)},
                    al.score, al.paper_index)
            return
        candidates = same_unit
        rule = "number-mismatch-v1"
        same_outcome = bool(claim.outcome and evidence.outcome) and \
            ctx.mentioned(claim.outcome or "", [evidence.text], 1.0)
        if al.score < ctx.verdicts["align"]["strong_score"] and not same_outcome:
            return
    if not candidates:
        return
    p = min(candidates, key=lambda c: abs((c.value or 0) - (q.value or 0)))
    ctx.add(rule, claim, clause(claim, q.span.start, q.span.end),
            clause(evidence, p.span.start, p.span.end),
            {"article_value": _describe(q), "abstract_value": _describe(p)},
            al.score, al.paper_index, once=False)


# --- uncertainty -------------------------------------------------------------------------------

def _null_value(q: Quantity) -> float:
    return 1.0 if q.kind == "ratio" else 0.0


def _crosses_null(q: Quantity) -> bool:
    if q.low is None or q.high is None:
        return False
    null = _null_value(q)
    return min(q.low, q.high) <= null <= max(q.low, q.high)


def _ci_text(q: Quantity) -> str:
    return f"{_fmt(q.low)} to {_fmt(q.high)}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}".replace("-", "−")


def check_uncertainty(ctx: _Ctx, al: Alignment) -> None:
    claim, evidence = al.article, al.abstract
    verdicts = ctx.verdicts
    if evidence is None or al.score < verdicts["align"]["min_score"]:
        return
    if any(q.kind == "ci" or q.low is not None for q in claim.quantities):
        return
    def interval_effects(c: Claim) -> list[Quantity]:
        return [p for p in c.quantities if p.low is not None and p.high is not None
                and (p.kind in _EFFECT_KINDS or (p.kind == "number" and not p.unit))]

    def matching(c: Claim) -> list[tuple[Quantity, Quantity]]:
        return [(q, p) for q in claim.quantities if q.kind in _EFFECT_KINDS
                for p in interval_effects(c) if same_number(q, p, verdicts) or
                _ratio_like(q, p, verdicts)]

    with_ci = interval_effects(evidence)
    matched = matching(evidence)
    if not matched and ctx.abstract_claims:
        # the effect may be stated in another sentence than the best-aligned one
        for other in ctx.abstract_claims[al.paper_index]:
            found = matching(other)
            if found and (other.section or "").upper() in _RESULT_SECTIONS:
                evidence, matched, with_ci = other, found, interval_effects(other)
                break
    if matched:
        crossing = [p for _, p in matched if _crosses_null(p)]
        wide = [p for _, p in matched if p.value and abs((p.high or 0) - (p.low or 0)) >
                verdicts["uncertainty"]["wide_ratio"] * abs(p.value)]
        first = min(p.span.start for _, p in matched)
        last = max(p.span.end for _, p in matched)
        abstract_span = _cover(evidence, first, last)
        article_values = " and ".join(_describe(q) for q, _ in matched)
        cis = "; ".join(f"{_describe(p)}: 95% CI {_ci_text(p)}" for _, p in matched)
        if crossing:
            null = "no change" if all(p.kind != "ratio" for p in crossing) else "no effect"
            note = "; ".join(f"the interval for {_describe(p)} ({_ci_text(p)}) includes {null}"
                             for p in crossing)
            ctx.add("ci-omitted-crosses-null-v1", claim, sentence_span(claim), abstract_span,
                    {"article_values": article_values, "null_note": note, "abstract_cis": cis},
                    al.score, al.paper_index)
        elif wide:
            ctx.add("ci-omitted-wide-v1", claim, sentence_span(claim), abstract_span,
                    {"article_values": article_values, "abstract_cis": cis},
                    al.score, al.paper_index)
        return
    effect_numbers = [q for q in claim.quantities if q.kind in _EFFECT_KINDS]
    reports_result = claim.significance is not None or claim.direction is not None
    told = [q for c in ctx.article_claims for q in c.quantities if q.value is not None]
    untold = [p for p in with_ci if p.value is not None and not any(
        same_number(q, p, verdicts) or _ratio_like(q, p, verdicts) for q in told)]
    asserts_effect = claim.significance == "significant" or \
        claim.direction in {"increase", "decrease"}
    if asserts_effect and not claim.hedged and not effect_numbers and with_ci and \
            all(_crosses_null(p) for p in with_ci) and \
            al.score >= verdicts["align"]["strong_score"]:
        p = with_ci[0]
        null = "no effect" if p.kind == "ratio" or (p.value or 0) < 3 else "no change"
        ctx.add("ci-omitted-crosses-null-v1", claim, sentence_span(claim),
                clause(evidence, p.span.start, p.span.end),
                {"article_values": "the effect as established",
                 "null_note": f"the abstract's interval ({_describe(p)}, {_ci_text(p)}) "
                              f"includes {null}",
                 "abstract_cis": _ci_text(p)}, al.score, al.paper_index)
        return
    if reports_result and asserts_effect and not effect_numbers and untold and \
            len(untold) == len(with_ci) and al.score >= verdicts["align"]["strong_score"]:
        p = untold[0]
        ctx.add("effect-size-omitted-v1", claim, sentence_span(claim),
                clause(evidence, p.span.start, p.span.end),
                {"abstract_value": f"{_describe(p)}, 95% CI {_ci_text(p)}"},
                al.score, al.paper_index)


def _cover(claim: Claim, start: int, end: int) -> Span:
    a = clause(claim, start, start)
    b = clause(claim, end, end)
    s, e = min(a.start, b.start), max(a.end, b.end)
    return Span(s, e, claim.text[s - claim.start:e - claim.start])


# --- outcomes that the abstract never mentions -------------------------------------------------



_OBJECT = re.compile(
    r"^(?:\s+(?:against|from))?(?:\s+(?:the|a|an|their|its|his|her))?"
    r"(?:\s+(?:rates?|risks?|chances?|cases|numbers?|incidence|odds|levels?|likelihood|symptoms"
    r"|occurrence|frequency|severity)\s+of)?"
    r"(?:\s+(?:the|a|an|developing|having|getting|suffering))?"
    r"\s+(?P<np>(?i:[a-z][a-z0-9'-]*(?:\s+[a-z][a-z0-9'-]*){0,3}?))"
    r"(?=\s+(?:by|in|among|over|for|compared|than|versus|vs|after|at|from|with|without|when|"
    r"while|among|or|and|the|who|which|that|on)\b|\s*[,.;:)(]|$)")
_NOT_OUTCOMES = frozenset({"placebo", "it", "them", "this", "that", "those", "these", "people",
                           "patients", "participants", "women", "men", "adults", "children"})


_VERB_FORM = re.compile(r"(?:ed|es|ing)$|^(?:cut|cuts|halve|halves|double|doubles|prevent|prevents"
                        r"|reduce|lower|lowers|raise|raises|improve|improves|boost|boosts|slash"
                        r"|slashes|protect|protects|outperform|alter|alters)$")
_NOT_NOUN = re.compile(r"^(?:than|to|by|on|in|into|likely|more|less|much|common|rare|quickly|"
                       r"slowly|significantly|similar|about|around|nearly|up|down|out|off|came|"
                       r"went|was|were|is|are|had|has|did|does|got|be|been|with|for|at|from|"
                       r"of|among|after|without)$|ly$")




def idiom_direction(text: str, ctx: _Ctx) -> tuple[str, str] | None:
    """(outcome, direction) of a stock phrase such as "live longer"; None when there is none."""
    for pattern, outcome, direction in ctx.words.idioms:
        if pattern.search(text):
            return outcome, direction
    return None


def _result_outcomes(claim: Claim, ctx: _Ctx) -> list[str]:
    """Noun phrases right after a direction verb: what the claim says went up or down."""
    out = []
    idiom = idiom_direction(claim.text, ctx)
    if idiom:
        out.append(idiom[0])
    for m in re.finditer(r"[A-Za-z]+", claim.text):
        word = m.group(0).lower()
        if ctx.directions.get(word) not in {"increase", "decrease", "no_change"} or \
                not _VERB_FORM.search(word):
            continue
        obj = _OBJECT.match(claim.text[m.end():])
        if not obj:
            continue
        phrase = obj.group("np").strip()
        words = phrase.split()
        if words[-1] in _NOT_OUTCOMES or any(_NOT_NOUN.search(w) for w in words) or \
                words[-1].endswith("ed") or len(words[-1]) < 4:
            continue
        out.append(phrase)
    return out


def _outcome_phrases(claim: Claim, ctx: _Ctx) -> list[str]:
    """The outcomes a result claim is about: what its direction words act on, else its outcome."""
    found = _result_outcomes(claim, ctx)
    if found:
        return found
    if claim.outcome:
        return [claim.outcome]
    return [e.norm or e.span.text for e in claim.entities if e.label == "OUTCOME"][:2]


def _alternatives(phrase: str, synonyms: Sequence[Mapping[str, str]]) -> list[str]:
    lower = phrase.lower()
    out = [lower]
    for row in synonyms:
        term = rf"\b{re.escape(row['term'])}s?\b"  # "hospitalizations" finds the row too
        if re.search(term, lower):
            out += [re.sub(term, alt, lower) for alt in row["equivalents"].split("|")]
            out += row["equivalents"].split("|")
    return out


def _mentioned(phrase: str, sentences: Sequence[str], coverage: float,
               synonyms: Sequence[Mapping[str, str]], generic: frozenset[str]) -> bool:
    for alternative in _alternatives(phrase, synonyms):
        if _mentioned_once(alternative, sentences, coverage, generic):
            return True
    return False


def _mentioned_once(phrase: str, sentences: Sequence[str], coverage: float,
                    generic: frozenset[str]) -> bool:
    """The phrase's head word and `coverage` of its other words stand in one sentence."""
    words = [_stem(w) for w in content_words(phrase) if w not in generic]
    words = [w for w in words if len(w) > 2]
    if not words:
        return True
    head = words[-1]
    for sentence in sentences:
        have = {_stem(w) for w in content_words(sentence)}
        stems = {_prefix(w) for w in have}
        found = [w in have or _prefix(w) in stems for w in words]
        if found[-1] and sum(found) / len(words) >= coverage:
            return True
    del head
    return False


def _prefix(word: str) -> str:
    """A crude stem shared by inflections ("depression"/"depressive", "threshold"/"thresholds")."""
    return word[:max(5, len(word) - 3)] if len(word) > 5 else word


def _abstract_sentences(claims: Sequence[Claim]) -> list[str]:
    out = []
    for c in claims:
        extra = " ".join(e.norm for e in c.entities if e.norm)
        out.append(f"{c.text} {extra}")
    return out


def check_not_in_abstract(ctx: _Ctx, al: Alignment) -> bool:
    """Raise not_in_abstract for the claim; True when it did (later checks then skip the claim)."""
    claim = al.article
    settings = ctx.verdicts["not_in_abstract"]
    headline_claim = claim.section in {"title", "standfirst"} and (
        claim.causal_strength == "direct_causal" or claim.direction is not None)
    if claim.kind not in settings["claim_kinds"] and not headline_claim:
        return False
    if claim.hedged and not claim.quantities:
        return False  # speculation ("may be mediated by ...") is not a factual claim to verify
    paper_index = al.paper_index
    paper = ctx.papers[paper_index] if ctx.papers else None
    if paper is not None and _mentions_primary(claim) and _is_secondary(paper):
        ctx.add("primary-results-not-in-paper-v1", claim, sentence_span(claim), None,
                {"paper_kind": "a secondary, exploratory analysis"}, al.score, paper_index)
        return True
    sentences = [s for claims in ctx.abstract_claims for s in _abstract_sentences(claims)]
    acted_on = _result_outcomes(claim, ctx)
    # without a direction verb to say what changed, the lexicon's outcome is only a guess: judge
    # it alone when the claim says outright that a result was (not) significant, or in a headline
    guess = [] if acted_on or not (claim.significance or claim.section in {"title", "standfirst"}) \
        else _outcome_phrases(claim, ctx)
    missing = [p for p in acted_on or guess
               if not ctx.mentioned(p, sentences, settings["outcome_coverage"])]
    if missing and _numbers_supported(ctx, claim, paper_index, missing):
        missing = []  # its effect sizes are the abstract's own: the outcome is only worded differently
    if missing and (claim.direction or claim.significance or claim.quantities):
        what = " or ".join(f"“{m}”" for m in missing)
        ctx.add("claim-not-in-abstract-v1", claim, sentence_span(claim), None,
                {"what": what}, al.score, paper_index)
        return True
    return False


def _numbers_supported(ctx: _Ctx, claim: Claim, paper_index: int,
                       outcomes: Sequence[str] = ()) -> bool:
    """Every effect size of the claim is stated in the abstract, in a sentence on its outcome."""
    effects = [q for q in claim.quantities if q.kind in _EFFECT_KINDS and q.value is not None]
    if not effects or not ctx.abstract_claims:
        return False
    pool = [(c, p) for c, p in _numbers_of(ctx.abstract_claims[paper_index])
            if not outcomes or any(ctx.mentioned(o, _abstract_sentences([c]), 0.5)
                                   for o in outcomes)]
    return all(_find_match(q, pool, ctx) for q in effects)


_PRIMARY = re.compile(r"\bprimary\b(?:\s+(?:and|or)\s+\w+)?\s+(?:analys[ie]s|outcomes?|end-?points?|results?)",
                      re.I)
_SECONDARY = re.compile(r"\b(?:secondary|exploratory|post[- ]hoc|ancillary)\s+(?:analys[ie]s|outcomes?)",
                        re.I)


def _mentions_primary(claim: Claim) -> bool:
    return bool(_PRIMARY.search(claim.text))


def _is_secondary(paper: Paper) -> bool:
    title = paper.title or ""
    if _SECONDARY.search(title) or re.search(r"\bexploratory outcomes\b", title, re.I):
        return True
    methods = " ".join(s.text for s in paper.sections
                       if (s.category or s.label or "").upper() in {"METHODS", "OBJECTIVE"})
    return bool(_SECONDARY.search(methods)) and not _PRIMARY.search(paper.abstract)


# --- direction and significance ----------------------------------------------------------------

_DESCRIPTOR = re.compile(r"\b(?:a|an|with|had|have|has)\s*$", re.I)
_RESULT_LEAD = re.compile(r"\b(?:associated|linked|correlated|led|leads|resulted|results)\s+"
                          r"(?:with|to|in)\s+(?:a|an)?\s*$", re.I)


def _outcome_position(claim: Claim, outcome: str, ctx: _Ctx) -> int | None:
    lower = claim.text.lower()
    for alternative in _alternatives(outcome, ctx.synonyms):
        words = [w for w in content_words(alternative) if w not in ctx.words.generic_outcomes]
        if not words:
            continue
        head = words[-1]  # the head noun locates the outcome ("covid hospitalizations")
        at = lower.find(head[:max(4, len(head) - 2)])
        if at >= 0:
            return at
    return None


def local_direction(claim: Claim, outcome: str | None, ctx: _Ctx) -> str | None:
    """The direction the claim gives `outcome`: the cue nearest its mention, in its clause.

    A cue negated just before it ("did not improve") means no change; an attributive cue
    ("a raised marker of inflammation") describes the people, not a result, and is skipped.
    """
    if not outcome:
        return None
    at = _outcome_position(claim, outcome, ctx)
    if at is None:
        return None
    piece = clause(claim, claim.start + at, claim.start + at + 1)
    text = piece.text
    base = piece.start - claim.start
    # "reduced depression but increased fractures": keep to the part of the clause with the outcome
    cut = 0
    for m in re.finditer(r"\s(?:but|whereas|while|although|yet)\s", text):
        if base + m.start() < at:
            cut = m.end()
        elif base + m.start() > at:
            text = text[:m.start()]
            break
    text, base = text[cut:], base + cut
    best: tuple[int, str] | None = None
    for m in re.finditer(r"[A-Za-z]+", text):
        word = m.group(0).lower()
        direction = ctx.directions.get(word)
        if direction is None:
            continue
        before = text[:m.start()]
        if ctx.words.negation.search(before[-40:]):
            direction = "no_change"
        elif _DESCRIPTOR.search(before) and direction != "no_change" and \
                not ctx.words.compared_noun.match(text[m.end():]) and not _RESULT_LEAD.search(before):
            continue  # "a raised marker": a description; but "with a decreased risk" is a result
        # the verb usually comes before its object; a cue after the outcome counts for less
        distance = at - (base + m.start()) if base + m.start() <= at else \
            3 * (base + m.start() - at)
        if best is None or distance < best[0]:
            best = (distance, direction)
    if best is None and re.search(r"\b(?:no (?:significant )?difference|did not differ|similar)\b",
                                  text, re.I):
        return "no_change"
    if best is None:
        return _ratio_direction(claim.text, at)
    return best[1] if best else None


_RATIO_AFTER = re.compile(r"^[^.;]{0,40}?(?<![\d.])(\d+(?:\.\d+)?)\s*[(\[]\s*(?:95%\s*CI,?\s*)?"
                          r"(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*[)\]]")
_RATIO_WORDS = re.compile(r"\b(?:hazard|odds|risk|rate)\s+ratios?\b|\b(?:HR|OR|RR|IRR)s?\b")


def _ratio_direction(text: str, at: int) -> str | None:
    """The direction a ratio gives the outcome named at `at` ("CHD, 1.29 (1.02-1.63)")."""
    if not _RATIO_WORDS.search(text):
        return None
    m = _RATIO_AFTER.match(text[at:])
    if not m:
        return None
    value, low, high = (float(g) for g in m.groups())
    if not low <= value <= high:
        return None
    if low > 1:
        return "increase"
    if high < 1:
        return "decrease"
    return "no_change"


def check_direction_significance(ctx: _Ctx, al: Alignment) -> None:
    claim, evidence = al.article, al.abstract
    if evidence is None or al.score < ctx.verdicts["align"]["strong_score"]:
        return
    outcome = claim.outcome or evidence.outcome or "the outcome"
    if not [w for w in content_words(claim.outcome or "") if w not in ctx.words.generic_outcomes]:
        mine = None  # "risk" alone names no outcome to compare directions on
    else:
        # the direction given to this outcome, not the sentence's first direction word
        mine = local_direction(claim, claim.outcome, ctx)
    theirs = local_direction(evidence, claim.outcome, ctx)
    if theirs is None and claim.outcome and evidence.outcome and \
            ctx.mentioned(claim.outcome, [evidence.outcome], 1.0):
        theirs = local_direction(evidence, evidence.outcome, ctx)
    claims_benefit = mine in {"increase", "decrease"}
    if claim.significance == "significant" and (
            evidence.significance == "not_significant" or theirs == "no_change"):
        ctx.add("significance-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"article_significance": "significant",
                 "abstract_significance": "not significant"}, al.score, al.paper_index)
        return
    if claim.significance == "not_significant" and evidence.significance == "significant" and \
            theirs in {"increase", "decrease"}:
        ctx.add("significance-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"article_significance": "not significant",
                 "abstract_significance": "significant"}, al.score, al.paper_index)
        return
    if mine and theirs and mine != theirs and (claims_benefit or theirs != "no_change") and \
            not _inverse_outcome(claim.outcome or "", evidence.text, ctx, claim.text):
        ctx.add("direction-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"article_direction": _said(mine), "abstract_direction": _said(theirs),
                 "outcome": outcome}, al.score, al.paper_index)
        return
    if mine and theirs and mine == theirs:
        ctx.support(f"The direction ({_said(mine)} in {outcome}) matches the abstract.",
                    sentence_span(claim), sentence_span(evidence), "direction-match-v1",
                    al.score, al.paper_index)
    if claim.significance and claim.significance == evidence.significance:
        ctx.support(f"Reported as {claim.significance.replace('_', ' ')}, as in the abstract.",
                    sentence_span(claim), sentence_span(evidence), "significance-match-v1",
                    al.score, al.paper_index)


_RESULT_SECTIONS = frozenset({"RESULTS", "CONCLUSIONS", "UNASSIGNED", "FINDINGS"})


def check_result_by_outcome(ctx: _Ctx, al: Alignment) -> bool:
    """Find what the abstract says about the story's outcome, wherever it says it.

    A story that reports a (significant) benefit on an outcome for which the abstract's results
    or conclusions report no significant difference gets a significance finding; an opposite
    direction on the same outcome gets a direction finding. True when a finding was raised.
    """
    claim = al.article
    idiom = idiom_direction(claim.text, ctx)
    if claim.kind not in {"result", "conclusion"} and claim.section not in {"title", "standfirst"} \
            and not idiom:
        return False
    if claim.hedged or not (claim.significance or claim.direction or idiom):
        return False
    outcomes = _outcome_phrases(claim, ctx)
    if not outcomes or not ctx.abstract_claims:
        return False
    claims = [c for c in ctx.abstract_claims[al.paper_index]
              if (c.section or "").upper() in _RESULT_SECTIONS and c.kind != "background"]
    primary = _primary_outcome(ctx.abstract_claims[al.paper_index])
    for outcome in outcomes:
        if not [w for w in content_words(outcome) if w not in ctx.words.generic_outcomes]:
            continue  # "risk" alone names no outcome
        mine = idiom[1] if idiom and idiom[0] == outcome else \
            local_direction(claim, outcome, ctx)
        names = [outcome]
        if primary and ctx.mentioned(outcome, [primary], 1.0):
            names += ["primary outcome", "primary-outcome", "primary end point",
                      "primary endpoint", "primary composite outcome"]  # results often say only so
        for evidence in sorted(claims, key=lambda c: (c.section or "") != "CONCLUSIONS"):
            words = _abstract_sentences([evidence])  # with abbreviations expanded ("CHD")
            said = next((n for n in names if ctx.mentioned(n, words, 1.0)), None)
            if said is None:
                continue
            theirs = local_direction(evidence, said, ctx)
            if theirs in _OPPOSITE and _inverse_outcome(outcome, evidence.text, ctx, claim.text):
                theirs = _OPPOSITE[theirs]  # "live longer" against "increased mortality"
            null = theirs == "no_change" or (evidence.significance == "not_significant" and
                                             theirs is None)
            told_as_number = any(q.kind in _EFFECT_KINDS for q in claim.quantities)
            if mine in {"increase", "decrease"} and null and (
                    claim.significance == "significant" or not told_as_number):
                rule = "significance-flip-v1" if claim.significance == "significant" else \
                    "direction-flip-v1"
                fields = {"article_significance": "significant",
                          "abstract_significance": "not significant",
                          "article_direction": _said(mine), "abstract_direction": "no difference",
                          "outcome": outcome}
                ctx.add(rule, claim, sentence_span(claim), sentence_span(evidence), fields,
                        al.score, al.paper_index)
                return True
            if mine in {"increase", "decrease"} and theirs in {"increase", "decrease"} and \
                    mine != theirs and (evidence.section or "").upper() == "CONCLUSIONS":
                ctx.add("direction-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                        {"article_direction": _said(mine), "abstract_direction": _said(theirs),
                         "outcome": outcome}, al.score, al.paper_index)
                return True
            if theirs is not None:
                break  # the first sentence that speaks of this outcome decides
    return False


_PRIMARY_DEFINED = re.compile(
    r"\bprimary\s+(?:composite\s+|efficacy\s+)?(?:outcome|end\s*-?point)s?\s+(?:was|were|is|:)\s+"
    r"(?P<what>[^.;]+)", re.I)


def _primary_outcome(claims: Sequence[Claim]) -> str | None:
    """What the abstract defines as its primary outcome ("The primary outcome was ...")."""
    for c in claims:
        m = _PRIMARY_DEFINED.search(c.text)
        if m:
            return m.group("what")
    return None


_OPPOSITE = {"increase": "decrease", "decrease": "increase"}


def _inverse_outcome(outcome: str, evidence: str, ctx: _Ctx, said: str = "") -> bool:
    """True when the story's outcome is the abstract's turned round ("survival" vs "mortality").

    "Saves lives" is read as fewer deaths by the direction lexicon already, so it is not turned.
    """
    if re.search(r"\bsav(?:e|es|ed|ing)\s+(?:\w+\s+)?lives\b", said, re.I):
        return False
    pairs = ctx.verdicts.get("inverse_outcomes", {}).get("pairs", ())
    lower_o, lower_e = outcome.lower(), evidence.lower()
    def has(stem: str, text: str) -> bool:
        return re.search(rf"\b{re.escape(stem)}", text) is not None  # "live", not "olive"

    for a, b in pairs:
        for mine, theirs in ((a, b), (b, a)):
            # turned round only when the abstract words it the other way and not this way
            if has(mine, lower_o) and has(theirs, lower_e) and not has(mine, lower_e):
                return True
    return False


def _said(direction: str) -> str:
    return {"increase": "an increase", "decrease": "a decrease",
            "no_change": "no change"}.get(direction, direction)


_ARM = re.compile(r"\b((?:[A-Za-z][\w-]*\s+){0,1}[A-Za-z][\w-]*)\s+(?:group|arm|cohort)s?\b", re.I)
_ARM_SKIP = frozenset({"the", "a", "an", "each", "both", "two", "this", "that", "same", "control"})


def _arms(claim: Claim) -> list[tuple[int, int, str]]:
    """(start, end, normalised arm name) of each "X group" mention in the claim."""
    out = []
    for m in _ARM.finditer(claim.text):
        words = [w for w in m.group(1).lower().split() if w not in _ARM_SKIP]
        if not words:
            continue
        head = re.split(r"[-\s]", words[-1] if len(words) == 1 else words[0])[0]
        out.append((claim.start + m.start(), claim.start + m.end(), _stem(head)))
    return out


_SEGMENT = re.compile(r"[,;]|\s(?:and|whereas|while|but|compared with|as compared with|versus|vs\.?|"
                      r"than)\s", re.I)


def _bindings(claim: Claim) -> dict[float, str]:
    """Each number's arm: the "X group" phrase in the same segment of the sentence.

    "4.7% of the colchicine group and 5.8% of the placebo group" binds 4.7 to colchicine and 5.8 to
    placebo; a number whose segment names no arm, or two, is left unbound.
    """
    arms = _arms(claim)
    if len({a for _, _, a in arms}) < 2:
        return {}
    cuts = [claim.start] + [claim.start + m.start() for m in _SEGMENT.finditer(claim.text)] + \
        [claim.end + 1]
    out: dict[float, str] = {}
    for q in claim.quantities:
        if q.value is None or q.kind == "ci":
            continue
        left = max(c for c in cuts if c <= q.span.start)
        right = min(c for c in cuts if c > q.span.start)
        here = {a for s, e, a in arms if left <= s and e <= right}
        if len(here) == 1:
            out[round(q.value, 6)] = here.pop()
    return out


def check_group_swap(ctx: _Ctx, al: Alignment) -> None:
    """Numbers attributed to the wrong arms: 203 deaths 'in the intensive group' vs 203 in standard."""
    claim, evidence = al.article, al.abstract
    if evidence is None or al.score < ctx.verdicts["align"]["min_score"]:
        return
    mine, theirs = _bindings(claim), _bindings(evidence)
    arms_mine, arms_theirs = set(mine.values()), set(theirs.values())
    swapped = [v for v, arm in mine.items() if v in theirs and theirs[v] != arm
               and arm in arms_theirs and theirs[v] in arms_mine]
    if len(swapped) >= 1:
        ctx.add("group-swap-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"values": ", ".join(_fmt(v) for v in swapped)}, al.score, al.paper_index)


# --- population --------------------------------------------------------------------------------



def _restricting(tags: Iterable[str], ctx: _Ctx, text: str = "") -> set[str]:
    found = set(tags) & set(ctx.verdicts["population"]["restricting_tags"])
    if {"female", "male"} <= found or (
            text and ctx.words.male.search(text) and ctx.words.female.search(text)):
        found -= {"female", "male"}  # "men and women": no sex restriction
    return found


def _population_words(claim: Claim, nouns: frozenset[str]) -> str | None:
    for q in claim.quantities:
        if q.kind == "count" and q.of and _stem(q.of.split()[-1]) in nouns:
            return f"{_fmt(q.value)} {q.of}" if q.value is not None else q.of
    return claim.population


def check_population(ctx: _Ctx, al: Alignment) -> None:
    claim, evidence = al.article, al.abstract
    verdicts = ctx.verdicts
    nouns = frozenset(_stem(w) for w in verdicts["population"]["participant_nouns"])
    species = set(verdicts["population"]["species_tags"])
    paper_tags: set[str] = set()
    human_claims = 0
    for c in ctx.abstract_claims[al.paper_index] if ctx.abstract_claims else ():
        paper_tags |= set(c.population_tags)
        if "human" in c.population_tags and not _animal_claim(c, ctx):
            human_claims += 1
    story_tags = set(claim.population_tags)
    animal = paper_tags & species
    if animal and not human_claims and story_tags & {"human"} and not _animal_claim(claim, ctx):
        ctx.add("population-species-v1", claim, sentence_span(claim),
                sentence_span(evidence) if evidence else None,
                {"abstract_population": " and ".join(sorted(animal)),
                 "article_population": claim.population or "people"}, al.score, al.paper_index)
        return
    story_pop = _population_words(claim, nouns)
    generic = {_stem(w) for w in verdicts["population"]["generic_nouns"]}
    if evidence is not None and al.score >= verdicts["align"]["min_score"] and story_pop and \
            _stem(story_pop.split()[-1]) in generic:
        paper_pop = _population_words(evidence, nouns)
        theirs = _restricting(evidence.population_tags, ctx, evidence.text)
        lost = theirs - story_tags
        if paper_pop and lost and not _restricting(story_tags, ctx, claim.text) - theirs:
            ctx.add("population-generalised-v1", claim, _population_clause(claim, nouns),
                    _population_clause(evidence, nouns),
                    {"abstract_population": f"“{paper_pop}”", "article_population": f"“{story_pop}”"},
                    al.score, al.paper_index)
            return
    # the study's own population, from the sentence that counts its participants
    studied, source = _study_population(ctx, al.paper_index, nouns)
    describes = any(_is_participants(q, nouns, claim) for q in claim.quantities) or \
        claim.section in {"title", "standfirst"}
    # only sex and species are read reliably enough to judge a whole story by; and once per paper
    lost = (studied & set(verdicts["population"]["study_level_tags"])) - \
        _restricting(story_tags, ctx)
    top = claim.section in {"title", "standfirst"}
    said = any(f.kind == "population" and f.paper == ctx.paper_id(al.paper_index) and
               (_section_of(ctx, f.article_span.start) in {"title", "standfirst"}) == top
               for f in ctx.findings)  # once in the headline and standfirst, once in the body
    if source is not None and lost and describes and story_tags & {"human"} and not said and \
            claim.kind != "background":
        ctx.add("population-generalised-v1", claim, _population_clause(claim, nouns),
                _population_clause(source, nouns),
                {"abstract_population": f"“{_population_words(source, nouns) or 'a narrower group'}”",
                 "article_population": f"“{story_pop or 'people in general'}”"},
                al.score, al.paper_index)




def _animal_claim(claim: Claim, ctx: _Ctx) -> bool:
    species = set(ctx.verdicts["population"]["species_tags"])
    return bool(set(claim.population_tags) & species) or bool(ctx.words.animal.search(claim.text))


def _study_population(ctx: _Ctx, index: int, nouns: frozenset[str]) -> tuple[set[str], Claim | None]:
    """What narrows the people studied (sex, age group, ...), from the claim counting them."""
    claims = list(ctx.abstract_claims[index]) if ctx.abstract_claims else []
    ordered = sorted(claims, key=lambda c: (c.section or "").upper() != "METHODS")
    for c in ordered:
        if any(_is_participants(q, nouns, c) for q in c.quantities):
            return _restricting(c.population_tags, ctx, c.text), c
    return set(), None


def _section_of(ctx: _Ctx, offset: int) -> str:
    for p in ctx.article.paragraphs:
        if p.start <= offset < p.end:
            return p.role
    return "body"


def _population_clause(claim: Claim, nouns: frozenset[str]) -> Span:
    for q in claim.quantities:
        if q.kind == "count" and q.of and _stem(q.of.split()[-1]) in nouns:
            return clause(claim, q.span.start, q.span.end)
    return sentence_span(claim)


# --- study design ------------------------------------------------------------------------------

def _paper_design(ctx: _Ctx, index: int) -> set[str]:
    tags: set[str] = set()
    for c in ctx.abstract_claims[index] if ctx.abstract_claims else ():
        tags |= set(c.design)
    paper = ctx.papers[index] if ctx.papers else None
    if paper is not None:
        table = ctx.verdicts["design"]["publication_types"]
        for ptype in paper.publication_types:
            tags |= set(table.get(ptype, ()))
    return tags


def check_design(ctx: _Ctx, al: Alignment) -> None:
    claim = al.article
    design = ctx.verdicts["design"]
    story = set(claim.design)
    paper = _paper_design(ctx, al.paper_index)
    trial_words = story & set(design["trial_tags"])
    observational = paper & set(design["observational_tags"])
    pooled = paper & set(design["review_tags"])
    if trial_words and pooled and not story & set(design["review_tags"]):
        ctx.add("design-trial-claimed-v1", claim, sentence_span(claim),
                sentence_span(al.abstract) if al.abstract else None,
                {"article_design": "a " + " ".join(sorted(trial_words)).replace("_", " ") + " study",
                 "paper_design": "a " + " and ".join(sorted(pooled)).replace("_", " ") +
                 " of earlier trials, not a trial itself"},
                al.score, al.paper_index)
        return
    if trial_words and observational and not paper & set(design["trial_tags"]):
        ctx.add("design-trial-claimed-v1", claim, sentence_span(claim),
                sentence_span(al.abstract) if al.abstract else None,
                {"article_design": "a " + " ".join(sorted(trial_words)).replace("_", " ") + " study",
                 "paper_design": "an observational study (" +
                 ", ".join(sorted(observational)).replace("_", " ") + ")"},
                al.score, al.paper_index)
        return
    if re.search(design["peer_review_pattern"], claim.text, re.I) and "preprint" in paper:
        ctx.add("design-peer-review-claimed-v1", claim, sentence_span(claim), None, {},
                al.score, al.paper_index)
        return
    shared = story & paper & set(design["reportable_tags"])
    if shared and al.abstract is not None:
        words = [e for e in claim.entities if e.label == "DESIGN"]
        theirs = [e for e in al.abstract.entities if e.label == "DESIGN"]
        if words and theirs:
            a = _cover(claim, min(e.span.start for e in words), max(e.span.end for e in words))
            b = _cover(al.abstract, min(e.span.start for e in theirs),
                       max(e.span.end for e in theirs))
            label = ", ".join(sorted(shared)).replace("_", " ")
            ctx.support(f"Design ({label}) matches the paper.", a, b, "design-match-v1",
                        al.score, al.paper_index)


# --- causal language and hedges ----------------------------------------------------------------

def _asserts(claim: Claim, verdicts: Mapping[str, Any]) -> bool:
    """The claim states an effect as fact: a direction, a causal verb or a booster ("proves")."""
    return bool(claim.direction) or claim.causal_strength == "direct_causal" or \
        bool(_first_word(claim.text, tuple(verdicts["certainty"]["boosters"]))) or \
        bool(_first_word(claim.text, tuple(verdicts["causal"]["causal_cues"])))


def _conclusion_claims(ctx: _Ctx, index: int) -> list[Claim]:
    claims = list(ctx.abstract_claims[index]) if ctx.abstract_claims else []
    found = [c for c in claims if (c.section or "").upper() == "CONCLUSIONS"]
    return found or [c for c in claims if c.kind == "conclusion"]


def _hedged_conclusion(ctx: _Ctx, al: Alignment) -> tuple[float, Claim] | None:
    """The abstract's hedged conclusion about what the story claims, if it has one."""
    weights = ctx.verdicts["align"]
    synonyms = ctx.synonyms
    hedged = [c for c in _conclusion_claims(ctx, al.paper_index) if c.hedged]
    if not hedged:
        return None
    ranked = ranked_evidence(al.article, hedged, weights, synonyms)
    topic = {e.norm for e in al.article.entities if e.label in {"DRUG", "OUTCOME"}}
    for score, candidate in ranked:
        shared = topic & {e.norm for e in candidate.entities}
        if score >= weights["hedge_score"] or shared:
            return score, candidate
    return None


def check_causal_and_hedges(ctx: _Ctx, al: Alignment) -> None:
    claim, evidence = al.article, al.abstract
    verdicts = ctx.verdicts
    if {(claim.start, "direction"), (claim.start, "significance")} & ctx.flagged:
        return  # the result itself is wrong; how firmly it is worded is beside the point
    about_study = claim.kind in {"result", "conclusion"} or \
        claim.section in {"title", "standfirst"} or \
        (claim.kind == "other" and _asserts(claim, verdicts))  # "X is as effective as Y"
    if not about_study or evidence is None:
        return
    paper_design = _paper_design(ctx, al.paper_index)
    observational = bool(paper_design & set(verdicts["design"]["observational_tags"])) and \
        not paper_design & set(verdicts["design"]["trial_tags"])
    if claim.causal_strength == "direct_causal" and not claim.hedged and observational:
        cues = verdicts["causal"]
        support = _correlational_evidence(ctx, al)
        found = _causal_verb(claim.text, tuple(cues["causal_cues"]), ctx)
        if found and (support is not None or al.score >= verdicts["align"]["min_score"]):
            evidence = support or evidence
            theirs = _first_phrase(evidence.text, tuple(cues["correlational_cues"]))
            ctx.add("causal-from-correlational-v1", claim, sentence_span(claim),
                    sentence_span(evidence),
                    {"article_words": f"“{found[0]}”" if found else "its wording",
                     "abstract_strength": "an association in an observational study",
                     "abstract_words": f"“{theirs}”" if theirs else "its wording"},
                    al.score, al.paper_index)
            return
    restates_result = evidence is not None and not evidence.hedged and \
        (evidence.section or "").upper() == "RESULTS" and \
        al.score >= verdicts["align"]["strong_score"]
    if not claim.hedged and _asserts(claim, verdicts) and not restates_result and \
            claim.causal_strength in {"direct_causal", None}:
        hedged = _hedged_conclusion(ctx, al)
        if hedged is not None:
            score, conclusion = hedged
            hedges = ", ".join(f"“{h.text}”" for h in conclusion.hedges) or "hedged wording"
            ctx.add("hedge-dropped-v1", claim, sentence_span(claim), sentence_span(conclusion),
                    {"abstract_hedges": hedges}, score, al.paper_index)
            return
    if not claim.hedged or al.score < verdicts["align"]["min_score"]:
        return  # hardening a hedge needs a hedge: "most likely erroneous" for "suggests chance"
    boosters = tuple(verdicts["certainty"]["boosters"])
    weak = tuple(verdicts["certainty"]["weak_hedges"])
    found_boost = _first_word(claim.text, boosters)
    if not found_boost:
        return
    ranked = ranked_evidence(claim, ctx.abstract_claims[al.paper_index], verdicts["align"],
                             ctx.synonyms)
    for score, candidate in ranked[:5]:
        if score < verdicts["align"]["min_score"]:
            break
        found_weak = _first_word(candidate.text, weak)
        if found_weak and candidate.kind == "conclusion":
            b_start, b_end = found_boost[1]
            w_start, w_end = found_weak[1]
            ctx.add("certainty-hardened-v1", claim,
                    clause(claim, claim.start + b_start, claim.start + b_end),
                    clause(candidate, candidate.start + w_start, candidate.start + w_end),
                    {"abstract_words": f"“{found_weak[0]}”", "article_words": f"“{found_boost[0]}”"},
                    score, al.paper_index)
            return




def _causal_verb(text: str, stems: Sequence[str], ctx: _Ctx) -> tuple[str, tuple[int, int]] | None:
    """The first causal cue used as a verb: "cuts the risk", not "a lower risk" (a comparison)."""
    for m in re.finditer(r"[A-Za-z]+", text):
        word = m.group(0).lower()
        if any(word.startswith(s) for s in stems) and not ctx.words.compared_noun.match(text[m.end():]):
            return m.group(0), (m.start(), m.end())
    return None


def _first_word(text: str, stems: Sequence[str]) -> tuple[str, tuple[int, int]] | None:
    for m in re.finditer(r"[A-Za-z]+", text):
        word = m.group(0).lower()
        if any(word.startswith(s) for s in stems):
            return m.group(0), (m.start(), m.end())
    return None


def _first_phrase(text: str, phrases: Sequence[str]) -> str | None:
    lower = text.lower()
    hits = [(m.start(), -len(p), text[m.start():m.end()]) for p in phrases
            for m in [re.search(rf"\b{re.escape(p)}\b", lower)] if m]
    return min(hits)[2] if hits else None


def _correlational_evidence(ctx: _Ctx, al: Alignment) -> Claim | None:
    """The abstract's own statement of the association: a result or conclusion that says so."""
    cues = tuple(ctx.verdicts["causal"]["correlational_cues"])
    ranked = ranked_evidence(al.article, ctx.abstract_claims[al.paper_index],
                             ctx.verdicts["align"], ctx.synonyms)
    for _, candidate in ranked:
        if (candidate.section or "").upper() not in _RESULT_SECTIONS:
            continue
        if candidate.causal_strength == "correlational" or _first_phrase(candidate.text, cues):
            return candidate
    return None


# --- relative without absolute -----------------------------------------------------------------

_RELATIVE_BEFORE = re.compile(r"\b(?:by|cut|cuts|halved|slashed|reduced|lowered|raised)\s+"
                              r"(?:about\s+|around\s+|nearly\s+|almost\s+|some\s+)?$", re.I)
_RELATIVE_AFTER = re.compile(r"^\s*(?:lower|higher|fewer|less|more|greater|smaller|reduction|increase|"
                             r"decrease|drop|rise|cut|relative)\b", re.I)


def _is_relative(claim: Claim, q: Quantity) -> bool:
    """A relative change: flagged by the claims stage, or worded as one ("cut by 38%", "50% lower")."""
    if q.relative:
        return True
    if q.kind not in {"percent", "ratio"} or q.relative is False and q.kind == "ratio":
        return False
    before = claim.text[:q.span.start - claim.start]
    after = claim.text[q.span.end - claim.start:]
    return bool(_RELATIVE_BEFORE.search(before) or _RELATIVE_AFTER.match(after))


def _is_share_of_count(claim: Claim, p: Quantity) -> bool:
    """A percentage given as the share of a count: "35 (4.3%)", "13 participants (1.6%)"."""
    before = claim.text[:max(0, p.span.start - claim.start)]
    return bool(re.search(r"\d[\d,]*(?:\s+[a-z]+){0,2}\s*[(\[]\s*$", before))



def _is_ratio(p: Quantity) -> bool:
    """A hazard, odds or risk ratio: so tagged, or a bare number near 1 given with an interval."""
    return p.kind == "ratio" or (p.kind == "number" and p.value is not None and 0 < p.value < 3
                                 and p.low is not None and p.high is not None)


def _ratio_like(q: Quantity, p: Quantity, verdicts: Mapping[str, Any]) -> bool:
    """A story's percentage change told from a ratio, even one read as a bare number with a CI."""
    if q.kind != "percent":
        return False
    if p.kind == "ratio":
        return _is_ratio_change(q, p, verdicts)
    if p.kind == "number" and p.value is not None and 0 < p.value < 3 and p.low is not None:
        return _is_ratio_change(q, Quantity(value=p.value, unit=None, kind="ratio", span=p.span),
                                verdicts)
    return False


def _relative_holder(ctx: _Ctx, al: Alignment, relative: Sequence[Quantity]) -> Claim | None:
    """The abstract claim that states the story's relative figure (62%, or a ratio of 0.38)."""
    claims = ctx.abstract_claims[al.paper_index] if ctx.abstract_claims else ()
    for c in claims:
        for p in c.quantities:
            for q in relative:
                if p.kind != "ci" and (same_number(q, p, ctx.verdicts) or
                                       _ratio_like(q, p, ctx.verdicts)):
                    return c
    return None


def check_relative(ctx: _Ctx, al: Alignment) -> None:
    claim, evidence = al.article, al.abstract
    relative = [q for q in claim.quantities if q.kind in {"percent", "ratio"} and _is_relative(claim, q)]
    absolute_here = [q for q in claim.quantities if q.kind == "percent" and not _is_relative(claim, q)]
    if not relative or absolute_here:
        return
    holder = _relative_holder(ctx, al, relative)
    if holder is not None:
        evidence = holder
    elif evidence is None or al.score < ctx.verdicts["align"]["min_score"]:
        return
    absolute = [p for p in evidence.quantities if p.kind == "percent" and p.low is None and
                (_is_share_of_count(evidence, p) or not _is_relative(evidence, p))]
    if len(absolute) < 2:
        return
    told = {round(v.value, 1) for c in ctx.article_claims for v in c.quantities
            if v.value is not None and v.kind == "percent"}
    if all(round(p.value or 0, 1) in told for p in absolute[:2]):
        return  # the story gives the absolute figures elsewhere
    q = relative[0]
    shown = " vs ".join(_describe(p) for p in absolute[:2])
    ctx.add("relative-without-absolute-v1", claim, clause(claim, q.span.start, q.span.end),
            _cover(evidence, absolute[0].span.start, absolute[1].span.end),
            {"article_value": _describe(q), "abstract_value": shown}, al.score, al.paper_index)


# --- terminology and citation ------------------------------------------------------------------

def check_terminology(ctx: _Ctx, claims: Sequence[Claim]) -> None:
    rows = ctx.rules.tables.get("terminology", ())
    for index, abstract_claims in enumerate(ctx.abstract_claims):
        for row in rows:
            theirs = next(((c, m) for c in abstract_claims
                           for m in [re.search(row["abstract_term"], c.text, re.I)] if m), None)
            if theirs is None:
                continue
            for claim in claims:
                m = re.search(row["story_term"], claim.text, re.I)
                if not m:
                    continue
                c, am = theirs
                ctx.add("terminology-v1", claim,
                        _exact(claim, m.start(), m.end()), _exact(c, am.start(), am.end()),
                        {"note": row["note"], "term": row["id"]}, None, index, once=False)
                break


def _exact(claim: Claim, rel_start: int, rel_end: int) -> Span:
    return Span(claim.start + rel_start, claim.start + rel_end, claim.text[rel_start:rel_end])


_JOURNAL = re.compile(
    r"\b(?:published|appeared|appears|reported|described)\s+(?:online\s+)?(?:\w+\s+)?in\s+"
    r"(?:the\s+)?(?:(?:medical|scientific|peer-reviewed|leading)\s+)?(?:journal\s+(?:of\s+)?)?"
    r"([A-Z][\w&'’-]*(?:\s+(?:[A-Z][\w&'’-]*|of|and|the|in|for))*)")


def _citing_claim(ctx: _Ctx, paper: Paper, claims: Sequence[Claim]) -> Claim | None:
    """The story sentence that links to or names the paper; the headline when none does."""
    ids = [i.lower() for i in (paper.doi, paper.pmid) if i]
    for link in ctx.article.links:
        if link.start is not None and any(i in link.href.lower() for i in ids):
            for claim in claims:
                if claim.start <= link.start < claim.end:
                    return claim
    named = next((c for c in claims if _JOURNAL.search(c.text)), None)
    return named or (claims[0] if claims else None)


def check_citation(ctx: _Ctx, claims: Sequence[Claim]) -> None:
    for index, paper in enumerate(ctx.papers):
        anchor = _citing_claim(ctx, paper, claims)
        if anchor is None:
            return
        retraction = [n for n in paper.notices if n.lower().startswith("retraction")]
        if retraction:
            ctx.add("retracted-v1", anchor, sentence_span(anchor), None,
                    {"notice": retraction[0]}, None, index, once=False)
        for notice in paper.notices:
            if not notice.lower().startswith("retraction"):
                ctx.add("corrected-v1", anchor, sentence_span(anchor), None, {"notice": notice},
                        None, index, once=False)
        if paper.retracted and not retraction:
            ctx.add("retracted-v1", anchor, sentence_span(anchor), None,
                    {"notice": "indexed as a Retracted Publication"}, None, index, once=False)
        _check_journal(ctx, paper, index, anchor, claims)
        _check_author_year(ctx, paper, index, anchor)


def _check_journal(ctx: _Ctx, paper: Paper, index: int, anchor: Claim,
                   claims: Sequence[Claim]) -> None:
    """The journal the story names, in the sentence that cites the paper (the main paper: anywhere)."""
    if not paper.journal:
        return
    pool = [anchor] + ([c for c in claims if c is not anchor] if index == 0 else [])
    for claim in pool:
        m = _JOURNAL.search(claim.text)
        if not m:
            continue
        named = re.sub(r"\s+(?:in|and|the|of|for)$", "", m.group(1).strip())
        if len(named) < 3:
            continue
        score = max(fuzz.token_set_ratio(named.lower(), paper.journal.lower()),
                    fuzz.partial_ratio(named.lower(), paper.journal.lower()))
        if score < 70:
            ctx.add("journal-mismatch-v1", claim, _exact(claim, m.start(1), m.start(1) + len(named)),
                    None, {"article_journal": f"“{named}”", "paper_journal": f"“{paper.journal}”"},
                    None, index, once=False)
        return


_LEAD_AUTHOR = re.compile(
    r"\b(?:led by|lead author|first author|lead researcher|lead investigator)\s*,?\s+"
    r"(?:(?:Dr|Prof|Professor|Doctor)\.?\s+)?(?P<name>[A-Z][a-z'’-]+(?:\s+[A-Z]\.)*(?:\s+[A-Z][a-z'’-]+)+)")
_REFERENCE_LINE = re.compile(r"(?m)^\s*(?:Source|Reference|Citation|Study)s?:?\s*\n?\s*"
                             r"(?P<surname>[A-Z][A-Za-z'’-]+),\s+[A-Z]\.")
_REFERENCE_YEAR = re.compile(r"\((?P<year>(?:19|20)\d{2})[a-z]?\)")


def _surname(full: str) -> str:
    return full.replace(".", " ").split()[-1].lower()


def _check_author_year(ctx: _Ctx, paper: Paper, index: int, anchor: Claim) -> None:
    """The lead author and year the story gives, against the paper's (main paper only)."""
    if index != 0 or not paper.authors:
        return
    text = ctx.article.text
    surnames = {_surname(a) for a in paper.authors if a.strip()}
    named = _LEAD_AUTHOR.search(text) or _REFERENCE_LINE.search(text)
    if named:
        who = named.group("name") if "name" in named.groupdict() else named.group("surname")
        if _surname(who) not in surnames:
            span = _text_span(text, named.start(named.lastgroup or 0), named.end(named.lastgroup or 0))
            ctx.add("author-mismatch-v1", anchor, span, None,
                    {"article_author": f"“{who}”", "paper_author": f"“{paper.authors[0]}”"},
                    None, index, once=False)
    line = _REFERENCE_LINE.search(text)
    year = _REFERENCE_YEAR.search(text, line.start()) if line else None
    if year and paper.year and abs(int(year.group("year")) - paper.year) > 1:
        ctx.add("year-mismatch-v1", anchor, _text_span(text, year.start("year"), year.end("year")),
                None, {"article_year": year.group("year"), "paper_year": str(paper.year)},
                None, index, once=False)


def _text_span(text: str, start: int, end: int) -> Span:
    return Span(start, end, text[start:end])


# --- entry point -------------------------------------------------------------------------------

def judge(article: Article, papers: Sequence[Paper], article_claims: Sequence[Claim],
          abstract_claims: Sequence[Sequence[Claim]], alignments: Sequence[Alignment],
          rules: Rules) -> tuple[tuple[Finding, ...], tuple[Supported, ...]]:
    """Run every check over the aligned claims.

    Args:
        article: the story (for its paragraphs and roles).
        papers: the cited papers, in report order.
        article_claims: the story's claims.
        abstract_claims: the claims of each paper's abstract, in the same order as `papers`.
        alignments: one per story claim, from `align.align_claims`.
        rules: the loaded rules (checks.toml, verdicts.toml, lexicons).

    Returns:
        The findings (most severe first, then in story order) and the supported claims.
    """
    ctx = _Ctx(article=article, papers=papers, abstract_claims=abstract_claims,
               article_claims=article_claims, rules=rules, units=pint_names(rules),
               directions={row["term"]: row["direction"] for row in rules.tables.get("direction", ())},
               vocab=_Vocab.from_rules(rules),
               checks=rules.setting("checks"), verdicts=rules.setting("verdicts"))
    check_citation(ctx, article_claims)
    for al in alignments:
        if al.article.kind in {"background", "quote"}:
            continue
        if check_not_in_abstract(ctx, al):
            continue
        al = _best_for_numbers(ctx, al)
        check_numbers(ctx, al)
        check_uncertainty(ctx, al)
        if not check_result_by_outcome(ctx, al):
            check_direction_significance(ctx, al)
        check_group_swap(ctx, al)
        check_population(ctx, al)
        check_design(ctx, al)
        check_causal_and_hedges(ctx, al)
        check_relative(ctx, al)
    check_terminology(ctx, article_claims)
    order = {s: i for i, s in enumerate(("high", "medium", "low"))}
    abstracts = {ctx.paper_id(i): p.abstract for i, p in enumerate(papers)}
    merged = _merge_uncertainty(_dedupe_omissions(ctx.findings), article.text, abstracts)
    findings = sorted(merged, key=lambda f: (order[f.severity], f.article_span.start))
    supported = sorted(ctx.supported, key=lambda s: s.article_span.start)
    return tuple(findings), tuple(supported)


def _dedupe_omissions(findings: Sequence[Finding]) -> list[Finding]:
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


def _merge_uncertainty(findings: Sequence[Finding], text: str,
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


def _best_for_numbers(ctx: _Ctx, al: Alignment) -> Alignment:
    """Prefer, among near-best evidence, the abstract claim that shares the story's numbers."""
    if not al.article.quantities or not ctx.abstract_claims:
        return al
    weights = ctx.verdicts["align"]
    ranked = ranked_evidence(al.article, ctx.abstract_claims[al.paper_index], weights,
                             ctx.synonyms)
    for score, candidate in ranked[:3]:
        if score < weights["min_score"]:
            break
        if any(same_number(q, p, ctx.verdicts) for q in al.article.quantities
               for p in candidate.quantities if q.kind != "ci" and p.kind != "ci"):
            return Alignment(al.article, candidate, round(score, 3), al.paper_index)
    return al
