"""The article stage on hostile input: binary data, garbled HTML, adversarial sizes, quiet logs.

- binary content served or saved as HTML is "not a text page" (NotHtmlError, exit 2), in one
  line on stderr: trafilatura's own log lines never reach it at the default verbosity;
- random bytes, random text and garbled HTML raise nothing but FactcheckError subclasses;
- extraction time grows about linearly with the page: 100 KB of an adversarial shape takes a
  bounded multiple of the time 10 KB of it takes (a ratio, never an absolute time).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from factcheck.config import Settings, load_settings
from factcheck.errors import EXIT_BAD_INPUT, FactcheckError, NotHtmlError
from factcheck.extract import extract_article
from factcheck.fetch import decode
from factcheck.types import Page

REPO = Path(__file__).resolve().parent.parent
URL = "https://news.example.org/health/2025/03/story"
STORY = ("<article><h1>Walking after meals lowers blood sugar, a trial finds</h1>"
         + "".join(f"<p>Paragraph {i}: researchers followed 120 adults who walked for ten "
                   f"minutes after each meal, and their blood sugar was lower.</p>"
                   for i in range(6)) + "</article>")
# a 20 KB PNG-like file: the signature, then bytes that are not text in any encoding
BINARY = b"\x89PNG\r\n\x1a\n" + bytes((i * 131 + 7) % 256 for i in range(20_000))


def _page(html: str, content_type: str = "text/html") -> Page:
    return Page(url=URL, final_url=URL, status=200, content_type=content_type, encoding="utf-8",
                html=html, fetched_at="2025-03-14T08:00:00+00:00")


@pytest.fixture(scope="module")
def quick() -> Settings:
    return load_settings().with_(min_article_chars=200)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACTCHECK_CACHE": str(tmp_path / "cache"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "factcheck", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


# -- binary content and one-line errors --------------------------------------------------------


@pytest.mark.parametrize("name, content", [
    ("image.html", BINARY[8:]),  # no signature fetch would know: only extraction can tell
    ("zeros.html", b"<html><body>" + b"\x00" * 5000 + b"</body></html>"),
    ("archive.txt", bytes(range(256)) * 40),
])
def test_extract_binary_file_is_not_a_text_page_in_one_line(tmp_path: Path, name: str,
                                                           content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    done = _cli(tmp_path, "extract", name)
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "not a text page" in lines[0] and name in lines[0]
    assert "cookie wall" not in lines[0]


def test_extract_empty_page_error_is_one_line_without_trafilatura_logs(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text("<p>x</p>", "utf-8")  # trafilatura logs 6 lines here
    done = _cli(tmp_path, "extract", "empty.html")
    assert done.returncode == EXIT_BAD_INPUT
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "no article text" in done.stderr


def test_extract_trafilatura_logs_are_debugging_logs_with_vv(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text("<p>x</p>", "utf-8")
    done = _cli(tmp_path, "extract", "-vv", "empty.html")
    assert done.returncode == EXIT_BAD_INPUT
    assert "empty HTML tree" in done.stderr
    lines = [line for line in done.stderr.splitlines() if "empty HTML tree" in line]
    assert all("ERROR" not in line and "WARNING" not in line for line in lines), done.stderr


def test_trafilatura_warnings_stay_out_of_the_log_at_warning_level(
        quick: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with pytest.raises(FactcheckError):
        extract_article(_page("<p>x</p>"), quick)
    assert [r for r in caplog.records if r.name.partition(".")[0] == "trafilatura"] == []


@pytest.mark.parametrize("content_type", ["text/html", "text/plain"])
def test_binary_page_raises_not_html_error(quick: Settings, content_type: str) -> None:
    html, _ = decode(BINARY[8:], None)
    with pytest.raises(NotHtmlError, match="not a text page"):
        extract_article(_page(html, content_type), quick)


def test_a_few_stray_control_characters_do_not_make_a_page_binary(quick: Settings) -> None:
    html = STORY.replace("researchers", "research\x0bers", 2).replace("minutes", "min\x00utes", 1)
    article = extract_article(_page(html), quick)
    assert "after each meal" in article.text


# -- random and garbled input ------------------------------------------------------------------

_FRAGMENTS = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<article>", "</article>", "<main>", "<h1>", "</h1>",
    "<h2>", "<figure><figcaption>", "</figcaption>", "<table><tr><td>", "</td>", "<ul><li>",
    "<a href='/x'>", "<a href='javascript:void(0)'>", "<a href=''>", "</a>", "<br>", "<img alt='a'>",
    "<div class='article-body'>", "<div class='cookie-banner'>", "<p class='standfirst'>",
    "<nav>", "</nav>", "<aside class='related'>", "<header>", "<footer>", "<noscript>",
    "<script>", "</script>", "<script type='application/ld+json'>", "<style>", "<!--", "-->",
    "<![CDATA[", "]]>", "<?xml version='1.0' encoding='latin-1'?>", "<meta charset='utf-16'>",
    "<base href='http://['>", "<link rel='canonical' href='::'>", "&amp;", "&#0;", "&#xD800;",
    "&nosuch;", "<", ">", "\"", "'", "\x00", "\x0b", "\ufffd", "\u202e", "\ud7ff", " ", "\n",
    '{"@type": "NewsArticle", "datePublished": "2024-02-30", "headline": 7}', "[[[[", "]]",
    '{"@graph": [{"@type": ["Article"], "author": [null, {"name": 3}]}]}',
    "<meta property='article:published_time' content='99999-99-99'>",
    "Subscribe to keep reading. ", "We use cookies. ", "Already a subscriber? Log in",
    "Researchers followed 120 adults who walked after meals and had lower blood sugar. ",
])
_GARBLED = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=40)), max_size=80).map("".join)
_ANY = hsettings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _only_factcheck_errors(html: str, content_type: str, settings: Settings) -> None:
    try:
        article = extract_article(_page(html, content_type), settings)
    except FactcheckError:
        return
    texts = [article.text[p.start:p.end] for p in article.paragraphs]
    assert "\n".join(texts) == article.text
    json.dumps([link.href for link in article.links])  # links are plain strings


@_ANY
@given(html=_GARBLED, content_type=st.sampled_from(["text/html", "text/plain"]))
@example(html="<script type='application/ld+json'>" + "[" * 5000 + "</script>" + STORY,
         content_type="text/html")
@example(html=STORY + "<a href='http://[::1'>bad host</a><base href='http://['>",
         content_type="text/html")
def test_garbled_html_raises_only_factcheck_errors(html: str, content_type: str,
                                                   quick: Settings) -> None:
    _only_factcheck_errors(html, content_type, quick)


@_ANY
@given(data=st.binary(max_size=4000), content_type=st.sampled_from(["text/html", "text/plain"]))
def test_random_bytes_raise_only_factcheck_errors(data: bytes, content_type: str,
                                                  quick: Settings) -> None:
    html, _ = decode(data, None)
    _only_factcheck_errors(html, content_type, quick)


@_ANY
@given(text=st.text(max_size=3000))
def test_random_text_inside_a_story_raises_only_factcheck_errors(text: str,
                                                                 quick: Settings) -> None:
    _only_factcheck_errors(STORY.replace("</article>", f"<p>{text}</p></article>"), "text/html",
                           quick)


# -- time grows about linearly -----------------------------------------------------------------

_P = "Researchers followed adults who walked after meals and found lower blood sugar. "


def _fill(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _shapes(size: int) -> dict[str, str]:
    """Adversarial pages of about `size` characters, each aimed at one pass of extraction."""
    return {
        "paragraphs": "<article>" + _fill(f"<p>{_P}</p>", size) + "</article>",
        "nested main candidates": _fill("<div class='article-body'>", size // 2) + _P * 4,
        "nested standfirsts": _fill("<div class='summary'>", size // 3) + _fill(_P, size // 2),
        "links in the body": "<article>" + _fill(
            f"<p>{_P[:40]} <a href='https://e.org/x'>link text here</a> {_P[40:]}</p>", size)
        + "</article>",
        "links deep down": _fill("<div class='x'>", size // 2) + _fill(
            f"<p>{_P}<a href='/a'>walked after</a></p>", size // 2),
        "unclosed inline tags": _fill("<p><b><i><span>word ", size),
        "captions": "<article>" + _fill(
            f"<figure><figcaption>{_P}</figcaption></figure><p>{_P}</p>", size) + "</article>",
        "table cells": "<article><table>" + _fill("<tr><td>1</td><td>2</td><td>w</td></tr>", size)
        + "</table></article>",
        "one long word": "<article><p>" + "a" * size + "</p></article>",
        "nested JSON-LD": "<script type='application/ld+json'>" + "[" * (size // 2) + "</script>"
        + "<article>" + _fill(f"<p>{_P}</p>", size // 2) + "</article>",
        "text outside blocks": "<article>" + _fill(f"<h2>Deal</h2>{_P}<br>", size) + "</article>",
        "repeated lines": "<article><ul>" + _fill("<li>Breakfast: porridge</li>", size)
        + "</ul></article>",
    }


def _seconds(html: str, settings: Settings, repeat: int) -> float:
    page = _page(f"<html><body>{html}</body></html>")
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            extract_article(page, settings)
        except FactcheckError:
            pass
        best = min(best, time.perf_counter() - started)
    return best


def test_extraction_time_grows_about_linearly(quick: Settings) -> None:
    small, large = _shapes(10_000), _shapes(100_000)
    slow = []
    for name in small:
        _seconds(small[name], quick, 1)  # warm up
        ratio = _seconds(large[name], quick, 1) / _seconds(small[name], quick, 3)
        if ratio >= 35:  # linear is 10; generous for noise on two shared cores
            slow.append(f"{name}: 100 KB took {ratio:.0f}x the time of 10 KB")
    assert not slow, slow
