"""Europe PMC REST client: `search?query=...&resultType=core&format=json` -> Paper.

Only resultType=core carries `abstractText`; the record chosen is the one whose DOI / PMID /
PMCID equals the one asked for, never merely the first hit.
"""

from __future__ import annotations

import logging
import re

from ..identifiers import require_doi, require_pmcid, require_pmid
from ..types import Paper
from ._client import ServiceClient
from ._parse import parse_europepmc_json
from ._query import SearchQuery, europepmc_query

logger = logging.getLogger(__name__)

# A DOI or PMID query matches one record (occasionally a preprint too); a few rows are enough.
_PAGE_SIZE = "5"


class EuropePMCClient(ServiceClient):
    """Look papers up in Europe PMC (`settings.service_urls["europepmc"]`)."""

    service = "europepmc"

    def _empty_answer(self, path: str, text: str) -> bool:
        return re.search(r'"hitCount"\s*:\s*0\b', text) is not None

    def _search(self, search_query: str, query: str, page_size: str = _PAGE_SIZE,
                max_age: int | None = None) -> list[Paper]:
        papers = self.fetch("search", {"query": search_query, "resultType": "core",
                                       "format": "json", "pageSize": page_size}, query, max_age,
                            parse=lambda text: parse_europepmc_json(text, query))
        return papers or []

    def find(self, q: SearchQuery, limit: int) -> list[Paper]:
        """Papers matching a search-plan query, best first, with their abstracts (one request).

        Raises:
            UpstreamError: Europe PMC failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        query = europepmc_query(q)
        return self._search(query, f"search {query!r}", str(limit), self.settings.search_cache_ttl)

    def by_doi(self, doi: str) -> Paper | None:
        """The Europe PMC record whose DOI is `doi`, or None.

        Raises:
            InputError: `doi` is not a DOI (nothing is sent).
            UpstreamError: Europe PMC failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        doi = require_doi(doi)
        papers = self._search(f'DOI:"{doi}"', f"doi {doi}")
        matches = [p for p in papers if p.doi == doi]
        # Prefer the MEDLINE record over a preprint or a PMC-only copy of the same paper.
        matches.sort(key=lambda p: (p.pmid is None, not p.sections))
        return matches[0] if matches else None

    def by_pmid(self, pmid: str) -> Paper | None:
        """The Europe PMC record for PubMed id `pmid`, or None.

        Raises:
            InputError: `pmid` is not a PMID (nothing is sent).
            UpstreamError: Europe PMC failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        pmid = require_pmid(pmid)
        papers = self._search(f"EXT_ID:{pmid} AND SRC:MED", f"PMID {pmid}")
        return next((p for p in papers if p.pmid == pmid), None)

    def by_pmcid(self, pmcid: str) -> Paper | None:
        """The Europe PMC record for PMC id `pmcid` ("PMC1234567"), or None.

        Raises:
            InputError: `pmcid` is not a PMCID (nothing is sent).
            UpstreamError: Europe PMC failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        pmcid = require_pmcid(pmcid)
        papers = self._search(f"PMCID:{pmcid}", f"PMCID {pmcid}")
        return next((p for p in papers if (p.pmcid or "").upper() == pmcid), None)
