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
    assert out.count("skipped") == 6  # five claims-stage data sets and the extraction benchmark


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


# measured on all 181 pages (issue 12): factcheck's body 0.964, plain trafilatura 2.3.1 0.953
FLOOR_EXTRACTION_BODY_F1 = 0.96


def test_evaluate_datasets_extraction_benchmark_beats_plain_trafilatura(settings) -> None:
    from factcheck.extract_benchmark import FOLDER, eval_extraction_benchmark
    _need(FOLDER)
    score = eval_extraction_benchmark(DATASETS, settings)
    figures = score.figures
    assert figures["n"] == 181
    assert figures["f1"] >= FLOOR_EXTRACTION_BODY_F1
    assert figures["f1"] >= figures["bar_f1"], score.markdown
    assert figures["precision"] >= figures["bar_precision"], score.markdown
    assert "plain trafilatura" in score.markdown and "(the bar, this run)" in score.markdown


_TOY_SCORER = '''
import re


def _words(text):
    return set(re.findall(r"\\w+", text.lower()))


def evaluate(truth, prediction, n_bootstrap):
    f1s = []
    for key, item in truth.items():
        gold, pred = _words(item["articleBody"]), _words(prediction[key]["articleBody"])
        both = len(gold & pred)
        f1s.append(2 * both / (len(gold) + len(pred)) if both else 0.0)
    mean = sum(f1s) / len(f1s)
    return {"f1": mean, "precision": mean, "recall": mean, "accuracy": 0.0}


def string_shingle_matching(true, pred):
    gold, found = _words(true), _words(pred)
    return len(gold & found), len(found - gold), len(gold - found)
'''


def test_evaluate_datasets_extraction_benchmark_scores_the_body_alone(tmp_path, settings) -> None:
    """A two-page stand-in for the benchmark, with a toy scorer: the headline is not scored."""
    import gzip
    import json

    from factcheck.extract_benchmark import FOLDER, eval_extraction_benchmark
    folder = tmp_path / FOLDER
    (folder / "html").mkdir(parents=True)
    (folder / "evaluate.py").write_text(_TOY_SCORER, "utf-8")
    truth = {}
    for key, topic in (("a1", "walking"), ("b2", "sleeping")):
        body = " ".join(f"Paragraph {i} says that {topic} for ten minutes a day helped the people "
                        f"in the trial, the authors wrote in their report." for i in range(5))
        html = (f"<html><body><article><h1>Headline words: zebra quokka {topic}</h1>"
                + "".join(f"<p>{s.strip()}.</p>" for s in body.split(".") if s.strip())
                + "</article></body></html>")
        (folder / "html" / f"{key}.html.gz").write_bytes(gzip.compress(html.encode("utf-8")))
        truth[key] = {"articleBody": body, "url": f"https://news.example.org/{key}"}
    (folder / "ground-truth.json").write_text(json.dumps(truth), "utf-8")
    score = eval_extraction_benchmark(tmp_path, settings.with_(min_article_chars=200))
    assert score.figures["n"] == 2 and score.figures["refused"] == 0
    assert score.figures["f1"] == pytest.approx(1.0)
    assert score.figures["whole_f1"] < score.figures["f1"]  # the headline's words are extra
    assert "| factcheck, body | 1.000 |" in score.markdown
