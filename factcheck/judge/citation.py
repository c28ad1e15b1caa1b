"""Citation: the cited paper retracted or corrected, and the journal, author and year the story names.

These checks run once per cited paper (they need the paper, not a claim), before the story's
claims are judged; each finding is anchored on the story sentence that cites the paper (the
headline when none does).
"""

from __future__ import annotations

import logging
import re
from typing import Sequence

from rapidfuzz import fuzz

from ..types import Claim, Paper, Span
from ._common import Run, exact, sentence_span
from .registry import check

logger = logging.getLogger(__name__)

_JOURNAL = re.compile(
    r"\b(?:published|appeared|appears|reported|described)\s+(?:online\s+)?(?:\w+\s+)?in\s+"
    r"(?:the\s+)?(?:(?:medical|scientific|peer-reviewed|leading)\s+)?(?:journal\s+(?:of\s+)?)?"
    r"([A-Z][\w&'’-]*(?:\s+(?:[A-Z][\w&'’-]*|of|and|the|in|for))*)")


def _citing_claim(run: Run, paper: Paper, claims: Sequence[Claim]) -> Claim | None:
    """The story sentence that links to or names the paper; the headline when none does."""
    ids = [i.lower() for i in (paper.doi, paper.pmid) if i]
    for link in run.article.links:
        if link.start is not None and any(i in link.href.lower() for i in ids):
            for claim in claims:
                if claim.start <= link.start < claim.end:
                    return claim
    named = next((c for c in claims if _JOURNAL.search(c.text)), None)
    return named or (claims[0] if claims else None)


@check("retracted-v1", needs=("paper", "story"))
def retracted(run: Run, index: int, paper: Paper) -> None:
    """The paper carries a retraction notice, or is indexed as retracted."""
    anchor = _citing_claim(run, paper, run.article_claims)
    if anchor is None:
        return
    retraction = [n for n in paper.notices if n.lower().startswith("retraction")]
    if retraction:
        run.add("retracted-v1", anchor, sentence_span(anchor), None,
                {"notice": retraction[0]}, None, index, once=False)
    elif paper.retracted:
        run.add("retracted-v1", anchor, sentence_span(anchor), None,
                {"notice": "indexed as a Retracted Publication"}, None, index, once=False)


@check("corrected-v1", needs=("paper", "story"))
def corrected(run: Run, index: int, paper: Paper) -> None:
    """The paper carries a correction or an expression of concern."""
    anchor = _citing_claim(run, paper, run.article_claims)
    if anchor is None:
        return
    for notice in paper.notices:
        if not notice.lower().startswith("retraction"):
            run.add("corrected-v1", anchor, sentence_span(anchor), None, {"notice": notice},
                    None, index, once=False)


@check("journal-mismatch-v1", needs=("paper", "story"))
def journal_mismatch(run: Run, index: int, paper: Paper) -> None:
    """The journal the story names is not the paper's (main paper only).

    Reads the mention stage's journals (`Article.mention`): a listed journal that is not the
    paper's, when the story names the paper's own journal nowhere. Without a mention (a story
    judged on its own) the sentence that cites the paper is read as before.
    """
    mention = run.article.mention
    if mention is None:
        _journal_in_citing_sentence(run, index, paper)
        return
    if index != 0 or not paper.journal or not mention.journals:
        return
    vocabulary = _vocabulary(run)
    if any(vocabulary.same(j.value, paper.journal) or vocabulary.same(j.detail, paper.journal) or
           fuzz.token_set_ratio(j.value.lower(), paper.journal.lower()) >= 85
           for j in mention.journals):
        return
    named = next((j for j in mention.journals if j.role == "listed"), None)
    anchor = _claim_at(run.article_claims, named.span.start) if named else None
    if named is None or anchor is None:
        return  # an unlisted name may be spelt any way: too unsure to flag
    run.add("journal-mismatch-v1", anchor, named.span, None,
            {"article_journal": f"“{named.span.text}”", "paper_journal": f"“{paper.journal}”"},
            None, index, once=False)


def _journal_in_citing_sentence(run: Run, index: int, paper: Paper) -> None:
    claims = run.article_claims
    anchor = _citing_claim(run, paper, claims)
    if anchor is None or not paper.journal:
        return
    pool = [anchor] + ([c for c in claims if c is not anchor] if index == 0 else [])
    for claim in pool:
        m = _JOURNAL.search(claim.text)
        if not m:
            continue
        named = re.sub(r"(?<!\s)\s+(?:in|and|the|of|for)$", "", m.group(1).strip())
        if len(named) < 3:
            continue
        score = max(fuzz.token_set_ratio(named.lower(), paper.journal.lower()),
                    fuzz.partial_ratio(named.lower(), paper.journal.lower()))
        if score < 70:
            run.add("journal-mismatch-v1", claim, exact(claim, m.start(1), m.start(1) + len(named)),
                    None, {"article_journal": f"“{named}”", "paper_journal": f"“{paper.journal}”"},
                    None, index, once=False)
        return


@check("journal-as-institution-v1", needs=("paper", "story"))
def journal_as_institution(run: Run, index: int, paper: Paper) -> None:
    """The story credits the study to the institution whose name the journal carries ("a new
    study from the Mayo Clinic" for a paper in Mayo Clinic Proceedings)."""
    mention = run.article.mention
    if mention is None or index != 0 or not paper.journal:
        return
    journal = paper.journal.lower()
    for place in mention.institutions:
        name = place.value.lower()
        anchor = _claim_at(run.article_claims, place.span.start)
        if anchor is None or not journal.startswith(name) or journal == name:
            continue
        credit = run.verdicts["citation"]["credited_to"]
        before = run.article.text[max(anchor.start, place.span.start - 40):place.span.start]
        if re.search(rf"\b(?:{'|'.join(credit)})\s+(?:the\s+)?$", before, re.I):
            span = Span(anchor.start, place.span.end, run.article.text[anchor.start:place.span.end])
            run.add("journal-as-institution-v1", anchor, span, None,
                    {"institution": f"“{place.span.text}”", "paper_journal": f"“{paper.journal}”"},
                    None, index, once=False)
            return


def _claim_at(claims: Sequence[Claim], offset: int) -> Claim | None:
    return next((c for c in claims if c.start <= offset < c.end), None)


_VOCABULARIES: dict[int, object] = {}


def _vocabulary(run: Run):  # -> mention.journals.JournalVocabulary, built once per journals table
    from ..mention.journals import JournalVocabulary
    rows = run.rules.table("journals")
    if id(rows) not in _VOCABULARIES:
        _VOCABULARIES.clear()
        _VOCABULARIES[id(rows)] = (rows, JournalVocabulary(rows))
    return _VOCABULARIES[id(rows)][1]  # type: ignore[index]


@check("author-mismatch-v1", needs=("paper", "story"))
def author_mismatch(run: Run, index: int, paper: Paper) -> None:
    """The lead author the story names is not among the paper's authors (main paper only)."""
    anchor = _citing_claim(run, paper, run.article_claims)
    if anchor is None or index != 0 or not paper.authors:
        return
    text = run.article.text
    surnames = {_surname(a) for a in paper.authors if a.strip()}
    named = _LEAD_AUTHOR.search(text) or _REFERENCE_LINE.search(text)
    if named:
        who = named.group("name") if "name" in named.groupdict() else named.group("surname")
        if _surname(who) not in surnames:
            span = _text_span(text, named.start(named.lastgroup or 0), named.end(named.lastgroup or 0))
            run.add("author-mismatch-v1", anchor, span, None,
                    {"article_author": f"“{who}”", "paper_author": f"“{paper.authors[0]}”"},
                    None, index, once=False)


@check("year-mismatch-v1", needs=("paper", "story"))
def year_mismatch(run: Run, index: int, paper: Paper) -> None:
    """The year the story gives the paper is not the paper's (main paper only): the year of its
    reference line, or the issue date next to the journal it names ("the January 8, 2007 issue
    of Circulation")."""
    anchor = _citing_claim(run, paper, run.article_claims)
    if anchor is None or index != 0 or not paper.year:
        return
    text = run.article.text
    line = _REFERENCE_LINE.search(text) if paper.authors else None
    year = _REFERENCE_YEAR.search(text, line.start()) if line else None
    if year and abs(int(year.group("year")) - paper.year) > 1:
        run.add("year-mismatch-v1", anchor, _text_span(text, year.start("year"), year.end("year")),
                None, {"article_year": year.group("year"), "paper_year": str(paper.year)},
                None, index, once=False)
        return
    mention = run.article.mention
    months = "|".join(sorted(run.rules.lexicon("months"), key=len, reverse=True))
    issue = re.compile(rf"\b(?i:{months})\.?\s+(?:\d{{1,2}},?\s+)?(?P<year>(?:19|20)\d{{2}})\b")
    for journal in mention.journals if mention else ():
        claim = _claim_at(run.article_claims, journal.span.start)
        if claim is None:
            continue
        before = text[max(claim.start, journal.span.start - 60):journal.span.start]
        dates = list(issue.finditer(before))
        dated = dates[-1] if dates else None  # the date nearest the journal's name
        if dated and int(dated.group("year")) != paper.year:
            start = max(claim.start, journal.span.start - 60) + dated.start()
            run.add("year-mismatch-v1", claim, _text_span(text, start, journal.span.end), None,
                    {"article_year": dated.group("year"), "paper_year": str(paper.year)},
                    None, index, once=False)
            return


# --- helpers -----------------------------------------------------------------------------------

_LEAD_AUTHOR = re.compile(
    r"\b(?:led by|lead author|first author|lead researcher|lead investigator)\s*,?\s+"
    r"(?:(?:Dr|Prof|Professor|Doctor)\.?\s+)?(?P<name>[A-Z][a-z'’-]+(?:\s+[A-Z]\.)*(?:\s+[A-Z][a-z'’-]+)+)")
# from the label's own line, spaces read once (`^\s*` from every line of a long blank run, and
# `\s*\n?\s*` split every way, were quadratic); the surname and the year after it are the same
_REFERENCE_LINE = re.compile(r"(?m)^[^\S\n]*(?:Source|Reference|Citation|Study)s?:?\s*+"
                             r"(?P<surname>[A-Z][A-Za-z'’-]+),\s+[A-Z]\.")
_REFERENCE_YEAR = re.compile(r"\((?P<year>(?:19|20)\d{2})[a-z]?\)")


def _surname(full: str) -> str:
    return full.replace(".", " ").split()[-1].lower()


def _text_span(text: str, start: int, end: int) -> Span:
    return Span(start, end, text[start:end])
