"""Results: not_in_abstract, direction and significance, and numbers given to the wrong group.

- `primary-results-not-in-paper-v1` and `claim-not-in-abstract-v1`: a result the abstract does not
  report; a claim either fires on is judged no further (`ends_claim` in rules/checks.toml).
- `significance-flip-v1` / `direction-flip-v1`: one decision. First what the abstract's results and
  conclusions say about the story's outcome wherever they say it (the first sentence that speaks
  of the outcome decides); failing a finding there, the abstract sentence aligned with the claim.
- `group-swap-v1`: the story gives an arm's numbers to the other arm.
"""

from __future__ import annotations

import logging
import re
from typing import Sequence

from ..types import Alignment, Claim, Paper
from ._common import (
    EFFECT_KINDS,
    PRIMARY_DEFINED,
    RESULT_SECTIONS,
    Run,
    abstract_sentences,
    clause,
    fmt,
    numbers_of,
    outcome_alternatives,
    sentence_span,
    word_stem,
)
from .align import content_words
from .numbers import find_match
from .registry import check

logger = logging.getLogger(__name__)

# --- results the abstract does not report ------------------------------------------------------

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


def idiom_direction(text: str, run: Run) -> tuple[str, str] | None:
    """(outcome, direction) of a stock phrase such as "live longer"; None when there is none."""
    for pattern, outcome, direction in run.words.idioms:
        if pattern.search(text):
            return outcome, direction
    return None


def _result_outcomes(claim: Claim, run: Run) -> list[str]:
    """Noun phrases right after a direction verb: what the claim says went up or down."""
    out = []
    idiom = idiom_direction(claim.text, run)
    if idiom:
        out.append(idiom[0])
    for m in re.finditer(r"[A-Za-z]+", claim.text):
        word = m.group(0).lower()
        if run.directions.get(word) not in {"increase", "decrease", "no_change"} or \
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


def _outcome_phrases(claim: Claim, run: Run) -> list[str]:
    """The outcomes a result claim is about: what its direction words act on, else its outcome."""
    found = _result_outcomes(claim, run)
    if found:
        return found
    if claim.outcome:
        return [claim.outcome]
    return [e.norm or e.span.text for e in claim.entities if e.label == "OUTCOME"][:2]


def _states_a_result(claim: Claim, run: Run) -> bool:
    """The claim states something about the study that the abstract should support."""
    settings = run.verdicts["not_in_abstract"]
    headline_claim = claim.section in {"title", "standfirst"} and (
        claim.causal_strength == "direct_causal" or claim.direction is not None)
    if claim.kind not in settings["claim_kinds"] and not headline_claim:
        return False
    if claim.hedged and not claim.quantities:
        return False  # speculation ("may be mediated by ...") is not a factual claim to verify
    return True


@check("primary-results-not-in-paper-v1", needs=("alignment", "paper"))
def primary_results_not_in_paper(run: Run, al: Alignment) -> None:
    """The story reports primary results; the cited paper is a secondary analysis."""
    claim = al.article
    if not _states_a_result(claim, run):
        return
    paper = run.papers[al.paper_index] if run.papers else None
    if paper is not None and _mentions_primary(claim) and _is_secondary(paper):
        run.add("primary-results-not-in-paper-v1", claim, sentence_span(claim), None,
                {"paper_kind": "a secondary, exploratory analysis"}, al.score, al.paper_index)


@check("claim-not-in-abstract-v1", needs=("alignment", "abstract"))
def claim_not_in_abstract(run: Run, al: Alignment) -> None:
    """The story's result is about an outcome no abstract sentence mentions."""
    claim = al.article
    if not _states_a_result(claim, run):
        return
    settings = run.verdicts["not_in_abstract"]
    paper_index = al.paper_index
    sentences = [s for claims in run.abstract_claims for s in abstract_sentences(claims)]
    acted_on = _result_outcomes(claim, run)
    # without a direction verb to say what changed, the lexicon's outcome is only a guess: judge
    # it alone when the claim says outright that a result was (not) significant, or in a headline
    guess = [] if acted_on or not (claim.significance or claim.section in {"title", "standfirst"}) \
        else _outcome_phrases(claim, run)
    missing = [p for p in acted_on or guess
               if not run.mentioned(p, sentences, settings["outcome_coverage"])]
    if missing and _numbers_supported(run, claim, paper_index, missing):
        missing = []  # its effect sizes are the abstract's own: the outcome is only worded differently
    if missing and any(run.mentioned(p, sentences, settings["outcome_coverage"])
                       for p in _outcome_phrases(claim, run) if p not in missing):
        missing = []  # it also names an outcome the abstract reports: the other may be the exposure
    if missing and (claim.direction or claim.significance or claim.quantities):
        what = " or ".join(f"“{m}”" for m in missing)
        run.add("claim-not-in-abstract-v1", claim, sentence_span(claim), None,
                {"what": what}, al.score, paper_index)


def _numbers_supported(run: Run, claim: Claim, paper_index: int,
                       outcomes: Sequence[str] = ()) -> bool:
    """Every effect size of the claim is stated in the abstract, in a sentence on its outcome."""
    effects = [q for q in claim.quantities if q.kind in EFFECT_KINDS and q.value is not None]
    if not effects or not run.abstract_claims:
        return False
    pool = [(c, p) for c, p in numbers_of(run.abstract_claims[paper_index])
            if not outcomes or any(run.mentioned(o, abstract_sentences([c]), 0.5)
                                   for o in outcomes)]
    return all(find_match(q, pool, run) for q in effects)

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

@check("significance-flip-v1", needs=("evidence", "abstract"), also=("direction-flip-v1",))
def direction_and_significance(run: Run, al: Alignment) -> None:
    """What the abstract says about the story's outcome; failing a finding, its aligned sentence."""
    _result_by_outcome(run, al)
    if not run.kinds_raised(al.article.start) & {"direction", "significance"}:
        _aligned_direction_significance(run, al)


def _result_by_outcome(run: Run, al: Alignment) -> None:
    """Find what the abstract says about the story's outcome, wherever it says it.

    A story that reports a (significant) benefit on an outcome for which the abstract's results
    or conclusions report no significant difference gets a significance finding; an opposite
    direction on the same outcome gets a direction finding. At most one finding.
    """
    claim = al.article
    idiom = idiom_direction(claim.text, run)
    if claim.kind not in {"result", "conclusion"} and claim.section not in {"title", "standfirst"} \
            and not idiom:
        return
    if claim.hedged or not (claim.significance or claim.direction or idiom):
        return
    outcomes = _outcome_phrases(claim, run)
    if not outcomes or not run.abstract_claims:
        return
    claims = [c for c in run.abstract_claims[al.paper_index]
              if (c.section or "").upper() in RESULT_SECTIONS and c.kind != "background"]
    primary = _primary_outcome(run.abstract_claims[al.paper_index])
    for outcome in outcomes:
        if not [w for w in content_words(outcome) if w not in run.words.generic_outcomes]:
            continue  # "risk" alone names no outcome
        mine = idiom[1] if idiom and idiom[0] == outcome else \
            local_direction(claim, outcome, run)
        names = [outcome]
        if primary and run.mentioned(outcome, [primary], 1.0):
            names += ["primary outcome", "primary-outcome", "primary end point",
                      "primary endpoint", "primary composite outcome"]  # results often say only so
        for evidence in sorted(claims, key=lambda c: (c.section or "") != "CONCLUSIONS"):
            words = abstract_sentences([evidence])  # with abbreviations expanded ("CHD")
            said = next((n for n in names if run.mentioned(n, words, 1.0)), None)
            if said is None:
                continue
            theirs = local_direction(evidence, said, run)
            if theirs in _OPPOSITE and _inverse_outcome(outcome, evidence.text, run, claim.text):
                theirs = _OPPOSITE[theirs]  # "live longer" against "increased mortality"
            # "a nonstatistically significant reduction" is no effect to a story that calls the
            # effect significant; to one that only gives its direction, only when no direction
            null = theirs == "no_change" or (evidence.significance == "not_significant" and
                                             (theirs is None or claim.significance == "significant"))
            told_as_number = any(q.kind in EFFECT_KINDS for q in claim.quantities)
            if mine in {"increase", "decrease"} and null and (
                    claim.significance == "significant" or not told_as_number) and \
                    not _shown_elsewhere(run, claims, evidence, names, mine, claim):
                rule = "significance-flip-v1" if claim.significance == "significant" else \
                    "direction-flip-v1"
                fields = {"article_significance": "significant",
                          "abstract_significance": "not significant",
                          "article_direction": _said(mine), "abstract_direction": "no difference",
                          "outcome": outcome}
                run.add(rule, claim, sentence_span(claim), sentence_span(evidence), fields,
                        al.score, al.paper_index)
                return
            if mine == "no_change" and theirs in {"increase", "decrease"} and \
                    evidence.significance != "not_significant" and not evidence.hedged and \
                    claim.causal_strength == "no_relationship" and \
                    (evidence.section or "").upper() in {"CONCLUSIONS", "RESULTS"}:
                run.add("direction-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                        {"article_direction": "no link", "abstract_direction": _said(theirs),
                         "outcome": outcome}, al.score, al.paper_index)
                return
            if mine in {"increase", "decrease"} and theirs in {"increase", "decrease"} and \
                    mine != theirs and (evidence.section or "").upper() == "CONCLUSIONS":
                run.add("direction-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                        {"article_direction": _said(mine), "abstract_direction": _said(theirs),
                         "outcome": outcome}, al.score, al.paper_index)
                return
            if theirs is not None:
                break  # the first sentence that speaks of this outcome decides


def _shown_elsewhere(run: Run, claims: Sequence[Claim], evidence: Claim, names: Sequence[str],
                    mine: str, claim: Claim) -> bool:
    """Another results sentence reports the story's direction on the outcome (a review whose
    trials show nothing while its cohorts show an association): a story that says "linked to"
    is then right. Claiming significance needs a significant sentence; any claim, a direction."""
    for other in claims:
        if other is evidence or other.significance == "not_significant":
            continue
        words = abstract_sentences([other])
        said = next((n for n in names if run.mentioned(n, words, 1.0)), None)
        if said is None or (local_direction(other, said, run) or _interval_direction(other)) != mine:
            continue
        if claim.significance != "significant" or other.significance == "significant" or \
                other.causal_strength == "correlational":
            return claim.causal_strength != "direct_causal" or claim.significance != "significant"
    return False


def _interval_direction(claim: Claim) -> str | None:
    """The direction of a ratio whose interval excludes 1 ("an SRRE of 0.82 (0.74-0.92)")."""
    for q in claim.quantities:
        if q.low is None or q.high is None or q.value is None:
            continue
        if q.kind == "ratio" or (q.kind == "number" and not q.unit and 0 < q.value < 3):
            if max(q.low, q.high) < 1:
                return "decrease"
            if min(q.low, q.high) > 1:
                return "increase"
    return None


def _aligned_direction_significance(run: Run, al: Alignment) -> None:
    """Direction and significance of the claim against the abstract sentence aligned with it."""
    claim, evidence = al.article, al.abstract
    if evidence is None or al.score < run.verdicts["align"]["strong_score"]:
        return
    if (evidence.section or "").upper() not in RESULT_SECTIONS or evidence.kind == "background":
        return  # the background's "little is known whether X raises Y" reports no result
    outcome = claim.outcome or evidence.outcome or "the outcome"
    if not [w for w in content_words(claim.outcome or "") if w not in run.words.generic_outcomes]:
        mine = None  # "risk" alone names no outcome to compare directions on
    else:
        # the direction given to this outcome, not the sentence's first direction word
        mine = local_direction(claim, claim.outcome, run)
    theirs = local_direction(evidence, claim.outcome, run)
    if theirs is None and claim.outcome and evidence.outcome and \
            run.mentioned(claim.outcome, [evidence.outcome], 1.0):
        theirs = local_direction(evidence, evidence.outcome, run)
    claims_benefit = mine in {"increase", "decrease"}
    if claim.significance == "significant" and (
            evidence.significance == "not_significant" or theirs == "no_change"):
        run.add("significance-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"article_significance": "significant",
                 "abstract_significance": "not significant"}, al.score, al.paper_index)
        return
    if claim.significance == "not_significant" and evidence.significance == "significant" and \
            theirs in {"increase", "decrease"}:
        run.add("significance-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"article_significance": "not significant",
                 "abstract_significance": "significant"}, al.score, al.paper_index)
        return
    if mine and theirs and mine != theirs and (claims_benefit or theirs != "no_change") and \
            not _inverse_outcome(claim.outcome or "", evidence.text, run, claim.text):
        run.add("direction-flip-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"article_direction": _said(mine), "abstract_direction": _said(theirs),
                 "outcome": outcome}, al.score, al.paper_index)
        return
    if mine and theirs and mine == theirs:
        run.support(f"The direction ({_said(mine)} in {outcome}) matches the abstract.",
                    sentence_span(claim), sentence_span(evidence), "direction-match-v1",
                    al.score, al.paper_index)
    if claim.significance and claim.significance == evidence.significance:
        run.support(f"Reported as {claim.significance.replace('_', ' ')}, as in the abstract.",
                    sentence_span(claim), sentence_span(evidence), "significance-match-v1",
                    al.score, al.paper_index)


def _primary_outcome(claims: Sequence[Claim]) -> str | None:
    """What the abstract defines as its primary outcome ("The primary outcome was ...")."""
    for c in claims:
        m = PRIMARY_DEFINED.search(c.text)
        if m:
            return m.group("what")
    return None

_OPPOSITE = {"increase": "decrease", "decrease": "increase"}


def _inverse_outcome(outcome: str, evidence: str, run: Run, said: str = "") -> bool:
    """True when the story's outcome is the abstract's turned round ("survival" vs "mortality").

    "Saves lives" is read as fewer deaths by the direction lexicon already, so it is not turned.
    """
    if re.search(r"\bsav(?:e|es|ed|ing)\s+(?:\w+\s+)?lives\b", said, re.I):
        return False
    pairs = run.verdicts.get("inverse_outcomes", {}).get("pairs", ())
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

_DESCRIPTOR = re.compile(r"\b(?:a|an|with|had|have|has)\s*$", re.I)

_RESULT_LEAD = re.compile(r"\b(?:associated|linked|correlated|led|leads|resulted|results)\s+"
                          r"(?:with|to|in)\s+(?:a|an)?\s*$", re.I)


def _outcome_position(claim: Claim, outcome: str, run: Run) -> int | None:
    lower = claim.text.lower()
    for alternative in outcome_alternatives(outcome, run.synonyms):
        words = [w for w in content_words(alternative) if w not in run.words.generic_outcomes]
        if not words:
            continue
        head = words[-1]  # the head noun locates the outcome ("covid hospitalizations")
        at = lower.find(head[:max(4, len(head) - 2)])
        if at >= 0:
            return at
    return None


def local_direction(claim: Claim, outcome: str | None, run: Run) -> str | None:
    """The direction the claim gives `outcome`: the cue nearest its mention, in its clause.

    A cue negated just before it ("did not improve") means no change; an attributive cue
    ("a raised marker of inflammation") describes the people, not a result, and is skipped.
    """
    if not outcome:
        return None
    at = _outcome_position(claim, outcome, run)
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
        direction = run.directions.get(word)
        if direction is None:
            continue
        asked = claim.open_question
        if asked is not None and asked.start <= claim.start + base + m.start() < asked.end:
            continue  # "cannot determine whether less sleep causes dementia" reports nothing
        before = text[:m.start()]
        if run.words.negation.search(before[-40:]):
            direction = "no_change"
        elif _DESCRIPTOR.search(before) and direction != "no_change" and \
                not run.words.compared_noun.match(text[m.end():]) and not _RESULT_LEAD.search(before):
            continue  # "a raised marker": a description; but "with a decreased risk" is a result
        # the verb usually comes before its object; a cue after the outcome counts for less
        distance = at - (base + m.start()) if base + m.start() <= at else \
            3 * (base + m.start() - at)
        if best is None or distance < best[0]:
            best = (distance, direction)
    if best is None and re.search(r"\b(?:no (?:significant |clear )?(?:difference|link|association|"
                                  r"connection|relationship|correlation)|did not differ|similar)\b",
                                  text, re.I):
        return "no_change"  # "found no link between hair straighteners and uterine cancer"
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

# words of at most 61 characters, read once: unbounded, every word start of a long hyphenated
# run ("a-b-a-b-...") read the rest of it (30 KB took 7 s)
_ARM = re.compile(r"\b((?:[A-Za-z][\w-]{0,60}+\s+){0,1}[A-Za-z][\w-]{0,60}+)\s+(?:group|arm|cohort)s?\b",
                  re.I)

_ARM_SKIP = frozenset({"the", "a", "an", "each", "both", "two", "this", "that", "same", "control"})


def _arms(claim: Claim) -> list[tuple[int, int, str]]:
    """(start, end, normalised arm name) of each "X group" mention in the claim."""
    out = []
    for m in _ARM.finditer(claim.text):
        words = [w for w in m.group(1).lower().split() if w not in _ARM_SKIP]
        if not words:
            continue
        head = re.split(r"[-\s]", words[-1] if len(words) == 1 else words[0])[0]
        out.append((claim.start + m.start(), claim.start + m.end(), word_stem(head)))
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


@check("group-swap-v1", needs=("evidence",))
def numbers_given_to_the_wrong_group(run: Run, al: Alignment) -> None:
    """Numbers attributed to the wrong arms: 203 deaths 'in the intensive group' vs 203 in standard."""
    claim, evidence = al.article, al.abstract
    if evidence is None or al.score < run.verdicts["align"]["min_score"]:
        return
    mine, theirs = _bindings(claim), _bindings(evidence)
    arms_mine, arms_theirs = set(mine.values()), set(theirs.values())
    swapped = [v for v, arm in mine.items() if v in theirs and theirs[v] != arm
               and arm in arms_theirs and theirs[v] in arms_mine]
    if len(swapped) >= 1:
        run.add("group-swap-v1", claim, sentence_span(claim), sentence_span(evidence),
                {"values": ", ".join(fmt(v) for v in swapped)}, al.score, al.paper_index)
