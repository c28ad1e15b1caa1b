"""The story's body paragraphs, read with trafilatura (part of the article stage, see extract.py)."""

from __future__ import annotations

import logging

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from lxml.etree import ParserError, _Element

from .errors import ExtractionError
from .extract_page import clean_text

logger = logging.getLogger(__name__)

_BLOCKS = frozenset({"p", "head", "item", "quote", "cell", "code"})  # a paragraph each
_INLINE = frozenset({"hi", "ref", "del", "span"})  # part of the text around them


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
    return tree_paragraphs(body)


def tree_paragraphs(body: _Element) -> list[str]:
    """The paragraphs of trafilatura's output tree, in order.

    Each outermost block (`p`, `head`, `item`, `quote`, `cell`, `code`) is a paragraph, repeats
    included (a meal plan's daily lines, a table's cells). Text that trafilatura leaves outside
    any block (a heading's tail, text beside a `<lb/>`) is a paragraph too: the run of it between
    two blocks or breaks, with inline markup (`hi`, `ref`, `del`) read as part of the run.
    """
    out: list[str] = []
    loose: list[str] = []

    def flush() -> None:
        text = clean_text(" ".join(loose))
        if text:
            out.append(text)
        loose.clear()

    walker = etree.iterwalk(body, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""  # "" for a comment
        if event == "start":
            if element is body or tag in _INLINE:
                loose.append(element.text or "")
            elif tag in _BLOCKS:
                flush()
                text = clean_text(" ".join(element.itertext()))
                if text:
                    out.append(text)
                walker.skip_subtree()  # its text is part of this block
            elif tag:  # a container or a break (list, table, row, lb, graphic, div)
                flush()
                loose.append(element.text or "")
        elif element is not body:
            if tag and tag not in _INLINE:
                flush()  # the end of a block or a container ends the loose run
            loose.append(element.tail or "")
    flush()
    return out


__all__ = ["body_paragraphs", "parse_html", "tree_paragraphs"]
