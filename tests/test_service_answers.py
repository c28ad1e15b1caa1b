"""A bad answer from a literature service is an error, never a fact (issue 12, "Services").

Real HTTP through the local stand-in: valid JSON of the wrong shape, an HTML error page and a
truncated body, all sent with status 200, end in exit 3 naming the service, and nothing of them
is cached (the next run, once the service is fixed, gets the right answer); identifiers that
could lead a request outside the service's base are refused before any request; a feed story
that failed for a service reason is checked again on the next run. Property tests feed every
parser of service answers random input: the only exception allowed out is `UpstreamError`.
"""

from __future__ import annotations

import http.server
import json
import shutil
import sqlite3
import threading
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from factcheck import citations
from factcheck._http import make_session
from factcheck.cache import Cache
from factcheck.cli import main
from factcheck.config import load_settings
from factcheck.errors import InputError, UpstreamError
from factcheck.feed import run_feeds
from factcheck.landing import follow_links
from factcheck.resolve import (
    CrossrefClient,
    EuropePMCClient,
    OpenAlexClient,
    PubMedClient,
    citation_for_query,
    paper_from_file,
)
from factcheck.resolve import _parse as parse
from factcheck.rules import load_rules, rules_dir
from factcheck.types import Citation, Paper, Section

try:
    from fakes import ServiceStandIn
except ImportError:  # tests/ became a package
    from tests.fakes import ServiceStandIn

CASES = Path(__file__).resolve().parent.parent / "corpora" / "cases"
DOI = "10.5555/x"
PMID = "39990001"
PAPER = Paper(
    source="file",
    title="Evening walks and sleep onset in older adults: a randomised trial",
    sections=(Section("Methods", "METHODS", "We randomised 120 adults aged 65 or over."),
              Section("Results", "RESULTS", "Sleep onset came 9 minutes sooner after walks.")),
    doi=DOI,
    journal="Invented sleep medicine",
    year=2024,
    authors=("Ada Byrne", "Kofi Mensah"),
)
HTML_ERROR = ("<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title>"
              "</head><body><h1>Service Temporarily Unavailable</h1><p>The server is down for "
              "maintenance.</p></body></html>")
SERVICE_NAME = {"pubmed": "PubMed", "europepmc": "Europe PMC", "crossref": "Crossref",
                "openalex": "OpenAlex"}
ANSWER_PATH = {  # where each service answers a DOI look-up
    "pubmed": "pubmed/esearch.fcgi",
    "europepmc": "europepmc/search",
    "crossref": f"crossref/works/{DOI}",
    "openalex": f"openalex/works/doi:{DOI}",
}

# (service, path, fixed body or None for "the normal body cut in half", content type)
BAD_ANSWERS = [
    # valid JSON, wrong shape: a list where a string is expected, a missing key, a nested list
    ("crossref", ANSWER_PATH["crossref"], json.dumps(
        {"status": "ok", "message-type": "work",
         "message": {"DOI": DOI, "title": ["T"], "abstract": ["<jats:p>x</jats:p>"]}}), None),
    ("crossref", ANSWER_PATH["crossref"], json.dumps(
        {"status": "ok", "message-type": "work", "message": {"title": ["No DOI here"]}}), None),
    ("crossref", ANSWER_PATH["crossref"], json.dumps(
        {"status": "ok", "message": {"DOI": DOI, "issued": ["2024"]}}), None),
    ("europepmc", ANSWER_PATH["europepmc"], json.dumps(
        {"hitCount": 1, "resultList": {"result": [
            {"id": "1", "source": "MED", "doi": DOI, "title": ["A title"],
             "abstractText": "x"}]}}), None),
    ("europepmc", ANSWER_PATH["europepmc"], json.dumps(
        {"hitCount": 1, "resultList": {"result": [
            {"id": "1", "source": "MED", "doi": DOI, "journalInfo": "Sleep"}]}}), None),
    ("openalex", ANSWER_PATH["openalex"], json.dumps(
        {"id": "https://openalex.org/W1", "doi": f"https://doi.org/{DOI}", "title": "T",
         "abstract_inverted_index": ["word"]}), None),
    ("openalex", ANSWER_PATH["openalex"], json.dumps(
        {"id": "https://openalex.org/W1", "doi": f"https://doi.org/{DOI}",
         "authorships": "Byrne"}), None),
    ("openalex", ANSWER_PATH["openalex"], json.dumps({"title": "a work without an id"}), None),
    ("pubmed", "pubmed/esearch.fcgi", json.dumps(
        {"esearchresult": {"count": "1", "idlist": [[PMID]]}}), None),
    ("pubmed", "pubmed/efetch.fcgi",
     "<PubmedArticleSet><PubmedArticle><MedlineCitation><Article><ArticleTitle>T</ArticleTitle>"
     "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>", "text/xml"),
    ("pubmed", "pubmed/efetch.fcgi",
     "<eFetchResult><ERROR>Invalid uid 39990001</ERROR></eFetchResult>", "text/xml"),
    # an HTML error page with status 200
    *[(s, ANSWER_PATH[s], HTML_ERROR, "text/html") for s in ANSWER_PATH],
    ("pubmed", "pubmed/efetch.fcgi", HTML_ERROR, "text/html"),
    # a truncated body (broken JSON, truncated XML)
    *[(s, ANSWER_PATH[s], None, None) for s in ANSWER_PATH],
    ("pubmed", "pubmed/efetch.fcgi", None, None),
    ("crossref", ANSWER_PATH["crossref"], "", "application/json"),
    ("pubmed", "pubmed/efetch.fcgi", "", "text/xml"),
]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTCHECK_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _config(tmp_path: Path, order: list[str]) -> Path:
    path = tmp_path / "quick.toml"
    path.write_text("[http]\nbackoff = 0.01\nretries = 1\nmax_retry_after = 0.1\n"
                    f"[services]\norder = {json.dumps(order)}\n", "utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _cached_keys(cache_dir: Path) -> list[str]:
    db = cache_dir / "cache.sqlite3"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT key FROM entries")]


@pytest.mark.parametrize("service, path, body, ctype", BAD_ANSWERS,
                         ids=[f"{s}-{p.split('/')[1].split(':')[0]}-{i}"
                              for i, (s, p, _, _) in enumerate(BAD_ANSWERS)])
def test_service_answers_bad_answer_exits_3_is_not_cached_and_is_retried(
        env, monkeypatch, service, path, body, ctype):
    monkeypatch.setenv("FACTCHECK_CONFIG", str(_config(env, [service])))
    with ServiceStandIn(papers=[(PAPER, PMID)]) as stand_in:
        for name, value in stand_in.env.items():
            monkeypatch.setenv(name, value)
        if body is None:
            stand_in.inject(path, "malformed")
        else:
            stand_in.respond(path, body, content_type=ctype or "application/json")
        bad = invoke("resolve", DOI)
        assert bad.exit_code == 3, bad.output
        assert SERVICE_NAME[service] in bad.output
        assert "Traceback" not in bad.output
        assert not [k for k in _cached_keys(env / "cache") if f"/{path}" in k]
        stand_in.clear_faults()
        good = invoke("resolve", DOI)
    assert good.exit_code == 0, good.output
    data = json.loads(good.stdout)
    assert data["doi"] == DOI and data["source"] == service and data["abstract"]


def test_service_answers_every_service_broken_names_them(env, monkeypatch):
    monkeypatch.setenv("FACTCHECK_CONFIG",
                       str(_config(env, ["pubmed", "europepmc", "crossref", "openalex"])))
    with ServiceStandIn(papers=[(PAPER, PMID)]) as stand_in:
        for name, value in stand_in.env.items():
            monkeypatch.setenv(name, value)
        for path in ANSWER_PATH.values():
            stand_in.respond(path, HTML_ERROR, content_type="text/html")
        bad = invoke("resolve", DOI)
        assert bad.exit_code == 3, bad.output
        assert "PubMed" in bad.output and "crossref (failed)" in bad.output
        assert _cached_keys(env / "cache") == []
        stand_in.clear_faults()
        good = invoke("resolve", DOI)
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["source"] == "pubmed"


def test_service_answers_stale_parsed_answer_still_serves_when_the_service_breaks(tmp_path):
    with ServiceStandIn(papers=[(PAPER, PMID)]) as stand_in:
        settings = stand_in.settings(tmp_path)
        client = CrossrefClient(settings, make_session(settings), cache=_cache(tmp_path, ttl=0))
        assert client.by_doi(DOI).doi == DOI  # cached, and at once stale (ttl 0)
        stand_in.respond(ANSWER_PATH["crossref"], HTML_ERROR, content_type="text/html")
        paper = client.by_doi(DOI)
    assert paper is not None and paper.doi == DOI and paper.abstract


def test_service_answers_malformed_answer_cached_by_an_older_version_is_fetched_again(tmp_path):
    with ServiceStandIn(papers=[(PAPER, PMID)]) as stand_in:
        settings = stand_in.settings(tmp_path)
        cache = _cache(tmp_path)
        client = CrossrefClient(settings, make_session(settings), cache=cache)
        cache.put("crossref", f"{client.base_url}/works/10.5555/x", HTML_ERROR)
        paper = client.by_doi(DOI)
        assert paper is not None and paper.abstract
        assert len(stand_in.requests_for("crossref")) == 1


def _cache(tmp_path: Path, ttl: int = 3600) -> Cache:
    return Cache(tmp_path / "cache", ttl)


# -- identifiers: refused before any request ------------------------------------------------------

BAD_DOIS = [
    "10.5555/../../../../etc/passwd",
    "10.5555/x/../../../etc/passwd",
    "10.5555/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "10.5555/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "10.5555/%252e%252e/%252e%252e/etc/passwd",
    "https://doi.org/10.5555/../x",
    "doi:10.5555/./x",
    "10.5555/..",
    "10.5555/x\x07y",
    "10.5555/x\x00",
    "10.5555/x\x1b[31m",
    "10.5555/a b",
    "10.5555/a\tb",
    "10.5555/x\ny",
    "10.5555/x\u2028y",
    "10.5555/x\\..\\..\\etc",
]


@pytest.mark.parametrize("doi", BAD_DOIS)
def test_service_answers_bad_doi_refused_before_any_request(env, monkeypatch, doi):
    monkeypatch.setenv("FACTCHECK_CONFIG",
                       str(_config(env, ["pubmed", "europepmc", "crossref", "openalex"])))
    with ServiceStandIn(papers=[(PAPER, PMID)]) as stand_in:
        for name, value in stand_in.env.items():
            monkeypatch.setenv(name, value)
        result = invoke("resolve", doi)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "DOI" in lines[0], result.output
        assert stand_in.requests == []


@pytest.mark.parametrize("doi", ["10.5555/../../../../etc/passwd", "10.5555/%2e%2e/x",
                                 "10.5555/x\x07", "10.5555/a b"])
def test_service_answers_bad_paper_option_refused_before_any_request(env, monkeypatch, doi):
    monkeypatch.setenv("FACTCHECK_CONFIG",
                       str(_config(env, ["pubmed", "europepmc", "crossref", "openalex"])))
    story = CASES / "coffee-mortality-causal" / "story.html"
    with ServiceStandIn(papers=[(PAPER, PMID)]) as stand_in:
        for name, value in stand_in.env.items():
            monkeypatch.setenv(name, value)
        result = invoke("check", str(story), "--paper", doi)
        assert result.exit_code == 2, result.output
        assert "DOI" in result.output
        assert stand_in.requests == []


@pytest.mark.parametrize("client_class, method, value", [
    (PubMedClient, "by_doi", "10.5555/../../etc/passwd"),
    (EuropePMCClient, "by_doi", "10.5555/%2e%2e/x"),
    (CrossrefClient, "by_doi", "10.5555/../../etc/passwd"),
    (CrossrefClient, "by_doi", "10.5555/x\x00"),
    (OpenAlexClient, "by_doi", "10.5555/x y"),
    (PubMedClient, "by_pmid", "123/../../etc"),
    (PubMedClient, "by_pmid", "12a"),
    (EuropePMCClient, "by_pmid", "1 OR 2"),
    (OpenAlexClient, "by_pmid", "../../etc/passwd"),
    (EuropePMCClient, "by_pmcid", "PMC1 OR x"),
    (OpenAlexClient, "by_pmcid", "PMC1/../../x"),
    (OpenAlexClient, "by_pmcid", "1234"),
])
def test_service_answers_clients_validate_identifiers(tmp_path, client_class, method, value):
    with ServiceStandIn() as stand_in:
        settings = stand_in.settings(tmp_path)
        client = client_class(settings, make_session(settings))
        with pytest.raises(InputError) as info:
            getattr(client, method)(value)
        assert "\n" not in str(info.value)
        assert stand_in.requests == []


@pytest.mark.parametrize("path", ["../../etc/passwd", "works/../../../etc/passwd",
                                  "works/%2e%2e/%2e%2e/etc", "works/..%2f..%2fetc",
                                  "works\\..\\..\\etc", "works/\x00/../../x"])
def test_service_answers_url_outside_the_base_is_refused(tmp_path, path):
    with ServiceStandIn() as stand_in:
        settings = stand_in.settings(tmp_path)
        client = CrossrefClient(settings, make_session(settings))
        with pytest.raises(InputError, match="outside"):
            client.fetch(path, {}, "test", parse=str)
        assert stand_in.requests == []


@pytest.mark.parametrize("text", BAD_DOIS + ["10.5555/x\x85y", "10.5555/", "11.5555/x", "10.55/x"])
def test_service_answers_normalize_doi_rejects_what_no_request_may_carry(text):
    from factcheck import identifiers
    assert identifiers.normalize_doi(text) is None
    assert parse.normalize_doi(text) is None
    if not any(ch.isspace() for ch in text):  # in story text a DOI ends at a space
        assert citations.normalize_doi(text) is None


@pytest.mark.parametrize("text, expected", [
    ("10.1007/S40263-025-01183-7", "10.1007/s40263-025-01183-7"),
    ("doi:10.5555/ABC.1", "10.5555/abc.1"),
    ("https://doi.org/10.5555/abc.1", "10.5555/abc.1"),
    ("https://dx.doi.org/10.5555/abc.1", "10.5555/abc.1"),
    ("10.1002/(SICI)1097-4636(199706)35:4<437::AID-JBM5>3.0.CO;2-B",
     "10.1002/(sici)1097-4636(199706)35:4<437::aid-jbm5>3.0.co;2-b"),
    ("10.5555/a%2Fb", "10.5555/a/b"),
    ("  10.5555/x  ", "10.5555/x"),
])
def test_service_answers_normalize_doi_the_two_agree(text, expected):
    from factcheck import identifiers
    assert identifiers.normalize_doi(text) == expected
    assert parse.normalize_doi(text) == expected
    if "<" not in text:  # in story text a DOI ends at "<"
        assert citations.normalize_doi(text) == expected


def test_service_answers_story_text_and_links_with_bad_dois_give_no_doi_citation(env, tmp_path):
    page = tmp_path / "story.html"
    page.write_text(
        "<html><head><title>Walks and sleep</title></head><body><article><h1>Evening walks "
        "help older adults fall asleep, trial finds</h1><p>The trial, published in Invented "
        "Sleep Medicine (doi: 10.5555/../../../etc/passwd), randomised 120 adults aged 65 or "
        "over to evening walks or usual care for eight weeks.</p><p>Sleep onset came nine "
        "minutes sooner, the researchers report (<a href='https://doi.org/10.5555/%2e%2e/"
        "%2e%2e/etc/passwd'>the paper</a>, <a href='https://doi.org/10.5555/x%07y'>a copy</a>)."
        "</p><p>Walking in the early evening is safe for most people, the authors add, though "
        "people with heart disease should ask their doctor first.</p></article></body></html>",
        "utf-8")
    result = invoke("extract", str(page), "--offline")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["citations"]
    assert not [c for c in found if c["kind"] == "doi"], found


def test_service_answers_landing_page_with_bad_dois_gives_no_doi(tmp_path, settings):
    page = ("<!DOCTYPE html><html><head><title>Evening walks and sleep | Invented Sleep</title>"
            "<meta name='citation_title' content='Evening walks and sleep onset'>"
            "<meta name='citation_doi' content='10.5555/../../../etc/passwd'>"
            "<meta name='dc.identifier' content='doi:10.5555/x\x07y'></head><body><article>"
            "<h1>Evening walks and sleep onset</h1><p>Read it at <a href='https://doi.org/"
            "10.5555/%2e%2e/%2e%2e/etc/passwd'>doi.org</a> or as doi:10.5555/./x.</p>"
            "</article></body></html>").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    root = tmp_path / "rules"
    shutil.copytree(rules_dir(), root)
    table = root / "citations" / "publisher_urls.tsv"
    table.write_text(table.read_text("utf-8") + "local-journal\t^https?://127\\.0\\.0\\.1:\\d+"
                     "/journal/\turl\ttest server: journal article pages\n", "utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/journal/walks"
        found = follow_links((Citation(kind="url", value=url, quote="the study", score=0.6),),
                             settings.with_(retries=0, host_delay=0.0), None, load_rules(root),
                             max_pages=1)
    finally:
        server.shutdown()
        server.server_close()
    assert not [c for c in found if c.kind == "doi"], found


@pytest.mark.parametrize("query", ["10.5555/../x", "10.5555/a b", "doi:10.5555/x\x07"])
def test_service_answers_citation_for_query_refuses_a_bad_doi(query):
    with pytest.raises(InputError, match="DOI"):
        citation_for_query(query)


# -- the nightly job: a story that failed for a service reason is checked again -------------------

def test_service_answers_feed_story_failed_for_a_service_reason_is_retried(tmp_path, rules):
    slug = "coffee-mortality-causal"
    paper = paper_from_file(CASES / slug / "pubmed.xml")
    body = (CASES / slug / "story.html").read_bytes()
    pages: dict[str, bytes] = {f"/news/{slug}": body}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            data = pages.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            ctype = "application/rss+xml" if self.path.startswith("/feeds/") else "text/html"
            self.send_header("Content-Type", f"{ctype}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages["/feeds/rss.xml"] = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Health</title>"
        f"<link>{base}</link><description>news</description><item><guid>guid-1</guid>"
        f"<link>{escape(base)}/news/{slug}</link><title>Coffee helps you live longer, major "
        "study shows</title><description>A study of 400,000 people followed for 13 years."
        "</description></item></channel></rss>").encode()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with ServiceStandIn(papers=[(paper, paper.pmid)]) as stand_in:
            settings = stand_in.settings(tmp_path / "state").with_(host_delay=0.0)
            settings = settings.with_(smtp=load_settings(env=stand_in.env).smtp)
            wrong = {"pubmed/esearch.fcgi": json.dumps({"esearchresult": {"idlist": [[1]]}}),
                     "europepmc/search": json.dumps({"resultList": {"result": [
                         {"id": "1", "doi": paper.doi, "title": ["x"]}]}}),
                     "crossref/works": json.dumps({"message": {"DOI": paper.doi,
                                                               "abstract": ["x"]}}),
                     "openalex/works": json.dumps({"id": "W1", "authorships": "x"})}
            for path, text in wrong.items():
                stand_in.respond(path, text)
            first = run_feeds([f"{base}/feeds/rss.xml"], settings, rules=rules, quiet=True)
            assert first.failed == 1 and first.checked == 0, first.summary()
            stand_in.clear_faults()
            second = run_feeds([f"{base}/feeds/rss.xml"], settings, rules=rules, quiet=True)
    finally:
        server.shutdown()
        server.server_close()
    assert second.checked == 1 and second.seen == 0, second.summary()


# -- property tests: random answers raise UpstreamError or nothing ----------------------------------

KEYS = sorted({
    # the fields the parsers read, so random answers reach past the first check
    "esearchresult", "idlist", "ERROR", "count", "resultList", "result", "hitCount",
    "abstractText", "pmid", "pmcid", "doi", "title", "journalInfo", "journal", "isoabbreviation",
    "medlineAbbreviation", "pubYear", "yearOfPublication", "authorList", "author", "firstName",
    "lastName", "collectiveName", "fullName", "authorString", "pubTypeList", "pubType",
    "commentCorrectionList", "commentCorrection", "type", "reference", "note", "id", "source",
    "firstPublicationDate", "electronicPublicationDate", "printPublicationDate", "message",
    "status", "message-type", "items", "DOI", "given", "family", "name", "subtype",
    "updated-by", "update-to", "label", "relation", "container-title", "abstract", "URL",
    "issued", "published", "published-print", "published-online", "created", "date-parts",
    "score", "results", "ids", "abstract_inverted_index", "primary_location", "display_name",
    "authorships", "raw_author_name", "is_retracted", "publication_year", "publication_date",
    "is-retracted-by", "is-retraction-of",
})
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["10.5555/x", "2019", "PMC1", "12",
                                                           "<jats:p>x</jats:p>", "<h4>A</h4>b"]))
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=4)), children,
                        max_size=6)),
    max_leaves=30)
PARSERS = [parse.parse_esearch_json, parse.parse_europepmc_json, parse.parse_crossref_json,
           parse.parse_crossref_items, parse.parse_openalex_json, parse.parse_openalex_list]
PROPERTY = hsettings(max_examples=2000, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _accepts(parser, text: str) -> None:
    try:
        out = parser(text, "test")
    except UpstreamError as exc:
        assert exc.service in SERVICE_NAME and "\n" not in str(exc).strip()
        return
    for item in out if isinstance(out, list) else [out]:
        paper = item[0] if isinstance(item, tuple) else item
        if isinstance(paper, Paper):
            assert paper.doi is None or parse.normalize_doi(paper.doi) == paper.doi
            assert paper.pmid is None or paper.pmid.isascii() and paper.pmid.isdigit()
            assert paper.year is None or isinstance(paper.year, int)
        else:
            assert isinstance(paper, str) and paper.isascii() and paper.isdigit()


FIELDS = st.recursive(  # a record's field: small, so 2,000 answers are made in seconds
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(KEYS), children, max_size=4)),
    max_leaves=6)
RECORDS = st.dictionaries(st.sampled_from(KEYS), FIELDS, max_size=8)
WORKS = st.one_of(RECORDS, st.builds(lambda r: {**r, "DOI": "10.5555/x"}, RECORDS))
SHAPED = {  # the answer's outer shape, right, with random records inside
    "parse_esearch_json": st.builds(lambda ids, rest: {"esearchresult": {**rest, "idlist": ids}},
                                    st.lists(JSON_VALUES, max_size=4), RECORDS),
    "parse_europepmc_json": st.builds(lambda rs: {"hitCount": len(rs), "resultList": {"result": rs}},
                                      st.lists(RECORDS, max_size=2)),
    "parse_crossref_json": st.builds(lambda r: {"status": "ok", "message": r}, WORKS),
    "parse_crossref_items": st.builds(lambda rs: {"status": "ok", "message": {"items": rs}},
                                      st.lists(WORKS, max_size=2)),
    "parse_openalex_json": st.builds(lambda r: {"id": "https://openalex.org/W1", **r}, RECORDS),
    "parse_openalex_list": st.builds(lambda rs: {"results": rs}, st.lists(RECORDS, max_size=2)),
}


@pytest.mark.parametrize("parser", PARSERS, ids=[p.__name__ for p in PARSERS])
def test_service_answers_random_json_raises_only_upstream_error(parser):
    @PROPERTY
    @given(value=st.one_of(JSON_VALUES, SHAPED[parser.__name__]))
    def check(value):
        _accepts(parser, json.dumps(value))

    check()


@PROPERTY
@given(data=st.binary(max_size=300))
@example(data="<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
              "<ArticleDate><Year>2019</Year><Month>\u00b2</Month></ArticleDate></Article>"
              "</MedlineCitation></PubmedArticle></PubmedArticleSet>".encode())
@example(data=b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1/../2</PMID>"
              b"</MedlineCitation></PubmedArticle></PubmedArticleSet>")
def test_service_answers_random_bytes_to_efetch_raise_only_upstream_error(data):
    _accepts(parse.parse_efetch_xml, data.decode("utf-8", errors="replace"))


TAGS = ["PubmedArticleSet", "PubmedArticle", "MedlineCitation", "PMID", "Article",
        "ArticleTitle", "Abstract", "AbstractText", "Journal", "Title", "ISOAbbreviation",
        "JournalIssue", "PubDate", "Year", "Month", "Day", "MedlineDate", "ArticleDate",
        "AuthorList", "Author", "LastName", "ForeName", "Initials", "CollectiveName",
        "PubmedData", "ArticleIdList", "ArticleId", "ELocationID", "PublicationTypeList",
        "PublicationType", "CommentsCorrectionsList", "CommentsCorrections", "RefSource",
        "MedlineJournalInfo", "MedlineTA", "i", "sup"]
ATTRS = st.dictionaries(st.sampled_from(["Label", "NlmCategory", "IdType", "EIdType", "ValidYN",
                                         "RefType"]),
                        st.sampled_from(["doi", "pmc", "pubmed", "N", "Y", "RetractionIn",
                                         "RESULTS", "x", "10.5555/x", ""]), max_size=2)
XML_TEXT = st.one_of(st.sampled_from(["", "2019", "Mar", "12", "²", "10.5555/x", "PMC1",
                                      "10.5555/../x", "1 2", "x"]), st.text(max_size=6))


def _element(tag: str, attrs: dict[str, str], text: str, children: list[str]) -> str:
    shown = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
    return f"<{tag}{shown}>{escape(text)}{''.join(children)}</{tag}>"


XML_TREES = st.recursive(
    st.builds(_element, st.sampled_from(TAGS), ATTRS, XML_TEXT, st.just([])),
    lambda children: st.builds(_element, st.sampled_from(TAGS), ATTRS, XML_TEXT,
                               st.lists(children, max_size=4)),
    max_leaves=25)


@PROPERTY
@given(tree=XML_TREES, root=st.sampled_from(["PubmedArticleSet", "PubmedArticle", None]))
def test_service_answers_random_efetch_trees_raise_only_upstream_error(tree, root):
    _accepts(parse.parse_efetch_xml, f"<{root}>{tree}</{root}>" if root else tree)
