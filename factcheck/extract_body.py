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

# whose log lines become debugging logs (see quiet_dependency_logs)
DEPENDENCY_LOGGERS = frozenset({"trafilatura", "htmldate", "courlan", "justext"})
# the elements of trafilatura's output tree that are a paragraph each, and the inline ones
_BLOCKS = frozenset({"p", "head", "item", "quote", "cell", "code"})
_INLINE = frozenset({"hi", "ref", "del", "span"})


def parse_html(markup: str) -> _Element:
    """The page as an lxml tree (comments removed)."""
    try:
        # bytes, so an <?xml encoding=...?> declaration in the string cannot upset lxml
        parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
        return lxml_html.document_fromstring(markup.encode("utf-8"), parser=parser)
    except (ParserError, ValueError) as exc:
        raise ExtractionError(f"the page is not readable HTML: {exc}") from exc


class _DebugOnly(logging.Filter):
    """Passes a dependency's log record on as DEBUG, and only when factcheck logs at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger("factcheck").isEnabledFor(logging.DEBUG)


_DEBUG_ONLY = _DebugOnly()


def quiet_dependency_logs() -> None:
    """Make trafilatura's and its dependencies' log lines debugging logs (shown with -vv).

    They log ERROR and WARNING for pages that are merely empty or odd ("empty HTML tree",
    "discarding data"), which would break the CLI's one-line error on stderr. A filter on a
    logger sees only the records logged to that very logger, so every module logger of theirs
    gets one (loggers made since the last call included); calling again is cheap and harmless.
    """
    for name in list(logging.root.manager.loggerDict):
        if name.partition(".")[0] in DEPENDENCY_LOGGERS:
            dependency = logging.getLogger(name)
            if _DEBUG_ONLY not in dependency.filters:
                dependency.addFilter(_DEBUG_ONLY)


def body_paragraphs(markup: str, url: str, min_chars: int) -> list[str]:
    """The body paragraphs trafilatura finds, with a recall-oriented second pass when the first
    finds fewer than `min_chars` characters."""
    quiet_dependency_logs()
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


__all__ = ["DEPENDENCY_LOGGERS", "body_paragraphs", "parse_html", "quiet_dependency_logs",
           "tree_paragraphs"]
