"""follow_links against a real HTTP server on 127.0.0.1: journal pages, press releases, searches.

The server counts every request it answers, so the tests can assert the fetch budget. Its pages
are classified by two extra rows appended to a copy of publisher_urls.tsv (a newsroom and a
journal on 127.0.0.1), so the shipped classification is what is under test.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from factcheck.citations import find_citations
from factcheck.config import Settings
from factcheck.errors import RuleError
from factcheck.extract import extract_article
from factcheck.fetch import HostPoliteness, RobotsRules, fetch_page
from factcheck.landing import LandingAttempt, follow_links
from factcheck.rules import Rules, load_rules, rules_dir
from factcheck.types import Citation

Handler = Callable[[BaseHTTPRequestHandler, int], None]

LOCAL_ROWS = (
    "local-newsroom\t^https?://127\\.0\\.0\\.1:\\d+/newsroom/\turl:secondary\t"
    "test server: press releases\n"
    "local-journal\t^https?://127\\.0\\.0\\.1:\\d+/journal/\turl\t"
    "test server: journal article pages without a DOI in the URL\n"
)


def _send(req: BaseHTTPRequestHandler, status: int, body: bytes = b"",
          content_type: str = "text/html; charset=utf-8") -> None:
    try:
        req.send_response(status)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (the timeout test)


class _Server:
    """A threaded server: routes map a path to a handler; `total` counts every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        self.total = 0
        self._lock = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = self.path.split("?")[0]
                with server._lock:
                    server.total += 1
                    server.hits[path] = count = server.hits.get(path, 0) + 1
                handler = server.routes.get(path)
                if handler is None:
                    _send(self, 404, b"<html><body><h1>Page not found</h1></body></html>")
                else:
                    handler(self, count)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def page(self, path: str, html: str, content_type: str = "text/html; charset=utf-8") -> str:
        body = html.encode("utf-8")
        self.routes[path] = lambda req, n: _send(req, 200, body, content_type)
        return self.url(path)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Rules:
    """The shipped rules plus the test server's newsroom and journal rows."""
    root = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(rules_dir(), root)
    table = root / "citations" / "publisher_urls.tsv"
    table.write_text(table.read_text("utf-8") + LOCAL_ROWS, "utf-8")
    return load_rules(root)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No retries (so one fetch is one request), no politeness delay, a small size cap."""
    return settings.with_(retries=0, backoff=0.0, host_delay=0.0, connect_timeout=2.0,
                          read_timeout=2.0, max_page_bytes=60_000)


def _url(value: str, *, score: float = 0.6, primary: bool = False) -> Citation:
    return Citation(kind="url", value=value, quote="the study", score=score, primary=primary)


# -- pages the server holds (written for these tests) --------------------------------------------

JOURNAL_TAGS = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Time-Restricted Eating and Weight Loss in Adults With Obesity | JAMA Internal Medicine</title>
<meta name="citation_title" content="Time-Restricted Eating and Weight Loss in Adults With Obesity">
<meta name="citation_journal_title" content="JAMA Internal Medicine">
<meta name="citation_author" content="Okafor, Adaeze">
<meta name="citation_publication_date" content="2024/03/11">
<meta name="dc.identifier" content="ISSN 2168-6106">
<meta name="DC.Identifier" scheme="doi" content="doi:10.1001/jamainternmed.2024.0217">
<meta name="citation_doi" content="10.1001/jamainternmed.2024.0217">
<meta name="citation_pmid" content="38461234">
</head><body>
<header><a href="/journal/jamainternmed">JAMA Internal Medicine</a></header>
<article>
<h1>Time-Restricted Eating and Weight Loss in Adults With Obesity</h1>
<p class="meta">Original Investigation · March 11, 2024</p>
<section class="abstract"><h2>Key Points</h2>
<p><b>Question</b> Does eating within an 8-hour window lead to more weight loss than calorie
counting over 12 months?</p>
<p><b>Findings</b> In this randomized clinical trial of 184 adults with obesity, weight loss did
not differ significantly between the groups.</p></section>
<section class="references"><h2>References</h2><ol>
<li>Lowe DA, et al. Effects of time-restricted eating on weight loss.
<a href="https://doi.org/10.1001/jamainternmed.2020.4153">Crossref</a></li>
<li>Liu D, et al. Calorie restriction with or without time-restricted eating.
<a href="https://doi.org/10.1056/NEJMoa2114833">Crossref</a></li>
</ol></section></article></body></html>
"""
JOURNAL_TAGS_DOI = "10.1001/jamainternmed.2024.0217"

JOURNAL_LINK_ONLY = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Daily Step Count and Incident Atrial Fibrillation | Circulation</title></head>
<body><main>
<h1>Daily Step Count and Incident Atrial Fibrillation: A Prospective Cohort Study</h1>
<div class="epub-section">Originally published 4 June 2024</div>
<div class="cite-this">Cite this article:
<a href="https://doi.org/10.1161/CIRCULATIONAHA.123.065432">https://doi.org/10.1161/CIRCULATIONAHA.123.065432</a>
</div>
<section><h2>Abstract</h2><p>Among 78 500 adults followed for 7 years, more daily steps were
associated with a lower incidence of atrial fibrillation.</p></section>
<section><h2>References</h2><ol>
<li>Chugh SS, et al. Worldwide epidemiology of atrial fibrillation.
<a href="https://doi.org/10.1161/CIRCULATIONAHA.113.005119">doi</a></li>
</ol></section></main></body></html>
"""

JOURNAL_TEXT_ONLY = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Nutrients | Mediterranean diet and sleep</title>
</head><body><div id="content">
<h1>Adherence to a Mediterranean Diet and Sleep Quality in Older Adults</h1>
<p class="bib">Nutrients <b>2024</b>, 16(1), 123; doi: 10.3390/nu16010123.</p>
<p>Received: 2 November 2023 / Accepted: 20 December 2023</p>
<h2>Abstract</h2><p>In 1 452 adults aged 65 years or older, higher adherence was associated with
better self-reported sleep quality (adjusted odds ratio 1.28).</p>
</div></body></html>
"""

JOURNAL_JSON_LD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Vitamin D and fractures</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebPage", "url": "https://journal.example/article/8812"},
  {"@type": "ScholarlyArticle",
   "headline": "Vitamin D Supplementation and Fractures in Midlife and Older Adults",
   "identifier": [{"@type": "PropertyValue", "propertyID": "doi",
                   "value": "10.1056/NEJMoa2202106"}],
   "citation": [{"@type": "ScholarlyArticle",
                 "sameAs": "https://doi.org/10.1001/jama.2019.0001"}]}
]}
</script></head>
<body><h1>Vitamin D Supplementation and Fractures in Midlife and Older Adults</h1>
<p>See also an earlier report, doi: 10.1001/jama.2019.0001.</p></body></html>
"""

JOURNAL_TRUST = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Statins and memory</title>
<meta name="prism.doi" content="doi:10.1007/s40263-025-01183-7">
<link rel="canonical" href="https://link.example/article/5501">
</head><body><h1>Statins and memory in older adults</h1>
<p>Related work: doi: 10.1007/s40263-024-00001-1 and
<a href="https://doi.org/10.1007/s40263-023-00002-2">an older review</a>.</p></body></html>
"""

PRESS_TO_JOURNAL = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Eating within eight hours did not beat calorie counting, trial finds | Newsroom</title>
</head><body>
<nav><a href="/newsroom/">Newsroom home</a> <a href="/newsroom/experts">Find an expert</a></nav>
<article>
<h1>Eating within eight hours did not beat calorie counting, trial finds</h1>
<p class="date">March 11, 2024</p>
<p>People with obesity who ate all their meals within an eight-hour window lost about as much
weight over a year as those who counted calories, according to a randomized trial led by
researchers at the university's school of medicine.</p>
<p>The study, published today in
<a href="{journal}">JAMA Internal Medicine</a>, followed 184 adults for 12 months. "The timing
of meals may matter less than how much people eat," said Dr. Adaeze Okafor, the lead author.</p>
<p>Both groups lost weight, and the difference between them was not statistically significant.
The researchers say longer studies in more diverse groups are needed.</p>
</article>
<aside class="related"><h2>Related news</h2>
<a href="/newsroom/2023/intermittent-fasting-mice">Fasting mice live longer</a></aside>
<footer><a href="/newsroom/contact">Media contacts</a></footer>
</body></html>
"""

PRESS_TEXT_DOI = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Brisk walking linked to lower risk of type 2 diabetes | News release</title></head>
<body><article>
<h1>Brisk walking linked to lower risk of type 2 diabetes</h1>
<p>Adults who usually walked at a brisk pace had a lower risk of developing type 2 diabetes than
those who strolled, a pooled analysis of ten cohort studies from four countries suggests.</p>
<p>Walking faster than four kilometres an hour was associated with a 24 per cent lower risk,
the researchers report in the British Journal of Sports Medicine. The studies were
observational, so they cannot show that walking pace itself lowers the risk.</p>
<p>Journal: British Journal of Sports Medicine. DOI: 10.1136/bjsports-2023-107336.</p>
</article>
<aside class="related"><h2>More from the newsroom</h2>
<a href="https://doi.org/10.1016/j.jshs.2019.01.001">An earlier paper on running</a></aside>
</body></html>
"""

PRESS_DOI_LINK = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Weekend exercise as good as daily workouts for heart health | Press release</title>
</head><body><article>
<h1>Weekend exercise as good as daily workouts for heart health</h1>
<p>Packing the recommended 150 minutes of weekly activity into one or two days was linked to a
similar drop in heart disease risk as spreading it across the week, according to a study of
89 573 people who wore activity trackers for a week.</p>
<p>The findings are
<a href="https://doi.org/10.1001/jama.2023.9990">published in JAMA</a>. The study was
observational and relied on a single week of measurements, the authors caution.</p>
</article></body></html>
"""

STORY = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Should you stop eating after 6pm? A big trial says it may not matter</title></head>
<body><article>
<h1>Should you stop eating after 6pm? A big trial says it may not matter</h1>
<p>Time-restricted eating has been one of the most talked-about diets of the decade, but a new
year-long trial suggests it may not help people lose more weight than old-fashioned calorie
counting.</p>
<p>The study, <a href="{journal}">published in JAMA Internal Medicine</a>, followed 184 adults
with obesity. Both groups lost weight; the difference was not significant.</p>
<p>"What matters most is how much you eat," the lead author said.</p>
</article>
<footer><a href="/about">About us</a></footer></body></html>
"""


# -- journal article pages -----------------------------------------------------------------------


def test_landing_journal_page_meta_tags(server: _Server, settings: Settings, rules: Rules) -> None:
    page = server.page("/journal/jamainternmed/fullarticle/2815000", JOURNAL_TAGS)
    found = follow_links((_url(page, score=1.7, primary=True),), settings, None, rules,
                         max_pages=3)
    assert found == (Citation(kind="doi", value=JOURNAL_TAGS_DOI,
                              quote=f"citation_doi meta tag of {page}", score=1.7, primary=True),)
    assert server.total == 1


def test_landing_journal_page_doi_link_only(server: _Server, settings: Settings,
                                            rules: Rules) -> None:
    page = server.page("/journal/circ/article/065432", JOURNAL_LINK_ONLY)
    (found,) = follow_links((_url(page),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value) == ("doi", "10.1161/circulationaha.123.065432")
    assert found.quote == f"doi.org link on {page}"
    assert not found.primary and found.score == 0.6


def test_landing_journal_page_doi_in_text(server: _Server, settings: Settings,
                                          rules: Rules) -> None:
    page = server.page("/journal/nutrients/16/1/123", JOURNAL_TEXT_ONLY)
    (found,) = follow_links((_url(page),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value) == ("doi", "10.3390/nu16010123")
    assert found.quote == f"DOI in the text of {page}"


def test_landing_journal_page_json_ld_not_its_citations(server: _Server, settings: Settings,
                                                        rules: Rules) -> None:
    page = server.page("/journal/nejm/8812", JOURNAL_JSON_LD)
    (found,) = follow_links((_url(page),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value) == ("doi", "10.1056/nejmoa2202106")
    assert found.quote == f"JSON-LD ScholarlyArticle identifier of {page}"


def test_landing_journal_page_most_trusted_source_wins(server: _Server, settings: Settings,
                                                       rules: Rules) -> None:
    page = server.page("/journal/cns-drugs/5501", JOURNAL_TRUST)
    (found,) = follow_links((_url(page),), settings, None, rules, max_pages=3)
    assert found.value == "10.1007/s40263-025-01183-7"
    assert found.quote == f"prism.doi meta tag of {page}"


def test_landing_journal_page_pmid_when_no_doi(server: _Server, settings: Settings,
                                               rules: Rules) -> None:
    html = ('<html><head><meta name="citation_pmid" content="38461234">'
            '<meta name="dc.identifier" content="urn:issn:2168-6106"></head>'
            "<body><h1>An article</h1></body></html>")
    page = server.page("/journal/x/1", html)
    (found,) = follow_links((_url(page),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value, found.quote) == (
        "pmid", "38461234", f"citation_pmid meta tag of {page}")


def test_landing_journal_page_without_identifier(server: _Server, settings: Settings,
                                                 rules: Rules) -> None:
    page = server.page("/journal/x/2", "<html><body><h1>Subscribe to read</h1></body></html>")
    tried: list[LandingAttempt] = []
    assert follow_links((_url(page),), settings, None, rules, max_pages=3, tried=tried) == ()
    assert [(t.url, t.outcome) for t in tried] == [(page, "nothing")]


def test_landing_pdf_link_gives_its_doi(server: _Server, settings: Settings, rules: Rules) -> None:
    pdf = (b"%PDF-1.4\n1 0 obj << /Title (Aspirin in pregnancy) "
           b"/Subject (Obstet Gynecol doi:10.1097/AOG.0000000000005512) >> endobj\n%%EOF\n")
    server.routes["/journal/pdf/5512"] = lambda req, n: _send(req, 200, pdf, "application/pdf")
    page = server.url("/journal/pdf/5512")
    (found,) = follow_links((_url(page),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value) == ("doi", "10.1097/aog.0000000000005512")
    assert found.quote == f"DOI in the PDF at {page}"


# -- press releases ------------------------------------------------------------------------------


def test_landing_press_release_to_journal_page(server: _Server, settings: Settings,
                                               rules: Rules) -> None:
    journal = server.page("/journal/jamainternmed/fullarticle/2815000", JOURNAL_TAGS)
    release = server.page("/newsroom/2024/03/time-restricted-eating",
                          PRESS_TO_JOURNAL.replace("{journal}", journal))
    (found,) = follow_links((_url(release, score=0.35),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value, found.score, found.primary) == (
        "doi", JOURNAL_TAGS_DOI, 0.35, False)
    assert found.quote == (f"citation_doi meta tag of {journal}, linked from press release "
                           f"{release}")
    assert server.total == 2  # the release and the one hop; its related rail is not followed


def test_landing_press_release_doi_in_text(server: _Server, settings: Settings,
                                           rules: Rules) -> None:
    release = server.page("/newsroom/2024/brisk-walking", PRESS_TEXT_DOI)
    (found,) = follow_links((_url(release),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value) == ("doi", "10.1136/bjsports-2023-107336")
    assert found.quote == f"DOI in the text of press release {release}"


def test_landing_press_release_doi_link(server: _Server, settings: Settings,
                                        rules: Rules) -> None:
    release = server.page("/newsroom/2023/weekend-warrior", PRESS_DOI_LINK)
    (found,) = follow_links((_url(release),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value) == ("doi", "10.1001/jama.2023.9990")
    assert found.quote == f"DOI link in press release {release}"
    assert server.total == 1  # a DOI link needs no further fetch


def test_landing_press_release_hop_counts_against_the_budget(server: _Server, settings: Settings,
                                                             rules: Rules) -> None:
    journal = server.page("/journal/jamainternmed/fullarticle/2815000", JOURNAL_TAGS)
    release = server.page("/newsroom/2024/03/time-restricted-eating",
                          PRESS_TO_JOURNAL.replace("{journal}", journal))
    tried: list[LandingAttempt] = []
    assert follow_links((_url(release),), settings, None, rules, max_pages=1, tried=tried) == ()
    assert server.total == 1
    assert [(t.url, t.outcome) for t in tried] == [(journal, "over_budget")]


def test_landing_short_press_release_is_read_as_a_page(server: _Server, settings: Settings,
                                                      rules: Rules) -> None:
    html = ("<html><body><h1>New trial results</h1><p>Read the paper: "
            '<a href="https://doi.org/10.1016/S0140-6736(24)00001-2">The Lancet</a></p>'
            "</body></html>")
    release = server.page("/newsroom/short", html)
    (found,) = follow_links((_url(release),), settings, None, rules, max_pages=3)
    assert (found.kind, found.value) == ("doi", "10.1016/s0140-6736(24)00001-2")
    assert found.quote == f"doi.org link on {release}"


def test_landing_uses_the_runs_politeness(server: _Server, settings: Settings,
                                          rules: Rules) -> None:
    waits: list[float] = []
    polite = HostPoliteness(5.0, jitter=0.0, clock=lambda: 100.0, sleep=waits.append)
    pages = [server.page(f"/journal/p/{i}", JOURNAL_TAGS) for i in range(2)]
    follow_links(tuple(_url(p) for p in pages), settings, None, rules, max_pages=3,
                 politeness=polite)
    assert waits == [5.0]  # the second page on the same host waited the host delay


def test_landing_honours_robots_when_the_crawler_asks(server: _Server, settings: Settings,
                                                     rules: Rules) -> None:
    server.page("/robots.txt", "User-agent: *\nDisallow: /journal/private/\n", "text/plain")
    page = server.page("/journal/private/1", JOURNAL_TAGS)
    tried: list[LandingAttempt] = []
    robots = RobotsRules(settings, requests.Session())
    assert follow_links((_url(page),), settings, None, rules, max_pages=3, robots=robots,
                        tried=tried) == ()
    assert tried[0].outcome == "failed" and "robots.txt" in tried[0].detail
    assert server.hits.get("/journal/private/1") is None


# -- failures: 404, timeout, too large, not http ------------------------------------------------


def test_landing_bad_pages_are_skipped_and_recorded(server: _Server, settings: Settings,
                                                    rules: Rules,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    def slow(req: BaseHTTPRequestHandler, n: int) -> None:
        time.sleep(1.5)
        _send(req, 200, JOURNAL_TAGS.encode())

    server.routes["/journal/slow/1"] = slow
    big = "<html><body>" + "<p>Background paragraph.</p>" * 4000 + "</body></html>"
    server.page("/journal/big/1", big)
    good = server.page("/journal/jamainternmed/fullarticle/2815000", JOURNAL_TAGS)
    citations = (_url(server.url("/journal/missing/404"), score=0.9),
                 _url(server.url("/journal/slow/1"), score=0.8),
                 _url(server.url("/journal/big/1"), score=0.7),
                 _url(good, score=0.6))
    tried: list[LandingAttempt] = []
    with caplog.at_level(logging.INFO, logger="factcheck.landing"):
        found = follow_links(citations, settings.with_(read_timeout=0.4), None, rules,
                             max_pages=4, tried=tried)
    assert [(c.value, c.quote) for c in found] == [
        (JOURNAL_TAGS_DOI, f"citation_doi meta tag of {good}")]
    outcomes = {t.url: (t.outcome, t.detail) for t in tried}
    assert outcomes[server.url("/journal/missing/404")][0] == "failed"
    assert "page not found (HTTP 404)" in outcomes[server.url("/journal/missing/404")][1]
    assert "timed out" in outcomes[server.url("/journal/slow/1")][1]
    assert "TooLargeError" in outcomes[server.url("/journal/big/1")][1]
    assert outcomes[good][0] == "found"
    assert "page not found (HTTP 404)" in caplog.text
    assert server.total == 4


def test_landing_never_fetches_more_than_max_pages(server: _Server, settings: Settings,
                                                   rules: Rules) -> None:
    pages = [server.page(f"/journal/j/{i}", JOURNAL_TAGS.replace("2024.0217", f"2024.{i:04d}"))
             for i in range(5)]
    tried: list[LandingAttempt] = []
    found = follow_links(tuple(_url(p, score=1.0 - i / 10) for i, p in enumerate(pages)),
                         settings, None, rules, max_pages=2, tried=tried)
    assert [c.value for c in found] == ["10.1001/jamainternmed.2024.0000",
                                        "10.1001/jamainternmed.2024.0001"]
    assert server.total == 2
    assert [t.outcome for t in tried] == ["found", "found", "over_budget", "over_budget",
                                          "over_budget"]


def test_landing_zero_budget_fetches_nothing(server: _Server, settings: Settings,
                                             rules: Rules) -> None:
    page = server.page("/journal/j/1", JOURNAL_TAGS)
    assert follow_links((_url(page),), settings, None, rules, max_pages=0) == ()
    assert server.total == 0


@pytest.mark.parametrize("value", ["file:///etc/passwd", "ftp://ftp.example.org/paper.html",
                                   "javascript:alert(1)", "/relative/path.html"])
def test_landing_refuses_non_http_urls(settings: Settings, rules: Rules, value: str) -> None:
    tried: list[LandingAttempt] = []
    assert follow_links((_url(value),), settings, None, rules, max_pages=3, tried=tried) == ()
    assert [(t.outcome, t.detail) for t in tried] == [("refused", "not an http(s) URL")]


def test_landing_primary_first_and_existing_citations_not_repeated(
        server: _Server, settings: Settings, rules: Rules) -> None:
    first = server.page("/journal/a/1", JOURNAL_TAGS)
    second = server.page("/journal/b/1", JOURNAL_LINK_ONLY)
    story = (Citation("doi", JOURNAL_TAGS_DOI, "footer link", score=0.02),
             _url(second, score=0.9),
             _url(first, score=0.5, primary=True))
    found = follow_links(story, settings, None, rules, max_pages=3)
    # the primary page goes first; its DOI was cited only in a footer, so it is new as primary
    assert [(c.value, c.primary) for c in found] == [
        (JOURNAL_TAGS_DOI, True), ("10.1161/circulationaha.123.065432", False)]
    again = follow_links((Citation("doi", JOURNAL_TAGS_DOI, "body", 2.0, True), _url(first)),
                         settings, None, rules, max_pages=3)
    assert again == ()


# -- search links and trial registrations (no page fetch) ----------------------------------------


@pytest.mark.parametrize("link, kind, value", [
    ("https://pubmed.ncbi.nlm.nih.gov/?term=okafor+a%5Bau%5D+AND+time-restricted+eating",
     "reference", "okafor a time-restricted eating"),
    ("https://pubmed.ncbi.nlm.nih.gov/?term=38461234", "pmid", "38461234"),
    ("https://www.ncbi.nlm.nih.gov/pubmed/?term=10.1001%2Fjamainternmed.2024.0217%5Bdoi%5D",
     "doi", JOURNAL_TAGS_DOI),
])
def test_landing_search_link_becomes_a_citation(server: _Server, settings: Settings,
                                                rules: Rules, link: str, kind: str,
                                                value: str) -> None:
    (found,) = follow_links((_url(link, score=0.9, primary=True),), settings, None, rules,
                            max_pages=3)
    assert (found.kind, found.value, found.score, found.primary) == (kind, value, 0.9, True)
    assert found.quote == f"the query of search link {link}"
    assert server.total == 0


def test_landing_search_link_from_find_citations_keeps_its_query(rules: Rules,
                                                                 settings: Settings) -> None:
    from factcheck.types import Article, Link, Paragraph
    text = "Sleep and dementia\nThe study of 7 959 adults is indexed in PubMed."
    link = Link("https://pubmed.ncbi.nlm.nih.gov/?term=sabia+s%5Bau%5D+sleep+dementia",
                "indexed in PubMed", text.find("indexed"), text.find("indexed") + 17)
    article = Article(url="https://news.example/s", final_url="https://news.example/s",
                      title="Sleep and dementia", published=None, site=None, authors=(),
                      text=text, paragraphs=(Paragraph(0, 18, "title"),
                                             Paragraph(19, len(text), "body")), links=(link,))
    citations = find_citations(article, rules)
    assert any(c.kind == "url" and c.value.endswith("?term=sabia+s%5Bau%5D+sleep+dementia")
               for c in citations)
    found = follow_links(citations, settings, None, rules, max_pages=0)
    assert [(c.kind, c.value) for c in found] == [("reference", "sabia s sleep dementia")]


def _registry(server: _Server, settings: Settings) -> Settings:
    urls = dict(settings.service_urls, clinicaltrials=server.url("/ctgov/api/v2/"))
    return settings.with_(service_urls=urls)


def _study(*refs: tuple[str, str]) -> str:
    return json.dumps({"protocolSection": {"referencesModule": {"references": [
        {"pmid": pmid, "type": kind, "citation": "A trial report."} for pmid, kind in refs]}}})


def test_landing_trial_with_one_results_publication(server: _Server, settings: Settings,
                                                    rules: Rules) -> None:
    server.page("/ctgov/api/v2/studies/NCT04368728",
                _study(("32101234", "BACKGROUND"), ("33301246", "RESULT")), "application/json")
    nct = Citation("nct", "NCT04368728", "registered as NCT04368728", score=0.5, primary=True)
    (found,) = follow_links((nct,), _registry(server, settings), None, rules, max_pages=3)
    assert (found.kind, found.value, found.primary) == ("pmid", "33301246", True)
    assert found.quote == "results publication ClinicalTrials.gov lists for NCT04368728"
    assert server.total == 1


def test_landing_trial_with_several_results_is_left_alone(server: _Server, settings: Settings,
                                                          rules: Rules) -> None:
    server.page("/ctgov/api/v2/studies/NCT04368728",
                _study(("33301246", "RESULT"), ("34567890", "RESULT")), "application/json")
    nct = Citation("nct", "NCT04368728", None, score=0.5, primary=True)
    assert follow_links((nct,), _registry(server, settings), None, rules, max_pages=3) == ()


def test_landing_trial_not_looked_up_when_the_story_cites_its_paper(
        server: _Server, settings: Settings, rules: Rules) -> None:
    story = (Citation("doi", "10.1056/nejmoa2034577", None, 2.0, True),
             Citation("nct", "NCT04368728", None, 0.5))
    assert follow_links(story, _registry(server, settings), None, rules, max_pages=3) == ()
    assert server.total == 0


# -- end to end and rule errors ------------------------------------------------------------------


def test_landing_story_linking_a_journal_page_end_to_end(server: _Server, settings: Settings,
                                                         rules: Rules) -> None:
    journal = server.page("/journal/jamainternmed/fullarticle/2815000", JOURNAL_TAGS)
    story_url = server.page("/news/2024/eating-window", STORY.replace("{journal}", journal))
    article = extract_article(fetch_page(story_url, settings), settings, rules)
    citations = find_citations(article, rules)
    # the journal name in the text is a resolvable reference, so it, not the link, is primary
    assert [(c.kind, c.value, c.primary) for c in citations] == [
        ("url", journal, False), ("reference", "JAMA Internal Medicine", True)]
    found = follow_links(citations, settings, None, rules,
                         max_pages=settings.max_landing_pages)
    assert [(c.kind, c.value, c.score, c.primary) for c in found] == [
        ("doi", JOURNAL_TAGS_DOI, citations[0].score, False)]
    assert server.total == 2


def test_landing_malformed_vocabulary_raises(tmp_path: Path, settings: Settings) -> None:
    root = tmp_path / "rules"
    shutil.copytree(rules_dir(), root)
    table = root / "citations" / "landing_meta.tsv"
    table.write_text(table.read_text("utf-8") + "citation_isbn\tisbn\t1\tnot an identifier\n",
                     "utf-8")
    with pytest.raises(RuleError, match="kind 'isbn'"):
        follow_links((), settings, None, load_rules(root), max_pages=3)


def test_landing_link_row_must_exist(tmp_path: Path, settings: Settings) -> None:
    root = tmp_path / "rules"
    shutil.copytree(rules_dir(), root)
    table = root / "citations" / "landing_meta.tsv"
    table.write_text(table.read_text("utf-8") + "@link:no-such-row\tdoi\t1\ta typo\n", "utf-8")
    with pytest.raises(RuleError, match="names no row"):
        follow_links((), settings, None, load_rules(root), max_pages=3)


def test_landing_default_settings_budget(settings: Settings) -> None:
    assert settings.max_landing_pages == 3


def test_landing_pipeline_resolves_the_doi_of_a_linked_journal_page(server: _Server,
                                                                   settings: Settings,
                                                                   rules: Rules,
                                                                   tmp_path: Path) -> None:
    # the story links only the journal's article page: the pipeline follows it, takes the DOI
    # from its citation_doi tag and looks that DOI up, rather than searching from the prose
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from fakes import ServiceStandIn

    from factcheck.pipeline import build_context, find_papers, read_article
    from factcheck.types import Paper, Section
    paper = Paper(source="pubmed", title="Time-restricted eating and weight loss",
                  sections=(Section("RESULTS", "RESULTS", "Weight fell by 2.4 kg."),),
                  doi=JOURNAL_TAGS_DOI, pmid="90009901", journal="JAMA Internal Medicine",
                  year=2024, authors=("Ana Ruiz", "Ben Ode"))
    journal = server.page("/journal/jamainternmed/fullarticle/2815001", JOURNAL_TAGS)
    story_url = server.page("/news/2024/eating-window-2", STORY.replace("{journal}", journal))
    with ServiceStandIn(papers=[paper]) as stand_in:
        run = stand_in.settings(tmp_path).with_(retries=0, host_delay=0.0)
        ctx = build_context(run, rules)
        article = read_article(story_url, ctx)
        _, papers, _, _ = find_papers(article, ctx)
    assert papers[0].doi == JOURNAL_TAGS_DOI
    assert papers[0].found_by and "page the story links" in papers[0].found_by
    # looked up by its DOI, never searched for
    assert all(r.params.get("query", "").startswith("DOI:") for r in stand_in.requests
               if r.service == "europepmc")
    assert not any(r.service in ("openalex", "crossref") and "search" in str(r.params)
                   for r in stand_in.requests)
