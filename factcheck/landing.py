"""Landing pages: links that are not DOIs -> the DOI or PMID of the paper behind them.

Many stories link a journal's article page, a press release or a PubMed search instead of a DOI.
`follow_links` takes the story's citations, best first (the primary one before the rest), and
for each one that is a link to a page looks for the paper's identifier there:

1. a search link (`url:search` rows of `rules/citations/publisher_urls.tsv`: PubMed `?term=`,
   Europe PMC, Google Scholar): its query becomes a `reference` citation, or a PMID or DOI when
   the query is one; nothing is fetched;
2. a journal article page (a `url` row, or a link no row knows): fetched; the most trusted
   identifier on it wins, by `rules/citations/landing_meta.tsv` (citation_doi, Dublin Core,
   PRISM, citation_pmid, JSON-LD ScholarlyArticle identifiers, a doi.org link, "doi: 10.x/y" in
   the text). A PDF that names its DOI is the paper itself;
3. a press release (`url:secondary`: EurekAlert, a university newsroom): fetched and read as a
   story (`extract.extract_article`, `citations.find_citations`); its own pointer to the paper is
   taken: a DOI, PubMed or PMC link in its body, a DOI in its text, a search link. When it links
   only a journal article page, that page is fetched in turn (one hop, never more);
4. a trial registration (NCT) is kept as it is. When the story has no primary DOI, PMID or PMCID
   and ClinicalTrials.gov (API v2, `settings.service_urls["clinicaltrials"]`) lists exactly one
   results publication with a PMID for the trial, that PMID.

Every page is fetched with `fetch.fetch_page` (the story's timeouts, retries, size cap, page
cache and per-host politeness; the registry through the literature clients' cached, rate-limited
GET) and counts against `max_pages`, failed fetches too. Only http(s) URLs are fetched. A page
that cannot be fetched or read is logged and skipped (and listed in `tried` when the caller
passes a list); a FactcheckError from one page never stops the others.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Iterator, Literal, Mapping
from urllib.parse import urljoin, urlsplit

import requests
from lxml import html as lxml_html
from lxml.etree import ParserError, _Element

from .cache import Cache
from .citations import LOW_REGIONS, LinkTarget, find_citations, link_target, normalize_doi
from .config import Settings
from .errors import ExtractionError, FactcheckError, RuleError, UpstreamError
from .fetch import HostPoliteness, PaperPdfError, RobotsRules, fetch_page
from .resolve._client import ServiceClient
from .resolve._parse import load_json
from .rules import Rules
from .types import Article, Citation, CitationKind, Page

logger = logging.getLogger(__name__)

IDENTIFIER_KINDS = frozenset({"doi", "pmid", "pmcid"})
REGISTRY_SERVICE = "clinicaltrials"  # the settings.service_urls key of ClinicalTrials.gov API v2

LandingOutcome = Literal["found", "nothing", "failed", "refused", "over_budget", "skipped"]

_DOI_VALUE = re.compile(r"^\s*(?:doi:\s*|info:doi/|https?://(?:dx\.|www\.)?doi\.org/)?10\.\d{4,9}/",
                        re.IGNORECASE)
_PMID_VALUE = re.compile(r"^\s*(?:pmid:?\s*)?(\d{1,9})\s*$", re.IGNORECASE)
_PMCID_VALUE = re.compile(r"^\s*(?:pmcid:?\s*)?(PMC\d{4,9})\s*$", re.IGNORECASE)
_TEXT_DOI = re.compile(r"(?:\bdoi\b\s*:?\s*|doi\.org/)(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_SEARCH_FIELD_TAG = re.compile(r"\[[^\]]{1,40}\]")  # PubMed field tags: smith j[au], aspirin[ti]
_SEARCH_OPERATOR = re.compile(r"\b(?:AND|OR|NOT)\b|[\"()]")
_SPACE = re.compile(r"\s+")
MIN_QUERY_CHARS = 3
_LINK_WORDS: Mapping[str, str] = {"doi": "DOI link", "pmid": "PubMed link", "pmcid": "PMC link"}
_TEXT_WORDS: Mapping[str, str] = {"doi": "DOI", "pmid": "PMID", "pmcid": "PMCID"}
_KINDS: Mapping[str, CitationKind] = {"doi": "doi", "pmid": "pmid", "pmcid": "pmcid"}


@dataclass(frozen=True, slots=True)
class LandingAttempt:
    """One link `follow_links` looked at, and what came of it (for logs and report warnings)."""

    url: str  # the page, search link or registry record
    source: Literal["page", "press_release", "search", "trial"]
    outcome: LandingOutcome
    detail: str  # the new citation's quote, or why nothing was found or fetched


def follow_links(citations: tuple[Citation, ...], settings: Settings,
                 session: requests.Session | None, rules: Rules, *, max_pages: int,
                 politeness: HostPoliteness | None = None, robots: RobotsRules | None = None,
                 tried: list[LandingAttempt] | None = None) -> tuple[Citation, ...]:
    """Find the paper behind the story's links to article pages, press releases and searches.

    Args:
        citations: the story's citations (`find_citations`), best first.
        settings: timeouts, retries, `max_page_bytes`, the page cache, `host_delay`, `offline` and
            the registry's URL come from here.
        session: the run's HTTP session (the web form's public-only one keeps its guard); one is
            made and closed when None.
        rules: the loaded rules: `publisher_urls`, `landing_meta` and `landing_jsonld_types`,
            and what `extract_article` and `find_citations` read for a press release.
        max_pages: the most pages (and registry records) fetched for this story, failed fetches
            included; 0 fetches nothing (search links are still read).
        politeness: the run's per-host delay keeper; one with `settings.host_delay` when None.
        robots: the crawler's robots.txt memo; when given, pages robots.txt disallows are skipped.
        tried: when given, one LandingAttempt is appended per link looked at.

    Returns:
        The new citations only (kind doi, pmid, pmcid or reference), at most one per followed
        link, in the order of the citations they came from. Each has `quote` saying where it was
        found ("citation_doi meta tag of URL", "DOI link in press release URL"), the `score` of
        its source citation, and `primary=True` only when that source was the story's primary
        citation. A value the story already cites (as primary, or the new one is not primary) is
        not repeated.

    Raises:
        RuleError: landing_meta.tsv or publisher_urls.tsv is malformed.
    """
    vocabulary = _Vocabulary.from_rules(rules)
    own = session is None
    walker = _Walker(settings, session or _make_session(settings), rules, vocabulary,
                     max(0, max_pages), politeness or HostPoliteness(settings.host_delay),
                     robots, tried)
    has_primary_id = any(c.primary and c.kind in IDENTIFIER_KINDS for c in citations)
    ordered = sorted((c for c in citations if c.kind in ("url", "nct")),
                     key=lambda c: (not c.primary, -c.score))
    seen = {(c.kind, c.value): c.primary for c in citations}
    out: list[Citation] = []
    try:
        for citation in ordered:
            if citation.kind == "nct":
                found = walker.trial(citation.value, has_primary_id)
            else:
                found = walker.link(citation.value)
            if found is None:
                continue
            new = Citation(kind=found.kind, value=found.value, quote=found.where,
                           score=citation.score, primary=citation.primary)
            key = (new.kind, new.value)
            if key in seen and (seen[key] or not new.primary):
                logger.debug("landing: already cited: %s %s", new.kind, new.value)
                continue
            seen[key] = new.primary
            out = [c for c in out if (c.kind, c.value) != key]
            out.append(new)
    finally:
        walker.close()
        if own:
            walker.session.close()
    logger.debug("landing: %s new citation(s) from %s fetch(es)", len(out), walker.fetches)
    return tuple(out)


def _make_session(settings: Settings) -> requests.Session:
    from ._http import make_session
    return make_session(settings)


# -- the vocabulary (rules/citations/landing_meta.tsv, landing_jsonld_types.txt) -----------------


@dataclass(frozen=True, slots=True)
class _Source:
    tag: str  # a meta tag name (lowercase), "@json-ld", "@link:ROW" or "@text"
    kind: CitationKind
    trust: float


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    meta: Mapping[str, tuple[_Source, ...]]  # meta tag name -> its rows
    json_ld: Mapping[str, _Source]  # kind -> the @json-ld row
    links: tuple[tuple[str, _Source], ...]  # (publisher_urls row id, row)
    text: _Source | None
    json_ld_types: frozenset[str]

    @classmethod
    def from_rules(cls, rules: Rules) -> _Vocabulary:
        meta: dict[str, list[_Source]] = {}
        json_ld: dict[str, _Source] = {}
        links: list[tuple[str, _Source]] = []
        text: _Source | None = None
        url_rows = {row["id"] for row in rules.table("publisher_urls")}
        for number, row in enumerate(rules.table("landing_meta"), start=1):
            tag = row["tag"].strip().lower()
            kind = _KINDS.get(row["kind"].strip())
            if kind is None:
                raise RuleError(f"landing_meta.tsv row {number}: kind {row['kind']!r} is not "
                                f"one of {sorted(_KINDS)}")
            try:
                trust = float(row["trust"])
            except ValueError:
                raise RuleError(f"landing_meta.tsv row {number}: trust {row['trust']!r} is not "
                                f"a number") from None
            source = _Source(tag, kind, trust)
            if tag == "@json-ld":
                json_ld[kind] = source
            elif tag.startswith("@link:"):
                row_id = tag.partition(":")[2]
                if row_id not in url_rows:
                    raise RuleError(f"landing_meta.tsv row {number}: {tag!r} names no row of "
                                    f"publisher_urls.tsv")
                links.append((row_id, source))
            elif tag == "@text":
                if kind != "doi":
                    raise RuleError(f"landing_meta.tsv row {number}: @text finds DOIs only")
                text = source
            elif tag.startswith("@"):
                raise RuleError(f"landing_meta.tsv row {number}: unknown page-wide source "
                                f"{tag!r}; use a meta tag name, @json-ld, @link:ROW or @text")
            else:
                meta.setdefault(tag, []).append(source)
        return cls(meta={k: tuple(v) for k, v in meta.items()}, json_ld=json_ld,
                   links=tuple(links), text=text,
                   json_ld_types=rules.lexicon("landing_jsonld_types"))


# -- following one link ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    kind: CitationKind
    value: str
    where: str


@dataclass(frozen=True, slots=True)
class _Hop:
    url: str  # a journal article page a press release links


class _Walker:
    """The state of one story's link following: the fetch budget and what was fetched."""

    def __init__(self, settings: Settings, session: requests.Session, rules: Rules,
                 vocabulary: _Vocabulary, budget: int, politeness: HostPoliteness,
                 robots: RobotsRules | None, tried: list[LandingAttempt] | None):
        self.settings = settings
        self.session = session
        self.rules = rules
        self.vocabulary = vocabulary
        self.budget = budget
        self.politeness = politeness
        self.robots = robots
        self.tried = tried
        self.fetches = 0
        self.fetched: set[str] = set()
        self._cache: Cache | None = None

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def _record(self, url: str, source: Literal["page", "press_release", "search", "trial"],
                outcome: LandingOutcome, detail: str) -> None:
        if outcome == "found":
            logger.debug("landing: found %s", detail)
        elif outcome == "nothing":
            logger.info("landing: no paper identifier on %s", url)
        else:
            logger.info("landing: %s: %s (%s)", outcome.replace("_", " "), url, detail)
        if self.tried is not None:
            self.tried.append(LandingAttempt(url, source, outcome, detail))

    def link(self, url: str) -> _Found | None:
        """The paper behind one `url` citation (a page, a press release or a search link)."""
        target = link_target(url, self.rules)
        if target is not None and target.role == "search":
            return self._search(target, url, f"search link {url}")
        if target is not None and target.role == "identifier":
            return None  # find_citations already made it a doi/pmid/... citation
        if target is not None and target.role == "press_release":
            return self._press_release(url)
        return self._article_page(url, via=None)

    def _search(self, target: LinkTarget, url: str, where: str) -> _Found | None:
        found = _from_query(target.term or "", f"the query of {where}")
        if found is None:
            self._record(url, "search", "nothing", f"no usable query in {url}")
        else:
            self._record(url, "search", "found", found.where)
        return found

    def _fetch(self, url: str, source: Literal["page", "press_release"]) -> Page | _Found | None:
        """The page at `url`, the DOI of a PDF there, or None (refused, over budget, failed)."""
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            self._record(url, source, "refused", "not an http(s) URL")
            return None
        if url in self.fetched:
            self._record(url, source, "skipped", "already fetched for this story")
            return None
        if self.fetches >= self.budget:
            self._record(url, source, "over_budget",
                         f"the story's {self.budget} landing page fetch(es) are spent")
            return None
        self.fetches += 1
        self.fetched.add(url)
        try:
            page = fetch_page(url, self.settings, self.session,
                              respect_robots=self.robots is not None,
                              politeness=self.politeness, robots=self.robots)
        except PaperPdfError as exc:  # a link straight to the paper's PDF
            found = _Found("doi", exc.doi, f"DOI in the PDF at {url}")
            self._record(url, source, "found", found.where)
            return found
        except FactcheckError as exc:
            self._record(url, source, "failed", f"{type(exc).__name__}: {exc}")
            return None
        if page.content_type != "text/html":
            self._record(url, source, "failed", f"{page.content_type}, not an HTML page")
            return None
        return page

    def _article_page(self, url: str, via: str | None) -> _Found | None:
        fetched = self._fetch(url, "page")
        if fetched is None:
            return None
        if isinstance(fetched, _Found):  # a PDF naming its DOI, recorded by _fetch
            found: _Found | None = fetched
        else:
            found = _best_on_page(fetched, url, self.vocabulary, self.rules)
            if found is None:
                self._record(url, "page", "nothing", "no identifier in its tags, links or text")
                return None
            self._record(url, "page", "found", found.where)
        if found is not None and via is not None:
            found = replace(found, where=f"{found.where}, linked from press release {via}")
        return found

    def _press_release(self, url: str) -> _Found | None:
        fetched = self._fetch(url, "press_release")
        if not isinstance(fetched, Page):
            return fetched
        try:
            article = _extract(fetched, self.settings, self.rules)
        except ExtractionError as exc:
            logger.info("landing: press release not readable as a story (%s), reading the "
                        "whole page: %s", exc, url)
            found = _best_on_page(fetched, url, self.vocabulary, self.rules)
        else:
            release = _from_release(article, fetched, url, self.rules)
            if isinstance(release, _Hop):
                return self._article_page(release.url, via=url)
            if isinstance(release, LinkTarget):
                return self._search(release, release.value,
                                    f"search link {release.value} in press release {url}")
            found = release
        if found is None:
            self._record(url, "press_release", "nothing", "it links no paper and names no DOI")
            return None
        self._record(url, "press_release", "found", found.where)
        return found

    def trial(self, nct: str, has_primary_id: bool) -> _Found | None:
        """The one results publication ClinicalTrials.gov lists for the trial `nct`, if any."""
        base = self.settings.service_urls.get(REGISTRY_SERVICE)
        url = f"{base.rstrip('/')}/studies/{nct}" if base else nct
        if has_primary_id:
            # the story names its paper; the registry would only add a guess beside it
            self._record(url, "trial", "skipped", "the story already cites its paper by id")
            return None
        if not base:
            self._record(url, "trial", "skipped", "no ClinicalTrials.gov URL in the settings")
            return None
        if self.fetches >= self.budget:
            self._record(url, "trial", "over_budget",
                         f"the story's {self.budget} landing page fetch(es) are spent")
            return None
        self.fetches += 1
        try:
            registry = self._registry()
            text = registry.fetch(registry.path("studies", nct),
                                  {"fields": "protocolSection.referencesModule"},
                                  f"trial {nct}", parse=_registry_answer)
        except FactcheckError as exc:
            self._record(url, "trial", "failed", f"{type(exc).__name__}: {exc}")
            return None
        pmids = _result_pmids(text)
        if len(pmids) != 1:
            why = ("the registry lists no results publication with a PMID" if not pmids else
                   f"the registry lists {len(pmids)} results publications; which one the story "
                   f"means is not known")
            self._record(url, "trial", "nothing", why)
            return None
        found = _Found("pmid", pmids[0], f"results publication ClinicalTrials.gov lists for {nct}")
        self._record(url, "trial", "found", found.where)
        return found

    def _registry(self) -> _Registry:
        if self._cache is None:
            self._cache = Cache.from_settings(self.settings)
        return _Registry(self.settings, self.session, self._cache)


class _Registry(ServiceClient):
    """ClinicalTrials.gov API v2, through the literature clients' cache, rate limit and retries."""

    service = REGISTRY_SERVICE


def _extract(page: Page, settings: Settings, rules: Rules) -> Article:
    from .extract import extract_article  # the press release is read the way a story is
    return extract_article(page, settings, rules)


# -- reading a journal article page --------------------------------------------------------------


def _parse(markup: str) -> _Element | None:
    try:
        # bytes, so an <?xml encoding=...?> declaration in the string cannot upset lxml
        parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
        return lxml_html.document_fromstring(markup.encode("utf-8"), parser=parser)
    except (ParserError, ValueError) as exc:
        logger.debug("landing: not readable HTML: %s", exc)
        return None


def _best_on_page(page: Page, url: str, vocabulary: _Vocabulary, rules: Rules) -> _Found | None:
    """The most trusted identifier on the page (ties: the first one), or None."""
    doc = _parse(page.html)
    if doc is None:
        return None
    best: tuple[float, _Found] | None = None
    for source, kind, value, where in _candidates(doc, page.final_url or url, url, vocabulary,
                                                  rules):
        if best is None or source.trust > best[0]:  # strictly: a tie keeps the earlier one
            best = (source.trust, _Found(kind, value, where))
    return best[1] if best else None


def _candidates(doc: _Element, base: str, url: str, vocabulary: _Vocabulary,
                rules: Rules) -> Iterator[tuple[_Source, CitationKind, str, str]]:
    for element in doc.iter("meta"):
        name = (element.get("name") or element.get("property") or element.get("itemprop")
                or "").strip()
        for source in vocabulary.meta.get(name.lower(), ()):
            value = _identifier(source.kind, element.get("content"))
            if value:
                yield source, source.kind, value, f"{name} meta tag of {url}"
    if vocabulary.json_ld:
        for kind, value, field in _json_ld_identifiers(doc, vocabulary.json_ld_types, rules):
            ld_source = vocabulary.json_ld.get(kind)
            if ld_source is not None:
                yield ld_source, kind, value, f"JSON-LD {field} of {url}"
    for row_id, source in vocabulary.links:
        for element in doc.iter("a", "link"):
            href = element.get("href")
            target = link_target(urljoin(base, href.strip()), rules) if href else None
            if target is not None and target.rule_id == row_id and target.kind == source.kind:
                yield source, source.kind, target.value, f"{_link_name(row_id)} link on {url}"
                break
    if vocabulary.text is not None:
        doi = _first_text_doi(_page_text(doc))
        if doi:
            yield vocabulary.text, "doi", doi, f"DOI in the text of {url}"


def _link_name(row_id: str) -> str:
    return "doi.org" if row_id == "doi-org" else row_id


def _identifier(kind: str, value: object) -> str | None:
    """`value` as an identifier of `kind`, or None when it is something else (an ISSN, a URL)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = str(value)
    if kind == "doi":
        return normalize_doi(text) if _DOI_VALUE.match(text) else None
    if kind == "pmid":
        match = _PMID_VALUE.match(text)
        return str(int(match.group(1))) if match and int(match.group(1)) else None
    match = _PMCID_VALUE.match(text)
    return match.group(1).upper() if match else None


def _json_ld_identifiers(doc: _Element, types: frozenset[str],
                         rules: Rules) -> Iterator[tuple[CitationKind, str, str]]:
    """(kind, value, "Type field") for each identifier of a scholarly JSON-LD object."""
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            logger.debug("landing: skipping malformed JSON-LD block")
            continue
        for obj in _typed_objects(data, types):
            name = next(k for k in _as_list(obj.get("@type"))
                        if isinstance(k, str) and k.lower() in types)
            for field in ("identifier", "sameAs", "@id", "url"):
                for item in _as_list(obj.get(field)):
                    found = _ld_value(item, rules)
                    if found:
                        yield found[0], found[1], f"{name} {field}"


def _typed_objects(data: object, types: frozenset[str]) -> Iterator[dict[str, Any]]:
    """JSON-LD objects of one of `types`; a matching object's own children (its cited works,
    which are ScholarlyArticles too) are not searched."""
    if isinstance(data, list):
        for item in data:
            yield from _typed_objects(item, types)
    elif isinstance(data, dict):
        kinds = {k.lower() for k in _as_list(data.get("@type")) if isinstance(k, str)}
        if kinds & types:
            yield data
            return
        for value in data.values():
            if isinstance(value, (dict, list)):
                yield from _typed_objects(value, types)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ld_value(item: object, rules: Rules) -> tuple[CitationKind, str] | None:
    if isinstance(item, dict):  # a PropertyValue: {"propertyID": "doi", "value": "10.x/y"}
        name = str(item.get("propertyID") or item.get("name") or "").strip().lower()
        kind: CitationKind | None = ("doi" if name == "doi" else "pmid" if name in (
            "pmid", "pubmed", "pubmed id") else "pmcid" if name in ("pmcid", "pmc") else None)
        value = _identifier(kind, item.get("value")) if kind else None
        return (kind, value) if kind and value else None
    if not isinstance(item, str):
        return None
    doi = _identifier("doi", item)
    if doi:
        return "doi", doi
    if item.startswith(("http://", "https://")):
        target = link_target(item, rules)
        if target is not None and target.kind in ("pmid", "pmcid"):
            return target.kind, target.value
    return None


def _page_text(doc: _Element) -> str:
    parts = doc.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
    return "".join(str(part) for part in parts)


def _first_text_doi(text: str) -> str | None:
    """The first DOI written after a "doi" label or in a doi.org address in `text`, or None."""
    for match in _TEXT_DOI.finditer(text):
        doi = normalize_doi(match.group(1))
        if doi:
            return doi
    return None


# -- reading a press release ---------------------------------------------------------------------


def _from_release(article: Article, page: Page, url: str,
                  rules: Rules) -> _Found | _Hop | LinkTarget | None:
    """What the press release points at: the paper's id, a journal page to hop to, a search."""
    citations = find_citations(article, rules)
    in_body: set[tuple[str, str]] = set()
    in_rails: set[tuple[str, str]] = set()
    for link in article.links:
        target = link_target(link.href, rules)
        if target is not None:
            (in_rails if link.region in LOW_REGIONS else in_body).add((target.kind, target.value))

    def eligible(c: Citation) -> bool:  # a link in the body, or written in the text
        key = (c.kind, c.value)
        return key in in_body or key not in in_rails

    ids = sorted((c for c in citations if c.kind in IDENTIFIER_KINDS and eligible(c)),
                 key=lambda c: not c.primary)
    if ids:
        best = ids[0]
        if (best.kind, best.value) in in_body:
            return _Found(best.kind, best.value, f"{_LINK_WORDS[best.kind]} in press release {url}")
        return _Found(best.kind, best.value,
                      f"{_TEXT_WORDS[best.kind]} in the text of press release {url}")
    doc = _parse(page.html)  # a "DOI: 10.x/y" box the story extractor left out
    doi = _first_text_doi(_page_text(doc)) if doc is not None else None
    if doi:
        return _Found("doi", doi, f"DOI in the text of press release {url}")
    pages = [link_target(c.value, rules) for c in citations if c.kind == "url" and eligible(c)]
    for target in pages:
        if target is not None and target.role == "search":
            return target
    for target in pages:
        if target is not None and target.role == "page":
            return _Hop(target.value)
    return None


# -- search links and the trial registry ---------------------------------------------------------


def _from_query(term: str, where: str) -> _Found | None:
    """A search link's query as a citation: a PMID or DOI when it is one, else a reference."""
    cleaned = _SPACE.sub(" ", _SEARCH_FIELD_TAG.sub(" ", term)).strip()
    if re.fullmatch(r"\d{1,9}", cleaned) and int(cleaned):
        return _Found("pmid", str(int(cleaned)), where)
    doi = normalize_doi(cleaned) if _DOI_VALUE.match(cleaned) and " " not in cleaned else None
    if doi:
        return _Found("doi", doi, where)
    words = _SPACE.sub(" ", _SEARCH_OPERATOR.sub(" ", cleaned)).strip()
    if len(words) < MIN_QUERY_CHARS:
        return None
    return _Found("reference", words, where)


def _registry_answer(text: str) -> str:
    """The registry's answer, once it is a JSON object: anything else (an HTML error page, a
    truncated body) is an UpstreamError, and never cached."""
    if not isinstance(load_json(text, REGISTRY_SERVICE), dict):
        raise UpstreamError("ClinicalTrials.gov returned malformed JSON: not a study record; "
                            "nothing was cached, try again later", service=REGISTRY_SERVICE)
    return text


def _result_pmids(text: str | None) -> list[str]:
    """PMIDs of the RESULT references in a ClinicalTrials.gov API v2 study record."""
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        logger.info("landing: the registry answer is not JSON")
        return []
    module = _dig(data, "protocolSection", "referencesModule")
    out: list[str] = []
    for ref in _as_list(module.get("references") if isinstance(module, dict) else None):
        if isinstance(ref, dict) and str(ref.get("type", "")).upper() == "RESULT":
            pmid = _identifier("pmid", ref.get("pmid"))
            if pmid and pmid not in out:
                out.append(pmid)
    return out


def _dig(data: object, *keys: str) -> object:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


__all__ = ["LandingAttempt", "LandingOutcome", "follow_links"]
