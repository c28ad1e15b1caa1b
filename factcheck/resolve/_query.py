"""A search for a paper, said once and spoken in each service's own syntax.

`SearchQuery` is what the search plan (`resolve/search.py`) asks for: any of some authors, in any
of some journals, with some topic words, a study name, between two dates. Each client turns it
into its service's query language with the function here that bears its name:

- PubMed esearch: `(Pase[au] OR Jacques[au]) AND ("Stroke"[ta]) AND (soda OR dementia)
  AND 2017/02/20:2017/05/21[dp]` (field tags, a date range on the publication date);
- Europe PMC: `(AUTH:"Pase" OR AUTH:"Jacques") AND (JOURNAL:"Stroke") AND (soda OR dementia)
  AND FIRST_PDATE:[2017-02-20 TO 2017-05-21]`;
- Crossref: `query.bibliographic` (topic words and study name), `query.author`,
  `query.container-title`, `filter=from-pub-date:…,until-pub-date:…` (ranked, never boolean);
- OpenAlex: `search` (topic words joined by OR: OpenAlex ANDs bare words) with
  `filter=from_publication_date:…,to_publication_date:…` and `raw_author_name.search` for one
  author (ranked by relevance).

Terms are quoted wherever a service would read a space, a bracket or a colon as syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNSAFE = re.compile(r'["()\[\]:,]')


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One step of the search plan, independent of any service.

    `authors` and `journals` are alternatives (any of them); `all_of` are groups of alternative
    words that must each match (AND of ORs); `any_of` are words of which any may match, ranked
    by relevance; `phrase` is a study name or title phrase.
    """

    step: str  # "author + journal + window", "journal + topic + window", ...
    authors: tuple[str, ...] = ()  # surnames, optionally "Surname I" with a first initial
    journals: tuple[str, ...] = ()  # titles or NLM abbreviations
    all_of: tuple[tuple[str, ...], ...] = ()
    any_of: tuple[str, ...] = ()
    phrase: str | None = None
    date_from: str | None = None  # ISO date
    date_until: str | None = None

    def describe(self) -> str:
        parts = []
        if self.authors:
            parts.append("author " + " | ".join(self.authors))
        if self.journals:
            parts.append("journal " + " | ".join(self.journals))
        if self.phrase:
            parts.append(f"name {self.phrase!r}")
        if self.all_of:
            parts.append("all of " + " & ".join("(" + " | ".join(g) + ")" for g in self.all_of))
        if self.any_of:
            parts.append("words " + " ".join(self.any_of))
        if self.date_from or self.date_until:
            parts.append(f"{self.date_from or '…'} to {self.date_until or '…'}")
        return "; ".join(parts)


def _clean(term: str) -> str:
    return " ".join(_UNSAFE.sub(" ", term).split())


def _quoted(term: str) -> str:
    return f'"{_clean(term)}"'


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "(" + " OR ".join(items) + ")"


def _word(term: str, tag: str = "") -> str:
    clean = _clean(term)
    return (f'"{clean}"' if " " in clean else clean) + tag


def pubmed_term(q: SearchQuery) -> str:
    """The esearch `term` for `q`."""
    parts = []
    if q.authors:
        # unquoted: PubMed truncates an author term ("Pase[au]" finds "Pase MP"); quotes would
        # ask for exactly that string
        parts.append(_or([f"{_clean(a)}[au]" for a in q.authors]))
    if q.journals:
        parts.append(_or([f"{_quoted(j)}[ta]" for j in q.journals]))
    if q.phrase:
        parts.append(f"{_quoted(q.phrase)}[tiab]")
    for group in q.all_of:
        parts.append(_or([_word(w, "[tiab]") for w in group]))
    if q.any_of:
        parts.append(_or([_word(w, "[tiab]") for w in q.any_of]))
    if q.date_from or q.date_until:
        start = (q.date_from or "1900-01-01").replace("-", "/")
        end = (q.date_until or "3000-12-31").replace("-", "/")
        parts.append(f"{start}:{end}[dp]")
    return " AND ".join(parts)


def europepmc_query(q: SearchQuery) -> str:
    """The Europe PMC `query` for `q`."""
    parts = []
    if q.authors:
        parts.append(_or([f"AUTH:{_quoted(a)}" for a in q.authors]))
    if q.journals:
        parts.append(_or([f"JOURNAL:{_quoted(j)}" for j in q.journals]))
    if q.phrase:
        parts.append(f"TITLE_ABS:{_quoted(q.phrase)}")
    for group in q.all_of:
        parts.append(_or([_word(w) for w in group]))
    if q.any_of:
        parts.append(_or([_word(w) for w in q.any_of]))
    if q.date_from or q.date_until:
        parts.append(f"FIRST_PDATE:[{q.date_from or '1900-01-01'} TO "
                     f"{q.date_until or '3000-12-31'}]")
    return " AND ".join(parts)


def _words(q: SearchQuery) -> list[str]:
    words = [q.phrase] if q.phrase else []
    words += [w for group in q.all_of for w in group[:1]]
    words += list(q.any_of)
    return [_clean(w) for w in words if _clean(w)]


def crossref_params(q: SearchQuery) -> dict[str, str]:
    """The `/works` parameters for `q` (without rows)."""
    params: dict[str, str] = {}
    words = _words(q)
    if words:
        params["query.bibliographic"] = " ".join(words)
    if q.authors:
        params["query.author"] = " ".join(_clean(a.split()[0]) for a in q.authors)
    if q.journals:
        params["query.container-title"] = _clean(q.journals[0])
    filters = []
    if q.date_from:
        filters.append(f"from-pub-date:{q.date_from}")
    if q.date_until:
        filters.append(f"until-pub-date:{q.date_until}")
    if filters:
        params["filter"] = ",".join(filters)
    return params


def openalex_params(q: SearchQuery) -> dict[str, str]:
    """The `/works` parameters for `q` (without per-page)."""
    params: dict[str, str] = {}
    words = _words(q)
    if words:
        # OpenAlex ANDs words that no operator joins; any of them may match, best first
        params["search"] = " OR ".join(f'"{w}"' if " " in w else w for w in words)
    filters = []
    if q.date_from:
        filters.append(f"from_publication_date:{q.date_from}")
    if q.date_until:
        filters.append(f"to_publication_date:{q.date_until}")
    if len(q.authors) == 1:
        filters.append(f"raw_author_name.search:{_clean(q.authors[0].split()[0])}")
    if filters:
        params["filter"] = ",".join(filters)
    return params
