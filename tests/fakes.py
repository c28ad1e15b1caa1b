"""A real local HTTP stand-in for PubMed E-utilities, Europe PMC, Crossref and OpenAlex.

`ServiceStandIn` runs a `ThreadingHTTPServer` on 127.0.0.1 (port 0, i.e. a free one) in a thread
and serves the papers it is given, rendered into each service's real answer format, so the
clients under test speak real HTTP and parse real formats:

    pubmed     GET /pubmed/esearch.fcgi?db=pubmed&term=<query>&retmode=json  esearch JSON
                   [&retmax=20&retstart=0&sort=relevance|pub_date&field=<tag>
                    &datetype=pdat&mindate=2019/01/01&maxdate=2019/06/30]
               GET /pubmed/efetch.fcgi?db=pubmed&id=1,2&retmode=xml            PubmedArticleSet XML
    europepmc  GET /europepmc/search?query=<query>&resultType=core&format=json  core JSON
                   [&pageSize=25&cursorMark=*&sort=P_PDATE_D desc]
    crossref   GET /crossref/works/<doi>                                      work JSON or 404
               GET /crossref/works?query.bibliographic=..&query.author=..&query.container-title=..
                   &query=..&filter=from-pub-date:2019-01-01,type:journal-article&rows=20&offset=0
                                                                              work-list JSON
    openalex   GET /openalex/works/doi:<doi> | pmid:<n> | pmcid:<id>          work JSON or 404
               GET /openalex/works?search=..&filter=from_publication_date:2019-01-01,..
                   &per_page=25&page=1 (also per-page)                        work-list JSON

Searching (the query languages are in tests/fakes_query.py, written from each service's search
documentation; every search is recorded and can be faulted like any other request):

- PubMed `term`: AND / OR / NOT (upper case, processed left to right as PubMed does),
  parentheses, implicit AND, "quoted phrases", trailing `*` truncation, PubMed's stop words
  ignored. Tags: [au] [1au] [lastau] ("Smith J", "Smith", "John Smith", "Smith, John";
  initials truncate, "Smith J"[au] quoted does not; diacritics folded), [ta] [journal] (the
  whole full title or ISO abbreviation, "the" ignored), [ti] [tiab] [ab], [dp] [pdat] (2019,
  2019/03, 2019/03/05, 2019/01/01:2019/06/30, 2019:2020, "2018/11/01"[dp] : "2019/05/01"[dp]),
  [doi] [pmid] [uid] [pt] [la] [issn] [sb] (hasabstract), [all]; a tag applies to the unquoted
  words before it back to an operator or parenthesis; untagged words search title, abstract,
  journal, author names and year; unknown tags search all fields; MeSH, keyword and affiliation
  tags match nothing (the stand-in holds no such data). `mindate`/`maxdate` (both, any
  `datetype`) limit by publication date. Ranked: query words in the title above words only in
  the abstract, ties newest first; `count` is every hit, `idlist` `retmax` of them.
- Europe PMC `query`: the same boolean grammar with AND before OR, `FIELD:value`,
  `FIELD:"phrase"`, `FIELD:(a OR b)`, `FIELD:[a TO b]` / `{a TO b}`: AUTH FIRST_AUTH LAST_AUTH,
  JOURNAL (a phrase in the full title or abbreviation), ISSN, TITLE ABSTRACT TITLE_ABS,
  PUB_YEAR, FIRST_PDATE E_PDATE P_PDATE (yyyy-mm-dd or yyyy), DOI, EXT_ID, SRC, PMCID,
  HAS_ABSTRACT, PUB_TYPE, LANG; OPEN_ACCESS / IN_PMC / HAS_PDF are N for every paper; other
  fields match nothing. Ranked as PubMed; `hitCount` is every hit; cursorMark pages.
- Crossref `/works`: ranked, never boolean. A work scores per distinct query word found in its
  title, container title, author names or year (abstract-only words count 0.3 of one);
  `query.author` counts against author names only, `query.container-title` against the journal,
  `query.title` against the title. A query that matches nothing returns no items. Filters are
  strict: from-/until-pub-date (also -print-pub-, -online-pub-, -issued-), type, doi, issn,
  prefix, has-abstract, container-title; repeated names OR. An unknown filter or query field is
  answered 400 as Crossref does. Items carry `score` (higher better); `total-results`.
- OpenAlex `/works`: `search` (AND / OR / NOT, quotes, parentheses; words not joined by
  operators are ANDed, as OpenAlex documents; stop words dropped, plurals folded) over title and
  abstract, ranked with `relevance_score`; `openalex_search="any"` makes it "any word", ranked.
  Filters strict, `!` negates and `|` ORs values: from_/to_publication_date, publication_date,
  publication_year (2019, 2018-2020, >2018, <2020), title.search, abstract.search,
  title_and_abstract.search, default.search, display_name.search, raw_author_name.search,
  primary_location.source.display_name.search, doi, ids.pmid, ids.pmcid, type, is_retracted,
  has_abstract, has_doi, language, primary_location.source.issn; others are answered 403.
- Dates: a paper's `published` date (ISO "2019-03-05" or "2019-03") is what date queries match;
  with only `Paper.year`, a date or range matches when that year overlaps it.

Usage:

    paper = paper_from_seed_json(Path("../shared/seed/paper.json"))
    with ServiceStandIn(papers=[(paper, "40210000")]) as stand_in:
        stand_in.env        # {"FACTCHECK_PUBMED_URL": "http://127.0.0.1:PORT/pubmed/", ...}
        settings = stand_in.settings(tmp_path)        # load_settings(env=...) + fast test knobs
        stand_in.inject("pubmed/efetch.fcgi", "429", times=1, retry_after="0.2")
        ...
        stand_in.requests_for("pubmed")            # [RecordedRequest(service, path, params, ...)]

API:

- `ServiceStandIn(papers=(), rate_limits=None, openalex_search="all")`: `papers` items are a
  `Paper`, a `(Paper, pmid)` pair or a `StandInPaper`. A paper is served by PubMed only when it
  has a PMID (its own or the one given); without one Europe PMC serves it as a preprint-style
  record (source PPR). `rate_limits={"pubmed": 3}` answers 429 to a service's requests beyond
  that many per second (sliding window, a little slack for scheduling jitter), as NCBI does.
- `StandInPaper(paper, services, abstract_in, published=None, journal_abbrev=None, issn=None)`:
  `published` is the publication date (ISO "2019-03-05" or "2019-03"; default the Paper's own
  `published` when it has one), rendered into efetch PubDate (Year/Month/Day) and ArticleDate,
  Europe PMC `firstPublicationDate` and `journalInfo`, Crossref `issued`/`published` date-parts
  and OpenAlex `publication_date`; `journal_abbrev` the ISO abbreviation (default: from a table
  of common journals, else the journal's own name), rendered as efetch ISOAbbreviation/MedlineTA,
  Europe PMC isoabbreviation and Crossref short-container-title; `issn` likewise rendered.
- `add(paper, pmid=None, services=ALL_SERVICES, abstract_in=None, published=None,
  journal_abbrev=None, issn=None)`: serve a paper, only by the given services, and with its
  abstract only in `abstract_in` (default: everywhere it is served). A service without the
  abstract cannot match it in a search either.
- `inject(path, fault, times=None, retry_after=None, delay=0.5)`: for requests whose path starts
  with `path` ("pubmed/efetch.fcgi", "crossref/works", "openalex"), answer with a fault:
  "429" (with `Retry-After: retry_after` when given), "500", "404", "slow" (wait `delay` seconds,
  then answer normally), "malformed" (the normal body cut in half), "empty_abstract" (the normal
  answer without abstract). `times=None` means every request; faults are consumed in order.
- `respond(path, body, status=200, content_type="application/json")`: serve a fixed body
  (a recorded response file) for requests whose path starts with `path`.
- `clear_faults()`; `requests` (every request, in arrival order, as `RecordedRequest`s with
  `service`, `path`, `params`, `time`, `status`, readable as attributes or `r["path"]`);
  `requests_for(service, path=None)`; `statuses(service)`; `base_url`; `urls` ({service: base URL});
  `env`; `settings(cache_dir, **changes)`.
- Renderers, usable on their own (papers as `Paper` or `StandInPaper`): `render_efetch_xml`,
  `render_esearch_json`, `render_europepmc_json`, `render_crossref_work_json`,
  `render_crossref_list_json`, `render_openalex_json`, `render_openalex_list_json`.
- `paper_from_seed_json(path)`: a Paper from the seed case's paper.json (`doi`, `pmid`, `title`,
  `journal`, `year`, `authors`, `abstract: [{label, text}]`).
"""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree

from factcheck.config import Settings, load_settings
from factcheck.resolve import paper_from_file
from factcheck.types import Paper

try:
    import fakes_query as fq
except ImportError:  # tests/ became a package
    from tests import fakes_query as fq

JOURNAL_ABBREVIATIONS = fq.JOURNAL_ABBREVIATIONS
ALL_SERVICES = frozenset({"pubmed", "europepmc", "crossref", "openalex"})
ENV_VARS = {
    "pubmed": "FACTCHECK_PUBMED_URL",
    "europepmc": "FACTCHECK_EUROPEPMC_URL",
    "crossref": "FACTCHECK_CROSSREF_URL",
    "openalex": "FACTCHECK_OPENALEX_URL",
}
FAULTS = ("429", "500", "404", "slow", "malformed", "empty_abstract")
_RATE_SLACK = 0.2  # seconds of the 1-s window forgiven for scheduling jitter on busy machines


def paper_from_seed_json(path: Path | str) -> Paper:
    """A Paper from a seed-case paper.json (doi, title, journal, year, authors,
    abstract [{label, text}]), read by the project's own `paper_from_file`; `source` is "file"."""
    return paper_from_file(Path(path))


@dataclass(frozen=True)
class StandInPaper:
    """A paper as the stand-in serves it: where it exists, where its abstract is, and what the
    services know that `Paper` may not carry: the publication date (ISO "2019-03-05" or
    "2019-03"), the journal's ISO abbreviation and ISSN."""

    paper: Paper
    services: frozenset[str] = ALL_SERVICES
    abstract_in: frozenset[str] = ALL_SERVICES
    published: str | None = None
    journal_abbrev: str | None = None
    issn: str | None = None

    @property
    def pmid(self) -> str | None:
        return self.paper.pmid

    @property
    def date_parts(self) -> list[int]:
        """[year, month, day], [year, month] or [year] as far as they are known; [] if undated."""
        own = self.published or getattr(self.paper, "published", None)
        m = re.match(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", own or "")
        if m:
            return [int(g) for g in m.groups() if g]
        return [self.paper.year] if self.paper.year else []

    @property
    def year(self) -> int | None:
        return self.paper.year or (self.date_parts[0] if self.date_parts else None)

    @property
    def abbreviation(self) -> str | None:
        """The journal's ISO abbreviation: given, from the table of common journals, or the
        journal's own name."""
        journal = self.paper.journal
        if self.journal_abbrev or not journal:
            return self.journal_abbrev
        return fq.abbreviation_for(journal) or journal

    @property
    def journal_names(self) -> tuple[str, ...]:
        """Every name a search may use for the journal: its title, abbreviation, and the full
        title the table gives for an abbreviated one."""
        journal = self.paper.journal
        if not journal:
            return ()
        names = [journal, self.abbreviation or journal, fq.full_title_for(journal) or journal]
        return tuple(dict.fromkeys(names))


def _stand_in(item: Paper | StandInPaper) -> StandInPaper:
    return item if isinstance(item, StandInPaper) else StandInPaper(item)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received; `params` holds the first value of each parameter."""

    service: str
    path: str  # service-relative, unquoted: "esearch.fcgi", "works/10.1/x"
    params: Mapping[str, str]
    time: float  # time.monotonic() at arrival
    status: int = 0  # the status answered (0 until answered)

    def __getitem__(self, name: str) -> Any:
        """`request["path"]` works as well as `request.path`."""
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None


@dataclass
class _Fault:
    path: str
    kind: str
    times: int | None
    retry_after: str | None
    delay: float


@dataclass
class _Fixed:
    path: str
    body: bytes
    status: int
    content_type: str


# -- renderers --------------------------------------------------------------------------------

def _split_name(name: str) -> tuple[str, str]:
    parts = name.split()
    return (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else ("", name)


def _initials(fore: str) -> str:
    return "".join(w[0].upper() for w in re.split(r"[\s-]+", fore) if w)


def _parse_notice(notice: str) -> tuple[str, str, str | None]:
    kind, _, rest = notice.partition(": ")
    pmid = None
    m = re.search(r"\s*PMID:(\d+)\s*$", rest)
    if m:
        pmid, rest = m.group(1), rest[:m.start()]
    return kind, rest, pmid


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = text
    return el


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _pub_types(paper: Paper, default: Sequence[str] = ("Journal Article",)) -> list[str]:
    pub_types = list(paper.publication_types or default)
    if paper.retracted and "Retracted Publication" not in pub_types:
        pub_types.append("Retracted Publication")
    return pub_types


def render_efetch_xml(papers: Iterable[Paper | StandInPaper], with_abstract: bool = True) -> str:
    """PubMed efetch XML (`PubmedArticleSet`) for papers that have a PMID."""
    root = etree.Element("PubmedArticleSet")
    for item in papers:
        entry = _stand_in(item)
        paper, parts = entry.paper, entry.date_parts
        art_el = _sub(root, "PubmedArticle")
        cit = _sub(art_el, "MedlineCitation", Status="MEDLINE", Owner="NLM")
        _sub(cit, "PMID", paper.pmid or "", Version="1")
        art = _sub(cit, "Article", PubModel="Print-Electronic")
        journal = _sub(art, "Journal")
        if entry.issn:
            _sub(journal, "ISSN", entry.issn, IssnType="Electronic")
        issue = _sub(journal, "JournalIssue", CitedMedium="Internet")
        pub_date = _sub(issue, "PubDate")
        if entry.year:
            _sub(pub_date, "Year", str(entry.year))
        if len(parts) >= 2:
            _sub(pub_date, "Month", _MONTH_NAMES[parts[1] - 1])
        if len(parts) >= 3:
            _sub(pub_date, "Day", f"{parts[2]:02d}")
        if paper.journal:
            _sub(journal, "Title", paper.journal)
            _sub(journal, "ISOAbbreviation", entry.abbreviation or paper.journal)
        _sub(art, "ArticleTitle", paper.title or "")
        if paper.doi:
            _sub(art, "ELocationID", paper.doi, EIdType="doi", ValidYN="Y")
        if with_abstract and paper.sections:
            abstract = _sub(art, "Abstract")
            for section in paper.sections:
                attrs = {}
                if section.label:
                    attrs["Label"] = section.label
                if section.category or section.label:
                    attrs["NlmCategory"] = section.category or "UNASSIGNED"
                _sub(abstract, "AbstractText", section.text, **attrs)
        if paper.authors:
            authors = _sub(art, "AuthorList", CompleteYN="Y")
            for name in paper.authors:
                fore, last = _split_name(name)
                author = _sub(authors, "Author", ValidYN="Y")
                _sub(author, "LastName", last)
                if fore:
                    _sub(author, "ForeName", fore)
                    _sub(author, "Initials", _initials(fore))
        _sub(art, "Language", "eng")
        types = _sub(art, "PublicationTypeList")
        for pub_type in _pub_types(paper):
            _sub(types, "PublicationType", pub_type)
        if len(parts) == 3:
            art_date = _sub(art, "ArticleDate", DateType="Electronic")
            for tag, value in zip(("Year", "Month", "Day"), parts):
                _sub(art_date, tag, f"{value:02d}")
        if paper.journal:
            info = _sub(cit, "MedlineJournalInfo")
            _sub(info, "Country", "England")
            _sub(info, "MedlineTA", entry.abbreviation or paper.journal)
            if entry.issn:
                _sub(info, "ISSNLinking", entry.issn)
        if paper.notices:
            cc_list = _sub(cit, "CommentsCorrectionsList")
            for notice in paper.notices:
                kind, source, pmid = _parse_notice(notice)
                cc = _sub(cc_list, "CommentsCorrections", RefType=kind)
                _sub(cc, "RefSource", source)
                if pmid:
                    _sub(cc, "PMID", pmid, Version="1")
        data = _sub(art_el, "PubmedData")
        ids = _sub(data, "ArticleIdList")
        _sub(ids, "ArticleId", paper.pmid or "", IdType="pubmed")
        if paper.doi:
            _sub(ids, "ArticleId", paper.doi, IdType="doi")
        if paper.pmcid:
            _sub(ids, "ArticleId", paper.pmcid, IdType="pmc")
    body = etree.tostring(root, encoding="unicode", pretty_print=True)
    return ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
            '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
            + body)


def render_esearch_json(pmids: Sequence[str], term: str = "", count: int | None = None,
                        retstart: int = 0) -> str:
    """PubMed esearch JSON (`esearchresult.idlist`); `count` is every hit (default: the ids)."""
    count = len(pmids) if count is None else count
    result: dict[str, Any] = {
        "count": str(count), "retmax": str(len(pmids)), "retstart": str(retstart),
        "idlist": list(pmids), "translationset": [], "querytranslation": term,
    }
    if not count:
        result["errorlist"] = {"phrasesnotfound": [term], "fieldsnotfound": []}
        result["warninglist"] = {"phrasesignored": [], "quotedphrasesnotfound": [],
                                 "outputmessages": ["No items found."]}
    return json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result})


def _stable_id(paper: Paper) -> int:
    return zlib.crc32((paper.doi or paper.title or "").encode("utf-8"))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iso_date(parts: Sequence[int]) -> str | None:
    """"2019-03-05" for a full date, else None."""
    return f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}" if len(parts) == 3 else None


def _europepmc_ids(paper: Paper) -> tuple[str, str]:
    """(source, id): MED and the PMID, or PPR and a stable preprint id."""
    if paper.pmid:
        return "MED", paper.pmid
    return "PPR", f"PPR{_stable_id(paper) % 10**6}"


def _europepmc_record(item: Paper | StandInPaper, with_abstract: bool) -> dict[str, Any]:
    entry = _stand_in(item)
    paper, parts = entry.paper, entry.date_parts
    authors = []
    for name in paper.authors:
        fore, last = _split_name(name)
        authors.append({"fullName": f"{last} {_initials(fore)}".strip(), "firstName": fore,
                        "lastName": last, "initials": _initials(fore)})
    src, rid = _europepmc_ids(paper)
    journal: dict[str, Any] = {"title": paper.journal,
                               "isoabbreviation": entry.abbreviation or paper.journal,
                               "medlineAbbreviation": entry.abbreviation or paper.journal}
    if entry.issn:
        journal["essn"] = entry.issn
    journal_info: dict[str, Any] = {"yearOfPublication": entry.year, "journal": journal}
    if parts:
        journal_info["dateOfPublication"] = " ".join(
            [str(parts[0])] + ([_MONTH_NAMES[parts[1] - 1]] if len(parts) > 1 else [])
            + ([str(parts[2])] if len(parts) > 2 else []))
        journal_info["monthOfPublication"] = parts[1] if len(parts) > 1 else 0
    if _iso_date(parts):
        journal_info["printPublicationDate"] = _iso_date(parts)
    rec: dict[str, Any] = {
        "id": rid, "source": src, "title": paper.title,
        "authorString": ", ".join(a["fullName"] for a in authors) + ("." if authors else ""),
        "authorList": {"author": authors},
        "journalInfo": journal_info,
        "pubYear": str(entry.year) if entry.year else None,
        "pubTypeList": {"pubType": _pub_types(paper, ("research-article", "Journal Article"))},
        "isOpenAccess": "N", "inEPMC": "N", "inPMC": "N", "hasPDF": "N",
        "firstPublicationDate": _iso_date(parts), "electronicPublicationDate": _iso_date(parts),
    }
    if paper.pmid:
        rec["pmid"] = paper.pmid
    if paper.pmcid:
        rec["pmcid"] = paper.pmcid
    if paper.doi:
        rec["doi"] = paper.doi
    if with_abstract and paper.sections:
        rec["abstractText"] = "".join(
            (f"<h4>{_esc(s.label)}</h4>" if s.label else "") + _esc(s.text) for s in paper.sections)
    if paper.notices:
        ccs = []
        for notice in paper.notices:
            kind, source, pmid = _parse_notice(notice)
            words = re.sub(r"(?<!^)([A-Z])", r" \1", kind).lower().capitalize()  # "Retraction in"
            ccs.append({"id": pmid, "source": "MED", "reference": source, "type": words,
                        "orderIn": 0})
        rec["commentCorrectionList"] = {"commentCorrection": ccs}
    return {k: v for k, v in rec.items() if v is not None}


def render_europepmc_json(papers: Sequence[Paper | StandInPaper], query: str = "",
                          with_abstract: bool = True, *, hit_count: int | None = None,
                          page_size: int = 25, cursor_mark: str = "*",
                          next_cursor_mark: str | None = None) -> str:
    """Europe PMC search JSON, resultType=core; `hit_count` is every hit (default: the papers)."""
    return json.dumps({
        "version": "6.9", "hitCount": len(papers) if hit_count is None else hit_count,
        "nextCursorMark": next_cursor_mark or "AoE=",
        "request": {"queryString": query, "resultType": "core", "cursorMark": cursor_mark,
                    "pageSize": page_size, "sort": "", "synonym": False},
        "resultList": {"result": [_europepmc_record(p, with_abstract) for p in papers]},
    })


def _crossref_message(item: Paper | StandInPaper, with_abstract: bool,
                      score: float | None = None) -> dict:
    entry = _stand_in(item)
    paper, parts = entry.paper, entry.date_parts
    authors = []
    for i, name in enumerate(paper.authors):
        fore, last = _split_name(name)
        authors.append({"given": fore, "family": last,
                        "sequence": "first" if i == 0 else "additional", "affiliation": []})
    date_parts = {"date-parts": [parts] if parts else [[None]]}
    msg: dict[str, Any] = {
        "DOI": paper.doi, "type": "journal-article", "title": [paper.title or ""],
        "container-title": [paper.journal] if paper.journal else [],
        "short-container-title": [entry.abbreviation] if entry.abbreviation else [],
        "author": authors, "publisher": "Stand-in Publishing",
        "issued": date_parts, "published": date_parts,
        "URL": f"https://doi.org/{paper.doi}", "prefix": (paper.doi or "").split("/")[0],
        "member": "1", "source": "Crossref", "is-referenced-by-count": 0,
    }
    if len(parts) > 1:
        msg["published-online"] = date_parts
    if entry.issn:
        msg["ISSN"] = [entry.issn]
        msg["issn-type"] = [{"value": entry.issn, "type": "electronic"}]
    if with_abstract and paper.sections:
        if len(paper.sections) == 1 and not paper.sections[0].label:
            msg["abstract"] = f"<jats:p>{_esc(paper.sections[0].text)}</jats:p>"
        else:
            msg["abstract"] = "".join(
                "<jats:sec>" + (f"<jats:title>{_esc(s.label)}</jats:title>" if s.label else "")
                + f"<jats:p>{_esc(s.text)}</jats:p></jats:sec>" for s in paper.sections)
    if paper.retracted:
        msg["updated-by"] = [{"updated": {"date-parts": [[paper.year or 2020, 1, 1]]},
                              "DOI": f"{paper.doi}.retraction", "type": "retraction",
                              "source": "publisher", "label": "Retraction"}]
    if score is not None:
        msg["score"] = score
    return msg


def render_crossref_work_json(paper: Paper | StandInPaper, with_abstract: bool = True) -> str:
    """Crossref `/works/<doi>` JSON."""
    return json.dumps({"status": "ok", "message-type": "work", "message-version": "1.0.0",
                       "message": _crossref_message(paper, with_abstract)})


def render_crossref_list_json(scored: Sequence[tuple[Paper | StandInPaper, float]],
                              query: str = "", rows: int = 20, with_abstract: bool = True, *,
                              total: int | None = None, offset: int = 0) -> str:
    """Crossref `/works?query...` JSON: items with `score`; `total` is every hit."""
    return json.dumps({"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
                       "message": {"facets": {},
                                   "total-results": len(scored) if total is None else total,
                                   "items": [_crossref_message(p, with_abstract, s)
                                             for p, s in scored],
                                   "items-per-page": rows,
                                   "query": {"start-index": offset,
                                             "search-terms": query or None}}})


def _openalex_work(item: Paper | StandInPaper, with_abstract: bool) -> dict[str, Any]:
    entry = _stand_in(item)
    paper, parts = entry.paper, entry.date_parts
    index: dict[str, list[int]] | None = None
    if with_abstract and paper.sections:
        index = {}
        for pos, word in enumerate(paper.abstract.split()):
            index.setdefault(word, []).append(pos)
    wid = f"https://openalex.org/W{_stable_id(paper) % 10**9}"
    ids: dict[str, str] = {"openalex": wid}
    if paper.doi:
        ids["doi"] = f"https://doi.org/{paper.doi}"
    if paper.pmid:
        ids["pmid"] = f"https://pubmed.ncbi.nlm.nih.gov/{paper.pmid}"
    if paper.pmcid:
        ids["pmcid"] = f"https://www.ncbi.nlm.nih.gov/pmc/articles/{paper.pmcid.removeprefix('PMC')}"
    # OpenAlex dates are whole days; a month-only date is given as its first day
    publication_date = (_iso_date(parts) or (f"{parts[0]:04d}-{parts[1]:02d}-01"
                                             if len(parts) == 2 else None))
    source: dict[str, Any] = {"id": "https://openalex.org/S1", "display_name": paper.journal,
                              "type": "journal"}
    if entry.issn:
        source.update({"issn_l": entry.issn, "issn": [entry.issn]})
    return {
        "id": wid, "doi": ids.get("doi"), "title": paper.title, "display_name": paper.title,
        "publication_year": entry.year, "publication_date": publication_date,
        "type": "article", "language": "en", "ids": ids,
        "primary_location": {"is_oa": False, "landing_page_url": ids.get("doi"),
                             "source": source},
        "authorships": [{"author_position": "first" if i == 0 else "middle",
                         "author": {"id": f"https://openalex.org/A{i}", "display_name": name},
                         "raw_author_name": name}
                        for i, name in enumerate(paper.authors)],
        "is_retracted": paper.retracted, "is_paratext": False, "cited_by_count": 0,
        "abstract_inverted_index": index,
    }


def render_openalex_json(paper: Paper | StandInPaper, with_abstract: bool = True) -> str:
    """OpenAlex work JSON, the abstract as `abstract_inverted_index`."""
    return json.dumps(_openalex_work(paper, with_abstract))


def render_openalex_list_json(works: Sequence[tuple[Paper | StandInPaper, bool, float | None]],
                              count: int | None = None, page: int = 1,
                              per_page: int = 25) -> str:
    """OpenAlex `/works?search=..&filter=..` JSON: `meta.count` and `results`, each work given as
    (paper, with abstract, relevance_score or None when there was no search)."""
    results = []
    for item, with_abstract, score in works:
        work = _openalex_work(item, with_abstract)
        if score is not None:
            work["relevance_score"] = score
        results.append(work)
    return json.dumps({"meta": {"count": len(works) if count is None else count,
                                "db_response_time_ms": 1, "page": page, "per_page": per_page,
                                "groups_count": None},
                       "results": results, "group_by": []})


# -- the server -------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ServiceStandIn:
    """The four literature services on one local port; see the module docstring."""

    def __init__(self, papers: Iterable[Paper | tuple[Paper, str | None] | StandInPaper] = (),
                 rate_limits: Mapping[str, float] | None = None, openalex_search: str = "all"):
        if openalex_search not in ("all", "any"):
            raise ValueError("openalex_search is 'all' (words ANDed, as OpenAlex documents) "
                             "or 'any' (any word, ranked)")
        self.openalex_search = openalex_search
        self._papers: list[StandInPaper] = []
        self._faults: list[_Fault] = []
        self._fixed: list[_Fixed] = []
        self._lock = threading.Lock()
        self._arrivals: dict[str, deque[float]] = {}
        self._stopping = threading.Event()
        self.rate_limits = dict(rate_limits or {})
        self.requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        for item in papers:
            if isinstance(item, StandInPaper):
                self._papers.append(item)
            elif isinstance(item, tuple):
                self.add(item[0], pmid=item[1])
            else:
                self.add(item)

    # -- configuration ----------------------------------------------------------------------

    def add(self, paper: Paper, pmid: str | None = None,
            services: Iterable[str] = ALL_SERVICES,
            abstract_in: Iterable[str] | None = None, published: str | None = None,
            journal_abbrev: str | None = None, issn: str | None = None) -> StandInPaper:
        """Serve `paper` (with `pmid` when given) from `services`, abstract in `abstract_in`,
        published on `published` (ISO date), in a journal abbreviated `journal_abbrev`."""
        if pmid:
            paper = replace(paper, pmid=str(pmid))
        services = frozenset(services)
        unknown = services - ALL_SERVICES
        if unknown:
            raise ValueError(f"unknown services {sorted(unknown)}; use {sorted(ALL_SERVICES)}")
        if published is not None and fq.date_span(published) is None:
            raise ValueError(f"published {published!r} is not an ISO date (2019-03-05, 2019-03)")
        entry = StandInPaper(paper, services,
                             frozenset(abstract_in) if abstract_in is not None else services,
                             published, journal_abbrev, issn)
        with self._lock:
            self._papers.append(entry)
        return entry

    def inject(self, path: str, fault: str, times: int | None = None,
               retry_after: str | float | None = None, delay: float = 0.5) -> None:
        """Answer requests whose path starts with `path` with `fault` (see module docstring)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; use one of {FAULTS}")
        with self._lock:
            self._faults.append(_Fault("/" + path.lstrip("/"), fault, times,
                                       None if retry_after is None else str(retry_after), delay))

    def respond(self, path: str, body: str | bytes, status: int = 200,
                content_type: str = "application/json") -> None:
        """Serve `body` for requests whose path starts with `path` (a recorded response)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._fixed.append(_Fixed("/" + path.lstrip("/"), data, status, content_type))

    def clear_faults(self) -> None:
        """Drop every injected fault and fixed response."""
        with self._lock:
            self._faults.clear()
            self._fixed.clear()

    # -- inspection -------------------------------------------------------------------------

    def requests_for(self, service: str, path: str | None = None) -> list[RecordedRequest]:
        """The requests one service received (only those whose path starts with `path` if given)."""
        with self._lock:
            return [r for r in self.requests if r.service == service
                    and (path is None or r.path.startswith(path))]

    def statuses(self, service: str) -> list[int]:
        """The statuses answered to one service's requests, in arrival order."""
        return [r.status for r in self.requests_for(service)]

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not running; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def urls(self) -> dict[str, str]:
        """{service: base URL} as the clients expect them (trailing slash)."""
        return {name: f"{self.base_url}/{name}/" for name in ENV_VARS}

    @property
    def env(self) -> dict[str, str]:
        """FACTCHECK_PUBMED_URL etc. pointing at the stand-in."""
        return {var: self.urls[name] for name, var in ENV_VARS.items()}

    def settings(self, cache_dir: Path | str, **changes: Any) -> Settings:
        """Settings aimed at the stand-in, with a cache in `cache_dir` and fast test knobs.

        Defaults: backoff 0.01 s, 2 retries, 2 s timeouts, 1000 requests/s per service; any
        Settings field can be overridden in `changes`.
        """
        settings = load_settings(env={**self.env, "FACTCHECK_CACHE": str(cache_dir)})
        knobs: dict[str, Any] = {
            "backoff": 0.01, "retries": 2, "connect_timeout": 2.0, "read_timeout": 2.0,
            "max_retry_after": 2.0,
            "service_rates": {name: 1000.0 for name in ENV_VARS},
        }
        knobs.update(changes)
        return settings.with_(**knobs)

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> ServiceStandIn:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving on 127.0.0.1 at a free port."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _make_handler(self))
        # a short poll interval so stop() (shutdown) returns quickly
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name="service-stand-in", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; slow answers still waiting are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    # -- request handling (called from handler threads) -------------------------------------

    def _record(self, service: str, path: str, params: dict[str, str]) -> int:
        with self._lock:
            self.requests.append(RecordedRequest(service, path, params, time.monotonic()))
            return len(self.requests) - 1

    def _set_status(self, index: int, status: int) -> None:
        with self._lock:
            self.requests[index] = replace(self.requests[index], status=status)

    def _over_rate(self, service: str) -> bool:
        rate = self.rate_limits.get(service)
        if not rate:
            return False
        now = time.monotonic()
        with self._lock:
            arrivals = self._arrivals.setdefault(service, deque())
            while arrivals and arrivals[0] <= now - (1.0 - _RATE_SLACK):
                arrivals.popleft()
            arrivals.append(now)
            return len(arrivals) > rate

    def _take_fault(self, full_path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if full_path.startswith(fault.path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _fixed_for(self, full_path: str) -> _Fixed | None:
        with self._lock:
            return next((f for f in self._fixed if full_path.startswith(f.path)), None)

    def _served(self, service: str) -> list[StandInPaper]:
        with self._lock:
            entries = [e for e in self._papers if service in e.services]
        if service == "pubmed":
            entries = [e for e in entries if e.pmid]
        return entries

    def _answer(self, service: str, path: str, params: dict[str, str],
                with_abstract: bool) -> tuple[int, str, str]:
        """(status, content type, body) for a request, from the served papers."""
        entries = self._served(service)

        def shown(e: StandInPaper) -> StandInPaper:
            """The entry as this answer renders it: without its abstract where it has none."""
            if with_abstract and service in e.abstract_in:
                return e
            return replace(e, paper=replace(e.paper, sections=()))

        try:
            if service == "pubmed" and path == "esearch.fcgi":
                return self._esearch(entries, params)
            if service == "pubmed" and path == "efetch.fcgi":
                wanted = [i.strip() for i in params.get("id", "").split(",") if i.strip()]
                chosen = [e for pid in wanted for e in entries if e.pmid == pid]
                # efetch has one abstract switch per answer; a paper without its abstract in
                # PubMed is rendered on its own terms
                return 200, "text/xml", render_efetch_xml([shown(e) for e in chosen])
            if service == "europepmc" and path == "search":
                return self._europepmc_search(entries, params, shown)
            if service == "crossref" and path == "works":
                return self._crossref_search(entries, params, shown)
            if service == "openalex" and path == "works":
                return self._openalex_search(entries, params, shown)
        except fq.QueryError as exc:
            return exc.status, "application/json", json.dumps(exc.body)
        if service == "crossref" and path.startswith("works/"):
            doi = path[len("works/"):].lower()
            for e in entries:
                if (e.paper.doi or "").lower() == doi:
                    return 200, "application/json", render_crossref_work_json(
                        shown(e), with_abstract)
            return 404, "text/plain", "Resource not found."
        if service == "openalex" and path.startswith("works/"):
            ident = path[len("works/"):]
            ident = re.sub(r"^https?://doi\.org/", "doi:", ident, flags=re.I)
            kind, _, value = ident.partition(":")
            value = value.lower()
            for e in entries:
                p = e.paper
                if ((kind == "doi" and (p.doi or "").lower() == value)
                        or (kind == "pmid" and p.pmid == value)
                        or (kind == "pmcid" and (p.pmcid or "").lower() == value)):
                    return 200, "application/json", render_openalex_json(shown(e))
            return 404, "application/json", json.dumps(
                {"error": "Not Found", "message": f"'{ident}' is not a valid OpenAlex ID"})
        return 404, "text/plain", f"stand-in: no route for /{service}/{path}"

    # -- searches ---------------------------------------------------------------------------

    def _esearch(self, entries: list[StandInPaper], params: dict[str, str]
                 ) -> tuple[int, str, str]:
        term = params.get("term", "")
        if not term.strip():
            return 200, "application/json", json.dumps(
                {"header": {"type": "esearch", "version": "0.3"},
                 "esearchresult": {"ERROR": "Empty term and query_key - nothing todo"}})
        records = [_record(e, "pubmed") for e in entries]
        m = re.fullmatch(r'\s*("?)([^\s"\[\]]+)\1\s*\[(doi|pmid|uid)\]\s*', term, re.I)
        if m:  # one identifier: exact, whatever characters it holds
            value, field_ = m.group(2).lower(), m.group(3).lower()
            hits = [r for r in records if (r.doi if field_ == "doi" else r.pmid) == value]
        else:
            field_ = params.get("field")
            node = fq.parse_pubmed(term, fq.pubmed_field(field_, "all") if field_ else "all")
            hits = [r for _, r in fq.search(node, records, fq.PUBMED)]
        if params.get("mindate") and params.get("maxdate"):  # PubMed needs both
            window = fq.range_span(params["mindate"], params["maxdate"])
            hits = [r for r in hits if fq.overlaps(r.span, window)]
        hits = _sorted(hits, params.get("sort", ""), {
            "pub_date": "date", "pub+date": "date", "pubdate": "date", "date": "date",
            "first_author": "author", "author": "author", "journal": "journal",
            "title": "title"})
        retstart = _int(params.get("retstart"), 0)
        retmax = min(_int(params.get("retmax"), 20), 10_000)
        ids = [r.pmid for r in hits]
        return 200, "application/json", render_esearch_json(
            ids[retstart:retstart + retmax], term, count=len(ids), retstart=retstart)

    def _europepmc_search(self, entries: list[StandInPaper], params: dict[str, str],
                          shown: Any) -> tuple[int, str, str]:
        query = params.get("query", "")
        records = [_record(e, "europepmc") for e in entries]
        exact = _europepmc_exact(query)
        if exact is not None:
            hits = [r for r in records if exact(r)]
        else:
            node = fq.parse_europepmc(query)
            hits = [r for _, r in fq.search(node, records, fq.EUROPEPMC)]
        sort = params.get("sort", "")
        if "DATE" in sort.upper():
            hits = _sorted(hits, "date" + (" asc" if sort.lower().endswith("asc") else ""),
                           {"date": "date"})
        page_size = max(1, min(_int(params.get("pageSize"), 25), 1000))
        cursor = params.get("cursorMark") or "*"
        start = _int(cursor.removeprefix("AoE"), 0) if cursor != "*" else 0
        page = hits[start:start + page_size]
        following = f"AoE{start + len(page)}" if start + len(page) < len(hits) else cursor
        return 200, "application/json", render_europepmc_json(
            [shown(r.item) for r in page], query, hit_count=len(hits), page_size=page_size,
            cursor_mark=cursor, next_cursor_mark=following)

    def _crossref_search(self, entries: list[StandInPaper], params: dict[str, str],
                         shown: Any) -> tuple[int, str, str]:
        fq.crossref_query_check(params)
        keep = fq.crossref_filter(params.get("filter", ""))
        records = [r for r in (_record(e, "crossref") for e in entries if e.paper.doi)
                   if keep(r)]
        bibliographic = " ".join(params.get(k, "") for k in ("query", "query.bibliographic"))
        author = " ".join(params.get(k, "") for k in ("query.author", "query.contributor",
                                                      "query.editor"))
        title, container = params.get("query.title", ""), params.get("query.container-title", "")
        if any(t.strip() for t in (bibliographic, author, title, container)):
            scored = [(round(10 * fq.crossref_score(r, bibliographic, author, title, container),
                             3), r) for r in records]
            scored = sorted([t for t in scored if t[0] > 0],
                            key=lambda t: (-t[0], t[1].newest_first()))
        else:
            scored = [(1.0, r) for r in _sorted(records, "date", {"date": "date"})]
        sort = params.get("sort", "")
        if sort in ("published", "issued", "created", "deposited", "indexed", "updated"):
            order = "date asc" if params.get("order") == "asc" else "date"
            by_record = {id(r): s for s, r in scored}
            scored = [(by_record[id(r)], r)
                      for r in _sorted([r for _, r in scored], order, {"date": "date"})]
        rows = max(0, min(_int(params.get("rows"), 20), 1000))
        offset = _int(params.get("offset"), 0)
        page = scored[offset:offset + rows]
        return 200, "application/json", render_crossref_list_json(
            [(shown(r.item), s) for s, r in page], bibliographic.strip(), rows,
            total=len(scored), offset=offset)

    def _openalex_search(self, entries: list[StandInPaper], params: dict[str, str],
                         shown: Any) -> tuple[int, str, str]:
        per_page_text = params.get("per_page") or params.get("per-page")
        per_page = _int(per_page_text, 25)
        if not 1 <= per_page <= 200:
            raise fq.QueryError(403, {"error": "Invalid query parameters error.",
                                      "message": "per-page parameter must be between 1 and 200"})
        page = max(1, _int(params.get("page"), 1))
        keep = fq.openalex_filter(params.get("filter", ""))
        records = [r for r in (_record(e, "openalex") for e in entries) if keep(r)]
        text = params.get("search", "")
        scored: list[tuple[float | None, fq.Record]]
        if text.strip() and self.openalex_search == "any":
            scored = sorted([(fq.openalex_any_score(r, text), r) for r in records],
                            key=lambda t: (-t[0], t[1].newest_first()))
            scored = [(round(10 * s, 3), r) for s, r in scored if s > 0]
        elif text.strip():
            node = fq.parse_europepmc(text, default_field="tiab", fields=False)
            scored = [(round(10 * s, 3), r) for s, r in fq.search(node, records, fq.OPENALEX)]
        else:
            scored = [(None, r) for r in _sorted(records, "date", {"date": "date"})]
        sort = params.get("sort", "")
        if sort.startswith(("publication_date", "publication_year")):
            by_record = {id(r): s for s, r in scored}
            order = "date asc" if not sort.endswith(":desc") else "date"
            scored = [(by_record[id(r)], r)
                      for r in _sorted([r for _, r in scored], order, {"date": "date"})]
        chosen = scored[(page - 1) * per_page:page * per_page]
        return 200, "application/json", render_openalex_list_json(
            [(shown(r.item), True, s) for s, r in chosen], count=len(scored), page=page,
            per_page=per_page)


def _int(text: str | None, default: int) -> int:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return default


def _record(e: StandInPaper, service: str) -> fq.Record:
    """What `service` has indexed of the entry: its abstract only where the service has it."""
    p = e.paper
    abstract = p.abstract if service in e.abstract_in else ""
    src, rid = _europepmc_ids(p)
    default_types = ("research-article", "Journal Article") if service == "europepmc" else (
        "Journal Article",)
    parts = e.date_parts
    span = fq.date_span("-".join(f"{v:02d}" for v in parts)) if parts else None
    return fq.Record(title=p.title, abstract=abstract, journals=e.journal_names,
                     issns=[e.issn] if e.issn else [], authors=p.authors, year=e.year,
                     span=span, doi=p.doi, pmid=p.pmid, pmcid=p.pmcid, ext_id=rid, source=src,
                     pub_types=_pub_types(p, default_types), has_abstract=bool(abstract.strip()),
                     retracted=p.retracted, item=e)


def _sorted(records: list[fq.Record], sort: str, names: Mapping[str, str]) -> list[fq.Record]:
    """`records` in a service's named sort order ("date" newest first, "date asc" oldest);
    an unknown or relevance sort keeps them as they are (relevance)."""
    key, _, order = sort.strip().lower().partition(" ")
    kind = names.get(key)
    if kind is None:
        return records

    def value(r: fq.Record) -> Any:
        if kind == "date":
            return r.span[1] if r.span else date.min
        if kind == "author":
            return fq.fold(_split_name(r.authors[0])[1]) if r.authors else ""
        if kind == "journal":
            return fq.fold(r.journals[0]) if r.journals else ""
        return fq.fold(r.title)

    newest_first = kind == "date" and order != "asc"
    return sorted(records, key=value, reverse=newest_first)


def _europepmc_exact(query: str) -> Any:
    """A test for the exact-identifier queries (DOI, EXT_ID + SRC, PMCID), which hold
    characters the grammar would read as syntax; None for any other query."""
    if m := re.fullmatch(r'\s*DOI:"?([^"]+)"?\s*', query, re.I):
        doi = m.group(1).lower()
        return lambda r: r.doi == doi
    if m := re.fullmatch(r"\s*EXT_ID:(\S+)\s+AND\s+SRC:MED\s*", query, re.I):
        pmid = m.group(1)
        return lambda r: r.source == "MED" and r.pmid == pmid
    if m := re.fullmatch(r"\s*PMCID:(\S+)\s*", query, re.I):
        pmcid = m.group(1).upper()
        return lambda r: (r.pmcid or "").upper() == pmcid
    return None


def _make_handler(stand_in: ServiceStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "factcheck-stand-in/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output quiet

        def _send(self, status: int, body: bytes, content_type: str,
                  headers: Mapping[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_GET(self) -> None:  # noqa: N802
            split = urlsplit(self.path)
            full_path = unquote(split.path)
            params = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            service, _, rest = full_path.lstrip("/").partition("/")
            index = stand_in._record(service, rest, params)
            status, ctype, body, headers = self._handle(service, rest, full_path, params)
            stand_in._set_status(index, status)
            self._send(status, body.encode("utf-8"), ctype, headers)

        def _handle(self, service: str, rest: str, full_path: str,
                    params: dict[str, str]) -> tuple[int, str, str, dict[str, str]]:
            if stand_in._over_rate(service):
                return 429, "text/plain", "API rate limit exceeded", {"Retry-After": "1"}
            fault = stand_in._take_fault(full_path)
            with_abstract = True
            if fault is not None:
                if fault.kind == "429":
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    return 429, "text/plain", "Too Many Requests", headers
                if fault.kind == "500":
                    return 500, "text/plain", "Internal Server Error", {}
                if fault.kind == "404":
                    return 404, "text/plain", "Not Found", {}
                if fault.kind == "slow":
                    if stand_in._stopping.wait(fault.delay):
                        return 503, "text/plain", "shutting down", {}
                if fault.kind == "empty_abstract":
                    with_abstract = False
            fixed = stand_in._fixed_for(full_path)
            if fixed is not None:
                status, ctype, body = fixed.status, fixed.content_type, fixed.body.decode("utf-8")
            else:
                status, ctype, body = stand_in._answer(service, rest, params, with_abstract)
            if fault is not None and fault.kind == "malformed":
                body = body[: max(1, len(body) // 2)]
            return status, ctype, body, {}

    return Handler
