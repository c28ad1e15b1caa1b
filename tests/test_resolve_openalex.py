from __future__ import annotations

from pathlib import Path

import pytest
import responses

from factcheck._http import make_session
from factcheck.config import load_settings
from factcheck.errors import UpstreamError
from factcheck.resolve._parse import parse_openalex_json, rebuild_inverted_index
from factcheck.resolve.openalex import OpenAlexClient
from factcheck.types import Paper, Section

try:
    from fakes import ServiceStandIn
except ImportError:  # tests/ became a package
    from tests.fakes import ServiceStandIn

FIXTURES = Path(__file__).parent / "fixtures" / "services"

PAPER = Paper(
    source="file",
    title="Standing desks and back pain in office workers",
    sections=(Section("Results", "RESULTS", "Pain fell by 12% at six months."),
              Section("Conclusions", "CONCLUSIONS", "Standing desks may help.")),
    doi="10.5555/fc.2021.0401",
    journal="Invented ergonomics",
    year=2021,
    authors=("Sara Lind",),
)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def client_for(settings) -> OpenAlexClient:
    return OpenAlexClient(settings, make_session(settings))


def test_openalex_rebuild_inverted_index() -> None:
    index = {"the": [0, 4], "cat": [1], "sat": [2], "on": [3], "mat.": [5]}
    assert rebuild_inverted_index(index) == "the cat sat on the mat."
    assert rebuild_inverted_index({}) == ""
    assert rebuild_inverted_index(None) == ""
    assert rebuild_inverted_index({"gap": [0], "here": [3]}) == "gap here"


def test_openalex_parse_work() -> None:
    paper = parse_openalex_json(fixture("openalex_work.json"))
    assert paper.source == "openalex"
    assert paper.abstract == ("Musicians who played in loud bands had worse hearing in tests; "
                              "earplugs may protect hearing (n = 210).")
    assert [s.label for s in paper.sections] == [None]
    assert paper.doi == "10.5555/fc.2024.0008"
    assert paper.pmid == "39990008"
    assert paper.pmcid == "PMC11110008"
    assert paper.journal == "Invented Audiology"
    assert paper.year == 2024
    assert paper.authors == ("Grete Olsen", "Kwame Mensah")
    assert paper.retracted is False


def test_openalex_parse_no_abstract_and_retracted() -> None:
    text = fixture("openalex_work.json").replace('"is_retracted": false', '"is_retracted": true')
    text = text[:text.index('"abstract_inverted_index"')] + '"abstract_inverted_index": null}'
    paper = parse_openalex_json(text)
    assert paper.sections == ()
    assert paper.retracted is True


def test_openalex_parse_malformed() -> None:
    with pytest.raises(UpstreamError, match="OpenAlex returned malformed JSON"):
        parse_openalex_json("{'single': 'quotes'}")


@responses.activate
def test_openalex_sends_api_key_and_mailto(tmp_path: Path) -> None:
    base = "https://openalex.test/"
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_OPENALEX_URL": base,
                                  "OPENALEX_API_KEY": "oa-key"})
    call = responses.get(base + "works/doi:10.5555/fc.2024.0008",
                         body=fixture("openalex_work.json"))
    paper = client_for(settings).by_doi("10.5555/FC.2024.0008")
    assert paper is not None and paper.pmid == "39990008"
    assert call.calls[0].request.params == {"api_key": "oa-key",
                                            "mailto": "factcheck@example.org"}


def test_openalex_lookups_against_stand_in(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990401")]) as stand_in:
        client = client_for(stand_in.settings(tmp_path))
        paper = client.by_doi(PAPER.doi)
        assert paper is not None
        assert paper.abstract == "Pain fell by 12% at six months. Standing desks may help."
        assert client.by_pmid("39990401") == paper
        assert client.by_doi("10.5555/unknown") is None
        assert client.by_pmid("1") is None
        assert [r.path for r in stand_in.requests_for("openalex")] == [
            "works/doi:10.5555/fc.2021.0401", "works/pmid:39990401",
            "works/doi:10.5555/unknown", "works/pmid:1"]
        assert "api_key" not in stand_in.requests_for("openalex")[0].params


def test_openalex_500_raises_upstream_error(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990401")]) as stand_in:
        stand_in.inject("openalex", "500")
        with pytest.raises(UpstreamError) as info:
            client_for(stand_in.settings(tmp_path, retries=0)).by_doi(PAPER.doi)
        assert info.value.status == 500 and info.value.service == "openalex"
