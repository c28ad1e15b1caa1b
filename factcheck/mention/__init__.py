"""Mention stage: Article -> StudyMention, how the story names its study when it links nothing.

What an editor hunting for the paper reads in a story, each item with the story's own words:

1. journals, from `rules/mention/journals.tsv` (titles, NLM abbreviations, the aliases news uses:
   "the BMJ", "British Medical journal", "NEJM"); a title that is an ordinary word ("Stroke",
   "Science") counts only after a cue from `journal_cues.txt` ("published in the journal
   Stroke"); an unlisted capitalised name right after "published in" is kept as written;
2. researchers, with their role: a name after a title ("Dr.", "Professor"), beside a reporting
   verb ("said Jane Doe"), before a degree ("Jane Doe, Ph.D."), with a role cue from
   `researcher_roles.tsv` ("lead author", "senior author", "led by", "and colleagues"); a person
   "not involved in the study" (`outside_cues.txt`) is an outside expert, never searched;
3. institutions (a capitalised phrase with a head word from `institution_heads.txt`);
4. study names: "the Framingham Heart Study", "the D-Health trial", "known as CancerSEEK";
5. trial registry numbers (the citations stage's NCT/ISRCTN/... citations);
6. dates: the story's (page metadata, else a dateline) and what it says of the paper's
   ("published Monday", "yesterday", "in the March 5 issue", "online Oct. 17"), turned into a
   window of dates between which the paper appeared (`rules/mention/mention.toml`);
7. the topic: the claims stage's drugs, conditions and outcomes, and the words of the headline
   and lead that are rare in general English (wordfreq), weighted;
8. numbers that identify a study: participant counts, follow-up, headline percentages, from
   the claims' quantities.

The stage reads the claims stage's sentences, entities and quantities; it parses nothing again.
The journal vocabulary is `journals.py`, the dates and the window `dates.py`.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Iterable, Mapping, Sequence

from wordfreq import zipf_frequency

from .._words import fold as _fold
from .._words import singular as _stem
from ..rules import Rules
from ..types import Article, Citation, Claim, Mentioned, Span, StudyMention
from ._text import Taken
from ._text import alternation as _alternation
from ._text import sentence_start as _sentence_start
from .dates import DateReader
from .journals import JournalVocabulary

logger = logging.getLogger(__name__)

__all__ = ["JournalVocabulary", "MentionReader", "read_mention"]

_SP = r"[ \t\u00a0]+"  # names never run across a line break
_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĢĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŸŹŻŽ"
# A name word is at most 41 letters with at most four hyphenated parts: unbounded, every capital
# of a long run of letters read the rest of the run (30 KB of capitals took minutes)
_NAME_WORD = (rf"(?:[{_UPPER}][^\W\d_]{{0,40}}+(?:[-'’][{_UPPER}]?[^\W\d_]{{1,40}}+){{0,4}}"
              r"(?:(?<=s)['’](?![\w]))?)")
_INITIAL = rf"[{_UPPER}]\."
# "Jane Doe", "Melissa G. Hunt", "Hanna Savolainen-Peltonen", "Ludwig van Beethoven"
_PERSON = (rf"{_NAME_WORD}(?:{_SP}{_NAME_WORD}(?={_SP}[{_UPPER}]))?(?:{_SP}(?:{_INITIAL}[ \t]*)+)?"
           rf"{_SP}(?:(?:van|von|de|der|den|da|di|du|la|le){_SP})?{_NAME_WORD}")
# "JUPITER", "CancerSEEK", "ChAdV-nCoV", "D-Health", "STEP 1"
# (a capital, letters holding another capital, then letters and digits: read once, not tried at
# every capital of the run as `[A-Z][A-Za-z]*[A-Z][A-Za-z0-9]*` was)
_ACRONYM = (r"(?:[A-Z](?=[a-z]*+[A-Z])[A-Za-z0-9]*+|[A-Z]{1,3}-[A-Z][A-Za-z0-9]++)"
            r"(?:-(?=[a-z]*+[A-Z0-9])[A-Za-z0-9]*+)*(?:[ \t]\d{1,2}(?!\d))?")
_POSSESSIVE = re.compile(r"['’]s?$")
_WORD = re.compile(r"[^\W\d_][^\W\d_'’-]*[^\W\d_]|[^\W\d_]", re.UNICODE)
class MentionReader:
    """Reads a StudyMention from an article and its claims; build once per run (`Context`).

    Args:
        rules: the loaded rules (`rules/mention/*`, the `mention` settings).
    """

    def __init__(self, rules: Rules) -> None:
        self.settings = rules.setting("mention")
        self.journals = JournalVocabulary(rules.table("journals"))
        roles = rules.table("researcher_roles")
        self._roles_before = {r["cue"]: r["role"] for r in roles if r["where"] in ("before", "either")}
        self._roles_after = {r["cue"]: r["role"] for r in roles if r["where"] in ("after", "either")}
        self._outside = tuple(sorted(rules.lexicon("outside_cues")))
        honorifics = _alternation(h for h in rules.lexicon("honorifics"))
        speech = _alternation(rules.lexicon("speech_words"))
        before = _alternation(self._roles_before)
        after = _alternation(self._roles_after)
        apposition = _alternation(c for c in self._roles_after if not c.startswith(("and ", "et ")))
        cue_words = rf"(?:(?i:{honorifics})\.?(?:{_SP}of{_SP}[a-z]+(?:{_SP}[a-z]+)?)?{_SP})"
        fillers = _alternation(rules.lexicon("name_stops"))
        self._people = (
            # "Dr. Jane Doe", "Professor Doe", "professor of medicine Thomas J. Wang"
            re.compile(rf"(?<![\w.])(?i:{honorifics})\.?(?:{_SP}of{_SP}[a-z]+(?:{_SP}[a-z]+)?)?{_SP}"
                       rf"(?P<name>{_PERSON}|{_NAME_WORD})"),
            # "lead author Jane Doe", "led by Dr. Jane Doe", "lead author, psychologist Jane Doe"
            re.compile(rf"(?i:\b(?P<cue>{before}))(?:,)?{_SP}(?:was{_SP})?"
                       rf"(?:(?!(?:{fillers})\b)[a-z]+{_SP}){{0,2}}{cue_words}?(?P<name>{_PERSON})"),
            # "Jane Doe, the study's senior author"
            re.compile(rf"(?P<name>{_PERSON}|{_NAME_WORD}),{_SP}(?:[\w'’.-]+{_SP}){{0,4}}?"
                       rf"(?i:(?P<cue>{apposition}))\b"),
            # "Jane Doe and colleagues", "Doe et al", "Jane Doe lead author"
            re.compile(rf"(?P<name>{_PERSON}|{_NAME_WORD}){_SP}(?i:(?P<cue>{after}))\b"),
            # "said Jane Doe", "says Dr. Doe"
            re.compile(rf"\b(?:{speech}){_SP}{cue_words}?(?P<name>{_PERSON})"),
            # "Jane Doe said", "Jane Doe, an epidemiologist at X, said"
            re.compile(rf"(?P<name>{_PERSON})(?:,[^,.;\n]{{3,90}},)?{_SP}(?:{speech})\b"),
        )
        self._degrees = re.compile(rf"(?P<name>{_PERSON}),?{_SP}(?:{_dotted(rules.lexicon('degrees'))})"
                                   r"(?![\w])")
        heads = _titlecase(_alternation(rules.lexicon("institution_heads")))  # "Boston University"
        connector = rf"(?:{_SP}(?:of|for|and|de|di|du|the|&)){{0,2}}{_SP}"
        self._institutions = re.compile(
            rf"(?:the{_SP})?(?P<name>(?:{_NAME_WORD}{_SP}){{0,4}}(?:{heads})(?:{connector}{_NAME_WORD}){{0,4}}"
            rf"|(?:{heads}){connector}{_NAME_WORD}(?:{connector}{_NAME_WORD}){{0,3}})")
        self._study_heads = _alternation(rules.lexicon("study_heads"))
        self._study_named = re.compile(
            rf"\b(?:the{_SP})?(?P<name>(?:{_NAME_WORD}|{_ACRONYM})(?:{_SP}(?:{_NAME_WORD}|{_ACRONYM}|"
            rf"of|and)){{0,4}}{_SP}(?:{_titlecase(self._study_heads)}))\b")
        self._study_acronym = re.compile(
            rf"\b(?:the{_SP})?(?P<name>{_ACRONYM}){_SP}(?i:{self._study_heads})\b"
            rf"|\b(?:known{_SP}as|called|dubbed|named){_SP}(?P<called>{_ACRONYM}|{_NAME_WORD})")
        self._acronym_stops = rules.lexicon("acronym_stops")
        # titles and degrees are never part of the name itself ("Professor Jane Doe" is Doe)
        self._name_stops = rules.lexicon("name_stops") | rules.lexicon("honorifics") | \
            rules.lexicon("degrees")
        # between the cue and the name only lowercase words, numbers and dates ("published on
        # Thursday in", "the January 8, 2007 issue of"), never another capitalised name
        dated = _alternation([*(r["name"] for r in rules.table("month_numbers")),
                              *(r["phrase"] for r in rules.table("date_words"))])
        self._journal_cue = re.compile(
            rf"(?i:\b(?:{_alternation(rules.lexicon('journal_cues'))}))"
            rf"(?:[ \t]+(?:[a-z][\w'’-]*|[\d,.]+|(?i:{dated})\.?,?)){{0,6}}[ \t]*$")
        self._unlisted_journal = re.compile(
            rf"(?i:\b(?:published|appear(?:s|ed)?|reported)(?:\s+(?:online|today|yesterday|"
            rf"this\s+week|on\s+\w+|\w+day))?\s+in\s+(?:the\s+)?(?:(?:medical|scientific|peer-reviewed)\s+)?"
            rf"(?:journal\s+)?)(?P<name>{_NAME_WORD}(?:\s+(?:of\s+(?:the\s+)?|and\s+|&\s+)?{_NAME_WORD}){{0,7}})")
        self.dates = DateReader(rules)
        self._news = rules.lexicon("news_words")
        # one-word synonyms a story's word may have in an abstract ("death": mortality)
        self._synonyms: dict[str, tuple[str, ...]] = {}
        for row in rules.table("outcome_synonyms"):
            if " " not in row["term"]:
                words = tuple(e for e in row["equivalents"].split("|") if e and " " not in e)
                self._synonyms[row["term"]] = words
        self._date_names = self.dates.names | frozenset(
            r["word"] for r in rules.table("number_words"))
        self._study_cue = re.compile(rf"(?i:\b(?:{_alternation(rules.lexicon('study_cues'))})\b)")

    # -- the stage ---------------------------------------------------------------------------

    def read(self, article: Article, claims: Sequence[Claim] = (),
             citations: Sequence[Citation] = ()) -> StudyMention:
        """The StudyMention of `article`.

        Args:
            article: the story.
            claims: the claims stage's sentences of the story (entities, quantities).
            citations: the citations stage's findings (trial registry numbers are taken).

        Returns:
            The mention; fields the story does not give are empty.
        """
        text = article.text
        sentences = [c.span for c in claims] or [Span(0, len(text), text)]
        journals = self._find_journals(text, sentences)
        institutions = self._find_institutions(text)
        researchers = self._find_researchers(text, sentences, institutions, journals)
        study_names = self._find_study_names(text, institutions, journals)
        registry = tuple(Mentioned(c.value, _span_of(text, c.value, c.quote), role=c.kind)
                         for c in citations if c.kind in ("nct", "trial"))
        story_date = self.dates.story_date(article)
        paper_date, window = self.dates.read(text, sentences, story_date)
        taken = Taken(text, (m.span for m in (*journals, *researchers, *institutions, *study_names)))
        numbers = self._numbers(claims)
        named = journals or researchers or study_names or registry or institutions
        counted = any(n.role == "count" for n in numbers)
        # a story that names nothing, counts no participants and never says it reports a study
        # is not searched for: its topic words alone would find some paper, not its source
        topic = self._topic(article, claims, taken) if named or counted or \
            self._study_cue.search(text) else ()
        mention = StudyMention(journals=journals, researchers=researchers,
                               institutions=institutions, study_names=study_names,
                               registry_ids=registry, story_date=story_date,
                               paper_date=paper_date, window=window, topic=topic, numbers=numbers)
        logger.debug("mention: journals %s, researchers %s, window %s",
                     [j.value for j in journals], [r.value for r in researchers], window)
        return mention

    # -- journals ----------------------------------------------------------------------------

    def _find_journals(self, text: str, sentences: Sequence[Span]) -> tuple[Mentioned, ...]:
        out: list[Mentioned] = []
        seen: set[str] = set()
        for start, end, journal, needs_cue in self.journals.find(text):
            if journal.title in seen:
                continue  # (before the cue is read: a name said 5,000 times is read once)
            before = text[_sentence_start(sentences, start):start]
            cued = bool(self._journal_cue.search(before))
            if needs_cue and not cued:
                continue
            weight = 1.0 if cued else 0.8
            seen.add(journal.title)
            out.append(Mentioned(journal.title, Span(start, end, text[start:end]), role="listed",
                                 detail=journal.abbrev, weight=weight))
        if not out:
            for m in self._unlisted_journal.finditer(text):
                name = _trim_name(m.group("name"), self._name_stops)
                if not name or len(name) < 4 or name.lower() in self._news:
                    continue
                start = m.start("name")
                out.append(Mentioned(name, Span(start, start + len(name), name), role="unlisted",
                                     weight=0.6))
                break
        return tuple(out)

    # -- people and places -------------------------------------------------------------------

    def _find_institutions(self, text: str) -> tuple[Mentioned, ...]:
        out: list[Mentioned] = []
        seen: set[str] = set()
        for m in self._institutions.finditer(text):
            raw = re.split(r"['’]s\b", m.group("name"))[0]
            name = _trim_name(raw, self._name_stops)
            if not name or not any(ch.isupper() for ch in name[:1]) or len(name.split()) < 2:
                continue
            key = name.lower()
            if key in seen:
                continue
            seen.add(key)
            start = m.start("name") + m.group("name").find(name)
            out.append(Mentioned(name, Span(start, start + len(name), name), role="institution"))
        return tuple(out)

    def _find_researchers(self, text: str, sentences: Sequence[Span],
                          institutions: Sequence[Mentioned],
                          journals: Sequence[Mentioned]) -> tuple[Mentioned, ...]:
        blocked = Taken(text, (m.span for m in (*institutions, *journals)))
        people: dict[str, Mentioned] = {}
        order: list[str] = []
        for sentence in sentences:
            chunk = text[sentence.start:sentence.end]
            outside = any(cue in chunk.lower() for cue in self._outside)
            for pattern in (*self._people, self._degrees):
                for m in pattern.finditer(chunk):
                    raw = m.group("name")
                    name = _clean_person(raw, self._name_stops)
                    if not name:
                        continue
                    at, to = _words_at(raw, name)
                    start, end = sentence.start + m.start("name") + at, sentence.start + m.start("name") + to
                    span = Span(start, end, text[start:end])
                    if blocked.hit(span):
                        continue
                    cue = (m.groupdict().get("cue") or "").lower()
                    cue = " ".join(cue.split())
                    role = (self._roles_before.get(cue) or self._roles_after.get(cue)
                            or ("outside" if outside else "quoted"))
                    surname = name.split()[-1]
                    key = _fold(surname)
                    known = people.get(key)
                    if known is None:
                        people[key] = Mentioned(surname, span, role=role, detail=name)
                        order.append(key)
                    else:
                        better = _stronger_role(known.role, role)
                        full = known.detail if len(known.detail or "") >= len(name) else name
                        people[key] = Mentioned(surname, known.span, role=better, detail=full)
        return tuple(people[k] for k in order)

    # -- study names -------------------------------------------------------------------------

    def _find_study_names(self, text: str, institutions: Sequence[Mentioned],
                          journals: Sequence[Mentioned]) -> tuple[Mentioned, ...]:
        blocked = Taken(text, (m.span for m in (*institutions, *journals)))
        out: list[Mentioned] = []
        seen: set[str] = set()
        for pattern in (self._study_named, self._study_acronym):
            for m in pattern.finditer(text):
                group = "called" if m.groupdict().get("called") else "name"
                raw = m.group(group)
                name = _trim_name(raw, self._name_stops)
                if not name:
                    continue
                words = name.split()
                if group == "name" and pattern is self._study_named and len(words) < 2:
                    continue
                if pattern is self._study_acronym and len(words) == 1 and \
                        words[0].lower() in self._acronym_stops:
                    continue  # "the FDA study", "a US trial": not a study's name
                start = m.start(group) + raw.find(name)
                span = Span(start, start + len(name), name)
                if blocked.hit(span) or name.lower() in seen:
                    continue
                seen.add(name.lower())
                out.append(Mentioned(name, span, role="study"))
        return tuple(out)

    # -- dates -------------------------------------------------------------------------------

    # -- topic and numbers -------------------------------------------------------------------

    def _topic(self, article: Article, claims: Sequence[Claim],
               taken: Taken) -> tuple[Mentioned, ...]:
        s = self.settings
        role_weight: Mapping[str, float] = s.get("role_weights", {})
        lead = int(s.get("lead_paragraphs", 3))
        scores: dict[str, float] = {}
        first: dict[str, Mentioned] = {}
        surface: dict[str, dict[str, int]] = {}
        in_headline: set[str] = set()
        body_seen = 0
        for paragraph in article.paragraphs:
            role: str = paragraph.role
            if role == "body":
                body_seen += 1
            weight = float(role_weight.get(role, 1.0))
            if role == "body" and body_seen <= lead:
                weight = float(role_weight.get("lead", weight))
            chunk = article.text[paragraph.start:paragraph.end]
            for m in _WORD.finditer(chunk):
                start = paragraph.start + m.start()
                span = Span(start, start + len(m.group(0)), m.group(0))
                if taken.hit(span):
                    continue
                word = m.group(0)
                low = word.lower()
                if len(low) < 3 or low in self._news or low in self._date_names or \
                        chunk[m.end():m.end() + 2] in ("'t", "’t") or \
                        low.endswith(tuple(s.get("skip_suffixes", ()))):
                    continue
                zipf = zipf_frequency(low, "en")
                if zipf > float(s.get("max_zipf", 5.8)):
                    continue  # "people", "more", "time": never what a study is about
                rarity = min(float(s.get("max_rarity", 2.0)), max(
                    float(s.get("min_rarity", 0.2)),
                    (float(s.get("common_zipf", 6.5)) - zipf) / float(s.get("rarity_scale", 2.0))))
                key = _stem(low)
                scores[key] = scores.get(key, 0.0) + weight * rarity
                if role in ("title", "standfirst"):
                    in_headline.add(key)
                surface.setdefault(key, {}).setdefault(low, 0)
                surface[key][low] += 1
                first.setdefault(key, Mentioned(low, span, role="keyword"))
        labels: Mapping[str, str] = s.get("entity_roles", {})
        boost = float(s.get("entity_boost", 1.5))
        for claim in claims:
            for entity in claim.entities:
                label = labels.get(entity.label)
                if label is None:
                    continue
                for word in entity.norm.split():
                    key = _stem(word)
                    if key in scores:
                        scores[key] *= boost
                        first[key] = Mentioned(first[key].value, first[key].span, role=label)
        ranked = sorted(scores, key=lambda k: -scores[k])[: int(s.get("max_topic_words", 12))]
        out = []
        for key in ranked:
            forms = surface[key]
            value = max(forms, key=lambda f: forms[f])
            seen_at = first[key]
            also = tuple(dict.fromkeys(a for form in forms for a in self._synonyms.get(form, ())))
            out.append(Mentioned(value, seen_at.span, role=seen_at.role, detail=key,
                                 weight=round(math.log1p(scores[key]), 3), also=also,
                                 headline=key in in_headline))
        return tuple(out)

    def _numbers(self, claims: Sequence[Claim]) -> tuple[Mentioned, ...]:
        s = self.settings
        out: list[Mentioned] = []
        seen: set[tuple[str, str]] = set()
        for claim in claims:
            for q in claim.quantities:
                if q.value is None or not math.isfinite(q.value) or q.kind in ("ci", "p_value"):
                    continue
                if q.kind == "count" and q.value < float(s.get("min_count", 20)):
                    continue
                if q.kind not in ("count", "percent", "ratio", "duration", "measure", "number"):
                    continue
                if q.kind == "number" and (q.value < 100 or 1900 <= q.value <= 2100):
                    continue
                value = _digits(q.value)
                key = (q.kind, value)
                if key in seen:
                    continue
                seen.add(key)
                weight = _distinctive(q.value, q.kind, q.qualifier)
                if weight > 0:
                    out.append(Mentioned(value, q.span, role=q.kind, detail=q.qualifier,
                                         weight=weight))
        return tuple(out[: int(s.get("max_numbers", 20))])


def read_mention(article: Article, rules: Rules, claims: Sequence[Claim] = (),
                 citations: Sequence[Citation] = ()) -> StudyMention:
    """The StudyMention of `article` (builds a MentionReader; reuse one for many stories).

    Args:
        article: the story.
        rules: the loaded rules.
        claims: the story's claims (sentences, entities, quantities), from the claims stage.
        citations: the story's citations (registry numbers are taken from them).
    """
    return MentionReader(rules).read(article, claims, citations)


# -- helpers --------------------------------------------------------------------------------

_ROLE_RANK = {"first": 5, "last": 5, "lead": 4, "author": 3, "quoted": 1, "outside": 0}


def _stronger_role(a: str | None, b: str | None) -> str | None:
    if a == "outside" or b == "outside":
        # an author role said anywhere wins over a not-involved sentence elsewhere
        other = b if a == "outside" else a
        return other if _ROLE_RANK.get(other or "", 0) >= 3 else "outside"
    return a if _ROLE_RANK.get(a or "", 0) >= _ROLE_RANK.get(b or "", 0) else b


def _span_of(text: str, value: str, quote: str | None) -> Span:
    for needle in (quote, value):
        if needle:
            at = text.find(needle)
            if at >= 0:
                return Span(at, at + len(needle), needle)
    return Span(0, 0, "")


def _words_at(raw: str, name: str) -> tuple[int, int]:
    """Where in `raw` the words of `name` (joined by single spaces) are written, as written: a
    name spelt with a tab or a no-break space ("Jane\u00a0Doe") keeps its own characters."""
    at = raw.find(name)
    if at >= 0:
        return at, at + len(name)
    words = list(re.finditer(r"\S+", raw))
    wanted = name.split()
    for i in range(len(words) - len(wanted) + 1):
        if [w.group(0) for w in words[i:i + len(wanted)]] == wanted:
            return words[i].start(), words[i + len(wanted) - 1].end()
    return max(at, 0), max(at, 0) + len(name)  # never: the name is made of raw's words


def _trim_name(raw: str, stops: frozenset[str]) -> str:
    words = raw.split()
    while words and (words[0].lower().strip(".,") in stops):
        words = words[1:]
    while words and (words[-1].lower().strip(".,") in stops):
        words = words[:-1]
    return " ".join(words).strip(" ,.;:")


def _clean_person(raw: str, stops: frozenset[str]) -> str | None:
    words = raw.split()
    # "Helsinki's Tomi Mikkola": the person is after the possessive
    for i, w in enumerate(words):
        if _POSSESSIVE.search(w):
            words = words[i + 1:]
            break
    words = _trim_name(" ".join(words), stops).split()
    if not words or words[-1].endswith("."):
        return None
    if any(w.lower() in stops or (w.isupper() and len(w.rstrip(".")) > 1) for w in words):
        return None  # "The", "Monday", or an acronym ("MD", "UCL"): not a person's name
    return " ".join(words)


def _dotted(terms: Iterable[str]) -> str:
    """Degrees written with or without dots: "phd" matches PhD, Ph.D., Ph.D"""
    alts = []
    for term in sorted(terms, key=len, reverse=True):
        alts.append(r"\.?".join(re.escape(c) for c in term) + r"\.?")
    return "(?i:" + "|".join(alts) + ")"


def _titlecase(alternation: str) -> str:
    return "|".join(w[:1].upper() + w[1:] for w in alternation.split("|"))


def _digits(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def _distinctive(value: float, kind: str, qualifier: str | None) -> float:
    """How much a number says about which study is meant: a head count of 657,461 a lot, a
    "1.64%" some, "30%" little, "six hours" nothing (small whole numbers are everywhere)."""
    exact = qualifier in (None, "", "=")
    whole = float(value).is_integer()
    if kind in ("count", "number") or (kind == "measure" and whole and value >= 1000):
        size = 1.0 if value >= 1000 else 0.5 if value >= 100 else 0.0
        return size if exact or not whole else size * 0.5
    if not whole:
        return 0.6 if len(_digits(value).replace(".", "")) >= 3 else 0.4
    if kind == "percent" and value >= 10:
        return 0.25
    if kind == "duration" and value >= 10:
        return 0.2
    return 0.0
