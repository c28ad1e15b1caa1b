"""The mention stage on news prose: what a story says about its study when it links nothing.

Each story here is a small news page written for these tests, read through the real extract and
claims stages (`read_article`, `article_claims`) and then the context's MentionReader. The
corpora/prose cases check the reader against what a careful editor takes from those stories.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from html import escape
from pathlib import Path

import pytest

from factcheck.config import load_settings
from factcheck.pipeline import Context, article_claims, build_context, read_article
from factcheck.resolve import paper_from_file
from factcheck.types import Article, StudyMention

PROSE = Path(__file__).resolve().parent.parent / "corpora" / "prose"
CASES = sorted(p for p in PROSE.iterdir() if p.is_dir())
TUESDAY = "2019-06-11"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, analyzer, rules) -> Context:
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path_factory.mktemp("cache"))},
                             offline=True)
    context = build_context(settings, rules)
    context._analyzer = analyzer
    return context


def page(headline: str, paragraphs: tuple[str, ...], published: str | None,
         standfirst: str | None) -> str:
    meta = (f'<meta property="article:published_time" content="{published}">'
            if published else "")
    lead = f'<p class="standfirst">{escape(standfirst)}</p>' if standfirst else ""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(headline)} | Health Desk</title>{meta}</head><body>"
            f'<nav><a href="/">Home</a> <a href="/health">Health</a></nav>'
            f"<article><h1>{escape(headline)}</h1>{lead}{body}</article>"
            f"<footer>Health Desk, all rights reserved</footer></body></html>")


def read(tmp_path: Path, ctx: Context, headline: str, *paragraphs: str,
         published: str | None = TUESDAY,
         standfirst: str | None = None) -> tuple[Article, StudyMention]:
    """The article and its StudyMention for a story page written to tmp_path."""
    path = tmp_path / f"story-{len(list(tmp_path.glob('story-*.html')))}.html"
    path.write_text(page(headline, paragraphs, published, standfirst), "utf-8")
    article = read_article(str(path), ctx)
    mention = ctx.mention_reader.read(article, article_claims(article, ctx))
    return article, mention


def roles(mention: StudyMention) -> dict[str, str | None]:
    return {r.value: r.role for r in mention.researchers}


# -- journals -------------------------------------------------------------------------------

JOURNAL_STORIES = {
    "full-title": (
        "Daily aspirin does not help healthy older people live longer",
        ("The results were published in the New England Journal of Medicine on Sunday, "
         "alongside two companion reports from the same trial.",
         "More than 19,000 people in their seventies took either a low-dose aspirin or a dummy "
         "pill every day for almost five years.",
         "Bleeding in the stomach was more common among those taking the drug."),
        "New England Journal of Medicine", "New England Journal of Medicine"),
    "the-bmj": (
        "Green tea may slow memory loss in later life",
        ("The findings, published in the BMJ, suggest that drinking green tea may slow memory "
         "loss in older adults.",
         "The researchers followed 2,300 people over the age of 65 in rural Japan and tested "
         "their recall every year.",
         "Those who drank five or more cups a day scored better than those who drank none."),
        "BMJ", "BMJ"),
    "odd-casing": (
        "Office workers who walk at lunch have lower blood pressure",
        ("The report, which appears in the British Medical journal, tracked 4,120 office "
         "workers for three years.",
         "Workers who took a brisk lunchtime walk on most days had lower blood pressure by the "
         "end of the study.",
         "The effect was largest in those who had been inactive before, the authors wrote."),
        "British Medical Journal", "British Medical journal"),
    "specialty-title": (
        "Muscle pain is rarely caused by statins",
        ("Writing in JAMA Internal Medicine, the researchers said statins rarely cause the "
         "muscle aches that patients blame on them.",
         "Patients took statins and dummy pills in alternating months without knowing which "
         "was which.",
         "Pain scores were almost the same whichever pill they were taking, the team reported."),
        "JAMA Internal Medicine", "JAMA Internal Medicine"),
    "journal-of-x": (
        "New antidepressant eases symptoms within weeks",
        ("The trial, published in the journal of CNS Drugs, enrolled 310 adults with major "
         "depression at clinics in Spain.",
         "Half received the new antidepressant and half a placebo for eight weeks, and symptoms "
         "were scored every fortnight.",
         "Symptoms eased sooner in the treated group, though nausea was more common."),
        "CNS Drugs", "CNS Drugs"),
    "two-word-title": (
        "Gut bacteria linked to low mood",
        ("The study appeared in Nature Communications and looked at gut bacteria in 1,054 "
         "volunteers from Belgium.",
         "Two groups of bacteria were consistently missing in people with depression, even "
         "after antidepressant use was taken into account.",
         "The authors said the work could not show whether the bacteria caused low mood."),
        "Nature Communications", "Nature Communications"),
    "one-word-title-after-cue": (
        "Diet soda tied to higher stroke risk",
        ("The findings were published in the journal Stroke on Thursday.",
         "Drinking diet soda daily was linked to a higher risk of stroke among 2,888 adults "
         "followed for ten years in Massachusetts.",
         "The researchers said the link did not prove that artificial sweeteners cause harm."),
        "Stroke", "Stroke"),
}


@pytest.mark.parametrize("name", list(JOURNAL_STORIES))
def test_mention_journal_as_news_writes_it(name, tmp_path, ctx):
    headline, paragraphs, journal, words = JOURNAL_STORIES[name]
    article, mention = read(tmp_path, ctx, headline, *paragraphs)
    assert len(mention.journals) == 1, [j.value for j in mention.journals]
    found = mention.journals[0]
    assert ctx.mention_reader.journals.same(found.value, journal), found.value
    assert found.span.text == words
    assert article.text[found.span.start:found.span.end] == words


def test_mention_one_word_title_is_no_journal_without_a_cue(tmp_path, ctx):
    _, mention = read(
        tmp_path, ctx, "New blood thinner tested in older patients",
        "People who had a stroke were given a new blood thinner in the trial, which followed "
        "them for two years.",
        "Stroke is a leading cause of disability in older people, and many survivors have a "
        "second one within five years.",
        "Doctors hope the drug will prevent repeat events without causing dangerous bleeding.")
    assert mention.journals == ()


# -- researchers ----------------------------------------------------------------------------

BACKGROUND = (
    "The trial gave monthly vitamin D capsules or dummy pills to thousands of older adults and "
    "followed them for four years.",
    "Broken bones were no less common among those taking the vitamin, and falls were just as "
    "frequent in both groups.",
)


@pytest.mark.parametrize("sentence, surname, role, full", [
    ("The trial, led by Dr. Maria Castellanos of the University of Auckland, was paid for by "
     "the country's health research council.", "Castellanos", "lead", "Maria Castellanos"),
    ("Lead author Tomas Brandvold said the results should reassure people who do not take "
     "supplements.", "Brandvold", "first", "Tomas Brandvold"),
    ("The study's senior author, Professor Ruth Okonjo, said the findings matched earlier "
     "work.", "Okonjo", "last", "Ruth Okonjo"),
    ("Ingrid Halvorsen and colleagues also measured bone density in some of the volunteers.",
     "Halvorsen", "lead", "Ingrid Halvorsen"),
    ("\u201cThese are careful results,\u201d said Samuel Achterberg, an epidemiologist at "
     "Boston University.", "Achterberg", "quoted", "Samuel Achterberg"),
    ("Dr. Priya Venkataraman, a bone specialist who was not involved in the study, said the "
     "dose may have been too low.", "Venkataraman", "outside", "Priya Venkataraman"),
    ("Dr. Helen Marsh said the capsules were cheap and safe at the dose used.", "Marsh",
     "quoted", "Helen Marsh"),
    ("Professor Halloran, who reviewed the data for the council, agreed that the dose "
     "mattered.", "Halloran", "quoted", "Halloran"),
    ("Jane Whitfield, Ph.D., a dietitian in Leeds, said most people get enough vitamin D from "
     "sunlight in summer.", "Whitfield", "quoted", "Jane Whitfield"),
], ids=["led-by", "lead-author", "senior-author", "and-colleagues", "said-x-an-epidemiologist",
        "outside-expert", "dr", "professor", "phd"])
def test_mention_researcher_and_role(sentence, surname, role, full, tmp_path, ctx):
    article, mention = read(tmp_path, ctx, "Vitamin D does not prevent broken bones",
                            *BACKGROUND, sentence)
    found = {r.value: r for r in mention.researchers}
    assert surname in found, [r.value for r in mention.researchers]
    person = found[surname]
    assert (person.role, person.detail) == (role, full)
    assert article.text[person.span.start:person.span.end] == person.span.text


def test_mention_researchers_keep_their_roles_in_one_story(tmp_path, ctx):
    _, mention = read(
        tmp_path, ctx, "Vitamin D does not prevent broken bones, trial finds", *BACKGROUND,
        "The trial, led by Dr. Maria Castellanos of the University of Auckland, enrolled 5,110 "
        "adults.",
        "Lead author Tomas Brandvold said the results should reassure people.",
        "The study's senior author, Professor Ruth Okonjo, said the findings matched earlier "
        "work.",
        "Dr. Priya Venkataraman, a bone specialist who was not involved in the study, said the "
        "dose may have been too low.")
    assert roles(mention) == {"Castellanos": "lead", "Brandvold": "first", "Okonjo": "last",
                              "Venkataraman": "outside"}
    assert "University of Auckland" in [i.value for i in mention.institutions]


def test_mention_institution_does_not_swallow_the_person(tmp_path, ctx):
    _, mention = read(
        tmp_path, ctx, "Hormone therapy started early may protect the heart",
        "Women who began hormone therapy within ten years of the menopause had fewer deaths "
        "from heart disease, according to an analysis of national registers.",
        "The researchers followed 489,105 Finnish women for two decades.",
        "\u201cThe benefit was clear in women who started early,\u201d University of Helsinki's "
        "Tomi Mikkola said.")
    assert [(r.value, r.detail) for r in mention.researchers] == [("Mikkola", "Tomi Mikkola")]
    assert [i.value for i in mention.institutions] == ["University of Helsinki"]


# -- study names ----------------------------------------------------------------------------

STUDY_BACKGROUND = (
    "High blood pressure in middle age has long been linked to memory problems later in life, "
    "and doctors have debated how hard to treat it in people in their fifties.",
)


@pytest.mark.parametrize("sentence, name", [
    ("Data from the Framingham Heart Study show that blood pressure at fifty predicts "
     "dementia at eighty.", "Framingham Heart Study"),
    ("A separate analysis of the D-Health trial found no effect of vitamin D on deaths from "
     "cancer.", "D-Health"),
    ("A blood test known as CancerSEEK picked up eight common cancers in a pilot study.",
     "CancerSEEK"),
    ("The figures come from the Nurses\u2019 Health Study, which has followed American "
     "nurses since 1976.", "Nurses\u2019 Health Study"),
    ("The researchers used records from the UK Biobank, which holds health data on half a "
     "million Britons.", "UK Biobank"),
], ids=["framingham", "d-health", "cancerseek", "nurses-health", "uk-biobank"])
def test_mention_study_name(sentence, name, tmp_path, ctx):
    _, mention = read(tmp_path, ctx, "Blood pressure at fifty and memory at eighty",
                      *STUDY_BACKGROUND, sentence,
                      "Doctors said the work was a reason to check blood pressure early.")
    found = [s.value for s in mention.study_names]
    assert any(name in s for s in found), found
    assert not any(s in ("Health Study", "Study", "Trial") for s in found), found


def test_mention_a_danish_study_is_no_study_name(tmp_path, ctx):
    _, mention = read(
        tmp_path, ctx, "Blood pressure at fifty and memory at eighty", *STUDY_BACKGROUND,
        "A Danish study last year reached similar conclusions about blood pressure and memory.",
        "Last spring a large Swedish study of twins said much the same, and a US trial is "
        "under way.")
    assert mention.study_names == ()


# -- dates and the window -------------------------------------------------------------------

def _inside(window: tuple[str, str] | None, day: str) -> bool:
    return window is not None and window[0] <= day <= window[1]


@pytest.mark.parametrize("story_date, sentence, said, words", [
    (TUESDAY, "The findings were published Monday in the journal Circulation.", "2019-06-10",
     "Monday"),
    (TUESDAY, "The study, published yesterday in the journal Circulation, followed adults with "
     "high triglycerides.", "2019-06-10", "yesterday"),
    ("2020-03-04", "The findings appear in the March 5 issue of the New England Journal of "
     "Medicine.", "2020-03-05", "March 5"),
    ("2018-10-23", "The results were published online Oct. 17 in JAMA Internal Medicine.",
     "2018-10-17", "Oct. 17"),
    ("2019-01-08", "The results were published online Dec. 30 in JAMA Internal Medicine.",
     "2018-12-30", "Dec. 30"),
], ids=["weekday", "yesterday", "issue", "online-same-month", "online-last-year"])
def test_mention_paper_date_from_the_story(story_date, sentence, said, words, tmp_path, ctx):
    _, mention = read(
        tmp_path, ctx, "Fish oil capsules do not protect the heart", sentence,
        "Fish oil capsules did not lower the rate of heart attacks among 8,179 adults, compared "
        "with a mineral oil placebo.",
        "Doctors said patients already taking the capsules could discuss stopping with their GP.",
        published=story_date)
    assert mention.story_date == story_date
    assert mention.paper_date is not None
    assert (mention.paper_date.value, mention.paper_date.span.text) == (said, words)
    assert _inside(mention.window, said)
    low, high = (date.fromisoformat(d) for d in mention.window)
    assert (high - low).days <= 62  # a date the story gives narrows the window


def test_mention_publication_date_beats_a_presentation_date(tmp_path, ctx):
    _, mention = read(
        tmp_path, ctx, "Very low calorie diet reverses type 2 diabetes in small trial",
        "The findings, presented today at a diabetes meeting in San Diego, were published "
        "earlier this month in the journal Diabetologia.",
        "Eleven volunteers lived on 600 calories a day for eight weeks, and their blood sugar "
        "returned to normal within a week.",
        "Three months later, seven of them still did not have diabetes.", published="2011-06-24")
    assert mention.paper_date is not None
    assert mention.paper_date.span.text == "earlier this month"
    assert _inside(mention.window, "2011-06-01") and _inside(mention.window, "2011-06-24")


def test_mention_window_without_date_words_is_around_the_story(tmp_path, ctx, rules):
    _, mention = read(
        tmp_path, ctx, "Fish oil capsules do not protect the heart",
        "Fish oil capsules did not lower the rate of heart attacks in a trial of 8,179 adults, "
        "according to the journal Circulation.",
        "The capsules were compared with a mineral oil placebo over five years.",
        "Doctors said patients already taking the capsules could discuss stopping with their GP.")
    settings = rules.setting("mention")
    story = date.fromisoformat(TUESDAY)
    assert mention.paper_date is None
    assert mention.window == (
        str(story - timedelta(days=int(settings["before_story_days"]))),
        str(story + timedelta(days=int(settings["after_story_days"]))))


SALT = ("Salt substitutes cut strokes in Chinese villages",
        "The trial was published in the Lancet and involved 20,995 villagers in rural China.",
        "Replacing ordinary salt with a potassium-rich substitute cut strokes by 14 percent over "
        "five years.",
        "Experts said the approach could be copied cheaply where salt intake is high.")


def test_mention_page_date_of_a_month_only(tmp_path, ctx):
    article, mention = read(tmp_path, ctx, *SALT, published="2008-01")
    assert article.published == "2008-01"
    assert (mention.story_date or "")[:7] == "2008-01"
    assert _inside(mention.window, "2008-01-15")


def test_mention_page_date_of_a_month_only_window_spans_the_month(tmp_path, ctx):
    _, mention = read(tmp_path, ctx, *SALT, published="2008-01")
    assert _inside(mention.window, "2008-01-01") and _inside(mention.window, "2008-01-31")


# -- topic and numbers ----------------------------------------------------------------------

SUGAR = (
    "Sugary drinks linked to early death, researchers say",
    "Among the 657,461 participants in the study, those who drank two sugary drinks a day had a "
    "higher risk of death, researchers said.",
    "The study linked the drinks to heart disease and some cancers over an average of sixteen "
    "years, the researchers reported.",
    "In the study, volunteers were asked not to eat or drink for six hours before giving blood.",
)


def test_mention_topic_has_the_headline_words_not_news_words(tmp_path, ctx, rules):
    _, mention = read(tmp_path, ctx, *SUGAR)
    words = {t.value: t for t in mention.topic}
    for word in ("sugary", "drinks"):
        assert word in words, list(words)
        assert words[word].headline
    news = rules.lexicon("news_words")
    assert {"study", "researchers", "said"} <= news
    assert not news & set(words), list(words)
    weights = [t.weight for t in mention.topic]
    assert weights == sorted(weights, reverse=True)


def test_mention_participant_count_weighs_most_and_small_durations_nothing(tmp_path, ctx):
    _, mention = read(tmp_path, ctx, *SUGAR)
    numbers = {n.value: n for n in mention.numbers}
    assert "657461" in numbers, list(numbers)
    count = numbers["657461"]
    assert (count.role, count.span.text) == ("count", "657,461 participants")
    assert count.weight == max(n.weight for n in mention.numbers)
    assert count.weight >= 1.0
    assert "6" not in numbers
    assert not any("six hours" in n.span.text for n in mention.numbers)


def test_mention_story_that_names_nothing_is_empty(tmp_path, ctx):
    _, mention = read(
        tmp_path, ctx, "Spring is the time to start a vegetable patch",
        "Spring is a good time to start gardening, and many people enjoy planting vegetables in "
        "raised beds.",
        "Local nurseries say tomatoes and beans are the most popular choices for beginners this "
        "year.",
        "Gardeners are advised to water early in the morning and to keep an eye out for slugs "
        "after rain.")
    assert mention.empty
    assert mention.topic == ()
    assert (mention.journals, mention.researchers, mention.study_names) == ((), (), ())
    assert mention.story_date == TUESDAY


# -- the prose corpus -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(ctx):
    """The mention of a corpora/prose case's story, read once per module."""
    read_cases: dict[str, StudyMention] = {}

    def mention_of(case: Path) -> StudyMention:
        if case.name not in read_cases:
            article = read_article(str(case / "story.html"), ctx)
            read_cases[case.name] = ctx.mention_reader.read(article, article_claims(article, ctx))
        return read_cases[case.name]

    return mention_of


def expected(case: Path) -> dict:
    return json.loads((case / "expected.json").read_text("utf-8"))["resolve"]["mention"]


def test_mention_corpus_has_the_prose_cases():
    assert len(CASES) == 14


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mention_corpus_journals_found(case, corpus, ctx):
    mention = corpus(case)
    same = ctx.mention_reader.journals.same
    for journal in expected(case)["journals"]:
        assert any(same(journal, j.value) for j in mention.journals), \
            (journal, [j.value for j in mention.journals])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mention_corpus_researchers_found_by_surname(case, corpus):
    mention = corpus(case)
    found = {r.value: r.role for r in mention.researchers}
    for person in expected(case)["researchers"]:
        surname = person["name"].split()[-1]
        if person["role"] == "outside":
            assert found.get(surname) in (None, "outside"), (surname, found)
        else:
            assert surname in found, (person["name"], found)
            assert found[surname] != "outside", (person["name"], found)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mention_corpus_window_holds_the_paper_date(case, corpus):
    mention = corpus(case)
    paper = paper_from_file(case / "pubmed.xml")
    assert mention.story_date == expected(case)["story_date"]
    assert paper.published and _inside(mention.window, paper.published), \
        (paper.published, mention.window)


def test_mention_an_earlier_study_year_widens_the_window_back(tmp_path, ctx):
    # a story dated June 2019 about "a 2016 study published in the BMJ": the window reaches
    # back to 2016, so the old paper is not ruled out by the story's own date
    _, mention = read(tmp_path, ctx, "Old study on salt resurfaces in debate",
                      "A 2016 study published in the BMJ tracked 20,995 villagers in rural China "
                      "who swapped ordinary salt for a potassium-rich substitute.",
                      "Campaigners cited it again this week as ministers weighed new targets for "
                      "salt in bread, soups and ready meals.",
                      "Doctors said the evidence for cutting salt was already strong enough to "
                      "act on without waiting for more trials.")
    assert mention.paper_date is not None and mention.paper_date.value == "2016"
    assert _inside(mention.window, "2016-03-01") and _inside(mention.window, "2019-06-11")
