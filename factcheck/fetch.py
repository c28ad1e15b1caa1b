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
"""

from __future__ import annotations

import codecs
import logging
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import charset_normalizer
import requests

from . import _http
from .config import Settings
from .errors import FetchError, InputError, NotHtmlError, TooLargeError
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


def fetch_page(source: str, settings: Settings, session: requests.Session | None = None) -> Page:
    """Read one story: an http(s) URL, a local .html/.htm/.txt file, or "-" for stdin.

    Args:
        source: the URL, the file path, or "-" to read standard input.
        settings: timeouts, retries, backoff and `max_page_bytes` come from here.
        session: a requests session to reuse; one is made (and closed) when None.

    Returns:
        The Page, with `html` decoded to str. For plain text (a .txt file or a text/plain
        response) `content_type` is "text/plain" and `html` holds the raw text.

    Raises:
        InputError: the file does not exist or cannot be read, stdin is empty, or SOURCE is
            neither a URL nor a file.
        FetchError: the site answered 4xx/5xx, refused us, or could not be reached; the body
            was empty.
        NotHtmlError: the response is a PDF, an image, JSON or other non-page content.
        TooLargeError: the response passed `settings.max_page_bytes`.
    """
    if source == "-":
        return _from_stdin()
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        return _from_url(source, settings, session)
    if scheme == "file":
        return _from_file(Path(unquote(urlsplit(source).path)), source)
    return _from_file(Path(source), source)


# -- URLs ---------------------------------------------------------------------------------------


def _from_url(url: str, settings: Settings, session: requests.Session | None) -> Page:
    if settings.offline:
        raise FetchError(f"offline mode: cannot download {url}; save the page and pass the file",
                         url)
    own = session is None
    session = session or _http.make_session(settings)
    try:
        resp = _http.get(session, url, settings, headers={"Accept": ACCEPT},
                         max_bytes=settings.max_page_bytes)
    except _http.TooLarge as exc:
        raise TooLargeError(f"the page is too large: {exc}: {url}", url, exc.status) from exc
    except _http.TransportError as exc:
        raise FetchError(f"could not fetch the page ({exc}): {url}", url, exc.status) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema) as exc:
        raise InputError(f"not a valid URL: {url} ({exc})") from exc
    except requests.RequestException as exc:  # a broken body (chunking, gzip) the layer lets by
        raise FetchError(f"could not read the page ({type(exc).__name__}: {exc}): {url}",
                         url) from exc
    finally:
        if own:
            session.close()
    logger.debug("fetched: %s (%s, %s bytes)", resp.final_url, resp.status, len(resp.content))
    _check_status(resp, settings)
    content_type = _content_type(resp.content_type, resp.content, url, resp.status)
    if not resp.content.strip():
        raise FetchError(f"the page is empty (HTTP {resp.status}, no content): {url}", url,
                         resp.status)
    text, encoding = decode(resp.content, _header_charset(resp.headers.get("content-type", "")),
                            html=content_type == "text/html")
    return Page(url=url, final_url=resp.final_url, status=resp.status,
                content_type=content_type, encoding=encoding, html=text, fetched_at=_now())


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
    raise FetchError(message, url, status)


def _content_type(declared: str, content: bytes, url: str, status: int) -> str:
    """The page's media type, sniffing the bytes when the header is missing or generic."""
    sniffed = _sniff(content)
    if sniffed is not None:
        declared = sniffed  # a PDF served as text/html is still a PDF
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
        canonical = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        logger.debug("unknown charset: %s", name)
        return None
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


__all__ = ["decode", "fetch_page"]
