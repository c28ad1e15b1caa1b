"""The time a check may take as a whole, and which step it is in.

`pipeline.check` opens a `Budget` (setting `check.budget`, 90 s by default) for the thread that
runs the check; `pipeline._timed` names each step as it starts and stops the check between steps
once the time is spent. Every HTTP request of the check (`_http.get`) ends by the budget's end at
the latest, so a site or a service that trickles or hangs cannot hold the check past it: the
check stops with `CheckBudgetExceeded`, which names the step that was running.

The budget is a context variable: each thread (a feed worker, a web request) sees only the
budget of the check it runs. Outside a check (`factcheck resolve`, the feed's own reads) there is
no budget and only the per-response deadline (`http.page_deadline`) applies.
"""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import CheckBudgetExceeded

# What an editor reads for each step name of pipeline._timed.
STEP_WORDS = {
    "fetch": "fetching the story",
    "article": "extracting the story's text",
    "claims": "reading the story's claims",
    "citations": "finding the story's citations",
    "mention": "reading how the story names the study",
    "landing": "following the story's links to the paper",
    "sources": "asking the literature services for the paper",
    "claims_abstract": "reading the abstract's claims",
    "align": "pairing story and abstract claims",
    "judge": "comparing the claims",
    "queue": "checking on a factcheck worker (the queue backend)",
}


class Budget:
    """Seconds left for one check, and the step it is in."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self.ends = clock() + seconds
        self.step = "check"

    def remaining(self) -> float:
        return self.ends - self._clock()

    def exceeded(self, step: str | None = None) -> CheckBudgetExceeded:
        """The error to raise now that the budget is spent (during `step`, or the current one)."""
        step = step or self.step
        words = STEP_WORDS.get(step, step)
        return CheckBudgetExceeded(
            f"the check ran out of time while {words}: it took longer than its {self.seconds:g} s "
            "budget (setting check.budget); try again later, or pass the paper with --paper",
            step=step, budget=self.seconds)

    def enter(self, step: str) -> None:
        """Start `step`, or stop the check if no time is left for it."""
        if self.remaining() <= 0:
            raise self.exceeded()
        self.step = step


_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("factcheck_budget",
                                                                        default=None)


def current() -> Budget | None:
    """The budget of the check this thread is running, if any."""
    return _current.get()


@contextmanager
def limit(seconds: float) -> Iterator[Budget | None]:
    """Run the block under a budget of `seconds` (no budget when 0 or less).

    A nested `limit` (a check inside a check, e.g. a secondary paper) keeps the outer end.
    """
    outer = _current.get()
    if seconds <= 0 or outer is not None:
        yield outer
        return
    budget = Budget(seconds)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def step(name: str) -> None:
    """Enter step `name` of the current check (no-op outside a check)."""
    budget = _current.get()
    if budget is not None:
        budget.enter(name)
