"""The pipeline's own decisions: which papers a story is checked against, and what it reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ServiceStandIn

from factcheck.errors import CitationNotFound, PaperNotFound
from factcheck.pipeline import build_context, check
from factcheck.resolve import paper_from_file

CASES = Path(__file__).resolve().parent.parent / "corpora" / "cases"
COFFEE = paper_from_file(CASES / "coffee-mortality-causal" / "pubmed.xml")
STEPS = paper_from_file(CASES / "step-count-study-design" / "pubmed.xml")

STORY = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Two habits and a longer life</title></head><body>
<nav><a href="https://doi.org/10.5555/not-a-story-link">Most read</a></nav>
<article><h1>Coffee and walking both tied to longer lives</h1>
<p>A large study published in <a href="https://doi.org/{COFFEE.doi}">The New England Journal of
Medicine</a> followed 229,119 men and 173,141 women aged 50 to 71 for 13 years.</p>
<p>Men who drank two or three cups of coffee a day had a risk of death about 10 per cent lower
than men who drank none, the researchers reported, an association rather than proof of cause.</p>
<p>Separately, a study of US adults in <a href="https://doi.org/{STEPS.doi}">JAMA</a> found that
people taking 8,000 steps a day had a 51 percent lower risk of dying from any cause than those
taking 4,000 steps, over about ten years of follow-up.</p>
<p>Neither study can show that the habit itself caused the difference, experts cautioned, since
people who drink coffee or walk a lot may differ in many other ways from those who do not.</p>
</article><aside class="related"><a href="https://doi.org/10.5555/related-rail">Tea and
the heart</a></aside></body></html>"""


@pytest.fixture
def served(tmp_path):
    with ServiceStandIn(papers=[COFFEE, STEPS]) as stand_in:
        yield stand_in, stand_in.settings(tmp_path / "cache")


def _story(tmp_path: Path) -> str:
    path = tmp_path / "story.html"
    path.write_text(STORY, "utf-8")
    return str(path)


def test_pipeline_checks_claims_against_every_paper_the_story_cites(served, tmp_path):
    stand_in, settings = served
    report = check(_story(tmp_path), build_context(settings))
    assert [p.doi for p in report.papers] == [COFFEE.doi, STEPS.doi]
    by_paper = {s.paper for s in report.supported} | {f.paper for f in report.findings}
    assert STEPS.doi in by_paper, "no claim was checked against the second paper"
    steps_items = [s for s in report.supported if s.paper == STEPS.doi]
    assert any("51" in s.article_span.text for s in steps_items)
    asked = " ".join(str(r.params) for r in stand_in.requests)
    assert "not-a-story-link" not in asked and "related-rail" not in asked


def test_pipeline_secondary_paper_that_fails_is_a_warning(tmp_path):
    with ServiceStandIn(papers=[COFFEE]) as stand_in:
        report = check(_story(tmp_path), build_context(stand_in.settings(tmp_path / "cache")))
    assert [p.doi for p in report.papers] == [COFFEE.doi]
    assert any(STEPS.doi in w and "could not be checked" in w for w in report.warnings)


def test_pipeline_paper_argument_overrides_the_story(served, tmp_path):
    _, settings = served
    report = check(_story(tmp_path), build_context(settings), paper=STEPS.doi)
    assert [p.doi for p in report.papers] == [STEPS.doi]


def test_pipeline_story_citing_only_rails_is_not_checked(served, tmp_path):
    stand_in, settings = served
    path = tmp_path / "rail.html"
    path.write_text(STORY.replace(f'<a href="https://doi.org/{COFFEE.doi}">', "<a>")
                    .replace(f'<a href="https://doi.org/{STEPS.doi}">', "<a>"), "utf-8")
    # only the journal names are left: a reference search, which finds nothing certain
    with pytest.raises((CitationNotFound, PaperNotFound)) as caught:
        check(str(path), build_context(settings))
    assert caught.value.exit_status == 2
    asked = " ".join(str(r.params) + r.path for r in stand_in.requests)
    assert "related-rail" not in asked and "not-a-story-link" not in asked
