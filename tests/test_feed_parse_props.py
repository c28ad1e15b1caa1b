"""Property tests for the feed parser path (issue 12): whatever bytes a feed URL or file holds
(random, truncated, garbled RSS or Atom, odd links and encodings), `parse_feed` and `read_feed`
return FeedItems with web links or raise a FactcheckError, never anything else."""

from __future__ import annotations

import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factcheck.config import load_settings
from factcheck.errors import FactcheckError
from factcheck.feed import FeedItem, parse_feed, read_feed

FEED_URL = "https://news.example/feeds/health.xml"
CONTENT_TYPES = st.sampled_from([
    None, "", "application/rss+xml", "application/atom+xml; charset=utf-8", "text/xml",
    "text/html", "text/plain", "application/octet-stream", "application/xml; charset=bogus-8",
    "application/rss+xml; charset=utf-16"])
LINKS = st.one_of(
    st.sampled_from(["https://news.example/a", "/relative/b", "http://[::1", "http://[bad",
                     "javascript:alert(1)", "mailto:x@y.example", "//cdn.example/x", "",
                     "http://", "https://news.example/%zz", "ftp://old.example/f",
                     "http://exa mple.com/ x", "\x00http://nul.example/"]),
    st.text(max_size=40))
TEXT = st.text(max_size=60)


def _rss(items: list[tuple[str, str, str, str]]) -> bytes:
    body = "".join(f"<item><guid>{escape(g)}</guid><link>{escape(link)}</link>"
                   f"<title>{escape(t)}</title><description>{escape(d)}</description></item>"
                   for g, link, t, d in items)
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>H</title>"
            f"<link>https://news.example/</link>{body}</channel></rss>").encode("utf-8",
                                                                                "surrogatepass")


def _atom(items: list[tuple[str, str, str, str]]) -> bytes:
    body = "".join(f"<entry><id>{escape(g)}</id><link rel='alternate' href={quoteattr(link)}/>"
                   f"<title>{escape(t)}</title><summary>{escape(d)}</summary>"
                   f"<content type='html'>{escape(d)}</content></entry>"
                   for g, link, t, d in items)
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>H</title><id>urn:x</id>{body}</feed>").encode("utf-8", "surrogatepass")


ITEMS = st.lists(st.tuples(TEXT, LINKS, TEXT, TEXT), max_size=4)
WELL_FORMED = st.one_of(ITEMS.map(_rss), ITEMS.map(_atom))


@st.composite
def garbled(draw: st.DrawFn) -> bytes:
    """A feed with spans cut out, bytes put in, or cut short."""
    data = bytearray(draw(WELL_FORMED))
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["cut", "insert", "truncate"]))
        if action == "cut":
            del data[at:at + draw(st.integers(1, 20))]
        elif action == "insert":
            data[at:at] = draw(st.one_of(
                st.binary(max_size=12),
                st.sampled_from([b"<", b"&", b"]]>", b"<!ENTITY x 'y'>", b"&#0;", b"\xff\xfe",
                                 b"<item>", b"</channel>", b"<![CDATA[", b"\x00"])))
        else:
            del data[at:]
    return bytes(data)


ANY_BYTES = st.one_of(st.binary(max_size=400), WELL_FORMED, garbled())


def _holds(result: list[FeedItem]) -> None:
    assert isinstance(result, list)
    for item in result:
        assert isinstance(item, FeedItem)
        assert item.url.lower().startswith(("http://", "https://"))
        assert not any(ord(c) <= 0x20 or ord(c) == 0x7f for c in item.url)
        assert isinstance(item.summary, str) and isinstance(item.hash, str)


@settings(max_examples=300, deadline=None)
@given(content=ANY_BYTES, content_type=CONTENT_TYPES)
def test_feed_parse_any_bytes_give_items_or_a_feed_error(content, content_type):
    try:
        items = parse_feed(content, FEED_URL, FEED_URL, content_type)
    except FactcheckError:
        return
    _holds(items)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=ANY_BYTES)
def test_feed_read_local_file_of_any_bytes(content):
    config = load_settings(env={})
    with tempfile.TemporaryDirectory() as folder, requests.Session() as session:
        path = Path(folder) / "feed.xml"
        path.write_bytes(content)
        for source in (str(path), path.as_uri()):
            try:
                items = read_feed(source, config, session)
            except FactcheckError:
                continue
            _holds(items)


@settings(max_examples=50, deadline=None)
@given(name=st.text(min_size=1, max_size=30))
def test_feed_read_odd_feed_names_raise_only_feed_errors(name):
    config = load_settings(env={})
    with requests.Session() as session:
        try:
            read_feed(name if "://" not in name else "http://[" + name, config.with_(offline=True),
                      session)
        except FactcheckError:
            pass
