"""Score the article stage's body text on the article-extraction benchmark (../shared/datasets).

The benchmark (Zyte/Scrapinghub, 181 real article pages; see its SOURCE.md) gives each page's
article body as ground truth: no headline, standfirst or captions. So the figure is for the
paragraphs of `Article.paragraphs` whose role is "body", joined by newlines; the whole
`Article.text` is reported beside it for information. The bar is plain `trafilatura.extract`
run on the same decoded pages in the same run, so a new trafilatura release moves both figures.

Scoring is the benchmark's own `evaluate.py` (precision/recall/F1 over 4-word shingles, each
page normalised, averaged over pages; accuracy is the share of pages whose tokens match exactly),
loaded from the data set's folder; nothing of it is copied here. A page that factcheck refuses
(an ExtractionError) scores as an empty prediction and is counted.

Called by `evaluate_datasets.run_dataset_evals` (hence `factcheck eval`).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import logging
import time
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import trafilatura

from .config import Settings
from .errors import FactcheckError
from .evaluate_datasets import DatasetScore, _sample, _table
from .extract import extract_article
from .fetch import decode
from .rules import Rules
from .types import Page

logger = logging.getLogger(__name__)

FOLDER = "article-extraction-benchmark"
MARKER = "ground-truth.json"
WORST_SHOWN = 5  # pages listed where factcheck's body falls furthest below the bar


def load_scorer(folder: Path) -> ModuleType:
    """The benchmark's own evaluate.py, imported from the data set's folder."""
    spec = importlib.util.spec_from_file_location("_extraction_benchmark_scorer",
                                                  folder / "evaluate.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(folder / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_page(folder: Path, key: str, url: str) -> Page:
    """One benchmark page, decoded the way `factcheck extract FILE` decodes a saved page."""
    content = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
    html, encoding = decode(content, None, html=True)
    return Page(url=url, final_url=url, status=200, content_type="text/html",
                encoding=encoding, html=html, fetched_at="2019-11-20T00:00:00+00:00")


def predict(page: Page, settings: Settings, rules: Rules | None) -> tuple[str, str, str | None]:
    """factcheck's body text, its whole text, and the error message when the page was refused."""
    try:
        article = extract_article(page, settings, rules)
    except FactcheckError as exc:
        return "", "", str(exc)
    body = "\n".join(article.text[p.start:p.end] for p in article.paragraphs
                     if p.role == "body")
    return body, article.text, None


def eval_extraction_benchmark(datasets_dir: Path, settings: Settings, rules: Rules | None = None,
                              limit: int | None = None) -> DatasetScore:
    """Body F1/precision/recall of factcheck and of plain trafilatura on the benchmark's pages.

    Args:
        datasets_dir: the folder holding `article-extraction-benchmark/`.
        settings: extraction settings (`min_article_chars`).
        rules: the loaded rules; the shipped rules/pages/ tables when None.
        limit: score this many evenly spaced pages instead of all 181.

    Returns:
        A DatasetScore named "article-extraction-benchmark" whose figures hold "f1",
        "precision", "recall", "accuracy" (factcheck's body), the same with a "bar_" prefix
        (plain trafilatura), "whole_f1" (factcheck's whole text), "refused" and "n".
    """
    started = time.perf_counter()
    folder = datasets_dir / FOLDER
    scorer = load_scorer(folder)
    truth_all: dict[str, dict[str, Any]] = json.loads((folder / MARKER).read_text("utf-8"))
    keys = _sample(sorted(truth_all), limit)
    truth = {k: truth_all[k] for k in keys}
    body: dict[str, dict[str, str]] = {}
    whole: dict[str, dict[str, str]] = {}
    plain: dict[str, dict[str, str]] = {}
    refused: list[str] = []
    for key in keys:
        page = read_page(folder, key, truth[key].get("url", ""))
        ours, text, error = predict(page, settings, rules)
        if error:
            refused.append(f"{key[:12]}: {error}")
        body[key], whole[key] = {"articleBody": ours}, {"articleBody": text}
        plain[key] = {"articleBody": trafilatura.extract(page.html) or ""}
    ours_m = scorer.evaluate(truth, body, 0)
    bar_m = scorer.evaluate(truth, plain, 0)
    whole_m = scorer.evaluate(truth, whole, 0)
    figures = {name: float(ours_m[name]) for name in ("f1", "precision", "recall", "accuracy")}
    figures.update({f"bar_{name}": float(bar_m[name])
                    for name in ("f1", "precision", "recall", "accuracy")})
    figures.update(whole_f1=float(whole_m["f1"]), refused=float(len(refused)), n=float(len(keys)))
    bar_name = f"plain trafilatura {version('trafilatura')}"
    rows: list[list[object]] = [
        ["factcheck, body", ours_m["f1"], ours_m["precision"], ours_m["recall"],
         ours_m["accuracy"]],
        [f"{bar_name} (the bar, this run)", bar_m["f1"], bar_m["precision"], bar_m["recall"],
         bar_m["accuracy"]],
        ["factcheck, whole text (headline, standfirst, captions, body)", whole_m["f1"],
         whole_m["precision"], whole_m["recall"], whole_m["accuracy"]],
    ]
    worst = _worst_pages(scorer, truth, body, plain)
    md = "\n".join([
        f"### Article body, article-extraction benchmark ({len(keys)} pages)", "",
        _table(["extractor", "F1", "precision", "recall", "accuracy"], rows), "",
        "The benchmark's own scorer (4-word shingles, per page, averaged). The ground truth is "
        "the body alone, so the body is what is scored; the whole text is shown for reference.",
        f"Pages factcheck refused: {len(refused)}" + "".join(f"\n- {r}" for r in refused), "",
        "Pages where factcheck's body falls furthest below the bar (F1 ours / bar): "
        + ("none." if not worst else ""),
        *(f"- {url}: {a:.3f} / {b:.3f}" for url, a, b in worst),
    ])
    return DatasetScore(FOLDER, figures, md, time.perf_counter() - started,
                        {"anchor": f"{bar_name} {bar_m['f1']:.3f} (same run)",
                         "refused": refused})


def _worst_pages(scorer: ModuleType, truth: dict[str, dict[str, Any]],
                 ours: dict[str, dict[str, str]],
                 bar: dict[str, dict[str, str]]) -> list[tuple[str, float, float]]:
    def f1(key: str, pred: dict[str, dict[str, str]]) -> float:
        tp, fp, fn = scorer.string_shingle_matching(truth[key].get("articleBody", ""),
                                                    pred[key]["articleBody"])
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    gaps = [(truth[k].get("url", k), f1(k, ours), f1(k, bar)) for k in truth]
    gaps = [g for g in gaps if g[1] < g[2]]
    return sorted(gaps, key=lambda g: g[1] - g[2])[:WORST_SHOWN]


__all__ = ["FOLDER", "eval_extraction_benchmark", "load_scorer", "predict", "read_page"]
