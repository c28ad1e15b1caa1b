"""find_citations and normalize_doi on links, text identifiers and reference mentions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from factcheck.citations import LinkTarget, find_citations, link_target, normalize_doi
from factcheck.config import Settings
from factcheck.errors import RuleError
from factcheck.extract import extract_article
from factcheck.fetch import fetch_page
from factcheck.rules import Rules, load_rules, rules_dir
from factcheck.types import Article, Citation, Link, Page, Paragraph

PAGES = Path(__file__).parent / "fixtures" / "pages"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "story.txt"
SEED_DOI = "10.1007/s40263-025-01183-7"


def _article(*lines: str, links: tuple[Link, ...] = ()) -> Article:
    """An article whose first line is the title and the rest body paragraphs."""
    text = "\n".join(lines)
    paragraphs, pos = [], 0
    for index, line in enumerate(lines):
        paragraphs.append(Paragraph(pos, pos + len(line), "title" if index == 0 else "body"))
        pos += len(line) + 1
    located = []
    for link in links:
        at = text.find(link.text) if link.region == "body" and link.text else -1
        located.append(Link(link.href, link.text, at if at >= 0 else None,
                            at + len(link.text) if at >= 0 else None, link.region))
    return Article(url="https://news.example.org/s", final_url="https://news.example.org/s",
                   title=lines[0], published=None, site=None, authors=(), text=text,
                   paragraphs=tuple(paragraphs), links=tuple(located))


def _primary(citations: tuple[Citation, ...]) -> Citation:
    (primary,) = [c for c in citations if c.primary]
    return primary


@pytest.mark.parametrize("text, expected", [
    ("10.1007/s40263-025-01183-7", SEED_DOI),
    ("https://doi.org/10.1007/S40263-025-01183-7", SEED_DOI),
    ("http://dx.doi.org/10.1007/s40263-025-01183-7", SEED_DOI),
    ("doi:10.1007/s40263-025-01183-7.", SEED_DOI),
    ("DOI: 10.1007/s40263-025-01183-7).", SEED_DOI),
    ("https://doi.org/10.1371%2Fjournal.pone.0123456", "10.1371/journal.pone.0123456"),
    ("https://doi.org/10.1056/NEJMoa2034577?utm_source=news#abstract", "10.1056/nejmoa2034577"),
    ("10.1016/S0140-6736(20)30183-5", "10.1016/s0140-6736(20)30183-5"),
    ("(see 10.1016/S0140-6736(20)30183-5)", "10.1016/s0140-6736(20)30183-5"),
    ("https://onlinelibrary.wiley.com/doi/full/10.1002/jcsm.13456", "10.1002/jcsm.13456"),
    ("“10.1000/xyz123”", "10.1000/xyz123"),
    # an "&" in a doi.org path is the DOI's; in a query string it ends the DOI (property test)
    ("https://doi.org/10.1000/a&b", "10.1000/a&b"),
    ("https://example.org/article?doi=10.1000/abc&ref=news", "10.1000/abc"),
    ("no identifier here", None),
    ("10.1000/", None),
    ("", None),
])
def test_normalize_doi(text: str, expected: str | None) -> None:
    assert normalize_doi(text) == expected


@pytest.mark.parametrize("href, kind, value", [
    ("https://doi.org/10.1001/jamanetworkopen.2025.01234", "doi",
     "10.1001/jamanetworkopen.2025.01234"),
    ("https://dx.doi.org/10.1056/NEJMoa2400001", "doi", "10.1056/nejmoa2400001"),
    ("https://link.springer.com/article/10.1007/s40263-025-01183-7", "doi", SEED_DOI),
    ("https://www.nature.com/articles/s41591-024-03210-9", "doi", "10.1038/s41591-024-03210-9"),
    ("https://onlinelibrary.wiley.com/doi/abs/10.1111/dom.15432", "doi", "10.1111/dom.15432"),
    ("https://www.nejm.org/doi/full/10.1056/NEJMoa2206038", "doi", "10.1056/nejmoa2206038"),
    ("https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(23)01234-5/fulltext",
     "doi", "10.1016/s0140-6736(23)01234-5"),
    ("https://www.thelancet.com/journals/landia/article/PIIS2213-8587(24)00001-X/abstract",
     "doi", "10.1016/s2213-8587(24)00001-x"),
    ("https://www.bmj.com/content/384/bmj-2023-076388", "doi", "10.1136/bmj-2023-076388"),
    ("https://www.bmj.com/content/368/bmj.m1234.full", "doi", "10.1136/bmj.m1234"),
    ("https://journals.plos.org/plosmedicine/article?id=10.1371/journal.pmed.1004321",
     "doi", "10.1371/journal.pmed.1004321"),
    ("https://journals.plos.org/plosone/article?id=10.1371%2Fjournal.pone.0298765",
     "doi", "10.1371/journal.pone.0298765"),
    ("https://www.frontiersin.org/journals/nutrition/articles/10.3389/fnut.2024.1234567/full",
     "doi", "10.3389/fnut.2024.1234567"),
    ("https://www.frontiersin.org/articles/10.3389/fpsyg.2020.01234/full",
     "doi", "10.3389/fpsyg.2020.01234"),
    ("https://academic.oup.com/ajcn/advance-article/doi/10.1093/ajcn/nqab123/6287654",
     "doi", "10.1093/ajcn/nqab123"),
    ("https://journals.sagepub.com/doi/10.1177/09567976231234567", "doi",
     "10.1177/09567976231234567"),
    ("https://www.tandfonline.com/doi/full/10.1080/07315724.2024.1234567", "doi",
     "10.1080/07315724.2024.1234567"),
    ("https://www.medrxiv.org/content/10.1101/2024.05.01.24306543v2.full", "doi",
     "10.1101/2024.05.01.24306543"),
    ("https://www.biorxiv.org/content/10.1101/2023.11.20.567890v1", "doi",
     "10.1101/2023.11.20.567890"),
    ("https://www.science.org/doi/10.1126/science.adk1234", "doi", "10.1126/science.adk1234"),
    ("https://jamanetwork.com/journals/jama/fullarticle/2812345?resultClick=1", "url",
     "https://jamanetwork.com/journals/jama/fullarticle/2812345"),
    ("https://www.mdpi.com/2072-6643/16/5/678", "url", "https://www.mdpi.com/2072-6643/16/5/678"),
    ("https://academic.oup.com/eurheartj/article/45/3/210/7512345", "url",
     "https://academic.oup.com/eurheartj/article/45/3/210/7512345"),
    ("https://pubmed.ncbi.nlm.nih.gov/38123456/", "pmid", "38123456"),
    ("https://www.ncbi.nlm.nih.gov/pubmed/29876543", "pmid", "29876543"),
    ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC10234567/", "pmcid", "PMC10234567"),
    ("https://pmc.ncbi.nlm.nih.gov/articles/PMC9876543/", "pmcid", "PMC9876543"),
    ("https://europepmc.org/article/MED/37654321", "pmid", "37654321"),
    ("https://clinicaltrials.gov/study/NCT04567890", "nct", "NCT04567890"),
    ("https://clinicaltrials.gov/ct2/show/nct01234567", "nct", "NCT01234567"),
])
def test_citations_publisher_url_shapes(rules: Rules, href: str, kind: str, value: str) -> None:
    article = _article("Headline", "A new study published in a journal found something.",
                       links=(Link(href, "a new study"),))
    (citation,) = find_citations(article, rules)
    assert (citation.kind, citation.value) == (kind, value)
    assert citation.primary


def test_citations_ordinary_links_are_not_citations(rules: Rules) -> None:
    article = _article("Headline", "The charity said more research was needed.",
                       links=(Link("https://charity.example.org/news/2025", "The charity"),
                              Link("https://news.example.org/health", "Health", region="nav")))
    assert find_citations(article, rules) == ()


def test_citations_from_the_news_page_fixture(rules: Rules, settings: Settings) -> None:
    page = fetch_page(str(PAGES / "news_article.html"), settings)
    citations = find_citations(extract_article(page, settings), rules)
    assert citations[0] == _primary(citations)
    assert (citations[0].kind, citations[0].value) == ("doi", "10.1001/jamanetworkopen.2025.01234")
    assert "published in JAMA Network Open" in (citations[0].quote or "")
    assert (citations[1].kind, citations[1].value) == ("pmid", "31234567")  # "an earlier trial"
    low = {c.value for c in citations[2:]}
    assert low == {"10.1056/nejmoa2400001", "10.1038/s41591-024-03210-9", "10.9999/nav.0001",
                   "10.9999/footer.0002"}
    assert all(c.score < 0.1 for c in citations[2:])
    assert [c.score for c in citations] == sorted((c.score for c in citations), reverse=True)


def test_citations_related_links_are_never_primary(rules: Rules) -> None:
    article = _article(
        "Headline", "The study was small and the researchers said more work was needed.",
        links=(Link("https://doi.org/10.1056/NEJMoa2400001", "Study: weight-loss drug trial",
                    region="related"),
               Link("https://doi.org/10.9999/footer.1", "Our standards", region="footer")))
    citations = find_citations(article, rules)
    assert {c.value for c in citations} == {"10.1056/nejmoa2400001", "10.9999/footer.1"}
    assert not any(c.primary for c in citations)


@pytest.mark.parametrize("sentence, doi", [
    ("The findings were published in Gut (doi:10.1136/gutjnl-2024-331234).",
     "10.1136/gutjnl-2024-331234"),
    ("Read the paper at https://doi.org/10.1001/jama.2025.0123.", "10.1001/jama.2025.0123"),
    ("The study's DOI is 10.1016/S0140-6736(23)01234-5.", "10.1016/s0140-6736(23)01234-5"),
    ("See doi.org/10.3389/fnut.2024.1234567, the researchers said.", "10.3389/fnut.2024.1234567"),
])
def test_citations_plain_text_dois_lose_trailing_punctuation(rules: Rules, sentence: str,
                                                             doi: str) -> None:
    citations = find_citations(_article("Headline", sentence), rules)
    assert [(c.kind, c.value) for c in citations] == [("doi", doi)]
    assert citations[0].quote == sentence


@pytest.mark.parametrize("sentence, kind, value", [
    ("The trial is described in PMID: 38123456.", "pmid", "38123456"),
    ("Researchers reported the results (PMID 38123457).", "pmid", "38123457"),
    ("The full text is free (PMCID: PMC10234567).", "pmcid", "PMC10234567"),
    ("The trial was registered as NCT04567890 before it began.", "nct", "NCT04567890"),
])
def test_citations_text_identifiers(rules: Rules, sentence: str, kind: str, value: str) -> None:
    citations = find_citations(_article("Headline", sentence), rules)
    assert [(c.kind, c.value) for c in citations] == [(kind, value)]


def test_citations_nct_number_needs_eight_digits(rules: Rules) -> None:
    assert find_citations(_article("Headline", "Registry number NCT1234 was cited."), rules) == ()


def test_citations_source_line_beats_a_passing_link(rules: Rules) -> None:
    article = _article(
        "Headline",
        "Doctors have long debated the diet, as this explainer shows.",
        "Source: Okafor N et al. (2025). Fasting and sleep. Sleep Med. "
        "doi:10.1016/j.sleep.2025.01.002",
        links=(Link("https://doi.org/10.1093/sleep/zsad999", "this explainer"),))
    citations = find_citations(article, rules)
    assert _primary(citations).value == "10.1016/j.sleep.2025.01.002"
    assert (citations[0].quote or "").startswith("Source: Okafor")


def test_citations_deduplicate_and_count_repetition(rules: Rules) -> None:
    once = find_citations(_article(
        "Headline", "The study was published in BMJ (doi:10.1136/bmj-2024-080001)."), rules)
    twice = find_citations(_article(
        "Headline", "The study was published in BMJ (doi:10.1136/bmj-2024-080001).",
        "Source: https://doi.org/10.1136/BMJ-2024-080001",
        links=(Link("https://www.bmj.com/content/385/bmj-2024-080001", "published in BMJ"),)),
        rules)
    assert [c.value for c in twice] == ["10.1136/bmj-2024-080001"]
    assert twice[0].score > once[0].score


def test_citations_earlier_mention_scores_higher(rules: Rules) -> None:
    filler = "The weather was mild and nothing else happened that week in the town. " * 10
    article = _article("Headline", "Researchers found the effect (doi:10.1000/first.1).", filler,
                       "Researchers found the effect (doi:10.1000/second.2).")
    citations = find_citations(article, rules)
    assert [c.value for c in citations] == ["10.1000/first.1", "10.1000/second.2"]


def test_citations_reference_when_no_identifier(rules: Rules, settings: Settings) -> None:
    page = fetch_page(str(PAGES / "reference_only.html"), settings)
    citations = find_citations(extract_article(page, settings), rules)
    (reference,) = citations
    assert reference.kind == "reference"
    assert reference.value == "Kowalski, Nature Medicine"
    assert reference.primary
    assert "published in the journal Nature Medicine" in (reference.quote or "")


def test_citations_reference_from_a_reference_line(rules: Rules) -> None:
    article = _article(
        "Walking and glucose",
        "A study published in Diabetes Care in 2024 found a link between walking and glucose.",
        "Reference:",
        "Lindqvist, M., Berg, A., & Sato, K. (2024). Post-meal walking and fasting glucose in "
        "older adults: a cohort study. Diabetes Care, 47(3), 412-420.")
    (reference,) = find_citations(article, rules)
    assert reference.value == ("Lindqvist, Diabetes Care, 2024, Post-meal walking and fasting "
                               "glucose in older adults: a cohort study")


def test_citations_no_reference_from_nothing(rules: Rules) -> None:
    article = _article("Headline", "It was a sunny day and people walked in the park.")
    assert find_citations(article, rules) == ()


@pytest.mark.skipif(not SEED.exists(), reason="needs ../shared/seed")
def test_citations_seed_story_primary_doi(rules: Rules, settings: Settings) -> None:
    article = extract_article(fetch_page(str(SEED), settings), settings)
    assert article.title == ("Low-Dose Naltrexone Shows No Significant Pain Relief in "
                             "Fibromyalgia Trial")
    for paragraph in article.paragraphs:
        assert article.text[paragraph.start:paragraph.end] == \
            article.text[paragraph.start:paragraph.end].strip()
    citations = find_citations(article, rules)
    primary = _primary(citations)
    assert (primary.kind, primary.value) == ("doi", SEED_DOI)
    assert citations[0] is primary
    assert [c.value for c in citations].count(SEED_DOI) == 1


@pytest.mark.skipif(not SEED.exists(), reason="needs ../shared/seed")
def test_citations_seed_story_without_doi_gives_reference(rules: Rules, settings: Settings,
                                                          tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    text = SEED.read_text("utf-8").replace(f" https://doi.org/{SEED_DOI}", "")
    story.write_text(text, encoding="utf-8")
    article = extract_article(fetch_page(str(story), settings), settings)
    primary = _primary(find_citations(article, rules))
    assert primary.kind == "reference"
    assert primary.value.startswith("Bruun, CNS Drugs, 2025, Effect of naltrexone")


def test_publisher_urls_rules_file_is_documented_data(rules: Rules) -> None:
    path = rules_dir() / "citations" / "publisher_urls.tsv"
    assert path.read_text("utf-8").startswith("# ")
    rows = rules.table("publisher_urls")
    assert {"id", "regex", "kind", "note"} <= set(rows[0])
    assert len({row["id"] for row in rows}) == len(rows)
    assert all(row["note"] for row in rows)


def test_publisher_urls_bad_regex_is_a_rule_error(tmp_path: Path) -> None:
    shutil.copytree(rules_dir() / "citations", tmp_path / "citations")
    table = tmp_path / "citations" / "publisher_urls.tsv"
    table.write_text(table.read_text("utf-8") + "broken\t(?P<id>[\tdoi\tan unclosed set\n",
                     encoding="utf-8")
    article = _article("Headline", "Text.", links=(Link("https://example.org/x", "Text"),))
    with pytest.raises(RuleError, match="broken"):
        find_citations(article, load_rules(tmp_path))


def test_citations_identifier_wins_over_journal_mention(rules: Rules,
                                                           settings: Settings) -> None:
    page = Page(url="-", final_url="-", status=200, content_type="text/plain", encoding=None,
                html="Headline\n" + "The study was published in Nature Medicine. " * 6
                     + "\nPMID: 38123456\n", fetched_at="")
    citations = find_citations(extract_article(page, settings), rules)
    assert _primary(citations).value == "38123456"


# -- issue 6: registries, broken DOIs, press releases, choosing the study ----------------------

@pytest.mark.parametrize("sentence, kind, value", [
    ("The trial was registered as ISRCTN 12345678 in 2019.", "trial", "ISRCTN12345678"),
    ("It is listed under EudraCT number 2019-001234-56.", "trial", "2019-001234-56"),
    ("Its registration, ACTRN12620000123456, lists 400 patients.", "trial",
     "ACTRN12620000123456"),
])
def test_citations_trial_registry_ids(rules: Rules, sentence: str, kind: str,
                                      value: str) -> None:
    citations = find_citations(_article("Headline", sentence), rules)
    assert [(c.kind, c.value) for c in citations] == [(kind, value)]


def test_citations_registry_links(rules: Rules) -> None:
    article = _article("Headline", "The trial was registered before it began.",
                       links=(Link("https://www.isrctn.com/ISRCTN87654321", "registered"),))
    (citation,) = find_citations(article, rules)
    assert (citation.kind, citation.value) == ("trial", "ISRCTN87654321")


@pytest.mark.parametrize("lines, doi", [
    (("Headline", "Reference: Hoge EA, et al. JAMA Psychiatry. doi:10.1001/jamapsychiatry.",
      "2022.3679"), "10.1001/jamapsychiatry.2022.3679"),
    (("Headline", "The study (doi:10.1016/j.jad.2024. 01.023) was small."),
     "10.1016/j.jad.2024.01.023"),
    (("Headline", "The study is at doi:10.1000/abc-", "def and was small."), "10.1000/abc-def"),
    (("Headline", "The study is doi:10.1000/xyz.", "The researchers said more."),
     "10.1000/xyz"),
    (("Headline", "The study is doi:10.1000/x\u00adyz, the team said."), "10.1000/xyz"),
])
def test_citations_dois_broken_across_lines(rules: Rules, lines: tuple[str, ...],
                                            doi: str) -> None:
    citations = find_citations(_article(*lines), rules)
    assert [(c.kind, c.value) for c in citations] == [("doi", doi)]


def test_citations_press_releases_are_secondary(rules: Rules) -> None:
    article = _article(
        "Headline",
        "The university announced the study in a press release, and the study was published in "
        "Nature Medicine by Kowalski et al. in 2024.",
        links=(Link("https://www.eurekalert.org/news-releases/1045678", "a press release"),
               Link("https://news.caledonia.ac.uk/articles/green-space", "The university"),
               Link("https://www.ox.ac.uk/news/2024-05-01-walking", "announced")))
    citations = find_citations(article, rules)
    urls = [c for c in citations if c.kind == "url"]
    assert len(urls) == 3 and not any(c.primary for c in urls)
    assert _primary(citations).kind == "reference"
    assert _primary(citations).value == "Kowalski, Nature Medicine, 2024"


def test_citations_press_release_alone_is_never_primary(rules: Rules) -> None:
    article = _article("Headline", "The study was described in a press release.",
                       links=(Link("https://www.eurekalert.org/news-releases/1", "press release"),))
    (citation,) = find_citations(article, rules)
    assert citation.kind == "url" and not citation.primary


def test_citations_resolvable_beats_a_bare_article_url(rules: Rules) -> None:
    article = _article(
        "Headline",
        "The study, led by Ippei Takahashi, was published in JAMA Pediatrics in 2023.",
        links=(Link("https://jamanetwork.com/journals/jamapediatrics/fullarticle/2808593",
                    "published in JAMA Pediatrics"),))
    citations = find_citations(article, rules)
    assert _primary(citations).kind == "reference"
    assert {c.kind for c in citations} == {"url", "reference"}


def test_citations_read_more_link_is_not_the_study(rules: Rules) -> None:
    article = _article(
        "Headline", "Read more: Weight-loss drugs and mood",
        "People prescribed semaglutide had a lower risk, the researchers found in the study, "
        "published in Nature Communications.",
        links=(Link("https://doi.org/10.1038/s41591-023-02345-6", "Weight-loss drugs and mood"),
               Link("https://www.nature.com/articles/s41467-024-48780-6",
                    "published in Nature Communications")))
    assert _primary(find_citations(article, rules)).value == "10.1038/s41467-024-48780-6"


@pytest.mark.parametrize("url, expected", [
    ("https://doi.org/10.1056/NEJMoa2034577",
     LinkTarget("doi", "10.1056/nejmoa2034577", "identifier", "doi-org")),
    ("https://jamanetwork.com/journals/jama/fullarticle/2812345?utm_source=x",
     LinkTarget("url", "https://jamanetwork.com/journals/jama/fullarticle/2812345", "page",
                "jama")),
    ("https://www.eurekalert.org/news-releases/1012345",
     LinkTarget("url", "https://www.eurekalert.org/news-releases/1012345", "press_release",
                "eurekalert")),
    ("https://newsroom.heart.org/news/walking-pace-and-diabetes",
     LinkTarget("url", "https://newsroom.heart.org/news/walking-pace-and-diabetes",
                "press_release", "aha-newsroom")),
    ("https://pubmed.ncbi.nlm.nih.gov/?term=smith+j%5Bau%5D+aspirin&sort=date",
     LinkTarget("url", "https://pubmed.ncbi.nlm.nih.gov/?term=smith+j%5Bau%5D+aspirin&sort=date",
                "search", "pubmed-search", "smith j[au] aspirin")),
    ("https://journals.lww.com/acsm-msse/fulltext/2024/01000/walking.5.aspx",
     LinkTarget("url", "https://journals.lww.com/acsm-msse/fulltext/2024/01000/walking.5.aspx",
                "page", "lww")),
    ("https://www.sciencedirect.com/science/article/pii/S0140673624001234",
     LinkTarget("url", "https://www.sciencedirect.com/science/article/pii/S0140673624001234",
                "page", "sciencedirect")),
    ("https://medicalxpress.com/news/2024-03-walking.html", None),
    ("https://news.example.com/health/walking", None),
])
def test_citations_link_target(rules: Rules, url: str, expected: LinkTarget | None) -> None:
    assert link_target(url, rules) == expected


def test_citations_search_link_keeps_its_query(rules: Rules) -> None:
    article = _article("Headline", "The trial is indexed in PubMed.",
                       links=(Link("https://pubmed.ncbi.nlm.nih.gov/?term=38461234",
                                   "indexed in PubMed"),))
    (citation,) = find_citations(article, rules)
    assert (citation.kind, citation.value) == ("url",
                                               "https://pubmed.ncbi.nlm.nih.gov/?term=38461234")
