"""StudyMention -> SearchOutcome: find the paper a story describes, or say it cannot be sure.

The plan, most specific first (`plan_searches`; each step skipped when the story lacks what it
needs, each sent to the first service of its list that answers):

1. author + journal + window      Europe PMC, PubMed
2. journal + topic + window       Europe PMC, PubMed
3. study name + topic + window    Europe PMC, PubMed
4. author + topic + window        Europe PMC, PubMed
5. topic + window (ranked)        OpenAlex, Crossref; and Europe PMC on the two main concepts
6. the same without the window, when the story's dates may be wrong or absent

After each step every candidate so far is scored (`score_candidate`) by what it shares with the
story: an author the story names (rarer surnames weigh more), the journal, the date window, the
study name, the topic words (weighted by rarity), and the numbers (a head count of 657,461
weighs more than "30%"). The search stops early once a candidate is certain; it never spends
more than `max_requests` HTTP requests. A candidate is accepted only when its score passes a
floor, leads the next by a clear margin and rests on more than topic words alone
(`rules/search.toml`): a wrong paper is worse than none.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Callable, Iterable, Mapping, Sequence

from rapidfuzz import fuzz
from wordfreq import zipf_frequency

from .._words import fold as _fold
from .._words import singular as _stem
from ..errors import PaperNotFound, UpstreamError
from ..types import Candidate, Mentioned, Paper, QueryRun, SearchOutcome, StudyMention
from ._client import ServiceClient
from ._query import SearchQuery, europepmc_query, pubmed_term

logger = logging.getLogger(__name__)

__all__ = ["plan_searches", "score_candidate", "search_paper"]

NumbersIn = Callable[[str], Sequence[float]]
SameJournal = Callable[[str | None, str | None], bool]

_WORD = re.compile(r"[a-z0-9]+")


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(_fold(text))}


@dataclass(frozen=True, slots=True)
class _Step:
    query: SearchQuery
    services: tuple[str, ...]


# -- the plan -------------------------------------------------------------------------------


def _authors(mention: StudyMention, limit: int) -> tuple[str, ...]:
    names = [r for r in mention.researchers if r.role != "outside"]
    ranked = sorted(names, key=lambda r: -_ROLE_ORDER.get(r.role or "", 0))
    return tuple(dict.fromkeys(r.value for r in ranked))[:limit]


_ROLE_ORDER = {"first": 5, "last": 5, "lead": 4, "author": 3, "quoted": 1}


def _journals(mention: StudyMention, limit: int) -> tuple[str, ...]:
    return tuple(j.value for j in mention.journals[:limit])


def _topic_words(mention: StudyMention, limit: int) -> tuple[str, ...]:
    ranked = sorted(mention.topic, key=lambda t: -t.weight)
    return tuple(dict.fromkeys(t.value for t in ranked))[:limit]


def _concepts(mention: StudyMention, limit: int) -> tuple[tuple[str, ...], ...]:
    """The story's main concepts, each its words that share a stem ("sleep", "sleeping",
    "slept") and their synonyms ("death", "mortality"), best first."""
    groups: list[list[str]] = []
    for t in sorted(mention.topic, key=lambda t: -t.weight):
        words = [t.value, *t.also]
        for group in groups:
            if any(_related(w, g) for w in words for g in group):
                group.extend(w for w in words if w not in group)
                break
        else:
            groups.append(list(dict.fromkeys(words)))
        if len(groups) > limit:
            break
    return tuple(tuple(g[:4]) for g in groups[:limit])


def _related(a: str, b: str) -> bool:
    return a[:4] == b[:4] and min(len(a), len(b)) >= 4 or a == b


def plan_searches(mention: StudyMention, settings: Mapping[str, Any]) -> list[_Step]:
    """The steps of the search plan for `mention`, in order (see the module docstring)."""
    s = settings
    boolean = tuple(s.get("boolean_services", ("europepmc", "pubmed")))
    ranked = tuple(s.get("ranked_services", ("openalex", "crossref")))
    authors = _authors(mention, int(s.get("max_authors", 4)))
    journals = _journals(mention, int(s.get("max_journals", 2)))
    words = _topic_words(mention, int(s.get("query_words", 6)))
    ranked_words = _topic_words(mention, int(s.get("ranked_query_words", 8)))
    study = mention.study_names[0].value if mention.study_names else None
    window = mention.window or (None, None)
    steps: list[_Step] = []

    def add(step: str, services: tuple[str, ...], **fields: Any) -> None:
        name = step + (" + window" if mention.window else "")
        steps.append(_Step(SearchQuery(step=name, date_from=window[0], date_until=window[1],
                                       **fields), services))

    if authors and journals:
        add("author + journal", boolean, authors=authors, journals=journals)
    if journals and words:
        add("journal + topic", boolean, journals=journals, any_of=words)
    if study:
        add("study name", boolean, phrase=study, any_of=words[:3])
    if authors and words:
        add("author + topic", boolean, authors=authors, any_of=words)
    if ranked_words:
        add("topic", ranked, any_of=ranked_words)
        concepts = _concepts(mention, 2)
        if len(concepts) == 2:
            add("topic concepts", boolean[:1], all_of=concepts)
    # relaxations: every step again without the window, in the same order
    if mention.window:
        windowed = list(steps)
        for step in windowed:
            q = step.query
            steps.append(_Step(replace(q, step=q.step.replace(" + window", ""), date_from=None,
                                       date_until=None), step.services))
    return steps


# -- scoring --------------------------------------------------------------------------------


@dataclass
class _Pool:
    """Distinct candidates found so far (one per DOI, PMID or title), with the steps that found
    them."""

    papers: list[Paper] = field(default_factory=list)
    found_by: list[list[str]] = field(default_factory=list)
    never: frozenset[str] = frozenset()  # publication types that are never a study's report
    preprint_servers: frozenset[str] = frozenset()

    def add(self, paper: Paper, step: str) -> None:
        if any(t.lower() in self.never for t in paper.publication_types):
            return  # an editorial, a comment, an erratum about the paper is not the paper
        for i, known in enumerate(self.papers):
            if _same_paper(known, paper) or self._same_work(known, paper):
                if self._better(paper, known):
                    self.papers[i] = paper
                if step not in self.found_by[i]:
                    self.found_by[i].append(step)
                return
        self.papers.append(paper)
        self.found_by.append([step])

    def _preprint(self, paper: Paper) -> bool:
        return "preprint" in {t.lower() for t in paper.publication_types} or (
            _fold(paper.journal or "").strip() in self.preprint_servers)

    def _same_work(self, a: Paper, b: Paper) -> bool:
        """A preprint and the journal article it became (same title, another DOI) are one
        candidate: otherwise they tie and the search could never choose."""
        if self._preprint(a) == self._preprint(b) or not a.title or not b.title:
            return False
        return fuzz.token_sort_ratio(_fold(a.title), _fold(b.title)) >= 92

    def _better(self, new: Paper, known: Paper) -> bool:
        if self._preprint(known) != self._preprint(new):
            return self._preprint(known)  # the journal article over its preprint
        return not known.sections and bool(new.sections)  # the record with the abstract


def _same_paper(a: Paper, b: Paper) -> bool:
    if a.doi and b.doi:
        return a.doi.lower() == b.doi.lower()
    if a.pmid and b.pmid:
        return a.pmid == b.pmid
    return bool(a.title and b.title and _stems(a.title) == _stems(b.title))


def _surname(author: str) -> str:
    words = _WORD.findall(_fold(author).replace("-", " "))
    return words[-1] if words else ""


def _author_keys(author: str) -> tuple[set[str], str]:
    """Every surname form of an author ("Savolainen-Peltonen": both parts and the whole) and
    the first initial."""
    folded = _fold(author)
    parts = folded.split()
    initial = parts[0][:1] if len(parts) > 1 else ""
    last = parts[-1] if parts else ""
    keys = {last, *last.split("-")} | ({" ".join(parts[-2:])} if len(parts) > 2 else set())
    return {k for k in keys if k}, initial


def _parse_day(value: str | None) -> date | None:
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 7), int(m.group(3) or 1))
    except ValueError:
        return None


def _date_gap(window: tuple[str, str], paper: Paper) -> int | None:
    """Days between the story's window and the paper's publication (0 inside it; a paper known
    only by its year is as close as any day of that year); None when either is unknown."""
    low, high = _parse_day(window[0]), _parse_day(window[1])
    if low is None or high is None:
        return None
    when = _parse_day(paper.published) if paper.published and len(paper.published) >= 7 else None
    if when is not None:
        return 0 if low <= when <= high else (low - when).days if when < low else (when - high).days
    if paper.year is None:
        return None
    if paper.year < low.year:
        return (low - date(paper.year, 12, 31)).days
    if paper.year > high.year:
        return (date(paper.year, 1, 1) - high).days
    return 0


def _date_fit(window: tuple[str, str], paper: Paper) -> float:
    """1 inside the window, 0 near it (within a year), -1 further away."""
    gap = _date_gap(window, paper)
    if gap is None:
        return 0.0
    return 1.0 if gap == 0 else 0.0 if gap <= 365 else -1.0


_GROUPED = re.compile(r"\b\d{1,3}(?:[ \u2009\u202f\u00a0]\d{3})+\b")


def _ungroup(text: str) -> str:
    """"33 947 participants" -> "33947 participants" (abstracts group thousands with spaces)."""
    return _GROUPED.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)


def _key(t: Mentioned) -> str:
    return t.detail or _stem(t.value)


def _covers(t: Mentioned, stems: set[str]) -> bool:
    """Whether a text's stems hold a topic word or one of its synonyms."""
    return _key(t) in stems or any(_stem(_fold(a)) in stems for a in t.also)


def _window_days(window: tuple[str, str]) -> int:
    low, high = _parse_day(window[0]), _parse_day(window[1])
    return (high - low).days if low and high else 10_000


def _number_hits(mention: StudyMention, values: Sequence[float]) -> list[tuple[Mentioned, float]]:
    hits = []
    have = [v for v in values if v is not None and math.isfinite(v)]
    for n in mention.numbers:
        try:
            target = float(n.value)
        except ValueError:
            continue
        approx = n.detail not in (None, "", "=")
        tolerance = 0.03 * abs(target) if approx else 1e-6 + 0.0051 * (not target.is_integer())
        if any(abs(v - target) <= tolerance for v in have):
            hits.append((n, n.weight))
    return hits


def score_candidate(mention: StudyMention, paper: Paper, settings: Mapping[str, Any],
                    same_journal: SameJournal, numbers_in: NumbersIn,
                    idf: Mapping[str, float] | None = None) -> Candidate:
    """How well `paper` fits what the story says, with the evidence itemised.

    Args:
        mention: the story's study mention.
        paper: a candidate found by the search.
        settings: the `search` settings (`rules/search.toml`).
        same_journal: whether two journal names are the same journal (the vocabulary's).
        numbers_in: the numbers written in a text (the NLP stage's quantity finder).
        idf: how rare each topic word is among all the candidates (words every candidate
            shares, like the words the query asked for, tell them apart least); 1 for all
            when None.
    """
    w: Mapping[str, float] = settings.get("weights", {})
    evidence: list[tuple[str, float]] = []
    # authors: the rarer the surname, the more a match says
    named = [r for r in mention.researchers if r.role != "outside"]
    keys = [_author_keys(a) for a in paper.authors]
    author_total = 0.0
    for person in named:
        surname = _fold(person.value)
        initial = _fold((person.detail or "").split()[0])[:1] if person.detail and \
            len((person.detail or "").split()) > 1 else ""
        for position, (forms, first) in enumerate(keys):
            if surname in forms and (not initial or not first or first == initial):
                rarity = max(0.3, min(1.0, (6.0 - zipf_frequency(surname, "en")) / 4.0))
                value = float(w.get("author", 3.0)) * rarity
                if (person.role == "first" and position == 0) or (
                        person.role == "last" and position == len(keys) - 1):
                    value += float(w.get("author_position", 0.5))
                author_total += value
                evidence.append((f"author {person.value}", round(value, 2)))
                break
    author_total = min(author_total, float(w.get("author_cap", 5.0)))
    # journal
    journal_score = 0.0
    if mention.journals:
        match = next((j for j in mention.journals if same_journal(j.value, paper.journal)
                      or same_journal(j.detail, paper.journal)), None)
        if match is None and paper.journal:  # a journal the vocabulary does not list
            match = next((j for j in mention.journals if j.role != "listed" and fuzz.token_set_ratio(
                _fold(j.value), _fold(paper.journal)) >= 90), None)
        if match is not None:
            journal_score = float(w.get("journal", 3.0)) * (1.0 if match.role == "listed" else 0.7)
            evidence.append((f"journal {match.value}", round(journal_score, 2)))
        elif paper.journal and any(j.role == "listed" for j in mention.journals):
            journal_score = float(w.get("journal_mismatch", -1.0))
            evidence.append((f"journal {paper.journal} is not {mention.journals[0].value}",
                             journal_score))
    # date
    date_score = 0.0
    if mention.window:
        fit = _date_fit(mention.window, paper)
        date_score = fit * float(w.get("date", 1.0)) if fit >= 0 else float(
            w.get("date_mismatch", -2.0))
        if fit:
            evidence.append((f"date {paper.published or paper.year}"
                             + (" in the window" if fit > 0 else " far from the window"),
                             round(date_score, 2)))
    # study name
    study_score = 0.0
    text = f"{paper.title or ''} {paper.abstract}"
    folded = " ".join(_WORD.findall(_fold(text)))
    for name in mention.study_names:
        phrase = " ".join(_WORD.findall(_fold(name.value)))
        phrase = re.sub(r"^the ", "", phrase)
        if phrase and re.search(rf"\b{re.escape(phrase)}\b", folded):
            study_score = float(w.get("study_name", 2.5))
            evidence.append((f"study name {name.value}", study_score))
            break
    # topic
    stems = _stems(text)
    title_stems = _stems(paper.title or "")
    topic_keys = [(_key(t), t.weight) for t in mention.topic]
    found = {_key(t) for t in mention.topic if _covers(t, stems)}
    in_title = {_key(t) for t in mention.topic if _covers(t, title_stems)}
    total = sum(wt for _, wt in topic_keys) or 1.0
    coverage = sum(wt for k, wt in topic_keys if k in found) / total
    rare = [(k, wt * (idf or {}).get(k, 1.0)) for k, wt in topic_keys]
    rare_total = sum(wt for _, wt in rare) or 1.0
    distinct = sum(wt for k, wt in rare if k in found) / rare_total
    titled = sum(wt for k, wt in rare if k in in_title) / rare_total
    headline = [t for t in mention.topic if t.headline]
    told = sum(1 for t in headline if _key(t) in in_title) / len(headline) if headline else 0.0
    topic_score = (float(w.get("topic", 4.0)) * distinct + float(w.get("title_topic", 2.0)) * titled
                   + float(w.get("headline_title", 2.0)) * told)
    if mention.topic:
        evidence.append((f"topic {coverage:.0%} of the story's key words", round(topic_score, 2)))
    # numbers
    number_score = 0.0
    if mention.numbers and paper.abstract:
        hits = _number_hits(mention, numbers_in(_ungroup(paper.abstract)))
        number_score = min(float(w.get("numbers_cap", 3.0)),
                           float(w.get("number", 1.5)) * sum(h for _, h in hits))
        if hits:
            evidence.append(("numbers " + ", ".join(n.span.text for n, _ in hits),
                             round(number_score, 2)))
    if not paper.sections:
        evidence.append(("no abstract to compare", 0.0))
    # what an editor would never accept, however well the rest fits
    if mention.window:
        gap = _date_gap(mention.window, paper)
        if gap is not None and gap > int(settings.get("max_date_gap_days", 183)):
            evidence.append((f"{BLOCKED} published {paper.published or paper.year}, "
                             f"{gap} days from when the story says", 0.0))
    listed = [j for j in mention.journals if j.role == "listed"]
    if listed and paper.journal and journal_score <= 0 and settings.get(
            "journal_must_match", True):
        evidence.append((f"{BLOCKED} in {paper.journal}, not the journal the story names", 0.0))
    score = author_total + journal_score + date_score + study_score + topic_score + number_score
    identity = author_total + max(journal_score, 0.0) + study_score + number_score
    if date_score > 0 and mention.window and _window_days(mention.window) <= int(
            settings.get("narrow_window_days", 120)):
        identity += float(w.get("date_identity", 0.5))  # published when the story says
    evidence.append(("identity", round(identity, 2)))
    evidence.append(("coverage", round(coverage, 3)))
    return Candidate(paper=paper, score=round(score, 3), evidence=tuple(evidence))


BLOCKED = "cannot be the story's paper:"


def _blocked(candidate: Candidate) -> str | None:
    return next((k[len(BLOCKED):].strip() for k, _ in candidate.evidence
                 if k.startswith(BLOCKED)), None)


def _evidence(candidate: Candidate, name: str) -> float:
    return next((v for k, v in candidate.evidence if k == name), 0.0)


def _verdict(ranked: Sequence[Candidate], settings: Mapping[str, Any],
             certain: bool = False) -> tuple[Candidate | None, float | None, str]:
    if not ranked:
        return None, None, "no candidate found"
    best = ranked[0]
    runner = ranked[1].score if len(ranked) > 1 else 0.0
    margin = round(best.score - runner, 3)
    prefix = "certain_" if certain else ""
    floor = float(settings.get(f"{prefix}accept", 4.0))
    need = max(float(settings.get(f"{prefix}margin", 1.5)),
               float(settings.get(f"{prefix}relative_margin", 0.25)) * best.score)
    identity = _evidence(best, "identity")
    coverage = _evidence(best, "coverage")
    blocked = _blocked(best)
    if blocked:
        return None, margin, f"the best candidate {blocked}"
    if best.score < floor:
        return None, margin, f"best candidate scores {best.score:.1f}, below {floor:.1f}"
    if margin < need:
        return None, margin, (f"best candidate ({best.score:.1f}) is not clearly ahead of the "
                              f"next ({runner:.1f})")
    if identity < float(settings.get("min_identity", 1.0)):
        return None, margin, "the best candidate shares only topic words with the story"
    strong = identity >= float(settings.get("strong_identity", 5.0))
    if coverage < float(settings.get("min_coverage_strong" if strong else "min_coverage", 0.3)):
        return None, margin, (f"the best candidate shares only {coverage:.0%} of the story's "
                              "key words")
    if len(ranked) == 1:
        return best, margin, f"score {best.score:.1f}, the only candidate the searches found"
    return best, margin, f"score {best.score:.1f}, {margin:.1f} ahead of the next"


# -- the search -----------------------------------------------------------------------------


def _query_text(service: str, q: SearchQuery) -> str:
    if service == "pubmed":
        return pubmed_term(q)
    if service == "europepmc":
        return europepmc_query(q)
    return q.describe()


def search_paper(mention: StudyMention, clients: Mapping[str, ServiceClient],
                 settings: Mapping[str, Any], same_journal: SameJournal,
                 numbers_in: NumbersIn) -> SearchOutcome:
    """Search the services for the paper `mention` describes; accept one or abstain.

    Args:
        mention: what the story says about its study.
        clients: the literature clients by service name (each with a `find(query, limit)`).
        settings: the `search` settings (`rules/search.toml`).
        same_journal: whether two journal names are the same journal.
        numbers_in: the numbers written in a text.

    Returns:
        The SearchOutcome: every query run, the candidates best first, the accepted one (or
        None) and why.

    Raises:
        UpstreamError: every query failed because the services failed (nothing was learnt).
    """
    budget = int(settings.get("max_requests", 10))
    limit = int(settings.get("rows", 10))
    spent = 0
    runs: list[QueryRun] = []
    pool = _Pool(never=frozenset(t.lower() for t in settings.get("never_types", ())),
                 preprint_servers=frozenset(_fold(n) for n in settings.get("preprint_servers", ())))
    ranked: list[Candidate] = []
    down: set[str] = set()
    errors: list[UpstreamError] = []
    for step in plan_searches(mention, settings):
        for service in step.services:
            client = clients.get(service)
            find = getattr(client, "find", None)
            if client is None or find is None or service in down:
                continue
            cost = 2 if service == "pubmed" else 1
            if spent + cost > budget:
                break
            before = client.requests
            text = _query_text(service, step.query)
            try:
                with client.attempts_at_most((budget - spent) // cost):
                    papers = find(step.query, limit)
            except UpstreamError as exc:
                spent += client.requests - before
                runs.append(QueryRun(step.query.step, service, text, 0, client.requests - before,
                                     str(exc)))
                down.add(service)
                errors.append(exc)
                continue  # the next service of the step
            except PaperNotFound as exc:  # offline and not cached
                runs.append(QueryRun(step.query.step, service, text, 0, 0, str(exc)))
                continue
            used = client.requests - before
            spent += used
            runs.append(QueryRun(step.query.step, service, text, len(papers), used))
            for paper in papers:
                pool.add(paper, step.query.step)
            break
        ranked = _rank(mention, pool, settings, same_journal, numbers_in)
        accepted, _, _ = _verdict(ranked, settings, certain=True)
        if accepted is not None:
            logger.info("search: certain after %s: %s", step.query.step, accepted.paper.title)
            break
        if spent >= budget:
            break
    if errors and not pool.papers and all(r.error for r in runs):
        first = errors[0]
        raise UpstreamError(f"every search for the story's paper failed: {first}",
                            service=first.service, query=first.query, status=first.status)
    accepted, margin, reason = _verdict(ranked, settings)
    return SearchOutcome(mention=mention, runs=tuple(runs),
                         candidates=tuple(ranked[: int(settings.get("shown", 5))]),
                         accepted=accepted, margin=margin, reason=reason)


def _rank(mention: StudyMention, pool: _Pool, settings: Mapping[str, Any],
          same_journal: SameJournal, numbers_in: NumbersIn) -> list[Candidate]:
    texts = [_stems(f"{p.title or ''} {p.abstract}") for p in pool.papers]
    n = len(texts)
    idf = {}
    for t in mention.topic:
        df = sum(1 for stems in texts if _covers(t, stems))
        idf[_key(t)] = math.log(1.0 + (n + 1.0) / (df + 1.0))
    scored = []
    for paper, steps in zip(pool.papers, pool.found_by):
        c = score_candidate(mention, paper, settings, same_journal, numbers_in, idf)
        scored.append(replace(c, found_by=tuple(steps)))
    return sorted(scored, key=lambda c: -c.score)


def describe_outcome(outcome: SearchOutcome) -> Iterable[str]:
    """Lines telling an editor what the search did (for messages and `resolve --story`)."""
    for c in outcome.candidates:
        p = c.paper
        yield (f"{p.title or '?'} ({p.journal or '?'}, {p.year or '?'}; "
               f"{'doi ' + p.doi if p.doi else 'PMID ' + (p.pmid or '?')}; score {c.score:.1f})")
