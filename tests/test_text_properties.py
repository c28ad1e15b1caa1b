"""Properties of the parsers of outside text: random text never raises, and what they return
is consistent with the text (spans inside it, finite numbers, DOIs a request may carry)."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factcheck import identifiers
from factcheck.citations import find_citations, normalize_doi
from factcheck.mention import MentionReader
from factcheck.nlp.quantities import build_finder, find_quantities, parse_number
from factcheck.rules import load_rules
from factcheck.types import Article, Link, Paragraph, Span

# pieces of the shapes these parsers read, so random text often holds something to parse
PIECES = ["1", "2.5", "0.05", "1,203", "33 947", "-", "–", "%", " ", "\n", "(", ")", "[", "]", ",",
          ";", ".", "±", "95% CI", "HR", "p", "P", "<", "=", "n", "to", "and", "versus", "one",
          "in", "five", "half", "fold", "mg", "years", "per", "patients", "10.1000/", "doi:",
          "https://doi.org/", "PMID:", "PMC", "NCT0123456", "Dr.", "Jane", "Doe", "said",
          "published in", "the journal", "JAMA", "BMJ", "University", "of", "Study", "trial",
          "et al", "Monday", "March 5", "2019", "%2F", "%00", "\u00ad", "\u200b", "é", "Ǆ", "'s"]
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=60).map("".join),
)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_RULES = load_rules()
_FINDER = build_finder(_RULES)
_READER = MentionReader(_RULES)


def _article(text: str, links: tuple[Link, ...] = ()) -> Article:
    paragraphs, pos = [], 0
    for line in text.split("\n"):
        paragraphs.append(Paragraph(pos, pos + len(line), "body"))
        pos += len(line) + 1
    return Article(url="https://news.example.org/s", final_url="https://news.example.org/s",
                   title=None, published="2024-05-01", site=None, authors=(), text=text,
                   paragraphs=tuple(paragraphs), links=links)


def _inside(span: Span, text: str) -> None:
    assert 0 <= span.start <= span.end <= len(text), span
    assert text[span.start:span.end] == span.text, span


@SETTINGS
@given(TEXT)
def test_text_properties_quantities(text: str) -> None:
    for q in find_quantities(text, _FINDER):
        _inside(q.span, text)
        for number in (q.value, q.low, q.high):
            assert number is None or math.isfinite(number), q


@SETTINGS
@given(TEXT)
def test_text_properties_parse_number(text: str) -> None:
    value = parse_number(text, _FINDER)
    assert value is None or math.isfinite(value)


def _sendable(doi: str, normalise=normalize_doi) -> None:  # type: ignore[no-untyped-def]
    assert doi.startswith("10.") and "/" in doi
    assert doi == doi.lower()
    assert not any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in doi), doi
    assert identifiers.doi_problem(doi) is None
    assert identifiers.normalize_doi(doi) == doi  # what the story gives, a request may carry
    # normalised once is normalised: again, as a doi.org URL, with a "doi:" prefix
    # (the story's reader also drops a sentence's trailing punctuation, identifiers does not)
    assert normalise(doi) == doi
    assert normalise(f"https://doi.org/{doi}") == doi
    assert normalise(f"doi:{doi}") == doi


@SETTINGS
@given(TEXT)
def test_text_properties_normalize_doi(text: str) -> None:
    for candidate in (text, f"10.1000/{text}", f"https://doi.org/10.1234/{text}"):
        for normalise in (normalize_doi, identifiers.normalize_doi):
            doi = normalise(candidate)
            if doi is not None:
                _sendable(doi, normalise)


@SETTINGS
@given(TEXT, st.lists(st.tuples(TEXT, TEXT), max_size=3))
def test_text_properties_citations(text: str, links: list[tuple[str, str]]) -> None:
    hrefs = tuple(Link(href=f"https://doi.org/{a}", text=b) for a, b in links) + \
        tuple(Link(href=a, text=b, start=0, end=min(len(b), len(text))) for a, b in links)
    citations = find_citations(_article(text, hrefs), _RULES)
    assert sum(c.primary for c in citations) <= 1
    for c in citations:
        assert c.value and math.isfinite(c.score)
        if c.kind == "doi":
            _sendable(c.value)
        if c.kind in ("pmid", "pmcid"):
            assert c.value.strip() == c.value and c.value[-1].isdigit()


@SETTINGS
@given(TEXT)
def test_text_properties_mention(text: str) -> None:
    mention = _READER.read(_article(text))
    named = (*mention.journals, *mention.researchers, *mention.institutions, *mention.study_names,
             *mention.topic, *mention.numbers)
    if mention.paper_date is not None:
        named += (mention.paper_date,)
    for m in named:
        assert m.value
        _inside(m.span, text)
    if mention.window is not None:
        low, high = mention.window
        assert low <= high


@pytest.mark.parametrize("text", ["Dr. Jane\tDoe said", "Dr.\u00a0Jane  Doe said", "said Jane\u00a0Doe."])
def test_text_properties_researcher_span_is_the_text(text: str) -> None:
    """A name written with tabs or no-break spaces is given with its span in the text."""
    for m in _READER.read(_article(text)).researchers:
        _inside(m.span, text)


def test_text_properties_a_doi_with_a_fragment_mark_is_refused() -> None:
    # found by the normalize_doi property: "10.1000/#" was a DOI as text but its doi.org link
    # ends at the '#', so the same DOI could not be read back from its own URL
    for text in ("10.1000/#", "https://doi.org/10.1000/#", "10.1000/a#b"):
        assert normalize_doi(text) is None and identifiers.normalize_doi(text) is None
    assert normalize_doi("https://doi.org/10.1000/abc#section") == "10.1000/abc"
