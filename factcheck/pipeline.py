"""The order of the stages, and the Context they share.

```
source (URL | .html/.txt file | "-")
  1. fetch      fetch.fetch_page(source)               -> Page
  2. article    extract.extract_article(page)          -> Article
  3. claims     Analyzer.claims(article)               -> tuple[Claim]
  4. citations  citations.find_citations(article)      -> tuple[Citation]   (or --paper)
  5. mention    MentionReader.read(article, claims)    -> StudyMention (on the Article)
  6. sources    Resolver.resolve(citations)            -> Paper             (or --paper-file)
                or, when the story links nothing, Resolver.resolve_mention(mention): a search
                plan over the four services, accepted only with a clear margin
  7. claims     Analyzer.claims(abstract)              -> tuple[Claim] per paper
  8. align      judge.align_claims(...)                -> tuple[Alignment]
  9. judge      judge.judge(...): the checks registered in judge/, run in
                rules/checks.toml order                -> findings, supported
                                                       => Report
```
No stage calls the next one; only this module knows the order. `check` raises the first
FactcheckError (the CLI turns it into an exit status); `check_many` records it as a Problem and
goes on with the next story, for batch runs.

A check has a time budget (`check.budget`, factcheck.budget): every step starts only while time
is left, and every request of the check ends by the budget's end, so a hanging site or service
stops the check with an error that names the step instead of holding it for minutes.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

import requests

from . import __version__, budget
from .config import Settings
from .errors import CitationNotFound, FactcheckError, PaperNotFound
from .rules import Rules, load_rules
from .types import Article, Citation, Claim, Paper, Problem, Report, SearchOutcome, StudyMention

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Context:
    """What every stage may need, built once per process and passed explicitly."""

    settings: Settings
    rules: Rules
    session: requests.Session
    _cache: object | None = None
    _analyzer: object | None = None
    _resolver: object | None = None
    _mention_reader: object | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)
    # called with each stage's name as it starts (the web app's job page shows the stages)
    on_stage: Callable[[str], None] | None = None

    @property
    def cache(self):  # -> factcheck.cache.Cache
        if self._cache is None:
            from .cache import Cache
            self._cache = Cache.from_settings(self.settings)
        return self._cache

    @property
    def resolver(self):  # -> factcheck.resolve.Resolver
        """One Resolver per run, so its rate limiters hold across every story and thread."""
        if self._resolver is None:
            from .resolve import Resolver
            self._resolver = Resolver(self.settings, session=self.session, cache=self.cache)
        return self._resolver

    @property
    def mention_reader(self):  # -> factcheck.mention.MentionReader
        if self._mention_reader is None:
            from .mention import MentionReader
            self._mention_reader = MentionReader(self.rules)
        return self._mention_reader

    @property
    def analyzer(self):  # -> factcheck.nlp.Analyzer
        if self._analyzer is None:
            from .nlp import load_nlp
            self._analyzer = load_nlp(self.settings, self.rules)
        return self._analyzer


def build_context(settings: Settings, rules: Rules | None = None) -> Context:
    """A Context with loaded rules and a pooled HTTP session; NLP and cache load on first use."""
    from ._http import make_session
    return Context(settings=settings, rules=rules or load_rules(), session=make_session(settings))


def _timed(ctx: Context, stage: str, fn: Callable[[], T]) -> T:
    budget.step(stage)  # stops the check here when its budget is spent
    if ctx.on_stage is not None:
        ctx.on_stage(stage)
    started = time.perf_counter()
    try:
        return fn()
    finally:
        ctx.timings.append((stage, time.perf_counter() - started))


def citation_from_argument(value: str) -> Citation:
    """The Citation an editor names with --paper: a DOI, PMID or PMCID in any usual spelling."""
    from .resolve import citation_for_query
    return replace(citation_for_query(value), quote="--paper", score=1.0, primary=True)


def read_article(source: str, ctx: Context, render: bool = False) -> Article:
    """Stages 1-2: fetch the source (with headless Chromium when `render`) and extract the story."""
    from .extract import extract_article
    from .fetch import fetch_page
    if render:
        from .render import render_page
        page = _timed(ctx, "fetch", lambda: render_page(source, ctx.settings))
    else:
        page = _timed(ctx, "fetch", lambda: fetch_page(source, ctx.settings, ctx.session))
    return _timed(ctx, "article", lambda: extract_article(page, ctx.settings, ctx.rules))


def article_claims(article: Article, ctx: Context) -> tuple[Claim, ...]:
    """Stage 3: the story's claims (sentences with entities, numbers, directions)."""
    analyzer = ctx.analyzer
    return _timed(ctx, "claims", lambda: analyzer.claims(article.text, "article", _roles(article)))


def read_mention(article: Article, ctx: Context, claims: tuple[Claim, ...],
                 citations: tuple[Citation, ...]) -> Article:
    """Stage 5: the article with its StudyMention (how it names the study) set."""
    reader = ctx.mention_reader
    mention = _timed(ctx, "mention", lambda: reader.read(article, claims, citations))
    return replace(article, mention=mention)


def search_for_paper(article: Article, ctx: Context) -> tuple[Paper, SearchOutcome]:
    """The paper the story describes in prose (stage 6 without a link), and the search's record.

    Raises:
        NoConfidentMatch, PaperNotFound, UpstreamError, NoAbstract: as Resolver.resolve_mention.
    """
    mention = article.mention or StudyMention()
    analyzer = ctx.analyzer
    reader = ctx.mention_reader

    def numbers_in(text: str) -> list[float]:
        return [q.value for q in analyzer.quantities(text) if q.value is not None]

    return _timed(ctx, "sources", lambda: ctx.resolver.resolve_mention(
        mention, ctx.rules.setting("search"), reader.journals.same, numbers_in))


def search_story(source: str, ctx: Context, render: bool = False) -> tuple[
        Article, tuple[Citation, ...], SearchOutcome]:
    """`factcheck resolve --story`: the story, its citations, and what searching for its paper
    from its prose finds (the mention read, every query, the ranked candidates), whether or not
    it also links the paper.

    Raises:
        FactcheckError: the story cannot be read; UpstreamError when every search failed.
    """
    from .citations import find_citations
    ctx.timings.clear()
    article = read_article(source, ctx, render)
    claims = article_claims(article, ctx)
    citations = _timed(ctx, "citations", lambda: find_citations(article, ctx.rules))
    article = read_mention(article, ctx, claims, citations)
    analyzer = ctx.analyzer

    def numbers_in(text: str) -> list[float]:
        return [q.value for q in analyzer.quantities(text) if q.value is not None]

    mention = article.mention or StudyMention()
    outcome = _timed(ctx, "sources", lambda: ctx.resolver.search(
        mention, ctx.rules.setting("search"), ctx.mention_reader.journals.same, numbers_in))
    return article, citations, outcome


def find_papers(article: Article, ctx: Context, paper: str | None = None,
                paper_file: Path | None = None,
                claims: tuple[Claim, ...] | None = None) -> tuple[tuple[Citation, ...],
                                                                  tuple[Paper, ...], list[str],
                                                                  Article]:
    """Stages 4-6: the story's citations, the papers they point to, notes on the others, and
    the article with its study mention.

    The main citation must resolve (its failure is the check's failure). A story that links no
    DOI, PMID or PMCID is searched for from what it says (`search_for_paper`); a reference
    built from its text is tried first. Other studies the story cites in its body (never
    navigation or related-story rails) are checked too when they resolve; those that do not
    become warnings.
    """
    from .citations import find_citations
    from .resolve import paper_from_file
    citations = _timed(ctx, "citations", lambda: find_citations(article, ctx.rules))
    if paper_file is None and not paper and not any(
            c.primary and c.kind in _RESOLVABLE for c in citations):
        citations = _follow_landing_pages(citations, ctx)
    if claims is None:
        claims = article_claims(article, ctx)
    article = read_mention(article, ctx, claims, citations)
    if paper_file is not None:
        return citations, (_timed(ctx, "sources", lambda: paper_from_file(paper_file)),), [], \
            article
    if paper:
        chosen: tuple[Citation, ...] = (citation_from_argument(paper),)
    else:
        chosen = tuple(c for c in citations if c.primary)
    resolver = ctx.resolver
    linked = [c for c in chosen if c.kind in _RESOLVABLE]
    if not linked:
        main: Paper | None = None
        # a reference line ("Source: Doe J et al. (2020) Title. Journal") is looked up first;
        # a reference pieced together from prose is left to the search, which weighs more
        if chosen and chosen[0].kind == "reference" and _reference_line(chosen[0], ctx.rules):
            try:
                main = _timed(ctx, "sources", lambda: resolver.resolve(chosen))
                main = replace(main, found_by=main.found_by or "reference in the story")
            except PaperNotFound as exc:
                logger.info("reference not found, searching from the story: %s", exc)
        if main is None:
            if article.mention is None or article.mention.empty:
                elsewhere = f" (only {len(citations)} link(s) in navigation, footers or " \
                    "related-story rails, which never count as the story's source)" \
                    if citations else ""
                raise CitationNotFound(
                    "the story links to no DOI, PubMed or PMC record and names no journal, "
                    f"researcher or study we could search for{elsewhere}; pass the paper with "
                    "--paper DOI|PMID")
            main, _outcome = search_for_paper(article, ctx)
    else:
        main = _timed(ctx, "sources", lambda: resolver.resolve(chosen))
        main = replace(main, found_by=main.found_by or _how(chosen[0], bool(paper)))
    papers, notes = [main], []
    if not paper:
        for citation in _secondary(citations, ctx.settings.max_secondary_papers):
            try:
                extra: Paper = _timed(ctx, "sources",
                                      functools.partial(resolver.resolve, (citation,)))
            except FactcheckError as exc:
                notes.append(f"The story also cites {citation.kind.upper()} {citation.value}, "
                             f"which could not be checked: {exc}")
                continue
            if not any(_same_paper(extra, p) for p in papers):
                papers.append(extra)
    return citations, tuple(papers), notes, article


def _reference_line(citation: Citation, rules: Rules) -> bool:
    """Whether a reference citation is a written reference line ("Source: …", "Reference: …")."""
    head = (citation.quote or "").split(":", 1)[0].strip().lower()
    return ":" in (citation.quote or "") and head in rules.lexicon("citation_labels")


def _follow_landing_pages(citations: tuple[Citation, ...], ctx: Context) -> tuple[Citation, ...]:
    """The citations with what the story's article pages, press releases and search links
    point to (`landing.follow_links`); the best identifier found becomes the primary citation
    when the story itself links no DOI, PMID or PMCID."""
    from .landing import follow_links
    if not any(c.kind in ("url", "nct") for c in citations):
        return citations
    found = _timed(ctx, "landing", lambda: follow_links(
        citations, ctx.settings, ctx.session, ctx.rules,
        max_pages=ctx.settings.max_landing_pages))
    ids = [c for c in found if c.kind in _RESOLVABLE]
    if not ids:
        return citations + found
    best = next((c for c in ids if c.primary), ids[0])
    rest = [replace(c, primary=False) if c.primary else c for c in (*citations, *found)
            if c is not best]
    return (replace(best, primary=True), *rest)


def _how(citation: Citation, given: bool) -> str:
    if given:
        return "given with --paper"
    label = {"doi": "DOI", "pmid": "PMID", "pmcid": "PMCID"}.get(citation.kind, citation.kind)
    if citation.quote and "://" in citation.quote:  # landing pages say where they found it
        return f"{label} from a page the story links ({citation.quote})"
    return f"{label} cited by the story"


_RESOLVABLE = frozenset({"doi", "pmid", "pmcid"})


def _secondary(citations: Iterable[Citation], limit: int) -> list[Citation]:
    """Other studies cited in the story's body, best first: worth checking claims against."""
    floor = 0.3  # below this a link sat in a rail, a footer or a list of further reading
    out = [c for c in citations if not c.primary and c.kind in _RESOLVABLE and c.score >= floor]
    return out[:limit]


def _same_paper(a: Paper, b: Paper) -> bool:
    return bool(a.doi and a.doi == b.doi) or bool(a.pmid and a.pmid == b.pmid)


def _sections(paper: Paper) -> tuple[tuple[int, int, str], ...]:
    out, pos = [], 0
    for section in paper.sections:
        label = (section.category or section.label or "UNASSIGNED").upper()
        out.append((pos, pos + len(section.text), label))
        pos += len(section.text) + 1
    return tuple(out)


def _roles(article: Article) -> tuple[tuple[int, int, str], ...]:
    return tuple((p.start, p.end, p.role) for p in article.paragraphs)


def _warnings(article: Article, papers: Iterable[Paper], claims_count: int) -> list[str]:
    notes = list(article.warnings)
    for paper in papers:
        if not any((s.category or "").upper() == "RESULTS" or
                   (s.label or "").upper().startswith("RESULT") for s in paper.sections):
            if len(paper.sections) <= 1:
                notes.append("The abstract is unstructured; results and conclusions were read "
                             "from one block of text.")
        if paper.source == "file":
            notes.append("The paper was read from a local file, not from a literature service.")
    if claims_count == 0:
        notes.append("No checkable claim was found in the story.")
    return notes


def compare_texts(article: Article, papers: tuple[Paper, ...], ctx: Context,
                  citations: tuple[Citation, ...] = (), source: str = "",
                  claims: tuple[Claim, ...] | None = None) -> Report:
    """Stages 7-9 on an article and its papers, giving the Report (the article's claims are
    computed here unless given)."""
    from .judge import align_claims, judge
    analyzer = ctx.analyzer
    if claims is None:
        claims = article_claims(article, ctx)
    abstract_claims = _timed(ctx, "claims_abstract", lambda: tuple(
        analyzer.claims(p.abstract, "abstract", _sections(p)) for p in papers))
    weights = ctx.rules.setting("verdicts")["align"]
    synonyms = ctx.rules.tables.get("outcome_synonyms", ())
    alignments = _timed(ctx, "align", lambda: align_claims(claims, abstract_claims, weights,
                                                           synonyms))
    findings, supported = _timed(ctx, "judge", lambda: judge(
        article, papers, claims, abstract_claims, alignments, ctx.rules))
    return Report(
        version=__version__, source=source or article.url, article=article, papers=papers,
        citations=citations, claims=claims, abstract_claims=abstract_claims, findings=findings,
        supported=supported, warnings=tuple(_warnings(article, papers, len(claims))),
        timings=tuple(ctx.timings), checked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def check(source: str, ctx: Context, paper: str | None = None,
          paper_file: Path | None = None, render: bool = False) -> Report:
    """Check one story end to end.

    Args:
        source: an http(s) URL, a local .html/.txt file, or "-" for stdin.
        ctx: the run's Context.
        paper: a DOI, PMID or PMCID that overrides the story's own citations.
        paper_file: a saved service response (efetch XML, Europe PMC/Crossref/OpenAlex JSON).
        render: fetch the page with headless Chromium (for JavaScript-only pages).

    Raises:
        FactcheckError: the first stage that failed (bad input, paper not found, upstream down).
    """
    ctx.timings.clear()
    _ = ctx.analyzer, ctx.mention_reader  # loaded once per process, outside any story's budget
    with budget.limit(ctx.settings.check_budget):
        article = read_article(source, ctx, render)
        claims = article_claims(article, ctx)
        citations, papers, notes, article = find_papers(article, ctx, paper, paper_file, claims)
        report = compare_texts(article, papers, ctx, citations, source, claims)
    return replace(report, warnings=report.warnings + tuple(notes)) if notes else report


def check_many(sources: Iterable[str], ctx: Context) -> Iterator[tuple[str, Report]]:
    """Check stories one after another; a failing story yields a Report holding its Problem."""
    for source in sources:
        try:
            yield source, check(source, ctx)
        except FactcheckError as exc:
            logger.info("check failed: %s: %s", source, exc)
            yield source, Report(
                version=__version__, source=source, article=None,
                problems=(Problem(stage=exc.stage, error=type(exc).__name__, message=str(exc)),),
                timings=tuple(ctx.timings),
                checked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
