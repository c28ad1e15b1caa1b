"""Population: a finding in animals told as one in people, or a narrower group told as everyone.

`population-species-v1` first; `population-generalised-v1` skips a claim it has flagged (`unless`
in rules/checks.toml). A generalisation is read against the aligned abstract sentence ("women" ->
"patients") and, for sex only, against the study's own participants once per paper in the
headline and standfirst and once in the body (the check reads the findings raised so far).
"""

from __future__ import annotations

import logging
import re
from typing import Iterable

from ..types import Alignment, Claim, Span
from ._common import Run, clause, fmt, is_participants, sentence_span, word_stem
from .registry import check

logger = logging.getLogger(__name__)


def _participant_nouns(run: Run) -> frozenset[str]:
    return frozenset(word_stem(w) for w in run.verdicts["population"]["participant_nouns"])


@check("population-species-v1", needs=("evidence", "abstract"))
def animals_told_as_people(run: Run, al: Alignment) -> None:
    """The abstract's study is in animals or cells only; the story speaks of people."""
    claim, evidence = al.article, al.abstract
    verdicts = run.verdicts
    species = set(verdicts["population"]["species_tags"])
    paper_tags: set[str] = set()
    human_claims = 0
    for c in run.abstract_claims[al.paper_index] if run.abstract_claims else ():
        paper_tags |= set(c.population_tags)
        if "human" in c.population_tags and not _animal_claim(c, run):
            human_claims += 1
    story_tags = set(claim.population_tags)
    animal = paper_tags & species
    if animal and not human_claims and story_tags & {"human"} and not _animal_claim(claim, run):
        run.add("population-species-v1", claim, sentence_span(claim),
                sentence_span(evidence) if evidence else None,
                {"abstract_population": " and ".join(sorted(animal)),
                 "article_population": claim.population or "people"}, al.score, al.paper_index)


@check("population-generalised-v1", needs=("evidence", "abstract", "findings", "story"))
def narrower_group_told_as_everyone(run: Run, al: Alignment) -> None:
    """The abstract's people are narrower (women, older adults) than the story's."""
    claim, evidence = al.article, al.abstract
    verdicts = run.verdicts
    nouns = _participant_nouns(run)
    story_tags = set(claim.population_tags)
    story_pop = _population_words(claim, nouns)
    generic = {word_stem(w) for w in verdicts["population"]["generic_nouns"]}
    if evidence is not None and al.score >= verdicts["align"]["min_score"] and story_pop and \
            word_stem(story_pop.split()[-1]) in generic:
        paper_pop = _population_words(evidence, nouns)
        theirs = _restricting(evidence.population_tags, run, evidence.text)
        lost = theirs - story_tags
        if paper_pop and lost and not _restricting(story_tags, run, claim.text) - theirs:
            run.add("population-generalised-v1", claim, _population_clause(claim, nouns),
                    _population_clause(evidence, nouns),
                    {"abstract_population": f"“{paper_pop}”", "article_population": f"“{story_pop}”"},
                    al.score, al.paper_index)
            return
    # the study's own population, from the sentence that counts its participants
    studied, source = _study_population(run, al.paper_index, nouns)
    describes = any(is_participants(q, nouns, claim) for q in claim.quantities) or \
        claim.section in {"title", "standfirst"}
    # only sex and species are read reliably enough to judge a whole story by; and once per paper
    lost = (studied & set(verdicts["population"]["study_level_tags"])) - \
        _restricting(story_tags, run)
    top = claim.section in {"title", "standfirst"}
    said = any(f.kind == "population" and f.paper == run.paper_id(al.paper_index) and
               (_section_of(run, f.article_span.start) in {"title", "standfirst"}) == top
               for f in run.findings)  # once in the headline and standfirst, once in the body
    if source is not None and lost and describes and story_tags & {"human"} and not said and \
            claim.kind != "background":
        run.add("population-generalised-v1", claim, _population_clause(claim, nouns),
                _population_clause(source, nouns),
                {"abstract_population": f"“{_population_words(source, nouns) or 'a narrower group'}”",
                 "article_population": f"“{story_pop or 'people in general'}”"},
                al.score, al.paper_index)


def _restricting(tags: Iterable[str], run: Run, text: str = "") -> set[str]:
    found = set(tags) & set(run.verdicts["population"]["restricting_tags"])
    if {"female", "male"} <= found or (
            text and run.words.male.search(text) and run.words.female.search(text)):
        found -= {"female", "male"}  # "men and women": no sex restriction
    return found


def _population_words(claim: Claim, nouns: frozenset[str]) -> str | None:
    for q in claim.quantities:
        if q.kind == "count" and q.of and word_stem(q.of.split()[-1]) in nouns:
            return f"{fmt(q.value)} {q.of}" if q.value is not None else q.of
    return claim.population


def _animal_claim(claim: Claim, run: Run) -> bool:
    species = set(run.verdicts["population"]["species_tags"])
    return bool(set(claim.population_tags) & species) or bool(run.words.animal.search(claim.text))


def _study_population(run: Run, index: int, nouns: frozenset[str]) -> tuple[set[str], Claim | None]:
    """What narrows the people studied (sex, age group, ...), from the claim counting them."""
    claims = list(run.abstract_claims[index]) if run.abstract_claims else []
    ordered = sorted(claims, key=lambda c: (c.section or "").upper() != "METHODS")
    for c in ordered:
        if any(is_participants(q, nouns, c) for q in c.quantities):
            return _restricting(c.population_tags, run, c.text), c
    return set(), None


def _section_of(run: Run, offset: int) -> str:
    for p in run.article.paragraphs:
        if p.start <= offset < p.end:
            return p.role
    return "body"


def _population_clause(claim: Claim, nouns: frozenset[str]) -> Span:
    for q in claim.quantities:
        if q.kind == "count" and q.of and word_stem(q.of.split()[-1]) in nouns:
            return clause(claim, q.span.start, q.span.end)
    return sentence_span(claim)


@check("population-sex-of-count-v1", needs=("alignment", "abstract"))
def count_given_a_sex(run: Run, al: Alignment) -> None:
    """The story's head count is the abstract's, but the story says women (or men) where the
    abstract counts patients of both sexes ("1,005 women" for "1005 patients")."""
    claim = al.article
    if not run.abstract_claims or claim.kind == "background":
        return
    nouns = _participant_nouns(run)
    abstract = run.abstract_claims[al.paper_index]
    studied = set().union(*(set(c.population_tags) for c in abstract)) if abstract else set()
    for q in claim.quantities:
        if q.kind != "count" or not q.of or not is_participants(q, nouns, claim):
            continue
        noun = q.of.split()[-1]
        sex = "female" if run.words.female.fullmatch(noun) else \
            "male" if run.words.male.fullmatch(noun) else None
        if sex is None or sex in studied:
            continue  # the abstract itself restricts the study to that sex
        for c in abstract:
            same = [p for p in c.quantities if p.kind == "count" and p.of and
                    p.value == q.value and is_participants(p, nouns, c)]
            if same and not run.words.female.search(same[0].of or "") and \
                    not run.words.male.search(same[0].of or ""):
                p = same[0]
                run.add("population-sex-of-count-v1", claim, clause(claim, q.span.start, q.span.end),
                        clause(c, p.span.start, p.span.end),
                        {"article_population": f"“{q.span.text}”",
                         "abstract_population": f"“{p.span.text}”"}, al.score, al.paper_index)
                return


@check("population-age-band-v1", needs=("alignment", "abstract"),
       also=("population-age-bound-dropped-v1",))
def age_band_not_the_studys(run: Run, al: Alignment) -> None:
    """The story gives the people studied an age band the abstract does not: one it never
    states ("between the ages of 70 and 80" for women of every age), or an open bound where the
    abstract's band is closed ("60 and older" for people aged 60-84, the second rule)."""
    claim = al.article
    if not run.abstract_claims or claim.kind == "background" or claim.hedged:
        return
    population = run.verdicts["population"]
    m = re.search(population["story_age_band"], claim.text, re.I)
    if not m or not _describes_participants(claim, run):
        return
    mine = _band(m)
    ages = [(c, a) for c in run.abstract_claims[al.paper_index]
            for a in re.finditer(population["abstract_age_band"], c.text, re.I)]
    if not ages or any(_band(a) == mine for _, a in ages):
        return  # no ages to compare with, or the same band
    dropped = [(c, a) for c, a in ages if mine[1] is None and _band(a)[0] == mine[0]]
    c, a = (dropped or ages)[0]
    run.add("population-age-bound-dropped-v1" if dropped else "population-age-band-v1", claim,
            clause(claim, claim.start + m.start(), claim.start + m.end()),
            clause(c, c.start + a.start(), c.start + a.end()),
            {"article_population": f"“{m.group(0)}”", "abstract_population": f"“{a.group(0)}”"},
            al.score, al.paper_index)


def _band(m: re.Match[str]) -> tuple[str, str | None]:
    """(lowest age, highest age or None for an open bound) of an age-band match."""
    return m.group("low") or m.group("low2"), m.group("high")


def _describes_participants(claim: Claim, run: Run) -> bool:
    nouns = _participant_nouns(run)
    return any(is_participants(q, nouns, claim) for q in claim.quantities) or \
        bool(re.search(run.verdicts["population"]["participants_said"], claim.text, re.I))
