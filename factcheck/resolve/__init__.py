"""Citation -> Paper: find the cited paper and its abstract in the literature services.

The chain, for each citation (the primary one first, then by score):

1. a DOI, PMID or PMCID is looked up in each service of `settings.service_order`
   (PubMed, Europe PMC, Crossref, OpenAlex by default), using the best identifier known so far
   (a DOI learned from PubMed is used to ask Crossref, which has no PMIDs);
2. the first service whose record HAS an abstract wins; metadata from the services already asked
   fills what it lacks (DOI, PMID, PMCID, journal, year, authors, publication types; notices and
   the retraction flag are combined); `Paper.source` names the service of the abstract;
3. a `reference` citation (free text) is searched in PubMed and Crossref; the best candidate is
   accepted only when its title, first author and year agree with the text and it clearly beats
   the runner-up; then step 1 runs with its identifiers.

Outcomes: the Paper; `NoAbstract` when the paper exists but no service has its abstract (the
merged metadata is on `exc.paper`); `UpstreamError` (exit 3) when every attempt failed because a
service was down or refused us; `PaperNotFound` otherwise, saying what was tried.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import requests
from rapidfuzz import fuzz

from .._http import RateLimiter, make_session
from ..cache import Cache
from ..config import Settings
from ..errors import (
    InputError,
    NoAbstract,
    NoConfidentMatch,
    PaperNotFound,
    ResolveError,
    UpstreamError,
)
from ..identifiers import require_doi
from ..types import Citation, Paper, SearchOutcome, StudyMention
from ._client import ServiceClient
from ._files import paper_from_file
from ._parse import clean_text, normalize_doi
from .crossref import CrossrefClient
from .europepmc import EuropePMCClient
from .openalex import OpenAlexClient
from .pubmed import PubMedClient
from .search import NumbersIn, SameJournal, describe_outcome, search_paper

logger = logging.getLogger(__name__)

__all__ = [
    "CLIENT_CLASSES",
    "CrossrefClient",
    "EuropePMCClient",
    "OpenAlexClient",
    "PubMedClient",
    "Resolver",
    "citation_for_query",
    "make_clients",
    "paper_from_file",
    "resolve_paper",
    "resolve_query",
]

CLIENT_CLASSES: Mapping[str, type[ServiceClient]] = {
    "pubmed": PubMedClient,
    "europepmc": EuropePMCClient,
    "crossref": CrossrefClient,
    "openalex": OpenAlexClient,
}

_ID_KINDS = ("doi", "pmid", "pmcid")

# Reference matching (0-100 scale). A candidate needs a title this close to the reference text,
# a total this high after the author/year adjustments, and this lead over the runner-up.
# TODO(settings): move to defaults.toml [resolve] once config.py has a section for them.
_MIN_TITLE_SCORE = 70.0
_MIN_MATCH_SCORE = 80.0
_MIN_MARGIN = 8.0
_AUTHOR_BONUS = 10.0
_YEAR_BONUS = 10.0
_YEAR_PENALTY = 25.0
_SEARCH_ROWS = 5

_DOI_START = re.compile(r"^(?:doi:\s*|https?://(?:dx\.|www\.)?doi\.org/)?10\.\d{4,9}/", re.I)
_PMID_RE = re.compile(
    r"^(?:pmid:?\s*|https?://(?:pubmed\.ncbi\.nlm\.nih\.gov|www\.ncbi\.nlm\.nih\.gov/pubmed)/)?"
    r"(\d{1,9})/?$", re.I)
_PMCID_RE = re.compile(r"^(?:pmcid:?\s*)?(PMC\d+)$", re.I)
_WORD = re.compile(r"[^\W_]+", re.U)
_YEAR_IN_TEXT = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def make_clients(settings: Settings, session: requests.Session | None = None,
                 cache: Cache | None = None,
                 limiters: Mapping[str, RateLimiter] | None = None) -> dict[str, ServiceClient]:
    """One client per service in `settings.service_order`, sharing a session and cache.

    Args:
        settings: the run's Settings.
        session: a shared session; `make_session(settings)` when None.
        cache: the raw-answer cache, or None for none.
        limiters: per-service RateLimiters to share across threads; made from
            `settings.service_rates` when missing.

    Returns:
        {service name: client}, in `settings.service_order` (unknown names are logged, skipped).
    """
    session = session or make_session(settings)
    limiters = limiters or {}
    clients: dict[str, ServiceClient] = {}
    for name in settings.service_order:
        cls = CLIENT_CLASSES.get(name)
        if cls is None:
            logger.warning("unknown service in settings.service_order, skipped: %s", name)
            continue
        clients[name] = cls(settings, session, cache, limiters.get(name))
    return clients


@dataclass(slots=True)
class _Attempt:
    service: str
    query: str
    outcome: str  # found | no abstract | not found | offline | upstream
    error: ResolveError | None = None

    def describe(self) -> str:
        if self.outcome == "upstream" and self.error is not None:
            status = getattr(self.error, "status", None)
            why = f"HTTP {status}" if status else "failed"
            return f"{self.service} ({why})"
        return f"{self.service} ({self.outcome})"


@dataclass(slots=True)
class _Outcome:
    paper: Paper | None = None  # the winner, merged
    found: list[Paper] | None = None  # records without an abstract
    attempts: list[_Attempt] | None = None


def _merge(winner: Paper, others: Sequence[Paper]) -> Paper:
    """`winner` with the gaps in its metadata filled from `others` (in order)."""
    fields: dict[str, object] = {}
    for name in ("doi", "pmid", "pmcid", "journal", "year", "title", "url"):
        if getattr(winner, name) is None:
            value = next((getattr(p, name) for p in others if getattr(p, name) is not None), None)
            if value is not None:
                fields[name] = value
    for name in ("authors", "publication_types"):
        if not getattr(winner, name):
            value = next((getattr(p, name) for p in others if getattr(p, name)), ())
            if value:
                fields[name] = value
    notices = tuple(dict.fromkeys([*winner.notices, *(n for p in others for n in p.notices)]))
    retracted = winner.retracted or any(p.retracted for p in others)
    return replace(winner, notices=notices, retracted=retracted, **fields)  # type: ignore[arg-type]


def _label(ids: Mapping[str, str]) -> str:
    kind, value = next(iter(ids.items()))
    return f"{'PMID' if kind == 'pmid' else kind.upper() if kind == 'pmcid' else 'doi'} {value}"


class Resolver:
    """Resolves citations with one set of clients (session, cache, rate limiters) for a whole run.

    Build one per run and share it between threads: its rate limiters then hold the run to each
    service's published rate.

    Args:
        settings: the run's Settings.
        session: a shared session; `make_session(settings)` when None.
        cache: the raw-answer cache; `Cache(settings.cache_dir, settings.cache_ttl)` when None.
        clients: ready-made clients by service name (tests); built by `make_clients` when None.
    """

    def __init__(self, settings: Settings, session: requests.Session | None = None,
                 cache: Cache | None = None,
                 clients: Mapping[str, ServiceClient] | None = None):
        self.settings = settings
        self._own_session = session is None and clients is None
        self._own_cache = cache is None and clients is None
        if clients is None:
            session = session or make_session(settings)
            cache = cache or Cache(settings.cache_dir, settings.cache_ttl)
            clients = make_clients(settings, session, cache)
        self.session = session
        self.cache = cache
        self.clients = dict(clients)

    def close(self) -> None:
        """Close the session and cache this Resolver opened itself."""
        if self._own_session and self.session is not None:
            self.session.close()
        if self._own_cache and self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _order(self) -> list[str]:
        return [name for name in self.settings.service_order if name in self.clients]

    # -- identifiers ------------------------------------------------------------------------

    def _by_ids(self, ids: dict[str, str], known: Mapping[str, Paper] | None = None) -> _Outcome:
        """Ask each service in order for the paper; the first with an abstract wins."""
        ids = dict(ids)
        found: list[Paper] = []
        attempts: list[_Attempt] = []
        for name in self._order():
            client = self.clients[name]
            paper: Paper | None = None
            label = _label(ids)
            if known and name in known:
                paper = known[name]
            else:
                error: ResolveError | None = None
                for kind in _ID_KINDS:
                    lookup = getattr(client, f"by_{kind}", None)
                    if kind not in ids or lookup is None:
                        continue
                    label = _label({kind: ids[kind]})
                    try:
                        paper = lookup(ids[kind])
                    except UpstreamError as exc:
                        logger.info("lookup failed: %s %s: %s", name, label, exc)
                        error = exc
                        break
                    except PaperNotFound as exc:  # offline and not cached
                        error = exc
                        continue
                    if paper is not None:
                        break
                if paper is None:
                    if error is None and not any(
                            k in ids and hasattr(client, f"by_{k}") for k in _ID_KINDS):
                        continue  # this service cannot look such an id up (Crossref and PMIDs)
                    outcome = ("upstream" if isinstance(error, UpstreamError)
                               else "offline" if error is not None else "not found")
                    attempts.append(_Attempt(name, label, outcome, error))
                    continue
            for kind in _ID_KINDS:
                value = getattr(paper, kind)
                if value and kind not in ids:
                    ids[kind] = value
            if paper.abstract.strip():
                attempts.append(_Attempt(name, label, "found"))
                merged = _merge(paper, found)
                logger.info("abstract from %s: %s", name, merged.doi or merged.pmid)
                return _Outcome(paper=merged, found=found, attempts=attempts)
            attempts.append(_Attempt(name, label, "no abstract"))
            found.append(paper)
        return _Outcome(paper=None, found=found, attempts=attempts)

    # -- reference text ---------------------------------------------------------------------

    def _search(self, reference: str) -> _Outcome:
        """Search the services that support it; accept only a clear, validated best match."""
        attempts: list[_Attempt] = []
        candidates: list[tuple[str, Paper]] = []
        for name in self._order():
            client = self.clients[name]
            search = getattr(client, "search", None)
            if search is None:
                continue
            try:
                papers = search(reference, _SEARCH_ROWS)
            except UpstreamError as exc:
                attempts.append(_Attempt(name, "reference search", "upstream", exc))
                continue
            except PaperNotFound as exc:
                attempts.append(_Attempt(name, "reference search", "offline", exc))
                continue
            attempts.append(_Attempt(name, "reference search",
                                     "found" if papers else "not found"))
            candidates.extend((name, p) for p in papers)
        if not candidates:
            return _Outcome(attempts=attempts, found=[])
        best = _best_match(reference, candidates)
        if best is None:
            for a in attempts:
                if a.outcome == "found":
                    a.outcome = "no clear match"
            return _Outcome(attempts=attempts, found=[])
        name, paper = best
        ids = {k: getattr(paper, k) for k in _ID_KINDS if getattr(paper, k)}
        if not ids:
            if paper.sections:
                return _Outcome(paper=paper, found=[], attempts=attempts)
            return _Outcome(found=[paper], attempts=attempts)
        outcome = self._by_ids(ids, known={name: paper})
        outcome.attempts = attempts + (outcome.attempts or [])
        return outcome

    # -- public -----------------------------------------------------------------------------

    def resolve(self, citations: Sequence[Citation]) -> Paper:
        """The cited paper with its abstract; see the module docstring for the order of tries.

        Args:
            citations: the story's citations; kinds other than doi/pmid/pmcid/reference are
                ignored.

        Returns:
            The Paper, `source` naming the service that supplied the abstract.

        Raises:
            NoAbstract: the paper was found but no service has its abstract (`exc.paper`).
            UpstreamError: every attempt failed because a service failed.
            PaperNotFound: nothing matched; the message says what was tried.
        """
        usable = [c for c in citations if c.kind in (*_ID_KINDS, "reference") and c.value]
        if not usable:
            kinds = ", ".join(sorted({c.kind for c in citations})) or "none"
            raise PaperNotFound(f"no DOI, PMID, PMCID or reference text to look up "
                                f"(citations given: {kinds})")
        # primary first, then higher score; sorted() is stable so ties keep the story's order
        usable = sorted(usable, key=lambda c: (not c.primary, -c.score))
        tried: list[tuple[Citation, list[_Attempt]]] = []
        for citation in usable:
            if citation.kind == "reference":
                outcome = self._search(citation.value)
            else:
                value = normalize_doi(citation.value) if citation.kind == "doi" else citation.value
                outcome = self._by_ids({citation.kind: value or citation.value})
            if outcome.paper is not None:
                return outcome.paper
            if outcome.found:
                raise self._no_abstract(outcome.found, outcome.attempts or [], citation)
            tried.append((citation, outcome.attempts or []))
        raise self._not_found(tried)

    def search(self, mention: StudyMention, settings: Mapping[str, Any],
               same_journal: SameJournal, numbers_in: NumbersIn) -> SearchOutcome:
        """Search the services for the paper a story describes (`resolve.search`), no choice made
        final: the outcome says which candidate, if any, is accepted."""
        return search_paper(mention, self.clients, settings, same_journal, numbers_in)

    def resolve_mention(self, mention: StudyMention, settings: Mapping[str, Any],
                        same_journal: SameJournal, numbers_in: NumbersIn) -> tuple[Paper,
                                                                                  SearchOutcome]:
        """The paper a story describes in prose, with its abstract, and the search that found it.

        Raises:
            NoConfidentMatch: candidates were found but none clearly wins (`exc.outcome`).
            PaperNotFound: the story says too little to search, or nothing was found.
            UpstreamError: the services failed for every search.
            NoAbstract: the paper was found but no service has its abstract.
        """
        if mention.empty:
            raise PaperNotFound("the story names no journal, researcher, study name or topic "
                                "to search for")
        outcome = self.search(mention, settings, same_journal, numbers_in)
        if outcome.accepted is None:
            closest = "; ".join(list(describe_outcome(outcome))[:3])
            raise NoConfidentMatch(
                f"no paper matches the story clearly enough ({outcome.reason})"
                + (f"; closest: {closest}" if closest else "")
                + "; pass the right one with --paper DOI|PMID (factcheck resolve --story shows "
                  "the whole search)", outcome)
        chosen = outcome.accepted
        paper = chosen.paper
        how = f"search: {chosen.found_by[0] if chosen.found_by else 'search'} ({outcome.reason})"
        ids = {k: getattr(paper, k) for k in _ID_KINDS if getattr(paper, k)}
        if ids:
            found = self._by_ids(ids, known={paper.source: paper})
            if found.paper is not None:
                return replace(found.paper, found_by=how), outcome
            if found.found:
                raise self._no_abstract(found.found, found.attempts or [],
                                        Citation(kind="reference", value=paper.title or ""))
        if paper.sections:
            return replace(paper, found_by=how), outcome
        raise self._no_abstract([paper], [], Citation(kind="reference", value=paper.title or ""))

    def resolve_query(self, query: str) -> Paper:
        """Resolve a DOI, PMID, PMCID or reference text given as one string (`factcheck resolve`).

        Raises:
            InputError: the string is empty.
            NoAbstract, UpstreamError, PaperNotFound: as `resolve`.
        """
        return self.resolve([citation_for_query(query)])

    def _no_abstract(self, found: list[Paper], attempts: list[_Attempt],
                     citation: Citation) -> NoAbstract:
        paper = _merge(found[0], found[1:])
        ident = (f"doi {paper.doi}" if paper.doi else f"PMID {paper.pmid}" if paper.pmid
                 else citation.value)
        tried = ", ".join(a.service for a in attempts)
        failed = [a.describe() for a in attempts if a.outcome in ("upstream", "offline")]
        extra = f" ({'; '.join(failed)})" if failed else ""
        exc = NoAbstract(f"found {paper.title or 'the paper'!r} ({ident}) but no service has its "
                         f"abstract; tried {tried}{extra}", service=None, query=citation.value)
        exc.paper = paper  # type: ignore[attr-defined]
        return exc

    def _not_found(self, tried: list[tuple[Citation, list[_Attempt]]]) -> ResolveError:
        all_attempts = [a for _, attempts in tried for a in attempts]
        upstream = [a for a in all_attempts if a.outcome == "upstream"]
        parts = []
        for citation, attempts in tried:
            what = (f"reference {citation.value[:80]!r}" if citation.kind == "reference"
                    else f"{citation.kind} {citation.value}")
            done = ", ".join(a.describe() for a in attempts) or "no service could look it up"
            parts.append(f"{what}: {done}")
        summary = "; ".join(parts)
        if all_attempts and len(upstream) == len(all_attempts):
            first = upstream[0].error
            assert isinstance(first, UpstreamError)
            return UpstreamError(f"{first}; services failed for every lookup ({summary})",
                                service=first.service, query=first.query, status=first.status)
        if all_attempts and all(a.outcome == "offline" for a in all_attempts):
            return PaperNotFound(f"offline and not cached: {summary}")
        return PaperNotFound(f"no service knows the cited paper: {summary}",
                             query=tried[0][0].value if tried else None)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _last_name(author: str) -> str:
    words = _words(author)
    return words[-1] if words else ""


def _match_score(reference: str, paper: Paper) -> float:
    """How well `paper` fits a reference string: title words, first author, year (0-120)."""
    if not paper.title:
        return 0.0
    ref_words = _words(reference)
    # score the title on the reference's own title words: not the author, journal or year it names
    other = set(_words(paper.journal or "")) | {_last_name(a) for a in paper.authors[:3]}
    title_words = [w for w in ref_words if w not in other and not w.isdigit()] or ref_words
    title_score = fuzz.token_set_ratio(" ".join(title_words), " ".join(_words(paper.title)))
    if title_score < _MIN_TITLE_SCORE:
        return float(title_score) - _MIN_TITLE_SCORE  # below the bar whatever else agrees
    score = float(title_score)
    if paper.authors and _last_name(paper.authors[0]) in ref_words:
        score += _AUTHOR_BONUS
    years = {int(y) for y in _YEAR_IN_TEXT.findall(reference)}
    if paper.year and years:
        if paper.year in years:
            score += _YEAR_BONUS
        elif not any(abs(paper.year - y) <= 1 for y in years):
            # one year off is common (online-first vs print issue); more is another paper
            score -= _YEAR_PENALTY
    return score


def _same_paper(a: Paper, b: Paper) -> bool:
    if a.doi and b.doi:
        return a.doi == b.doi
    if a.pmid and b.pmid:
        return a.pmid == b.pmid
    return bool(a.title and b.title and _words(a.title) == _words(b.title)
                and (a.year is None or b.year is None or a.year == b.year))


def _best_match(reference: str, candidates: list[tuple[str, Paper]]) -> tuple[str, Paper] | None:
    """The candidate that clearly matches `reference`, or None when none does or two are close."""
    scored: list[list] = []  # [score, service, paper], one per distinct paper
    for name, paper in candidates:
        score = _match_score(reference, paper)
        for entry in scored:
            if _same_paper(entry[2], paper):
                # the same paper from two services: keep the earlier service's record
                entry[0] = max(entry[0], score)
                break
        else:
            scored.append([score, name, paper])
    ranked = sorted(scored, key=lambda t: -t[0])
    top_score, name, paper = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else None
    logger.info("reference match: best %.1f %r, runner-up %s", top_score, paper.title,
                f"{runner_up:.1f}" if runner_up is not None else "none")
    if top_score < _MIN_MATCH_SCORE:
        return None
    if runner_up is not None and top_score - runner_up < _MIN_MARGIN:
        return None
    return name, paper


def citation_for_query(query: str) -> Citation:
    """A primary Citation for a string given on the command line: DOI, PMID, PMCID or reference.

    Accepts "10.1/x", "doi:10.1/x", "https://doi.org/10.1/x", "12345678", "PMID: 12345678",
    PubMed URLs, "PMC123456"; anything else is reference text.

    Raises:
        InputError: the string is empty, or starts as a DOI but is not a valid one.
    """
    text = clean_text(query)
    if not text:
        raise InputError("nothing to resolve: give a DOI, a PMID or reference text")
    if _DOI_START.match(query.strip()):
        # what starts as a DOI must be one (no spaces, control characters or ".." segments),
        # never quietly searched for as reference text
        return Citation(kind="doi", value=require_doi(query.strip()), primary=True)
    if m := _PMID_RE.match(text):
        return Citation(kind="pmid", value=m.group(1), primary=True)
    if m := _PMCID_RE.match(text):
        return Citation(kind="pmcid", value=m.group(1).upper(), primary=True)
    return Citation(kind="reference", value=text, primary=True)


def resolve_paper(citations: Sequence[Citation], settings: Settings,
                  session: requests.Session | None = None, cache: Cache | None = None, *,
                  clients: Mapping[str, ServiceClient] | None = None) -> Paper:
    """The cited paper with its abstract, trying the citations and services in order.

    Args:
        citations: the story's citations (the primary one is tried first).
        settings: the run's Settings (service order, URLs, rates, offline flag).
        session: a shared requests session; a new one when None.
        cache: the raw-answer cache; the one under `settings.cache_dir` when None.
        clients: ready-made clients by service name, overriding session and cache.

    Returns:
        The Paper; `source` is the service that supplied the abstract.

    Raises:
        NoAbstract: the paper was found but no service has its abstract.
        UpstreamError: every attempt failed because a service failed (exit 3).
        PaperNotFound: nothing matched; the message says what was tried.
    """
    with Resolver(settings, session, cache, clients) as resolver:
        return resolver.resolve(citations)


def resolve_query(query: str, settings: Settings, session: requests.Session | None = None,
                  cache: Cache | None = None, *,
                  clients: Mapping[str, ServiceClient] | None = None) -> Paper:
    """The paper for `factcheck resolve DOI|PMID|"reference text"`.

    Args:
        query: a DOI, PMID, PMCID (any usual spelling) or free reference text.
        settings: the run's Settings.
        session: a shared requests session; a new one when None.
        cache: the raw-answer cache; the one under `settings.cache_dir` when None.
        clients: ready-made clients by service name.

    Raises:
        InputError: the query is empty.
        NoAbstract, UpstreamError, PaperNotFound: as `resolve_paper`.
    """
    return resolve_paper([citation_for_query(query)], settings, session, cache, clients=clients)
