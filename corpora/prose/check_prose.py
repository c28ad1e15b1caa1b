#!/usr/bin/env python3
"""Check the prose cases in corpora/prose/: stories that name their paper only in prose.

Runs check_corpus.check_case on each case (files, HTML structure, XML, kinds, exact quotes,
word counts), except its rule that the story links the paper's DOI, which is the opposite of
what these cases need. Then checks what is particular to them:

- story.html links nothing but its own site (no DOI, PubMed, PMC, registry or journal link),
  and its visible text carries no DOI, PMID or PMC id;
- pubmed.xml: PMID 90001001-90001099, DOI 10.5555/fc.<slug>, PubDate with Year, Month and Day,
  an electronic ArticleDate, at least 4 personal authors with LastName, ForeName and Initials;
- distractors.xml parses and holds 1-3 PubmedArticles with PMIDs 90002001-90002099 and DOIs
  10.5555/fc.<slug>.distractor-N, each with a journal, a date and an abstract;
- expected.json "resolve": doi and pmid agree with pubmed.xml, the distractor DOIs with
  distractors.xml, every way is in WAYS, and the mention agrees with the files: story_date is
  the JSON-LD date, each named researcher's surname is in the story and sits where its role
  says in the AuthorList (personal authors only; "outside" means not an author), and every
  institution, study name and registry id is written in the story;
- PMIDs are unique across corpora/cases, corpora/prose and the folders given;
- at least one distractor shares two of {journal, an author surname, year, two title words}
  with the cited paper (a warning otherwise).

With --extract it also runs `factcheck extract` on each story and fails if a DOI, PMID or
PMCID citation comes out.

Usage: python corpora/prose/check_prose.py [--extract] [CASE_DIR ...]
Exit status 0 when every case is OK, 1 otherwise.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from bs4 import BeautifulSoup
from lxml import etree

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import check_corpus  # noqa: E402

WAYS = {
    # journal
    "journal-full-title", "journal-short-name", "journal-odd-casing", "journal-of-x",
    "journal-one-word-cue", "no-journal",
    # people
    "author-led-by", "author-lead-author", "author-senior-author", "author-professor-said",
    "author-first-with-role", "author-first-named", "author-chief-investigators",
    "author-senior-described-as-chief-investigator", "senior-called-lead-researcher",
    "outside-expert", "collective-author",
    # institutions and study names
    "institution", "study-acronym", "cohort-name", "uk-biobank", "registry-id",
    # dates
    "date-weekday", "date-yesterday", "date-today", "date-this-week", "date-issue", "date-online",
    "date-last-month", "date-earlier-this-month", "date-dateline-only",
    # identified by content only
    "topic-only", "numbers-only", "natural-experiment-described",
    # other papers the story itself points at
    "companion-papers-same-issue", "preprint-mentioned", "conference-mentioned",
}
ROLES = {"first", "last", "author", "outside"}
MENTION_KEYS = {"journals", "researchers", "institutions", "study_names", "registry_ids",
                "story_date", "paper_date_said", "paper_date_words"}
FORBIDDEN_HOSTS = re.compile(r"doi\.org|ncbi\.nlm\.nih\.gov|pubmed|europepmc|clinicaltrials\.gov|isrctn"
                             r"|nejm\.org|thelancet\.com|jamanetwork|bmj\.com|nature\.com|ahajournals"
                             r"|springer|wiley|sciencedirect|oup\.com|medrxiv|biorxiv")
ID_IN_TEXT = re.compile(r"\b10\.\d{4,9}/\S+|\bPMID\b|\bPMC\d+", re.I)
STOP = {"the", "a", "an", "of", "in", "and", "or", "for", "with", "to", "on", "at", "by", "from",
        "versus", "vs", "among", "after", "study", "trial", "randomised", "randomized", "cohort"}


def parse(path: Path):
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def personal_surnames(art) -> list[str]:
    return [a.findtext("LastName") for a in art.iter("Author") if a.find("LastName") is not None]


def paper_facts(art) -> dict:
    title = "".join(art.find(".//ArticleTitle").itertext())
    return {
        "iso": art.findtext(".//Journal/ISOAbbreviation"),
        "surnames": set(personal_surnames(art)),
        "years": {art.findtext(".//PubDate/Year"), art.findtext(".//ArticleDate/Year")} - {None},
        "words": {w for w in re.findall(r"[a-z0-9-]+", title.lower()) if w not in STOP and len(w) > 2},
    }


def check_article(art, label: str, errors: list[str], pmid_range: range, doi: str, strict: bool) -> None:
    pmid = art.findtext(".//MedlineCitation/PMID") or ""
    if not pmid.isdigit() or int(pmid) not in pmid_range:
        errors.append(f"{label}: PMID {pmid!r} outside {pmid_range.start}-{pmid_range.stop - 1}")
    eloc = art.findtext(".//ELocationID[@EIdType='doi']")
    aid = art.findtext(".//ArticleIdList/ArticleId[@IdType='doi']")
    if eloc != doi or aid != doi:
        errors.append(f"{label}: DOI {eloc!r}/{aid!r}, expected {doi}")
    if aid and art.findtext(".//ArticleIdList/ArticleId[@IdType='pubmed']") != pmid:
        errors.append(f"{label}: ArticleId pubmed differs from PMID")
    for tag in ("Journal/Title", "Journal/ISOAbbreviation", "Journal/JournalIssue/PubDate/Year", "ArticleTitle"):
        if not art.findtext(".//Article/" + tag):
            errors.append(f"{label}: no {tag}")
    if not list(art.iter("AbstractText")):
        errors.append(f"{label}: no AbstractText")
    if not strict:
        return
    for tag in ("Month", "Day"):
        if not art.findtext(f".//Article/Journal/JournalIssue/PubDate/{tag}"):
            errors.append(f"{label}: PubDate lacks {tag}")
    ad = art.find(".//Article/ArticleDate[@DateType='Electronic']")
    if ad is None or not all(ad.findtext(t) for t in ("Year", "Month", "Day")):
        errors.append(f"{label}: no electronic ArticleDate with Year/Month/Day")
    people = [a for a in art.iter("Author") if a.find("LastName") is not None]
    if len(people) < 4 or not all(a.findtext("ForeName") and a.findtext("Initials") for a in people):
        errors.append(f"{label}: fewer than 4 personal authors with LastName/ForeName/Initials")
    if not art.findall(".//PublicationTypeList/PublicationType"):
        errors.append(f"{label}: no PublicationType")


def check_prose_case(case: Path, pmids: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    errors, warnings = check_corpus.check_case(case)
    errors = [e for e in errors if "carries the paper DOI" not in e]
    if not (case / "distractors.xml").is_file():
        errors.append("missing distractors.xml")
    if errors and any(e.startswith("missing") for e in errors):
        return errors, warnings
    slug = case.name
    doi = f"10.5555/fc.{slug}"

    # story: no outbound link, no identifiers in the text
    soup = BeautifulSoup((case / "story.html").read_text(encoding="utf-8"), "lxml")
    site = urlparse((soup.find("link", rel="canonical") or {}).get("href", "")).netloc
    for a in soup.find_all("a"):
        href = a.get("href", "")
        host = urlparse(href).netloc
        if FORBIDDEN_HOSTS.search(href) or (host and host != site):
            errors.append(f"story.html: link off the site: {href}")
    article = soup.find("article")
    text = article.get_text(separator="\n") if article else ""
    for m in ID_IN_TEXT.finditer(text):
        errors.append(f"story.html: identifier in the text: {m.group(0)!r}")
    ld = json.loads(soup.find("script", attrs={"type": "application/ld+json"}).string)
    story_date = str(ld.get("datePublished", ""))[:10]

    # pubmed.xml
    paper = parse(case / "pubmed.xml").getroot().findall("PubmedArticle")
    if len(paper) != 1:
        errors.append(f"pubmed.xml: {len(paper)} PubmedArticles, expected 1")
        return errors, warnings
    paper = paper[0]
    check_article(paper, "pubmed.xml", errors, range(90001001, 90001100), doi, strict=True)
    pmid = paper.findtext(".//MedlineCitation/PMID")

    # distractors.xml
    try:
        dist = parse(case / "distractors.xml").getroot()
    except etree.XMLSyntaxError as exc:
        errors.append(f"distractors.xml does not parse: {exc}")
        return errors, warnings
    arts = dist.findall("PubmedArticle")
    if dist.tag != "PubmedArticleSet" or not 1 <= len(arts) <= 3:
        errors.append(f"distractors.xml: {len(arts)} PubmedArticles in <{dist.tag}>, expected 1-3")
    for i, art in enumerate(arts, 1):
        check_article(art, f"distractors.xml[{i}]", errors, range(90002001, 90002100),
                      f"{doi}.distractor-{i}", strict=False)
    for p in [pmid] + [a.findtext(".//MedlineCitation/PMID") for a in arts]:
        others = pmids.get(p, set()) - {str(case.resolve())}
        if others:
            errors.append(f"PMID {p} also used in {sorted(others)}")
    facts = paper_facts(paper)
    best = 0
    for art in arts:
        f = paper_facts(art)
        shared = [f["iso"] == facts["iso"], bool(f["surnames"] & facts["surnames"]),
                  bool(f["years"] & facts["years"]), len(f["words"] & facts["words"]) >= 2]
        best = max(best, sum(shared))
    if best < 2:
        warnings.append("no distractor shares two of journal, author surname, year, title words with the paper")

    # expected.json resolve
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    r = expected.get("resolve")
    if not isinstance(r, dict):
        errors.append("expected.json: no resolve object")
        return errors, warnings
    if r.get("doi") != doi or r.get("pmid") != pmid:
        errors.append(f"resolve: doi/pmid {r.get('doi')!r}/{r.get('pmid')!r} != {doi}/{pmid}")
    unknown = set(r.get("ways", [])) - WAYS
    if not r.get("ways") or unknown:
        errors.append(f"resolve.ways empty or unknown: {sorted(unknown)}")
    want = {f"{doi}.distractor-{i}" for i in range(1, len(arts) + 1)}
    if set(r.get("distractors", {})) != want or not all(r["distractors"].values()):
        errors.append("resolve.distractors keys differ from distractors.xml DOIs, or a reason is empty")
    m = r.get("mention", {})
    if set(m) != MENTION_KEYS:
        errors.append(f"resolve.mention keys {sorted(m)} != {sorted(MENTION_KEYS)}")
        return errors, warnings
    if m["story_date"] != story_date:
        errors.append(f"resolve.mention.story_date {m['story_date']!r} != JSON-LD {story_date!r}")
    if (m["paper_date_said"] is None) != (m["paper_date_words"] is None):
        errors.append("resolve.mention: paper_date_said and paper_date_words must both be set or both null")
    if m["paper_date_words"] and m["paper_date_words"] not in text:
        errors.append(f"resolve.mention.paper_date_words not in the story: {m['paper_date_words']!r}")
    surnames = personal_surnames(paper)
    for p in m["researchers"]:
        name, role = p.get("name", ""), p.get("role")
        last = name.split()[-1] if name else ""
        if role not in ROLES:
            errors.append(f"researcher {name!r}: role {role!r} not in {sorted(ROLES)}")
        if last not in text:
            errors.append(f"researcher {name!r}: surname not in the story")
        at = {"first": surnames[:1], "last": surnames[-1:], "author": surnames[1:-1]}.get(role)
        if at is not None and last not in at:
            errors.append(f"researcher {name!r}: not the {role} personal author ({surnames})")
        if role == "outside" and last in surnames:
            errors.append(f"researcher {name!r}: marked outside but is an author")
    for key in ("institutions", "study_names", "registry_ids"):
        for v in m[key]:
            if v.replace("'", "\u2019") not in text and v not in text:
                errors.append(f"resolve.mention.{key}: {v!r} not in the story")
    return errors, warnings


def extract_citations(case: Path) -> list[str]:
    cmd = [sys.executable, "-m", "factcheck", "extract", str(case / "story.html")]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [f"{c['kind']}:{c['value']}" for c in json.loads(out).get("citations", [])]


def main(argv: list[str]) -> int:
    extract = "--extract" in argv
    args = [a for a in argv if a != "--extract"]
    cases = [Path(a) for a in args] if args else sorted(p for p in HERE.iterdir() if p.is_dir())
    pmids: dict[str, set[str]] = {}  # PMID -> the case folders whose XML holds it
    files = {*(HERE.parent / "cases").glob("*/pubmed.xml"), *HERE.glob("*/pubmed.xml"),
             *HERE.glob("*/distractors.xml")}
    for case in cases:
        files |= {case / "pubmed.xml", case / "distractors.xml"}
    for f in files:
        try:
            for art in parse(f).getroot().iter("PubmedArticle"):
                pmids.setdefault(art.findtext(".//MedlineCitation/PMID"), set()).add(str(f.parent.resolve()))
        except (OSError, etree.XMLSyntaxError):
            pass  # reported by the case's own check
    failed = 0
    for case in cases:
        errors, warnings = check_prose_case(case, pmids)
        if extract and not errors:
            cites = extract_citations(case)
            bad = [c for c in cites if c.split(":")[0] in ("doi", "pmid", "pmcid")]
            if bad:
                errors.append(f"factcheck extract found identifier citations: {bad}")
            else:
                warnings.append(f"extract citations: {cites or 'none'}")
        print(f"{'OK  ' if not errors else 'FAIL'} {case.name}")
        for e in errors:
            print(f"     error: {e}")
        for w in warnings:
            print(f"     warning: {w}")
        failed += bool(errors)
    print(f"\n{len(cases) - failed}/{len(cases)} prose cases OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
