"""The page around the story: metadata, regions, headline, standfirst, captions and links.

Part of the article stage (`extract.py` is its entry point; `extract_body.py` reads the body with
trafilatura). Everything here reads the lxml tree of the page as the browser would show it:

- `Metadata.read`: JSON-LD, OpenGraph and `<meta>` tags (date, site, authors, description);
- `main_element` and `RegionFinder`: which element holds the body paragraphs, and whether an
  element sits in the story, the site's navigation or footer, a related-stories rail or elsewhere;
- `headline`, `standfirst` and `captions`: the parts main-text extractors drop;
- `links`: every `<a href>` with its region and, when found, its offsets in the article text.
"""

from __future__ import annotations

import json
import logging
import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Iterator, TypeVar
from urllib.parse import urljoin, urlsplit

from lxml.etree import _Element

from .types import Link, Page

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

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
WALL_WORDS = (("a cookie or consent wall", frozenset({"cookie", "cookies", "consent", "gdpr"})),
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
_LD_DEPTH = 8  # lists and @graphs nested deeper than this hold no story's metadata
_WORD_SPLIT = re.compile(r"[\s_-]+")
_SPACE = re.compile(r"\s+")


# -- text helpers -----------------------------------------------------------------------------


def clean_text(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def match_key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()



def _inside(element: _Element, tags: tuple[str, ...]) -> bool:
    parent = element.getparent()
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.getparent()
    return False



def page_words(tree: _Element) -> set[str]:
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
class Metadata:
    headline: str | None
    published: str | None
    site: str | None
    authors: tuple[str, ...]
    description: str | None
    canonical: str | None
    language: str | None
    live_blog: bool = False

    @classmethod
    def read(cls, tree: _Element) -> Metadata:
        meta = _meta_tags(tree)
        ld = list(json_ld_articles(tree))
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
        return cls(headline=clean_text(headline) or None, published=published,
                   site=clean_text(site) or None, authors=authors,
                   description=clean_text(description) or None, canonical=canonical,
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


def json_ld_articles(tree: _Element) -> Iterator[dict[str, Any]]:
    for data in _json_ld_blocks(tree):
        yield from _ld_objects(data)


def _json_ld_blocks(tree: _Element) -> Iterator[object]:
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            logger.debug("skipping malformed JSON-LD block")
            continue
        yield data


def _ld_is(obj: dict[str, Any], kind: str) -> bool:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.lower() == kind for k in kinds)


def _ld_objects(data: object, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > _LD_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _ld_objects(item, depth + 1)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds):
            yield data
        if "@graph" in data:
            yield from _ld_objects(data["@graph"], depth + 1)


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
    names = (clean_text(_ld_name(item)) for item in items if item)
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


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname if url.startswith("http") else None
    except ValueError:  # "http://[" and other URLs urllib cannot split
        return None
    return host.removeprefix("www.") if host else None


# -- where the story sits on the page -----------------------------------------------------------


def find_main_element(tree: _Element, body: list[str]) -> _Element | None:
    """The tightest element that holds most of the body paragraphs, or None."""
    if not body:
        return None
    probes = [match_key(p)[:60] for p in body]
    candidates = [el for el in tree.iter() if isinstance(el.tag, str) and _is_main_candidate(el)]
    found = _best_container(candidates, probes)
    if found is None:
        found = _best_container(_paragraph_ancestors(tree, probes), probes)
    return found


def _best_container(elements: list[_Element], probes: list[str]) -> _Element | None:
    """Of the elements holding at least half the paragraphs, the one holding most, tightest."""
    best: tuple[float, int, _Element] | None = None
    for element in elements:
        haystack = match_key(" ".join(element.itertext()))
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
        if match_key(" ".join(p.itertext()))[:60] in wanted:
            found.extend(a for a in p.iterancestors() if a.tag not in ("body", "html"))
    return list(dict.fromkeys(found))


class RegionFinder:
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


def find_headline(tree: _Element, main: _Element | None, doc: Metadata) -> str | None:
    """The headline a reader sees: the story's <h1>, else the metadata headline, else any <h1>."""
    scope = _story_scope(main)
    found = _first_h1(scope) if scope is not None else None
    if found or doc.headline:
        return found or doc.headline
    found = _first_h1(tree)  # may be a site logo on some pages, hence after the metadata
    if found:
        return found
    title = tree.find(".//title")
    text = clean_text(title.text_content()) if title is not None else ""
    return re.split(r"\s+[|\u2013\u2014-]\s+", text)[0] or None


def _first_h1(root: _Element) -> str | None:
    for h1 in root.iter("h1"):
        text = clean_text(" ".join(h1.itertext()))
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


def find_standfirst(tree: _Element, regions: RegionFinder, doc: Metadata, title: str | None,
                body: list[str]) -> str | None:
    text = _standfirst_element(tree, regions, title) or doc.description
    if not text:
        return None
    key = match_key(text.rstrip(".\u2026 "))
    if title and key == match_key(title):
        return None
    if body and (key in match_key(body[0]) or any(key == match_key(p) for p in body)):
        return None  # already the first body paragraph (or a truncated copy of it)
    return text


def _standfirst_element(tree: _Element, regions: RegionFinder, title: str | None) -> str | None:
    for element in tree.iter("p", "h2", "div", "span"):
        if not _word_hits(element, _STANDFIRST_WORDS):
            continue
        if regions.region(element) not in ("body", "other"):
            continue
        text = clean_text(" ".join(element.itertext()))
        if 30 <= len(text) <= 600 and (not title or match_key(text) != match_key(title)):
            return text
    return None


def find_captions(tree: _Element, regions: RegionFinder) -> list[str]:
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
               for _, words in WALL_WORDS)


def _caption_text(element: _Element) -> str:
    """The caption without its photo credit ("Photograph: ..."), which is not the story's."""
    copy = deepcopy(element)
    for node in list(copy.iter()):
        if node is not copy and isinstance(node.tag, str) and _word_hits(node, _CREDIT_WORDS):
            if node.getparent() is not None:
                node.drop_tree()
    return clean_text(" ".join(copy.itertext()))


# -- links --------------------------------------------------------------------------------------


def find_base_url(tree: _Element, page: Page, canonical: str | None) -> str | None:
    """What relative links are relative to; None for a saved file that does not say."""
    candidates = [page.final_url, canonical or ""]
    base = tree.find(".//base")
    if base is not None and base.get("href"):
        candidates.insert(0, _absolute(page.final_url, base.get("href")))
    return next((c for c in candidates if c.startswith(("http://", "https://"))), None)


def find_links(tree: _Element, regions: RegionFinder, text: str,
           base: str | None) -> tuple[Link, ...]:
    locator = _AnchorLocator(text)
    out = []
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")):
            continue
        label = clean_text(" ".join(anchor.itertext())) or clean_text(
            anchor.get("aria-label") or anchor.get("title") or _img_alt(anchor))
        region = regions.region(anchor)
        start = locator.find(label) if region in ("body", "other") else None
        out.append(Link(href=_absolute(base, href) if base else href, text=label, start=start,
                        end=start + len(label) if start is not None else None, region=region))
    return tuple(out)


def _absolute(base: str, href: str) -> str:
    """`href` made absolute against `base`; as it stands when urllib cannot read either."""
    try:
        return urljoin(base, href)
    except ValueError:  # an invalid IPv6 host ("http://[::1") and the like
        return href


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


__all__ = ["WALL_WORDS", "Metadata", "RegionFinder", "clean_text", "find_base_url", "find_captions",
           "find_headline", "find_links", "find_main_element", "find_standfirst", "host_of",
           "json_ld_articles", "match_key", "page_words"]
