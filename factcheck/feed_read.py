"""Reading feeds: RSS/Atom bytes to FeedItems, and the cheap pre-filter on what they say.

Any bytes a feed holds give items or a one-line FeedError, never a crash (property-tested); only
items with an http(s) link without control characters are kept. The pre-filter looks for
`rules/lexicons/study_cues.txt` (or a DOI) in an item's title and summary; `says_too_little`
tells the job when to read the page instead (factcheck.feed).
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from .config import Settings
from .errors import FetchError, InputError
from .store import content_hash

logger = logging.getLogger(__name__)

# A feed item whose title and summary hold fewer words than this says too little for the
# pre-filter: the page is read and the study cues are looked for in the story's own text. A bare
# headline is 4-12 words; one sentence of summary takes an item past it.
PREFILTER_MIN_WORDS = 10
_DOI = re.compile(r"\b10\.\d{4,9}/\S+")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# a story link we will fetch: http(s), a host, and no spaces or control characters anywhere
# (urllib silently drops some of them, so "\x00http://\x00" would otherwise pass as a web link)
_WEB_LINK = re.compile(r"https?://[^\x00-\x20\x7f/?#@]+(?:[/?#][^\x00-\x20\x7f]*)?", re.I)


class FeedError(FetchError):
    """A feed could not be read or is not RSS/Atom."""

    stage = "feed"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, as the job sees it."""

    feed: str
    url: str
    guid: str | None
    title: str | None
    summary: str
    published: str | None
    hash: str


def read_feeds_file(path: Path) -> list[str]:
    """Feed URLs from a file: one per line, `#` comments and blank lines ignored.

    Raises:
        InputError: the file cannot be read.
    """
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the feeds file {path}: {exc.strerror or exc}") from exc
    return [line.split("#", 1)[0].strip() for line in text.splitlines()
            if line.split("#", 1)[0].strip()]


def _plain(text: str | None) -> str:
    return " ".join(html_lib.unescape(_TAG.sub(" ", text or "")).split())


def read_feed(url: str, settings: Settings, session: requests.Session) -> list[FeedItem]:
    """The stories in one RSS or Atom feed (an http(s) URL or a local file).

    Raises:
        FeedError: the feed cannot be fetched, answered an error status, or is not RSS/Atom.
    """
    from . import _http
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise FeedError(f"not a usable feed URL {url}: {exc}", url) from exc
    if scheme in ("http", "https"):
        if settings.offline:
            raise FeedError(f"offline mode: cannot read the feed {url}", url)
        try:
            resp = _http.get(session, url, settings, max_bytes=settings.max_page_bytes,
                             headers={"Accept": "application/rss+xml, application/atom+xml, "
                                                "application/xml;q=0.9, */*;q=0.5"})
        except _http.TransportError as exc:
            raise FeedError(f"cannot read the feed {url}: {exc}", url) from exc
        except requests.RequestException as exc:
            raise FeedError(f"not a usable feed URL {url}: {exc}", url) from exc
        if resp.status != 200:
            raise FeedError(f"the feed {url} answered HTTP {resp.status}", url, resp.status)
        return parse_feed(resp.content, url, resp.final_url,
                          resp.headers.get("content-type", ""))
    try:
        path = Path(urlsplit(url).path if url.startswith("file:") else url)
        content = path.read_bytes()
        base = path.resolve().as_uri()
    except (OSError, ValueError) as exc:
        raise FeedError(f"cannot read the feed file {url}: "
                        f"{getattr(exc, 'strerror', None) or exc}", url) from exc
    # a file has no Content-Type; without one feedparser flags every file ("no Content-type
    # specified"), which is no fault of the feed
    return parse_feed(content, url, base, None)


def parse_feed(content: bytes, url: str, base: str, content_type: str | None) -> list[FeedItem]:
    """The stories in the bytes of an RSS or Atom feed.

    Args:
        content: the feed as fetched or read.
        url: where it came from (for messages and `FeedItem.feed`).
        base: the URL relative links resolve against.
        content_type: the HTTP Content-Type; None for a local file (then the XML decides).

    Raises:
        FeedError: the bytes are not RSS or Atom, or hold no readable entry.
    """
    import feedparser

    headers = {"content-location": base,
               "content-type": content_type if content_type is not None else "application/xml"}
    try:
        parsed = feedparser.parse(content, response_headers=headers)
    except Exception as exc:  # feedparser is lenient; a crash inside it is still a bad feed
        raise FeedError(f"the feed {url} could not be parsed ({type(exc).__name__}: {exc})",
                        url) from exc
    if not parsed.entries:
        if parsed.get("bozo"):
            reason = parsed.get("bozo_exception")
            raise FeedError(f"the feed {url} is not valid RSS or Atom ({reason})", url)
        if not parsed.get("version"):
            raise FeedError(f"{url} is not an RSS or Atom feed", url)
        return []
    if parsed.get("bozo"):
        logger.warning("feed has errors, read what could be read: %s: %s", url,
                       parsed.get("bozo_exception"))
    items = []
    for entry in parsed.entries:
        item = _feed_item(entry, url, base)
        if item is not None:
            items.append(item)
    return items


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _feed_item(entry: Any, url: str, base: str) -> FeedItem | None:
    link = _text_of(entry.get("link"))
    if not link:
        for alt in entry.get("links", []) or []:
            if isinstance(alt, Mapping) and _text_of(alt.get("href")):
                link = alt["href"]
                break
    try:
        # a space inside a link is a common slip in hand-made feeds; percent-encode it
        link = urljoin(base, link.strip().replace(" ", "%20")) if link else ""
        ok = bool(_WEB_LINK.fullmatch(link)) and bool(urlsplit(link).hostname)
    except ValueError:  # "http://[::1" and other links urllib cannot split
        ok = False
    title = _plain(_text_of(entry.get("title"))) or None
    if not ok:
        logger.info("feed item without a web link, skipped: %s: %s", url, title)
        return None
    summary = _plain(_text_of(entry.get("summary")))
    body = " ".join(_plain(_text_of(c.get("value"))) for c in entry.get("content", []) or []
                    if isinstance(c, Mapping))
    guid = _text_of(entry.get("id")).strip() or None
    published = _text_of(entry.get("published")) or _text_of(entry.get("updated")) or None
    return FeedItem(feed=url, url=link, guid=guid, title=title, summary=summary,
                    published=published, hash=content_hash(title, summary, body))


def is_about_study(item: FeedItem, cues: frozenset[str]) -> bool:
    """True when the item's title or summary has a study cue or a DOI."""
    return text_is_about_study(f"{item.title or ''} {item.summary}", cues)


def text_is_about_study(text: str, cues: frozenset[str]) -> bool:
    """True when `text` has a study cue (whole words, lowercase) or a DOI."""
    if _DOI.search(text) or "doi.org/" in text.lower():
        return True
    words = f" {' '.join(_WORD.findall(text.lower()))} "
    return any(f" {cue} " in words for cue in cues)


def says_too_little(item: FeedItem) -> bool:
    """True when the item's title and summary are too short for the pre-filter to judge."""
    return len(_WORD.findall(f"{item.title or ''} {item.summary}".lower())) < PREFILTER_MIN_WORDS
