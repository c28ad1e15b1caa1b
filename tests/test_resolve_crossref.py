from __future__ import annotations

from pathlib import Path

import pytest
import responses

from factcheck._http import make_session
from factcheck.config import load_settings
from factcheck.errors import UpstreamError
from factcheck.resolve._parse import jats_sections, parse_crossref_items, parse_crossref_json
from factcheck.resolve.crossref import CrossrefClient
from factcheck.types import Paper, Section

try:
    from fakes import ServiceStandIn
except ImportError:  # tests/ became a package
    from tests.fakes import ServiceStandIn

FIXTURES = Path(__file__).parent / "fixtures" / "services"

PAPER = Paper(
    source="file",
    title="Air filters in classrooms and asthma attacks",
    sections=(Section("Background", "BACKGROUND", "Indoor air affects asthma."),
              Section("Findings", "RESULTS", "Attacks were 20% fewer with filters & fans.")),
    doi="10.5555/fc.2022.0301",
    journal="Invented paediatric respiratory",
    year=2022,
    authors=("Lena Koch", "Omar Haddad"),
)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def client_for(settings) -> CrossrefClient:
    return CrossrefClient(settings, make_session(settings))


def test_crossref_parse_jats_sections_and_retraction() -> None:
    paper = parse_crossref_json(fixture("crossref_work_jats.json"))
    assert paper.source == "crossref"
    assert [s.label for s in paper.sections] == ["Background", "Methods", "Results", "Conclusions"]
    assert paper.sections[1].text == (
        "We pooled 14 small trials (n = 612) in a random-effects model.")
    # two paragraphs in one section are joined; entities decoded
    assert paper.sections[2].text.endswith("low risk of bias & heterogeneity was high. "
                                           "No trial reported harms.")
    assert "2 mmHg" in paper.sections[2].text
    assert paper.doi == "10.5555/fc.2021.0005"
    assert paper.pmid is None
    assert paper.journal == "Invented nutrition reviews"
    assert paper.year == 2021
    assert paper.authors == ("Lucía Ferreira", "Tom Achterberg")
    assert paper.retracted is True
    assert paper.notices == ("Retraction: doi:10.5555/fc.2023.9005",)


def test_crossref_parse_plain_abstract_and_self_update() -> None:
    paper = parse_crossref_json(fixture("crossref_work_plain.json"))
    assert paper.sections == (Section(None, None, "Among 3,400 teenagers, screen time above four "
                                      "hours a day was associated with shorter sleep."),)
    assert paper.authors == ("Ravi Menon", "Youth Sleep Consortium")
    assert paper.year == 2020
    assert paper.retracted is False
    assert paper.notices == ("Correction: doi:10.5555/fc.2020.0006",)


def test_crossref_parse_update_to_retraction_of_itself() -> None:
    text = fixture("crossref_work_plain.json").replace('"type":"correction"', '"type":"retraction"')
    assert parse_crossref_json(text).retracted is True


def test_crossref_parse_notice_record_is_not_itself_retracted() -> None:
    text = fixture("crossref_work_plain.json").replace(
        '"DOI":"10.5555/fc.2020.0006","type":"correction"',
        '"DOI":"10.5555/fc.2018.0999","type":"retraction"')
    paper = parse_crossref_json(text)
    assert paper.retracted is False
    assert paper.notices == ("Correction of doi:10.5555/fc.2018.0999",)


@pytest.mark.parametrize("abstract, labels", [
    ("<jats:p>Only text.</jats:p>", [None]),
    ("<jats:title>Abstract</jats:title><jats:p>Text.</jats:p>", [None]),
    ("<jats:sec><jats:title>Purpose</jats:title><jats:p>A.</jats:p></jats:sec>"
     "<jats:sec><jats:title>Methods</jats:title><jats:p/></jats:sec>", ["Purpose"]),
    ("<p>Untagged namespace.</p>", [None]),
])
def test_crossref_jats_sections(abstract: str, labels: list[str | None]) -> None:
    assert [s.label for s in jats_sections(abstract)] == labels


def test_crossref_parse_list_with_scores() -> None:
    items = parse_crossref_items(fixture("crossref_query.json"))
    assert [(p.doi, s) for p, s in items] == [("10.5555/fc.2021.0005", 87.5),
                                              ("10.5555/fc.2015.0007", 31.2)]


def test_crossref_parse_malformed() -> None:
    with pytest.raises(UpstreamError, match="Crossref returned malformed JSON for doi 10.1/x"):
        parse_crossref_json("<html>Bad gateway</html>", "doi 10.1/x")


@responses.activate
def test_crossref_by_doi_sends_mailto(tmp_path: Path) -> None:
    base = "https://crossref.test/"
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_CROSSREF_URL": base,
                                  "FACTCHECK_MAILTO": "desk@example.org"})
    call = responses.get(base + "works/10.5555/fc.2021.0005",
                         body=fixture("crossref_work_jats.json"))
    paper = client_for(settings).by_doi("https://doi.org/10.5555/FC.2021.0005")
    assert paper is not None and paper.retracted
    assert call.calls[0].request.params == {"mailto": "desk@example.org"}


def test_crossref_lookups_against_stand_in(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(PAPER, services={"crossref"})
        client = client_for(stand_in.settings(tmp_path))
        paper = client.by_doi(PAPER.doi)
        assert paper is not None
        assert paper.sections == PAPER.sections
        assert paper.title == PAPER.title and paper.authors == PAPER.authors
        assert client.by_doi("10.5555/unknown") is None  # 404 -> None
        assert not hasattr(client, "by_pmid")
        found = client.search_scored("Koch L. Air filters in classrooms and asthma attacks. 2022")
        assert [p.doi for p, _ in found] == [PAPER.doi]
        search = stand_in.requests_for("crossref", "works")[-1]
        assert search.params["rows"] == "5"
        assert search.params["mailto"] == "factcheck@example.org"


def test_crossref_429_then_success(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(PAPER, services={"crossref"})
        stand_in.inject("crossref/works", "429", times=2, retry_after="0")
        paper = client_for(stand_in.settings(tmp_path, retries=2)).by_doi(PAPER.doi)
        assert paper is not None
        assert stand_in.statuses("crossref") == [429, 429, 200]


def test_crossref_malformed_answer(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(PAPER, services={"crossref"})
        stand_in.inject("crossref/works", "malformed")
        with pytest.raises(UpstreamError, match="Crossref returned malformed JSON") as info:
            client_for(stand_in.settings(tmp_path)).by_doi(PAPER.doi)
        assert info.value.service == "crossref"
