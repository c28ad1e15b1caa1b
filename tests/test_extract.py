"""extract_article on news-page-like fixtures and plain text."""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck.config import Settings
from factcheck.errors import ExtractionError
from factcheck.extract import extract_article
from factcheck.fetch import fetch_page
from factcheck.types import Article, Page

PAGES = Path(__file__).parent / "fixtures" / "pages"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "story.txt"
URL = "https://news.example.org/health/2025/03/walking-after-meals"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """conftest's settings with the article threshold these tests are written against."""
    return settings.with_(min_article_chars=200)


def _page(name: str, url: str = URL) -> Page:
    html = (PAGES / name).read_text("utf-8")
    return Page(url=url, final_url=url, status=200, content_type="text/html", encoding="utf-8",
                html=html, fetched_at="2025-03-14T08:00:00+00:00")


def _html_page(body: str, head: str = "", url: str = URL) -> Page:
    html = f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{head}</head>" \
           f"<body>{body}</body></html>"
    return Page(url=url, final_url=url, status=200, content_type="text/html", encoding="utf-8",
                html=html, fetched_at="2025-03-14T08:00:00+00:00")


def _text_page(text: str) -> Page:
    return Page(url="story.txt", final_url="file:///story.txt", status=200,
                content_type="text/plain", encoding="utf-8", html=text,
                fetched_at="2025-03-14T08:00:00+00:00")


def _paragraph_texts(article: Article) -> list[tuple[str, str]]:
    return [(p.role, article.text[p.start:p.end]) for p in article.paragraphs]


def _assert_offsets_exact(article: Article) -> None:
    texts = [article.text[p.start:p.end] for p in article.paragraphs]
    assert "\n".join(texts) == article.text
    assert all(t and t == t.strip() for t in texts)
    for link in article.links:
        if link.start is not None:
            assert article.text[link.start:link.end] == link.text


@pytest.fixture
def article(settings: Settings) -> Article:
    return extract_article(_page("news_article.html"), settings)


def test_extract_metadata_from_the_page(article: Article) -> None:
    assert article.title == "Walking after meals linked to lower blood sugar in older adults"
    assert article.published == "2025-03-14"
    assert article.site == "Wellbeing Courier"
    assert article.authors == ("Priya Natarajan",)
    assert article.language == "en"
    assert article.url == article.final_url == URL


def test_extract_paragraph_roles_in_order(article: Article) -> None:
    roles = [p.role for p in article.paragraphs]
    assert roles == ["title", "standfirst", "caption"] + ["body"] * 6
    texts = _paragraph_texts(article)
    assert texts[1][1].startswith("Ten minutes on foot after dinner")
    assert texts[2][1] == ("Older adults who walked after dinner had lower morning glucose, "
                           "the study found.")
    assert texts[3][1].startswith("Older adults who took a short walk")
    assert texts[-1][1].endswith("people with diabetes.")


def test_extract_offsets_are_exact(article: Article) -> None:
    _assert_offsets_exact(article)


def test_extract_leaves_out_page_furniture(article: Article) -> None:
    for furniture in ("We use cookies", "Accept all", "Nutrition", "About us", "Related stories",
                      "Coffee and heart rhythm", "2025 Wellbeing Courier"):
        assert furniture not in article.text


def _link(article: Article, href_part: str):
    return next(link for link in article.links if href_part in link.href)


def test_extract_links_with_regions(article: Article) -> None:
    assert _link(article, "jamanetworkopen").region == "body"
    assert _link(article, "pubmed.ncbi").region == "body"
    assert _link(article, "/health").region == "nav"
    assert _link(article, "nav.0001").region == "nav"
    assert _link(article, "s41591-024-03210-9").region == "related"
    assert _link(article, "NEJMoa2400001").region == "related"
    assert _link(article, "footer.0002").region == "footer"
    assert _link(article, "/about").region == "footer"
    assert _link(article, "/privacy").region == "other"  # the cookie banner


def test_extract_link_anchor_offsets(article: Article) -> None:
    doi_link = _link(article, "jamanetworkopen")
    assert doi_link.text == "published in JAMA Network Open"
    assert doi_link.start is not None
    assert article.text[doi_link.start:doi_link.end] == doi_link.text
    body = [p for p in article.paragraphs if p.role == "body"]
    assert body[1].start <= doi_link.start < body[1].end
    assert _link(article, "nav.0001").start is None


def test_extract_resolves_relative_links(article: Article) -> None:
    assert _link(article, "/authors/").href == "https://news.example.org/authors/priya-natarajan"


def test_extract_saved_file_without_canonical_keeps_relative_links(settings: Settings) -> None:
    page = fetch_page(str(PAGES / "reference_only.html"), settings)
    article = extract_article(page, settings)
    assert _link(article, "about").href == "/about/"


def test_extract_standfirst_from_meta_and_caption_without_credit(settings: Settings) -> None:
    page = _page("reference_only.html", "https://ledger.example.com/c")
    article = extract_article(page, settings)
    texts = dict((role, text) for role, text in reversed(_paragraph_texts(article)))
    assert texts["standfirst"].startswith("Moderate coffee drinking was associated")
    assert texts["caption"] == "Coffee drinkers in the cohort were less likely to die early."
    assert "Stock Library" not in article.text
    assert article.published == "2024-11-02"  # from a JSON-LD @graph
    assert article.authors == ("Tomasz Wrona",)
    assert article.site == "The Morning Ledger"
    assert _link(article, "tea-and-memory").region == "related"
    assert _link(article, "/about/").region == "footer"
    assert _link(article, "/health/").region == "nav"
    _assert_offsets_exact(article)


BODY = "".join(
    f"<p>{s}</p>" for s in (
        "Researchers in Leeds tested a new physiotherapy routine on 212 adults with knee pain.",
        "After twelve weeks, those in the routine group reported less pain on stairs than those "
        "given leaflets, although the difference narrowed by six months.",
        "The team said a larger trial was now under way in four hospitals across the north.",
    ))


def test_extract_standfirst_skipped_when_it_repeats_the_first_paragraph(settings: Settings) -> None:
    head = ('<meta name="description" content="Researchers in Leeds tested a new physiotherapy '
            'routine on 212 adults with knee pain.">')
    page = _html_page(f"<article><h1>Knee routine eases pain, trial finds</h1>{BODY}</article>",
                      head)
    article = extract_article(page, settings)
    roles = [p.role for p in article.paragraphs]
    assert roles == ["title", "body", "body", "body"]
    assert article.text.count("Researchers in Leeds") == 1


def test_extract_date_is_never_guessed(settings: Settings) -> None:
    url = "https://news.example.org/2021/06/30/knee-routine"
    body = f"<article><h1>Knee routine eases pain</h1><p>Published 30 June 2021</p>{BODY}</article>"
    article = extract_article(_html_page(body, url=url), settings)
    assert article.published is None


def test_extract_date_from_meta_tag(settings: Settings) -> None:
    head = '<meta property="article:published_time" content="2023-09-01T10:00:00Z">'
    article = extract_article(_html_page(f"<article><h1>Knee routine</h1>{BODY}</article>", head),
                              settings)
    assert article.published == "2023-09-01"


def test_extract_title_falls_back_to_metadata(settings: Settings) -> None:
    head = '<title>Knee routine eases pain | The Daily Example</title>'
    article = extract_article(_html_page(f"<article>{BODY}</article>", head), settings)
    assert article.title == "Knee routine eases pain"
    assert article.paragraphs[0].role == "title"


def test_extract_javascript_only_page(settings: Settings) -> None:
    with pytest.raises(ExtractionError, match=r"no article text on the page \(\d+ characters\);"
                                              r" .*JavaScript"):
        extract_article(_page("js_only.html"), settings)


def test_extract_cookie_wall(settings: Settings) -> None:
    with pytest.raises(ExtractionError, match=r"\(\d+ characters\).*cookie or consent wall"):
        extract_article(_page("cookie_wall.html"), settings)


def test_extract_short_page_names_the_count(settings: Settings) -> None:
    page = _html_page("<article><h1>Short</h1><p>Only a teaser sentence here.</p></article>")
    with pytest.raises(ExtractionError, match=r"no article text on the page \(\d+ characters\)"):
        extract_article(page, settings)


def test_extract_min_article_chars_is_a_setting(settings: Settings) -> None:
    page = _html_page("<article><h1>Short</h1><p>Only a teaser sentence here.</p></article>")
    article = extract_article(page, settings.with_(min_article_chars=10))
    assert "Only a teaser sentence here." in article.text


def test_extract_plain_text(settings: Settings) -> None:
    text = ("\n  Knee routine eases pain, trial finds  \n\n"
            "Researchers in Leeds tested a new physiotherapy routine on 212 adults.\r\n"
            "After twelve weeks, those in the routine group reported less pain on stairs. "
            "Source: https://doi.org/10.1000/knee.2025.1\n" + "More detail follows here. " * 8)
    article = extract_article(_text_page(text), settings)
    assert article.title == "Knee routine eases pain, trial finds"
    assert [p.role for p in article.paragraphs] == ["title", "body", "body", "body"]
    _assert_offsets_exact(article)
    assert article.published is None
    (link,) = article.links
    assert link.href == "https://doi.org/10.1000/knee.2025.1"
    assert article.text[link.start:link.end] == link.href


def test_extract_plain_text_too_short(settings: Settings) -> None:
    with pytest.raises(ExtractionError, match="characters"):
        extract_article(_text_page("Title\nOne short line.\n"), settings)


@pytest.mark.skipif(not SEED.exists(), reason="needs ../shared/seed")
def test_extract_seed_story(settings: Settings) -> None:
    article = extract_article(fetch_page(str(SEED), settings), settings)
    assert article.title == ("Low-Dose Naltrexone Shows No Significant Pain Relief in "
                             "Fibromyalgia Trial")
    assert article.paragraphs[0].role == "title"
    assert all(p.role == "body" for p in article.paragraphs[1:])
    _assert_offsets_exact(article)
    quote = "For 12 weeks, 99 fibromyalgia patients received either LDN or a placebo"
    at = article.text.index(quote)
    assert any(p.start <= at and at + len(quote) <= p.end for p in article.paragraphs)
    assert article.text.splitlines() == [line for line in SEED.read_text("utf-8").splitlines()
                                         if line.strip()]


# -- issue 6: walls, teasers, live blogs, AMP, language -------------------------------------------

from factcheck.extract import JavaScriptOnlyError  # noqa: E402

TEASER_BODY = "".join(f"<p>{s}</p>" for s in (
    "People who restricted their eating to an eight-hour window lost no more weight than those "
    "who cut calories, researchers reported in a trial of 139 adults with obesity.",
    "After 12 months the time-restricted group had lost 8.0kg against 6.3kg, a difference that "
    "was not statistically significant, the study found.",
))


def test_extract_paywall_teaser_is_a_warning(settings: Settings) -> None:
    body = (f"<article><h1>Fasting no better than calorie counting</h1>"
            f"<div class='article-body'>{TEASER_BODY}</div>"
            f"<div class='paywall'><h3>Subscribe to continue reading</h3>"
            f"<p>Already a subscriber? Log in</p></div></article>")
    article = extract_article(_html_page(body), settings)
    assert any(w.startswith("Only a teaser is visible") for w in article.warnings)
    assert "Subscribe to continue reading" not in article.text
    assert "Already a subscriber" not in article.text


def test_extract_hard_paywall_is_an_error_that_says_teaser(settings: Settings) -> None:
    body = ("<article><h1>Statins and muscle pain</h1><p>Millions take statins.</p>"
            "<div class='paywall'><p>This article is for subscribers only.</p></div></article>")
    with pytest.raises(ExtractionError, match="only a teaser is visible"):
        extract_article(_html_page(body), settings)


def test_extract_not_free_flag_with_full_text_gives_no_warning(settings: Settings) -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", '
            '"isAccessibleForFree": false}</script>')
    long_body = BODY * 6
    article = extract_article(_html_page(f"<article><h1>Knee routine</h1>{long_body}</article>",
                                         head), settings)
    assert article.warnings == ()


def test_extract_javascript_only_page_says_how_to_render(settings: Settings) -> None:
    with pytest.raises(JavaScriptOnlyError, match=r"--render .*apt-get install chromium"):
        extract_article(_page("js_only.html"), settings)


def test_extract_cookie_banner_paragraph_is_dropped(settings: Settings) -> None:
    body = (f"<article><h1>Knee routine eases pain</h1><p>We use cookies to improve your "
            f"experience. Accept all cookies?</p>{BODY}</article>")
    article = extract_article(_html_page(body), settings)
    assert "We use cookies" not in article.text
    assert "Researchers in Leeds" in article.text


def test_extract_live_blog(settings: Settings) -> None:
    head = ('<script type="application/ld+json">{"@type": "LiveBlogPosting", "headline": '
            '"Health live", "coverageStartTime": "2025-03-04T07:00:00Z"}</script>')
    posts = "".join(f"<article class='live-post'><time>10:{i}0</time>{BODY}</article>"
                    for i in range(2))
    article = extract_article(_html_page(f"<main><h1>Health news live</h1>{posts}</main>", head),
                              settings)
    assert article.published == "2025-03-04"
    assert any("live blog" in w for w in article.warnings)


def test_extract_detects_language_and_goes_on(settings: Settings) -> None:
    german = "".join(f"<p>{s}</p>" for s in (
        "Die Forscher werteten die Daten von 3462 Erwachsenen aus, die über mehr als fünf Jahre "
        "beobachtet wurden und bei denen das Risiko für einen Herzinfarkt gemessen wurde.",
        "Menschen, die einen Mittagsschlaf hielten, hatten ein geringeres Risiko, doch der "
        "Zusammenhang ist nicht kausal, und die Autoren sind mit der Deutung vorsichtig.",
    ))
    page = _html_page(f"<article><h1>Mittagsschlaf und Herz</h1>{german}</article>")
    article = extract_article(page, settings)  # the page says lang='en'; the text is German
    assert article.language == "de"
    assert any("German (de)" in w for w in article.warnings)


def test_extract_english_page_has_no_language_warning(article: Article) -> None:
    assert article.language == "en"
    assert not any("claim rules" in w for w in article.warnings)


def test_extract_amp_page(settings: Settings) -> None:
    html = ("<!doctype html><html ⚡ lang='en'><head><meta charset='utf-8'>"
            "<link rel='canonical' href='https://news.example.org/knee'></head><body>"
            "<amp-sidebar id='s' layout='nodisplay'><a href='/travel'>Travel news</a>"
            "</amp-sidebar><article><h1>Knee routine eases pain</h1><figure>"
            "<amp-img src='/k.jpg' width='4' height='3'></amp-img><figcaption>Stairs were the "
            "test</figcaption></figure>" + BODY + "</article></body></html>")
    page = Page(url=URL, final_url=URL, status=200, content_type="text/html", encoding="utf-8",
                html=html, fetched_at="2025-03-14T08:00:00+00:00")
    article = extract_article(page, settings)
    assert "Travel news" not in article.text
    assert "Stairs were the test" in article.text
    assert _link(article, "/travel").region == "nav"


def test_extract_subscribe_link_in_site_header_is_not_a_paywall(settings: Settings) -> None:
    body = ("<header><p>Already a subscriber? <a href='/login'>Log in</a></p></header>"
            f"<article><h1>Knee routine eases pain</h1>{BODY}</article>")
    assert extract_article(_html_page(body), settings).warnings == ()
