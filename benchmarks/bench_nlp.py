"""Benchmark the NLP stage: pipeline-ready time, per-story analysis time and words per second.

Usage:
    .venv/bin/python benchmarks/bench_nlp.py [--runs 5]

Ready time is measured in a fresh subprocess (Python start excluded, `import spacy` and the drug
index cache load included), so it is what `factcheck check` pays once per process. Analysis time
is `Analyzer.claims` on each corpora/cases/*/story.html (its article text) plus the case's abstract,
the median of several runs after one warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

_READY = """
import time
started = time.perf_counter()
from factcheck.config import load_settings
from factcheck.rules import load_rules
from factcheck.nlp import load_nlp
load_nlp(load_settings(), load_rules())
print(time.perf_counter() - started)
"""


def ready_seconds(runs: int) -> list[float]:
    """Seconds from `import factcheck` to a ready pipeline, each in a fresh interpreter."""
    subprocess.run([sys.executable, "-c", _READY], check=True, capture_output=True, cwd=REPO)  # warm cache
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _READY], check=True, capture_output=True,
                              text=True, cwd=REPO)
        out.append(float(done.stdout.strip().splitlines()[-1]))
    return out


def _story_text(folder: Path, settings) -> str:  # type: ignore[no-untyped-def]
    from factcheck.extract import extract_article
    from factcheck.types import Page

    html = (folder / "story.html").read_text("utf-8")
    page = Page(url="file://" + str(folder / "story.html"), final_url="file://" + str(folder / "story.html"),
                status=200, content_type="text/html", encoding="utf-8", html=html, fetched_at="")
    return extract_article(page, settings).text


def _abstract(folder: Path) -> str:
    for name in ("paper.json", "abstract.json"):
        path = folder / name
        if path.is_file():
            data = json.loads(path.read_text("utf-8"))
            parts = data.get("abstract") or data.get("sections") or []
            if isinstance(parts, str):
                return parts
            return "\n".join(p.get("text", "") for p in parts if isinstance(p, dict))
    xml = next(folder.glob("*.xml"), None)
    if xml is not None:
        import re
        return " ".join(re.findall(r"<AbstractText[^>]*>(.*?)</AbstractText>", xml.read_text("utf-8"), re.S))
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    ready = ready_seconds(args.runs)
    from factcheck.config import load_settings
    from factcheck.nlp import load_nlp
    from factcheck.rules import load_rules

    settings = load_settings()
    analyzer = load_nlp(settings, load_rules())
    cases = []
    for folder in sorted((REPO / "corpora" / "cases").iterdir()):
        if (folder / "story.html").is_file():
            try:
                cases.append((folder.name, _story_text(folder, settings), _abstract(folder)))
            except Exception as exc:  # a case the extractor cannot read is reported, not fatal
                print(f"skip {folder.name}: {exc}", file=sys.stderr)
    for _, story, abstract in cases:  # warm-up
        analyzer.claims(story, "article")
        analyzer.claims(abstract, "abstract")
    per_case = []
    words = 0
    for name, story, abstract in cases:
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            analyzer.claims(story, "article")
            analyzer.claims(abstract, "abstract")
            times.append(time.perf_counter() - started)
        n = len(story.split()) + len(abstract.split())
        words += n
        per_case.append((name, n, statistics.median(times)))
    total = sum(t for _, _, t in per_case)
    print(f"pipeline ready (fresh process, incl. spaCy import): median {statistics.median(ready):.3f} s "
          f"(min {min(ready):.3f}, max {max(ready):.3f}, {args.runs} runs)")
    print(f"stories: {len(per_case)} (story + abstract), {words} words in all")
    print(f"analysis per story: median {statistics.median(t for _, _, t in per_case) * 1000:.1f} ms, "
          f"max {max(t for _, _, t in per_case) * 1000:.1f} ms; median words/story "
          f"{statistics.median(n for _, n, _ in per_case):.0f}")
    print(f"throughput: {words / total:,.0f} words/s")


if __name__ == "__main__":
    main()
