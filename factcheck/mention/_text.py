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


class Taken:
    """Spans of a text that are taken, asked about in the time of the span asked (not of all
    the spans taken: a story naming 2,000 people made each word of its topic compare 2,000).
    `hit(span)` is `any(overlaps(span, t) for t in taken)`."""

    def __init__(self, text: str, spans: Iterable[Span] = ()) -> None:
        self._used = bytearray(len(text))
        self._all: list[Span] = []
        self._odd: list[Span] = []  # empty or off the text: compared one by one
        for span in spans:
            self.add(span)

    def _plain(self, span: Span) -> bool:
        return 0 <= span.start < span.end <= len(self._used)

    def add(self, span: Span) -> None:
        self._all.append(span)
        if self._plain(span):
            self._used[span.start:span.end] = b"\x01" * (span.end - span.start)
        else:
            self._odd.append(span)

    def hit(self, span: Span) -> bool:
        """Whether `span` overlaps a taken span."""
        if not self._plain(span):
            return any(overlaps(span, t) for t in self._all)
        return any(self._used[span.start:span.end]) or any(overlaps(span, t) for t in self._odd)


def sentence_start(sentences: Sequence[Span], offset: int) -> int:
    """Where the sentence holding `offset` starts (80 characters back when none holds it)."""
    for s in sentences:
        if s.start <= offset < s.end:
            return s.start
    return max(0, offset - 80)
