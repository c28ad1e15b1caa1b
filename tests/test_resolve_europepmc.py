from __future__ import annotations

from pathlib import Path

import pytest
import responses

from factcheck._http import make_session
from factcheck.config import load_settings
from factcheck.errors import UpstreamError
from factcheck.resolve._parse import europepmc_sections, parse_europepmc_json
from factcheck.resolve.europepmc import EuropePMCClient
from factcheck.types import Paper, Section

try:
    from fakes import ServiceStandIn
except ImportError:  # tests/ became a package
    from tests.fakes import ServiceStandIn

FIXTURES = Path(__file__).parent / "fixtures" / "services"

PAPER = Paper(
    source="file",
    title="Mindfulness app use and anxiety in students",
    sections=(Section("Objective", "OBJECTIVE", "To test a mindfulness app."),
              Section("Results", "RESULTS", "Anxiety scores were 3 points lower (p < 0.01).")),
    doi="10.5555/fc.2023.0201",
    pmcid="PMC11110201",
    journal="Invented student health",
    year=2023,
    authors=("Ayla Demir", "Jonas Weber"),
    publication_types=("Randomized Controlled Trial", "Journal Article"),
)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def client_for(settings) -> EuropePMCClient:
    return EuropePMCClient(settings, make_session(settings))


def test_europepmc_parse_core_record() -> None:
    [paper] = parse_europepmc_json(fixture("europepmc_core.json"))
    assert paper.source == "europepmc"
    assert [(s.label, s.category) for s in paper.sections] == [
        ("Background", "BACKGROUND"), ("Methods", "METHODS"), ("Results", "RESULTS"),
        ("Conclusions", "CONCLUSIONS")]
    assert paper.sections[0].text == ("Time-restricted eating is popular but trial evidence in "
                                      "diabetes is thin.")
    # entities decoded, inline <sub>/<b> kept as text
    assert paper.sections[2].text == ("Weight fell by 1.8 kg more with fasting (p < 0.05); HbA1c "
                                      "did not differ.")
    assert paper.sections[3].text.startswith("Fasting may help")
    assert paper.title == (
        "Intermittent fasting and weight in adults with type 2 diabetes: a pilot trial.")
    assert (paper.doi, paper.pmid, paper.pmcid) == ("10.5555/fc.2022.0004", "39990004",
                                                    "PMC11110004")
    assert paper.journal == "Invented diabetes research"
    assert paper.year == 2022
    assert paper.authors == ("Claire Moreau", "Hiro Tanaka", "Nkem Obi")
    assert "Randomized Controlled Trial" in paper.publication_types
    assert paper.notices == ("ErratumIn: Invent Diabetes Res. 2022;9:e10 PMID:39990044",)
    assert paper.retracted is False


def test_europepmc_parse_retraction_comment() -> None:
    text = fixture("europepmc_core.json").replace('"Erratum in"', '"Retraction in"')
    [paper] = parse_europepmc_json(text)
    assert paper.retracted is True
    assert paper.notices[0].startswith("RetractionIn: ")


@pytest.mark.parametrize("abstract, expected", [
    (None, ()),
    ("", ()),
    ("One plain paragraph with a <i>drug</i> name.",
     (Section(None, None, "One plain paragraph with a drug name."),)),
    ("<h4>Abstract</h4>Text only.", (Section(None, None, "Text only."),)),
    ("Lead-in.<h4>Main results</h4>More.<h4>Funding</h4>",
     (Section(None, None, "Lead-in."), Section("Main results", "RESULTS", "More."))),
])
def test_europepmc_sections(abstract: str | None, expected: tuple[Section, ...]) -> None:
    assert europepmc_sections(abstract) == expected


def test_europepmc_parse_empty_and_malformed() -> None:
    assert parse_europepmc_json(fixture("europepmc_empty.json")) == []
    with pytest.raises(UpstreamError, match="Europe PMC returned malformed JSON for doi x"):
        parse_europepmc_json('{"resultList": {"result": [', "doi x")
    with pytest.raises(UpstreamError, match="resultList"):
        parse_europepmc_json('{"errCode": 500}')


@responses.activate
def test_europepmc_by_doi_query_format(tmp_path: Path) -> None:
    base = "https://epmc.test/rest/"
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path),
                                  "FACTCHECK_EUROPEPMC_URL": base})
    call = responses.get(base + "search", body=fixture("europepmc_core.json"))
    paper = client_for(settings).by_doi("10.5555/FC.2022.0004")
    assert paper is not None and paper.pmid == "39990004"
    params = call.calls[0].request.params
    assert params["query"] == 'DOI:"10.5555/fc.2022.0004"'
    assert params["resultType"] == "core"
    assert params["format"] == "json"


def test_europepmc_lookups_against_stand_in(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990201")]) as stand_in:
        client = client_for(stand_in.settings(tmp_path))
        by_doi = client.by_doi(PAPER.doi)
        assert by_doi is not None
        assert by_doi.sections == PAPER.sections
        assert by_doi.pmid == "39990201"
        assert client.by_pmid("39990201") == by_doi
        assert client.by_pmcid("pmc11110201") == by_doi
        assert client.by_doi("10.5555/unknown") is None
        assert client.by_pmid("1") is None
        queries = [r.params["query"] for r in stand_in.requests_for("europepmc")]
        assert queries[:3] == ['DOI:"10.5555/fc.2023.0201"', "EXT_ID:39990201 AND SRC:MED",
                               "PMCID:PMC11110201"]


def test_europepmc_empty_abstract_and_malformed(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990201")]) as stand_in:
        client = client_for(stand_in.settings(tmp_path))
        stand_in.inject("europepmc/search", "empty_abstract", times=1)
        paper = client.by_doi(PAPER.doi)
        assert paper is not None and paper.sections == ()
        stand_in.inject("europepmc/search", "malformed", times=1)
        with pytest.raises(UpstreamError, match="Europe PMC returned malformed JSON"):
            client.by_pmid("39990201")


def test_europepmc_503_after_retries(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990201")]) as stand_in:
        stand_in.inject("europepmc", "500")
        with pytest.raises(UpstreamError, match="Europe PMC answered HTTP 500") as info:
            client_for(stand_in.settings(tmp_path, retries=1)).by_doi(PAPER.doi)
        assert info.value.service == "europepmc"
        assert len(stand_in.requests_for("europepmc")) == 2
