"""How well the resolver finds a story's paper: right, wrong (the worst outcome), abstained.

Three measurements, each through real HTTP stand-ins of the four services that answer their
query syntax, so the clients, the search plan and the ranking are what is measured:

1. corpora/cases (stories that link a DOI or give a reference line) and corpora/prose (stories
   that name their paper only in prose, each with distractor papers a careless search would
   pick), against the project's stand-in (`tests/fakes.py`, from the checkout) serving every
   corpus paper and distractor;
2. corpora/prose again with each story's own paper removed: the paper is not indexed yet, so
   every answer but "abstained" is wrong;
3. ../shared/stories (real stories, real abstracts), against ../shared/tools/mockapis.py, which
   searches among their papers and 5,183 other real abstracts; with `--details` also with each
   story's paper taken out (one stand-in per paper, so slower).

Requests are the HTTP requests the search sent for the story (the abstract's fetch after a
paper is accepted is not counted: it is not part of looking).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

logger = logging.getLogger(__name__)

__all__ = ["ResolveScore", "run_resolve_eval"]


@dataclass(frozen=True, slots=True)
class ResolveScore:
    """One story's resolution: what was expected, what was chosen, what it cost."""

    case: str
    expected: str  # DOI
    chosen: str | None  # DOI of the accepted paper, None when the search abstained
    requests: int
    how: str = ""  # "link", "search", "abstained: <reason>"

    @property
    def right(self) -> bool:
        return self.chosen is not None and self.chosen.lower() == self.expected.lower()

    @property
    def wrong(self) -> bool:
        return self.chosen is not None and not self.right


def summarize(scores: Sequence[ResolveScore]) -> str:
    """One line: right, wrong, abstained, requests per story."""
    if not scores:
        return "no cases"
    right = sum(s.right for s in scores)
    wrong = sum(s.wrong for s in scores)
    abstained = sum(s.chosen is None for s in scores)
    reqs = [s.requests for s in scores]
    return (f"right {right}/{len(scores)}, wrong {wrong}, abstained {abstained}; requests per "
            f"story median {statistics.median(reqs):g}, max {max(reqs)}")


def _doi_of(expected: dict[str, Any]) -> str | None:
    resolve = expected.get("resolve") or {}
    return resolve.get("doi")


def _search(story: Path, ctx: Any) -> tuple[str | None, int, str]:
    from .pipeline import search_story
    _, citations, outcome = search_story(str(story), ctx)
    requests = sum(r.requests for r in outcome.runs)
    if outcome.accepted is None:
        return None, requests, f"abstained: {outcome.reason}"
    return outcome.accepted.paper.doi, requests, "search"


def _standin_module(repo: Path) -> Any:
    """tests/fakes.py of the checkout (the project's stand-in), or None outside a checkout."""
    tests = repo / "tests"
    if not (tests / "fakes.py").is_file():
        return None
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    import fakes  # type: ignore[import-not-found]
    return fakes


def _corpus_papers(corpus: Path) -> list[Any]:
    from .resolve._parse import parse_efetch_xml
    papers = []
    for pattern in ("cases/*/pubmed.xml", "prose/*/pubmed.xml", "prose/*/distractors.xml"):
        for path in sorted(corpus.glob(pattern)):
            papers.extend(parse_efetch_xml(path.read_text("utf-8"), str(path)))
    return papers


def _prose_cases(corpus: Path) -> list[tuple[Path, str]]:
    out = []
    for folder in sorted((corpus / "prose").glob("*/")):
        expected = folder / "expected.json"
        if expected.is_file():
            doi = _doi_of(json.loads(expected.read_text("utf-8")))
            if doi:
                out.append((folder, doi))
    return out


def evaluate_corpus(corpus: Path, cache: Path) -> dict[str, list[ResolveScore]]:
    """Rows 1 and 2 of the module docstring: {"cases": …, "prose": …, "prose, paper missing": …}."""
    from .pipeline import build_context, find_papers, read_article
    from .resolve._parse import parse_efetch_xml
    fakes = _standin_module(corpus.parent)
    if fakes is None:
        return {}
    papers = _corpus_papers(corpus)
    results: dict[str, list[ResolveScore]] = {"cases": [], "prose": [],
                                              "prose, paper missing": []}
    with fakes.ServiceStandIn(papers=papers) as stand_in:
        ctx = build_context(stand_in.settings(cache / "all"))
        for folder in sorted((corpus / "cases").glob("*/")):
            xml = folder / "pubmed.xml"
            if not xml.is_file():
                continue
            doi = parse_efetch_xml(xml.read_text("utf-8"))[0].doi or ""
            before = len(stand_in.requests)
            try:
                article = read_article(str(folder / "story.html"), ctx)
                _, found, _, _ = find_papers(article, ctx)
                chosen, how = found[0].doi, found[0].found_by or "link"
            except Exception as exc:  # noqa: BLE001 - a failed case is a result, not a crash
                chosen, how = None, f"abstained: {exc}"
            used = len(stand_in.requests) - before
            results["cases"].append(ResolveScore(folder.name, doi, chosen, used, how))
        for folder, doi in _prose_cases(corpus):
            chosen, used, how = _search(folder / "story.html", ctx)
            results["prose"].append(ResolveScore(folder.name, doi, chosen, used, how))
    for folder, doi in _prose_cases(corpus):
        others = [p for p in papers if (p.doi or "").lower() != doi.lower()]
        with fakes.ServiceStandIn(papers=others) as stand_in:
            ctx = build_context(stand_in.settings(cache / f"missing-{folder.name}"))
            chosen, used, how = _search(folder / "story.html", ctx)
            results["prose, paper missing"].append(
                ResolveScore(folder.name, doi, chosen, used, how))
    return results


@contextmanager
def _shared_standin(stories: Path, mock: Path, distractors: Path,
                    workdir: Path) -> Iterator[dict[str, str]]:
    portfile = workdir / "port"
    cmd = [sys.executable, str(mock), str(stories), "--portfile", str(portfile)]
    if distractors.is_file():
        cmd += ["--distractors", str(distractors)]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (portfile.is_file() and portfile.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the stand-in {mock} did not start")
            time.sleep(0.1)
        base = f"http://127.0.0.1:{portfile.read_text().strip()}"
        yield {"FACTCHECK_PUBMED_URL": f"{base}/pubmed/", "FACTCHECK_EUROPEPMC_URL":
               f"{base}/europepmc/", "FACTCHECK_CROSSREF_URL": f"{base}/crossref/",
               "FACTCHECK_OPENALEX_URL": f"{base}/openalex/"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def evaluate_stories(shared: Path, cache: Path) -> list[ResolveScore]:
    """Row 3 of the module docstring (empty when ../shared/stories or its stand-in is absent)."""
    from .config import load_settings
    from .pipeline import build_context
    stories = shared / "stories"
    mock = shared / "tools" / "mockapis.py"
    if not stories.is_dir() or not mock.is_file():
        return []
    scores = []
    with tempfile.TemporaryDirectory(prefix="fc-resolve-") as tmp:
        with _shared_standin(stories, mock, shared / "datasets" / "scifact" / "corpus.jsonl",
                             Path(tmp)) as env:
            settings = load_settings(env={**env, "FACTCHECK_CACHE": str(cache / "stories"),
                                          "FACTCHECK_MAILTO": os.environ.get(
                                              "FACTCHECK_MAILTO", "eval@example.org")})
            ctx = build_context(settings)
            for folder in sorted(p for p in stories.iterdir() if (p / "paper.json").is_file()):
                doi = json.loads((folder / "paper.json").read_text("utf-8")).get("doi") or ""
                chosen, used, how = _search(folder / "article.html", ctx)
                scores.append(ResolveScore(folder.name, doi, chosen, used, how))
    return scores


def evaluate_stories_missing(shared: Path, cache: Path) -> list[ResolveScore]:
    """../shared/stories with each story's own paper taken out of the stand-in: every answer but
    "abstained" is wrong. One stand-in per paper (several stories share one)."""
    from .config import load_settings
    from .pipeline import build_context
    stories = shared / "stories"
    mock = shared / "tools" / "mockapis.py"
    if not stories.is_dir() or not mock.is_file():
        return []
    folders = sorted(p for p in stories.iterdir() if (p / "paper.json").is_file())
    doi_of = {f: (json.loads((f / "paper.json").read_text("utf-8")).get("doi") or f.name).lower()
              for f in folders}
    scores = []
    for doi in sorted(set(doi_of.values())):
        with tempfile.TemporaryDirectory(prefix="fc-missing-") as tmp:
            others = Path(tmp) / "cases"
            others.mkdir()
            for folder in folders:
                if doi_of[folder] != doi:
                    (others / folder.name).symlink_to(folder.resolve(), target_is_directory=True)
            with _shared_standin(others, mock, shared / "datasets" / "scifact" / "corpus.jsonl",
                                 Path(tmp)) as env:
                settings = load_settings(env={**env, "FACTCHECK_CACHE": str(Path(tmp) / "c")})
                ctx = build_context(settings)
                for folder in folders:
                    if doi_of[folder] == doi:
                        chosen, used, how = _search(folder / "article.html", ctx)
                        scores.append(ResolveScore(folder.name, doi, chosen, used, how))
    return scores


def _lines(scores: Iterable[ResolveScore]) -> list[str]:
    out = []
    for s in scores:
        verdict = "right" if s.right else "WRONG" if s.wrong else "abstained"
        out.append(f"    {s.case}: {verdict} ({s.requests} requests; {s.how[:100]})")
    return out


def run_resolve_eval(corpus: Path, shared: Path, details: bool = False) -> str:
    """The resolution figures as Markdown: one row per measurement (module docstring)."""
    rows: list[tuple[str, Sequence[ResolveScore]]] = []
    with tempfile.TemporaryDirectory(prefix="fc-resolve-cache-") as tmp:
        cache = Path(tmp)
        stories = evaluate_stories(shared, cache)
        if stories:
            rows.append(("../shared/stories (real stories, prose only)", stories))
        if details:  # one stand-in per paper: slow, so only with --details
            missing = evaluate_stories_missing(shared, cache)
            if missing:
                rows.append(("../shared/stories, paper missing (abstaining is right)", missing))
        for name, scores in evaluate_corpus(corpus, cache).items():
            if scores:
                label = f"corpora/{name}" + (" (abstaining is right)" if "missing" in name else "")
                rows.append((label, scores))
    if not rows:
        return "(no resolution cases found)\n"
    out = ["| stories | right | wrong | abstained | requests per story (median / max) |",
           "|---|---|---|---|---|"]
    for name, row in rows:
        reqs = [s.requests for s in row]
        out.append(f"| {name} | {sum(s.right for s in row)}/{len(row)} | "
                   f"{sum(s.wrong for s in row)} | {sum(s.chosen is None for s in row)} | "
                   f"{statistics.median(reqs):g} / {max(reqs)} |")
    if details:
        for name, row in rows:
            out.append(f"\n{name}:")
            out.extend(_lines(row))
    return "\n".join(out) + "\n"
