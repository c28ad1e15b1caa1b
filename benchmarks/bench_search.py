"""Find the paper of every corpora/prose story by searching, against the project's stand-in.

Prints, per run over the 14 stories: the wall time per story, the HTTP requests per story, and the
floor: the same number of requests sent straight to the stand-in (what the network part costs
with no reading, planning or scoring), so `ratio` is what the search adds over the bare requests.
The stand-in applies no rate limit; the services' own limits (3 requests/s for PubMed without a
key) come on top in real use. The NLP pipeline is loaded once before timing.

    python benchmarks/bench_search.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402
from fakes import ServiceStandIn  # noqa: E402

from factcheck.pipeline import build_context, search_story  # noqa: E402
from factcheck.resolve._parse import parse_efetch_xml  # noqa: E402


def _papers() -> list:
    papers = []
    for pattern in ("cases/*/pubmed.xml", "prose/*/pubmed.xml", "prose/*/distractors.xml"):
        for path in sorted((ROOT / "corpora").glob(pattern)):
            papers.extend(parse_efetch_xml(path.read_text("utf-8")))
    return papers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stories = sorted((ROOT / "corpora" / "prose").glob("*/story.html"))
    with ServiceStandIn(papers=_papers()) as stand_in, tempfile.TemporaryDirectory() as tmp:
        warm = build_context(stand_in.settings(Path(tmp) / "warm"))
        analyzer = warm.analyzer  # load the NLP pipeline before timing
        per_story, floors, sent = [], [], []
        for run in range(args.runs):
            ctx = build_context(stand_in.settings(Path(tmp) / f"run{run}"))
            ctx._analyzer = analyzer
            before = len(stand_in.requests)
            started = time.perf_counter()
            for story in stories:
                search_story(str(story), ctx)
            elapsed = time.perf_counter() - started
            recorded = stand_in.requests[before:]
            # the floor: replay the very same requests, nothing else
            session = requests.Session()
            started = time.perf_counter()
            for r in recorded:
                resp = session.get(f"{stand_in.base_url}/{r.service}/{r.path}",
                                   params=r.params, timeout=30)
                assert resp.content is not None
            floor = time.perf_counter() - started
            per_story.append(elapsed / len(stories))
            floors.append(floor / len(stories))
            sent.append(len(recorded) / len(stories))
    search, floor = statistics.median(per_story), statistics.median(floors)
    print(f"stories: {len(stories)}, runs: {args.runs}")
    print(f"search per story: {search * 1000:.0f} ms median; requests per story: "
          f"{statistics.median(sent):.1f}")
    print(f"floor (the same requests alone): {floor * 1000:.0f} ms per story; ratio "
          f"{search / floor:.1f}")


if __name__ == "__main__":
    main()
