"""The stages that read story text take time in proportion to it, on hostile text too.

Story text can be a 260 KB page: long runs with no space, of digits, capitals, brackets or
percent signs, a DOI or an abbreviation repeated thousands of times. For each shape, 100 KB
must take about 10x the time of 10 KB (a quadratic step would take about 100x); the bound is
generous, as in test_quantities. Each shape here was quadratic in some stage before issue 12.
"""

from __future__ import annotations

import time
from typing import Callable

import pytest

from factcheck.citations import find_citations
from factcheck.mention import MentionReader
from factcheck.nlp.quantities import build_finder, find_quantities
from factcheck.rules import Rules
from factcheck.types import Article, Paragraph

RATIO = 35  # 10x the text; quadratic would be ~100x


def _article(text: str) -> Article:
    paragraphs, pos = [], 0
    for line in text.split("\n"):
        paragraphs.append(Paragraph(pos, pos + len(line), "body"))
        pos += len(line) + 1
    return Article(url="https://news.example.org/s", final_url="https://news.example.org/s",
                   title=None, published="2024-05-01", site=None, authors=(), text=text,
                   paragraphs=tuple(paragraphs))


def _ratio(run: Callable[[str], object], unit: str, repeat: int = 3) -> float:
    def best(text: str) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run(text)
            times.append(time.perf_counter() - started)
        return min(times)

    small, large = unit * (10_000 // len(unit)), unit * (100_000 // len(unit))
    return best(large) / max(best(small), 1e-3)


@pytest.mark.parametrize("unit", ["1", "1 ", "1 1", "95% CI 1-2 ", "1% ", "A", "a-b-", "(("])
def test_text_scaling_quantities(unit: str, rules: Rules) -> None:
    finder = build_finder(rules)
    ratio = _ratio(lambda text: find_quantities(text, finder), unit)
    assert ratio < RATIO, f"find_quantities: 100 KB of {unit!r} took {ratio:.0f}x the time of 10 KB"


@pytest.mark.parametrize("unit", ["A", "Aa", "NCT", "10.1234/a ", "10.1234/1.\n", "http://a)",
                                  ")", "Smith et al ", "Source:\n", " "])
def test_text_scaling_citations(unit: str, rules: Rules) -> None:
    ratio = _ratio(lambda text: find_citations(_article(text), rules), unit)
    assert ratio < RATIO, f"find_citations: 100 KB of {unit!r} took {ratio:.0f}x the time of 10 KB"


@pytest.mark.parametrize("unit", ["(", "%", "A", "1", "Dr. Aa ", "published Monday ",
                                  "Aa Study ", "a-b-"])
def test_text_scaling_claims_and_mention(unit: str, analyzer, rules: Rules) -> None:
    """The claims stage (spaCy tokenizer, pysbd sentences, abbreviations, rules, quantities)
    and the mention reader on its claims, as the pipeline calls them."""
    reader = MentionReader(rules)

    def stages(text: str) -> None:
        article = _article(text)
        reader.read(article, analyzer.claims(text, "article", ()), ())

    ratio = _ratio(stages, unit, repeat=2)
    assert ratio < RATIO, f"claims + mention: 100 KB of {unit!r} took {ratio:.0f}x the time of 10 KB"
