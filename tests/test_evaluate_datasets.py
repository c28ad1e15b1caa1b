"""The data-set evaluations run on small, evenly spaced slices and stay above pinned floors.

Floors were measured on these slices (2025, rules as of issue 3) and rounded down by about 0.02.
Never lower them to make a test pass: raise them when the rules improve.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck import evaluate_datasets as ed

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"

# measured on the slices below: yu 0.665, eureka 0.600, bc5cdr 0.751, evidence 0.705 / 0.553, exaggeration 0.507
FLOOR_CAUSAL_YU2019 = 0.64
FLOOR_EUREKA = 0.58
FLOOR_BC5CDR_F1 = 0.73
FLOOR_EVIDENCE_ORACLE = 0.68
FLOOR_EVIDENCE_ABSTRACT = 0.53
FLOOR_EXAGGERATION = 0.48


def _need(folder: str) -> None:
    if not (DATASETS / folder).is_dir():
        pytest.skip(f"{DATASETS / folder} is absent")


def test_evaluate_datasets_causal_yu2019(analyzer) -> None:
    _need("causal-language-yu2019")
    score = ed.eval_causal_yu2019(DATASETS, analyzer, limit=600)
    assert score.figures["n"] == 600
    assert score.figures["macro_f1"] >= FLOOR_CAUSAL_YU2019
    assert "| macro |" in score.markdown


def test_evaluate_datasets_eureka(analyzer) -> None:
    _need("claim-strength-yu2020")
    assert ed.eval_claim_strength_eureka(DATASETS, analyzer, limit=400).figures["macro_f1"] >= FLOOR_EUREKA


def test_evaluate_datasets_bc5cdr(analyzer) -> None:
    _need("bc5cdr")
    figures = ed.eval_bc5cdr_chemicals(DATASETS, analyzer, limit=60).figures
    assert figures["f1"] >= FLOOR_BC5CDR_F1
    assert figures["overlap_f1"] >= figures["f1"]


def test_evaluate_datasets_evidence_inference(analyzer) -> None:
    _need("evidence-inference-2.0")
    figures = ed.eval_evidence_inference(DATASETS, analyzer, limit=80).figures
    assert figures["oracle_macro_f1"] >= FLOOR_EVIDENCE_ORACLE
    assert figures["abstract_macro_f1"] >= FLOOR_EVIDENCE_ABSTRACT


def test_evaluate_datasets_sci_exaggeration(analyzer) -> None:
    _need("sci-exaggeration")
    assert ed.eval_sci_exaggeration(DATASETS, analyzer, limit=200).figures["macro_f1"] >= FLOOR_EXAGGERATION


def test_evaluate_datasets_pubtator_offsets() -> None:
    _need("bc5cdr")
    pmid, text, mentions = ed.read_pubtator(DATASETS / "bc5cdr" / "CDR_TestSet.PubTator.txt")[0]
    assert all(text[s:e] == mention for s, e, mention, _ in mentions)


def test_evaluate_datasets_metrics() -> None:
    scores = ed.prf(["a", "a", "b", "b"], ["a", "b", "b", "b"], ("a", "b"))
    assert scores["a"][:3] == (1.0, 0.5, pytest.approx(2 / 3))
    assert scores["accuracy"][0] == 0.75
    assert ed.exaggeration(3, 1) == "exaggerates" and ed.exaggeration(1, 2) == "downplays"


def test_evaluate_datasets_skips_absent_folders(tmp_path, analyzer) -> None:
    out = ed.run_dataset_evals(tmp_path, analyzer)
    assert out.count("skipped") == 5


def test_evaluate_datasets_t1_strength(analyzer) -> None:
    def t1(text: str, origin: str = "article") -> int:
        return ed._AGGREGATE["first"](analyzer.claims(text, origin))

    assert t1("Coffee is linked to a lower risk of death.") == 1
    assert t1("Exercise may reduce pain.") == 2
    assert t1("Crossing your arms relieves pain.") == 3
    assert t1("Oral contraceptives are not associated with birth defects.") == 0
    # no causal cue: a plain statement of a finding reads as causal, a hedged one as conditional
    assert t1("Protein activates the cells that keep us awake.") == 3
    assert t1("The study suggests a potential new treatment for arthritis.") == 2
    # only the first sentence counts; the next one is not a clause of it
    assert t1("Coffee is linked to a lower risk of death. The finding could lead to new advice.") == 1


def test_evaluate_datasets_first_sentence(analyzer) -> None:
    claims = analyzer.claims("Pain fell by 20% in the drug group, whereas it rose by 5% with placebo. "
                             "Coffee is linked to a lower risk of death.", "abstract")
    first = ed._first_sentence(claims)
    assert len(claims) == 3 and len(first) == 2
