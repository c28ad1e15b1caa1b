"""Article stage: Page -> Article.

For HTML pages:

1. trafilatura finds the body paragraphs (a second, recall-oriented pass runs when the first
   finds too little);
2. the page's own metadata gives the date (JSON-LD, OpenGraph, `<meta>`; never guessed from the
   URL or the text), the site name and the authors;
3. the headline, the standfirst and the image captions, which main-text extractors drop, are
   taken from the page and put before the body, because that is where exaggeration concentrates;
4. every `<a href>` becomes a Link with the region of the page it sat in (body, nav, footer,
   related, other), so the citation stage can tell the story's source from a related-stories rail.

`Article.text` is the paragraphs joined by "\\n" in the order title, standfirst, captions, body;
each Paragraph's offsets are exact (`text[p.start:p.end]`).

Hostile pages (`rules/pages/` holds the phrases and language words, as data):

- binary data served or saved as HTML or text (control characters, undecodable bytes) is a
  `NotHtmlError` "not a text page", before any parsing;
- cookie-banner and paywall prompts that slip into the body are dropped; a page that is only a
  cookie wall is an ExtractionError;
- a paywall teaser gives a warning "Only a teaser is visible ..." in `Article.warnings` (or an
  ExtractionError saying so when the teaser is too short to check);
- a JavaScript-only shell is a `JavaScriptOnlyError` that says how to use `--render`;
- live blogs (JSON-LD LiveBlogPosting) and AMP pages are read like articles; a live blog gets a
  warning;
- the language is detected from the text (`Article.language`), with a warning when it is not
  English; extraction goes on.

For plain text, the first non-empty line is the title and every other non-empty line a body
paragraph.

Garbled HTML raises nothing but FactcheckError subclasses, extraction time grows about linearly
with the page (tests/test_extract_robust.py), and trafilatura's own log lines are debugging logs
(shown with -vv), so an error stays one line on stderr.

`extract_body.py` runs trafilatura; `extract_page.py` reads the page's metadata, regions,
headline, standfirst, captions and links. This module puts them together.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterable

from lxml.etree import _Element

from .config import Settings
from .errors import ExtractionError, NotHtmlError
from .extract_body import body_paragraphs, parse_html
from .extract_page import (
    WALL_WORDS,
    Metadata,
    RegionFinder,
    clean_text,
    find_base_url,
    find_captions,
    find_headline,
    find_links,
    find_main_element,
    find_standfirst,
    host_of,
    json_ld_articles,
    match_key,
    page_words,
)
from .rules import Rules, load_table, rules_dir
from .types import Article, Link, Page, Paragraph, ParagraphRole

logger = logging.getLogger(__name__)

JOINER = "\n"
_SPACE = re.compile(r"\s+")

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


# control characters other than tab, newlines and form feed, C1 controls, and U+FFFD (what
# undecodable bytes become); a text page has next to none of them, binary data a tenth or more
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
BINARY_SAMPLE_CHARS = 65536  # how much of the page the binary test reads
BINARY_SHARE = 0.10  # this share of odd characters (above) and the page is binary data
BINARY_NUL_SHARE = 0.01  # or this share of NUL characters alone

MIN_LANGUAGE_WORDS = 30  # fewer words than this and the page's lang attribute is trusted
MIN_LANGUAGE_SHARE = 0.05  # the winning language's (weighted) function words: this share of words
WALL_PARAGRAPH_CHARS = 300  # longer paragraphs that mention cookies are the story's, kept
TEASER_CHARS = 1500  # a "not free" page with less body text than this is a teaser
RENDER_HINT = ("run `factcheck check --render URL` (needs headless Chromium from the system "
               "packages: apt-get install chromium), save the page from a browser and pass the "
               "file, or name the paper with --paper")


class JavaScriptOnlyError(ExtractionError):
    """The page is an empty shell that builds its story with JavaScript; `--render` may help."""


@dataclass(frozen=True, slots=True)
class _Block:
    text: str
    role: ParagraphRole


@dataclass(frozen=True, slots=True)
class _PageRules:
    """The data files under rules/pages/ that extraction reads."""

    languages: tuple[tuple[str, str, frozenset[str]], ...]  # (code, name, function words)
    walls: tuple[tuple[str, str], ...]  # (phrase, kind)

    @classmethod
    def from_rules(cls, rules: Rules | None) -> _PageRules:
        if rules is None:
            return _default_page_rules(rules_dir())
        return cls.from_tables(rules.table("language_words"), rules.table("wall_phrases"))

    @classmethod
    def from_tables(cls, languages: Iterable[Any], walls: Iterable[Any]) -> _PageRules:
        return cls(
            languages=tuple((r["language"], r["name"], frozenset(r["words"].split()))
                            for r in languages),
            walls=tuple((r["phrase"].lower(), r["kind"]) for r in walls))

    def wall_kind(self, text: str) -> str | None:
        low = text.lower().replace("\u2019", "'")
        return next((kind for phrase, kind in self.walls if phrase in low), None)


@cache
def _default_page_rules(root: Path) -> _PageRules:
    """The shipped rules/pages/ tables, read once per process (only when no Rules are passed)."""
    return _PageRules.from_tables(load_table(root / "pages" / "language_words.tsv"),
                                  load_table(root / "pages" / "wall_phrases.tsv"))


def extract_article(page: Page, settings: Settings, rules: Rules | None = None) -> Article:
    """Turn a fetched page into the story: text with headline, standfirst, captions and body.

    Args:
        page: the fetched page (HTML, or plain text when `content_type` is "text/plain").
        settings: `min_article_chars` decides when a page has no article.
        rules: the loaded rules (the `language_words` and `wall_phrases` tables of
            rules/pages/); the shipped files are read when None.

    Returns:
        The Article, with exact paragraph offsets, every link on the page, the detected
        language and `warnings` about the page (paywall teaser, live blog, not English).

    Raises:
        NotHtmlError: the content is binary data (an image, an archive, ...) that was served or
            saved as HTML or text: "not a text page".
        JavaScriptOnlyError: the page is a JavaScript shell; the message says how to render it.
        ExtractionError: the page's main text is shorter than `settings.min_article_chars`; the
            message says what was found and whether it is a cookie wall or a paywall teaser.
    """
    _refuse_binary(page)
    page_rules = _PageRules.from_rules(rules)
    if page.content_type == "text/plain":
        return _plain_article(page, settings, page_rules)
    tree = parse_html(page.html)
    body = body_paragraphs(page.html, page.final_url, settings.min_article_chars)
    body = [p for p in body if not _is_wall_paragraph(p, page_rules)]
    body_chars = sum(len(p) for p in body)
    paywall = _paywall(tree, page_rules)
    if body_chars < settings.min_article_chars:
        if paywall:
            raise ExtractionError(
                f"only a teaser is visible ({body_chars} characters): the rest of the story is "
                f"behind a paywall; save the full page from a subscribed browser and pass the "
                f"file, or name the paper with --paper")
        message = _no_text_message(body_chars, tree, page_rules)
        if "JavaScript" in message:
            raise JavaScriptOnlyError(message)
        raise ExtractionError(message)
    doc = Metadata.read(tree)
    main = find_main_element(tree, body)
    title = find_headline(tree, main, doc)
    regions = RegionFinder(main)
    captions = find_captions(tree, regions)
    standfirst = find_standfirst(tree, regions, doc, title, body)
    blocks = _blocks(title, standfirst, captions, body)
    text, paragraphs = _join(blocks)
    base = find_base_url(tree, page, doc.canonical)
    links = find_links(tree, regions, text, base)
    language, language_note = _language(text, doc.language, page_rules)
    warnings = []
    if paywall and (paywall == "prompt" or body_chars < TEASER_CHARS):
        warnings.append(f"Only a teaser is visible: the story is behind a paywall and the page "
                        f"shows {body_chars} characters of it; claims in the hidden part cannot "
                        f"be checked.")
    if doc.live_blog:
        warnings.append("This is a live blog: its posts cover several stories, and all of them "
                        "were checked against the one paper chosen.")
    if language_note:
        warnings.append(language_note)
    logger.debug("article: %s paragraphs, %s links, %s chars", len(paragraphs), len(links),
                 len(text))
    return Article(url=page.url, final_url=page.final_url, title=title, published=doc.published,
                   site=doc.site or host_of(page.final_url), authors=doc.authors, text=text,
                   paragraphs=paragraphs, links=links, language=language,
                   warnings=tuple(warnings))


# -- binary content, walls, teasers and language -----------------------------------------------


def _refuse_binary(page: Page) -> None:
    """Binary data served as text/html (or saved as .html) is not a page with a story in it."""
    sample = page.html[:BINARY_SAMPLE_CHARS]
    if not sample:
        return
    odd = len(_NOT_TEXT.findall(sample)) / len(sample)
    nul = sample.count("\x00") / len(sample)
    if odd >= BINARY_SHARE or nul >= BINARY_NUL_SHARE:
        raise NotHtmlError(
            f"not a text page: {odd:.0%} of its first {len(sample)} characters are control "
            f"characters or bytes that decode to nothing (binary data such as an image or an "
            f"archive, or text in an encoding it does not declare): {page.url}",
            page.url, page.status, "application/octet-stream")



def _is_wall_paragraph(text: str, rules: _PageRules) -> bool:
    return len(text) <= WALL_PARAGRAPH_CHARS and rules.wall_kind(text) is not None


def _paywall(tree: _Element, rules: _PageRules) -> str | None:
    """"prompt" when the page shows a paywall prompt, "flag" when only its metadata says the
    story is not free, None otherwise."""
    for element in tree.iter("p", "div", "section", "aside", "span", "h2", "h3", "strong"):
        if element.getparent() is None or _in_script(element) or _in_site_chrome(element):
            continue
        own = clean_text(" ".join(element.itertext()))
        if own and len(own) <= 400 and rules.wall_kind(own) == "paywall":
            return "prompt"
    for obj in json_ld_articles(tree):
        free = obj.get("isAccessibleForFree")
        if free is False or (isinstance(free, str) and free.strip().lower() == "false"):
            return "flag"
    return None


def _in_site_chrome(element: _Element) -> bool:
    """In the site's header, navigation or footer ("Already a subscriber? Log in" on every page)."""
    ancestors = list(element.iterancestors())
    if any(a.tag == "article" for a in ancestors):
        return False
    return any(a.tag in ("nav", "header", "footer") or a.get("role") in ("banner", "navigation")
               for a in ancestors)


def _in_script(element: _Element) -> bool:
    return any(a.tag in ("script", "style", "noscript", "template") for a in
               element.iterancestors())


def _language(text: str, declared: str | None,
              rules: _PageRules) -> tuple[str | None, str | None]:
    """The story's language (ISO 639-1) and a warning when it is not English."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    found = declared
    if len(words) >= MIN_LANGUAGE_WORDS and rules.languages:
        # a word in several languages' lists ("de", "en", "la") counts for each only in part
        owners: dict[str, int] = {}
        for _, _, vocab in rules.languages:
            for word in vocab:
                owners[word] = owners.get(word, 0) + 1
        shares = sorted(((sum(1 / owners[w] for w in words if w in vocab) / len(words), code)
                         for code, _, vocab in rules.languages), reverse=True)
        share, code = shares[0]
        runner_up = shares[1][0] if len(shares) > 1 else 0.0
        if share >= MIN_LANGUAGE_SHARE and share >= 1.5 * runner_up:
            found = code
    if found and found != "en":
        name = next((n for c, n, _ in rules.languages if c == found), found)
        return found, (f"The story is in {name} ({found}); the claim rules are written for "
                       f"English, so fewer of its claims can be checked.")
    return found, None


# -- plain text ---------------------------------------------------------------------------------


def _plain_article(page: Page, settings: Settings, rules: _PageRules) -> Article:
    lines = [_SPACE.sub(" ", line).strip() for line in page.html.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ExtractionError(f"the text is empty: {page.url}")
    blocks = [_Block(lines[0], "title")] + [_Block(line, "body") for line in lines[1:]]
    body_chars = sum(len(b.text) for b in blocks[1:])
    if body_chars < settings.min_article_chars:
        raise ExtractionError(
            f"no article text in {page.url} ({body_chars} characters after the title line); "
            f"a story needs at least {settings.min_article_chars}")
    text, paragraphs = _join(blocks)
    links = tuple(Link(href=m.group(0), text=m.group(0), start=m.start(), end=m.end())
                  for m in _URL_IN_TEXT.finditer(text))
    language, note = _language(text, None, rules)
    return Article(url=page.url, final_url=page.final_url, title=lines[0], published=None,
                   site=None, authors=(), text=text, paragraphs=paragraphs, links=links,
                   language=language, warnings=(note,) if note else ())


# -- text assembly ------------------------------------------------------------------------------


def _blocks(title: str | None, standfirst: str | None, captions: Iterable[str],
            body: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    if title:
        blocks.append(_Block(title, "title"))
    if standfirst:
        blocks.append(_Block(standfirst, "standfirst"))
    blocks.extend(_Block(c, "caption") for c in captions)
    # trafilatura sometimes keeps the headline, the standfirst or a caption: those copies go, but
    # a line the body itself repeats (a meal plan's days, a table's cells) stays every time
    parts = {match_key(b.text) for b in blocks}
    blocks.extend(_Block(p, "body") for p in body if match_key(p) not in parts)
    return blocks


def _join(blocks: list[_Block]) -> tuple[str, tuple[Paragraph, ...]]:
    parts: list[str] = []
    paragraphs: list[Paragraph] = []
    pos = 0
    for block in blocks:
        paragraphs.append(Paragraph(start=pos, end=pos + len(block.text), role=block.role))
        parts.append(block.text)
        pos += len(block.text) + len(JOINER)
    return JOINER.join(parts), tuple(paragraphs)


# -- pages without a story -----------------------------------------------------------------------


def _no_text_message(chars: int, tree: _Element, rules: _PageRules) -> str:
    found = f"no article text on the page ({chars} characters)"
    scripts = [s for s in tree.iter("script")
               if "json" not in (s.get("type") or "").lower()]
    visible_text = clean_text(_visible_text(tree))
    visible = len(visible_text)
    noscript = " ".join(clean_text(" ".join(n.itertext())) for n in tree.iter("noscript")).lower()
    mounts = tree.xpath("//body//*[@id='__next' or @id='root' or @id='app' or @id='__nuxt' "
                        "or @ng-app or @data-reactroot]")
    if "javascript" in noscript or (visible < 500 and (len(scripts) >= 3 or (
            mounts and len(scripts) >= 1))):
        return (f"{found}; the page builds its text with JavaScript ({len(scripts)} scripts, "
                f"{visible} characters of HTML text): {RENDER_HINT}")
    if rules.wall_kind(visible_text) == "cookie":
        return (f"{found}; it looks like a cookie or consent wall: save the page from a browser "
                f"and pass the file")
    words = page_words(tree)
    for what, markers in WALL_WORDS:
        if words & markers:
            return f"{found}; it looks like {what}: save the page from a browser and pass the file"
    return f"{found}; is it a cookie wall, a paywall or a JavaScript-only page?"


def _visible_text(tree: _Element) -> str:
    body = tree.find("body")
    if body is None:
        return ""
    return " ".join(t for t in body.xpath(
        ".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"))


__all__ = ["JavaScriptOnlyError", "extract_article"]
