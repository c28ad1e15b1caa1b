"""The body paragraphs: repeated lines, table cells and text trafilatura leaves outside blocks.

Hand-written pages, each reproducing a loss measured on the article-extraction benchmark (a meal
plan's repeated lines, a standings table's cells, a deals page's descriptions).
"""

from __future__ import annotations

import pytest

from factcheck.config import Settings
from factcheck.extract import extract_article
from factcheck.types import Article, Page

URL = "https://news.example.org/food/2025/03/meal-plan"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(min_article_chars=200)


def _page(body: str, head: str = "") -> Page:
    html = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Story</title>"
            f"{head}</head><body>{body}</body></html>")
    return Page(url=URL, final_url=URL, status=200, content_type="text/html", encoding="utf-8",
                html=html, fetched_at="2025-03-14T08:00:00+00:00")


def _body(article: Article) -> list[str]:
    return [article.text[p.start:p.end] for p in article.paragraphs if p.role == "body"]


def _assert_offsets_exact(article: Article) -> None:
    texts = [article.text[p.start:p.end] for p in article.paragraphs]
    assert "\n".join(texts) == article.text
    assert all(t and t == t.strip() for t in texts)


def test_repeated_list_lines_are_all_kept(settings: Settings):
    days = "".join(f"<h3>Day {d}</h3><ul><li>Breakfast: porridge with berries</li>"
                   f"<li>Lunch: lentil soup and bread</li><li>Snack: an apple</li></ul>"
                   for d in range(1, 6))
    article = extract_article(_page(
        f"<article><h1>A five-day meal plan that costs little</h1><p>We tried a simple plan for a "
        f"week; here is what we ate each day, and most days looked much the same.</p>{days}"
        f"</article>"), settings)
    body = _body(article)
    assert body.count("Breakfast: porridge with berries") == 5
    assert body.count("Snack: an apple") == 5
    assert body.index("Day 3") < len(body) - body[::-1].index("Lunch: lentil soup and bread")
    _assert_offsets_exact(article)


def test_repeated_table_cells_are_all_kept(settings: Settings):
    rows = "".join(f"<tr><td>{i}</td><td>Team {chr(64 + i)}</td><td>{10 - i}</td><td>0</td>"
                   f"<td>{i % 3}</td></tr>" for i in range(1, 9))
    article = extract_article(_page(
        f"<article><h1>League standings after round ten</h1><p>The table after the tenth round "
        f"shows the leaders pulling away from the rest of the league this season.</p><table><tr>"
        f"<th>Pos</th><th>Team</th><th>Won</th><th>Drawn</th><th>Lost</th></tr>{rows}</table>"
        f"</article>"), settings)
    body = _body(article)
    for i in range(1, 9):
        at = body.index(f"Team {chr(64 + i)}")
        assert body[at - 1:at + 4] == [str(i), f"Team {chr(64 + i)}", str(10 - i), "0", str(i % 3)]
    _assert_offsets_exact(article)


def test_text_outside_block_elements_is_kept(settings: Settings):
    deals = "".join(f"<h2>Deal number {i}: a blender for ${20 + i}.99</h2>Blender number {i} "
                    f"crushes ice in seconds, and its jug holds enough soup for a family of four."
                    f"<br>" for i in range(6))
    article = extract_article(_page(
        f"<article><h1>Kitchen deals worth a look this week</h1><div class='body'>{deals}</div>"
        f"</article>"), settings)
    body = _body(article)
    for i in range(6):
        heading = f"Deal number {i}: a blender for ${20 + i}.99"
        description = (f"Blender number {i} crushes ice in seconds, and its jug holds enough soup "
                       f"for a family of four.")
        assert body[body.index(heading) + 1] == description
    _assert_offsets_exact(article)


def test_loose_text_between_paragraphs_is_its_own_paragraph(settings: Settings):
    article = extract_article(_page(
        "<article><h1>Walking after meals lowers blood sugar</h1><div><p>Researchers followed 120 "
        "adults who walked for ten minutes after each meal for twelve weeks in the trial.</p>"
        "Those who walked had lower blood sugar two hours after eating than those who sat."
        "<p>The authors say a larger trial is needed before doctors give the advice widely.</p>"
        "</div></article>"), settings)
    body = _body(article)
    assert body[1] == ("Those who walked had lower blood sugar two hours after eating than those "
                       "who sat.")
    assert len(body) == 3


def test_headline_and_standfirst_copies_in_the_body_are_dropped(settings: Settings):
    standfirst = "A ten-minute walk after dinner helped more than an hour at the gym, a trial found."
    article = extract_article(_page(
        f"<article><h1>Walking after meals lowers blood sugar</h1><p class='standfirst'>"
        f"{standfirst}</p><div class='article-body'><h2>Walking after meals lowers blood sugar"
        f"</h2><p>Researchers followed 120 adults who walked for ten minutes after each meal for "
        f"twelve weeks.</p><p>{standfirst}</p><p>Those who walked had lower blood sugar two hours "
        f"after eating than those who sat, the authors wrote.</p></div></article>"), settings)
    roles = [(p.role, article.text[p.start:p.end]) for p in article.paragraphs]
    assert [text for _, text in roles].count("Walking after meals lowers blood sugar") == 1
    assert [text for _, text in roles].count(standfirst) == 1
    assert ("title", "Walking after meals lowers blood sugar") in roles
