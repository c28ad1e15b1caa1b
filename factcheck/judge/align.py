"""Pair each story claim with its best evidence among the abstract claims (pipeline stage 8).

The score mixes three signals, weighted by rules/verdicts.toml [align]:
- fuzzy similarity of content words (rapidfuzz token_set_ratio), with abbreviations expanded so
  "LDN" meets "low-dose naltrexone";
- shared numbers (the share of the story claim's numbers that the abstract claim also states);
- shared entities (drugs, outcomes, populations, conditions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from rapidfuzz import fuzz

from ..types import Alignment, Claim

_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")

# Function words carry no evidence; this short list is enough for the fuzzy score and keeps the
# aligner free of any NLP dependency.
_STOP = frozenset("""
a about above after again against all also an and any are as at be because been before being
below between both but by can could did do does doing during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no
nor not of off on once only or other our out over own same she should so some such than that the
their them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your whereas among versus vs via per
new study studies researchers found showed show shows according said says
""".split())


def content_words(text: str) -> list[str]:
    """Lowercase content words of `text`, function words dropped."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass(frozen=True, slots=True)
class _Profile:
    words: str
    numbers: frozenset[float]
    entities: frozenset[str]


def _expansions(text: str, synonyms: Sequence[Mapping[str, str]]) -> list[str]:
    lower, out = text.lower(), []
    for row in synonyms:
        if re.search(rf"\b{re.escape(row['term'])}\b", lower):
            out.extend(content_words(row["equivalents"].replace("|", " ")))
    return out


def _profile(claim: Claim, synonyms: Sequence[Mapping[str, str]] = ()) -> _Profile:
    words = content_words(claim.text) + _expansions(claim.text, synonyms)
    for entity in claim.entities:
        if entity.norm and entity.norm.lower() not in claim.text.lower():
            words.extend(content_words(entity.norm))
    numbers = frozenset(round(q.value, 6) for q in claim.quantities
                        if q.value is not None and q.kind != "ci")
    entities = frozenset(e.norm.lower() for e in claim.entities if e.norm)
    return _Profile(" ".join(words), numbers, entities)


def pair_score(article: Claim, abstract: Claim, weights: Mapping[str, float]) -> float:
    """How well `abstract` serves as evidence for `article`, from 0 to 1."""
    return _score(_profile(article), _profile(abstract), weights)


def _score(a: _Profile, b: _Profile, weights: Mapping[str, float]) -> float:
    text = fuzz.token_set_ratio(a.words, b.words) / 100.0 if a.words and b.words else 0.0
    numbers = len(a.numbers & b.numbers) / len(a.numbers) if a.numbers else 0.0
    entities = len(a.entities & b.entities) / len(a.entities | b.entities) if a.entities else 0.0
    score = weights["w_text"] * text + weights["w_numbers"] * numbers + weights["w_entities"] * entities
    if not a.numbers:
        # a claim without numbers cannot earn the number share; rescale so it is not penalised
        score /= 1.0 - weights["w_numbers"]
    return min(score, 1.0)


def align_claims(article_claims: Sequence[Claim], abstract_claims: Sequence[Sequence[Claim]],
                 weights: Mapping[str, float],
                 synonyms: Sequence[Mapping[str, str]] = ()) -> tuple[Alignment, ...]:
    """Best abstract evidence for every story claim, across all cited papers.

    Args:
        article_claims: the story's claims.
        abstract_claims: one sequence of claims per paper, in the order of the report's papers.
        weights: the [align] table of rules/verdicts.toml.
        synonyms: rows of rules/lexicons/outcome_synonyms.tsv; a story's lay words also count
            as the clinical terms they stand for ("heart attack" meets "myocardial infarction").

    Returns:
        One Alignment per story claim; `abstract` is None when no paper has any claim.
    """
    profiles = [[(_profile(c), c) for c in claims] for claims in abstract_claims]
    out = []
    for claim in article_claims:
        mine = _profile(claim, synonyms)
        best: tuple[float, Claim | None, int] = (0.0, None, 0)
        for index, candidates in enumerate(profiles):
            for profile, candidate in candidates:
                score = _score(mine, profile, weights)
                if score > best[0]:
                    best = (score, candidate, index)
        out.append(Alignment(article=claim, abstract=best[1], score=round(best[0], 3),
                             paper_index=best[2]))
    return tuple(out)


def ranked_evidence(article: Claim, abstract_claims: Sequence[Claim],
                    weights: Mapping[str, float],
                    synonyms: Sequence[Mapping[str, str]] = ()) -> list[tuple[float, Claim]]:
    """Every abstract claim scored as evidence for `article`, best first."""
    mine = _profile(article, synonyms)
    scored = [(_score(mine, _profile(c), weights), c) for c in abstract_claims]
    return sorted(scored, key=lambda pair: -pair[0])
