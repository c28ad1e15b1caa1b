"""Every corpus case end to end (offline, paper from its pubmed.xml) against its expected.json."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from factcheck.evaluate import Tally, corpus_cases, evaluate_cases, score_case
from factcheck.pipeline import build_context, compare_texts, read_article
from factcheck.resolve import paper_from_file

CORPUS = Path(__file__).resolve().parent.parent / "corpora" / "cases"
FLOORS = tomllib.loads((Path(__file__).parent / "floors.toml").read_text("utf-8"))
CASES = corpus_cases(CORPUS)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, analyzer, rules):
    from factcheck.config import load_settings
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path_factory.mktemp("cache"))},
                             offline=True)
    context = build_context(settings, rules)
    context._analyzer = analyzer
    return context


def test_corpora_has_cases():
    assert len(CASES) >= 7


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpora_case_quotes_are_exact(case: Path, ctx):
    article = read_article(str(case / "story.html"), ctx)
    paper = paper_from_file(case / "pubmed.xml")
    report = compare_texts(article, (paper,), ctx)
    abstract = paper.abstract
    for f in report.findings:
        assert article.text[f.article_span.start:f.article_span.end] == f.article_span.text
        if f.abstract_span:
            assert abstract[f.abstract_span.start:f.abstract_span.end] == f.abstract_span.text
        assert f.message and f.rule_id
    for s in report.supported:
        assert article.text[s.article_span.start:s.article_span.end] == s.article_span.text
        assert abstract[s.abstract_span.start:s.abstract_span.end] == s.abstract_span.text


def test_corpora_accuracy_floors(ctx):
    scores = evaluate_cases(CASES, ctx)
    assert not [s.error for s in scores if s.error]
    tally = Tally()
    for s in scores:
        tally.add(s)
    precision, recall, *_ = tally.prf()
    floors = FLOORS["corpora"]
    assert precision >= floors["precision"], f"precision {precision:.3f} fell below the floor"
    assert recall >= floors["recall"], f"recall {recall:.3f} fell below the floor"
    total = sum(s.faithful_total for s in scores)
    confirmed = sum(s.faithful_confirmed for s in scores)
    assert confirmed / total >= floors["faithful_confirmed"]


def test_corpora_seed_floor(ctx, shared_dir):
    score = evaluate_cases([shared_dir / "seed"], ctx)[0]
    assert score.error is None
    assert len(score.matched) >= FLOORS["seed"]["found"]


def test_corpora_score_case_matches_by_kind_and_overlap(ctx):
    case = next(c for c in CASES if (c / "expected.json").read_text().count('"kind"') > 0)
    import json
    expected = json.loads((case / "expected.json").read_text("utf-8"))
    article = read_article(str(case / "story.html"), ctx)
    report = compare_texts(article, (paper_from_file(case / "pubmed.xml"),), ctx)
    score = score_case(case.name, report, expected)
    assert len(score.matched) + len(score.missed) == len(expected["discrepancies"])
    assert len(score.matched) + len(score.extra) == len(report.findings)
