"""A real local HTTP stand-in for PubMed E-utilities, Europe PMC, Crossref and OpenAlex.

`ServiceStandIn` runs a `ThreadingHTTPServer` on 127.0.0.1 (port 0, i.e. a free one) in a thread
and serves the papers it is given, rendered into each service's real answer format, so the
clients under test speak real HTTP and parse real formats:

    pubmed     GET /pubmed/esearch.fcgi?db=pubmed&term=<doi>[doi]&retmode=json  esearch JSON
               GET /pubmed/esearch.fcgi?term=<free text>                        (fuzzy title match)
               GET /pubmed/efetch.fcgi?db=pubmed&id=1,2&retmode=xml            PubmedArticleSet XML
    europepmc  GET /europepmc/search?query=DOI:"<doi>" | EXT_ID:<pmid> AND SRC:MED | PMCID:<id>
                   &resultType=core&format=json                               core JSON
    crossref   GET /crossref/works/<doi>                                      work JSON or 404
               GET /crossref/works?query.bibliographic=<text>&rows=5          work-list JSON
    openalex   GET /openalex/works/doi:<doi> | pmid:<n> | pmcid:<id>          work JSON or 404

Usage:

    paper = paper_from_seed_json(Path("../shared/seed/paper.json"))
    with ServiceStandIn(papers=[(paper, "40210000")]) as stand_in:
        stand_in.env        # {"FACTCHECK_PUBMED_URL": "http://127.0.0.1:PORT/pubmed/", ...}
        settings = stand_in.settings(tmp_path)        # load_settings(env=...) + fast test knobs
        stand_in.inject("pubmed/efetch.fcgi", "429", times=1, retry_after="0.2")
        ...
        stand_in.requests_for("pubmed")            # [RecordedRequest(service, path, params, ...)]

API:

- `ServiceStandIn(papers=(), rate_limits=None)`: `papers` items are a `Paper`, a `(Paper, pmid)`
  pair or a `StandInPaper`. A paper is served by PubMed only when it has a PMID (its own or the
  one given); without one Europe PMC serves it as a preprint-style record (source PPR).
  `rate_limits={"pubmed": 3}` answers 429 to a service's requests beyond that many per second
  (sliding window, a little slack for scheduling jitter), as NCBI does.
- `add(paper, pmid=None, services=ALL_SERVICES, abstract_in=None)`: serve a paper, only by the
  given services, and with its abstract only in `abstract_in` (default: everywhere it is served).
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
- Renderers, usable on their own: `render_efetch_xml`, `render_esearch_json`,
  `render_europepmc_json`, `render_crossref_work_json`, `render_crossref_list_json`,
  `render_openalex_json`.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree
from rapidfuzz import fuzz

from factcheck.config import Settings, load_settings
from factcheck.resolve import paper_from_file
from factcheck.types import Paper

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
    """A paper as the stand-in serves it: where it exists, and where its abstract is."""

    paper: Paper
    services: frozenset[str] = ALL_SERVICES
    abstract_in: frozenset[str] = ALL_SERVICES

    @property
    def pmid(self) -> str | None:
        return self.paper.pmid


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


def render_efetch_xml(papers: Iterable[Paper], with_abstract: bool = True) -> str:
    """PubMed efetch XML (`PubmedArticleSet`) for papers that have a PMID."""
    root = etree.Element("PubmedArticleSet")
    for paper in papers:
        art_el = _sub(root, "PubmedArticle")
        cit = _sub(art_el, "MedlineCitation", Status="MEDLINE", Owner="NLM")
        _sub(cit, "PMID", paper.pmid or "", Version="1")
        art = _sub(cit, "Article", PubModel="Print-Electronic")
        journal = _sub(art, "Journal")
        issue = _sub(journal, "JournalIssue", CitedMedium="Internet")
        pub_date = _sub(issue, "PubDate")
        if paper.year:
            _sub(pub_date, "Year", str(paper.year))
        if paper.journal:
            _sub(journal, "Title", paper.journal)
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
        pub_types = list(paper.publication_types or ("Journal Article",))
        if paper.retracted and "Retracted Publication" not in pub_types:
            pub_types.append("Retracted Publication")
        for pub_type in pub_types:
            _sub(types, "PublicationType", pub_type)
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


def render_esearch_json(pmids: Sequence[str], term: str = "") -> str:
    """PubMed esearch JSON (`esearchresult.idlist`)."""
    result: dict[str, Any] = {
        "count": str(len(pmids)), "retmax": str(len(pmids)), "retstart": "0",
        "idlist": list(pmids), "translationset": [], "querytranslation": term,
    }
    if not pmids:
        result["errorlist"] = {"phrasesnotfound": [term], "fieldsnotfound": []}
        result["warninglist"] = {"phrasesignored": [], "quotedphrasesnotfound": [],
                                 "outputmessages": ["No items found."]}
    return json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result})


def _stable_id(paper: Paper) -> int:
    return zlib.crc32((paper.doi or paper.title or "").encode("utf-8"))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _europepmc_record(paper: Paper, with_abstract: bool) -> dict[str, Any]:
    authors = []
    for name in paper.authors:
        fore, last = _split_name(name)
        authors.append({"fullName": f"{last} {_initials(fore)}".strip(), "firstName": fore,
                        "lastName": last, "initials": _initials(fore)})
    if paper.pmid:
        src, rid = "MED", paper.pmid
    else:
        src, rid = "PPR", f"PPR{_stable_id(paper) % 10**6}"
    rec: dict[str, Any] = {
        "id": rid, "source": src, "title": paper.title,
        "authorString": ", ".join(a["fullName"] for a in authors) + ("." if authors else ""),
        "authorList": {"author": authors},
        "journalInfo": {"yearOfPublication": paper.year,
                        "journal": {"title": paper.journal, "isoabbreviation": paper.journal}},
        "pubYear": str(paper.year) if paper.year else None,
        "pubTypeList": {"pubType": list(paper.publication_types or ("research-article",
                                                                     "Journal Article"))},
        "isOpenAccess": "N", "inEPMC": "N", "inPMC": "N", "hasPDF": "N",
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
    if paper.retracted and "Retracted Publication" not in rec["pubTypeList"]["pubType"]:
        rec["pubTypeList"]["pubType"].append("Retracted Publication")
    if paper.notices:
        ccs = []
        for notice in paper.notices:
            kind, source, pmid = _parse_notice(notice)
            words = re.sub(r"(?<!^)([A-Z])", r" \1", kind).lower().capitalize()  # "Retraction in"
            ccs.append({"id": pmid, "source": "MED", "reference": source, "type": words,
                        "orderIn": 0})
        rec["commentCorrectionList"] = {"commentCorrection": ccs}
    return {k: v for k, v in rec.items() if v is not None}


def render_europepmc_json(papers: Sequence[Paper], query: str = "",
                          with_abstract: bool = True) -> str:
    """Europe PMC search JSON, resultType=core."""
    return json.dumps({
        "version": "6.9", "hitCount": len(papers), "nextCursorMark": "AoE=",
        "request": {"queryString": query, "resultType": "core", "cursorMark": "*",
                    "pageSize": 25, "sort": "", "synonym": False},
        "resultList": {"result": [_europepmc_record(p, with_abstract) for p in papers]},
    })


def _crossref_message(paper: Paper, with_abstract: bool, score: float | None = None) -> dict:
    authors = []
    for i, name in enumerate(paper.authors):
        fore, last = _split_name(name)
        authors.append({"given": fore, "family": last,
                        "sequence": "first" if i == 0 else "additional", "affiliation": []})
    msg: dict[str, Any] = {
        "DOI": paper.doi, "type": "journal-article", "title": [paper.title or ""],
        "container-title": [paper.journal] if paper.journal else [],
        "author": authors, "publisher": "Stand-in Publishing",
        "issued": {"date-parts": [[paper.year]] if paper.year else [[None]]},
        "URL": f"https://doi.org/{paper.doi}", "prefix": (paper.doi or "").split("/")[0],
        "member": "1", "source": "Crossref", "is-referenced-by-count": 0,
    }
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


def render_crossref_work_json(paper: Paper, with_abstract: bool = True) -> str:
    """Crossref `/works/<doi>` JSON."""
    return json.dumps({"status": "ok", "message-type": "work", "message-version": "1.0.0",
                       "message": _crossref_message(paper, with_abstract)})


def render_crossref_list_json(scored: Sequence[tuple[Paper, float]], query: str = "",
                              rows: int = 20, with_abstract: bool = True) -> str:
    """Crossref `/works?query...` JSON: items with `score`."""
    return json.dumps({"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
                       "message": {"facets": {}, "total-results": len(scored),
                                   "items": [_crossref_message(p, with_abstract, s)
                                             for p, s in scored],
                                   "items-per-page": rows,
                                   "query": {"start-index": 0, "search-terms": query}}})


def render_openalex_json(paper: Paper, with_abstract: bool = True) -> str:
    """OpenAlex work JSON, the abstract as `abstract_inverted_index`."""
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
    return json.dumps({
        "id": wid, "doi": ids.get("doi"), "title": paper.title, "display_name": paper.title,
        "publication_year": paper.year, "type": "article", "language": "en", "ids": ids,
        "primary_location": {"is_oa": False, "landing_page_url": ids.get("doi"),
                             "source": {"id": "https://openalex.org/S1",
                                        "display_name": paper.journal, "type": "journal"}},
        "authorships": [{"author_position": "first" if i == 0 else "middle",
                         "author": {"id": f"https://openalex.org/A{i}", "display_name": name},
                         "raw_author_name": name}
                        for i, name in enumerate(paper.authors)],
        "is_retracted": paper.retracted, "is_paratext": False, "cited_by_count": 0,
        "abstract_inverted_index": index,
    })


# -- the server -------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ServiceStandIn:
    """The four literature services on one local port; see the module docstring."""

    def __init__(self, papers: Iterable[Paper | tuple[Paper, str | None] | StandInPaper] = (),
                 rate_limits: Mapping[str, float] | None = None):
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
            abstract_in: Iterable[str] | None = None) -> StandInPaper:
        """Serve `paper` (with `pmid` when given) from `services`, abstract in `abstract_in`."""
        if pmid:
            paper = replace(paper, pmid=str(pmid))
        services = frozenset(services)
        unknown = services - ALL_SERVICES
        if unknown:
            raise ValueError(f"unknown services {sorted(unknown)}; use {sorted(ALL_SERVICES)}")
        entry = StandInPaper(paper, services,
                             frozenset(abstract_in) if abstract_in is not None else services)
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

        def paper(e: StandInPaper) -> Paper:
            return e.paper

        def abstract(e: StandInPaper) -> bool:
            return with_abstract and service in e.abstract_in

        if service == "pubmed" and path == "esearch.fcgi":
            term = params.get("term", "")
            retmax = int(params.get("retmax") or 20)
            m = re.fullmatch(r"\s*(.+?)\s*\[(doi|pmid|uid)\]\s*", term, re.I)
            if m:
                value, field_ = m.group(1).strip('"').lower(), m.group(2).lower()
                ids = [e.pmid for e in entries
                       if (field_ == "doi" and (e.paper.doi or "").lower() == value)
                       or (field_ != "doi" and e.pmid == value)]
            else:
                ids = [e.pmid for _, e in _ranked(term, entries)]
            return 200, "application/json", render_esearch_json(
                [i for i in ids if i][:retmax], term)
        if service == "pubmed" and path == "efetch.fcgi":
            wanted = [i.strip() for i in params.get("id", "").split(",") if i.strip()]
            chosen = [e for pid in wanted for e in entries if e.pmid == pid]
            # efetch has one abstract switch per answer; a paper without its abstract in PubMed
            # is rendered on its own terms
            body_papers = [paper(e) if abstract(e) else replace(paper(e), sections=())
                           for e in chosen]
            return 200, "text/xml", render_efetch_xml(body_papers)
        if service == "europepmc" and path == "search":
            query = params.get("query", "")
            chosen = [e for e in entries if _europepmc_matches(query, e.paper)]
            return 200, "application/json", render_europepmc_json(
                [paper(e) if abstract(e) else replace(paper(e), sections=()) for e in chosen],
                query)
        if service == "crossref" and path == "works":
            query = params.get("query.bibliographic", "")
            rows = int(params.get("rows") or 20)
            ranked = [(e, score) for score, e in _ranked(query, entries) if e.paper.doi][:rows]
            return 200, "application/json", render_crossref_list_json(
                [(paper(e) if abstract(e) else replace(paper(e), sections=()), score)
                 for e, score in ranked], query, rows)
        if service == "crossref" and path.startswith("works/"):
            doi = path[len("works/"):].lower()
            for e in entries:
                if (e.paper.doi or "").lower() == doi:
                    return 200, "application/json", render_crossref_work_json(
                        e.paper, abstract(e))
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
                    return 200, "application/json", render_openalex_json(p, abstract(e))
            return 404, "application/json", json.dumps(
                {"error": "Not Found", "message": f"'{ident}' is not a valid OpenAlex ID"})
        return 404, "text/plain", f"stand-in: no route for /{service}/{path}"


def _ranked(text: str, entries: Sequence[StandInPaper]) -> list[tuple[float, StandInPaper]]:
    """Free-text search, best first: as PubMed ANDs a query's words over title, authors, journal
    and year, an entry holding every word ranks first; otherwise titles that resemble `text`."""
    scored = []
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    for e in entries:
        hay = " ".join([e.paper.title or "", *e.paper.authors, e.paper.journal or "",
                        str(e.paper.year or "")]).lower()
        if words and words <= set(re.findall(r"[a-z0-9]+", hay)):
            scored.append((100.0, e))
            continue
        score = fuzz.token_set_ratio(text.lower(), hay)
        if score >= 50:
            scored.append((float(score), e))
    return sorted(scored, key=lambda t: -t[0])


def _europepmc_matches(query: str, paper: Paper) -> bool:
    if m := re.fullmatch(r'\s*DOI:"?([^"]+)"?\s*', query, re.I):
        return (paper.doi or "").lower() == m.group(1).lower()
    if m := re.fullmatch(r"\s*EXT_ID:(\S+)\s+AND\s+SRC:MED\s*", query, re.I):
        return paper.pmid == m.group(1)
    if m := re.fullmatch(r"\s*PMCID:(\S+)\s*", query, re.I):
        return (paper.pmcid or "").upper() == m.group(1).upper()
    return False


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
