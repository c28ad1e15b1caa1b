"""Pattern helpers the parts of the mention reader share."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..types import Span


def alternation(terms: Iterable[str]) -> str:
    """A regular-expression alternation of `terms`, longest first, spaces matching any run."""
    return "|".join(re.escape(t).replace(r"\ ", r"\s+")
                    for t in sorted(set(terms), key=len, reverse=True))


def overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def sentence_start(sentences: Sequence[Span], offset: int) -> int:
    """Where the sentence holding `offset` starts (80 characters back when none holds it)."""
    for s in sentences:
        if s.start <= offset < s.end:
            return s.start
    return max(0, offset - 80)
