"""Pure functions from a service's raw answer to `Paper`s; no network, no cache.

- `parse_efetch_xml`: PubMed efetch `PubmedArticleSet` XML -> [Paper]
- `parse_esearch_json`: PubMed esearch JSON -> [PMID]
- `parse_europepmc_json`: Europe PMC `search` (resultType=core) JSON -> [Paper]
- `parse_crossref_json`: Crossref `/works/<doi>` JSON (or one item of a list) -> Paper
- `parse_crossref_items`: Crossref `/works?query...` JSON -> [(Paper, score)]
- `parse_openalex_json`: OpenAlex work JSON -> Paper

Every Paper made here has `source` set to the service; DOIs are lowercased, PMCIDs start "PMC".
Every value read from an answer is checked for type (`_Shape`): a list where a string belongs, a
missing object, a number as a string, an id that is not one, all raise `UpstreamError` naming the
service and what was asked for, so a malformed answer is never cached nor taken for a paper;
identifiers the services give are validated as a request would need them (`factcheck.identifiers`:
an unusable DOI, PMID or PMCID becomes None).
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from lxml import etree

from ..errors import UpstreamError
from ..identifiers import normalize_doi, pmcid_or_none, pmid_or_none
from ..types import Paper, Section

logger = logging.getLogger(__name__)

SERVICE_NAMES = {
    "pubmed": "PubMed",
    "europepmc": "Europe PMC",
    "crossref": "Crossref",
    "openalex": "OpenAlex",
}

# PubMed CommentsCorrections RefTypes that an editor must hear about.
NOTICE_REF_TYPES = (
    "RetractionIn",
    "PartialRetractionIn",
    "ExpressionOfConcernIn",
    "ErratumIn",
    "CorrectedandRepublishedIn",
    "UpdateIn",
)
RETRACTION_REF_TYPES = ("RetractionIn",)
RETRACTED_TYPE = "Retracted Publication"

# Journal headings -> NLM categories, for services that give only the heading. Checked in order,
# against the heading's first word(s).
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("BACKGROUND", ("background", "introduction", "context", "rationale", "importance")),
    ("OBJECTIVE", ("objective", "objectives", "aim", "aims", "purpose", "goal", "goals")),
    ("METHODS", ("method", "methods", "design", "setting", "participants", "patients",
                 "materials", "intervention", "interventions", "measurements", "main outcome",
                 "study design", "data sources", "methodology")),
    ("RESULTS", ("result", "results", "findings", "main results")),
    ("CONCLUSIONS", ("conclusion", "conclusions", "interpretation", "discussion",
                     "implications")),
)

_WS = re.compile(r"\s+")
# A tag must start with a letter, so "p <0.05" in HTML-ish text survives tag stripping.
_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b", re.ASCII)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def category_for(label: str | None) -> str | None:
    """The NLM category a journal heading stands for ("Main results" -> RESULTS), else None."""
    if not label:
        return None
    norm = _WS.sub(" ", re.sub(r"[^a-z ]", " ", label.lower())).strip()
    if not norm:
        return None
    if norm.upper() in {"BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS",
                        "UNASSIGNED"}:
        return norm.upper()
    for category, words in _CATEGORY_WORDS:
        for word in words:
            if norm == word or norm.startswith(word + " "):
                return category
    return None


def clean_text(text: str | None) -> str:
    """Collapse whitespace runs to one space and strip the ends."""
    return _WS.sub(" ", text or "").strip()


def _strip_markup(fragment: str) -> str:
    """Text of an HTML/JATS fragment: paragraphs become spaces, tags go, entities decode."""
    fragment = re.sub(r"</(?:jats:)?p>|<br\s*/?>", " ", fragment, flags=re.I)
    return clean_text(html.unescape(_TAG.sub("", fragment)))


def _headed_sections(fragment: str, heading: re.Pattern[str]) -> tuple[Section, ...]:
    """Split a fragment at its headings into Sections; text before the first heading is unlabelled.

    A heading of "Abstract" carries no information and is dropped; empty parts are skipped.
    """
    parts: list[tuple[str | None, str]] = []
    pos, label = 0, None
    for match in heading.finditer(fragment):
        parts.append((label, fragment[pos:match.start()]))
        label = _strip_markup(match.group(1)) or None
        pos = match.end()
    parts.append((label, fragment[pos:]))
    sections = []
    for label, body in parts:
        text = _strip_markup(body)
        if not text:
            continue
        if label and label.rstrip(":. ").lower() == "abstract":
            label = None
        label = label.rstrip(": ") if label else None
        sections.append(Section(label=label, category=category_for(label), text=text))
    return tuple(sections)


def _malformed(service: str, what: str, query: str | None, exc: Exception) -> UpstreamError:
    name = SERVICE_NAMES.get(service, service)
    where = f" for {query}" if query else ""
    detail = clean_text(str(exc))
    if len(detail) > 200:
        detail = detail[:200] + "…"
    return UpstreamError(f"{name} returned malformed {what}{where}: {detail}; nothing was cached, "
                         "try again later", service=service, query=query)


def load_json(text: str, service: str, query: str | None = None) -> Any:
    """Parse a JSON answer, or raise `UpstreamError` ("Crossref returned malformed JSON ...")."""
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        page = isinstance(text, str) and text.lstrip().startswith("<")
        reason = ValueError("an HTML or XML page, not JSON") if page else exc
        raise _malformed(service, "JSON", query, reason) from exc


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "missing"}.get(type(value), "?")


def _expect(value: Any, kind: type, service: str, query: str | None, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        expected = _kind(kind()) if kind in (dict, list, str, int, float, bool) else kind.__name__
        raise _malformed(service, "JSON", query, ValueError(f"{what} is {_kind(value)}, not "
                                                            f"{expected}"))
    return value


class _Shape:
    """Typed reads of one JSON answer: every value read is checked for type, and a surprise (a
    list where a string belongs, a missing object, a number as a string) is the service's
    malformed answer (`UpstreamError`), never a traceback or a wrong Paper."""

    def __init__(self, service: str, query: str | None):
        self.service = service
        self.query = query

    def need(self, value: Any, kind: type, what: str) -> Any:
        """`value`, which must be of `kind` (missing is an error)."""
        return _expect(value, kind, self.service, self.query, what)

    def obj(self, value: Any, what: str) -> dict[str, Any]:
        """An object, or {} when missing (null)."""
        return {} if value is None else self.need(value, dict, what)

    def items(self, value: Any, what: str) -> list[Any]:
        """A list, or [] when missing."""
        return [] if value is None else self.need(value, list, what)

    def objs(self, value: Any, what: str) -> list[dict[str, Any]]:
        """A list of objects, or [] when missing."""
        return [self.need(v, dict, f"{what}[{i}]") for i, v in enumerate(self.items(value, what))]

    def text(self, value: Any, what: str) -> str | None:
        """A string, or None when missing."""
        return None if value is None else self.need(value, str, what)

    def texts(self, value: Any, what: str) -> list[str]:
        """A list of strings (a lone string counts as a list of one), or [] when missing."""
        if isinstance(value, str):
            return [value]
        return [self.need(v, str, f"{what}[{i}]") for i, v in enumerate(self.items(value, what))]

    def token(self, value: Any, what: str) -> str | None:
        """An identifier or year given as a string or an integer, as a string; None if missing."""
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.need(value, str, what)

    def integer(self, value: Any, what: str) -> int | None:
        """An integer (never a boolean or a string), or None when missing."""
        return None if value is None else self.need(value, int, what)

    def number(self, value: Any, what: str) -> float:
        """A finite number (int or float, never a string or a boolean); 0.0 when missing."""
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.bad(what, value, "a number")
        out = float(value)
        if out != out or out in (float("inf"), float("-inf")):
            raise self.bad(what, value, "a finite number")
        return out

    def flag(self, value: Any, what: str) -> bool:
        """A boolean; False when missing."""
        return False if value is None else bool(self.need(value, bool, what))

    def bad(self, what: str, value: Any, expected: str) -> UpstreamError:
        shown = value if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else _kind(value)
        return _malformed(self.service, "JSON", self.query,
                          ValueError(f"{what} is {shown}, not {expected}"))


# -- PubMed -----------------------------------------------------------------------------------

def _xml_root(xml: str, service: str, query: str | None) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=True)
    try:
        # lxml refuses str input that carries an encoding declaration; the text is decoded already.
        root = etree.fromstring(_XML_DECL.sub("", xml.lstrip("\ufeff"), count=1).lstrip(), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _malformed(service, "XML", query, exc) from exc
    if root is None:
        raise _malformed(service, "XML", query, ValueError("no root element"))
    return root


def _text(el: etree._Element | None) -> str:
    """All text inside `el`, inline markup (<i>, <sup>, <b>) included, whitespace collapsed."""
    if el is None:
        return ""
    return clean_text("".join(t for t in el.itertext() if isinstance(t, str)))


def _year(text: str | None) -> int | None:
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def _pubmed_article(article_el: etree._Element, query: str | None) -> Paper:
    citation = article_el.find("MedlineCitation")
    if citation is None:
        citation = etree.Element("MedlineCitation")
    pmid = pmid_or_none(_text(citation.find("PMID")))
    if pmid is None:
        # a record without its own id cannot be told from another: the answer is broken
        raise _malformed("pubmed", "XML", query,
                         ValueError("a PubmedArticle has no MedlineCitation/PMID of digits"))
    art = citation.find("Article")
    if art is None:
        art = etree.Element("Article")

    sections = []
    for el in art.findall("Abstract/AbstractText"):
        text = _text(el)
        if not text:
            continue  # <AbstractText/> and whitespace-only parts occur
        label = clean_text(el.get("Label")) or None
        category = clean_text(el.get("NlmCategory")).upper() or None
        sections.append(Section(label=label, category=category, text=text))

    journal = art.find("Journal")
    journal_title = None
    year = None
    if journal is not None:
        journal_title = (_text(journal.find("Title")) or _text(journal.find("ISOAbbreviation"))
                         or None)
        pub_date = journal.find("JournalIssue/PubDate")
        if pub_date is not None:
            year = _year(_text(pub_date.find("Year"))) or _year(_text(pub_date.find("MedlineDate")))
    if year is None:
        year = _year(_text(art.find("ArticleDate/Year")))
    published = _pubmed_date(art.find("ArticleDate")) or (
        _pubmed_date(journal.find("JournalIssue/PubDate")) if journal is not None else None)
    if journal_title is None:
        journal_title = _text(citation.find("MedlineJournalInfo/MedlineTA")) or None

    authors = []
    for author in art.findall("AuthorList/Author"):
        if author.get("ValidYN", "Y") == "N":
            continue
        collective = _text(author.find("CollectiveName"))
        last = _text(author.find("LastName"))
        fore = _text(author.find("ForeName")) or _text(author.find("Initials"))
        name = " ".join(p for p in (fore, last) if p) or collective
        if name:
            authors.append(name)

    doi = pmcid = None
    pubmed_data = article_el.find("PubmedData")
    if pubmed_data is not None:
        for aid in pubmed_data.findall("ArticleIdList/ArticleId"):
            kind, value = aid.get("IdType"), _text(aid)
            if kind == "doi" and value and doi is None:
                doi = normalize_doi(value)
            elif kind == "pmc" and value and pmcid is None:
                pmcid = pmcid_or_none(value)
    if doi is None:
        for loc in art.findall("ELocationID"):
            if loc.get("EIdType") == "doi" and loc.get("ValidYN", "Y") != "N" and _text(loc):
                doi = normalize_doi(_text(loc))
                break

    type_els = art.findall("PublicationTypeList/PublicationType")
    types = tuple(t for t in (_text(el) for el in type_els) if t)
    notices = []
    retracted = RETRACTED_TYPE in types
    for cc in citation.findall("CommentsCorrectionsList/CommentsCorrections"):
        ref_type = cc.get("RefType", "")
        if ref_type not in NOTICE_REF_TYPES:
            continue
        source = _text(cc.find("RefSource"))
        ref_pmid = pmid_or_none(_text(cc.find("PMID")))
        notice = f"{ref_type}: {source}" if source else ref_type
        if ref_pmid:
            notice += f" PMID:{ref_pmid}"
        notices.append(notice)
        if ref_type in RETRACTION_REF_TYPES:
            retracted = True

    return Paper(
        source="pubmed",
        title=_text(art.find("ArticleTitle")) or None,
        sections=tuple(sections),
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        journal=journal_title,
        year=year,
        authors=tuple(authors),
        publication_types=types,
        retracted=retracted,
        notices=tuple(notices),
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
        published=published,
    )


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DIGITS = re.compile(r"[0-9]{1,4}")


def _iso(year: object, month: object = None, day: object = None) -> str | None:
    """"2019-03-05", "2019-03" or "2019" from date parts (month as a number or a name)."""
    y = _year(str(year or ""))
    if y is None:
        return None
    m = str(month or "").strip()
    mm = int(m) if _DIGITS.fullmatch(m) else _MONTHS.get(m[:3].lower())
    if not mm or not 1 <= mm <= 12:
        return str(y)
    d = str(day or "").strip()
    return f"{y}-{mm:02d}-{int(d):02d}" if _DIGITS.fullmatch(d) and 1 <= int(d) <= 31 \
        else f"{y}-{mm:02d}"


def _pubmed_date(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return _iso(_text(el.find("Year")), _text(el.find("Month")), _text(el.find("Day")))


def parse_efetch_xml(xml: str, query: str | None = None) -> list[Paper]:
    """Papers from a PubMed efetch answer (`PubmedArticleSet` XML).

    Each AbstractText becomes a Section with its `Label` and `NlmCategory`; all text inside the
    element is read, inline markup included; empty elements are skipped. Book records
    (`PubmedBookArticle`) are ignored.

    Args:
        xml: the response text.
        query: what was asked for, for the error message.

    Returns:
        One Paper per `PubmedArticle`, in document order (empty when none).

    Raises:
        UpstreamError: the text is not well-formed XML, not a PubmedArticleSet, or holds an
            article without a PMID.
    """
    root = _xml_root(xml, "pubmed", query)
    if root.tag == "PubmedArticle":
        return [_pubmed_article(root, query)]
    if root.tag != "PubmedArticleSet":
        tag = root.tag if isinstance(root.tag, str) else "?"
        raise _malformed("pubmed", "XML", query,
                         ValueError(f"root element is <{tag[:40]}>, not <PubmedArticleSet>"))
    return [_pubmed_article(el, query) for el in root.findall("PubmedArticle")]


def parse_esearch_json(text: str, query: str | None = None) -> list[str]:
    """The PMIDs of a PubMed esearch answer (`esearchresult.idlist`), best first.

    Raises:
        UpstreamError: the text is not JSON, has no `esearchresult` object, or lists an id
            that is not a PMID.
    """
    shape = _Shape("pubmed", query)
    data = shape.need(load_json(text, "pubmed", query), dict, "the answer")
    result = shape.need(data.get("esearchresult"), dict, "esearchresult")
    if result.get("ERROR"):
        logger.info("pubmed esearch error for %s: %s", query, clean_text(str(result["ERROR"])))
    pmids = []
    for i, value in enumerate(shape.items(result.get("idlist"), "esearchresult.idlist")):
        pmid = pmid_or_none(shape.token(value, f"esearchresult.idlist[{i}]"))
        if pmid is None:
            raise shape.bad(f"esearchresult.idlist[{i}]", value, "a PMID")
        pmids.append(pmid)
    return pmids


# -- Europe PMC -------------------------------------------------------------------------------

_H4 = re.compile(r"<h4[^>]*>(.*?)</h4>", re.I | re.S)


def europepmc_sections(abstract_text: str | None) -> tuple[Section, ...]:
    """Sections of a Europe PMC `abstractText`: HTML-ish, headings as `<h4>`."""
    if not abstract_text:
        return ()
    return _headed_sections(abstract_text, _H4)


def _europepmc_record(rec: dict[str, Any], shape: _Shape) -> Paper:
    journal_info = shape.obj(rec.get("journalInfo"), "journalInfo")
    journal = shape.obj(journal_info.get("journal"), "journalInfo.journal")
    journal_title = (shape.text(journal.get("title"), "journal.title")
                     or shape.text(journal.get("isoabbreviation"), "journal.isoabbreviation")
                     or shape.text(journal.get("medlineAbbreviation"),
                                   "journal.medlineAbbreviation") or None)
    year = _year(shape.token(rec.get("pubYear"), "pubYear")) or _year(
        shape.token(journal_info.get("yearOfPublication"), "journalInfo.yearOfPublication"))
    authors = []
    author_list = shape.obj(rec.get("authorList"), "authorList")
    for author in shape.objs(author_list.get("author"), "authorList.author"):
        parts = (shape.text(author.get("firstName"), "author.firstName"),
                 shape.text(author.get("lastName"), "author.lastName"))
        name = " ".join(p for p in parts if p)
        name = (name or shape.text(author.get("collectiveName"), "author.collectiveName")
                or shape.text(author.get("fullName"), "author.fullName") or "")
        if clean_text(name):
            authors.append(clean_text(name))
    author_string = shape.text(rec.get("authorString"), "authorString")
    if not authors and author_string:
        authors = [clean_text(a) for a in author_string.rstrip(".").split(",") if a.strip()]
    types = tuple(shape.texts(shape.obj(rec.get("pubTypeList"), "pubTypeList").get("pubType"),
                              "pubTypeList.pubType"))
    notices = []
    retracted = RETRACTED_TYPE.lower() in {t.lower() for t in types}
    corrections = shape.obj(rec.get("commentCorrectionList"), "commentCorrectionList")
    for cc in shape.objs(corrections.get("commentCorrection"),
                         "commentCorrectionList.commentCorrection"):
        kind = shape.text(cc.get("type"), "commentCorrection.type") or ""
        low = kind.lower()
        if not any(w in low for w in ("retraction in", "erratum in", "expression of concern in",
                                      "correction in", "update in")):
            continue
        ref_type = kind.title().replace(" ", "")  # "Retraction in" -> "RetractionIn"
        source = clean_text(shape.text(cc.get("reference"), "commentCorrection.reference")
                            or shape.text(cc.get("note"), "commentCorrection.note") or "")
        notice = f"{ref_type}: {source}" if source else ref_type
        ref_pmid = pmid_or_none(shape.token(cc.get("id"), "commentCorrection.id"))
        if ref_pmid and (shape.text(cc.get("source"), "commentCorrection.source")
                         or "MED") == "MED":
            notice += f" PMID:{ref_pmid}"
        notices.append(notice)
        if low.startswith("retraction in"):
            retracted = True
    src = shape.text(rec.get("source"), "source")
    rid = shape.token(rec.get("id"), "id")
    return Paper(
        source="europepmc",
        title=clean_text(_strip_markup(shape.text(rec.get("title"), "title") or "")) or None,
        sections=europepmc_sections(shape.text(rec.get("abstractText"), "abstractText")),
        doi=normalize_doi(shape.text(rec.get("doi"), "doi")),
        pmid=pmid_or_none(shape.token(rec.get("pmid"), "pmid")),
        pmcid=pmcid_or_none(shape.token(rec.get("pmcid"), "pmcid")),
        journal=clean_text(journal_title) or None,
        year=year,
        authors=tuple(authors),
        publication_types=types,
        retracted=retracted,
        notices=tuple(notices),
        url=(f"https://europepmc.org/article/{quote(src, safe='')}/{quote(rid, safe='')}"
             if src and rid else None),
        published=_iso_text(
            shape.text(rec.get("firstPublicationDate"), "firstPublicationDate")
            or shape.text(rec.get("electronicPublicationDate"), "electronicPublicationDate")
            or shape.text(journal_info.get("printPublicationDate"),
                          "journalInfo.printPublicationDate")),
    )


def _iso_text(value: str | None) -> str | None:
    """An ISO date ("2019-03-05", "2019-03", "2019") from a service's date string."""
    m = re.match(r"\s*([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?", value or "")
    return _iso(m.group(1), m.group(2), m.group(3)) if m else None


def parse_europepmc_json(text: str, query: str | None = None) -> list[Paper]:
    """Papers from a Europe PMC search answer (`resultList.result[]`, resultType=core).

    Raises:
        UpstreamError: the text is not JSON, lacks `resultList`, or a field has the wrong type.
    """
    shape = _Shape("europepmc", query)
    data = shape.need(load_json(text, "europepmc", query), dict, "the answer")
    if "resultList" not in data and ("abstractText" in data or "pmid" in data):
        records = [data]  # a single saved record
    else:
        result_list = shape.need(data.get("resultList"), dict, "resultList")
        records = shape.objs(result_list.get("result"), "resultList.result")
    return [_europepmc_record(r, shape) for r in records]


# -- Crossref ---------------------------------------------------------------------------------

_JATS_TITLE = re.compile(r"<(?:jats:)?title[^>]*>(.*?)</(?:jats:)?title>", re.I | re.S)
_JATS_SEC = re.compile(r"</?(?:jats:)?sec(?:\s[^<>]*)?>", re.I)
_CROSSREF_DATES = ("issued", "published", "published-print", "published-online", "created")


def jats_sections(abstract: str | None) -> tuple[Section, ...]:
    """Sections of a Crossref JATS abstract (`<jats:p>`, `<jats:sec><jats:title>`), untagged."""
    if not abstract:
        return ()
    return _headed_sections(_JATS_SEC.sub(" ", abstract), _JATS_TITLE)


def _crossref_dates(message: dict[str, Any], shape: _Shape) -> dict[str, list[int | None]]:
    """The first `date-parts` of each Crossref date field: {"issued": [2019, 3, 5], ...}."""
    out: dict[str, list[int | None]] = {}
    for key in _CROSSREF_DATES:
        parts = shape.items(shape.obj(message.get(key), key).get("date-parts"),
                            f"{key}.date-parts")
        if not parts:
            continue
        first = shape.items(parts[0], f"{key}.date-parts[0]")
        out[key] = [shape.integer(v, f"{key}.date-parts[0][{i}]") for i, v in enumerate(first)]
    return out


def _date_year(dates: dict[str, list[int | None]]) -> int | None:
    for key in _CROSSREF_DATES:
        parts = dates.get(key) or []
        if parts and parts[0]:
            return parts[0]
    return None


def _first(values: list[str]) -> str | None:
    return clean_text(_strip_markup(values[0])) or None if values else None


def _crossref_work(message: dict[str, Any], shape: _Shape) -> Paper:
    doi = normalize_doi(shape.need(message.get("DOI"), str, "message.DOI"))
    if doi is None:
        raise shape.bad("message.DOI", message.get("DOI"), "a DOI")
    authors = []
    for author in shape.objs(message.get("author"), "message.author"):
        parts = (shape.text(author.get("given"), "author.given"),
                 shape.text(author.get("family"), "author.family"))
        name = " ".join(p for p in parts if p) or shape.text(author.get("name"), "author.name")
        if clean_text(name):
            authors.append(clean_text(name))
    types: list[str] = []
    if (shape.text(message.get("subtype"), "message.subtype") == "preprint"
            or shape.text(message.get("type"), "message.type") == "posted-content"):
        types.append("Preprint")
    notices = []
    retracted = False
    for entry in shape.objs(message.get("updated-by"), "message.updated-by"):
        kind = (shape.text(entry.get("type"), "updated-by.type") or "").lower()
        label = shape.text(entry.get("label"), "updated-by.label") or kind.replace("_", " ").title()
        target = normalize_doi(shape.text(entry.get("DOI"), "updated-by.DOI"))
        notices.append(f"{label}: doi:{target or '?'}")
        if kind in {"retraction", "removal", "withdrawal"}:
            retracted = True
    for entry in shape.objs(message.get("update-to"), "message.update-to"):
        kind = (shape.text(entry.get("type"), "update-to.type") or "").lower()
        target = normalize_doi(shape.text(entry.get("DOI"), "update-to.DOI"))
        label = shape.text(entry.get("label"), "update-to.label") or kind.replace("_", " ").title()
        if target == doi:
            # Some publishers mark the retracted article itself with an update pointing at itself.
            notices.append(f"{label}: doi:{target}")
            if kind in {"retraction", "removal", "withdrawal"}:
                retracted = True
        else:
            notices.append(f"{label} of doi:{target}")
    for rel_type, targets in shape.obj(message.get("relation"), "message.relation").items():
        related = shape.objs(targets, f"relation.{rel_type}")
        if "retract" in rel_type.lower() and rel_type.lower().startswith("is-"):
            retracted = True
            for t in related:
                target_id = shape.token(t.get("id"), f"relation.{rel_type}.id")
                if target_id:
                    notices.append(f"{rel_type}: {target_id}")
    if retracted and RETRACTED_TYPE not in types:
        types.append(RETRACTED_TYPE)
    dates = _crossref_dates(message, shape)
    return Paper(
        source="crossref",
        title=_first(shape.texts(message.get("title"), "message.title")),
        sections=jats_sections(shape.text(message.get("abstract"), "message.abstract")),
        doi=doi,
        journal=_first(shape.texts(message.get("container-title"), "message.container-title")),
        year=_date_year(dates),
        authors=tuple(authors),
        publication_types=tuple(types),
        retracted=retracted,
        notices=tuple(dict.fromkeys(notices)),
        url=shape.text(message.get("URL"), "message.URL") or f"https://doi.org/{doi}",
        published=_date_parts(dates),
    )


def _date_parts(dates: dict[str, list[int | None]]) -> str | None:
    """The earliest of Crossref's online and print dates, as an ISO date."""
    found = []
    for key in ("published-online", "published-print", "issued", "published"):
        parts = dates.get(key) or []
        if parts and parts[0]:
            iso = _iso(*(list(parts) + [None, None])[:3])
            if iso:
                found.append(iso)
    return min(found) if found else None


def _crossref_status(data: dict[str, Any], shape: _Shape) -> None:
    status = data.get("status")
    if status is not None and status != "ok":
        raise shape.bad("status", status, '"ok"') if not isinstance(status, str) else _malformed(
            "crossref", "JSON", shape.query, ValueError(f"status is {clean_text(status)[:40]!r}"))


def parse_crossref_json(text: str, query: str | None = None) -> Paper:
    """The Paper in a Crossref `/works/<doi>` answer (`message`), or a bare work object.

    Raises:
        UpstreamError: the text is not JSON, is not a work (no DOI), or a field has the wrong
            type.
    """
    shape = _Shape("crossref", query)
    data = shape.need(load_json(text, "crossref", query), dict, "the answer")
    _crossref_status(data, shape)
    message = shape.need(data.get("message", data), dict, "message")
    if "items" in message:
        raise _malformed("crossref", "JSON", query, ValueError("a list answer, not one work"))
    return _crossref_work(message, shape)


def parse_crossref_items(text: str, query: str | None = None) -> list[tuple[Paper, float]]:
    """(Paper, Crossref relevance score) for each item of a `/works?query...` answer, in order.

    An item whose DOI no request may carry (`identifiers.doi_problem`) is left out.

    Raises:
        UpstreamError: the text is not JSON, has no `message.items`, or a field has the wrong
            type.
    """
    shape = _Shape("crossref", query)
    data = shape.need(load_json(text, "crossref", query), dict, "the answer")
    _crossref_status(data, shape)
    message = shape.need(data.get("message"), dict, "message")
    out = []
    for i, item in enumerate(shape.objs(message.get("items"), "message.items")):
        doi = shape.need(item.get("DOI"), str, f"message.items[{i}].DOI")
        if normalize_doi(doi) is None:
            logger.info("crossref: item with an unusable DOI left out: %r", doi[:80])
            continue
        out.append((_crossref_work(item, shape), shape.number(item.get("score"), "item.score")))
    return out


# -- OpenAlex ---------------------------------------------------------------------------------

def rebuild_inverted_index(index: Mapping[str, Iterable[int]] | None) -> str:
    """The abstract text from an OpenAlex `abstract_inverted_index` ({word: [positions]})."""
    if not index:
        return ""
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for pos in positions or ():
            slots[int(pos)] = word
    return clean_text(" ".join(slots[p] for p in sorted(slots)))


def _inverted_index(value: Any, shape: _Shape) -> dict[str, list[int]]:
    index = shape.obj(value, "abstract_inverted_index")
    return {word: [shape.need(p, int, f"abstract_inverted_index[{word[:20]!r}][{i}]")
                   for i, p in enumerate(shape.items(positions,
                                                     f"abstract_inverted_index[{word[:20]!r}]"))]
            for word, positions in index.items()}


def _openalex_id(value: str | None) -> str | None:
    """The last path segment of an OpenAlex id URL ("https://pubmed.ncbi.nlm.nih.gov/123")."""
    if not value:
        return None
    return value.rstrip("/").rsplit("/", 1)[-1] or None


def parse_openalex_json(text: str, query: str | None = None) -> Paper:
    """The Paper in an OpenAlex work answer; the abstract is rebuilt from its inverted index.

    Raises:
        UpstreamError: the text is not JSON, is not a work (no `id`), or a field has the wrong
            type.
    """
    shape = _Shape("openalex", query)
    work = shape.need(load_json(text, "openalex", query), dict, "the answer")
    if "results" in work and "id" not in work:
        raise _malformed("openalex", "JSON", query, ValueError("a list answer, not one work"))
    return _openalex_work(work, shape)


def parse_openalex_list(text: str, query: str | None = None) -> list[Paper]:
    """The Papers of an OpenAlex `/works?search=...` answer (`results[]`), in order.

    Raises:
        UpstreamError: the text is not JSON, has no `results` list, or a field has the wrong
            type.
    """
    shape = _Shape("openalex", query)
    data = shape.need(load_json(text, "openalex", query), dict, "the answer")
    results = shape.need(data.get("results"), list, "results")
    return [_openalex_work(shape.need(w, dict, f"results[{i}]"), shape)
            for i, w in enumerate(results)]


def _openalex_work(work: dict[str, Any], shape: _Shape) -> Paper:
    work_id = shape.need(work.get("id"), str, "id")
    ids = shape.obj(work.get("ids"), "ids")
    abstract = rebuild_inverted_index(_inverted_index(work.get("abstract_inverted_index"), shape))
    location = shape.obj(work.get("primary_location"), "primary_location")
    source = shape.obj(location.get("source"), "primary_location.source")
    authors = []
    for authorship in shape.objs(work.get("authorships"), "authorships"):
        author = shape.obj(authorship.get("author"), "authorships.author")
        name = (shape.text(author.get("display_name"), "author.display_name")
                or shape.text(authorship.get("raw_author_name"), "authorships.raw_author_name"))
        if clean_text(name):
            authors.append(clean_text(name))
    types: list[str] = []
    if shape.text(work.get("type"), "type") == "preprint":
        types.append("Preprint")
    retracted = shape.flag(work.get("is_retracted"), "is_retracted")
    if retracted:
        types.append(RETRACTED_TYPE)
    year = shape.integer(work.get("publication_year"), "publication_year")
    doi = normalize_doi(shape.text(work.get("doi"), "doi") or shape.text(ids.get("doi"), "ids.doi"))
    return Paper(
        source="openalex",
        title=clean_text(shape.text(work.get("title"), "title")
                         or shape.text(work.get("display_name"), "display_name")) or None,
        sections=(Section(label=None, category=None, text=abstract),) if abstract else (),
        doi=doi,
        pmid=pmid_or_none(_openalex_id(shape.text(ids.get("pmid"), "ids.pmid"))),
        pmcid=pmcid_or_none(_openalex_id(shape.text(ids.get("pmcid"), "ids.pmcid"))),
        journal=clean_text(shape.text(source.get("display_name"), "source.display_name")) or None,
        year=year if year is not None and 1000 <= year <= 2999 else None,
        authors=tuple(authors),
        publication_types=tuple(types),
        retracted=retracted,
        url=f"https://doi.org/{doi}" if doi else (work_id or None),
        published=_iso_text(shape.text(work.get("publication_date"), "publication_date")),
    )
