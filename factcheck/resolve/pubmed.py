"""NCBI E-utilities client: DOI -> PMID by esearch, abstract by efetch.

Every request carries `tool` and `email` (settings.tool, settings.mailto) and `api_key` when
`settings.ncbi_api_key` is set, as NCBI asks; the rate limiter holds the run to
`settings.service_rates["pubmed"]` (3/s without a key, 10/s with one).
"""

from __future__ import annotations

import logging
import re
from typing import Mapping

from ..identifiers import require_doi, require_pmid
from ..types import Paper
from ._client import ServiceClient
from ._parse import parse_efetch_xml, parse_esearch_json
from ._query import SearchQuery, pubmed_term

logger = logging.getLogger(__name__)

_NEEDS_QUOTES = re.compile(r'[()\[\]\s"]')


class PubMedClient(ServiceClient):
    """Look papers up in PubMed (`settings.service_urls["pubmed"]`)."""

    service = "pubmed"

    def _empty_answer(self, path: str, text: str) -> bool:
        return path.startswith("esearch") and re.search(r'"idlist"\s*:\s*\[\s*\]', text) is not None

    def _params(self, params: Mapping[str, str]) -> dict[str, str]:
        out = dict(params)
        out["tool"] = self.settings.tool
        out["email"] = self.settings.mailto
        if self.settings.ncbi_api_key:
            out["api_key"] = self.settings.ncbi_api_key
        return out

    def esearch(self, term: str, retmax: int, query: str,
                max_age: int | None = None) -> list[str]:
        """PMIDs for an esearch `term`, best first.

        Raises:
            UpstreamError: PubMed failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        pmids = self.fetch("esearch.fcgi", {"db": "pubmed", "term": term, "retmode": "json",
                                            "retmax": str(retmax)}, query, max_age,
                           parse=lambda text: parse_esearch_json(text, query))
        return pmids or []

    def efetch(self, pmids: list[str], query: str) -> list[Paper]:
        """Full records for `pmids` (one efetch request).

        Raises:
            UpstreamError: PubMed failed or answered malformed XML.
            PaperNotFound: offline and not cached.
        """
        if not pmids:
            return []
        papers = self.fetch("efetch.fcgi", {"db": "pubmed", "id": ",".join(map(require_pmid, pmids)),
                                            "retmode": "xml"}, query,
                            parse=lambda text: parse_efetch_xml(text, query))
        return papers or []

    def by_doi(self, doi: str) -> Paper | None:
        """The PubMed record whose DOI is `doi`, or None.

        Raises:
            InputError: `doi` is not a DOI (nothing is sent).
            UpstreamError: PubMed failed or answered malformed data.
            PaperNotFound: offline and not cached.
        """
        doi = require_doi(doi)
        query = f"doi {doi}"
        # PubMed's query parser would read brackets or spaces in a DOI as syntax: quote those
        term = f'"{doi}"[doi]' if _NEEDS_QUOTES.search(doi) else f"{doi}[doi]"
        pmids = self.esearch(term, 5, query)
        papers = self.efetch(pmids, query)
        for paper in papers:
            if paper.doi == doi:
                return paper
        if papers:
            # esearch matched on [doi] but the record lists it only in a form we did not parse
            logger.info("pubmed: no record lists doi %s exactly; taking PMID %s", doi,
                        papers[0].pmid)
            return papers[0] if len(papers) == 1 else None
        return None

    def by_pmid(self, pmid: str) -> Paper | None:
        """The PubMed record `pmid`, or None.

        Raises:
            InputError: `pmid` is not a PMID (nothing is sent).
            UpstreamError: PubMed failed or answered malformed XML.
            PaperNotFound: offline and not cached.
        """
        pmid = require_pmid(pmid)
        papers = self.efetch([pmid], f"PMID {pmid}")
        return next((p for p in papers if p.pmid == pmid), None)

    def search(self, reference: str, limit: int = 5) -> list[Paper]:
        """Candidate papers for free reference text (esearch term), best first; unvalidated.

        Raises:
            UpstreamError: PubMed failed or answered malformed data.
            PaperNotFound: offline and not cached.
        """
        query = f"reference {reference!r}"
        return self.efetch(self.esearch(reference, limit, query), query)

    def find(self, q: SearchQuery, limit: int) -> list[Paper]:
        """Papers matching a search-plan query, best first (esearch then one efetch).

        Raises:
            UpstreamError: PubMed failed or answered malformed data.
            PaperNotFound: offline and not cached.
        """
        term = pubmed_term(q)
        pmids = self.esearch(term, limit, f"search {term!r}", self.settings.search_cache_ttl)
        return self.efetch(pmids, f"search {term!r}")
