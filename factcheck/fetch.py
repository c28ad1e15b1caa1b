"""Fetch stage: a URL, a local file or stdin -> Page.

URLs go through the shared HTTP layer (`factcheck._http.get`), so timeouts, retries with backoff,
Retry-After and the streamed size cap behave as they do for the literature clients. This module
only decides what an answer means for a story page (a 404, a bot wall, a PDF) and turns the body
bytes into text:

1. the byte-order mark, when there is one;
2. the charset in the Content-Type header;
3. the page's own `<meta charset>` / `http-equiv` declaration;
4. charset_normalizer's guess.

A declared charset is only used when the bytes decode cleanly with it, and a single-byte
declaration loses to a UTF-8 one when the bytes are valid UTF-8 (the common "server says
ISO-8859-1, page is UTF-8" mistake).

Unattended runs (the nightly feed job) also get:

- an on-disk page cache (`pages.sqlite3` under `settings.cache_dir`) revalidated with a
  conditional GET (If-None-Match / If-Modified-Since), so an unchanged page costs a 304; with
  `settings.offline` a URL is answered from that cache or refused with a clear FetchError;
- `HostPoliteness`: a minimum delay (with jitter) between two requests to the same host;
- `RobotsRules`: robots.txt honoured when `respect_robots=True` (the crawler passes it; a URL an
  editor submits by hand is fetched regardless, as a browser would).

A PDF is refused, but when its metadata or first text carries a DOI the error says it is the
paper itself (`PaperPdfError.doi`), so the caller can suggest `--paper DOI`.
"""

from __future__ import annotations

import codecs
import json
import logging
import random
import re
import sys
import threading
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit
from urllib.robotparser import RobotFileParser

import charset_normalizer
import requests

from . import _http
from .cache import Cache
from .config import Settings
from .errors import FetchError, InputError, NotHtmlError, PageDeadline, SiteUnavailable, TooLargeError
from .types import Page

logger = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_LOOKS_HTML = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|article|p|div)\b", re.IGNORECASE)
_BARE_HOST = re.compile(r"^(?:www\.)?[\w-]+(?:\.[\w-]+)+/")
_SINGLE_BYTE = frozenset({"ascii", "latin_1", "iso8859_1", "cp1252", "iso8859_15"})
_SNIFF = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
)


PAGE_CACHE_FILENAME = "pages.sqlite3"
_PDF_DOI = re.compile(rb"(?:doi[:/\s(]*|doi\.org/|<prism:doi>|dc:identifier>\s*(?:doi:)?)"
                      rb"\s*(10\.\d{4,9}/[^\s\"<>()\\\]\[]+)", re.IGNORECASE)
_PDF_STREAM = re.compile(rb"stream\r?\n")
PDF_SCAN_BYTES = 2_000_000  # how far into a PDF we look for its DOI
PDF_SCAN_STREAMS = 40  # compressed streams inflated while looking


class PaperPdfError(NotHtmlError):
    """The URL or file is a PDF that names a DOI: most likely the paper itself, not a story."""

    def __init__(self, message: str, url: str | None, status: int | None, doi: str):
        super().__init__(message, url, status, "application/pdf")
        self.doi = doi


def fetch_page(source: str, settings: Settings, session: requests.Session | None = None, *,
               respect_robots: bool = False, politeness: HostPoliteness | None = None,
               robots: RobotsRules | None = None, use_cache: bool | None = None) -> Page:
    """Read one story: an http(s) URL, a local .html/.htm/.txt file, or "-" for stdin.

    Args:
        source: the URL, the file path, or "-" to read standard input.
        settings: timeouts, retries, backoff, `max_page_bytes`, `cache_dir`, `offline` and
            `page_cache` come from here.
        session: a requests session to reuse; one is made (and closed) when None.
        respect_robots: refuse URLs that the host's robots.txt disallows for us (the feed
            crawler passes True; an editor's URL is fetched as a browser would).
        politeness: the run's per-host delay keeper (batch mode); None for a single URL.
        robots: the run's robots.txt memo, so each host's file is read once per run; one is
            made per call when None and `respect_robots` is set.
        use_cache: use the on-disk page cache; None means `settings.page_cache`.

    Returns:
        The Page, with `html` decoded to str. For plain text (a .txt file or a text/plain
        response) `content_type` is "text/plain" and `html` holds the raw text.

    Raises:
        InputError: the file does not exist or cannot be read, stdin is empty, or SOURCE is
            neither a URL nor a file.
        FetchError: the site answered 4xx/5xx, refused us, or could not be reached; the body
            was empty; robots.txt disallows the URL; offline and the page is not cached.
        NotHtmlError: the response is a PDF, an image, JSON or other non-page content
            (`PaperPdfError`, with `.doi`, when the PDF is a paper).
        TooLargeError: the response passed `settings.max_page_bytes`.
    """
    if source == "-":
        return _from_stdin()
    try:
        scheme = urlsplit(source).scheme.lower()
    except ValueError as exc:
        raise InputError(f"not a valid URL or file name: {source} ({exc})") from exc
    if scheme in ("http", "https"):
        cache = PageCache.from_settings(settings) if (
            settings.page_cache if use_cache is None else use_cache) else None
        own = session is None
        session = session or _http.make_session(settings)
        try:
            if respect_robots and not settings.offline:
                (robots or RobotsRules(settings, session, cache)).check(source)
            return _from_url(source, settings, session, cache, politeness)
        finally:
            if own:
                session.close()
            if cache is not None:
                cache.close()
    if scheme == "file":
        return _from_file(Path(unquote(urlsplit(source).path)), source)
    return _from_file(Path(source), source)


# -- URLs ---------------------------------------------------------------------------------------


def _from_url(url: str, settings: Settings, session: requests.Session,
              cache: PageCache | None, politeness: HostPoliteness | None) -> Page:
    cached = cache.get(url) if cache is not None else None
    if settings.offline:
        if cached is not None:
            logger.debug("offline, answered from the page cache: %s", url)
            return cached.page
        raise FetchError(f"offline mode: {url} is not in the page cache; run once online, or "
                         f"save the page and pass the file", url)
    headers = {"Accept": ACCEPT}
    if cached is not None:
        headers.update(cached.validators())
    if politeness is not None:
        politeness.wait(url)
    try:
        resp = _http.get(session, url, settings, headers=headers,
                         max_bytes=settings.max_page_bytes)
    except _http.TooLarge as exc:
        raise TooLargeError(f"the page is too large: {exc}: {url}", url, exc.status) from exc
    except _http.DeadlineExceeded as exc:
        raise PageDeadline(f"the page did not arrive in time ({exc}): {url}", url) from exc
    except _http.TransportError as exc:
        raise SiteUnavailable(f"could not fetch the page ({exc}): {url}", url, exc.status) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema) as exc:
        raise InputError(f"not a valid URL: {url} ({exc})") from exc
    except requests.RequestException as exc:  # a broken body (chunking, gzip) the layer lets by
        raise FetchError(f"could not read the page ({type(exc).__name__}: {exc}): {url}",
                         url) from exc
    logger.debug("fetched: %s (%s, %s bytes)", resp.final_url, resp.status, len(resp.content))
    if resp.status == 304 and cached is not None:
        logger.debug("not modified, answered from the page cache: %s", url)
        page = _replace_time(cached.page)
        cache.put(page, cached.etag, cached.last_modified)  # type: ignore[union-attr]
        return page
    _check_status(resp, settings)
    content_type = _content_type(resp.content_type, resp.content, url, resp.status)
    if not resp.content.strip():
        raise FetchError(f"the page is empty (HTTP {resp.status}, no content): {url}", url,
                         resp.status)
    text, encoding = decode(resp.content, _header_charset(resp.headers.get("content-type", "")),
                            html=content_type == "text/html")
    page = Page(url=url, final_url=resp.final_url, status=resp.status,
                content_type=content_type, encoding=encoding, html=text, fetched_at=_now())
    if cache is not None:
        cache.put(page, resp.headers.get("etag"), resp.headers.get("last-modified"))
    return page


def _replace_time(page: Page) -> Page:
    return Page(url=page.url, final_url=page.final_url, status=page.status,
                content_type=page.content_type, encoding=page.encoding, html=page.html,
                fetched_at=_now())


def _check_status(resp: _http.Response, settings: Settings) -> None:
    status, url = resp.status, resp.url
    if 200 <= status < 300:
        return
    attempts = settings.retries + 1
    if status in (404, 410):
        what = "page not found" if status == 404 else "page removed"
        message = f"{what} (HTTP {status}): {url}"
    elif status in (401, 403):
        message = (f"the site refused the request (HTTP {status}), probably a bot wall or a "
                   f"paywall; save the page from a browser and pass the file: {url}")
    elif status == 429:
        message = f"the site kept rate-limiting us (HTTP 429) after {attempts} attempts: {url}"
    elif status >= 500:
        message = f"the site failed (HTTP {status}) after {attempts} attempts: {url}"
    else:
        message = f"the site answered HTTP {status}, not the page: {url}"
    if status == 429 or status >= 500:
        raise SiteUnavailable(message, url, status)
    raise FetchError(message, url, status)


def _content_type(declared: str, content: bytes, url: str, status: int) -> str:
    """The page's media type, sniffing the bytes when the header is missing or generic."""
    sniffed = _sniff(content)
    if sniffed is not None:
        declared = sniffed  # a PDF served as text/html is still a PDF
    if declared == "application/pdf":
        _refuse_pdf(content, url, status, "the URL")
    if not declared or declared in ("application/octet-stream", "binary/octet-stream"):
        declared = "text/html" if _LOOKS_HTML.search(content[:4096]) else declared
    if declared in HTML_TYPES:
        return "text/html"
    if declared in TEXT_TYPES:
        return "text/plain"
    raise NotHtmlError(_not_html_message(declared or "an unknown type", url), url, status,
                       declared)


def _sniff(content: bytes) -> str | None:
    head = content[:16].lstrip()
    for magic, media_type in _SNIFF:
        if head.startswith(magic):
            return media_type
    return None


def _not_html_message(media_type: str, where: str) -> str:
    if media_type == "application/pdf":
        what = ("a PDF, not a web page; if it is the paper itself pass its DOI with --paper")
    elif media_type.startswith("image/"):
        what = f"an image ({media_type}), not a web page"
    elif media_type.endswith("json"):
        what = f"JSON data ({media_type}), not a web page"
    elif "rss" in media_type or "atom" in media_type:
        what = f"a news feed ({media_type}), not a story; use `factcheck feed` for feeds"
    elif media_type.endswith("xml"):
        what = f"XML ({media_type}), not a web page"
    elif media_type.startswith(("video/", "audio/")):
        what = f"a media file ({media_type}), not a web page"
    else:
        what = f"{media_type}, not a web page"
    return f"the URL is {what}: {where}"


def _refuse_pdf(content: bytes, where: str, status: int | None, what: str) -> None:
    doi = pdf_doi(content)
    if doi is None:
        raise NotHtmlError(_not_html_message("application/pdf", where).replace("the URL", what),
                           where, status, "application/pdf")
    raise PaperPdfError(
        f"{what} is a PDF of a scholarly paper (DOI {doi}), not a news story; to check a story "
        f"against this paper pass the story and --paper {doi}: {where}", where, status, doi)


def pdf_doi(content: bytes) -> str | None:
    """The DOI a PDF names in its metadata (Info/XMP) or first text, or None.

    Looks at the raw bytes first (XMP packets and Info dictionaries are often uncompressed),
    then inflates the first few Flate streams (page text, object streams).

    Args:
        content: the PDF's bytes.

    Returns:
        The DOI, lowercased, or None when none is found.
    """
    from .citations import normalize_doi  # citations imports nothing from here; no cycle

    head = content[:PDF_SCAN_BYTES]
    chunks = [head]
    for count, match in enumerate(_PDF_STREAM.finditer(head)):
        if count >= PDF_SCAN_STREAMS:
            break
        try:
            chunks.append(zlib.decompressobj().decompress(head[match.end():], 1_000_000))
        except zlib.error:
            continue
    for chunk in chunks:
        found = _PDF_DOI.search(chunk)
        if found:
            doi = normalize_doi(found.group(1).decode("latin-1"))
            if doi:
                return doi
    return None


# -- the page cache, politeness and robots.txt -------------------------------------------------


class _CachedPage:
    def __init__(self, page: Page, etag: str | None, last_modified: str | None):
        self.page = page
        self.etag = etag
        self.last_modified = last_modified

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class PageCache:
    """Fetched pages on disk with their ETag / Last-Modified, for conditional GETs.

    Entries never go stale by age: they are revalidated by a conditional GET on every online
    fetch, and answer directly only in offline mode. Built on `factcheck.cache.Cache`, so a
    broken file is logged and skipped, never fatal.

    Args:
        path: the cache folder; the file `pages.sqlite3` is made inside it.
    """

    SERVICE = "page"

    def __init__(self, path: Path):
        self._store = Cache(Path(path) / PAGE_CACHE_FILENAME, ttl=0)

    @classmethod
    def from_settings(cls, settings: Settings) -> PageCache:
        """The page cache under `settings.cache_dir`."""
        return cls(settings.cache_dir)

    def get(self, url: str) -> _CachedPage | None:
        """The cached page for `url` with its validators, or None."""
        raw = self._store.get(self.SERVICE, url, allow_stale=True)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return _CachedPage(Page(**data["page"]), data.get("etag"), data.get("last_modified"))
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("page cache entry unreadable, ignored: %s: %s", url, exc)
            return None

    def put(self, page: Page, etag: str | None, last_modified: str | None) -> None:
        """Store `page` under its URL with the validators the server sent."""
        data = {"page": {name: getattr(page, name) for name in Page.__slots__},
                "etag": etag, "last_modified": last_modified}
        self._store.put(self.SERVICE, page.url, json.dumps(data))

    def close(self) -> None:
        self._store.close()


class HostPoliteness:
    """Keeps at least `delay` seconds (plus up to `jitter` of it, random) between two requests
    to the same host; threads share it safely.

    Args:
        delay: the minimum gap per host, in seconds (`settings.host_delay`).
        jitter: the fraction of `delay` added at random, so a batch does not beat a rhythm.
        clock: a monotonic clock (tests pass a fake one).
        sleep: the sleep function (tests pass a fake one).

    Example:
        >>> polite = HostPoliteness(settings.host_delay)
        >>> for url in urls:
        ...     page = fetch_page(url, settings, session, respect_robots=True, politeness=polite)
    """

    def __init__(self, delay: float, jitter: float = 0.25,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.delay = max(0.0, delay)
        self.jitter = max(0.0, jitter)
        self._next: dict[str, float] = {}
        self._extra: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def set_host_delay(self, url: str, delay: float) -> None:
        """Raise the gap for one host (a robots.txt Crawl-delay); never lowers it."""
        host = _host_key(url)
        with self._lock:
            self._extra[host] = max(self._extra.get(host, 0.0), delay)

    def wait(self, url: str) -> float:
        """Sleep until the host of `url` may be asked again; returns the seconds slept."""
        host = _host_key(url)
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(host, 0.0))
            gap = max(self.delay, self._extra.get(host, 0.0))
            self._next[host] = start + gap * (1 + self.jitter * random.random())
        if start > now:
            logger.debug("politeness: waiting %.2fs for %s", start - now, host)
            self._sleep(start - now)
        return max(0.0, start - now)


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


class RobotsRules:
    """robots.txt per host, read once per run (through the page cache) and checked per URL.

    Like the major crawlers: a missing robots.txt (4xx) allows everything; a server error or an
    unreachable host disallows the host for this run (it may be overloaded), with a clear message.

    Args:
        settings: the run's settings (the User-Agent is built from them).
        session: the run's HTTP session.
        cache: the page cache, so robots.txt is revalidated cheaply; None to skip caching.
        politeness: when given, a Crawl-delay from robots.txt raises that host's delay.
    """

    AGENT = "factcheck"

    def __init__(self, settings: Settings, session: requests.Session,
                 cache: PageCache | None = None, politeness: HostPoliteness | None = None):
        self.settings = settings
        self.session = session
        self.cache = cache
        self.politeness = politeness
        self._parsers: dict[str, RobotFileParser | str] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Raise FetchError when robots.txt does not let us fetch `url`.

        Raises:
            FetchError: disallowed, or robots.txt could not be read (5xx, unreachable).
        """
        host = _host_key(url)
        with self._lock:
            parser = self._parsers.get(host)
            if parser is None:
                parser = self._parsers[host] = self._load(host)
        if isinstance(parser, str):
            raise FetchError(f"robots.txt of {host} could not be read ({parser}); the crawler "
                             f"skips the host this run: {url}", url)
        if not parser.can_fetch(self.AGENT, url):
            raise FetchError(f"robots.txt of {host} disallows this page for crawlers; skipped "
                             f"(an editor can still check it by hand): {url}", url)
        delay = parser.crawl_delay(self.AGENT)
        if delay and self.politeness is not None:
            self.politeness.set_host_delay(url, float(delay))

    def _load(self, host: str) -> RobotFileParser | str:
        robots_url = f"{host}/robots.txt"
        parser = RobotFileParser(robots_url)
        try:
            page = _from_url(robots_url, self.settings.with_(max_page_bytes=500_000),
                             self.session, self.cache, self.politeness)
        except NotHtmlError:
            parser.parse([])  # served as something odd: treat as no rules
            return parser
        except FetchError as exc:
            status = exc.status
            if status is not None and status < 500 and status != 429:
                parser.parse([])  # missing (4xx) or empty robots.txt: everything allowed
                return parser
            return f"HTTP {status}" if status else "unreachable"
        parser.parse(page.html.splitlines())
        logger.debug("robots.txt read: %s", robots_url)
        return parser


# -- local files and stdin ----------------------------------------------------------------------


def _from_file(path: Path, source: str) -> Page:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        hint = f"; did you mean https://{source}?" if _BARE_HOST.match(source) else ""
        raise InputError(f"no such file: {source}{hint}") from None
    except IsADirectoryError:
        raise InputError(f"{source} is a folder, not a story file") from None
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    sniffed = _sniff(content)
    if sniffed == "application/pdf":
        _refuse_pdf(content, source, None, "the file")
    if sniffed is not None:
        raise NotHtmlError(_not_html_message(sniffed, source).replace("the URL", "the file"),
                           source, None, sniffed)
    if suffix in TEXT_SUFFIXES:
        content_type = "text/plain"
    elif suffix in HTML_SUFFIXES:
        content_type = "text/html"
    else:
        content_type = "text/html" if _LOOKS_HTML.search(content[:4096]) else "text/plain"
    if not content.strip():
        raise InputError(f"the file is empty: {source}")
    text, encoding = decode(content, None, html=content_type == "text/html")
    uri = path.resolve().as_uri()
    return Page(url=str(source), final_url=uri, status=200, content_type=content_type,
                encoding=encoding, html=text, fetched_at=_now())


def _from_stdin() -> Page:
    stream = sys.stdin
    if stream is None:
        raise InputError("no standard input to read the story from")
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        content = buffer.read()
        looks_html = bool(_LOOKS_HTML.search(content[:4096]))
        text, encoding = decode(content, None, html=looks_html)
    else:  # a text stream without bytes underneath (tests, some embedders)
        text, encoding = stream.read(), None
        looks_html = bool(_LOOKS_HTML.search(text[:4096].encode("utf-8", "replace")))
    if not text.strip():
        raise InputError("nothing on standard input; pipe a story's HTML or text into `-`")
    return Page(url="-", final_url="-", status=200,
                content_type="text/html" if looks_html else "text/plain",
                encoding=encoding, html=text, fetched_at=_now())


# -- decoding -----------------------------------------------------------------------------------


def decode(content: bytes, header_charset: str | None, html: bool = True) -> tuple[str, str]:
    """Decode a page's bytes: BOM, header charset, `<meta>` charset, then detection.

    Args:
        content: the body bytes.
        header_charset: the charset named in the Content-Type header, if any.
        html: look for a `<meta charset>` declaration in the first bytes.

    Returns:
        The text and the (Python codec) name of the encoding used.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if content.startswith(bom):
            return content.decode(name.replace("utf-8", "utf-8-sig")), name
    declared = [c for c in (header_charset, _meta_charset(content) if html else None) if c]
    candidates = [name for name in (_codec(c) for c in declared) if name]
    if "utf-8" in candidates and _is_utf8(content):
        return content.decode("utf-8"), "utf-8"
    for name in candidates:
        if name in _SINGLE_BYTE and not content.isascii() and _is_utf8(content):
            continue  # valid non-ASCII UTF-8 is almost never really Latin-1
        try:
            return content.decode(name), name
        except UnicodeDecodeError:
            logger.debug("declared charset %s does not fit the bytes", name)
    return _detect(content)


def _detect(content: bytes) -> tuple[str, str]:
    if _is_utf8(content):
        return content.decode("utf-8"), "utf-8"
    best = charset_normalizer.from_bytes(content).best()
    if best is None:
        return content.decode("utf-8", errors="replace"), "utf-8"
    return str(best), _codec(best.encoding) or best.encoding


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _codec(name: str) -> str | None:
    """Python's canonical codec name for a charset label, or None when unknown."""
    try:
        info = codecs.lookup(name.strip().strip("\"'"))
    except LookupError:
        logger.debug("unknown charset: %s", name)
        return None
    if not getattr(info, "_is_text_encoding", True):
        logger.debug("not a text charset: %s", name)  # base64, hex, zlib: bytes-to-bytes codecs
        return None
    canonical = info.name
    # WHATWG: pages labelled Latin-1 are decoded as windows-1252, which is what browsers do
    return "cp1252" if canonical in ("latin-1", "iso8859-1", "ascii") else _py_name(canonical)


def _py_name(canonical: str) -> str:
    return canonical.replace("-", "_") if canonical.startswith("iso8859") else canonical


def _header_charset(content_type: str) -> str | None:
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def _meta_charset(content: bytes) -> str | None:
    match = _META_CHARSET.search(content[:8192])
    return match.group(1).decode("ascii", "replace") if match else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = ["HostPoliteness", "PageCache", "PaperPdfError", "RobotsRules", "decode", "fetch_page",
           "pdf_doi"]
