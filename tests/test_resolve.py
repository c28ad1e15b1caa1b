from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from factcheck.cache import Cache
from factcheck.errors import InputError, NoAbstract, PaperNotFound, UpstreamError
from factcheck.resolve import (
    Resolver,
    citation_for_query,
    paper_from_file,
    resolve_paper,
    resolve_query,
)
from factcheck.types import Citation, Paper, Section

try:
    from fakes import ServiceStandIn, paper_from_seed_json
except ImportError:  # tests/ became a package
    from tests.fakes import ServiceStandIn, paper_from_seed_json

FIXTURES = Path(__file__).parent / "fixtures" / "services"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "paper.json"

TRIAL = Paper(
    source="file",
    title="Morning light therapy for winter depression in adolescents: a randomised trial",
    sections=(
        Section("Background", "BACKGROUND", "Winter depression often starts in adolescence."),
        Section("Methods", "METHODS", "We randomised 86 adolescents to light or sham for 6 weeks."),
        Section("Results", "RESULTS", "Depression scores fell by 4.1 points more with light."),
    ),
    doi="10.5555/fc.2023.0501",
    journal="Invented adolescent psychiatry",
    year=2023,
    authors=("Nora Vik", "Samuel Osei"),
    publication_types=("Journal Article", "Randomized Controlled Trial"),
)
OTHER = Paper(
    source="file",
    title="Salt substitutes and stroke in rural villages",
    sections=(Section(None, None, "Salt substitutes lowered stroke rates by 14%."),),
    doi="10.5555/fc.2021.0502",
    journal="Invented stroke medicine",
    year=2021,
    authors=("Li Wei",),
)


def doi(value: str, **kw) -> Citation:
    return Citation(kind="doi", value=value, **kw)


# -- the chain ----------------------------------------------------------------------------------

@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed is absent")
def test_resolve_seed_case_from_pubmed(tmp_path: Path) -> None:
    seed = paper_from_seed_json(SEED)
    with ServiceStandIn(papers=[(seed, "40210000")]) as stand_in:
        assert set(stand_in.env) == {"FACTCHECK_PUBMED_URL", "FACTCHECK_EUROPEPMC_URL",
                                     "FACTCHECK_CROSSREF_URL", "FACTCHECK_OPENALEX_URL"}
        paper = resolve_paper([doi(seed.doi, primary=True)], stand_in.settings(tmp_path))
    assert paper.source == "pubmed"
    assert paper.pmid == "40210000"
    assert paper.abstract == seed.abstract
    assert [s.label for s in paper.sections] == [s.label for s in seed.sections]
    assert paper.authors == seed.authors
    assert (paper.journal, paper.year) == ("CNS Drugs", 2025)
    assert [r.path for r in stand_in.requests] == ["esearch.fcgi", "efetch.fcgi"]


def test_resolve_doi_only_in_crossref(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(TRIAL, services={"crossref"})
        paper = resolve_paper([doi(TRIAL.doi)], stand_in.settings(tmp_path))
        assert paper.source == "crossref"
        assert paper.sections == TRIAL.sections
        assert paper.pmid is None
        assert [r.service for r in stand_in.requests] == ["pubmed", "europepmc", "crossref"]


def test_resolve_merges_metadata_from_services_without_abstract(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(TRIAL, pmid="39990501", services={"pubmed", "crossref"},
                     abstract_in={"crossref"})
        paper = resolve_paper([doi(TRIAL.doi)], stand_in.settings(tmp_path))
    assert paper.source == "crossref"
    assert paper.sections == TRIAL.sections
    assert paper.pmid == "39990501"  # from PubMed: Crossref has no PMIDs
    assert paper.publication_types == TRIAL.publication_types  # Crossref gave none


def test_resolve_pmid_citation_uses_doi_learned_from_pubmed(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(TRIAL, pmid="39990501", services={"pubmed", "crossref"},
                     abstract_in={"crossref"})
        paper = resolve_paper([Citation("pmid", "39990501")], stand_in.settings(tmp_path))
        assert paper.source == "crossref"
        assert paper.doi == TRIAL.doi and paper.pmid == "39990501"
        crossref = stand_in.requests_for("crossref")
        assert [r.path for r in crossref] == [f"works/{TRIAL.doi}"]


def test_resolve_retraction_from_any_service_is_kept(tmp_path: Path) -> None:
    retracted = replace(TRIAL, retracted=True, notices=("RetractionIn: Invent Adolesc Psychiatry. "
                                                        "2024;3:1. PMID:39990599",))
    with ServiceStandIn() as stand_in:
        stand_in.add(retracted, pmid="39990501", services={"pubmed"}, abstract_in=())
        stand_in.add(TRIAL, services={"openalex"})
        paper = resolve_paper([doi(TRIAL.doi)], stand_in.settings(tmp_path))
    assert paper.source == "openalex"
    assert paper.retracted is True
    assert paper.notices == retracted.notices


def test_resolve_no_abstract_anywhere(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(TRIAL, pmid="39990501", abstract_in=())
        with pytest.raises(NoAbstract) as info:
            resolve_paper([doi(TRIAL.doi)], stand_in.settings(tmp_path))
    message = str(info.value)
    assert message.startswith(f"found {TRIAL.title!r} (doi {TRIAL.doi}) but no service has its "
                              "abstract; tried pubmed, europepmc, crossref, openalex")
    assert info.value.paper.pmid == "39990501"  # type: ignore[attr-defined]
    assert info.value.exit_status == 2


def test_resolve_nothing_matches(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(OTHER, "39990502")]) as stand_in:
        with pytest.raises(PaperNotFound) as info:
            resolve_paper([doi("10.5555/nowhere")], stand_in.settings(tmp_path))
    assert str(info.value) == (
        "no service knows the cited paper: doi 10.5555/nowhere: pubmed (not found), "
        "europepmc (not found), crossref (not found), openalex (not found)")


def test_resolve_all_upstream_failures_raise_upstream_error(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501")]) as stand_in:
        for service in ("pubmed", "europepmc", "crossref", "openalex"):
            stand_in.inject(service, "500")
        with pytest.raises(UpstreamError) as info:
            resolve_paper([doi(TRIAL.doi)], stand_in.settings(tmp_path, retries=1))
    assert info.value.exit_status == 3
    assert info.value.service == "pubmed"
    assert "crossref (HTTP 500)" in str(info.value)


def test_resolve_one_service_down_falls_through(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501")]) as stand_in:
        stand_in.inject("pubmed", "500")
        paper = resolve_paper([doi(TRIAL.doi)], stand_in.settings(tmp_path, retries=0))
    assert paper.source == "europepmc"
    assert paper.sections == TRIAL.sections


def test_resolve_upstream_failure_plus_not_found_is_not_found(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.inject("pubmed", "429")
        with pytest.raises(PaperNotFound, match=r"pubmed \(HTTP 429\), europepmc \(not found\)"):
            resolve_paper([doi("10.5555/nowhere")], stand_in.settings(tmp_path, retries=0))


def test_resolve_primary_citation_first(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501"), (OTHER, "39990502")]) as stand_in:
        paper = resolve_paper([doi(OTHER.doi, score=0.9), doi(TRIAL.doi, primary=True)],
                              stand_in.settings(tmp_path))
    assert paper.doi == TRIAL.doi


def test_resolve_falls_back_to_the_next_citation(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501")]) as stand_in:
        paper = resolve_paper([doi("10.5555/nowhere", primary=True), Citation("nct", "NCT01"),
                               Citation("pmid", "39990501")], stand_in.settings(tmp_path))
    assert paper.pmid == "39990501"


def test_resolve_no_usable_citation() -> None:
    with pytest.raises(PaperNotFound, match="no DOI, PMID, PMCID or reference"):
        resolve_paper([Citation("nct", "NCT04278777")], settings=None,  # type: ignore[arg-type]
                      clients={})


def test_resolve_pmcid_citation(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.add(replace(TRIAL, pmcid="PMC11110501"), services={"openalex"})
        paper = resolve_paper([Citation("pmcid", "PMC11110501")], stand_in.settings(tmp_path))
    assert paper.source == "openalex" and paper.pmcid == "PMC11110501"


def test_resolve_service_order_from_settings(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501")]) as stand_in:
        settings = stand_in.settings(tmp_path, service_order=("openalex", "pubmed"))
        paper = resolve_paper([doi(TRIAL.doi)], settings)
        assert paper.source == "openalex"
        assert [r.service for r in stand_in.requests] == ["openalex"]


# -- offline and cache --------------------------------------------------------------------------

def test_resolve_offline_answers_from_cache(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501")]) as stand_in:
        settings = stand_in.settings(tmp_path)
        online = resolve_paper([doi(TRIAL.doi)], settings)
    offline = resolve_paper([doi(TRIAL.doi)], settings.with_(offline=True))
    assert offline == online
    with pytest.raises(PaperNotFound, match="offline and not cached"):
        resolve_paper([doi("10.5555/never-seen")], settings.with_(offline=True))


def test_resolve_rerun_costs_nothing(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501")]) as stand_in:
        settings = stand_in.settings(tmp_path)
        cache = Cache(settings.cache_dir, settings.cache_ttl)
        first = resolve_paper([doi(TRIAL.doi)], settings, cache=cache)
        count = len(stand_in.requests)
        assert resolve_paper([doi(TRIAL.doi)], settings, cache=cache) == first
        assert len(stand_in.requests) == count


def test_resolver_shared_across_calls(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(TRIAL, "39990501"), (OTHER, "39990502")]) as stand_in:
        with Resolver(stand_in.settings(tmp_path)) as resolver:
            assert resolver.resolve([doi(TRIAL.doi)]).doi == TRIAL.doi
            assert resolver.resolve_query(OTHER.doi.upper()).doi == OTHER.doi


# -- reference text -----------------------------------------------------------------------------

def test_resolve_reference_clear_match(tmp_path: Path) -> None:
    ref = ("Vik N, Osei S. Morning light therapy for winter depression in adolescents: a "
           "randomised trial. Invent Adolesc Psychiatry. 2023")
    with ServiceStandIn(papers=[(TRIAL, "39990501"), (OTHER, "39990502")]) as stand_in:
        paper = resolve_query(ref, stand_in.settings(tmp_path))
        assert paper.doi == TRIAL.doi and paper.source == "pubmed"
        assert stand_in.requests_for("pubmed", "esearch")[0].params["term"] == ref
        assert stand_in.requests_for("crossref")[0].params["query.bibliographic"] == ref


def test_resolve_reference_ambiguous_is_not_found(tmp_path: Path) -> None:
    twin = replace(TRIAL, doi="10.5555/fc.2023.0599",
                   title="Morning light therapy for winter depression in adolescents: a "
                         "randomised trial protocol", authors=("Eva Berg",))
    ref = "Morning light therapy for winter depression in adolescents, a randomised trial (2023)"
    with ServiceStandIn(papers=[(TRIAL, "39990501"), (twin, "39990599")]) as stand_in:
        with pytest.raises(PaperNotFound, match="no clear match"):
            resolve_query(ref, stand_in.settings(tmp_path))


def test_resolve_reference_author_and_year_break_the_tie(tmp_path: Path) -> None:
    twin = replace(TRIAL, doi="10.5555/fc.2019.0599", year=2019, authors=("Eva Berg",),
                   title="Morning light therapy for winter depression in adolescents: a "
                         "randomised trial protocol")
    ref = "Vik N et al. Morning light therapy for winter depression in adolescents. 2023"
    with ServiceStandIn(papers=[(TRIAL, "39990501"), (twin, "39990599")]) as stand_in:
        paper = resolve_query(ref, stand_in.settings(tmp_path))
    assert paper.doi == TRIAL.doi


def test_resolve_reference_wrong_year_rejected(tmp_path: Path) -> None:
    ref = "Salt substitutes and stroke in rural villages. 2009"
    with ServiceStandIn(papers=[(OTHER, "39990502")]) as stand_in:
        with pytest.raises(PaperNotFound):
            resolve_query(ref, stand_in.settings(tmp_path))


def test_resolve_reference_one_year_off_accepted(tmp_path: Path) -> None:
    ref = "Salt substitutes and stroke in rural villages. 2022"  # print year after online year
    with ServiceStandIn(papers=[(OTHER, "39990502")]) as stand_in:
        assert resolve_query(ref, stand_in.settings(tmp_path)).doi == OTHER.doi


def test_resolve_reference_found_only_in_crossref(tmp_path: Path) -> None:
    ref = "Li W. Salt substitutes and stroke in rural villages. Invent Stroke Med 2021"
    with ServiceStandIn() as stand_in:
        stand_in.add(OTHER, services={"crossref"})
        paper = resolve_query(ref, stand_in.settings(tmp_path))
        assert paper.source == "crossref" and paper.doi == OTHER.doi
        # the candidate's own record is reused, not fetched again
        assert [r.path for r in stand_in.requests_for("crossref")] == ["works"]


# -- query detection ----------------------------------------------------------------------------

@pytest.mark.parametrize("query, kind, value", [
    ("10.1007/s40263-025-01183-7", "doi", "10.1007/s40263-025-01183-7"),
    ("doi:10.5555/ABC.1", "doi", "10.5555/abc.1"),
    ("https://doi.org/10.5555/abc.1", "doi", "10.5555/abc.1"),
    ("40210000", "pmid", "40210000"),
    ("PMID: 40210000", "pmid", "40210000"),
    ("https://pubmed.ncbi.nlm.nih.gov/40210000/", "pmid", "40210000"),
    ("pmc1234567", "pmcid", "PMC1234567"),
    ("Bruun KD et al. CNS Drugs 2025", "reference", "Bruun KD et al. CNS Drugs 2025"),
])
def test_citation_for_query(query: str, kind: str, value: str) -> None:
    citation = citation_for_query(query)
    assert (citation.kind, citation.value, citation.primary) == (kind, value, True)


def test_citation_for_empty_query() -> None:
    with pytest.raises(InputError):
        citation_for_query("   ")


# -- saved files --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, doi_value", [
    ("pubmed_efetch_structured.xml", "10.5555/fc.2024.0001"),
    ("europepmc_core.json", "10.5555/fc.2022.0004"),
    ("crossref_work_jats.json", "10.5555/fc.2021.0005"),
    ("openalex_work.json", "10.5555/fc.2024.0008"),
])
def test_paper_from_file_detects_format(name: str, doi_value: str) -> None:
    paper = paper_from_file(FIXTURES / name)
    assert paper.source == "file"
    assert paper.doi == doi_value
    assert paper.abstract


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed is absent")
def test_paper_from_file_reads_the_seed_json() -> None:
    paper = paper_from_file(SEED)
    assert paper.abstract == paper_from_seed_json(SEED).abstract
    assert paper.doi == "10.1007/s40263-025-01183-7" and paper.pmid is None


def test_resolve_doi_with_brackets_is_quoted_for_pubmed(tmp_path: Path) -> None:
    odd = replace(OTHER, doi="10.5555/s0140-6736(97)11096-0")
    with ServiceStandIn(papers=[(odd, "39990503")]) as stand_in:
        paper = resolve_paper([doi(odd.doi)], stand_in.settings(tmp_path))
        assert paper.pmid == "39990503"
        assert stand_in.requests[0].params["term"] == '"10.5555/s0140-6736(97)11096-0"[doi]'


def test_paper_from_file_plain_seed_json(tmp_path: Path) -> None:
    path = tmp_path / "paper.json"
    path.write_text(json.dumps({"doi": "10.5555/X", "pmid": None, "title": "T", "journal": "J",
                                "year": 2020, "authors": ["A B"],
                                "abstract": [{"label": "RESULTS", "text": "It worked."}]}))
    paper = paper_from_file(path)
    assert paper.sections == (Section("RESULTS", "RESULTS", "It worked."),)
    assert paper.doi == "10.5555/x" and paper.source == "file"


@pytest.mark.parametrize("content, message", [
    ("<PubmedArticleSet><PubmedArticle>", "malformed XML"),
    ("{not json", "neither XML nor JSON"),
    ('{"hello": 1}', "not a PubMed, Europe PMC, Crossref or OpenAlex record"),
    ('{"esearchresult": {"idlist": []}}', "esearch answer"),
    ("<PubmedArticleSet></PubmedArticleSet>", "no PubmedArticle"),
])
def test_paper_from_file_bad_input(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "saved.txt"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        paper_from_file(path)


def test_paper_from_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        paper_from_file(tmp_path / "absent.xml")


def test_resolve_recorded_crossref_answer_served_by_stand_in(tmp_path: Path) -> None:
    with ServiceStandIn() as stand_in:
        stand_in.respond("crossref/works/10.5555/fc.2021.0005",
                         (FIXTURES / "crossref_work_jats.json").read_text("utf-8"))
        paper = resolve_query("https://doi.org/10.5555/FC.2021.0005", stand_in.settings(tmp_path))
    assert paper.source == "crossref"
    assert paper.retracted is True
    assert [s.label for s in paper.sections] == ["Background", "Methods", "Results", "Conclusions"]
