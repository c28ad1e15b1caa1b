"""The story's body paragraphs, read with trafilatura (part of the article stage, see extract.py)."""

from __future__ import annotations

import logging

import trafilatura
from lxml import html as lxml_html
from lxml.etree import ParserError, _Element

from .errors import ExtractionError
from .extract_page import clean_text, inside

logger = logging.getLogger(__name__)

_BLOCKS = ("p", "head", "item", "quote", "cell", "code")


def parse_html(markup: str) -> _Element:
    """The page as an lxml tree (comments removed)."""
    try:
        # bytes, so an <?xml encoding=...?> declaration in the string cannot upset lxml
        parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
        return lxml_html.document_fromstring(markup.encode("utf-8"), parser=parser)
    except (ParserError, ValueError) as exc:
        raise ExtractionError(f"the page is not readable HTML: {exc}") from exc


def body_paragraphs(markup: str, url: str, min_chars: int) -> list[str]:
    """The body paragraphs trafilatura finds, with a recall-oriented second pass when the first
    finds fewer than `min_chars` characters."""
    paragraphs = _trafilatura_paragraphs(markup, url, favor_recall=False)
    if sum(map(len, paragraphs)) < min_chars:
        recall = _trafilatura_paragraphs(markup, url, favor_recall=True)
        if sum(map(len, recall)) > sum(map(len, paragraphs)):
            paragraphs = recall
    return paragraphs


def _trafilatura_paragraphs(markup: str, url: str, favor_recall: bool) -> list[str]:
    doc = trafilatura.bare_extraction(
        markup, url=url if url.startswith("http") else None, include_comments=False,
        include_tables=True, favor_recall=favor_recall, with_metadata=False)
    body = getattr(doc, "body", None)  # a Document (or None); never a dict with these arguments
    if body is None:
        return []
    out = []
    for element in body.iter(*_BLOCKS):
        if inside(element, _BLOCKS):
            continue  # its text is part of the enclosing block
        text = clean_text(" ".join(element.itertext()))
        if text:
            out.append(text)
    return out


__all__ = ["body_paragraphs", "parse_html"]
