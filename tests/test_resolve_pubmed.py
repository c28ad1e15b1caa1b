from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests
import responses

from factcheck._http import RateLimiter, make_session
from factcheck.cache import Cache
from factcheck.config import load_settings
from factcheck.errors import PaperNotFound, UpstreamError
from factcheck.resolve._parse import parse_efetch_xml, parse_esearch_json
from factcheck.resolve.pubmed import PubMedClient
from factcheck.types import Paper, Section

try:
    from fakes import ServiceStandIn
except ImportError:  # tests/ became a package
    from tests.fakes import ServiceStandIn

FIXTURES = Path(__file__).parent / "fixtures" / "services"

PAPER = Paper(
    source="file",
    title="Yoga and low back pain in nurses: a randomised trial",
    sections=(
        Section("BACKGROUND", "BACKGROUND", "Back pain is common among nurses."),
        Section("RESULTS", "RESULTS", "Pain scores fell by 1.4 points with yoga."),
    ),
    doi="10.5555/fc.2024.0101",
    journal="Invented occupational health",
    year=2024,
    authors=("Maria Santos", "Jin Park"),
    publication_types=("Journal Article", "Randomized Controlled Trial"),
)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def client_for(settings, cache: Cache | None = None) -> PubMedClient:
    return PubMedClient(settings, make_session(settings), cache)


# -- parsing ------------------------------------------------------------------------------------

def test_pubmed_parse_structured_abstract_labels_and_categories() -> None:
    [paper] = parse_efetch_xml(fixture("pubmed_efetch_structured.xml"))
    assert [(s.label, s.category) for s in paper.sections] == [
        ("IMPORTANCE", "BACKGROUND"),
        ("OBJECTIVE", "OBJECTIVE"),
        ("DESIGN, SETTING, AND PARTICIPANTS", "METHODS"),
        ("RESULTS", "RESULTS"),
        ("CONCLUSIONS AND RELEVANCE", "CONCLUSIONS"),  # the empty TRIAL REGISTRATION is skipped
    ]
    assert paper.source == "pubmed"


def test_pubmed_parse_reads_text_inside_inline_markup() -> None:
    [paper] = parse_efetch_xml(fixture("pubmed_efetch_structured.xml"))
    results = paper.sections[3].text
    assert "1.2 × 10-3 mmol/L" in results
    assert results.endswith("no serious adverse events occurred.")
    assert "with chronic insomnia, followed for 16 weeks" in paper.sections[2].text
    assert paper.title == ("Daily brisk walking and sleep quality in older adults with chronic "
                           "insomnia: a randomized controlled trial.")
    # whitespace inside the element is collapsed, ends stripped
    assert paper.sections[4].text == ("Brisk walking may modestly improve sleep quality in this "
                                      "population.")
    assert paper.abstract.count("\n") == 4


def test_pubmed_parse_metadata() -> None:
    [paper] = parse_efetch_xml(fixture("pubmed_efetch_structured.xml"))
    assert paper.pmid == "39990001"
    assert paper.doi == "10.5555/fc.2024.0001"  # lowercased
    assert paper.pmcid == "PMC11110001"
    assert paper.journal == "Journal of sleep studies"
    assert paper.year == 2024  # from MedlineDate "2024 Nov-Dec"
    assert paper.authors == ("Adaeze Okafor", "Per Erik Lindqvist", "WALK-SLEEP Study Group")
    assert paper.publication_types == ("Journal Article", "Randomized Controlled Trial")
    assert paper.retracted is False
    assert paper.notices == ("ErratumIn: J Sleep Stud. 2025 Feb;13(2):e9. PMID:39990088",)
    assert paper.url == "https://pubmed.ncbi.nlm.nih.gov/39990001/"


def test_pubmed_parse_retraction_and_expression_of_concern() -> None:
    retracted, letter = parse_efetch_xml(fixture("pubmed_efetch_notices.xml"))
    assert retracted.retracted is True
    assert "Retracted Publication" in retracted.publication_types
    assert retracted.notices == (
        "RetractionIn: Ann Made-up Med. 2021 Jun;10(6):201. PMID:39990099",)
    assert [s.label for s in retracted.sections] == [None]
    assert retracted.year == 2019
    assert letter.sections == ()
    assert letter.retracted is False
    assert letter.notices == ("ExpressionOfConcernIn: Lett Invent Cardiol. 2024;2:e1.",)
    assert letter.doi == "10.5555/fc.2023.0003"  # from ELocationID only
    assert letter.authors == ("S Haddad",)  # Initials when there is no ForeName


def test_pubmed_parse_retraction_in_without_publication_type() -> None:
    xml = fixture("pubmed_efetch_structured.xml").replace('RefType="ErratumIn"',
                                                          'RefType="RetractionIn"')
    [paper] = parse_efetch_xml(xml)
    assert paper.retracted is True


def test_pubmed_parse_empty_article_set() -> None:
    assert parse_efetch_xml('<?xml version="1.0" ?>\n<PubmedArticleSet></PubmedArticleSet>') == []


@pytest.mark.parametrize("body", [
    "<PubmedArticleSet><PubmedArticle><MedlineCitation>",
    "Service unavailable",
    "",
])
def test_pubmed_parse_malformed_xml_raises_upstream_error(body: str) -> None:
    with pytest.raises(UpstreamError) as info:
        parse_efetch_xml(body, "PMID 1")
    assert str(info.value).startswith("PubMed returned malformed XML for PMID 1")
    assert info.value.service == "pubmed"
    assert info.value.exit_status == 3


def test_pubmed_parse_wrong_root_raises_upstream_error() -> None:
    with pytest.raises(UpstreamError, match="not <PubmedArticleSet>"):
        parse_efetch_xml("<eFetchResult><ERROR>bad id</ERROR></eFetchResult>")


def test_pubmed_parse_esearch() -> None:
    assert parse_esearch_json(fixture("pubmed_esearch_doi.json")) == ["39990001"]
    assert parse_esearch_json(fixture("pubmed_esearch_empty.json")) == []
    with pytest.raises(UpstreamError, match="PubMed returned malformed JSON"):
        parse_esearch_json("{\"esearchresult\": ")


# -- client with `responses` --------------------------------------------------------------------

BASE = "https://eutils.test/entrez/eutils/"


@responses.activate
def test_pubmed_by_doi_sends_tool_email_and_api_key(tmp_path: Path) -> None:
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_PUBMED_URL": BASE,
                                  "NCBI_API_KEY": "key-123",
                                  "FACTCHECK_MAILTO": "desk@example.org"})
    assert settings.service_rates["pubmed"] == 10.0  # the with-key rate
    esearch = responses.get(BASE + "esearch.fcgi", body=fixture("pubmed_esearch_doi.json"))
    efetch = responses.get(BASE + "efetch.fcgi", body=fixture("pubmed_efetch_structured.xml"))
    paper = client_for(settings.with_(service_rates={"pubmed": 1000.0})).by_doi(
        "10.5555/FC.2024.0001")
    assert paper is not None and paper.pmid == "39990001"
    for call in (esearch.calls[0], efetch.calls[0]):
        params = requests.utils.urlparse(call.request.url).query
        assert "tool=factcheck" in params
        assert "email=desk%40example.org" in params
        assert "api_key=key-123" in params
    assert "term=10.5555%2Ffc.2024.0001%5Bdoi%5D" in esearch.calls[0].request.url
    assert "retmode=json" in esearch.calls[0].request.url
    assert "id=39990001" in efetch.calls[0].request.url
    assert "retmode=xml" in efetch.calls[0].request.url


@responses.activate
def test_pubmed_no_api_key_param_without_key(tmp_path: Path) -> None:
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_PUBMED_URL": BASE})
    responses.get(BASE + "esearch.fcgi", body=fixture("pubmed_esearch_empty.json"))
    assert client_for(settings).by_doi("10.5555/missing") is None
    assert "api_key" not in responses.calls[0].request.url
    assert len(responses.calls) == 1  # no efetch for an empty idlist


@responses.activate
def test_pubmed_answers_are_cached_without_credentials_in_the_key(tmp_path: Path) -> None:
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_PUBMED_URL": BASE,
                                  "NCBI_API_KEY": "key-123"})
    responses.get(BASE + "efetch.fcgi", body=fixture("pubmed_efetch_structured.xml"))
    cache = Cache(tmp_path, settings.cache_ttl)
    client = client_for(settings, cache)
    first = client.by_pmid("39990001")
    second = client.by_pmid("39990001")
    assert first == second
    assert len(responses.calls) == 1
    keys = [row[0] for row in cache._connection().execute("SELECT key FROM entries")]
    # the base URL is in the key (a mirror's answers are not the public service's); no secrets
    assert keys == [BASE.rstrip("/") + "/efetch.fcgi?db=pubmed&id=39990001&retmode=xml"]
    assert "key-123" not in keys[0]


# -- client against the local stand-in ----------------------------------------------------------

def test_pubmed_by_pmid_and_not_found(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        client = client_for(stand_in.settings(tmp_path))
        paper = client.by_pmid("39990101")
        assert paper is not None
        assert paper.sections == PAPER.sections
        assert paper.doi == PAPER.doi
        assert client.by_pmid("39990999") is None
        assert client.by_doi("10.5555/unknown") is None


def test_pubmed_search_returns_candidates(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        found = client_for(stand_in.settings(tmp_path)).search(
            "Santos M. Yoga and low back pain in nurses. 2024")
        assert [p.pmid for p in found] == ["39990101"]
        [esearch] = stand_in.requests_for("pubmed", "esearch")
        assert esearch.params["retmax"] == "5"


def test_pubmed_429_then_success_honours_retry_after(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        stand_in.inject("pubmed/efetch.fcgi", "429", times=1, retry_after="0.3")
        client = client_for(stand_in.settings(tmp_path, backoff=0.01))
        started = time.monotonic()
        paper = client.by_pmid("39990101")
        elapsed = time.monotonic() - started
        assert paper is not None and paper.pmid == "39990101"
        assert stand_in.statuses("pubmed") == [429, 200]
        assert elapsed >= 0.3  # the backoff alone would have waited ~0.01 s


def test_pubmed_500_after_retries_raises_upstream_error(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        stand_in.inject("pubmed/efetch.fcgi", "500")
        client = client_for(stand_in.settings(tmp_path, retries=2))
        with pytest.raises(UpstreamError) as info:
            client.by_pmid("39990101")
        assert info.value.status == 500
        assert info.value.service == "pubmed"
        assert "PMID 39990101" in str(info.value)
        assert stand_in.statuses("pubmed") == [500, 500, 500]


def test_pubmed_timeout_raises_upstream_error(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        stand_in.inject("pubmed/efetch.fcgi", "slow", delay=2.0)
        client = client_for(stand_in.settings(tmp_path, retries=0, read_timeout=0.2))
        with pytest.raises(UpstreamError, match="could not be reached") as info:
            client.by_pmid("39990101")
        assert info.value.status is None


def test_pubmed_malformed_answer_raises_upstream_error(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        stand_in.inject("pubmed/efetch.fcgi", "malformed", times=1)
        client = client_for(stand_in.settings(tmp_path))
        with pytest.raises(UpstreamError, match="PubMed returned malformed XML for PMID 39990101"):
            client.by_pmid("39990101")


def test_pubmed_empty_abstract(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        stand_in.inject("pubmed/efetch.fcgi", "empty_abstract")
        paper = client_for(stand_in.settings(tmp_path)).by_pmid("39990101")
        assert paper is not None and paper.sections == () and paper.abstract == ""


def test_pubmed_offline_answers_from_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path, ttl=1)
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        settings = stand_in.settings(tmp_path)
        online = client_for(settings, cache).by_doi(PAPER.doi)
    cache._clock = lambda: time.time() + 3600  # every entry is now stale
    offline = client_for(settings.with_(offline=True), cache)
    assert offline.by_doi(PAPER.doi) == online
    with pytest.raises(PaperNotFound, match="offline and not cached"):
        offline.by_pmid("39990999")


def test_pubmed_offline_without_cache_raises_not_found(tmp_path: Path) -> None:
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path)}, offline=True)
    with pytest.raises(PaperNotFound, match="offline and not cached"):
        client_for(settings, None).by_pmid("1")


def test_pubmed_failure_falls_back_to_stale_cache(tmp_path: Path) -> None:
    clock_offset = [0.0]
    cache = Cache(tmp_path, ttl=10, clock=lambda: time.time() + clock_offset[0])
    with ServiceStandIn(papers=[(PAPER, "39990101")]) as stand_in:
        client = client_for(stand_in.settings(tmp_path, retries=0), cache)
        fresh = client.by_pmid("39990101")
        clock_offset[0] = 3600.0
        stand_in.inject("pubmed", "500")
        assert client.by_pmid("39990101") == fresh
        assert stand_in.statuses("pubmed") == [200, 500]


# -- rate limits --------------------------------------------------------------------------------

def test_rate_limiter_spaces_starts_across_threads_fake_clock() -> None:
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)

    limiter = RateLimiter(3.0, clock=lambda: 100.0, sleep=sleep)
    threads = [threading.Thread(target=limiter.wait) for _ in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the first start is immediate; the others are spaced 1/3 s apart whichever thread they are on
    assert sorted(slept) == pytest.approx([k / 3 for k in range(1, 7)])


def test_pubmed_client_holds_3_per_second_across_threads(tmp_path: Path) -> None:
    papers = [(replace(PAPER, doi=f"10.5555/fc.rate.{i}"), str(39990200 + i)) for i in range(6)]
    with ServiceStandIn(papers=papers, rate_limits={"pubmed": 3}) as stand_in:
        settings = stand_in.settings(tmp_path, retries=0,
                                     service_rates={"pubmed": 3.0})
        client = client_for(settings)  # one client, one limiter, shared by the threads
        results: dict[str, Paper | None] = {}
        errors: list[BaseException] = []

        def look_up(pmid: str) -> None:
            try:
                results[pmid] = client.by_pmid(pmid)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=look_up, args=(pmid,)) for _, pmid in papers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        assert not errors
        assert all(results[pmid] is not None for _, pmid in papers)
        assert 429 not in stand_in.statuses("pubmed")
        # six starts spaced 1/3 s apart; arrival gaps at the server jitter, so only the total
        # and the server's own 3-per-second check are asserted
        assert elapsed >= 5 / 3 - 0.05


def test_stand_in_refuses_bursts_over_the_rate(tmp_path: Path) -> None:
    with ServiceStandIn(papers=[(PAPER, "39990101")], rate_limits={"pubmed": 3}) as stand_in:
        client = client_for(stand_in.settings(tmp_path, retries=0))  # 1000/s: no limiting
        failures = 0
        for _ in range(5):
            try:
                client.efetch(["39990101"], "burst")
            except UpstreamError as exc:
                assert exc.status == 429
                failures += 1
        assert failures >= 1
        assert 429 in stand_in.statuses("pubmed")


@responses.activate
def test_pubmed_empty_search_is_not_cached_so_a_paper_indexed_later_is_found(tmp_path: Path) -> None:
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_PUBMED_URL": BASE})
    cache = Cache(tmp_path, settings.cache_ttl)
    client = client_for(settings, cache)
    empty = '{"esearchresult": {"count": "0", "retmax": "0", "idlist": []}}'
    found = '{"esearchresult": {"count": "1", "retmax": "1", "idlist": ["39990001"]}}'
    responses.get(BASE + "esearch.fcgi", body=empty)
    responses.get(BASE + "esearch.fcgi", body=found)
    assert client.esearch("10.5555/embargoed[doi]", 5, "doi 10.5555/embargoed") == []
    # the next night the record is in PubMed: the empty answer must not have been kept
    assert client.esearch("10.5555/embargoed[doi]", 5, "doi 10.5555/embargoed") == ["39990001"]
    assert len(responses.calls) == 2
