"""OpenAlex client: `/works/doi:<doi>`, `/works/pmid:<n>`, `/works/pmcid:<id>` -> Paper.

The abstract comes from `abstract_inverted_index` (one unlabelled section: OpenAlex keeps no
headings). `api_key` is sent when `settings.openalex_api_key` is set, `mailto` always.
"""

from __future__ import annotations

import logging
from typing import Mapping

from ..identifiers import require_doi, require_pmcid, require_pmid
from ..types import Paper
from ._client import ServiceClient
from ._parse import parse_openalex_json, parse_openalex_list
from ._query import SearchQuery, openalex_params

logger = logging.getLogger(__name__)


class OpenAlexClient(ServiceClient):
    """Look papers up in OpenAlex (`settings.service_urls["openalex"]`)."""

    service = "openalex"

    def _params(self, params: Mapping[str, str]) -> dict[str, str]:
        out = dict(params)
        out["mailto"] = self.settings.mailto
        if self.settings.openalex_api_key:
            out["api_key"] = self.settings.openalex_api_key
        return out

    def _work(self, kind: str, ident: str, query: str) -> Paper | None:
        # "works/doi:10.1000/xyz": a DOI's own slashes stay path separators, each part encoded
        return self.fetch(self.path("works", *f"{kind}:{ident}".split("/"), safe=":"), {}, query,
                          parse=lambda text: parse_openalex_json(text, query))

    def by_doi(self, doi: str) -> Paper | None:
        """The OpenAlex work with DOI `doi`, or None.

        Raises:
            InputError: `doi` is not a DOI (nothing is sent).
            UpstreamError: OpenAlex failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        doi = require_doi(doi)
        paper = self._work("doi", doi, f"doi {doi}")
        if paper is not None and paper.doi not in (None, doi):
            logger.info("openalex: asked for doi %s, got %s; ignoring it", doi, paper.doi)
            return None
        return paper

    def by_pmid(self, pmid: str) -> Paper | None:
        """The OpenAlex work for PubMed id `pmid`, or None.

        Raises:
            InputError: `pmid` is not a PMID (nothing is sent).
            UpstreamError: OpenAlex failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        pmid = require_pmid(pmid)
        return self._work("pmid", pmid, f"PMID {pmid}")

    def by_pmcid(self, pmcid: str) -> Paper | None:
        """The OpenAlex work for PMC id `pmcid`, or None.

        Raises:
            InputError: `pmcid` is not a PMCID (nothing is sent).
            UpstreamError: OpenAlex failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        pmcid = require_pmcid(pmcid)
        return self._work("pmcid", pmcid, f"PMCID {pmcid}")

    def find(self, q: SearchQuery, limit: int) -> list[Paper]:
        """Works ranked by OpenAlex for a search-plan query, best first, with abstracts.

        Raises:
            UpstreamError: OpenAlex failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        params = openalex_params(q)
        if "search" not in params:
            return []  # a filter alone lists every work of the period
        params["per-page"] = str(limit)
        papers = self.fetch("works", params, f"search {q.describe()!r}",
                            self.settings.search_cache_ttl,
                            parse=lambda text: parse_openalex_list(text, q.describe()))
        return papers or []
