"""Accuracy on real stories (../shared/stories): the whole check, scored as an editor would.

Each case is a real story page, its paper's real abstract and a hand annotation (discrepancies
with their kind and severity, claims the story reports faithfully). The story is served, with
stand-ins of the four literature services, by ../shared/tools/mockapis.py (the one
evaluate_resolve starts); `pipeline.check` runs on the story's URL as `factcheck check URL`
would, either finding the paper itself (end to end) or given it (`--paper DOI`, the judge alone).
A check that fails (no paper found) scores as a report with no findings.

The scoring is ../shared/tools/score_stories.py's, so the figures are comparable with it:

- a finding *lands on* an annotation when their story quotes share at least half of the shorter
  quote's words (lowercase runs of letters, digits and dots, stop words removed:
  rules/eval/score_stopwords.txt);
- recall strict: annotated discrepancies with a finding of the same kind landing on them;
  family: of a kind in the same family (rules/eval/families.tsv); sentence: any finding;
- precision: high+medium findings that land on an annotated discrepancy (of any severity);
- false alarms: high+medium findings that land on no annotated discrepancy but on a claim
  annotated as faithful, or any such finding in a story with no annotated discrepancy.

Borderline annotations are neither required nor penalised.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping, Sequence

from .rules import Rules, load_rules
from .types import Finding

logger = logging.getLogger(__name__)

__all__ = ["FalseAlarm", "Miss", "ScoringRules", "StoryScore", "evaluate_stories",
           "lands_on", "score_story", "stories_section"]

_WORD = re.compile(r"[a-z0-9.]+")
SERIOUS = frozenset({"high", "medium"})
MODES = (("end to end (paper found by the checker)", False),
         ("paper given (--paper DOI)", True))


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """What the scoring reads from rules/eval/: kind -> family, and the stop words."""

    families: Mapping[str, str]
    stopwords: frozenset[str]

    @classmethod
    def from_rules(cls, rules: Rules) -> ScoringRules:
        return cls(families={row["kind"]: row["family"] for row in rules.table("families")},
                   stopwords=rules.lexicon("score_stopwords"))

    def words(self, text: str | None) -> set[str]:
        return {w for w in _WORD.findall((text or "").lower()) if w not in self.stopwords}

    def same_family(self, a: str, b: str) -> bool:
        family = self.families.get(a)
        return family is not None and family == self.families.get(b)


def lands_on(a: str | None, b: str | None, scoring: ScoringRules) -> bool:
    """Whether two story quotes share at least half of the shorter one's (non-stop) words."""
    wa, wb = scoring.words(a), scoring.words(b)
    if not wa or not wb:
        return False
    return 2 * len(wa & wb) >= min(len(wa), len(wb))


@dataclass(frozen=True, slots=True)
class Miss:
    """An annotated discrepancy no finding of its kind landed on."""

    kind: str
    quote: str
    severity: str
    landed: str = ""  # the kinds of the findings that did land on its sentence, if any
    family: bool = False  # one of them is of the same family


@dataclass(frozen=True, slots=True)
class FalseAlarm:
    """A high or medium finding on a faithful claim, or in a story with no annotated discrepancy."""

    kind: str
    severity: str
    rule_id: str
    quote: str
    on: str  # "a faithful claim" or "a faithful story"


@dataclass
class StoryScore:
    """One story's counts, as score_stories.py adds them up, and what went wrong."""

    case: str
    ran: bool = True
    expected: int = 0
    found_strict: int = 0
    found_family: int = 0
    found_sentence: int = 0
    serious: int = 0
    true_serious: int = 0
    false_alarms: int = 0
    faithful: int = 0
    findings: int = 0
    misses: list[Miss] = field(default_factory=list)
    alarms: list[FalseAlarm] = field(default_factory=list)
    paper: str | None = None  # DOI (or PMID) of the paper the story was checked against
    error: str | None = None


def score_story(case: str, expected: Mapping[str, Any], findings: Sequence[Finding],
                scoring: ScoringRules) -> StoryScore:
    """Score one report's findings against one case's expected.json (module docstring)."""
    wanted = list(expected.get("discrepancies", []))
    faithful = [c["article_quote"] for c in expected.get("faithful_claims", [])]
    score = StoryScore(case=case, expected=len(wanted), faithful=len(faithful),
                       findings=len(findings))
    for item in wanted:
        on_it = [f for f in findings if lands_on(f.article_span.text, item["article_quote"], scoring)]
        strict = any(f.kind == item["kind"] for f in on_it)
        family = strict or any(scoring.same_family(f.kind, item["kind"]) for f in on_it)
        score.found_sentence += bool(on_it)
        score.found_strict += strict
        score.found_family += family
        if not strict:
            score.misses.append(Miss(
                kind=item["kind"], quote=item["article_quote"], severity=item.get("severity", ""),
                landed=", ".join(sorted({f.kind for f in on_it})), family=family))
    for f in findings:
        if f.severity not in SERIOUS:
            continue
        score.serious += 1
        quote = f.article_span.text
        if any(lands_on(quote, d["article_quote"], scoring) for d in wanted):
            score.true_serious += 1
            continue
        if not wanted or any(lands_on(quote, c, scoring) for c in faithful):
            score.false_alarms += 1
            score.alarms.append(FalseAlarm(kind=f.kind, severity=f.severity, rule_id=f.rule_id,
                                           quote=quote,
                                           on="a faithful story" if not wanted
                                           else "a faithful claim"))
    return score


def _cases(stories: Path) -> list[Path]:
    return sorted(p for p in stories.iterdir() if (p / "expected.json").is_file())


def _paper_id(folder: Path) -> str:
    paper = json.loads((folder / "paper.json").read_text("utf-8"))
    return str(paper.get("doi") or paper["pmid"])


def _check_story(folder: Path, base: str, ctx: Any, oracle: bool,
                 scoring: ScoringRules) -> StoryScore:
    from .errors import FactcheckError
    from .pipeline import check
    expected = json.loads((folder / "expected.json").read_text("utf-8"))
    url = f"{base}/articles/{folder.name}.html"
    try:
        report = check(url, ctx, paper=_paper_id(folder) if oracle else None)
    except FactcheckError as exc:  # no paper found, say: a report with no findings
        failed = score_story(folder.name, expected, (), scoring)
        reason = str(exc).split("; closest:")[0]  # the candidates are for `factcheck resolve`
        failed.ran, failed.error = False, f"{type(exc).__name__}: {reason}"
        return failed
    score = score_story(folder.name, expected, report.findings, scoring)
    if report.papers:
        score.paper = report.papers[0].doi or report.papers[0].pmid
    return score


def _evaluate(shared: Path, cache: Path, modes: Iterable[bool],
              cases: Collection[str] | None = None) -> dict[bool, list[StoryScore]]:
    """Each mode (oracle or not) over every case, against one stand-in; a fresh cache per mode."""
    from .config import load_settings
    from .evaluate_resolve import _shared_standin
    from .pipeline import build_context
    stories, mock = shared / "stories", shared / "tools" / "mockapis.py"
    if not stories.is_dir() or not mock.is_file():
        return {}
    rules = load_rules()
    scoring = ScoringRules.from_rules(rules)
    folders = [f for f in _cases(stories) if cases is None or f.name in cases]
    results: dict[bool, list[StoryScore]] = {}
    with tempfile.TemporaryDirectory(prefix="fc-stories-") as tmp:
        with _shared_standin(stories, mock, shared / "datasets" / "scifact" / "corpus.jsonl",
                             Path(tmp)) as env:
            base = env["FACTCHECK_PUBMED_URL"].rsplit("/pubmed/", 1)[0]
            analyzer = None
            for oracle in modes:
                # the environment `factcheck check` would see, services pointed at the stand-in
                settings = load_settings(env={
                    **os.environ, **env, "FACTCHECK_MAILTO": "eval@example.org",
                    "FACTCHECK_CACHE": str(cache / ("stories-oracle" if oracle else "stories"))})
                ctx = build_context(settings, rules)
                if analyzer is not None:
                    ctx._analyzer = analyzer  # the NLP pipeline loads once for both modes
                results[oracle] = [_check_story(f, base, ctx, oracle, scoring) for f in folders]
                analyzer = ctx._analyzer
    return results


def evaluate_stories(shared: Path, cache: Path, oracle: bool,
                     cases: Collection[str] | None = None) -> list[StoryScore]:
    """Check and score every case of `shared`/stories (empty when it or its stand-in is absent).

    Args:
        shared: the shared folder (stories/, tools/mockapis.py, datasets/scifact for distractors).
        cache: a folder for the run's cache (a subfolder per mode).
        oracle: give the checker the case's paper (`--paper DOI`) instead of letting it search.
        cases: only these case folders (by name); all of them by default.
    """
    return _evaluate(shared, cache, (oracle,), cases).get(oracle, [])


def _ratio(part: int, whole: int) -> str:
    return f"{part / max(1, whole):.2f} ({part}/{whole})"


def summary_row(label: str, scores: Sequence[StoryScore]) -> tuple[str, ...]:
    """One table row: stories ran, recall strict/family/sentence, precision, false alarms."""
    expected = sum(s.expected for s in scores)
    return (label, f"{sum(s.ran for s in scores)}/{len(scores)}",
            _ratio(sum(s.found_strict for s in scores), expected),
            _ratio(sum(s.found_family for s in scores), expected),
            _ratio(sum(s.found_sentence for s in scores), expected),
            _ratio(sum(s.true_serious for s in scores), sum(s.serious for s in scores)),
            str(sum(s.false_alarms for s in scores)))


def _detail_lines(scores: Sequence[StoryScore]) -> list[str]:
    lines = []
    for s in scores:
        if s.ran:
            status = (f"paper {s.paper}; {s.found_strict}/{s.expected} strict, {s.found_family} "
                      f"family, {s.found_sentence} sentence; {s.serious} high+medium findings, "
                      f"{s.true_serious} on a discrepancy, {s.false_alarms} false alarms")
        else:
            status = f"failed ({s.error}): scored as no findings"
        lines.append(f"- {s.case}: {status}")
        for m in s.misses:
            landed = (f"a finding of its family landed: {m.landed}" if m.family else
                      f"only other kinds landed: {m.landed}" if m.landed else "nothing landed")
            lines.append(f"    missed {m.kind} ({m.severity}): “{m.quote}” — {landed}")
        for a in s.alarms:
            quote = a.quote if len(a.quote) <= 140 else a.quote[:139].rstrip() + "…"
            lines.append(f"    false alarm {a.kind} ({a.severity}, {a.rule_id}) on {a.on}: "
                         f"“{quote}”")
    return lines


def stories_section(shared: Path, details: bool = False) -> str:
    """The real-stories figures as Markdown (one line when ../shared/stories is absent)."""
    from .evaluate import format_table
    stories = shared / "stories"
    if not stories.is_dir() or not (shared / "tools" / "mockapis.py").is_file():
        return f"(real stories not found under {stories}; skipped)\n"
    with tempfile.TemporaryDirectory(prefix="fc-stories-cache-") as tmp:
        results = _evaluate(shared, Path(tmp), [oracle for _, oracle in MODES])
    rows = [summary_row(label, results[oracle]) for label, oracle in MODES]
    cases = results[False]
    out = [f"{len(cases)} real stories, {sum(s.expected for s in cases)} annotated discrepancies, "
           f"{sum(s.faithful for s in cases)} faithful claims, "
           f"{sum(1 for s in cases if not s.expected)} faithful stories; scored as "
           "../shared/tools/score_stories.py scores them\n",
           format_table(rows, ("run", "stories ran", "recall strict", "recall family",
                               "recall sentence", "precision (high+medium)", "false alarms"))]
    if details:
        for label, oracle in MODES:
            out.extend(["", f"{label}:", *_detail_lines(results[oracle])])
    return "\n".join(out) + "\n"
