"""Page-corpus evaluation: how well fetch -> article -> citations read real-looking news pages.

Each case in `corpora/pages/<slug>/` is a `page.html` and an `expected.json`:

```
{
  "note": "what the page imitates",
  "url": "https://...",                 optional; the URL the page is read as
  "expected_snippets": ["..."],         sentences that must be in Article.text
  "unexpected_snippets": ["..."],       navigation, cookie, rail, comment text that must not be
  "main_citation": {"kind": "doi", "value": "10.1056/nejmoa2307563"} | null,
  "expected_warnings": ["..."],         optional; each a substring of some Article.warnings entry
  "language": "de",                     optional; Article.language
  "expected_error": "..."               optional; the page must fail with this in the message
}
```

Text precision and recall are snippet-level, as in trafilatura's evaluation: a true positive is
an expected snippet found in the text, a false positive an unexpected snippet found, a false
negative an expected snippet missing (whitespace is normalised before matching). Main-citation
accuracy is the share of cases whose primary citation has the expected kind and value (a
reference is compared case-insensitively). Page checks count warnings, language and expected
errors.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from .citations import find_citations
from .config import Settings
from .errors import FactcheckError
from .extract import extract_article
from .rules import Rules
from .types import Page

logger = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")


@dataclass(slots=True)
class CaseResult:
    """What one page gave, against its expected.json."""

    slug: str
    found: int = 0
    missed: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    citation_ok: bool = False
    citation: str = ""
    checks: int = 0
    checks_ok: int = 0
    error: str | None = None


@dataclass(slots=True)
class PageScores:
    """Totals over the page corpus."""

    cases: list[CaseResult]

    @property
    def true_positives(self) -> int:
        return sum(c.found for c in self.cases)

    @property
    def precision(self) -> float:
        leaked = sum(len(c.leaked) for c in self.cases)
        total = self.true_positives + leaked
        return self.true_positives / total if total else 1.0

    @property
    def recall(self) -> float:
        total = self.true_positives + sum(len(c.missed) for c in self.cases)
        return self.true_positives / total if total else 1.0

    @property
    def citation_accuracy(self) -> float:
        return sum(c.citation_ok for c in self.cases) / len(self.cases) if self.cases else 1.0

    @property
    def check_accuracy(self) -> float:
        total = sum(c.checks for c in self.cases)
        return sum(c.checks_ok for c in self.cases) / total if total else 1.0


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _page(case_dir: Path, expected: dict) -> Page:
    url = expected.get("url") or f"https://news.example/{case_dir.name}"
    html = (case_dir / "page.html").read_text("utf-8")
    return Page(url=url, final_url=url, status=200, content_type="text/html", encoding="utf-8",
                html=html, fetched_at="2025-01-01T00:00:00+00:00")


def score_case(case_dir: Path, settings: Settings, rules: Rules) -> CaseResult:
    """Read one case folder and compare what the stages give with its expected.json."""
    expected = json.loads((case_dir / "expected.json").read_text("utf-8"))
    result = CaseResult(case_dir.name)
    want_error = expected.get("expected_error")
    try:
        article = extract_article(_page(case_dir, expected), settings, rules)
        citations = find_citations(article, rules)
    except FactcheckError as exc:
        result.error = str(exc)
        result.missed = list(expected.get("expected_snippets", []))
        result.checks = 1 if want_error else 0
        result.checks_ok = int(bool(want_error) and want_error.lower() in str(exc).lower())
        result.citation_ok = expected.get("main_citation") is None
        return result
    if want_error:
        result.checks += 1  # it should have failed
    text = _norm(article.text)
    for snippet in expected.get("expected_snippets", []):
        if _norm(snippet) in text:
            result.found += 1
        else:
            result.missed.append(snippet)
    result.leaked = [s for s in expected.get("unexpected_snippets", []) if _norm(s) in text]
    primary = next((c for c in citations if c.primary), None)
    result.citation = f"{primary.kind}:{primary.value}" if primary else "none"
    main = expected.get("main_citation")
    if main is None:
        result.citation_ok = primary is None
    elif primary is not None and primary.kind == main["kind"]:
        result.citation_ok = (primary.value.lower() == main["value"].lower()
                              if main["kind"] == "reference" else primary.value == main["value"])
    for warning in expected.get("expected_warnings", []):
        result.checks += 1
        result.checks_ok += any(warning.lower() in w.lower() for w in article.warnings)
    if expected.get("language"):
        result.checks += 1
        result.checks_ok += article.language == expected["language"]
    return result


def score_pages(root: Path, settings: Settings, rules: Rules) -> PageScores:
    """Score every case folder under `root` (folders without expected.json are skipped)."""
    cases = [score_case(d, settings, rules) for d in sorted(Path(root).iterdir())
             if (d / "expected.json").is_file()]
    return PageScores(cases)


def evaluate_pages(root: Path, settings: Settings, rules: Rules) -> str:
    """The page-corpus figures as a Markdown table: one row per case, then the totals.

    Args:
        root: the corpus folder (`corpora/pages`).
        settings: the run's settings (`min_article_chars` matters).
        rules: the loaded rules.

    Returns:
        Markdown: a per-case table, then text precision/recall (snippet-level), main-citation
        accuracy and page-check accuracy.
    """
    scores = score_pages(root, settings, rules)
    lines = ["| page | snippets found | leaked | main citation | checks |",
             "|---|---|---|---|---|"]
    for case in scores.cases:
        wanted = case.found + len(case.missed)
        mark = "ok" if case.citation_ok else "WRONG"
        cited = case.citation if not case.error else f"error: {case.error[:60]}"
        lines.append(f"| {case.slug} | {case.found}/{wanted} | {len(case.leaked)} | "
                     f"{mark} ({cited}) | {case.checks_ok}/{case.checks} |")
    lines += ["", "| measure | value |", "|---|---|",
              f"| pages | {len(scores.cases)} |",
              f"| text precision (snippets) | {scores.precision:.3f} |",
              f"| text recall (snippets) | {scores.recall:.3f} |",
              f"| main-citation accuracy | {scores.citation_accuracy:.3f} |",
              f"| page checks (warnings, language, errors) | {scores.check_accuracy:.3f} |"]
    return "\n".join(lines) + "\n"


__all__ = ["CaseResult", "PageScores", "evaluate_pages", "score_case", "score_pages"]


if __name__ == "__main__":  # python -m factcheck.evaluate_pages [corpora/pages]
    import sys

    from .config import load_settings
    from .rules import load_rules

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("corpora/pages")
    print(evaluate_pages(folder, load_settings(), load_rules()), end="")
