"""Crossref REST client: `/works/<doi>` for metadata (and the abstract when deposited), and
`/works?query.bibliographic=` to turn a reference string into candidate papers.

Requests carry `mailto` (the polite pool). Crossref has no PMIDs, so there is no `by_pmid`.
"""

from __future__ import annotations

import logging
from typing import Mapping

from ..identifiers import require_doi
from ..types import Paper
from ._client import ServiceClient
from ._parse import parse_crossref_items, parse_crossref_json
from ._query import SearchQuery, crossref_params

logger = logging.getLogger(__name__)


class CrossrefClient(ServiceClient):
    """Look papers up in Crossref (`settings.service_urls["crossref"]`)."""

    service = "crossref"

    def _params(self, params: Mapping[str, str]) -> dict[str, str]:
        out = dict(params)
        out["mailto"] = self.settings.mailto
        return out

    def by_doi(self, doi: str) -> Paper | None:
        """The Crossref work `doi`, or None when Crossref does not know it.

        Raises:
            InputError: `doi` is not a DOI (nothing is sent).
            UpstreamError: Crossref failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        doi = require_doi(doi)
        query = f"doi {doi}"
        return self.fetch(self.path("works", *doi.split("/")), {}, query,
                          parse=lambda text: parse_crossref_json(text, query))

    def search_scored(self, reference: str, limit: int = 5) -> list[tuple[Paper, float]]:
        """(Paper, Crossref score) for a reference string (query.bibliographic), best first.

        Raises:
            UpstreamError: Crossref failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        query = f"reference {reference!r}"
        items = self.fetch("works", {"query.bibliographic": reference, "rows": str(limit)}, query,
                           parse=lambda text: parse_crossref_items(text, query))
        return items or []

    def find(self, q: SearchQuery, limit: int) -> list[Paper]:
        """Works ranked by Crossref for a search-plan query, best first (one request).

        Raises:
            UpstreamError: Crossref failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        params = crossref_params(q)
        if not any(k.startswith("query") for k in params):
            return []  # a filter alone lists every work of the period
        params["rows"] = str(limit)
        items = self.fetch("works", params, f"search {q.describe()!r}", self.settings.search_cache_ttl,
                           parse=lambda text: parse_crossref_items(text, q.describe()))
        return [paper for paper, _ in items or []]

    def search(self, reference: str, limit: int = 5) -> list[Paper]:
        """Candidate papers for a reference string, best first; unvalidated.

        Raises:
            UpstreamError: Crossref failed or answered malformed JSON.
            PaperNotFound: offline and not cached.
        """
        return [paper for paper, _score in self.search_scored(reference, limit)]
