"""Rendering and the JSON contract, on a hand-built report."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from factcheck.report import render_html, render_markdown, render_text, verdict
from factcheck.serialize import report_from_data, report_to_data, report_to_json
from factcheck.types import Article, Finding, Paper, Paragraph, Report, Section, Span, Supported

STORY = ("Pill <script>alert(1)</script> cures colds\n"
         "A new trial of 99 patients found the pill cut cold duration by 3 days.")
ABSTRACT = "In 99 women, the pill shortened colds by 1.1 days (95% CI -0.2 to 2.4)."


def _span(text: str, quote: str) -> Span:
    at = text.index(quote)
    return Span(at, at + len(quote), quote)


def make_report() -> Report:
    title_end = STORY.index("\n")
    article = Article(url="https://news.example/pill", final_url="https://news.example/pill",
                      title="Pill <script>alert(1)</script> cures colds", published="2025-01-02",
                      site="Example News", authors=("A. Writer",), text=STORY,
                      paragraphs=(Paragraph(0, title_end, "title"),
                                  Paragraph(title_end + 1, len(STORY), "body")))
    paper = Paper(source="pubmed", title="Pill for colds: a randomised trial",
                  sections=(Section("RESULTS", "RESULTS", ABSTRACT),), doi="10.5555/pill",
                  pmid="90000009", journal="Journal of Examples", year=2024,
                  authors=("Ann Author", "Bo Second"),
                  publication_types=("Randomized Controlled Trial",))
    findings = (
        Finding(kind="number_mismatch", severity="high", message="The story says 3 days; the abstract says 1.1 days.",
                article_span=_span(STORY, "cut cold duration by 3 days"),
                abstract_span=_span(ABSTRACT, "shortened colds by 1.1 days"),
                rule_id="number-mismatch-v1", score=0.71, paper="10.5555/pill",
                details=(("article_value", "3 days"),)),
        Finding(kind="population", severity="medium", message="The study was in women.",
                article_span=_span(STORY, "99 patients"), abstract_span=_span(ABSTRACT, "In 99 women"),
                rule_id="population-generalised-v1", paper="10.5555/pill"),
    )
    supported = (Supported(message="99 matches", article_span=_span(STORY, "99 patients"),
                           abstract_span=_span(ABSTRACT, "In 99 women"), rule_id="number-match-v1"),)
    return Report(version="0.1.0", source="https://news.example/pill", article=article,
                  papers=(paper,), findings=findings, supported=supported,
                  warnings=("The abstract is short.",), checked_at="2025-01-03T00:00:00+00:00")


def test_report_json_contract():
    data = json.loads(report_to_json(make_report()))
    assert {"version", "article", "papers", "findings", "supported", "warnings"} <= set(data)
    first = data["findings"][0]
    assert {"kind", "severity", "message", "article_quote", "abstract_quote"} <= set(first)
    assert first["article_quote"] == "cut cold duration by 3 days"
    assert first["abstract_quote"] == "shortened colds by 1.1 days"
    assert data["papers"][0]["abstract"] == ABSTRACT


def test_report_json_round_trip():
    report = make_report()
    again = report_from_data(report_to_data(report))
    assert again.findings == report.findings
    assert again.supported == report.supported
    assert again.papers == report.papers
    assert again.article == report.article


def test_report_html_escapes_story_text_and_highlights_quotes():
    html = render_html(make_report())
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark>cut cold duration by 3 days</mark>" in html
    assert "<mark>shortened colds by 1.1 days</mark>" in html
    assert "https://doi.org/10.5555/pill" in html and "pubmed.ncbi.nlm.nih.gov/90000009" in html
    assert "Needs correction" in html
    assert "<th scope=\"col\">The story says</th>" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # no external assets


def test_report_html_inlined_for_email():
    html = render_html(make_report(), inline=True)
    assert 'style="' in html and "<mark" in html


def test_report_text_and_markdown():
    text = render_text(make_report())
    assert "[HIGH] number_mismatch" in text and "“99 patients”" in text
    md = render_markdown(make_report())
    assert "### 1. HIGH — number_mismatch" in md
    assert "- Story: “cut cold duration by 3 days”" in md


def test_report_verdict_clean():
    report = make_report()
    clean = Report(version="0", source="x", article=report.article, papers=report.papers)
    assert verdict(clean)[1] == "clean"


def test_report_html_structure_for_the_desk():
    html = render_html(make_report())
    assert '<div class="verdict high" role="status">' in html
    assert 'href="#finding-1">Number differs</a>' in html  # at-a-glance list links each finding
    assert '<th scope="row">Abstract from</th><td>PubMed</td>' in html
    assert "number-mismatch-v1" in html and "alignment 0.71" in html
    assert "checked 2025-01-03 00:00 UTC" in html
    assert "<script" not in html  # no JavaScript at all
    assert "The abstract is short." in html


def test_report_markdown_escapes_story_html():
    md = render_markdown(make_report())
    assert "<script>" not in md and "\\<script\\>" in md


HOSTILE = ("Click [here](javascript:alert(1)) or see ![pixel](https://tracker.example/p.png) "
           "and <img src=x onerror=alert(2)> now.\n"
           "1. Not a list; # not a heading; *not emphasis*; `not code`; a | table | cell.")


def _hostile_report() -> Report:
    base = make_report()
    article = replace(base.article, text=HOSTILE, title="[t](javascript:alert(3))",
                      paragraphs=(Paragraph(0, len(HOSTILE), "body"),),
                      url="javascript:alert(4)", final_url="javascript:alert(4)")
    finding = replace(base.findings[0], article_span=Span(0, len(HOSTILE), HOSTILE),
                      message="The story says [this](javascript:alert(5)).")
    paper = replace(base.papers[0], title="![x](https://tracker.example/t.png)",
                    doi="10.5555/a>b<img src=x>")
    return replace(base, article=article, findings=(finding,), papers=(paper,),
                   supported=(), warnings=("<b>bold</b> ![w](https://tracker.example/w.png)",))


def test_report_markdown_shows_story_markdown_as_text():
    markdown_it = pytest.importorskip("markdown_it")
    md = render_markdown(_hostile_report())
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    assert "href=\"javascript" not in html and "<img" not in html and "<b>" not in html
    assert 'src="' not in html and 'href="https://tracker' not in html
    # the story's words are all still there, as text
    assert "Click [here](javascript:alert(1))" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "*not emphasis*" in html and "<em>" not in html and "<code>not" not in html
    assert "<ol" not in html and "<h1>Not" not in html
    # the links the report makes itself are still links
    assert '<a href="https://doi.org/10.5555/a%3Eb%3Cimg%20src=x%3E">' in html
