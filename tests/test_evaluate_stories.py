"""Scoring real stories (factcheck/evaluate_stories.py): hand-made findings against hand-made
annotations, and two real cases of ../shared/stories end to end, agreeing with the official
scorer (../shared/tools/score_stories.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from factcheck.evaluate_stories import ScoringRules, evaluate_stories, lands_on, score_story, summary_row
from factcheck.types import FINDING_KINDS, Finding, Span

STORY = ("Diet soda can double your risk of dementia, a study says. The researchers followed "
         "2,888 adults for ten years. People who drank one diet soda a day were three times as "
         "likely to have a stroke.")


def finding(quote: str, kind: str = "causal_language", severity: str = "medium",
            rule_id: str = "test-rule") -> Finding:
    at = STORY.find(quote)
    start = max(at, 0)
    return Finding(kind=kind, severity=severity, message="", rule_id=rule_id,  # type: ignore[arg-type]
                   article_span=Span(start, start + len(quote), quote))


@pytest.fixture(scope="module")
def scoring() -> ScoringRules:
    from factcheck.rules import load_rules
    return ScoringRules.from_rules(load_rules())


CAUSAL = {"kind": "causal_language", "severity": "high",
          "article_quote": "Diet soda can double your risk of dementia"}
COUNT = {"kind": "sample_size", "severity": "medium",
         "article_quote": "The researchers followed 2,888 adults for ten years"}
FAITHFUL = {"article_quote": "People who drank one diet soda a day were three times as likely "
                             "to have a stroke"}


def test_every_finding_kind_has_a_family(scoring) -> None:
    assert set(scoring.families) == set(FINDING_KINDS)


def test_lands_on_by_half_the_shorter_quotes_words(scoring) -> None:
    # {soda, would, double, risk, dementia} shares 4 of its 5 words with the annotation
    assert lands_on("soda would double the risk of dementia", CAUSAL["article_quote"], scoring)
    # stop words do not count: only "diet" is shared of {diet, drinks, harm}
    assert not lands_on("diet drinks in the harm", CAUSAL["article_quote"], scoring)
    # exactly half of the shorter one's words is enough
    assert lands_on("dementia rates fall", "dementia risk", scoring)
    assert not lands_on("", CAUSAL["article_quote"], scoring)
    assert not lands_on("the of and", "the of and", scoring)  # nothing left after stop words


def test_strict_family_and_sentence(scoring) -> None:
    expected = {"discrepancies": [CAUSAL, COUNT], "faithful_claims": [FAITHFUL]}
    found = [finding("Diet soda can double your risk of dementia"),  # same kind: strict
             finding("followed 2,888 adults for ten years", kind="duration")]  # same family
    s = score_story("case", expected, found, scoring)
    assert (s.expected, s.found_strict, s.found_family, s.found_sentence) == (2, 1, 2, 2)
    assert [m.kind for m in s.misses] == ["sample_size"] and s.misses[0].family
    assert s.misses[0].landed == "duration"
    assert (s.serious, s.true_serious, s.false_alarms) == (2, 2, 0)

    other_family = [finding("followed 2,888 adults for ten years", kind="hedge_dropped")]
    s = score_story("case", expected, other_family, scoring)
    assert (s.found_strict, s.found_family, s.found_sentence) == (0, 0, 1)
    assert not s.misses[1].family and s.misses[1].landed == "hedge_dropped"


def test_false_alarm_on_a_faithful_claim(scoring) -> None:
    expected = {"discrepancies": [CAUSAL], "faithful_claims": [FAITHFUL]}
    found = [finding("three times as likely to have a stroke", kind="number_mismatch",
                     severity="high", rule_id="numbers-v1"),
             finding("a study says", kind="other")]  # on nothing annotated: neither
    s = score_story("case", expected, found, scoring)
    assert (s.serious, s.true_serious, s.false_alarms) == (2, 0, 1)
    alarm = s.alarms[0]
    assert (alarm.kind, alarm.severity, alarm.rule_id, alarm.on) == (
        "number_mismatch", "high", "numbers-v1", "a faithful claim")
    assert alarm.quote == "three times as likely to have a stroke"


def test_any_serious_finding_in_a_faithful_story_is_a_false_alarm(scoring) -> None:
    expected = {"discrepancies": [], "faithful_claims": [FAITHFUL]}
    found = [finding("a study says", kind="other", severity="medium"),
             finding("three times as likely", kind="number_mismatch", severity="high")]
    s = score_story("case", expected, found, scoring)
    assert (s.expected, s.serious, s.false_alarms) == (0, 2, 2)
    assert {a.on for a in s.alarms} == {"a faithful story"}


def test_low_severity_counts_for_recall_but_not_precision_or_alarms(scoring) -> None:
    expected = {"discrepancies": [CAUSAL], "faithful_claims": [FAITHFUL]}
    found = [finding("Diet soda can double your risk of dementia", severity="low"),
             finding("three times as likely to have a stroke", kind="other", severity="low")]
    s = score_story("case", expected, found, scoring)
    assert s.found_strict == 1
    assert (s.serious, s.true_serious, s.false_alarms) == (0, 0, 0)
    faithful_story = score_story("case", {"faithful_claims": [FAITHFUL]}, found, scoring)
    assert (faithful_story.serious, faithful_story.false_alarms) == (0, 0)


def test_summary_row_adds_up(scoring) -> None:
    a = score_story("a", {"discrepancies": [CAUSAL, COUNT]},
                    [finding("Diet soda can double your risk of dementia")], scoring)
    b = score_story("b", {"discrepancies": []}, [finding("a study says", kind="other")], scoring)
    b.ran = False
    assert summary_row("run", [a, b]) == ("run", "1/2", "0.50 (1/2)", "0.50 (1/2)", "0.50 (1/2)",
                                          "0.50 (1/2)", "1")


CASES = ("cancer-04-hair-dye-breast-cancer-power102fm", "cardio-02-omega3-chd-kuwaittimes-faithful")


def test_two_real_stories_agree_with_the_official_scorer(shared_dir: Path, tmp_path: Path) -> None:
    if not all((shared_dir / "stories" / c / "expected.json").is_file() for c in CASES):
        pytest.skip("../shared/stories is absent")
    scores = evaluate_stories(shared_dir, tmp_path / "cache", oracle=True, cases=CASES)
    assert [s.case for s in scores] == list(CASES)
    for s in scores:
        paper = json.loads((shared_dir / "stories" / s.case / "paper.json").read_text("utf-8"))
        assert s.ran and (s.paper or "").lower() == paper["doi"].lower()
        assert s.found_strict <= s.found_family <= s.found_sentence <= s.expected
        assert len(s.misses) == s.expected - s.found_strict
        assert len(s.alarms) == s.false_alarms <= s.serious - s.true_serious
    faithful = scores[1]
    assert faithful.expected == 0 and faithful.false_alarms == faithful.serious

    scorer = shared_dir / "tools" / "score_stories.py"
    if not scorer.is_file():
        pytest.skip("../shared/tools/score_stories.py is absent")
    out = tmp_path / "official"
    subprocess.run([sys.executable, str(scorer), str(shared_dir / "stories"), "--cmd",
                    f"{sys.executable} -m factcheck", "--oracle-paper", "--out", str(out),
                    "--only", *CASES], check=True, capture_output=True, timeout=600)
    official = json.loads((out / "summary.json").read_text("utf-8"))
    expected = sum(s.expected for s in scores)
    serious = sum(s.serious for s in scores)
    assert official["ran_ok"] == sum(s.ran for s in scores)
    assert official["recall_strict"] == round(sum(s.found_strict for s in scores) / expected, 3)
    assert official["recall_family"] == round(sum(s.found_family for s in scores) / expected, 3)
    assert official["recall_sentence"] == round(sum(s.found_sentence for s in scores) / expected, 3)
    assert official["precision_serious"] == round(
        sum(s.true_serious for s in scores) / max(1, serious), 3)
    assert official["false_alarms"] == sum(s.false_alarms for s in scores)


FLOORS = tomllib.loads((Path(__file__).parent / "floors.toml").read_text("utf-8"))["stories"]


def test_real_stories_stay_above_their_floors(shared_dir: Path, tmp_path: Path) -> None:
    """The judge on all 24 real stories, paper given: the figures of tests/floors.toml [stories]."""
    if not (shared_dir / "stories").is_dir() or not (shared_dir / "tools" / "mockapis.py").is_file():
        pytest.skip("../shared/stories is absent")
    scores = evaluate_stories(shared_dir, tmp_path / "cache", oracle=True)
    expected = sum(s.expected for s in scores)
    assert len(scores) == 24 and all(s.ran for s in scores)
    family = sum(s.found_family for s in scores) / expected
    sentence = sum(s.found_sentence for s in scores) / expected
    precision = sum(s.true_serious for s in scores) / max(1, sum(s.serious for s in scores))
    alarms = sum(s.false_alarms for s in scores)
    assert family >= FLOORS["recall_family"], f"family recall {family:.3f} fell below the floor"
    assert sentence >= FLOORS["recall_sentence"], f"sentence recall {sentence:.3f} fell below the floor"
    assert precision >= FLOORS["precision"], f"precision {precision:.3f} fell below the floor"
    assert alarms <= FLOORS["false_alarms"], f"{alarms} false alarms, more than the floor allows"
