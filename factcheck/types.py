"""Frozen dataclasses that cross stage boundaries.

Every value here is JSON-friendly (str, int, float, bool, tuple, None) so any stage's output can be
written to disk by `factcheck.serialize` and read back. No spaCy object appears here: claims refer to
their text by character offsets into the text they came from.

Offsets:
- article claims and quotes point into `Article.text`;
- abstract claims and quotes point into `Paper.abstract` (the sections' texts joined by
  `SECTION_JOINER`, labels not included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SECTION_JOINER = "\n"

CitationKind = Literal["doi", "pmid", "pmcid", "nct", "trial", "reference", "url"]
ParagraphRole = Literal["title", "standfirst", "caption", "body"]
QuantityKind = Literal[
    "count", "percent", "measure", "ratio", "p_value", "ci", "duration", "money", "number"
]
Direction = Literal["increase", "decrease", "no_change"]
Significance = Literal["significant", "not_significant"]
CausalStrength = Literal["direct_causal", "conditional_causal", "correlational", "no_relationship"]
ClaimKind = Literal["result", "method", "conclusion", "background", "quote", "other"]
Origin = Literal["article", "abstract"]
Severity = Literal["high", "medium", "low"]
FindingKind = Literal[
    "number_mismatch",
    "unit_mismatch",
    "sample_size",
    "duration",
    "direction",
    "significance",
    "population",
    "study_design",
    "causal_language",
    "hedge_dropped",
    "relative_without_absolute",
    "omitted_uncertainty",
    "not_in_abstract",
    "citation_mismatch",
    "other",
]
FINDING_KINDS: tuple[str, ...] = FindingKind.__args__  # type: ignore[attr-defined]
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a text by character offsets; `text` is exactly `source[start:end]`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Page:
    """One HTTP response (or local file) as the fetch stage returns it."""

    url: str
    final_url: str
    status: int
    content_type: str
    encoding: str | None
    html: str
    fetched_at: str  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of the article text; `start`/`end` are offsets into `Article.text`."""

    start: int
    end: int
    role: ParagraphRole


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink in the story; `start`/`end` locate its anchor text in `Article.text` when found."""

    href: str
    text: str
    start: int | None = None
    end: int | None = None
    region: str = "body"  # body | nav | footer | related | other: where on the page it sat


@dataclass(frozen=True, slots=True)
class Mentioned:
    """One thing the story says about its study, with where it says it.

    `value` is the canonical form (a journal's title, a researcher's surname, an ISO date, a
    number as digits); `span` the story's own words (offsets into `Article.text`).
    """

    value: str
    span: Span
    role: str | None = None  # researcher: first | last | lead | author | quoted | outside;
    #                          topic: drug | condition | outcome | keyword; number: count | percent | ...
    detail: str | None = None  # journal: its NLM abbreviation; researcher: full name; ...
    weight: float = 1.0  # how much this item says about which paper is meant
    also: tuple[str, ...] = ()  # other words for the same thing ("death": mortality, died)
    headline: bool = False  # the story uses it in its headline or standfirst


@dataclass(frozen=True, slots=True)
class StudyMention:
    """How a story names its study when it links nothing: the mention stage's reading."""

    journals: tuple[Mentioned, ...] = ()
    researchers: tuple[Mentioned, ...] = ()
    institutions: tuple[Mentioned, ...] = ()
    study_names: tuple[Mentioned, ...] = ()
    registry_ids: tuple[Mentioned, ...] = ()
    story_date: str | None = None  # ISO date of the story (page metadata, byline, dateline)
    paper_date: Mentioned | None = None  # what the story says of the paper's date, resolved
    window: tuple[str, str] | None = None  # ISO dates between which the paper appeared
    topic: tuple[Mentioned, ...] = ()  # drugs, exposures, conditions, outcomes, key words
    numbers: tuple[Mentioned, ...] = ()  # participants, follow-up, headline figures

    @property
    def empty(self) -> bool:
        return not (self.journals or self.researchers or self.study_names or self.registry_ids
                    or self.topic)


@dataclass(frozen=True, slots=True)
class Article:
    """The story: main text with headline, standfirst and captions included as paragraphs."""

    url: str
    final_url: str
    title: str | None
    published: str | None  # ISO date from the page's own metadata, never guessed
    site: str | None
    authors: tuple[str, ...]
    text: str
    paragraphs: tuple[Paragraph, ...]
    links: tuple[Link, ...] = ()
    language: str | None = None
    # What the reader of a report should know about the page itself: only a paywall teaser was
    # visible, it is a live blog, it is not in English. One sentence each.
    warnings: tuple[str, ...] = ()
    mention: StudyMention | None = None  # set by the mention stage


@dataclass(frozen=True, slots=True)
class Citation:
    """A pointer from the story to a paper, normalised (DOI lowercased, no prefix)."""

    kind: CitationKind
    value: str
    quote: str | None = None  # the link text or sentence that carries it
    score: float = 0.0  # higher = more likely THE study the story is about
    primary: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """One labelled part of an abstract."""

    label: str | None  # the journal's heading, e.g. "CONCLUSIONS AND RELEVANCE"
    category: str | None  # NlmCategory: BACKGROUND OBJECTIVE METHODS RESULTS CONCLUSIONS UNASSIGNED
    text: str


@dataclass(frozen=True, slots=True)
class Paper:
    """The cited paper's metadata and abstract, whichever service supplied them."""

    source: str  # service that supplied the abstract: pubmed | europepmc | crossref | openalex | file
    title: str | None
    sections: tuple[Section, ...]
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    journal: str | None = None
    year: int | None = None
    authors: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    retracted: bool = False
    notices: tuple[str, ...] = ()  # e.g. "ErratumIn: ...", "RetractionIn: ..."
    url: str | None = None
    published: str | None = None  # ISO date (or year-month) of first publication, when known
    found_by: str | None = None  # how the paper was found: "link", "search: author + journal", ...

    @property
    def abstract(self) -> str:
        """The abstract's text; offsets of abstract claims point into this string."""
        return SECTION_JOINER.join(s.text for s in self.sections)

    def section_at(self, offset: int) -> Section | None:
        """The section that holds character `offset` of `abstract`."""
        pos = 0
        for section in self.sections:
            end = pos + len(section.text)
            if pos <= offset <= end:
                return section
            pos = end + len(SECTION_JOINER)
        return None


@dataclass(frozen=True, slots=True)
class QueryRun:
    """One search the resolver sent: the step of the plan, the service, what it asked, what came."""

    step: str
    service: str
    query: str  # in the service's own syntax (esearch term, Europe PMC query, parameters)
    hits: int = 0
    requests: int = 0  # HTTP requests it cost (0 when answered from the cache)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper the search found, with how well it fits what the story says."""

    paper: Paper
    score: float
    evidence: tuple[tuple[str, float], ...] = ()  # ("author Pase", 2.4), ("journal Stroke", 3.0)
    found_by: tuple[str, ...] = ()  # the steps of the plan that returned it


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """What searching for a story's paper did: the queries, the ranked candidates, the choice."""

    mention: StudyMention
    runs: tuple[QueryRun, ...] = ()
    candidates: tuple[Candidate, ...] = ()  # best first
    accepted: Candidate | None = None
    margin: float | None = None  # the accepted candidate's lead over the next
    reason: str = ""  # why it was accepted, or why the search abstained


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number found in a text, normalised.

    `value` is the point value in `unit`; `low`/`high` hold a range or confidence interval.
    For kind "ci" the value is the CI level (95.0) when stated, otherwise None-like 0.0.
    """

    value: float | None
    unit: str | None
    kind: QuantityKind
    span: Span
    low: float | None = None
    high: float | None = None
    qualifier: str | None = None  # "<", ">", "~", "<=", ">=" (approximations, p < .001)
    relative: bool | None = None  # True for "50% lower risk", "halved"; False for absolute
    of: str | None = None  # what it counts or measures when known: "women", "participants", "kPa"


@dataclass(frozen=True, slots=True)
class Entity:
    """A named thing in a claim: drug, outcome, population term, condition, design word."""

    label: str  # DRUG | OUTCOME | POPULATION | CONDITION | DESIGN | ABBREV
    span: Span
    norm: str  # canonical lowercase form (abbreviations expanded)


@dataclass(frozen=True, slots=True)
class Claim:
    """A sentence-level claim with its slots filled where the text says them."""

    origin: Origin
    span: Span
    kind: ClaimKind = "other"
    section: str | None = None  # abstract: section category; article: paragraph role
    subject: str | None = None  # intervention / exposure
    comparator: str | None = None
    outcome: str | None = None
    population: str | None = None  # as worded, e.g. "99 women with fibromyalgia"
    population_tags: tuple[str, ...] = ()  # e.g. ("female", "human", "adult")
    design: tuple[str, ...] = ()  # e.g. ("randomized", "placebo_controlled")
    quantities: tuple[Quantity, ...] = ()
    entities: tuple[Entity, ...] = ()
    direction: Direction | None = None
    significance: Significance | None = None
    hedged: bool = False
    hedges: tuple[Span, ...] = ()
    causal_strength: CausalStrength | None = None
    causal_cue: Span | None = None  # the words that give the causal strength ("can halve", "tied to")
    open_question: Span | None = None  # what the claim asks, not claims ("whether X causes Y")
    rule_ids: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.span.text

    @property
    def start(self) -> int:
        return self.span.start

    @property
    def end(self) -> int:
        return self.span.end


@dataclass(frozen=True, slots=True)
class Alignment:
    """A story claim paired with its best evidence in an abstract (None when there is none)."""

    article: Claim
    abstract: Claim | None
    score: float
    paper_index: int = 0


@dataclass(frozen=True, slots=True)
class Finding:
    """A discrepancy between the story and the abstract, with both quotes exact."""

    kind: FindingKind
    severity: Severity
    message: str
    article_span: Span
    abstract_span: Span | None = None
    rule_id: str = ""
    score: float | None = None  # alignment score of the evidence used
    paper: str | None = None  # DOI or PMID of the paper the abstract quote comes from
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Supported:
    """A story claim that checks out against the abstract."""

    message: str
    article_span: Span
    abstract_span: Span
    rule_id: str = ""
    score: float | None = None
    paper: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A recorded FactcheckError: what could not be done, at which stage."""

    stage: str
    error: str  # the exception class name
    message: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a check produced: the unit the renderers, the store and the JSON contract use."""

    version: str
    source: str
    article: Article | None
    papers: tuple[Paper, ...] = ()
    citations: tuple[Citation, ...] = ()
    claims: tuple[Claim, ...] = ()
    abstract_claims: tuple[tuple[Claim, ...], ...] = ()
    findings: tuple[Finding, ...] = ()
    supported: tuple[Supported, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    timings: tuple[tuple[str, float], ...] = field(default=())
    checked_at: str | None = None
