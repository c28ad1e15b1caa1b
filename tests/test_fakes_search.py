"""The stand-in's searches, over real HTTP, in each service's own query syntax.

Five invented papers: the one a story is about (coffee and atrial fibrillation, a full date, an
author with a Danish letter), a distractor with the same surname and the same words only in its
abstract, a trial in another journal, a paper known only by its year, and a preprint.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from lxml import etree

from factcheck.types import Paper, Section

try:
    import fakes_query as fq
    from fakes import ServiceStandIn, StandInPaper, render_efetch_xml
except ImportError:  # tests/ became a package
    from tests import fakes_query as fq
    from tests.fakes import ServiceStandIn, StandInPaper, render_efetch_xml

COFFEE = Paper(
    source="file",
    title="Coffee drinking and atrial fibrillation in older women: a prospective cohort",
    sections=(Section("Methods", "METHODS", "We followed 4210 women aged 65 or more for a "
                      "decade and recorded how much coffee they drank."),
              Section("Results", "RESULTS", "Two or more cups a day went with a slightly "
                      "lower rate of new arrhythmia.")),
    doi="10.5555/sa.2019.0001", pmid="31000001", journal="New England Journal of Medicine",
    year=2019, authors=("Ingrid Mørch", "Tomas K Berg", "Aisha Rahman"),
    publication_types=("Journal Article", "Observational Study"),
)
SLEEP = Paper(
    source="file",
    title="Sleep duration and heart rhythm in retirees",
    sections=(Section(None, None, "Coffee intake was noted at entry; atrial fibrillation was "
                      "a secondary outcome among 900 retirees."),),
    doi="10.5555/sa.2019.0002", pmid="31000002", journal="Invented sleep medicine", year=2019,
    authors=("Jonas Morch", "Ana Silva"),
)
TEA = Paper(
    source="file",
    title="Green tea and blood pressure in adults with obesity: a randomised trial",
    sections=(Section(None, None, "Three cups of green tea a day lowered systolic pressure "
                      "by 3 mmHg over 12 weeks."),),
    doi="10.5555/sa.2018.0003", pmid="31000003", journal="JAMA Internal Medicine", year=2018,
    authors=("Wei Zhang", "Paul Okafor"),
    publication_types=("Journal Article", "Randomized Controlled Trial"),
)
WALK = Paper(
    source="file",
    title="Daily walking steps and mortality in older adults",
    sections=(Section(None, None, "More steps a day went with lower mortality in 2110 adults "
                      "over 70."),),
    doi="10.5555/sa.2020.0004", pmid="31000004", journal="Invented journal of ageing",
    year=2020, authors=("Lucía Fernández", "Paul Okafor"),
)
PREPRINT = Paper(
    source="file",
    title="Coffee and sleep quality in shift workers",
    sections=(Section(None, None, "Shift workers who drank coffee late slept 20 minutes less."),),
    doi="10.5555/sa.2021.0005", journal="Invented preprint server", year=2021,
    authors=("Ravi Menon",),
)

BY_PMID = {"31000001": "coffee", "31000002": "sleep", "31000003": "tea", "31000004": "walk"}
BY_DOI = {p.doi: name for p, name in ((COFFEE, "coffee"), (SLEEP, "sleep"), (TEA, "tea"),
                                      (WALK, "walk"), (PREPRINT, "preprint"))}


@pytest.fixture(scope="module")
def stand_in():
    papers = [
        StandInPaper(COFFEE, published="2019-03-05"),
        StandInPaper(SLEEP, published="2019-08-20"),
        StandInPaper(TEA, published="2018-11-15"),
        StandInPaper(WALK, journal_abbrev="Invent J Ageing", issn="1234-5678"),  # year only
        StandInPaper(PREPRINT, published="2021-02"),
    ]
    with ServiceStandIn(papers=papers) as running:
        yield running


def get(stand_in: ServiceStandIn, service: str, path: str, **params: Any) -> requests.Response:
    return requests.get(stand_in.urls[service] + path, params=params, timeout=5)


def esearch(stand_in: ServiceStandIn, term: str, **params: Any) -> dict:
    answer = get(stand_in, "pubmed", "esearch.fcgi", db="pubmed", term=term, retmode="json",
                 **params)
    assert answer.status_code == 200
    return answer.json()["esearchresult"]


def pubmed(stand_in: ServiceStandIn, term: str, **params: Any) -> list[str]:
    return [BY_PMID[i] for i in esearch(stand_in, term, **params)["idlist"]]


def europepmc_answer(stand_in: ServiceStandIn, query: str, **params: Any) -> dict:
    answer = get(stand_in, "europepmc", "search", query=query, resultType="core",
                 format="json", **params)
    assert answer.status_code == 200
    return answer.json()


def europepmc(stand_in: ServiceStandIn, query: str, **params: Any) -> list[str]:
    return [BY_DOI[r["doi"]] for r in europepmc_answer(stand_in, query, **params)
            ["resultList"]["result"]]


def crossref_answer(stand_in: ServiceStandIn, **params: Any) -> dict:
    answer = get(stand_in, "crossref", "works", **params)
    assert answer.status_code == 200, answer.text
    return answer.json()["message"]


def crossref(stand_in: ServiceStandIn, **params: Any) -> list[str]:
    return [BY_DOI[i["DOI"]] for i in crossref_answer(stand_in, **params)["items"]]


def openalex_answer(stand_in: ServiceStandIn, **params: Any) -> dict:
    answer = get(stand_in, "openalex", "works", **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def openalex(stand_in: ServiceStandIn, **params: Any) -> list[str]:
    return [BY_DOI[w["doi"].removeprefix("https://doi.org/")]
            for w in openalex_answer(stand_in, **params)["results"]]


# -- PubMed: authors ------------------------------------------------------------------------------

@pytest.mark.parametrize("term, expected", [
    ("Morch I[au]", ["coffee"]),             # surname and first initial
    ("Mørch I[au]", ["coffee"]),             # diacritics folded either way
    ("Morch[au]", ["sleep", "coffee"]),      # surname alone: both Mørch and Morch, newest first
    ("Ingrid Morch[au]", ["coffee"]),        # full name, natural order
    ("Morch, Ingrid[au]", ["coffee"]),       # full name, inverted
    ("Morch J[au]", ["sleep"]),
    ("Berg T[au]", ["coffee"]),              # initials truncate: Berg T finds Berg TK
    ('"Berg T"[au]', []),                    # quoted: no truncation
    ('"Berg TK"[au]', ["coffee"]),
    ("Rahman A[lastau]", ["coffee"]),
    ("Rahman A[1au]", []),
    ("Mørch I[1au]", ["coffee"]),
    ("Okafor P[author]", ["walk", "tea"]),
    ("Fernandez L[au]", ["walk"]),
    ("Smith J[au]", []),
])
def test_pubmed_author_tags(stand_in, term, expected):
    assert pubmed(stand_in, term) == expected


# -- PubMed: journals -----------------------------------------------------------------------------

@pytest.mark.parametrize("term, expected", [
    ('"N Engl J Med"[ta]', ["coffee"]),                       # ISO abbreviation (table)
    ('"New England Journal of Medicine"[ta]', ["coffee"]),    # full title
    ("New England Journal of Medicine[ta]", ["coffee"]),      # unquoted multiword
    ('"The New England Journal of Medicine"[journal]', ["coffee"]),  # "the" ignored
    ('"England"[ta]', []),                                   # the whole name, not a part
    ('"JAMA Intern Med"[ta]', ["tea"]),
    ('"Invent J Ageing"[ta]', ["walk"]),                      # an abbreviation given by the test
    ('"Invented journal of ageing"[ta]', ["walk"]),
])
def test_pubmed_journal_full_title_or_abbreviation(stand_in, term, expected):
    assert pubmed(stand_in, term) == expected


# -- PubMed: boolean, phrases, truncation ---------------------------------------------------------

def test_pubmed_processes_boolean_operators_left_to_right(stand_in):
    # PubMed: (tea OR coffee) AND fibrillation, not tea OR (coffee AND fibrillation)
    assert pubmed(stand_in, "tea OR coffee AND fibrillation") == ["coffee", "sleep"]
    assert sorted(pubmed(stand_in, "tea OR (coffee AND fibrillation)")) == [
        "coffee", "sleep", "tea"]
    assert pubmed(stand_in, "coffee NOT sleep") == ["coffee"]
    assert pubmed(stand_in, "coffee NOT sleep[ti]") == ["coffee"]
    assert pubmed(stand_in, "(coffee OR tea) NOT (women OR obesity)[ti]") == ["sleep"]


def test_pubmed_implicit_and_stop_words_and_relevance(stand_in):
    # both have the words; the one with them in its title ranks first
    assert pubmed(stand_in, "coffee atrial fibrillation") == ["coffee", "sleep"]
    assert pubmed(stand_in, "coffee and the atrial fibrillation") == ["coffee", "sleep"]
    assert pubmed(stand_in, "coffee fibrillation tea") == []
    assert pubmed(stand_in, "coffee[tiab] AND fibrillation[tiab]", sort="relevance") == [
        "coffee", "sleep"]


def test_pubmed_phrases_and_truncation(stand_in):
    assert pubmed(stand_in, '"atrial fibrillation"[ti]') == ["coffee"]
    assert pubmed(stand_in, '"atrial fibrillation"[tiab]') == ["coffee", "sleep"]
    assert pubmed(stand_in, '"fibrillation atrial"[tiab]') == []
    assert pubmed(stand_in, "fibrillation atrial[ti]") == ["coffee"]  # words, any order
    assert pubmed(stand_in, "fibrillat*[ti]") == ["coffee"]
    assert pubmed(stand_in, "fibrillat[ti]") == []
    assert pubmed(stand_in, '"atrial fibrill*"[ab]') == ["sleep"]
    assert pubmed(stand_in, "arrhythmia[ab]") == ["coffee"]
    assert pubmed(stand_in, "arrhythmia[ti]") == []


def test_pubmed_untagged_words_search_every_field(stand_in):
    assert pubmed(stand_in, "Okafor 2020 walking") == ["walk"]           # author, year, title
    assert pubmed(stand_in, "Invent J Ageing mortality") == ["walk"]       # journal words
    assert pubmed(stand_in, "Rahman coffee N Engl J Med 2019") == ["coffee"]
    assert pubmed(stand_in, "Santos M. Yoga and low back pain. 2024") == []


def test_pubmed_other_tags(stand_in):
    assert pubmed(stand_in, "10.5555/SA.2018.0003[doi]") == ["tea"]
    assert pubmed(stand_in, "31000004[pmid]") == ["walk"]
    assert pubmed(stand_in, "31000004[uid] OR 31000003[uid]") == ["walk", "tea"]
    assert pubmed(stand_in, '"randomized controlled trial"[pt]') == ["tea"]
    assert pubmed(stand_in, "observational study[pt] AND english[la]") == ["coffee"]
    assert pubmed(stand_in, "1234-5678[issn]") == ["walk"]
    assert pubmed(stand_in, "coffee AND hasabstract[sb]") == ["coffee", "sleep"]
    assert pubmed(stand_in, "coffee[mh]") == []  # no MeSH in the stand-in
    assert pubmed(stand_in, "coffee[nonsense]") == ["coffee", "sleep"]  # as PubMed: all fields


# -- PubMed: dates --------------------------------------------------------------------------------

@pytest.mark.parametrize("term, expected", [
    ("2019[dp]", ["sleep", "coffee"]),
    ("2019/03[dp]", ["coffee"]),
    ("2019/03/05[dp]", ["coffee"]),
    ("2019/03/06[dp]", []),
    ("2019/01/01:2019/06/30[pdat]", ["coffee"]),
    ('"2018/11/01"[dp] : "2019/05/01"[dp]', ["coffee", "tea"]),
    ("2018/11/01[Date - Publication]:2019/05/01[Date - Publication]", ["coffee", "tea"]),
    ("2019:2020[dp]", ["walk", "sleep", "coffee"]),
    # the year-only paper: any window inside its year overlaps it
    ("2020/06/01:2020/06/30[dp]", ["walk"]),
    ("2020/06[dp]", ["walk"]),
    ("Okafor[au] AND 2019/01/01:3000/12/31[dp]", ["walk"]),
])
def test_pubmed_publication_dates(stand_in, term, expected):
    assert pubmed(stand_in, term) == expected


def test_pubmed_mindate_maxdate(stand_in):
    assert pubmed(stand_in, "Morch[au]", datetype="pdat", mindate="2019/01/01",
                  maxdate="2019/06/30") == ["coffee"]
    assert pubmed(stand_in, "Okafor[au]", datetype="pdat", mindate="2020/03",
                  maxdate="2020/04") == ["walk"]
    # PubMed uses the pair only: one bound alone limits nothing
    assert pubmed(stand_in, "Morch[au]", datetype="pdat", mindate="2019/06/01") == [
        "sleep", "coffee"]


# -- PubMed: the answer ---------------------------------------------------------------------------

def test_pubmed_count_is_every_hit_idlist_is_retmax(stand_in):
    result = esearch(stand_in, "Morch[au]", retmax=1)
    assert result["count"] == "2" and result["idlist"] == ["31000002"]
    assert result["retmax"] == "1"
    assert esearch(stand_in, "Morch[au]", retmax=1, retstart=1)["idlist"] == ["31000001"]


def test_pubmed_nothing_found_is_esearchs_empty_answer(stand_in):
    result = esearch(stand_in, "Smith J[au] AND vitamin C AND marathon")
    assert result["count"] == "0" and result["idlist"] == []
    assert result["warninglist"]["outputmessages"] == ["No items found."]
    assert esearch(stand_in, "")["ERROR"].startswith("Empty term")


def test_pubmed_search_is_recorded_and_can_be_faulted(stand_in):
    stand_in.inject("pubmed/esearch.fcgi", "500", times=1)
    first = get(stand_in, "pubmed", "esearch.fcgi", term="coffee[ti]", retmode="json")
    second = get(stand_in, "pubmed", "esearch.fcgi", term="coffee[ti]", retmode="json")
    assert (first.status_code, second.status_code) == (500, 200)
    recorded = [r for r in stand_in.requests_for("pubmed", "esearch")
                if r.params.get("term") == "coffee[ti]"]
    assert [r.status for r in recorded[-2:]] == [500, 200]


def test_pubmed_renders_the_publication_date():
    xml = render_efetch_xml([StandInPaper(COFFEE, published="2019-03-05"),
                             StandInPaper(SLEEP, published="2019-08")])
    root = etree.fromstring(xml.split("\n", 2)[2].encode())
    first, second = root.findall("PubmedArticle/MedlineCitation/Article")
    assert [first.findtext(f"Journal/JournalIssue/PubDate/{t}") for t in ("Year", "Month", "Day")
            ] == ["2019", "Mar", "05"]
    assert first.findtext("ArticleDate/Month") == "03"
    assert first.findtext("Journal/ISOAbbreviation") == "N Engl J Med"
    assert second.findtext("Journal/JournalIssue/PubDate/Month") == "Aug"
    assert second.find("ArticleDate") is None  # no electronic date without a day


# -- Europe PMC -----------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ('AUTH:"Morch I"', ["coffee"]),
    ('AUTH:"Mørch I"', ["coffee"]),
    ("AUTH:Morch", ["sleep", "coffee"]),
    ('FIRST_AUTH:"Morch I"', ["coffee"]),
    ("FIRST_AUTH:Berg", []),
    ('AUTH:"Berg T"', ["coffee"]),
    ('JOURNAL:"N Engl J Med"', ["coffee"]),
    ('JOURNAL:"New England Journal of Medicine"', ["coffee"]),
    ('JOURNAL:"JAMA Intern Med"', ["tea"]),
    ("ISSN:1234-5678", ["walk"]),
    ("TITLE:coffee", ["preprint", "coffee"]),
    ("ABSTRACT:coffee", ["preprint", "sleep", "coffee"]),  # equal hits: newest first
    ('TITLE_ABS:"atrial fibrillation"', ["coffee", "sleep"]),
    ("TITLE:(green tea)", ["tea"]),
    ("PUB_YEAR:2019", ["sleep", "coffee"]),
    ("PUB_YEAR:[2018 TO 2019]", ["sleep", "coffee", "tea"]),
    ("FIRST_PDATE:[2019-01-01 TO 2019-06-30]", ["coffee"]),
    ("E_PDATE:2019-03-05", ["coffee"]),
    ("FIRST_PDATE:[2020-06-01 TO 2020-06-30]", ["walk"]),  # year-only paper overlaps
    ("FIRST_PDATE:{2018-11-15 TO 2019-03-05}", []),        # exclusive ends
    ("SRC:PPR", ["preprint"]),
    ("EXT_ID:31000003 AND SRC:MED", ["tea"]),
    ('DOI:"10.5555/sa.2020.0004"', ["walk"]),
    ("coffee AND HAS_ABSTRACT:Y AND SRC:MED", ["coffee", "sleep"]),
    ("OPEN_ACCESS:Y", []),
    ('PUB_TYPE:"Randomized Controlled Trial"', ["tea"]),
    ("Okafor walking 2020", ["walk"]),                      # untagged: all fields
])
def test_europepmc_fields(stand_in, query, expected):
    assert europepmc(stand_in, query) == expected


def test_europepmc_and_binds_before_or(stand_in):
    # tea OR (coffee AND fibrillation): unlike PubMed's left-to-right reading
    assert sorted(europepmc(stand_in, "tea OR coffee AND fibrillation")) == [
        "coffee", "sleep", "tea"]
    assert europepmc(stand_in, "(tea OR coffee) AND fibrillation") == ["coffee", "sleep"]
    assert europepmc(stand_in, "coffee NOT TITLE:sleep NOT SRC:PPR") == ["coffee", "sleep"][:1]
    assert europepmc(stand_in, "coffee AND NOT ABSTRACT:arrhythmia") == ["preprint", "sleep"]
    assert europepmc(stand_in, 'AUTH:"Morch" AND JOURNAL:"N Engl J Med" AND '
                               "(coffee OR tea) AND FIRST_PDATE:[2019-01-01 TO 2019-12-31]") == [
        "coffee"]


def test_europepmc_phrases_truncation_relevance(stand_in):
    assert europepmc(stand_in, '"fibrillation atrial"') == []
    assert europepmc(stand_in, "TITLE:fibrillat*") == ["coffee"]
    # title hits rank above abstract-only hits; ties newest first
    assert europepmc(stand_in, "coffee atrial fibrillation") == ["coffee", "sleep"]


def test_europepmc_hit_count_paging_and_dates(stand_in):
    answer = europepmc_answer(stand_in, "coffee", pageSize=2)
    assert answer["hitCount"] == 3 and len(answer["resultList"]["result"]) == 2
    more = europepmc_answer(stand_in, "coffee", pageSize=2, cursorMark=answer["nextCursorMark"])
    assert [r["doi"] for r in more["resultList"]["result"]] == [SLEEP.doi]
    first = answer["resultList"]["result"][0]
    assert BY_DOI[first["doi"]] == "preprint" and "firstPublicationDate" not in first  # a month
    coffee = europepmc_answer(stand_in, "TITLE:fibrillation")["resultList"]["result"][0]
    assert coffee["firstPublicationDate"] == "2019-03-05"
    assert coffee["journalInfo"]["journal"]["isoabbreviation"] == "N Engl J Med"


def test_europepmc_nothing_found(stand_in):
    answer = europepmc_answer(stand_in, 'AUTH:"Smith J" AND marathon')
    assert answer["hitCount"] == 0 and answer["resultList"]["result"] == []


def test_europepmc_without_the_abstract_cannot_match_it():
    with ServiceStandIn() as alone:
        alone.add(SLEEP, abstract_in={"pubmed"})
        assert europepmc(alone, "ABSTRACT:coffee") == []
        assert europepmc(alone, "HAS_ABSTRACT:N") == ["sleep"]
        assert pubmed(alone, "coffee[ab]") == ["sleep"]


# -- Crossref -------------------------------------------------------------------------------------

def test_crossref_ranks_by_words_in_title_journal_authors_year(stand_in):
    message = crossref_answer(stand_in, **{
        "query.bibliographic": "Coffee atrial fibrillation older women Morch 2019", "rows": 5})
    names = [BY_DOI[i["DOI"]] for i in message["items"]]
    assert names[:2] == ["coffee", "sleep"]
    scores = [i["score"] for i in message["items"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 2 * scores[1]
    assert message["total-results"] == len(names)
    # abstract-only words count less than title words
    coffee_first = crossref_answer(stand_in, **{"query.bibliographic": "coffee"})["items"]
    by_name = {BY_DOI[i["DOI"]]: i["score"] for i in coffee_first}
    assert by_name["coffee"] > by_name["sleep"]


def test_crossref_author_and_container_queries(stand_in):
    assert crossref(stand_in, **{"query.author": "Rahman"}) == ["coffee"]
    assert crossref(stand_in, **{"query.author": "Mørch"}) == ["sleep", "coffee"]
    assert crossref(stand_in, **{"query.author": "coffee"}) == []  # author names only
    assert crossref(stand_in, **{"query.bibliographic": "heart rhythm",
                                 "query.container-title": "sleep medicine"})[0] == "sleep"


def test_crossref_filters_are_strict(stand_in):
    window = "from-pub-date:2019-01-01,until-pub-date:2019-06-30"
    assert crossref(stand_in, **{"query.bibliographic": "coffee fibrillation",
                                 "filter": window}) == ["coffee"]
    assert crossref(stand_in, **{"query.bibliographic": "steps mortality",
                                 "filter": "from-pub-date:2020-06,until-pub-date:2020-06"}) == [
        "walk"]
    assert crossref(stand_in, **{"query.bibliographic": "coffee",
                                 "filter": "type:journal-article,until-pub-date:2018"}) == []
    assert crossref(stand_in, filter="issn:12345678") == ["walk"]
    assert crossref(stand_in, filter="type:journal-article", rows=2) == ["preprint", "walk"]
    refused = get(stand_in, "crossref", "works", filter="from-banana-date:2019")
    assert refused.status_code == 400
    assert refused.json()["message"][0]["type"] == "filter-not-available"
    assert get(stand_in, "crossref", "works", **{"query.nonsense": "x"}).status_code == 400


def test_crossref_nothing_matched_and_dates(stand_in):
    message = crossref_answer(stand_in, **{"query.bibliographic": "marathon vitamin zinc"})
    assert message["items"] == [] and message["total-results"] == 0
    [item] = crossref_answer(stand_in, **{"query.bibliographic": "coffee fibrillation",
                                          "rows": 1})["items"]
    assert item["issued"]["date-parts"] == [[2019, 3, 5]]
    assert item["short-container-title"] == ["N Engl J Med"]


# -- OpenAlex -------------------------------------------------------------------------------------

def test_openalex_search_words_are_anded_and_ranked(stand_in):
    answer = openalex_answer(stand_in, search="coffee fibrillation")
    assert [BY_DOI[w["doi"].removeprefix("https://doi.org/")] for w in answer["results"]] == [
        "coffee", "sleep"]
    scores = [w["relevance_score"] for w in answer["results"]]
    assert scores[0] > scores[1] and answer["meta"]["count"] == 2
    assert openalex(stand_in, search="coffee tea") == []
    assert openalex(stand_in, search="coffee OR tea", per_page=2) == ["preprint", "coffee"]
    assert openalex(stand_in, search='"fibrillation atrial"') == []
    assert openalex(stand_in, search="randomised trials") == ["tea"]  # plurals folded
    assert openalex(stand_in, search="coffee NOT sleep") == ["coffee"]


def test_openalex_any_word_mode():
    with ServiceStandIn(papers=[COFFEE, TEA], openalex_search="any") as any_word:
        assert openalex(any_word, search="coffee tea fibrillation") == ["coffee", "tea"]
        assert openalex(any_word, search="marathon") == []


@pytest.mark.parametrize("filters, expected", [
    ("from_publication_date:2019-01-01,to_publication_date:2019-06-30", ["coffee"]),
    ("from_publication_date:2020-06-01,to_publication_date:2020-06-30", ["walk"]),
    ("publication_year:2019", ["sleep", "coffee"]),
    ("publication_year:2018|2020", ["walk", "tea"]),
    ("publication_year:2018-2019,title.search:coffee", ["coffee"]),
    ("publication_year:>2019,title_and_abstract.search:coffee", ["preprint"]),
    ("publication_year:!2019,abstract.search:coffee", ["preprint"]),
    ("raw_author_name.search:Morch", ["sleep", "coffee"]),
    ("raw_author_name.search:ingrid mørch", ["coffee"]),
    ("primary_location.source.display_name.search:new england journal", ["coffee"]),
    ("doi:https://doi.org/10.5555/sa.2018.0003", ["tea"]),
    ("ids.pmid:31000004,type:article", ["walk"]),
    ("has_pmid:false", ["preprint"]),
])
def test_openalex_filters(stand_in, filters, expected):
    assert openalex(stand_in, filter=filters) == expected


def test_openalex_answer_shape_paging_and_refusals(stand_in):
    answer = openalex_answer(stand_in, filter="raw_author_name.search:Okafor", **{"per-page": 1})
    assert answer["meta"]["count"] == 2 and answer["meta"]["per_page"] == 1
    [work] = answer["results"]
    assert work["publication_year"] == 2020 and work["publication_date"] is None
    assert "relevance_score" not in work  # no search, no relevance
    coffee = openalex_answer(stand_in, search="fibrillation",
                             filter="title.search:coffee")["results"][0]
    assert coffee["publication_date"] == "2019-03-05"
    assert coffee["abstract_inverted_index"]["coffee"]
    nothing = openalex_answer(stand_in, search="marathon")
    assert nothing["meta"]["count"] == 0 and nothing["results"] == []
    refused = get(stand_in, "openalex", "works", filter="author.banana:x")
    assert refused.status_code == 403 and "not a valid field" in refused.json()["message"]
    stand_in.inject("openalex/works", "429", times=1, retry_after="0")
    assert get(stand_in, "openalex", "works", search="coffee").status_code == 429
    assert stand_in.requests_for("openalex", "works")[-1].params["search"] == "coffee"


# -- the grammar on its own -----------------------------------------------------------------------

def test_pubmed_tag_applies_to_the_words_before_it_back_to_an_operator():
    node = fq.parse_pubmed("coffee AND New England Journal of Medicine[ta] Smith J[au]")
    assert node == fq.Bool("AND", fq.Bool("AND", fq.Term("all", "coffee"),
                                          fq.Term("journal", "New England Journal of Medicine")),
                           fq.Term("author", "Smith J"))
    # as PubMed reads it: the author "coffee Smith J", not coffee AND Smith J[au]
    assert fq.parse_pubmed("coffee Smith J[au]") == fq.Term("author", "coffee Smith J")
    node = fq.parse_pubmed("(Pase[au] OR Jacques[au]) AND 2017/02/20:2017/05/21[dp]")
    assert node == fq.Bool("AND", fq.Bool("OR", fq.Term("author", "Pase"),
                                          fq.Term("author", "Jacques")),
                           fq.Range("date", "2017/02/20", "2017/05/21"))


def test_unbalanced_queries_do_not_break_the_stand_in(stand_in):
    assert pubmed(stand_in, "(coffee AND fibrillation") == ["coffee", "sleep"]
    assert pubmed(stand_in, "coffee) AND tea") == []
    assert europepmc(stand_in, 'TITLE:"coffee') == ["preprint", "coffee"]
    assert europepmc(stand_in, "AND OR") == []


def test_author_readings():
    names = ["Karin Due Bruun", "Lars Bye-Møller", "Seán O'Brien"]
    for query in ("Bruun KD", "Bruun K", "Due Bruun K", "Bye-Moller L", "Bye-Møller",
                  "OBrien S", "O'Brien", "Sean O'Brien", "Brien*"):
        assert fq.author_match(query, names) or query == "Brien*", query
    for query in ("Bruun L", "Moller L", "Bruun KX", "Brien"):
        assert not fq.author_match(query, names), query
    assert not fq.author_match("Bruun K", names, exact_initials=True)


# -- a story's search, as the resolver phrases it -------------------------------------------------

def test_story_shaped_searches_find_the_paper_among_distractors(stand_in):
    """Authors OR'd, a journal, topic words, a date window: each service's own phrasing."""
    term = ('("Morch"[au] OR "Rahman"[au]) AND ("N Engl J Med"[ta]) AND (coffee[tiab] OR '
            "arrhythmia[tiab]) AND 2019/01/01:2019/12/31[dp]")
    assert pubmed(stand_in, term) == ["coffee"]
    query = ('(AUTH:"Morch" OR AUTH:"Rahman") AND (JOURNAL:"New England Journal of Medicine") '
             "AND (coffee OR arrhythmia) AND FIRST_PDATE:[2019-01-01 TO 2019-12-31]")
    assert europepmc(stand_in, query) == ["coffee"]
    assert crossref(stand_in, **{"query.bibliographic": "coffee atrial fibrillation",
                                 "query.author": "Morch",
                                 "query.container-title": "New England Journal of Medicine",
                                 "filter": "from-pub-date:2019-01-01,until-pub-date:2019-12-31",
                                 "rows": 5})[0] == "coffee"
    assert openalex(stand_in, search="coffee fibrillation",
                    filter="from_publication_date:2019-01-01,to_publication_date:2019-12-31,"
                           "raw_author_name.search:Morch", per_page=5) == ["coffee", "sleep"]
    # a window that misses the publication date leaves the paper out everywhere
    assert pubmed(stand_in, term.replace("2019/01/01:2019/12/31", "2019/04/01:2019/12/31")) == []
    assert europepmc(stand_in, query.replace("2019-01-01", "2019-04-01")) == []


def test_pubmed_doi_with_brackets_inside_a_query(stand_in):
    with ServiceStandIn() as alone:
        alone.add(Paper(source="file", title="Zinc and colds", sections=(),
                        doi="10.1016/s0140-6736(20)30183-5", pmid="31000009", year=2020))
        assert esearch(alone, "10.1016/s0140-6736(20)30183-5[doi]")["idlist"] == ["31000009"]
        assert esearch(alone, "10.1016/s0140-6736(20)30183-5[doi] AND zinc[ti]")["idlist"] == [
            "31000009"]
        assert esearch(alone, "zinc", field="title")["idlist"] == ["31000009"]
