"""The journal vocabulary (rules/mention/journals.tsv): find journal names in a story, and tell
whether two spellings (a story's "the BMJ", a service's "BMJ (Clinical research ed.)") are the
same journal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from .._words import fold as _fold
from ._text import alternation as _alternation


@dataclass(frozen=True, slots=True)
class _Journal:
    title: str
    abbrev: str | None
    needs_cue: bool


class JournalVocabulary:
    """The journals of `rules/mention/journals.tsv`: find them in text, and tell whether two
    spellings of a journal's name (a story's, a service's) mean the same journal."""

    def __init__(self, rows: Sequence[Mapping[str, str]]) -> None:
        self._by_key: dict[str, _Journal] = {}
        plain: list[str] = []  # found case-insensitively anywhere
        cased: list[str] = []  # found only as written, and only after a cue
        for row in rows:
            title = row["title"].strip()
            journal = _Journal(title, row.get("abbrev", "").strip() or None,
                               row.get("needs_cue", "").strip().lower() == "yes")
            names = [title, journal.abbrev or ""]
            names += [a.strip() for a in row.get("aliases", "").split("|")]
            for name in filter(None, names):
                self._by_key.setdefault(self.key(name), journal)
                if journal.needs_cue and name in (title, journal.abbrev):
                    cased.append(name)
                elif name.isupper() and len(name) <= 6:
                    cased.append(name)  # BMJ, JAMA, NEJM: as written, but anywhere
                else:
                    plain.append(name)
        self._plain = re.compile(rf"(?<![\w&-])(?:the\s+)?(?P<name>{_alternation(plain)})(?![\w&-])",
                                 re.IGNORECASE) if plain else None
        self._cased = re.compile(rf"(?<![\w&-])(?P<name>{_alternation(cased)})(?![\w&-])") \
            if cased else None

    @staticmethod
    def key(name: str) -> str:
        """A journal name reduced for comparison: folded, no "the", no punctuation, & = and."""
        text = _fold(name).replace("&", " and ")
        words = re.findall(r"[a-z0-9]+", text)
        if words and words[0] == "the":
            words = words[1:]
        return " ".join(words)

    def lookup(self, name: str | None) -> _Journal | None:
        """The listed journal `name` spells, or None."""
        return self._by_key.get(self.key(name or "")) if name else None

    def same(self, a: str | None, b: str | None) -> bool:
        """Whether two names (title, abbreviation or alias) are the same journal."""
        if not a or not b:
            return False
        ka, kb = self.key(a), self.key(b)
        if ka == kb:
            return True
        ja, jb = self._by_key.get(ka), self._by_key.get(kb)
        return ja is not None and ja is jb

    def find(self, text: str) -> list[tuple[int, int, _Journal, bool]]:
        """(start, end, journal, needs a cue) of every listed name in `text`, in text order."""
        found: dict[int, tuple[int, int, _Journal, bool]] = {}
        for pattern in (self._plain, self._cased):
            if pattern is None:
                continue
            for m in pattern.finditer(text):
                journal = self._by_key.get(self.key(m.group("name")))
                if journal is None:
                    continue
                start, end = m.start("name"), m.end("name")
                # a needs-cue title as one word of a longer capitalised name is not the journal
                prev = found.get(start)
                if prev is None or end - start > prev[1] - prev[0]:
                    found[start] = (start, end, journal, journal.needs_cue and pattern is self._cased
                                    and m.group("name") in (journal.title, journal.abbrev))
        out = sorted(found.values())
        kept: list[tuple[int, int, _Journal, bool]] = []
        for item in out:  # drop a match inside a longer one
            if kept and item[0] < kept[-1][1]:
                continue
            kept.append(item)
        return kept
