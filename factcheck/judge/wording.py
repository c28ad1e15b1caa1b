"""Wording: study design, causal language, dropped hedges, hardened certainty, terminology.

`design-trial-claimed-v1` / `design-peer-review-claimed-v1` are one decision (a design that
checks out is listed as supported). The three wording checks on a claim
(`causal-from-correlational-v1`, `hedge-dropped-v1`, `certainty-hardened-v1`) skip a claim whose
result is already found wrong, and a dropped hedge is not flagged where causal language is
(`unless` in rules/checks.toml). `terminology-v1` runs once over the whole story.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Mapping, Sequence

from ..types import Alignment, Claim
from ._common import RESULT_SECTIONS, Run, clause, cover, exact, sentence_span
from .align import ranked_evidence
from .registry import check

logger = logging.getLogger(__name__)

# --- study design ------------------------------------------------------------------------------

@check("design-trial-claimed-v1", needs=("evidence", "abstract", "paper"),
       also=("design-peer-review-claimed-v1",))
def study_design(run: Run, al: Alignment) -> None:
    """A review or an observational study called a trial; a preprint called peer-reviewed."""
    claim = al.article
    design = run.verdicts["design"]
    story = set(claim.design)
    paper = _paper_design(run, al.paper_index)
    trial_words = story & set(design["trial_tags"])
    observational = paper & set(design["observational_tags"])
    pooled = paper & set(design["review_tags"])
    pooled_told = bool(re.search(design["pooled_trials_pattern"], claim.text, re.I))
    if trial_words and pooled and not story & set(design["review_tags"]) and not pooled_told:
        run.add("design-trial-claimed-v1", claim, sentence_span(claim),
                sentence_span(al.abstract) if al.abstract else None,
                {"article_design": "a " + " ".join(sorted(trial_words)).replace("_", " ") + " study",
                 "paper_design": "a " + " and ".join(sorted(pooled)).replace("_", " ") +
                 " of earlier trials, not a trial itself"},
                al.score, al.paper_index)
        return
    if trial_words and observational and not paper & set(design["trial_tags"]):
        run.add("design-trial-claimed-v1", claim, sentence_span(claim),
                sentence_span(al.abstract) if al.abstract else None,
                {"article_design": "a " + " ".join(sorted(trial_words)).replace("_", " ") + " study",
                 "paper_design": "an observational study (" +
                 ", ".join(sorted(observational)).replace("_", " ") + ")"},
                al.score, al.paper_index)
        return
    if re.search(design["peer_review_pattern"], claim.text, re.I) and "preprint" in paper:
        run.add("design-peer-review-claimed-v1", claim, sentence_span(claim), None, {},
                al.score, al.paper_index)
        return
    shared = story & paper & set(design["reportable_tags"])
    if shared and al.abstract is not None:
        words = [e for e in claim.entities if e.label == "DESIGN"]
        theirs = [e for e in al.abstract.entities if e.label == "DESIGN"]
        if words and theirs:
            a = cover(claim, min(e.span.start for e in words), max(e.span.end for e in words))
            b = cover(al.abstract, min(e.span.start for e in theirs),
                      max(e.span.end for e in theirs))
            label = ", ".join(sorted(shared)).replace("_", " ")
            run.support(f"Design ({label}) matches the paper.", a, b, "design-match-v1",
                        al.score, al.paper_index)


def _paper_design(run: Run, index: int) -> set[str]:
    tags: set[str] = set()
    for c in run.abstract_claims[index] if run.abstract_claims else ():
        tags |= set(c.design)
    paper = run.papers[index] if run.papers else None
    if paper is not None:
        table = run.verdicts["design"]["publication_types"]
        for ptype in paper.publication_types:
            tags |= set(table.get(ptype, ()))
    return tags


# --- causal language and hedges ----------------------------------------------------------------

def _about_study(claim: Claim, verdicts: Mapping[str, Any]) -> bool:
    """The claim speaks of the study's result, so how firmly it is worded matters."""
    return claim.kind in {"result", "conclusion"} or \
        claim.section in {"title", "standfirst"} or \
        (claim.kind == "other" and _asserts(claim, verdicts))  # "X is as effective as Y"


@check("causal-from-correlational-v1", needs=("alignment", "abstract", "paper"))
def causal_from_correlational(run: Run, al: Alignment) -> None:
    """Cause and effect stated where an observational study reports an association.

    A headline rarely shares enough words with any abstract sentence to be aligned, so the
    evidence is looked for among the abstract's own statements of association: the best-ranked
    result or conclusion that reports one, on the claim's topic (aligned, or sharing a drug,
    outcome or condition with it, or, for a headline or standfirst, about the study itself).
    """
    claim = al.article
    verdicts = run.verdicts
    if not _about_study(claim, verdicts) or not run.abstract_claims:
        return
    paper_design = _paper_design(run, al.paper_index)
    observational = bool(paper_design & set(verdicts["design"]["observational_tags"])) and \
        (not paper_design & set(verdicts["design"]["trial_tags"]) or _trials_found_nothing(run, al))
    if claim.causal_strength != "direct_causal" or claim.hedged or not observational:
        return
    cues = verdicts["causal"]
    support = _correlational_evidence(run, al)
    if claim.causal_cue is None or support is None:
        return
    score, evidence = support
    on_topic = score >= verdicts["align"]["min_score"] or \
        claim.section in {"title", "standfirst"} or _shares_topic(claim, evidence)
    if not on_topic:
        return
    theirs = _first_phrase(evidence.text, tuple(cues["correlational_cues"]))
    run.add("causal-from-correlational-v1", claim, sentence_span(claim), sentence_span(evidence),
            {"article_words": f"“{claim.causal_cue.text}”",
             "abstract_strength": "an association in an observational study",
             "abstract_words": f"“{theirs}”" if theirs else "its wording"},
            score, al.paper_index)


def _trials_found_nothing(run: Run, al: Alignment) -> bool:
    """A review of trials and cohorts whose pooled trials show no significant effect: what
    evidence of an effect it has is the cohorts' association ("Among RCTs, a nonstatistically
    significant reduction ...; among cohort studies, ... associated with")."""
    trial = re.compile(run.verdicts["design"]["trial_results_pattern"], re.I)
    subgroup = [re.compile(m, re.I) for m in run.verdicts["subgroup"]["markers"]]
    said = [c for c in run.abstract_claims[al.paper_index]
            if (c.section or "").upper() in RESULT_SECTIONS and trial.search(c.text) and
            c.significance is not None and not re.search(r"\bsubgroups?\b", c.text, re.I) and
            not any(m.search(c.text) for m in subgroup)]  # the overall pooled result
    return bool(said) and all(c.significance == "not_significant" for c in said)


def _shares_topic(claim: Claim, evidence: Claim) -> bool:
    """The two claims name the same drug, outcome or condition."""
    labels = {"DRUG", "OUTCOME", "CONDITION"}
    mine = {e.norm for e in claim.entities if e.label in labels}
    return bool(mine & {e.norm for e in evidence.entities if e.label in labels})


@check("hedge-dropped-v1", needs=("evidence", "abstract"))
def hedge_dropped(run: Run, al: Alignment) -> None:
    """A firm statement of what the abstract's conclusion only hedges.

    The claim must state an effect (a direction or a causal verb). A claim that credits it to
    the study ("a new study shows that ...") is held to the abstract's conclusion whatever the
    wording; any other, to a hedged conclusion on its topic. A claim kept to the cells or
    animals the study used is not held to a hedge about people.
    """
    claim, evidence = al.article, al.abstract
    verdicts = run.verdicts
    if not _about_study(claim, verdicts) or claim.hedged:
        return
    if not _states_effect(claim, verdicts):
        return
    restates_result = evidence is not None and not evidence.hedged and \
        (evidence.section or "").upper() == "RESULTS" and \
        al.score >= verdicts["align"]["strong_score"]
    if restates_result or claim.causal_strength not in {"direct_causal", None}:
        return
    credited = bool(run.words.found.search(claim.text))
    hedged = _hedged_conclusion(run, al, credited)
    if hedged is None:
        return
    score, conclusion = hedged
    if run.words.animal.search(claim.text) and run.words.people.search(conclusion.text):
        return  # "stopped the virus in cell culture" against "possible benefits in humans"
    hedges = ", ".join(f"“{h.text}”" for h in conclusion.hedges) or "hedged wording"
    run.add("hedge-dropped-v1", claim, sentence_span(claim), sentence_span(conclusion),
            {"abstract_hedges": hedges}, score, al.paper_index)


@check("certainty-hardened-v1", needs=("evidence", "abstract"))
def certainty_hardened(run: Run, al: Alignment) -> None:
    """A hedged claim hardened ("proves", "indicates") where the authors only suggest."""
    claim, evidence = al.article, al.abstract
    verdicts = run.verdicts
    if not _about_study(claim, verdicts) or evidence is None:
        return
    if not claim.hedged or al.score < verdicts["align"]["min_score"]:
        return  # hardening a hedge needs a hedge: "most likely erroneous" for "suggests chance"
    boosters = tuple(verdicts["certainty"]["boosters"])
    weak = tuple(verdicts["certainty"]["weak_hedges"])
    found_boost = _first_word(claim.text, boosters)
    if not found_boost:
        return
    ranked = ranked_evidence(claim, run.abstract_claims[al.paper_index], verdicts["align"],
                             run.synonyms)
    for score, candidate in ranked[:5]:
        if score < verdicts["align"]["min_score"]:
            break
        found_weak = _first_word(candidate.text, weak)
        if found_weak and candidate.kind == "conclusion":
            b_start, b_end = found_boost[1]
            w_start, w_end = found_weak[1]
            run.add("certainty-hardened-v1", claim,
                    clause(claim, claim.start + b_start, claim.start + b_end),
                    clause(candidate, candidate.start + w_start, candidate.start + w_end),
                    {"abstract_words": f"“{found_weak[0]}”", "article_words": f"“{found_boost[0]}”"},
                    score, al.paper_index)
            return


def _states_effect(claim: Claim, verdicts: Mapping[str, Any]) -> bool:
    """The claim states an effect: a direction, a causal verb or cue ("works", "protects"), or a
    booster in a result ("proves"), but not a purpose ("to confirm that ...")."""
    if claim.direction in {"increase", "decrease"} or claim.causal_strength == "direct_causal" or \
            _first_word(claim.text, tuple(verdicts["causal"]["causal_cues"])):
        return True
    boost = _first_word(claim.text, tuple(verdicts["certainty"]["boosters"]))
    if boost is None:
        return False
    return not re.search(r"\bto\s+$", claim.text[:boost[1][0]])


def _asserts(claim: Claim, verdicts: Mapping[str, Any]) -> bool:
    """The claim states an effect as fact: a direction, a causal verb or a booster ("proves")."""
    return bool(claim.direction) or claim.causal_strength == "direct_causal" or \
        bool(_first_word(claim.text, tuple(verdicts["certainty"]["boosters"]))) or \
        bool(_first_word(claim.text, tuple(verdicts["causal"]["causal_cues"])))


def _conclusion_claims(run: Run, index: int) -> list[Claim]:
    claims = list(run.abstract_claims[index]) if run.abstract_claims else []
    found = [c for c in claims if (c.section or "").upper() == "CONCLUSIONS"]
    return found or [c for c in claims if c.kind == "conclusion"]


def _hedged_conclusion(run: Run, al: Alignment, credited: bool = False) -> tuple[float, Claim] | None:
    """The abstract's hedged conclusion about what the story claims, if it has one; for a claim
    credited to the study, its best-ranked hedged conclusion on any topic."""
    weights = run.verdicts["align"]
    synonyms = run.synonyms
    hedged = [c for c in _conclusion_claims(run, al.paper_index) if c.hedged]
    if not hedged:
        return None
    ranked = ranked_evidence(al.article, hedged, weights, synonyms)
    topic = {e.norm for e in al.article.entities if e.label in {"DRUG", "OUTCOME"}}
    for score, candidate in ranked:
        shared = topic & {e.norm for e in candidate.entities}
        if score >= weights["hedge_score"] or shared:
            return score, candidate
    return ranked[0] if credited and ranked else None


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


def _correlational_evidence(run: Run, al: Alignment) -> tuple[float, Claim] | None:
    """The abstract's own statement of the association, with its score as evidence for the
    claim: the best-ranked result or conclusion that reports one."""
    cues = tuple(run.verdicts["causal"]["correlational_cues"])
    ranked = ranked_evidence(al.article, run.abstract_claims[al.paper_index],
                             run.verdicts["align"], run.synonyms)
    for score, candidate in ranked:
        if (candidate.section or "").upper() not in RESULT_SECTIONS:
            continue
        if candidate.causal_strength == "correlational" or _first_phrase(candidate.text, cues):
            return score, candidate
    return None


# --- terminology -------------------------------------------------------------------------------

@check("terminology-v1", needs=("story", "abstract"))
def terminology(run: Run) -> None:
    """Terminology slips of rules/lexicons/terminology.tsv, over every story claim."""
    claims = run.article_claims
    rows = run.rules.tables.get("terminology", ())
    for index, abstract_claims in enumerate(run.abstract_claims):
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
                run.add("terminology-v1", claim,
                        exact(claim, m.start(), m.end()), exact(c, am.start(), am.end()),
                        {"note": row["note"], "term": row["id"]}, None, index, once=False)
                break
