"""Finding a story's paper from its prose: the queries in each service's syntax, the search plan
against the four services' stand-in (tests/fakes.py), acceptance only with a margin, abstention
with the candidates, the request budget, failing services and the `resolve --story` command.

The stand-in holds every corpora/prose paper with its distractors and every corpora/cases paper,
so each story's search meets the papers a careless search would take.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from factcheck.cli import main
from factcheck.errors import EXIT_UPSTREAM, NoConfidentMatch, UpstreamError
from factcheck.pipeline import (
    Context,
    article_claims,
    build_context,
    read_article,
    read_mention,
    search_story,
)
from factcheck.resolve._parse import parse_efetch_xml
from factcheck.resolve._query import (
    SearchQuery,
    crossref_params,
    europepmc_query,
    openalex_params,
    pubmed_term,
)
from factcheck.resolve.search import plan_searches, score_candidate
from factcheck.types import Mentioned, Paper, SearchOutcome, Section, Span, StudyMention

try:
    from fakes import ServiceStandIn
except ImportError:  # tests/ became a package
    from tests.fakes import ServiceStandIn

REPO = Path(__file__).resolve().parent.parent
PROSE = REPO / "corpora" / "prose"
CASES = sorted(p for p in PROSE.iterdir() if p.is_dir())
IDS = [c.name for c in CASES]
RESOLVE = {c.name: json.loads((c / "expected.json").read_text("utf-8"))["resolve"] for c in CASES}


def _papers() -> list[Paper]:
    papers: list[Paper] = []
    for case in CASES:
        papers += parse_efetch_xml((case / "pubmed.xml").read_text("utf-8"))
        papers += parse_efetch_xml((case / "distractors.xml").read_text("utf-8"))
    for case in sorted((REPO / "corpora" / "cases").iterdir()):
        papers += parse_efetch_xml((case / "pubmed.xml").read_text("utf-8"))
    return papers


PAPERS = _papers()
# an author + journal story (step 1 of the plan finds it) and one the plan has to work for
AUTHOR_JOURNAL = "microplastics-carotid-plaque"
WHOLE_BUDGET = "aspirin-elderly-disability-free"


def story(name: str) -> str:
    return str(PROSE / name / "story.html")


def context(stand_in: ServiceStandIn, cache: Path, analyzer, rules) -> Context:
    ctx = build_context(stand_in.settings(cache), rules)
    ctx._analyzer = analyzer
    return ctx


def numbers_in(ctx: Context):
    return lambda text: [q.value for q in ctx.analyzer.quantities(text) if q.value is not None]


def mention_of(name: str, ctx: Context) -> StudyMention:
    article = read_article(story(name), ctx)
    article = read_mention(article, ctx, article_claims(article, ctx), ())
    assert article.mention is not None
    return article.mention


@pytest.fixture(scope="module")
def stand_in():
    with ServiceStandIn(papers=PAPERS) as server:
        yield server


@pytest.fixture(scope="module")
def searches(stand_in, analyzer, rules, tmp_path_factory):
    """Every prose story searched once (a fresh cache each): its outcome and the requests the
    stand-in received for it."""
    done: dict[str, tuple[SearchOutcome, list]] = {}
    for case in CASES:
        ctx = context(stand_in, tmp_path_factory.mktemp(case.name), analyzer, rules)
        before = len(stand_in.requests)
        _, _, outcome = search_story(story(case.name), ctx)
        done[case.name] = (outcome, stand_in.requests[before:])
    return done


# -- (a) one query in four syntaxes -----------------------------------------------------------

FULL = SearchQuery(
    step="author + journal + window", authors=("Pase", "Seshadri S"),
    journals=("Stroke", "J Am Heart Assoc"), any_of=("soda", "dementia", "artificial sweetener"),
    phrase="Framingham Heart Study", date_from="2017-02-20", date_until="2017-05-21")
DIRTY = SearchQuery(
    step="dirty", authors=('O"Brien',), journals=("Lancet: Oncology",),
    all_of=(("sleep[tiab]", "sleeping"), ("death", "mortality")),
    phrase='the "D-Health" (trial)', date_from="2020-01-01")


def test_search_pubmed_term_syntax():
    assert pubmed_term(FULL) == (
        '(Pase[au] OR Seshadri S[au]) AND ("Stroke"[ta] OR "J Am Heart Assoc"[ta]) AND '
        '"Framingham Heart Study"[tiab] AND (soda[tiab] OR dementia[tiab] OR '
        '"artificial sweetener"[tiab]) AND 2017/02/20:2017/05/21[dp]')


def test_search_europepmc_query_syntax():
    assert europepmc_query(FULL) == (
        '(AUTH:"Pase" OR AUTH:"Seshadri S") AND (JOURNAL:"Stroke" OR JOURNAL:"J Am Heart Assoc") '
        'AND TITLE_ABS:"Framingham Heart Study" AND (soda OR dementia OR "artificial sweetener") '
        "AND FIRST_PDATE:[2017-02-20 TO 2017-05-21]")


def test_search_crossref_params_syntax():
    assert crossref_params(FULL) == {
        "query.bibliographic": "Framingham Heart Study soda dementia artificial sweetener",
        "query.author": "Pase Seshadri",
        "query.container-title": "Stroke",
        "filter": "from-pub-date:2017-02-20,until-pub-date:2017-05-21",
    }


def test_search_openalex_params_syntax():
    assert openalex_params(FULL) == {
        "search": '"Framingham Heart Study" OR soda OR dementia OR "artificial sweetener"',
        "filter": "from_publication_date:2017-02-20,to_publication_date:2017-05-21",
    }
    one = replace(FULL, authors=("Pase",), phrase=None, any_of=("soda",), date_until=None)
    assert openalex_params(one) == {
        "search": "soda",
        "filter": "from_publication_date:2017-02-20,raw_author_name.search:Pase",
    }


def test_search_terms_with_quotes_colons_brackets_are_cleaned():
    assert pubmed_term(DIRTY) == (
        'O Brien[au] AND "Lancet Oncology"[ta] AND "the D-Health trial"[tiab] AND '
        '("sleep tiab"[tiab] OR sleeping[tiab]) AND (death[tiab] OR mortality[tiab]) AND '
        "2020/01/01:3000/12/31[dp]")
    assert europepmc_query(DIRTY) == (
        'AUTH:"O Brien" AND JOURNAL:"Lancet Oncology" AND TITLE_ABS:"the D-Health trial" AND '
        '("sleep tiab" OR sleeping) AND (death OR mortality) AND '
        "FIRST_PDATE:[2020-01-01 TO 3000-12-31]")
    assert crossref_params(DIRTY) == {
        "query.bibliographic": "the D-Health trial sleep tiab death",
        "query.author": "O Brien",
        "query.container-title": "Lancet Oncology",
        "filter": "from-pub-date:2020-01-01",
    }
    assert openalex_params(DIRTY) == {
        "search": '"the D-Health trial" OR "sleep tiab" OR death',
        "filter": "from_publication_date:2020-01-01,raw_author_name.search:O Brien",
    }


def test_search_query_without_window_has_no_dates():
    q = SearchQuery(step="topic", any_of=("aspirin",))
    assert (pubmed_term(q), europepmc_query(q)) == ("aspirin[tiab]", "aspirin")
    assert crossref_params(q) == {"query.bibliographic": "aspirin"}
    assert openalex_params(q) == {"search": "aspirin"}


# -- the plan and the score -------------------------------------------------------------------

def _said(value: str, role: str | None = None, detail: str | None = None,
          weight: float = 1.0) -> Mentioned:
    return Mentioned(value, Span(0, len(value), value), role=role, detail=detail, weight=weight)


MENTION = StudyMention(
    journals=(_said("Stroke", "listed", "Stroke"),),
    researchers=(_said("Pase", "first", "Matthew Pase"), _said("Roe", "outside", "Jane Roe")),
    study_names=(_said("Framingham Heart Study", "study"),),
    window=("2017-02-20", "2017-05-21"),
    topic=(_said("soda", "keyword", "soda", 2.0), _said("dementia", "condition", "dementia", 1.5),
           _said("stroke", "condition", "stroke", 1.0)),
)


def test_search_plan_most_specific_first_then_without_the_window(rules):
    steps = plan_searches(MENTION, rules.setting("search"))
    names = [s.query.step for s in steps]
    windowed = ["author + journal", "journal + topic", "study name", "author + topic", "topic",
                "topic concepts"]
    assert names == [n + " + window" for n in windowed] + windowed
    assert all(s.query.date_from == "2017-02-20" for s in steps[:6])
    assert all(s.query.date_from is None for s in steps[6:])
    # an outside expert is never searched as an author
    assert all("Roe" not in s.query.authors for s in steps)
    assert steps[0].query.authors == ("Pase",)
    assert steps[4].services == tuple(rules.setting("search")["ranked_services"])


def test_search_score_outside_expert_is_no_author_and_other_journal_is_blocked(rules):
    settings = rules.setting("search")
    paper = Paper(source="pubmed", title="Sugar-sweetened and artificially sweetened beverages "
                  "and the risks of incident stroke and dementia",
                  sections=(Section(None, None, "Artificially sweetened soda was associated "
                                    "with a higher risk of stroke and dementia."),),
                  journal="Stroke", published="2017-04-20", authors=("Matthew P Pase", "Jane Roe"))

    def same(a: str | None, b: str | None) -> bool:
        return bool(a and b and a.lower() == b.lower())

    scored = score_candidate(MENTION, paper, settings, same, lambda text: [])
    what = [k for k, _ in scored.evidence]
    assert "author Pase" in what and "author Roe" not in what
    assert "journal Stroke" in what
    assert not any(k.startswith("cannot be the story's paper") for k in what)
    elsewhere = score_candidate(MENTION, replace(paper, journal="Neurology"), settings, same,
                                lambda text: [])
    assert any(k.startswith("cannot be the story's paper") for k, _ in elsewhere.evidence)
    assert elsewhere.score < scored.score


# -- (b) every prose story: the right paper or none -------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_search_accepts_the_story_paper_or_abstains(name, searches):
    outcome, _ = searches[name]
    assert outcome.runs, "no query was sent"
    if outcome.accepted is not None:
        assert outcome.accepted.paper.doi == RESOLVE[name]["doi"], (
            f"took {outcome.accepted.paper.doi} ({outcome.reason})")
        assert outcome.candidates[0] == outcome.accepted
        assert outcome.margin is not None and outcome.margin > 0


def test_search_accepts_most_prose_stories_right(searches):
    right = [n for n in IDS if searches[n][0].accepted is not None
             and searches[n][0].accepted.paper.doi == RESOLVE[n]["doi"]]
    assert len(CASES) == 14
    assert len(right) >= 12, f"right: {len(right)}/14; abstained: " + ", ".join(
        f"{n} ({searches[n][0].reason})" for n in IDS if n not in right)


# -- (c) the paper not yet indexed: abstain ---------------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_search_abstains_when_the_paper_is_not_indexed(name, analyzer, rules, tmp_path):
    doi = RESOLVE[name]["doi"]
    others = [p for p in PAPERS if p.doi != doi]
    assert len(others) == len(PAPERS) - 1
    with ServiceStandIn(papers=others) as server:
        _, _, outcome = search_story(story(name), context(server, tmp_path, analyzer, rules))
        sent = len(server.requests)
    assert outcome.accepted is None, (
        f"took {outcome.accepted.paper.doi}: {outcome.reason}" if outcome.accepted else "")
    assert outcome.reason
    assert sent <= int(rules.setting("search")["max_requests"])


# -- (d) the request budget -------------------------------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_search_stays_within_the_request_budget(name, searches, rules):
    outcome, sent = searches[name]
    assert 0 < len(sent) <= int(rules.setting("search")["max_requests"])
    assert sum(r.requests for r in outcome.runs) == len(sent)


def test_search_budget_counts_pubmed_esearch_and_efetch(stand_in, analyzer, rules, tmp_path):
    ctx = context(stand_in, tmp_path, analyzer, rules)
    mention = mention_of(WHOLE_BUDGET, ctx)
    settings = dict(rules.setting("search"), boolean_services=["pubmed"],
                    ranked_services=["crossref"])
    before = len(stand_in.requests)
    outcome = ctx.resolver.search(mention, settings, ctx.mention_reader.journals.same,
                                  numbers_in(ctx))
    sent = stand_in.requests[before:]
    paths = [r.path for r in sent if r.service == "pubmed"]
    assert "esearch.fcgi" in paths and "efetch.fcgi" in paths
    assert len(sent) <= int(settings["max_requests"])
    assert sum(r.requests for r in outcome.runs) == len(sent)
    pubmed_runs = [r for r in outcome.runs if r.service == "pubmed"]
    assert sum(r.requests for r in pubmed_runs) == len(paths)
    # a search with hits costs its esearch and an efetch (unless the cache has those records)
    assert any(r.hits and r.requests == 2 for r in pubmed_runs)
    assert all(r.requests <= 1 for r in pubmed_runs if not r.hits)  # no efetch for no hits


def test_search_budget_holds_when_a_service_fails(analyzer, rules, tmp_path):
    with ServiceStandIn(papers=PAPERS) as server:
        server.inject("europepmc", "500")
        search_story(story(WHOLE_BUDGET), context(server, tmp_path, analyzer, rules))
        sent = len(server.requests)
    assert sent <= int(rules.setting("search")["max_requests"])


# -- (e) failing services ---------------------------------------------------------------------

def test_search_finds_the_paper_through_pubmed_when_europepmc_fails(analyzer, rules, tmp_path):
    with ServiceStandIn(papers=PAPERS) as server:
        server.inject("europepmc", "500")
        _, _, outcome = search_story(story(AUTHOR_JOURNAL),
                                     context(server, tmp_path, analyzer, rules))
        europepmc = server.statuses("europepmc")
        pubmed = [r.path for r in server.requests_for("pubmed")]
    assert outcome.accepted is not None, outcome.reason
    assert outcome.accepted.paper.doi == RESOLVE[AUTHOR_JOURNAL]["doi"]
    assert outcome.accepted.found_by[0].startswith("author + journal")
    assert europepmc and set(europepmc) == {500}
    assert pubmed[:2] == ["esearch.fcgi", "efetch.fcgi"]
    first, second = outcome.runs[:2]
    assert (first.service, second.service) == ("europepmc", "pubmed")
    assert first.error and "500" in first.error and second.error is None
    assert second.query.startswith('(Santangelo[au] OR Cimmino[au]) AND ')


def test_search_every_service_failing_is_an_upstream_error(analyzer, rules, tmp_path):
    with ServiceStandIn(papers=PAPERS) as server:
        for service in ("pubmed", "europepmc", "crossref", "openalex"):
            server.inject(service, "500")
        ctx = context(server, tmp_path, analyzer, rules)
        mention = mention_of(AUTHOR_JOURNAL, ctx)
        with pytest.raises(UpstreamError) as caught:
            ctx.resolver.resolve_mention(mention, ctx.rules.setting("search"),
                                         ctx.mention_reader.journals.same, numbers_in(ctx))
        assert {r.service for r in server.requests} == {"pubmed", "europepmc", "crossref",
                                                        "openalex"}
    assert caught.value.exit_status == EXIT_UPSTREAM == 3
    assert "every search" in str(caught.value)


# -- (f) abstention carries the candidates ----------------------------------------------------

def test_search_abstention_names_the_closest_candidates(analyzer, rules, tmp_path):
    right = next(p for p in PAPERS if p.doi == RESOLVE[AUTHOR_JOURNAL]["doi"])
    twin = replace(right, doi=right.doi + ".twin", pmid="90009999")  # the same record twice
    with ServiceStandIn(papers=[*PAPERS, twin]) as server:
        ctx = context(server, tmp_path, analyzer, rules)
        mention = mention_of(AUTHOR_JOURNAL, ctx)
        with pytest.raises(NoConfidentMatch) as caught:
            ctx.resolver.resolve_mention(mention, ctx.rules.setting("search"),
                                         ctx.mention_reader.journals.same, numbers_in(ctx))
    message = str(caught.value)
    assert "closest" in message and right.title in message
    assert right.doi in message and twin.doi in message
    outcome = caught.value.outcome
    assert isinstance(outcome, SearchOutcome) and outcome.accepted is None
    assert {c.paper.doi for c in outcome.candidates[:2]} == {right.doi, twin.doi}
    assert outcome.candidates[0].score == outcome.candidates[1].score
    assert caught.value.exit_status == 2


# -- (g) the command line ---------------------------------------------------------------------

@pytest.fixture
def cli_env(tmp_path, monkeypatch, analyzer):
    """The CLI's environment for a stand-in: its URLs, a private cache, fast retries; the NLP
    pipeline is the session's (the CLI would load it again for every command)."""
    monkeypatch.setenv("FACTCHECK_CACHE", str(tmp_path / "cache"))
    quick = tmp_path / "quick.toml"
    quick.write_text("[http]\nbackoff = 0.01\nretries = 1\nmax_retry_after = 0.1\n", "utf-8")
    monkeypatch.setenv("FACTCHECK_CONFIG", str(quick))
    monkeypatch.setattr("factcheck.nlp.load_nlp", lambda settings, rules: analyzer)

    def aim(server: ServiceStandIn) -> None:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)

    return aim


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_search_cli_resolve_story_json_accepts(stand_in, cli_env):
    cli_env(stand_in)
    result = invoke("resolve", "--story", story(AUTHOR_JOURNAL), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["accepted"]["doi"] == RESOLVE[AUTHOR_JOURNAL]["doi"]
    assert data["candidates"][0]["doi"] == data["accepted"]["doi"]
    assert data["queries"] and data["queries"][0]["service"] == "europepmc"
    assert [j["value"] for j in data["mention"]["journals"]] == ["New England Journal of Medicine"]
    assert data["linked"] == []


def test_search_cli_resolve_story_text_accepts(stand_in, cli_env):
    cli_env(stand_in)
    result = invoke("resolve", "--story", story(AUTHOR_JOURNAL), "--format", "text")
    assert result.exit_code == 0, result.output
    assert "what the story says about its study:" in result.output
    assert f"doi {RESOLVE[AUTHOR_JOURNAL]['doi']}" in result.output
    assert "accepted: " in result.output


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_search_cli_resolve_story_abstains_exit_2(fmt, cli_env):
    doi = RESOLVE[AUTHOR_JOURNAL]["doi"]
    with ServiceStandIn(papers=[p for p in PAPERS if p.doi != doi]) as server:
        cli_env(server)
        result = invoke("resolve", "--story", story(AUTHOR_JOURNAL), "--format", fmt)
    assert result.exit_code == 2, result.output
    if fmt == "json":
        data = json.loads(result.output)
        assert data["accepted"] is None and data["reason"]
        assert doi not in [c["doi"] for c in data["candidates"]]
    else:
        assert "no paper accepted" in result.output and "--paper" in result.output


def test_search_cli_check_finds_the_paper_by_searching(stand_in, cli_env):
    cli_env(stand_in)
    result = invoke("check", story(AUTHOR_JOURNAL), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["papers"][0]["doi"] == RESOLVE[AUTHOR_JOURNAL]["doi"]
    assert data["papers"][0]["found_by"].startswith("search:")


def test_search_cli_every_service_failing_exits_3(cli_env):
    with ServiceStandIn(papers=PAPERS) as server:
        for service in ("pubmed", "europepmc", "crossref", "openalex"):
            server.inject(service, "500")
        cli_env(server)
        result = invoke("resolve", "--story", story(AUTHOR_JOURNAL), "--format", "json")
    assert result.exit_code == 3, result.output



def test_search_answers_go_stale_sooner_than_lookups(stand_in, analyzer, rules, tmp_path):
    # a search that has not found the story's paper yet is asked again the next day; the same
    # search within a day is answered from the cache
    ctx = context(stand_in, tmp_path, analyzer, rules)
    search_story(story(AUTHOR_JOURNAL), ctx)
    before = len(stand_in.requests)
    search_story(story(AUTHOR_JOURNAL), ctx)
    assert len(stand_in.requests) == before
    stale = build_context(stand_in.settings(tmp_path, search_cache_ttl=0), rules)
    stale._analyzer = analyzer
    search_story(story(AUTHOR_JOURNAL), stale)
    asked = [r for r in stand_in.requests[before:] if r.service == "europepmc"]
    assert asked and all("search" in r.path for r in asked)


def _paper(title: str, doi: str, journal: str, types: tuple[str, ...] = (),
           abstract: str = "Salt substitution cut stroke in rural villages.") -> Paper:
    from factcheck.types import Section
    return Paper(source="europepmc", title=title, doi=doi, journal=journal, year=2021,
                 published="2021-08-29", publication_types=types,
                 sections=(Section(None, None, abstract),))


def test_search_pool_keeps_the_journal_article_over_its_preprint_and_drops_editorials(rules):
    from factcheck.resolve.search import _Pool
    settings = rules.setting("search")
    pool = _Pool(never=frozenset(settings["never_types"]),
                 preprint_servers=frozenset(settings["preprint_servers"]))
    pool.add(_paper("Effect of salt substitution on cardiovascular events and death",
                    "10.1101/2021.05.01.1", "medRxiv", ("Preprint",)), "topic")
    pool.add(_paper("Effect of Salt Substitution on Cardiovascular Events and Death",
                    "10.1056/nejmoa2105675", "New England Journal of Medicine"), "author + journal")
    pool.add(_paper("Salt substitutes: a cheap way to fewer strokes", "10.1056/nejme2110903",
                    "New England Journal of Medicine", ("Editorial",)), "journal + topic")
    assert [p.doi for p in pool.papers] == ["10.1056/nejmoa2105675"]
    assert pool.found_by == [["topic", "author + journal"]]


def test_search_an_unlisted_journal_never_blocks_a_candidate(rules):
    from factcheck.resolve.search import score_candidate
    from factcheck.types import Mentioned, Span, StudyMention
    mention = StudyMention(journals=(Mentioned("Washington Post", Span(0, 15, "Washington Post"),
                                               role="unlisted", weight=0.6),),
                           topic=(Mentioned("salt", Span(0, 4, "salt"), weight=1.0),))
    paper = _paper("Salt substitution and stroke", "10.1/x", "New England Journal of Medicine")
    scored = score_candidate(mention, paper, rules.setting("search"), lambda a, b: a == b,
                             lambda text: [])
    assert not any(k.startswith("cannot be") for k, _ in scored.evidence)
