"""Dates in a story: the story's own (page metadata, else a dateline) and what it says of its
paper's ("published Monday", "yesterday", "in the March 5 issue", "online Oct. 17", "a 2019
study"), turned into the window of dates between which the paper appeared.

Month names, relative date words and the words that mark a publication date are data in
rules/mention/ (month_numbers.tsv, date_words.tsv, date_cues.tsv); the padding around each kind
of date is in rules/mention/mention.toml.
"""

from __future__ import annotations

import bisect
import re
from datetime import date, timedelta
from typing import Iterator, Sequence

from ..rules import Rules
from ..types import Article, Mentioned, Span
from ._text import alternation as _alternation

_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
# "published in 2019", "a 2019 study", "the 2019 trial": the year the study itself came out
_STUDY_YEAR = re.compile(r"\b(?:published|appeared|released)\s+in\s+(?P<year>(?:19|20)\d\d)\b"
                         r"|\b(?:a|the|their)\s+(?P<year2>(?:19|20)\d\d)\s+(?:study|paper|trial|"
                         r"report|analysis|review|meta-analysis)\b", re.IGNORECASE)


class DateReader:
    """Reads the story's date and its paper's window; built once with the mention reader."""

    def __init__(self, rules: Rules) -> None:
        self.settings = rules.setting("mention")
        months = {r["name"]: int(r["number"]) for r in rules.table("month_numbers")}
        month_alt = _alternation(months)
        self._month_day = re.compile(
            rf"(?i:\b(?P<month>{month_alt})\.?)\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
            rf"(?:,?\s+(?P<year>(?:19|20)\d\d))?"
            rf"|\b(?P<day2>\d{{1,2}})\s+(?i:(?P<month2>{month_alt}))\.?(?:,?\s+(?P<year2>(?:19|20)\d\d))?")
        self._date_words = {r["phrase"]: (r["days"], r["weekday"]) for r in rules.table("date_words")}
        self._date_word = re.compile(rf"(?i:\b(?P<word>{_alternation(self._date_words)})\b)")
        self._date_cues = {r["cue"]: float(r["strength"]) for r in rules.table("date_cues")}
        self._published_cue = re.compile(rf"(?i:\b(?:{_alternation(self._date_cues)})\b)")
        self._months = months
        # month and date words: never topic words
        self.names = frozenset([*months, *self._date_words])

    def story_date(self, article: Article) -> str | None:
        """The story's date: its page metadata (a day, or a month only), else a dateline."""
        return _iso_day(article.published) or _iso_month(article.published) or \
            self.dateline(article)

    def dateline(self, article: Article) -> str | None:
        """A date written at the top of the story (byline or dateline), as an ISO date."""
        head = article.text[: int(self.settings.get("dateline_chars", 400))]
        for m in self._month_day.finditer(head):
            found = self._calendar(m, None)
            if found and (m.group("year") or m.group("year2")):
                return found.isoformat()
        return None

    def _calendar(self, m: re.Match[str], story: date | None) -> date | None:
        month = self._months.get((m.group("month") or m.group("month2") or "").lower())
        day = int(m.group("day") or m.group("day2") or 0)
        year_text = m.group("year") or m.group("year2")
        if not month or not 1 <= day <= 31:
            return None
        if year_text:
            year = int(year_text)
        elif story is not None:
            year = story.year
        else:
            return None
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if not year_text and story is not None and found > story + timedelta(days=31):
            found = found.replace(year=year - 1)  # "published Dec. 30" in a January story
        return found

    def read(self, text: str, sentences: Sequence[Span],
               story_iso: str | None) -> tuple[Mentioned | None, tuple[str, str] | None]:
        s = self.settings
        if story_iso and len(story_iso) == 7:  # a month only: any of its days, no weekday
            first = date(int(story_iso[:4]), int(story_iso[5:7]), 1)
            last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            return None, (str(first - timedelta(days=int(s.get("before_story_days", 60)))),
                          str(last + timedelta(days=int(s.get("after_story_days", 14)))))
        story = _parse_iso(story_iso)
        best: tuple[float, int, Mentioned, tuple[str, str]] | None = None
        for order, sentence in enumerate(sentences):
            chunk = text[sentence.start:sentence.end]
            cues = [(m.start(), m.end(), self._date_cues[m.group(0).lower()])
                    for m in self._published_cue.finditer(chunk)]
            if not cues:
                continue
            # the cues ending up to 40 characters before each date, found by bisecting their
            # ends (in text order), not by reading every cue of the sentence for every date
            cue_ends = [c[1] for c in cues]
            weakest = max(c[2] for c in cues) - 1.0
            for found_at, found in self._sentence_dates(chunk, sentence.start, story):
                start, end = found_at
                at = start - sentence.start
                before = cues[bisect.bisect_left(cue_ends, at - 40):bisect.bisect_right(cue_ends, at)]
                strength = max((c[2] for c in before), default=weakest)
                if best is None or (strength, -order) > (best[0], -best[1]):
                    best = (strength, order, *found)
        if best is not None:
            return best[2], best[3]
        if story is not None:
            low = story - timedelta(days=int(s.get("before_story_days", 60)))
            high = story + timedelta(days=int(s.get("after_story_days", 14)))
            older = self._earlier_year(text, sentences, story)
            if older is not None:  # "a 2019 study published in JAMA": the paper may be old
                return older, (f"{older.value}-01-01", str(high))
            return None, (str(low), str(high))
        return None, None

    def _earlier_year(self, text: str, sentences: Sequence[Span],
                      story: date) -> Mentioned | None:
        """A year before the story's own that a publication sentence gives the study ("a 2019
        study", "published in 2019")."""
        oldest = story.year - int(self.settings.get("oldest_years", 40))
        for sentence in sentences:
            chunk = text[sentence.start:sentence.end]
            if not self._published_cue.search(chunk):
                continue
            for m in _STUDY_YEAR.finditer(chunk):
                group = "year" if m.group("year") else "year2"
                year = int(m.group(group))
                if oldest <= year < story.year:
                    start = sentence.start + m.start(group)
                    return Mentioned(str(year), Span(start, start + 4, m.group(group)),
                                     role="year")
        return None

    def _sentence_dates(self, chunk: str, offset: int, story: date | None
                        ) -> Iterator[tuple[tuple[int, int], tuple[Mentioned, tuple[str, str]]]]:
        """Every date a sentence gives for the paper, with its window."""
        s = self.settings
        for m in self._month_day.finditer(chunk):
            found = self._calendar(m, story)
            if found is None:
                continue
            span = Span(offset + m.start(), offset + m.end(), m.group(0))
            pad = timedelta(days=int(s.get("exact_date_days", 30)))
            low, high = found - pad, found + pad
            if story is not None and not low <= story <= high + timedelta(
                    days=int(s.get("before_story_days", 60))):
                # the story's own date disagrees: one of them is wrong, keep both
                low = min(low, story - timedelta(days=int(s.get("before_story_days", 60))))
                high = max(high, story + timedelta(days=int(s.get("after_story_days", 14))))
            yield (span.start, span.end), (Mentioned(found.isoformat(), span, role="date"),
                                           (str(low), str(high)))
        if story is not None:
            for m in self._date_word.finditer(chunk):
                days, weekday = self._date_words[m.group("word").lower()]
                near, far = _days_back(days, weekday, story)
                span = Span(offset + m.start(), offset + m.end(), m.group(0))
                pad = timedelta(days=int(s.get("relative_date_days", 14)))
                yield (span.start, span.end), (
                    Mentioned(str(story - timedelta(days=near)), span, role="date",
                              detail=f"{near}-{far} days before the story"),
                    (str(story - timedelta(days=far) - pad), str(story - timedelta(days=near) + pad)))
        else:
            for y in _YEAR.finditer(chunk):
                span = Span(offset + y.start(), offset + y.end(), y.group(0))
                year = int(y.group(1))
                yield (span.start, span.end), (Mentioned(str(year), span, role="year"),
                                               (f"{year - 1}-07-01", f"{year}-12-31"))


def _iso_month(value: str | None) -> str | None:
    m = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", value or "")
    return m.group(0) if m else None


def _iso_day(value: str | None) -> str | None:
    parsed = _parse_iso(value)
    return parsed.isoformat() if parsed else None


def _parse_iso(value: str | None) -> date | None:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2}).*", value or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 15))
    except ValueError:
        return None


def _days_back(days: str, weekday: str, story: date) -> tuple[int, int]:
    if weekday.strip() not in ("", "-"):
        back = (story.weekday() - int(weekday)) % 7
        return back, back
    low, _, high = days.partition("-")
    return int(low), int(high or low)
