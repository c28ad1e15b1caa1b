"""What every check shares: the Run a judge() call builds, the vocabulary, spans and number equality.

A `Run` holds what the checks read (the story, its papers, their claims, the loaded rules and the
word-list patterns built from them once per judge() call) and what they write: findings, supported
claims, and `raised`, the rule ids each story claim has raised so far. `Run.add` keeps one finding
of each kind per claim unless asked otherwise (`once=False`); the runner (registry.py) reads
`raised` for the `ends_claim` and `unless` settings of rules/checks.toml.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, Sequence

from ..rules import Rules
from ..types import Alignment, Article, Claim, Finding, Paper, Quantity, Span, Supported
from .align import content_words, ranked_evidence

logger = logging.getLogger(__name__)

NUMERIC_KINDS = frozenset({"count", "measure", "percent", "ratio", "duration", "money", "number"})
EFFECT_KINDS = frozenset({"measure", "percent", "ratio"})
_CONTEXTS = frozenset({"title", "standfirst", "caption"})  # story sections with their own severity
RESULT_SECTIONS = frozenset({"RESULTS", "CONCLUSIONS", "UNASSIGNED", "FINDINGS"})
# "The primary outcome was ...": what the abstract defines as its primary outcome
PRIMARY_DEFINED = re.compile(
    r"\bprimary\s+(?:composite\s+|efficacy\s+)?(?:outcome|end\s*-?point)s?\s+(?:was|were|is|:)\s+"
    r"(?P<what>[^.;]+)", re.I)


def _words_re(words: Iterable[str], tail: str = "") -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w).replace("\\ ", r"\s+")
                            for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives}){tail}\b", re.I)


@dataclass(frozen=True)
class Vocab:
    """The word lists of rules/ that the checks read, as patterns built once per judge() call."""

    generic_outcomes: frozenset[str]
    negation: re.Pattern[str]  # a negation cue a few words before a direction word
    compared_noun: re.Pattern[str]  # "lower risk": a comparison, not a verb
    male: re.Pattern[str]
    female: re.Pattern[str]
    animal: re.Pattern[str]
    enrolled: re.Pattern[str]
    screened: re.Pattern[str]
    found: re.Pattern[str]  # the story credits a result to the study ("a new study shows that")
    people: re.Pattern[str]  # a conclusion about people, not cells or animals
    idioms: tuple[tuple[re.Pattern[str], str, str], ...]

    @classmethod
    def from_rules(cls, rules: Rules) -> Vocab:
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
            screened=_words_re(v["screened_words"]), found=_words_re(v["finding_words"]),
            people=_words_re(v["people_words"]),
            idioms=tuple((re.compile(i["pattern"], re.I), i["outcome"], i["direction"])
                         for i in v["idioms"]))


@dataclass
class Run:
    """One judge() call: what the checks read and what they raise."""

    article: Article
    papers: Sequence[Paper]
    abstract_claims: Sequence[Sequence[Claim]]
    article_claims: Sequence[Claim]
    rules: Rules
    checks: Mapping[str, Any]
    verdicts: Mapping[str, Any]
    units: Mapping[str, str | None] = field(default_factory=dict)  # canonical unit -> pint
    directions: Mapping[str, str] = field(default_factory=dict)  # direction word -> direction
    vocab: Vocab | None = None
    findings: list[Finding] = field(default_factory=list)
    supported: list[Supported] = field(default_factory=list)
    raised: dict[int, list[str]] = field(default_factory=dict)  # claim start -> rule ids raised on it

    @property
    def words(self) -> Vocab:
        assert self.vocab is not None, "judge() builds the vocabulary"
        return self.vocab

    @property
    def synonyms(self) -> Sequence[Mapping[str, str]]:
        return self.rules.tables.get("outcome_synonyms", ())

    def mentioned(self, phrase: str, sentences: Sequence[str], coverage: float = 1.0) -> bool:
        """Whether one of `sentences` names the outcome `phrase` (synonyms and inflections too)."""
        return _mentioned(phrase, sentences, coverage, self.synonyms, self.words.generic_outcomes)

    def kinds_raised(self, claim_start: int) -> set[str]:
        """The finding kinds already raised on the story claim that starts at `claim_start`."""
        return {self.checks[r]["kind"] for r in self.raised.get(claim_start, ())}

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
        if once and kind in self.kinds_raised(claim.start):
            return
        self.raised.setdefault(claim.start, []).append(rule_id)
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


def cover(claim: Claim, start: int, end: int) -> Span:
    a = clause(claim, start, start)
    b = clause(claim, end, end)
    s, e = min(a.start, b.start), max(a.end, b.end)
    return Span(s, e, claim.text[s - claim.start:e - claim.start])


def exact(claim: Claim, rel_start: int, rel_end: int) -> Span:
    return Span(claim.start + rel_start, claim.start + rel_end, claim.text[rel_start:rel_end])


# --- numbers -----------------------------------------------------------------------------------

def _decimals(q: Quantity) -> int:
    m = re.search(r"\d+(?:[.,]\d+)*", q.span.text)
    if not m or "." not in m.group(0):
        return 0
    return len(m.group(0).rsplit(".", 1)[1])


def rounds_to(story: Quantity, paper_value: float) -> bool:
    if story.value is None:
        return False
    step = Decimal(1).scaleb(-_decimals(story))
    return Decimal(str(paper_value)).quantize(step, rounding=ROUND_HALF_UP) == \
        Decimal(str(story.value)).quantize(step, rounding=ROUND_HALF_UP)


def same_number(story: Quantity, paper: Quantity, verdicts: Mapping[str, Any]) -> bool:
    """True when the story's number is the paper's, allowing rounding and stated approximation."""
    if story.value is None or paper.value is None:
        return False
    numbers = verdicts["numbers"]
    if story.kind == "ratio" and not any(ch.isdigit() for ch in story.span.text) and paper.value:
        # "double", "halve", "three times": a multiplier word means about that, not anything
        # that rounds to it ("double the risk" is not a hazard ratio of 1.62)
        tolerance = numbers["approximate_tolerance" if story.qualifier else "multiplier_tolerance"]
        return abs(story.value - paper.value) / abs(paper.value) <= tolerance
    if rounds_to(story, paper.value):
        return True
    if story.kind == "count" and not story.qualifier and story.value >= numbers["exact_count_from"] \
            and story.value % 10 and any(ch.isdigit() for ch in story.span.text):
        return False  # "33,497 women" is told exactly: 33,947 is another number
    if story.value > 0 > paper.value and rounds_to(story, -paper.value):
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


def describe(q: Quantity) -> str:
    text = q.span.text.strip()
    if q.of and q.of.lower() not in text.lower() and q.of != q.unit:
        text = f"{text} {q.of}"
    return f"“{text}”"


def fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}".replace("-", "−")


def is_participants(q: Quantity, nouns: frozenset[str], claim: Claim | None = None) -> bool:
    if claim is not None:
        before = claim.text[:max(0, q.span.start - claim.start)]
        after = claim.text[q.span.end - claim.start:]
        if re.search(r"\bper\s*$", before) or re.match(r"^-?\s*years?\b", after):
            return False  # a rate's denominator ("per 1,000 participant-years"), not a sample
    if q.value is None or q.value != int(q.value):
        return False  # 5.8 cases per 1,000: a rate, not a head count
    return q.kind == "count" and bool(q.of) and word_stem((q.of or "").lower().split()[-1]) in nouns


def word_stem(word: str) -> str:
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def numbers_of(claims: Iterable[Claim]) -> Iterable[tuple[Claim, Quantity]]:
    for claim in claims:
        for q in claim.quantities:
            if q.kind in NUMERIC_KINDS and q.value is not None:
                yield claim, q


# --- outcomes mentioned ------------------------------------------------------------------------

def outcome_alternatives(phrase: str, synonyms: Sequence[Mapping[str, str]]) -> list[str]:
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
    for alternative in outcome_alternatives(phrase, synonyms):
        if _mentioned_once(alternative, sentences, coverage, generic):
            return True
    return False


def _mentioned_once(phrase: str, sentences: Sequence[str], coverage: float,
                    generic: frozenset[str]) -> bool:
    """The phrase's head word and `coverage` of its other words stand in one sentence."""
    words = [word_stem(w) for w in content_words(phrase) if w not in generic]
    words = [w for w in words if len(w) > 2]
    if not words:
        return True
    head = words[-1]
    for sentence in sentences:
        have = {word_stem(w) for w in content_words(sentence)}
        stems = {_prefix(w) for w in have}
        found = [w in have or _prefix(w) in stems for w in words]
        if found[-1] and sum(found) / len(words) >= coverage:
            return True
    del head
    return False


def _prefix(word: str) -> str:
    """A crude stem shared by inflections ("depression"/"depressive", "threshold"/"thresholds")."""
    return word[:max(5, len(word) - 3)] if len(word) > 5 else word


def abstract_sentences(claims: Sequence[Claim]) -> list[str]:
    out = []
    for c in claims:
        extra = " ".join(e.norm for e in c.entities if e.norm)
        out.append(f"{c.text} {extra}")
    return out


# --- the evidence the checks after not_in_abstract judge against --------------------------------

def best_for_numbers(run: Run, al: Alignment) -> Alignment:
    """Prefer, among near-best evidence, the abstract claim that shares the story's numbers."""
    if not al.article.quantities or not run.abstract_claims:
        return al
    weights = run.verdicts["align"]
    ranked = ranked_evidence(al.article, run.abstract_claims[al.paper_index], weights,
                             run.synonyms)
    for score, candidate in ranked[:3]:
        if score < weights["min_score"]:
            break
        if any(same_number(q, p, run.verdicts) for q in al.article.quantities
               for p in candidate.quantities if q.kind != "ci" and p.kind != "ci"):
            return Alignment(al.article, candidate, round(score, 3), al.paper_index)
    return al
