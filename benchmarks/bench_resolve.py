"""Resolve 100 DOIs against a local PubMed stand-in that enforces NCBI's 3 requests/s.

Prints the wall time, the request count, the floor ((requests - 1) / rate) and how many 429s the
stand-in had to send (0 means our limiter held the rate). Each DOI costs two requests
(esearch DOI -> PMID, then efetch), so the floor for 100 DOIs is 200 / 3 = 66.7 s.

    python benchmarks/bench_resolve.py [--dois 100] [--rate 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes import ServiceStandIn  # noqa: E402

from factcheck.resolve import Resolver  # noqa: E402
from factcheck.types import Citation, Paper, Section  # noqa: E402


def _papers(n: int) -> list[tuple[Paper, str]]:
    out = []
    for i in range(n):
        text = f"In {100 + i} adults, treatment {i} lowered blood pressure by {i % 9 + 1} mmHg."
        out.append((Paper(source="pubmed", title=f"Benchmark trial {i}", doi=f"10.5555/bench.{i}",
                          sections=(Section("RESULTS", "RESULTS", text),), journal="Bench J",
                          year=2024), str(91000000 + i)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dois", type=int, default=100)
    parser.add_argument("--rate", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    papers = _papers(args.dois)
    with ServiceStandIn(papers=papers, rate_limits={"pubmed": args.rate}) as stand_in, \
            tempfile.TemporaryDirectory() as cache:
        settings = stand_in.settings(cache, service_order=("pubmed",), retries=3,
                                     service_rates={"pubmed": args.rate, "europepmc": 5.0,
                                                    "crossref": 10.0, "openalex": 10.0})
        citations = [Citation(kind="doi", value=p.doi or "", primary=True) for p, _ in papers]
        with Resolver(settings) as resolver:
            started = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                found = list(pool.map(lambda c: resolver.resolve((c,)), citations))
            elapsed = time.perf_counter() - started
        requests = len(stand_in.requests_for("pubmed"))
        throttled = sum(1 for s in stand_in.statuses("pubmed") if s == 429)
    floor = (requests - 1) / args.rate  # the first request goes at once
    print(f"resolved {sum(1 for p in found if p.abstract)}/{args.dois} DOIs with "
          f"{args.threads} threads at {args.rate:g} requests/s")
    print(f"requests: {requests} (429 answers: {throttled})")
    print(f"wall time: {elapsed:.1f} s; floor ((requests - 1) / rate): {floor:.1f} s; "
          f"overhead: {100 * (elapsed / floor - 1):.1f}%")


if __name__ == "__main__":
    main()
