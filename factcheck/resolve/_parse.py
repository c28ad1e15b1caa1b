"""Pure functions from a service's raw answer to `Paper`s; no network, no cache.

- `parse_efetch_xml`: PubMed efetch `PubmedArticleSet` XML -> [Paper]
- `parse_esearch_json`: PubMed esearch JSON -> [PMID]
- `parse_europepmc_json`: Europe PMC `search` (resultType=core) JSON -> [Paper]
- `parse_crossref_json`: Crossref `/works/<doi>` JSON (or one item of a list) -> Paper
- `parse_crossref_items`: Crossref `/works?query...` JSON -> [(Paper, score)]
- `parse_openalex_json`: OpenAlex work JSON -> Paper

Every Paper made here has `source` set to the service; DOIs are lowercased, PMCIDs start "PMC".
Malformed input raises `UpstreamError` naming the service and what was asked for.
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any, Iterable

from lxml import etree

from ..errors import UpstreamError
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
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_DOI_URL = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.I)
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


def normalize_doi(doi: str | None) -> str | None:
    """A DOI without URL or "doi:" prefix, lowercased; None for empty input."""
    if not doi:
        return None
    doi = _DOI_URL.sub("", doi.strip()).strip()
    return doi.lower() or None


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
    return UpstreamError(f"{name} returned malformed {what}{where}: {exc}", service=service,
                         query=query)


def load_json(text: str, service: str, query: str | None = None) -> Any:
    """Parse a JSON answer, or raise `UpstreamError` ("Crossref returned malformed JSON ...")."""
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        raise _malformed(service, "JSON", query, exc) from exc


def _expect(value: Any, kind: type, service: str, query: str | None, what: str) -> Any:
    if not isinstance(value, kind):
        raise _malformed(service, "JSON", query,
                         ValueError(f"{what} is {type(value).__name__}, not {kind.__name__}"))
    return value


# -- PubMed -----------------------------------------------------------------------------------

def _xml_root(xml: str, service: str, query: str | None) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=True)
    try:
        # lxml refuses str input that carries an encoding declaration; the text is decoded already.
        return etree.fromstring(_XML_DECL.sub("", xml, count=1).lstrip(), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _malformed(service, "XML", query, exc) from exc


def _text(el: etree._Element | None) -> str:
    """All text inside `el`, inline markup (<i>, <sup>, <b>) included, whitespace collapsed."""
    if el is None:
        return ""
    return clean_text("".join(el.itertext()))


def _year(text: str | None) -> int | None:
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def _pubmed_article(article_el: etree._Element) -> Paper:
    citation = article_el.find("MedlineCitation")
    if citation is None:
        citation = etree.Element("MedlineCitation")
    art = citation.find("Article")
    if art is None:
        art = etree.Element("Article")
    pmid = _text(citation.find("PMID")) or None

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
                pmcid = value if value.upper().startswith("PMC") else f"PMC{value}"
            elif kind == "pubmed" and value and pmid is None:
                pmid = value
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
        ref_pmid = _text(cc.find("PMID"))
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
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None,
        published=published,
    )


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _iso(year: object, month: object = None, day: object = None) -> str | None:
    """"2019-03-05", "2019-03" or "2019" from date parts (month as a number or a name)."""
    y = _year(str(year or ""))
    if y is None:
        return None
    m = str(month or "").strip()
    mm = int(m) if m.isdigit() else _MONTHS.get(m[:3].lower())
    if not mm or not 1 <= mm <= 12:
        return str(y)
    d = str(day or "").strip()
    return f"{y}-{mm:02d}-{int(d):02d}" if d.isdigit() and 1 <= int(d) <= 31 else f"{y}-{mm:02d}"


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
        UpstreamError: the text is not well-formed XML or not a PubmedArticleSet.
    """
    root = _xml_root(xml, "pubmed", query)
    if root.tag == "PubmedArticle":
        return [_pubmed_article(root)]
    if root.tag != "PubmedArticleSet":
        raise _malformed("pubmed", "XML", query,
                         ValueError(f"root element is <{root.tag}>, not <PubmedArticleSet>"))
    return [_pubmed_article(el) for el in root.findall("PubmedArticle")]


def parse_esearch_json(text: str, query: str | None = None) -> list[str]:
    """The PMIDs of a PubMed esearch answer (`esearchresult.idlist`), best first.

    Raises:
        UpstreamError: the text is not JSON or has no `esearchresult`.
    """
    data = _expect(load_json(text, "pubmed", query), dict, "pubmed", query, "the answer")
    result = _expect(data.get("esearchresult"), dict, "pubmed", query, "esearchresult")
    if result.get("ERROR"):
        logger.info("pubmed esearch error for %s: %s", query, result["ERROR"])
    ids = result.get("idlist") or []
    return [str(i) for i in _expect(ids, list, "pubmed", query, "idlist")]


# -- Europe PMC -------------------------------------------------------------------------------

_H4 = re.compile(r"<h4[^>]*>(.*?)</h4>", re.I | re.S)


def europepmc_sections(abstract_text: str | None) -> tuple[Section, ...]:
    """Sections of a Europe PMC `abstractText`: HTML-ish, headings as `<h4>`."""
    if not abstract_text:
        return ()
    return _headed_sections(abstract_text, _H4)


def _europepmc_record(rec: dict) -> Paper:
    journal_info = rec.get("journalInfo") or {}
    journal = journal_info.get("journal") or {}
    journal_title = (journal.get("title") or journal.get("isoabbreviation")
                     or journal.get("medlineAbbreviation") or None)
    year = _year(str(rec.get("pubYear") or "")) or _year(
        str(journal_info.get("yearOfPublication") or ""))
    authors = []
    for author in (rec.get("authorList") or {}).get("author") or []:
        if not isinstance(author, dict):
            continue
        name = " ".join(p for p in (author.get("firstName"), author.get("lastName")) if p)
        name = name or author.get("collectiveName") or author.get("fullName") or ""
        if name:
            authors.append(clean_text(name))
    if not authors and rec.get("authorString"):
        authors = [clean_text(a) for a in str(rec["authorString"]).rstrip(".").split(",")
                   if a.strip()]
    types = tuple(str(t) for t in (rec.get("pubTypeList") or {}).get("pubType") or [])
    notices = []
    retracted = RETRACTED_TYPE.lower() in {t.lower() for t in types}
    for cc in (rec.get("commentCorrectionList") or {}).get("commentCorrection") or []:
        if not isinstance(cc, dict):
            continue
        kind = str(cc.get("type") or "")
        low = kind.lower()
        if not any(w in low for w in ("retraction in", "erratum in", "expression of concern in",
                                      "correction in", "update in")):
            continue
        ref_type = kind.title().replace(" ", "")  # "Retraction in" -> "RetractionIn"
        source = clean_text(cc.get("reference") or cc.get("note") or "")
        notice = f"{ref_type}: {source}" if source else ref_type
        if cc.get("id") and (cc.get("source") or "MED") == "MED":
            notice += f" PMID:{cc['id']}"
        notices.append(notice)
        if low.startswith("retraction in"):
            retracted = True
    pmcid = rec.get("pmcid") or None
    src, rid = rec.get("source"), rec.get("id")
    return Paper(
        source="europepmc",
        title=clean_text(_strip_markup(rec.get("title") or "")) or None,
        sections=europepmc_sections(rec.get("abstractText")),
        doi=normalize_doi(rec.get("doi")),
        pmid=str(rec["pmid"]) if rec.get("pmid") else None,
        pmcid=str(pmcid) if pmcid else None,
        journal=clean_text(journal_title) or None,
        year=year,
        authors=tuple(authors),
        publication_types=types,
        retracted=retracted,
        notices=tuple(notices),
        url=f"https://europepmc.org/article/{src}/{rid}" if src and rid else None,
        published=_iso_text(rec.get("firstPublicationDate") or rec.get("electronicPublicationDate")
                            or journal_info.get("printPublicationDate")),
    )


def _iso_text(value: object) -> str | None:
    """An ISO date ("2019-03-05", "2019-03", "2019") from a service's date string."""
    m = re.match(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", str(value or ""))
    return _iso(m.group(1), m.group(2), m.group(3)) if m else None


def parse_europepmc_json(text: str, query: str | None = None) -> list[Paper]:
    """Papers from a Europe PMC search answer (`resultList.result[]`, resultType=core).

    Raises:
        UpstreamError: the text is not JSON or lacks `resultList`.
    """
    data = _expect(load_json(text, "europepmc", query), dict, "europepmc", query, "the answer")
    if "resultList" not in data and ("abstractText" in data or "pmid" in data):
        records = [data]  # a single saved record
    else:
        result_list = _expect(data.get("resultList"), dict, "europepmc", query, "resultList")
        records = _expect(result_list.get("result") or [], list, "europepmc", query, "result")
    return [_europepmc_record(r) for r in records if isinstance(r, dict)]


# -- Crossref ---------------------------------------------------------------------------------

_JATS_TITLE = re.compile(r"<(?:jats:)?title[^>]*>(.*?)</(?:jats:)?title>", re.I | re.S)
_JATS_SEC = re.compile(r"</?(?:jats:)?sec(?:\s[^<>]*)?>", re.I)


def jats_sections(abstract: str | None) -> tuple[Section, ...]:
    """Sections of a Crossref JATS abstract (`<jats:p>`, `<jats:sec><jats:title>`), untagged."""
    if not abstract:
        return ()
    return _headed_sections(_JATS_SEC.sub(" ", abstract), _JATS_TITLE)


def _date_year(message: dict) -> int | None:
    for key in ("issued", "published", "published-print", "published-online", "created"):
        parts = (message.get(key) or {}).get("date-parts") or []
        if parts and parts[0] and parts[0][0]:
            try:
                return int(parts[0][0])
            except (TypeError, ValueError):
                continue
    return None


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return clean_text(_strip_markup(str(value))) if value else None


def _crossref_work(message: dict) -> Paper:
    doi = normalize_doi(message.get("DOI"))
    authors = []
    for author in message.get("author") or []:
        if not isinstance(author, dict):
            continue
        name = " ".join(p for p in (author.get("given"), author.get("family")) if p)
        name = name or author.get("name") or ""
        if name:
            authors.append(clean_text(name))
    types: list[str] = []
    if message.get("subtype") == "preprint" or message.get("type") == "posted-content":
        types.append("Preprint")
    notices = []
    retracted = False
    for entry in message.get("updated-by") or []:
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type") or "").lower()
        label = entry.get("label") or kind.replace("_", " ").title()
        notices.append(f"{label}: doi:{normalize_doi(entry.get('DOI')) or '?'}")
        if kind in {"retraction", "removal", "withdrawal"}:
            retracted = True
    for entry in message.get("update-to") or []:
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type") or "").lower()
        target = normalize_doi(entry.get("DOI"))
        label = entry.get("label") or kind.replace("_", " ").title()
        if target == doi:
            # Some publishers mark the retracted article itself with an update pointing at itself.
            notices.append(f"{label}: doi:{target}")
            if kind in {"retraction", "removal", "withdrawal"}:
                retracted = True
        else:
            notices.append(f"{label} of doi:{target}")
    for rel_type, targets in (message.get("relation") or {}).items():
        if "retract" in rel_type.lower() and rel_type.lower().startswith("is-"):
            retracted = True
            for t in targets if isinstance(targets, list) else []:
                if isinstance(t, dict) and t.get("id"):
                    notices.append(f"{rel_type}: {t['id']}")
    if retracted and RETRACTED_TYPE not in types:
        types.append(RETRACTED_TYPE)
    return Paper(
        source="crossref",
        title=_first(message.get("title")),
        sections=jats_sections(message.get("abstract")),
        doi=doi,
        journal=_first(message.get("container-title")),
        year=_date_year(message),
        authors=tuple(authors),
        publication_types=tuple(types),
        retracted=retracted,
        notices=tuple(dict.fromkeys(notices)),
        url=message.get("URL") or (f"https://doi.org/{doi}" if doi else None),
        published=_date_parts(message),
    )


def _date_parts(message: dict) -> str | None:
    """The earliest of Crossref's online and print dates, as an ISO date."""
    found = []
    for key in ("published-online", "published-print", "issued", "published"):
        parts = (message.get(key) or {}).get("date-parts") or []
        if parts and isinstance(parts[0], list) and parts[0] and parts[0][0]:
            iso = _iso(*(list(parts[0]) + [None, None])[:3])
            if iso:
                found.append(iso)
    return min(found) if found else None


def parse_crossref_json(text: str, query: str | None = None) -> Paper:
    """The Paper in a Crossref `/works/<doi>` answer (`message`), or a bare work object.

    Raises:
        UpstreamError: the text is not JSON or is not a work.
    """
    data = _expect(load_json(text, "crossref", query), dict, "crossref", query, "the answer")
    message = data.get("message", data)
    message = _expect(message, dict, "crossref", query, "message")
    if "items" in message:
        raise _malformed("crossref", "JSON", query, ValueError("a list answer, not one work"))
    return _crossref_work(message)


def parse_crossref_items(text: str, query: str | None = None) -> list[tuple[Paper, float]]:
    """(Paper, Crossref relevance score) for each item of a `/works?query...` answer, in order.

    Raises:
        UpstreamError: the text is not JSON or has no `message.items`.
    """
    data = _expect(load_json(text, "crossref", query), dict, "crossref", query, "the answer")
    message = _expect(data.get("message"), dict, "crossref", query, "message")
    items = _expect(message.get("items") or [], list, "crossref", query, "items")
    return [(_crossref_work(i), float(i.get("score") or 0.0)) for i in items
            if isinstance(i, dict)]


# -- OpenAlex ---------------------------------------------------------------------------------

def rebuild_inverted_index(index: dict[str, Iterable[int]] | None) -> str:
    """The abstract text from an OpenAlex `abstract_inverted_index` ({word: [positions]})."""
    if not index:
        return ""
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for pos in positions or ():
            slots[int(pos)] = word
    return clean_text(" ".join(slots[p] for p in sorted(slots)))


def _openalex_id(value: Any, prefix: str = "") -> str | None:
    if not value:
        return None
    tail = str(value).rstrip("/").rsplit("/", 1)[-1]
    if prefix and not tail.upper().startswith(prefix):
        tail = prefix + tail
    return tail or None


def parse_openalex_json(text: str, query: str | None = None) -> Paper:
    """The Paper in an OpenAlex work answer; the abstract is rebuilt from its inverted index.

    Raises:
        UpstreamError: the text is not JSON or is not a work.
    """
    work = _expect(load_json(text, "openalex", query), dict, "openalex", query, "the answer")
    if "results" in work and "id" not in work:
        raise _malformed("openalex", "JSON", query, ValueError("a list answer, not one work"))
    return _openalex_work(work)


def parse_openalex_list(text: str, query: str | None = None) -> list[Paper]:
    """The Papers of an OpenAlex `/works?search=...` answer (`results[]`), in order.

    Raises:
        UpstreamError: the text is not JSON or has no `results` list.
    """
    data = _expect(load_json(text, "openalex", query), dict, "openalex", query, "the answer")
    results = _expect(data.get("results"), list, "openalex", query, "results")
    return [_openalex_work(w) for w in results if isinstance(w, dict)]


def _openalex_work(work: dict) -> Paper:
    ids = work.get("ids") or {}
    abstract = rebuild_inverted_index(work.get("abstract_inverted_index"))
    source = ((work.get("primary_location") or {}).get("source") or {})
    authors = []
    for authorship in work.get("authorships") or []:
        name = ((authorship or {}).get("author") or {}).get("display_name") \
            or (authorship or {}).get("raw_author_name")
        if name:
            authors.append(clean_text(name))
    types: list[str] = []
    if work.get("type") == "preprint":
        types.append("Preprint")
    retracted = bool(work.get("is_retracted"))
    if retracted:
        types.append(RETRACTED_TYPE)
    year = work.get("publication_year")
    doi = normalize_doi(work.get("doi") or ids.get("doi"))
    return Paper(
        source="openalex",
        title=clean_text(work.get("title") or work.get("display_name")) or None,
        sections=(Section(label=None, category=None, text=abstract),) if abstract else (),
        doi=doi,
        pmid=_openalex_id(ids.get("pmid")),
        pmcid=_openalex_id(ids.get("pmcid"), "PMC"),
        journal=clean_text(source.get("display_name")) or None,
        year=int(str(year)) if isinstance(year, int) or str(year or "").isdigit() else None,
        authors=tuple(authors),
        publication_types=tuple(types),
        retracted=retracted,
        url=f"https://doi.org/{doi}" if doi else (work.get("id") or None),
        published=_iso_text(work.get("publication_date")),
    )
