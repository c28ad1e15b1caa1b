#!/usr/bin/env python3
"""Check that every case in corpora/cases/ is well formed and that its quotes are exact.

For each case folder this verifies:

- all four files exist: story.html, pubmed.xml, expected.json, meta.json;
- story.html parses, has an <article> with an <h1>, a standfirst, the head metadata
  (<title>, og:title, og:description, meta description) and a JSON-LD NewsArticle with
  headline, datePublished, author and publisher;
- pubmed.xml parses (lxml), has a PMID, a DOI that matches ELocationID and ArticleIdList,
  and at least one AbstractText; the story's <article> links to that DOI;
- expected.json uses only the finding kinds and severities of DESIGN.md, has the required
  fields, and every article_quote is an exact substring of the story's visible text
  (BeautifulSoup get_text(separator="\\n") of the <article>, which includes the headline)
  and every abstract_quote an exact substring of one AbstractText's text;
- meta.json has the required fields and its slug matches the folder name.

Word counts outside the corpus targets (story 250-600 words, abstract 200-300 words,
quotes 2-30 words) are reported as warnings, not failures.

Usage: python corpora/check_corpus.py [CASE_DIR ...]     (default: every folder in corpora/cases)
Exit status 0 when every case is OK, 1 otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup
from lxml import etree

CASES_DIR = Path(__file__).resolve().parent / "cases"

KINDS = {
    "number_mismatch", "unit_mismatch", "sample_size", "duration", "direction", "significance",
    "population", "study_design", "causal_language", "hedge_dropped", "relative_without_absolute",
    "omitted_uncertainty", "not_in_abstract", "citation_mismatch", "other",
}
SEVERITIES = {"high", "medium", "low"}
EXPECTED_KEYS = {"case", "modelled_on", "discrepancies", "faithful_claims", "notes"}
DISCREPANCY_KEYS = {"kind", "severity", "article_quote", "abstract_quote", "why"}
META_KEYS = {"slug", "title", "modelled_on", "written_for", "licence"}


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def story_texts(path: Path, errors: list[str]) -> tuple[str, BeautifulSoup | None]:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    article = soup.find("article")
    if article is None:
        errors.append("story.html: no <article>")
        return "", soup
    if article.find("h1") is None:
        errors.append("story.html: no <h1> inside <article>")
    if article.find("p", class_="standfirst") is None:
        errors.append('story.html: no <p class="standfirst"> inside <article>')
    head = soup.find("head")
    if head is None or head.find("title") is None:
        errors.append("story.html: no <title>")
    for attr, name in (("property", "og:title"), ("property", "og:description"), ("name", "description")):
        if soup.find("meta", attrs={attr: name}) is None:
            errors.append(f"story.html: no <meta {attr}={name!r}>")
    ld = soup.find("script", attrs={"type": "application/ld+json"})
    if ld is None:
        errors.append("story.html: no JSON-LD script")
    else:
        try:
            data = json.loads(ld.string or "")
            if data.get("@type") != "NewsArticle":
                errors.append("story.html: JSON-LD @type is not NewsArticle")
            for key in ("headline", "datePublished", "author", "publisher"):
                if not data.get(key):
                    errors.append(f"story.html: JSON-LD lacks {key}")
        except json.JSONDecodeError as exc:
            errors.append(f"story.html: JSON-LD does not parse: {exc}")
    return article.get_text(separator="\n"), soup


def abstract_texts(path: Path, errors: list[str]) -> tuple[list[str], str | None]:
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError as exc:
        errors.append(f"pubmed.xml does not parse: {exc}")
        return [], None
    root = tree.getroot()
    if root.tag != "PubmedArticleSet":
        errors.append(f"pubmed.xml: root is <{root.tag}>, expected <PubmedArticleSet>")
    if not root.findtext(".//MedlineCitation/PMID"):
        errors.append("pubmed.xml: no PMID")
    eloc = root.findtext(".//ELocationID[@EIdType='doi']")
    aid = root.findtext(".//ArticleIdList/ArticleId[@IdType='doi']")
    if not eloc or eloc != aid:
        errors.append(f"pubmed.xml: ELocationID doi {eloc!r} and ArticleId doi {aid!r} differ or are missing")
    for tag in ("ArticleTitle", "Journal/Title", "Journal/ISOAbbreviation", "Journal/JournalIssue/PubDate/Year"):
        if not root.findtext(".//Article/" + tag):
            errors.append(f"pubmed.xml: no {tag}")
    texts = ["".join(el.itertext()) for el in root.iter("AbstractText")]
    if not texts:
        errors.append("pubmed.xml: no AbstractText")
    return texts, eloc


def check_quote(label: str, quote, haystacks: list[str], errors: list[str], warnings: list[str]) -> None:
    if not isinstance(quote, str) or not quote:
        errors.append(f"{label}: empty or not a string")
        return
    if "\n" in quote:
        errors.append(f"{label}: contains a line break: {quote!r}")
    if not any(quote in h for h in haystacks):
        errors.append(f"{label}: not found verbatim: {quote!r}")
    n = words(quote)
    if n < 2 or n > 30:
        warnings.append(f"{label}: {n} words (aim for a short clause): {quote!r}")


def check_case(case: Path) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    for name in ("story.html", "pubmed.xml", "expected.json", "meta.json"):
        if not (case / name).is_file():
            errors.append(f"missing {name}")
    if errors:
        return errors, warnings

    story, soup = story_texts(case / "story.html", errors)
    abstracts, doi = abstract_texts(case / "pubmed.xml", errors)

    n = words(story)
    if not 250 <= n <= 600:
        warnings.append(f"story is {n} words (target 250-600)")
    n = words(" ".join(abstracts))
    if not 200 <= n <= 300:
        warnings.append(f"abstract is {n} words (target 200-300)")
    if doi and soup is not None and soup.find("article") is not None:
        hrefs = [a.get("href", "") for a in soup.find("article").find_all("a")]
        if not any(doi in h for h in hrefs):
            errors.append(f"story.html: no link inside <article> carries the paper DOI {doi}")

    try:
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        errors.append(f"expected.json does not parse: {exc}")
        return errors, warnings
    missing = EXPECTED_KEYS - expected.keys()
    if missing:
        errors.append(f"expected.json lacks {sorted(missing)}")
    if expected.get("case") != case.name:
        errors.append(f"expected.json case {expected.get('case')!r} != folder {case.name!r}")
    for i, d in enumerate(expected.get("discrepancies", [])):
        label = f"discrepancies[{i}]"
        if set(d) != DISCREPANCY_KEYS:
            errors.append(f"{label}: keys {sorted(d)} != {sorted(DISCREPANCY_KEYS)}")
        if d.get("kind") not in KINDS:
            errors.append(f"{label}: unknown kind {d.get('kind')!r}")
        if d.get("severity") not in SEVERITIES:
            errors.append(f"{label}: unknown severity {d.get('severity')!r}")
        if not d.get("why"):
            errors.append(f"{label}: empty why")
        check_quote(f"{label}.article_quote", d.get("article_quote"), [story], errors, warnings)
        if d.get("abstract_quote") is not None:
            check_quote(f"{label}.abstract_quote", d.get("abstract_quote"), abstracts, errors, warnings)
    for i, f in enumerate(expected.get("faithful_claims", [])):
        label = f"faithful_claims[{i}]"
        check_quote(f"{label}.article_quote", f.get("article_quote"), [story], errors, warnings)
        check_quote(f"{label}.abstract_quote", f.get("abstract_quote"), abstracts, errors, warnings)

    try:
        meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        errors.append(f"meta.json does not parse: {exc}")
        return errors, warnings
    if META_KEYS - meta.keys():
        errors.append(f"meta.json lacks {sorted(META_KEYS - meta.keys())}")
    if meta.get("slug") != case.name:
        errors.append(f"meta.json slug {meta.get('slug')!r} != folder {case.name!r}")
    return errors, warnings


def main(argv: list[str]) -> int:
    cases = [Path(a) for a in argv] if argv else sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
    if not cases:
        print(f"no cases found in {CASES_DIR}")
        return 1
    failed = 0
    for case in cases:
        errors, warnings = check_case(case)
        print(f"{'OK  ' if not errors else 'FAIL'} {case.name}")
        for e in errors:
            print(f"     error: {e}")
        for w in warnings:
            print(f"     warning: {w}")
        failed += bool(errors)
    print(f"\n{len(cases) - failed}/{len(cases)} cases OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
