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
"""

from __future__ import annotations

import json
import logging
import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import html as lxml_html
from lxml.etree import ParserError, _Element

from .config import Settings
from .errors import ExtractionError
from .rules import Rules, load_table, rules_dir
from .types import Article, Link, Page, Paragraph, ParagraphRole

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

JOINER = "\n"

# Class/id words that place a link or a caption in a region of the page. Matched against the
# words of an element's class and id (split on "-", "_" and spaces), innermost element first.
_REGION_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("nav", frozenset({"nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs",
                       "masthead", "topbar", "skip"})),
    ("footer", frozenset({"footer", "colophon", "copyright", "legal"})),
    ("related", frozenset({"related", "recommended", "recommendations", "recirculation", "more",
                           "trending", "popular", "mostread", "sidebar", "rail", "teaser",
                           "teasers", "outbrain", "taboola", "promo", "suggested", "readnext",
                           "latest", "topics"})),
    ("other", frozenset({"cookie", "cookies", "consent", "gdpr", "share", "sharing", "social",
                         "comments", "comment", "newsletter", "subscribe", "subscription",
                         "advert", "advertisement", "ad", "ads", "sponsored", "paywall", "login",
                         "signup", "modal", "popup", "tags", "byline", "author"})),
)
_REGION_TAGS = {"nav": "nav", "aside": "related", "amp-sidebar": "nav",
                "amp-consent": "other", "amp-user-notification": "other"}
_ROLE_REGIONS = {"navigation": "nav", "banner": "nav", "contentinfo": "footer",
                 "complementary": "related"}
_MAIN_WORDS = frozenset({"articlebody", "article-body", "article__body", "article-content",
                         "articlecontent", "story-body", "storybody", "story-content",
                         "entry-content", "post-content", "post-body", "postbody", "main-content",
                         "content-body", "body-text", "c-article-body", "article-text"})
_STANDFIRST_WORDS = frozenset({"standfirst", "dek", "deck", "subtitle", "subheadline",
                               "subheading", "strapline", "summary", "lede", "intro", "excerpt",
                               "description", "teaser-text", "sub-headline", "article-summary"})
_CREDIT_WORDS = frozenset({"credit", "credits", "copyright", "source", "attribution",
                           "photographer"})
_WALL_WORDS = (("a cookie or consent wall", frozenset({"cookie", "cookies", "consent", "gdpr"})),
               ("a paywall or sign-in wall", frozenset({"paywall", "subscribe", "subscription",
                                                        "premium", "login", "signin", "meter"})))
_ARTICLE_TYPES = frozenset({"article", "newsarticle", "reportagenewsarticle", "blogposting",
                            "liveblogposting", "opinionnewsarticle", "reviewnewsarticle",
                            "analysisnewsarticle", "medicalwebpage", "webpage", "scholarlyarticle",
                            "medicalscholarlyarticle", "report", "backgroundnewsarticle"})
_DATE_META = ("article:published_time", "og:published_time", "datepublished", "date",
              "pubdate", "publishdate", "publish-date", "publication_date", "dc.date",
              "dc.date.issued", "dcterms.created", "dcterms.date", "sailthru.date",
              "parsely-pub-date", "citation_publication_date", "article.published")
_WORD_SPLIT = re.compile(r"[\s_-]+")
_SPACE = re.compile(r"\s+")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


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
        JavaScriptOnlyError: the page is a JavaScript shell; the message says how to render it.
        ExtractionError: the page's main text is shorter than `settings.min_article_chars`; the
            message says what was found and whether it is a cookie wall or a paywall teaser.
    """
    page_rules = _PageRules.from_rules(rules)
    if page.content_type == "text/plain":
        return _plain_article(page, settings, page_rules)
    tree = _parse(page.html)
    body = _body_paragraphs(page.html, page.final_url, settings.min_article_chars)
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
    doc = _Metadata.read(tree)
    main = _main_element(tree, body)
    title = _headline(tree, main, doc)
    regions = _RegionFinder(main)
    captions = _captions(tree, regions)
    standfirst = _standfirst(tree, regions, doc, title, body)
    blocks = _blocks(title, standfirst, captions, body)
    text, paragraphs = _join(blocks)
    base = _base_url(tree, page, doc.canonical)
    links = _links(tree, regions, text, base)
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
                   site=doc.site or _host(page.final_url), authors=doc.authors, text=text,
                   paragraphs=paragraphs, links=links, language=language,
                   warnings=tuple(warnings))


# -- walls, teasers and language ----------------------------------------------------------------


def _is_wall_paragraph(text: str, rules: _PageRules) -> bool:
    return len(text) <= WALL_PARAGRAPH_CHARS and rules.wall_kind(text) is not None


def _paywall(tree: _Element, rules: _PageRules) -> str | None:
    """"prompt" when the page shows a paywall prompt, "flag" when only its metadata says the
    story is not free, None otherwise."""
    for element in tree.iter("p", "div", "section", "aside", "span", "h2", "h3", "strong"):
        if element.getparent() is None or _in_script(element) or _in_site_chrome(element):
            continue
        own = _clean(" ".join(element.itertext()))
        if own and len(own) <= 400 and rules.wall_kind(own) == "paywall":
            return "prompt"
    for obj in _json_ld_articles(tree):
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
    seen = {_key(b.text) for b in blocks}
    for paragraph in body:
        if _key(paragraph) not in seen:  # trafilatura sometimes keeps the headline or standfirst
            blocks.append(_Block(paragraph, "body"))
            seen.add(_key(paragraph))
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


def _clean(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


# -- HTML parsing and the body ------------------------------------------------------------------


def _parse(markup: str) -> _Element:
    try:
        # bytes, so an <?xml encoding=...?> declaration in the string cannot upset lxml
        parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
        return lxml_html.document_fromstring(markup.encode("utf-8"), parser=parser)
    except (ParserError, ValueError) as exc:
        raise ExtractionError(f"the page is not readable HTML: {exc}") from exc


def _body_paragraphs(markup: str, url: str, min_chars: int) -> list[str]:
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
    for element in body.iter("p", "head", "item", "quote", "cell", "code"):
        if _inside(element, ("p", "head", "item", "quote", "cell", "code")):
            continue  # its text is part of the enclosing block
        text = _clean(" ".join(element.itertext()))
        if text:
            out.append(text)
    return out


def _inside(element: _Element, tags: tuple[str, ...]) -> bool:
    parent = element.getparent()
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.getparent()
    return False


def _no_text_message(chars: int, tree: _Element, rules: _PageRules) -> str:
    found = f"no article text on the page ({chars} characters)"
    scripts = [s for s in tree.iter("script")
               if "json" not in (s.get("type") or "").lower()]
    visible_text = _clean(_visible_text(tree))
    visible = len(visible_text)
    noscript = " ".join(_clean(" ".join(n.itertext())) for n in tree.iter("noscript")).lower()
    mounts = tree.xpath("//body//*[@id='__next' or @id='root' or @id='app' or @id='__nuxt' "
                        "or @ng-app or @data-reactroot]")
    if "javascript" in noscript or (visible < 500 and (len(scripts) >= 3 or (
            mounts and len(scripts) >= 1))):
        return (f"{found}; the page builds its text with JavaScript ({len(scripts)} scripts, "
                f"{visible} characters of HTML text): {RENDER_HINT}")
    if rules.wall_kind(visible_text) == "cookie":
        return (f"{found}; it looks like a cookie or consent wall: save the page from a browser "
                f"and pass the file")
    words = _page_words(tree)
    for what, markers in _WALL_WORDS:
        if words & markers:
            return f"{found}; it looks like {what}: save the page from a browser and pass the file"
    return f"{found}; is it a cookie wall, a paywall or a JavaScript-only page?"


def _visible_text(tree: _Element) -> str:
    body = tree.find("body")
    if body is None:
        return ""
    return " ".join(t for t in body.xpath(
        ".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"))


def _page_words(tree: _Element) -> set[str]:
    words: set[str] = set()
    for element in tree.iter():
        if isinstance(element.tag, str):
            words.update(_words(element))
    return words


def _words(element: _Element) -> set[str]:
    attrs = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return {w for w in _WORD_SPLIT.split(attrs) if w}


def _word_hits(element: _Element, vocabulary: frozenset[str]) -> bool:
    attrs = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    if not attrs.strip():
        return False
    tokens = set(attrs.split()) | _words(element)
    return bool(tokens & vocabulary)


# -- metadata -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Metadata:
    headline: str | None
    published: str | None
    site: str | None
    authors: tuple[str, ...]
    description: str | None
    canonical: str | None
    language: str | None
    live_blog: bool = False

    @classmethod
    def read(cls, tree: _Element) -> _Metadata:
        meta = _meta_tags(tree)
        ld = list(_json_ld_articles(tree))
        headline = _first(_ld_text(o.get("headline")) for o in ld) or meta.get("og:title")
        published = _first(_iso_date(o.get("datePublished")) for o in ld)
        published = published or _first(_iso_date(meta.get(k)) for k in _DATE_META)
        published = published or _itemprop_date(tree)
        site = (meta.get("og:site_name")
                or _first(_ld_name(o.get("publisher")) for o in ld)
                or meta.get("application-name"))
        authors = _first(_ld_authors(o.get("author")) for o in ld) or _meta_authors(meta)
        description = meta.get("og:description") or meta.get("description") or meta.get(
            "twitter:description")
        canonical = _canonical(tree) or meta.get("og:url")
        lang = (tree.get("lang") or meta.get("og:locale") or "").replace("_", "-")
        language = lang.split("-")[0].lower() or None
        live_blog = any(_ld_is(o, "liveblogposting") for o in ld)
        if live_blog and not published:
            published = _first(_iso_date(o.get("coverageStartTime")) for o in ld)
        return cls(headline=_clean(headline) or None, published=published,
                   site=_clean(site) or None, authors=authors,
                   description=_clean(description) or None, canonical=canonical,
                   language=language, live_blog=live_blog)


def _first(values: Iterable[_T | None]) -> _T | None:
    for value in values:
        if value:
            return value
    return None


def _meta_tags(tree: _Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = element.get("content")
        if key and content and key.lower() not in out:
            out[key.lower()] = content.strip()
    return out


def _canonical(tree: _Element) -> str | None:
    for element in tree.iter("link"):
        href = element.get("href")
        if "canonical" in (element.get("rel") or "").lower().split() and href:
            return str(href)
    return None


def _json_ld_articles(tree: _Element) -> Iterator[dict[str, Any]]:
    for data in _json_ld_blocks(tree):
        yield from _ld_objects(data)


def _json_ld_blocks(tree: _Element) -> Iterator[object]:
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            yield json.loads(script.text)
        except ValueError:
            logger.debug("skipping malformed JSON-LD block")


def _ld_is(obj: dict[str, Any], kind: str) -> bool:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.lower() == kind for k in kinds)


def _ld_objects(data: object) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_objects(item)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds):
            yield data
        if "@graph" in data:
            yield from _ld_objects(data["@graph"])


def _ld_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _ld_name(value: object) -> str | None:
    if isinstance(value, list):
        return _ld_name(value[0]) if value else None
    if isinstance(value, dict):
        return _ld_text(value.get("name"))
    return _ld_text(value)


def _ld_authors(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    names = (_clean(_ld_name(item)) for item in items if item)
    return tuple(n for n in names if n)


def _meta_authors(meta: dict[str, str]) -> tuple[str, ...]:
    author = meta.get("author") or meta.get("article:author") or meta.get("parsely-author")
    if author and not author.startswith("http"):
        return tuple(a.strip() for a in re.split(r";|\band\b|,", author) if a.strip())
    return ()


def _iso_date(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    match = re.match(r"^(\d{4})[-/](\d{2})[-/](\d{2})", text) or re.match(
        r"^(\d{4})(\d{2})(\d{2})(?:\b|T)", text)
    if not match:
        # a month without a day ("2008-01") is kept at that precision, never completed
        month = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
        return month.group(0) if month else None
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


def _itemprop_date(tree: _Element) -> str | None:
    for element in tree.xpath("//*[@itemprop='datePublished']"):
        found = _iso_date(element.get("content") or element.get("datetime"))
        if found:
            return found
    return None


def _host(url: str) -> str | None:
    host = urlsplit(url).hostname if url.startswith("http") else None
    return host.removeprefix("www.") if host else None


# -- where the story sits on the page -----------------------------------------------------------


def _main_element(tree: _Element, body: list[str]) -> _Element | None:
    """The tightest element that holds most of the body paragraphs, or None."""
    if not body:
        return None
    probes = [_key(p)[:60] for p in body]
    candidates = [el for el in tree.iter() if isinstance(el.tag, str) and _is_main_candidate(el)]
    found = _best_container(candidates, probes)
    if found is None:
        found = _best_container(_paragraph_ancestors(tree, probes), probes)
    return found


def _best_container(elements: list[_Element], probes: list[str]) -> _Element | None:
    """Of the elements holding at least half the paragraphs, the one holding most, tightest."""
    best: tuple[float, int, _Element] | None = None
    for element in elements:
        haystack = _key(" ".join(element.itertext()))
        coverage = sum(1 for p in probes if p and p in haystack) / len(probes)
        if coverage < 0.5:
            continue
        rank = (coverage, -len(haystack), element)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def _is_main_candidate(element: _Element) -> bool:
    if element.tag in ("article", "main") or element.get("role") == "main":
        return True
    if (element.get("itemprop") or "").lower() == "articlebody":
        return True
    attrs = f"{element.get('class') or ''} {element.get('id') or ''}".lower().split()
    return bool(set(attrs) & _MAIN_WORDS)


def _paragraph_ancestors(tree: _Element, probes: list[str]) -> list[_Element]:
    """Fallback candidates: every ancestor of a <p> whose text is a body paragraph."""
    found: list[_Element] = []
    wanted = set(probes)
    for p in tree.iter("p"):
        if _key(" ".join(p.itertext()))[:60] in wanted:
            found.extend(a for a in p.iterancestors() if a.tag not in ("body", "html"))
    return list(dict.fromkeys(found))


class _RegionFinder:
    """Says which region of the page an element sits in, given the story's main element."""

    def __init__(self, main: _Element | None):
        self.main = main

    def region(self, element: _Element) -> str:
        for node in (element, *element.iterancestors()):
            if node is self.main:
                return "body"
            if node.tag in ("body", "html"):
                break  # page-wide classes ("has-sidebar") say nothing about one link
            found = self._own_region(node)
            if found:
                return found
        return "other"

    def _own_region(self, node: _Element) -> str | None:
        tag = node.tag if isinstance(node.tag, str) else ""
        in_article = tag in ("header", "footer") and _inside(node, ("article",))
        if tag in ("header", "footer") and not in_article:
            return "nav" if tag == "header" else "footer"
        if tag in _REGION_TAGS:
            return _REGION_TAGS[tag]
        role = (node.get("role") or "").lower()
        if role in _ROLE_REGIONS and not in_article:
            return _ROLE_REGIONS[role]
        for region, words in _REGION_WORDS:
            if region in ("nav", "footer") and in_article:
                continue  # an article's own header/footer is not the site's
            if _word_hits(node, words):
                return region
        return None


# -- headline, standfirst, captions -------------------------------------------------------------


def _headline(tree: _Element, main: _Element | None, doc: _Metadata) -> str | None:
    """The headline a reader sees: the story's <h1>, else the metadata headline, else any <h1>."""
    scope = _story_scope(main)
    found = _first_h1(scope) if scope is not None else None
    if found or doc.headline:
        return found or doc.headline
    found = _first_h1(tree)  # may be a site logo on some pages, hence after the metadata
    if found:
        return found
    title = tree.find(".//title")
    text = _clean(title.text_content()) if title is not None else ""
    return re.split(r"\s+[|\u2013\u2014-]\s+", text)[0] or None


def _first_h1(root: _Element) -> str | None:
    for h1 in root.iter("h1"):
        text = _clean(" ".join(h1.itertext()))
        if len(text) >= 10:
            return text
    return None


def _story_scope(main: _Element | None) -> _Element | None:
    """The <article> (or <main>) around the body, which also holds the headline and captions."""
    if main is None:
        return None
    for node in (main, *main.iterancestors()):
        if node.tag in ("article", "main"):
            return node
    return main.getparent() if main.getparent() is not None else main


def _standfirst(tree: _Element, regions: _RegionFinder, doc: _Metadata, title: str | None,
                body: list[str]) -> str | None:
    text = _standfirst_element(tree, regions, title) or doc.description
    if not text:
        return None
    key = _key(text.rstrip(".\u2026 "))
    if title and key == _key(title):
        return None
    if body and (key in _key(body[0]) or any(key == _key(p) for p in body)):
        return None  # already the first body paragraph (or a truncated copy of it)
    return text


def _standfirst_element(tree: _Element, regions: _RegionFinder, title: str | None) -> str | None:
    for element in tree.iter("p", "h2", "div", "span"):
        if not _word_hits(element, _STANDFIRST_WORDS):
            continue
        if regions.region(element) not in ("body", "other"):
            continue
        text = _clean(" ".join(element.itertext()))
        if 30 <= len(text) <= 600 and (not title or _key(text) != _key(title)):
            return text
    return None


def _captions(tree: _Element, regions: _RegionFinder) -> list[str]:
    out: list[str] = []
    for element in tree.iter("figcaption"):
        if regions.region(element) not in ("body", "other") or _in_wall(element):
            continue
        text = _caption_text(element)
        if text and text not in out:
            out.append(text)
    return out


def _in_wall(element: _Element) -> bool:
    return any(_word_hits(node, words) for node in (element, *element.iterancestors())
               for _, words in _WALL_WORDS)


def _caption_text(element: _Element) -> str:
    """The caption without its photo credit ("Photograph: ..."), which is not the story's."""
    copy = deepcopy(element)
    for node in list(copy.iter()):
        if node is not copy and isinstance(node.tag, str) and _word_hits(node, _CREDIT_WORDS):
            if node.getparent() is not None:
                node.drop_tree()
    return _clean(" ".join(copy.itertext()))


# -- links --------------------------------------------------------------------------------------


def _base_url(tree: _Element, page: Page, canonical: str | None) -> str | None:
    """What relative links are relative to; None for a saved file that does not say."""
    candidates = [page.final_url, canonical or ""]
    base = tree.find(".//base")
    if base is not None and base.get("href"):
        candidates.insert(0, urljoin(page.final_url, base.get("href")))
    return next((c for c in candidates if c.startswith(("http://", "https://"))), None)


def _links(tree: _Element, regions: _RegionFinder, text: str,
           base: str | None) -> tuple[Link, ...]:
    locator = _AnchorLocator(text)
    out = []
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")):
            continue
        label = _clean(" ".join(anchor.itertext())) or _clean(
            anchor.get("aria-label") or anchor.get("title") or _img_alt(anchor))
        region = regions.region(anchor)
        start = locator.find(label) if region in ("body", "other") else None
        out.append(Link(href=urljoin(base, href) if base else href, text=label, start=start,
                        end=start + len(label) if start is not None else None, region=region))
    return tuple(out)


def _img_alt(anchor: _Element) -> str:
    img = anchor.find(".//img")
    return (img.get("alt") or "") if img is not None else ""


class _AnchorLocator:
    """Finds anchor texts in the article text in page order, preferring the next occurrence."""

    def __init__(self, text: str):
        self.text = text
        self.cursor = 0

    def find(self, label: str) -> int | None:
        if len(label) < 2:
            return None
        at = self.text.find(label, self.cursor)
        if at < 0:
            at = self.text.find(label)
        if at < 0:
            return None
        self.cursor = at + len(label)
        return at


__all__ = ["JavaScriptOnlyError", "extract_article"]
