"""Benchmark batch checks: stories/s on 1 and N worker processes, and the run's peak memory.

Usage:
    .venv/bin/python benchmarks/bench_batch.py [--stories 200] [--workers 2] [--rss-stories 500]

Offline, on corpora/cases (each story with its saved abstract, cycled to the count asked for),
so the figures are the CPU side of a batch: what the services' rate limits add is not in them.

- floor: `pipeline.check` in a loop in this process, one story at a time (no processes at all);
- batch 1 / batch N: `batch.run_batch` with 1 and N workers, forking the workers included, the
  parent's pipeline (built once per batch, before the fork) timed apart;
- peak memory: the largest sum over this process and all its children (the workers and the
  clock manager), sampled every 50 ms during a --rss-stories batch: PSS (shared pages divided
  among the processes sharing them: what the run takes from the machine) and plain RSS summed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _jobs(count: int):
    from factcheck.batch import make_jobs
    cases = sorted(p for p in (REPO / "corpora" / "cases").iterdir()
                   if (p / "story.html").is_file() and (p / "pubmed.xml").is_file())
    pairs = [(str(cases[i % len(cases)] / "story.html"), str(cases[i % len(cases)] / "pubmed.xml"))
             for i in range(count)]
    return make_jobs(pairs)


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KB; PSS shares each shared page among the processes using it."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class PeakRss:
    """Samples the memory of this process tree until stopped: the largest sums of RSS and of PSS.

    RSS counts a page shared by the forked workers once per process; PSS divides it among them,
    so the PSS sum is what the whole run takes from the machine."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = [_memory_kb(pid) for pid in _tree(os.getpid())]
            self.peak_kb = max(self.peak_kb, sum(r for r, _ in sizes))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(p for _, p in sizes))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rss-stories", type=int, default=500)
    parser.add_argument("--floor-stories", type=int, default=40)
    args = parser.parse_args()

    from factcheck.batch import run_batch
    from factcheck.config import load_settings
    from factcheck.pipeline import build_context, check
    with tempfile.TemporaryDirectory(prefix="fc-bench-batch-") as tmp:
        settings = load_settings(env={"FACTCHECK_CACHE": tmp}, offline=True)

        ctx = build_context(settings)
        floor_jobs = _jobs(args.floor_stories)
        check(floor_jobs[0].source, ctx, paper_file=Path(floor_jobs[0].paper_file))  # warm-up
        started = time.perf_counter()
        for job in floor_jobs:
            check(job.source, ctx, paper_file=Path(job.paper_file))
        floor = len(floor_jobs) / (time.perf_counter() - started)

        from factcheck.batch import _preload
        started = time.perf_counter()
        _preload(settings)  # what a batch's parent builds once before forking its workers
        startup = time.perf_counter() - started
        rates = {}
        for workers in (1, args.workers):
            jobs = _jobs(args.stories)
            started = time.perf_counter()
            done = sum(1 for r in run_batch(jobs, settings, workers) if r.exit_status == 0)
            rates[workers] = done / (time.perf_counter() - started)
            assert done == len(jobs), f"{len(jobs) - done} stories failed"

        with PeakRss() as rss:
            jobs = _jobs(args.rss_stories)
            done = sum(1 for _ in run_batch(jobs, settings, args.workers))

    print(f"floor (one process, no workers): {floor:.2f} stories/s")
    print(f"start-up, once per batch (rules, NLP, mention reader, before the fork): "
          f"{startup:.1f} s, not in the rates below")
    print(f"batch, 1 worker:  {rates[1]:.2f} stories/s ({rates[1] / floor:.2f}x the floor), "
          f"{args.stories} stories")
    print(f"batch, {args.workers} workers: {rates[args.workers]:.2f} stories/s "
          f"({rates[args.workers] / floor:.2f}x the floor, "
          f"{rates[args.workers] / rates[1]:.2f}x one worker), {args.stories} stories")
    print(f"peak memory of a {done}-story batch on {args.workers} workers (whole process tree): "
          f"PSS {rss.peak_pss_kb / 1024:.0f} MB (RSS summed over processes {rss.peak_mb:.0f} MB)")


if __name__ == "__main__":
    main()
