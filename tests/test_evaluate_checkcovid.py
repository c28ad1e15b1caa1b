"""Check-COVID: the decision rule on hand-written pairs, and a floor on a slice of dev.

The floor was measured on the slice below (dev, 90 evenly spaced claims, gold evidence) with the
rule's defaults tuned on train+dev; never lower it to make a test pass: raise it when the
engine improves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck import evaluate_checkcovid as cc
from factcheck.config import load_settings
from factcheck.pipeline import build_context

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
REPO = Path(__file__).resolve().parent.parent

# measured on dev, limit=90: all 0.369 (extracted 0.342, composed 0.364). Never lower.
FLOOR_DEV_SLICE_MACRO_F1 = 0.35

TRIAL = ["Hospitalized adults with COVID-19 were randomized to remdesivir or placebo.",
         ("Remdesivir shortened the median recovery time to 11 days, compared with 15 days with "
         "placebo.")]
VENTILATED = [("In patients receiving invasive mechanical ventilation, dexamethasone reduced "
              "28-day mortality compared with usual care.")]


@pytest.fixture(scope="module")
def ctx(analyzer):
    context = build_context(load_settings(env={"FACTCHECK_CACHE": str(REPO / ".pytest_cache" / "fc")})
                            .with_(offline=True))
    context._analyzer = analyzer  # the session's loaded pipeline
    return context


def test_supported_claim(ctx) -> None:
    v = cc.verify("Remdesivir shortened recovery time to 11 days in hospitalized adults with "
                  "COVID-19.", "A trial", TRIAL, ctx)
    assert v.label == "SUPPORT", v.reason
    assert any(s.rule_id == "number-match-v1" for s in v.supported)


def test_refuted_number(ctx) -> None:
    v = cc.verify("The trial found that hydroxychloroquine reduced mortality by 30%.", "A trial",
                  ["We enrolled 1,561 patients.", "Hydroxychloroquine reduced mortality by 10%."], ctx)
    assert v.label == "REFUTE", v.reason
    assert any(f.kind == "number_mismatch" for f in v.findings)


def test_refuted_direction(ctx) -> None:
    v = cc.verify("Dexamethasone increased mortality among patients receiving mechanical "
                  "ventilation.", "A trial", VENTILATED, ctx)
    assert v.label == "REFUTE", v.reason
    assert any(f.kind == "direction" for f in v.findings)


def test_unrelated_is_nei(ctx) -> None:
    v = cc.verify("Wearing face masks in public reduces the spread of the coronavirus.", "Genomes",
                  ["We sequenced 84 viral genomes collected in Connecticut between March and May."],
                  ctx)
    assert v.label == "NOTENOUGHINFO", v.reason


def test_sections_carry_headings() -> None:
    sections = cc.sections_for(["Methods: we did X.", "And Y.", "FINDINGS: Z rose.", "So W."])
    assert [s.category for s in sections] == ["METHODS", "METHODS", "RESULTS", "RESULTS"]
    assert cc.sections_for(["Plain sentence."])[0].category == "UNASSIGNED"


def test_dev_slice_floor(ctx) -> None:
    if not (DATASETS / "check-covid" / "corpus.json").is_file():
        pytest.skip(f"{DATASETS / 'check-covid'} is absent")
    score = cc.eval_check_covid(DATASETS, ctx, split="dev", limit=90, abstract_mode=False)
    assert score.figures["n"] == 90
    assert score.figures["all_macro_f1"] >= FLOOR_DEV_SLICE_MACRO_F1
    assert "| SUPPORT |" in score.markdown


def test_run_skips_when_absent(tmp_path: Path, ctx) -> None:
    assert "skipped" in cc.run_check_covid(tmp_path, ctx)
