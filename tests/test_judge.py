"""The judge (factcheck/judge/) on hand-built claims (no NLP), so each check is tested on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from factcheck.judge import align_claims, judge
from factcheck.judge._common import clause, same_number
from factcheck.types import Article, Claim, Entity, Mentioned, Paper, Paragraph, Quantity, Section, Span, StudyMention


@dataclass
class Q:
    """A quantity to place on the first occurrence of `at` in its sentence."""

    at: str
    kind: str
    value: float | None
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    of: str | None = None
    relative: bool | None = None
    qualifier: str | None = None


@dataclass
class S:
    """A sentence and the claim fields the claims stage would fill."""

    text: str
    q: list[Q] = field(default_factory=list)
    role: str = "body"
    fields: dict[str, Any] = field(default_factory=dict)
    hedges: list[str] = field(default_factory=list)
    entities: list[tuple[str, str, str]] = field(default_factory=list)  # (label, at, norm)


def _claims(sentences: list[S], origin: str) -> tuple[str, tuple[Claim, ...]]:
    text, claims, pos = "", [], 0
    for s in sentences:
        start = len(text)
        text += s.text + "\n"

        def span(at: str, base: int = start, sentence: str = s.text) -> Span:
            i = sentence.index(at)
            return Span(base + i, base + i + len(at), at)

        quantities = tuple(Quantity(value=q.value, unit=q.unit, kind=q.kind, span=span(q.at),
                                    low=q.low, high=q.high, of=q.of, relative=q.relative,
                                    qualifier=q.qualifier) for q in s.q)
        fields = dict(s.fields)
        for name in ("causal_cue", "open_question"):  # words the claims stage marked
            if isinstance(fields.get(name), str):
                fields[name] = span(fields[name])
        claims.append(Claim(
            origin=origin, span=Span(start, start + len(s.text), s.text),
            # an abstract sentence without a role is in the one RESULTS section `run` builds
            section="RESULTS" if origin == "abstract" and s.role == "body" else s.role,
            quantities=quantities, hedges=tuple(span(h) for h in s.hedges),
            hedged=bool(s.hedges),
            entities=tuple(Entity(label=lab, span=span(a), norm=n) for lab, a, n in s.entities),
            **{"kind": "result", **fields}))
        pos += 1
    return text, tuple(claims)


def run(story: list[S], abstract: list[S], rules, mention: Any = None, **paper_fields: Any):
    """Judge `story` against `abstract`; `mention(text)` gives the story's StudyMention."""
    text, article_claims = _claims(story, "article")
    abstract_text, abstract_claims = _claims(abstract, "abstract")
    sections = (Section(label="RESULTS", category="RESULTS", text=abstract_text.rstrip("\n")),)
    paper = Paper(source="file", title=paper_fields.pop("title", "A trial"), sections=sections,
                  doi="10.5555/test", **paper_fields)
    paragraphs = tuple(Paragraph(c.start, c.end, c.section or "body") for c in article_claims)
    article = Article(url="file:story", final_url="file:story", title=None, published=None,
                      site=None, authors=(), text=text, paragraphs=paragraphs,
                      mention=mention(text) if mention else None)
    weights = rules.setting("verdicts")["align"]
    alignments = align_claims(article_claims, (abstract_claims,), weights)
    return judge(article, (paper,), article_claims, (abstract_claims,), alignments, rules)


def kinds(findings) -> list[str]:
    return [f.kind for f in findings]


def test_judge_rounding_tolerance(rules):
    verdicts = rules.setting("verdicts")
    story = Quantity(value=1.2, unit="kPa", kind="measure", span=Span(0, 3, "1.2"))
    wrong = Quantity(value=1.5, unit="kPa", kind="measure", span=Span(0, 3, "1.5"))
    paper = Quantity(value=1.15, unit="kPa", kind="measure", span=Span(0, 4, "1.15"))
    assert same_number(story, paper, verdicts)
    assert not same_number(wrong, paper, verdicts)


def test_judge_number_mismatch_quotes_both_sides(rules):
    findings, supported = run(
        [S("Statin users had a 31% lower risk of heart attack over five years.",
           [Q("31%", "percent", 31, "%", relative=True)], fields={"outcome": "heart attack"})],
        [S("Statin therapy was associated with a 21% lower risk of myocardial infarction "
           "over five years.", [Q("21%", "percent", 21, "%", relative=True)],
           fields={"outcome": "myocardial infarction"})],
        rules)
    assert "number_mismatch" in kinds(findings)
    f = next(f for f in findings if f.kind == "number_mismatch")
    assert "31%" in f.article_span.text and "21%" in f.abstract_span.text
    assert f.rule_id == "number-mismatch-v1"


def test_judge_matching_numbers_are_supported(rules):
    findings, supported = run(
        [S("The LDN group had a rise of 1.2 kPa over 12 weeks.",
           [Q("1.2 kPa", "measure", 1.2, "kPa"), Q("12 weeks", "duration", 12, "week")])],
        [S("CPM increased by 1.2 kPa in the LDN group over 12 weeks.",
           [Q("1.2 kPa", "measure", 1.2, "kPa"), Q("12 weeks", "duration", 12, "week")])],
        rules)
    assert not [f for f in findings if f.kind in {"number_mismatch", "duration"}]
    assert len(supported) >= 2


def test_judge_sample_size(rules):
    findings, _ = run(
        [S("The trial followed 12,030 adults with type 2 diabetes for a year.",
           [Q("12,030 adults", "count", 12030, of="adults")])],
        [S("We enrolled 1,203 adults with type 2 diabetes and followed them for a year.",
           [Q("1,203 adults", "count", 1203, of="adults")])],
        rules)
    assert kinds(findings).count("sample_size") == 1


def test_judge_duration(rules):
    findings, _ = run(
        [S("Participants took the supplement for two years in the trial.",
           [Q("two years", "duration", 2, "year")])],
        [S("Participants took the supplement or placebo for 6 months in the trial.",
           [Q("6 months", "duration", 6, "month")])],
        rules)
    assert "duration" in kinds(findings)


def test_judge_population_women_to_patients(rules):
    findings, supported = run(
        [S("For 12 weeks, 99 fibromyalgia patients received the drug or a placebo.",
           [Q("99 fibromyalgia patients", "count", 99, of="patients")],
           fields={"kind": "method"})],
        [S("In the trial, 99 women with fibromyalgia were treated with the drug or placebo "
           "for 12 weeks.", [Q("99 women", "count", 99, of="women")],
           fields={"kind": "method", "population_tags": ("female", "human")})],
        rules)
    assert kinds(findings) == ["population"]
    assert findings[0].severity == "medium"
    assert "99 fibromyalgia patients" in findings[0].article_span.text
    assert "99 women" in findings[0].abstract_span.text
    assert not [f for f in findings if f.kind == "sample_size"]


def test_judge_omitted_uncertainty_when_ci_crosses_zero(rules):
    findings, _ = run(
        [S("The treated group had a rise of 1.2 kPa, whereas the placebo group saw a drop "
           "of 0.8 kPa.", [Q("1.2 kPa", "measure", 1.2, "kPa"), Q("0.8 kPa", "measure", 0.8, "kPa")],
           fields={"direction": "increase"})],
        [S("Changes showed an increase of 1.2 kPa (95% CI 0.05-2.4 kPa) in the treated group and "
           "a decrease of 0.8 kPa (95% CI -1.9 to 0.4 kPa) in the placebo group.",
           [Q("1.2 kPa", "measure", 1.2, "kPa", low=0.05, high=2.4),
            Q("0.8 kPa", "measure", 0.8, "kPa", low=-1.9, high=0.4)],
           fields={"direction": "increase"})],
        rules)
    f = next(f for f in findings if f.kind == "omitted_uncertainty")
    assert f.severity == "medium"
    assert "includes no change" in f.message


def test_judge_not_in_abstract_for_unmentioned_outcome(rules):
    findings, _ = run(
        [S("The drug also improved sleep quality, the researchers found.",
           fields={"direction": "increase", "outcome": "sleep quality"})],
        [S("The drug reduced systolic blood pressure by 8 mmHg compared with placebo.",
           [Q("8 mmHg", "measure", 8, "mmHg")], fields={"direction": "decrease",
                                                        "outcome": "systolic blood pressure"})],
        rules)
    assert kinds(findings) == ["not_in_abstract"]
    assert findings[0].abstract_span is None


def test_judge_headline_raises_severity(rules):
    findings, _ = run(
        [S("Drug improves sleep quality", role="title",
           fields={"direction": "increase", "outcome": "sleep quality"})],
        [S("The drug reduced systolic blood pressure by 8 mmHg.",
           [Q("8 mmHg", "measure", 8, "mmHg")], fields={"outcome": "systolic blood pressure"})],
        rules)
    assert findings[0].kind == "not_in_abstract" and findings[0].severity == "high"


def test_judge_significance_flip(rules):
    findings, _ = run(
        [S("Vitamin D significantly reduced the risk of fractures in older adults.",
           fields={"significance": "significant", "direction": "decrease", "outcome": "fractures"})],
        [S("Vitamin D did not significantly reduce the risk of fractures in older adults.",
           fields={"significance": "not_significant", "direction": "no_change",
                   "outcome": "fractures"})],
        rules)
    assert "significance" in kinds(findings)
    assert next(f for f in findings if f.kind == "significance").severity == "high"


def test_judge_causal_language_from_association(rules):
    findings, _ = run(
        [S("Drinking coffee cuts the risk of early death, a large study shows.",
           fields={"causal_strength": "direct_causal", "causal_cue": "cuts", "outcome": "death"})],
        [S("Coffee drinking was associated with a lower risk of death in this cohort.", role="RESULTS",
           fields={"causal_strength": "correlational", "outcome": "death",
                   "design": ("cohort",)})],
        rules)
    assert "causal_language" in kinds(findings)


def test_judge_hedge_dropped(rules):
    findings, _ = run(
        [S("The supplement reduces memory decline in older adults.",
           fields={"direction": "decrease", "causal_strength": "direct_causal",
                   "outcome": "memory decline"})],
        [S("The supplement may reduce memory decline in older adults.", role="CONCLUSIONS",
           fields={"direction": "decrease", "causal_strength": "conditional_causal",
                   "outcome": "memory decline", "kind": "conclusion"}, hedges=["may"])],
        rules)
    assert "hedge_dropped" in kinds(findings)


def test_judge_relative_without_absolute(rules):
    findings, _ = run(
        [S("The drug halves the risk of stroke.",
           [Q("halves", "percent", 50, "%", relative=True)], fields={"direction": "decrease"})],
        [S("Stroke occurred in 1.0% of the drug group and 2.0% of the placebo group, a 50% "
           "relative reduction.", [Q("1.0%", "percent", 1.0, "%", relative=False),
                                   Q("2.0%", "percent", 2.0, "%", relative=False),
                                   Q("50%", "percent", 50, "%", relative=True)],
           fields={"direction": "decrease"})],
        rules)
    assert "relative_without_absolute" in kinds(findings)


def test_judge_retracted_paper(rules):
    findings, _ = run(
        [S("A new study found the drug helps.", fields={"kind": "other"})],
        [S("The drug helped.")], rules, retracted=True,
        notices=("RetractionIn: Lancet. 2020;395:1820",))
    assert any(f.kind == "citation_mismatch" and f.severity == "high" for f in findings)


def test_judge_clause_splits_at_whereas():
    text = "Overall, the LDN group had a rise of 1.2 kPa, whereas the placebo group saw a drop."
    claim = Claim(origin="article", span=Span(10, 10 + len(text), text))
    start = 10 + text.index("1.2")
    span = clause(claim, start, start + 3)
    assert span.text == "the LDN group had a rise of 1.2 kPa"
    assert span.start == 10 + text.index("the LDN")


@pytest.mark.parametrize("story,expected", [("entire case population", True),
                                             ("complete case population", False)])
def test_judge_terminology_complete_case(rules, story, expected):
    findings, _ = run(
        [S(f"We looked at outcomes in the {story} after treatment.", fields={"kind": "method"})],
        [S("Outcomes were analysed in the complete case population (45 versus 47).",
           fields={"kind": "method"})],
        rules)
    assert ("other" in kinds(findings)) is expected


def test_judge_numbers_given_to_the_wrong_group(rules):
    findings, _ = run(
        [S("By then 203 people had died in the intensive-treatment group compared with 257 in "
           "the standard group.", [Q("203 people", "count", 203, of="people"),
                                   Q("257", "number", 257)])],
        [S("Death occurred in 257 patients in the intensive-therapy group and 203 in the "
           "standard-therapy group.", [Q("257 patients", "count", 257, of="patients"),
                                       Q("203", "number", 203)])],
        rules)
    swap = [f for f in findings if f.rule_id == "group-swap-v1"]
    assert swap and swap[0].kind == "direction" and swap[0].severity == "high"


def test_judge_numbers_in_the_right_groups_are_not_swapped(rules):
    findings, _ = run(
        [S("257 people died in the intensive-treatment group and 203 in the standard group.",
           [Q("257 people", "count", 257, of="people"), Q("203", "number", 203)])],
        [S("Death occurred in 257 patients in the intensive-therapy group and 203 in the "
           "standard-therapy group.", [Q("257 patients", "count", 257, of="patients"),
                                       Q("203", "number", 203)])],
        rules)
    assert not [f for f in findings if f.rule_id == "group-swap-v1"]


def test_judge_duration_across_units(rules):
    findings, supported = run(
        [S("In a two-year study, adults lost far more weight on the drug.",
           [Q("two-year", "duration", 2, "year")], role="standfirst",
           fields={"direction": "decrease", "outcome": "weight"})],
        [S("Participants were assigned to 68 weeks of treatment with the drug or placebo, and "
           "lost weight.", [Q("68 weeks", "duration", 68, "week")], fields={"kind": "method"})],
        rules)
    f = next(f for f in findings if f.kind == "duration")
    assert "68 weeks" in f.abstract_span.text and f.severity == "medium"


def test_judge_same_duration_in_other_units_is_supported(rules):
    findings, supported = run(
        [S("Volunteers took the tablets for a year.", [Q("a year", "duration", 1, "year")])],
        [S("Volunteers took the tablets or placebo for 12 months.",
           [Q("12 months", "duration", 12, "month")])],
        rules)
    assert not [f for f in findings if f.kind == "duration"]
    assert any("a year" in s.article_span.text for s in supported)


def test_judge_dosing_interval_is_not_a_study_length(rules):
    findings, _ = run(
        [S("Patients received infusions every two weeks.",
           [Q("two weeks", "duration", 2, "week")])],
        [S("Patients received infusions for 18 months in the trial.",
           [Q("18 months", "duration", 18, "month")])],
        rules)
    assert not [f for f in findings if f.kind == "duration"]


def test_judge_meta_analysis_called_a_trial(rules):
    findings, _ = run(
        [S("In the trial, 116,477 patients were randomly assigned to the drugs.",
           [Q("116,477 patients", "count", 116477, of="patients")],
           fields={"kind": "method", "design": ("trial", "randomized")})],
        [S("We did a network meta-analysis of 522 trials including 116,477 patients.",
           [Q("116,477 patients", "count", 116477, of="patients")],
           fields={"kind": "method", "design": ("meta_analysis",)})],
        rules)
    assert "study_design" in kinds(findings)


def test_judge_percent_told_for_percentage_points(rules):
    findings, _ = run(
        [S("E-cigarettes raised the one-year quit rate by 8.1 per cent.",
           [Q("8.1 per cent", "percent", 8.1, "%")], fields={"direction": "increase",
                                                             "outcome": "quit rate"})],
        [S("The one-year abstinence rate was 18.0% with e-cigarettes and 9.9% with nicotine "
           "replacement, a difference of 8.1 percentage points.",
           [Q("18.0%", "percent", 18.0, "%"), Q("9.9%", "percent", 9.9, "%"),
            Q("8.1 percentage points", "percent", 8.1, "percentage points")],
           fields={"outcome": "abstinence rate"})],
        rules)
    assert "unit_mismatch" in kinds(findings)
    assert "number_mismatch" not in kinds(findings)


def test_judge_benefit_claimed_where_conclusion_reports_none(rules):
    findings, _ = run(
        [S("Ivermectin significantly cut COVID hospitalizations, trial finds", role="title",
           fields={"significance": "significant", "direction": "decrease"})],
        [S("Among outpatients with Covid-19, ivermectin did not lead to a lower incidence of "
           "hospital admission.", role="CONCLUSIONS",
           fields={"kind": "conclusion", "direction": "no_change"})],
        rules)
    f = next(f for f in findings if f.kind == "significance")
    assert f.severity == "high" and "hospital admission" in f.abstract_span.text


def test_judge_rate_denominator_is_not_a_sample_size(rules):
    findings, _ = run(
        [S("Cases fell to 1.0 per 1,000 participant-years among 24,966 adults.",
           [Q("1,000 participant", "count", 1000, of="participant"),
            Q("24,966 adults", "count", 24966, of="adults")])],
        [S("Disease occurred at 1.0 per 1000 participant-years among the 24,966 adults.",
           [Q("24,966 adults", "count", 24966, of="adults")])],
        rules)
    assert "sample_size" not in kinds(findings)


@pytest.mark.parametrize("lead,flagged", [("Maria Okafor", False), ("Daniel Reyes", True)])
def test_judge_lead_author_named_by_the_story(rules, lead, flagged):
    findings, _ = run(
        [S(f"The trial, led by Dr. {lead}, found the pill shortened colds.",
           fields={"kind": "other"})],
        [S("The pill shortened colds by a day.")], rules,
        authors=("Maria Okafor", "Lee Chan"), year=2024)
    assert any(f.rule_id == "author-mismatch-v1" for f in findings) is flagged


def test_judge_reference_year_far_from_the_paper(rules):
    findings, _ = run(
        [S("The pill shortened colds, researchers said.", fields={"kind": "other"}),
         S("Source:", fields={"kind": "other"}),
         S("Okafor, M., & Chan, L. (2019). Pill for colds. Journal of Examples.",
           fields={"kind": "other"})],
        [S("The pill shortened colds by a day.")], rules,
        authors=("Maria Okafor", "Lee Chan"), year=2024)
    f = next(f for f in findings if f.rule_id == "year-mismatch-v1")
    assert f.article_span.text == "2019" and f.kind == "citation_mismatch"


def test_judge_relative_risk_against_shares_of_counts(rules):
    findings, _ = run(
        [S("Daily aspirin cuts risk of early preeclampsia by 62 percent", role="title",
           q=[Q("62 percent", "percent", 62, "%")], fields={"direction": "decrease"})],
        [S("Preterm preeclampsia occurred in 13 participants (1.6%) in the aspirin group and in "
           "35 (4.3%) in the placebo group (odds ratio, 0.38; 95% CI, 0.20 to 0.74).",
           [Q("1.6%", "percent", 1.6, "%"), Q("4.3%", "percent", 4.3, "%", relative=True),
            Q("0.38", "number", 0.38, low=0.20, high=0.74)])],
        rules)
    f = next(f for f in findings if f.kind == "relative_without_absolute")
    assert f.severity == "medium" and "1.6%" in f.abstract_span.text


def test_judge_relative_risk_with_absolute_figures_told_elsewhere(rules):
    findings, _ = run(
        [S("Daily aspirin cuts risk of early preeclampsia by 62 percent.",
           q=[Q("62 percent", "percent", 62, "%")], fields={"direction": "decrease"}),
         S("Preeclampsia struck 1.6% of women on aspirin and 4.3% on placebo.",
           q=[Q("1.6%", "percent", 1.6, "%"), Q("4.3%", "percent", 4.3, "%")])],
        [S("Preterm preeclampsia occurred in 13 participants (1.6%) in the aspirin group and in "
           "35 (4.3%) in the placebo group (odds ratio, 0.38; 95% CI, 0.20 to 0.74).",
           [Q("1.6%", "percent", 1.6, "%"), Q("4.3%", "percent", 4.3, "%"),
            Q("0.38", "number", 0.38, low=0.20, high=0.74)])],
        rules)
    assert "relative_without_absolute" not in kinds(findings)


def test_judge_mouse_study_told_as_people(rules):
    findings, _ = run(
        [S("Red wine compound lets people eat fatty food and still live longer", role="title",
           fields={"kind": "other", "population_tags": ("human",), "population": "people"})],
        [S("From 1 year of age, male mice were fed a high-calorie diet with resveratrol.",
           fields={"kind": "method", "population_tags": ("male", "human", "mice")}),
         S("In middle-aged male mice, resveratrol improved survival.",
           fields={"population_tags": ("male", "human")})],
        rules)
    f = next(f for f in findings if f.kind == "population")
    assert f.severity == "high" and "mice" in f.message


def test_judge_men_and_women_restrict_no_sex(rules):
    findings, _ = run(
        [S("Researchers recruited 17,802 people with normal cholesterol.",
           [Q("17,802 people", "count", 17802, of="people")], fields={"kind": "method"})],
        [S("We enrolled 17,802 apparently healthy men and women with normal cholesterol.",
           [Q("17,802 apparently healthy men", "count", 17802, of="men")],
           fields={"kind": "method", "population_tags": ("male", "human")})],
        rules)
    assert "population" not in kinds(findings)


def test_judge_effect_told_as_established_when_its_interval_crosses_no_effect(rules):
    findings, _ = run(
        [S("Remdesivir also lowered mortality in the trial.",
           fields={"direction": "decrease", "outcome": "mortality"})],
        [S("Mortality by day 29 was lower with remdesivir (hazard ratio for death, 0.73; 95% CI, "
           "0.52 to 1.03).", [Q("hazard ratio for death, 0.73", "ratio", 0.73, "HR",
                                low=0.52, high=1.03)],
           fields={"direction": "decrease", "outcome": "mortality"})],
        rules)
    f = next(f for f in findings if f.kind == "omitted_uncertainty")
    assert f.rule_id == "ci-omitted-crosses-null-v1" and "no effect" in f.message


def test_judge_subgroup_figure_told_as_the_whole_result(rules):
    findings, _ = run(
        [S("After 12 months, 86 per cent of the people on the programme were in remission.",
           [Q("86 per cent", "percent", 86, "%")], fields={"outcome": "remission"})],
        [S("Remission was achieved in 68 (46%) participants in the intervention group, rising to "
           "31 (86%) of 36 participants who lost 15 kg or more.",
           [Q("46%", "percent", 46, "%"), Q("86%", "percent", 86, "%")],
           fields={"outcome": "remission"})],
        rules)
    f = next(f for f in findings if f.rule_id == "subgroup-as-whole-v1")
    assert f.kind == "other" and "86%" in f.abstract_span.text


def test_judge_trial_arm_is_not_a_subgroup(rules):
    findings, _ = run(
        [S("Serious adverse events were reported in 24.6% of patients given the drug.",
           [Q("24.6%", "percent", 24.6, "%")])],
        [S("Serious adverse events occurred in 131 of 532 patients who received the drug (24.6%).",
           [Q("24.6%", "percent", 24.6, "%")])],
        rules)
    assert not [f for f in findings if f.rule_id == "subgroup-as-whole-v1"]


@pytest.mark.parametrize("told,flagged", [("more than 2,000", False), ("more than 25,000", True)])
def test_judge_more_than_n_is_a_bound(rules, told, flagged):
    value = float(told.split()[-1].replace(",", ""))
    findings, _ = run(
        [S(f"The trial enrolled {told} older adults.",
           [Q(f"{told} older adults", "count", value, of="adults", qualifier=">")],
           fields={"kind": "method"})],
        [S("We enrolled 2262 older adults in the trial.",
           [Q("2262 older adults", "count", 2262, of="adults")], fields={"kind": "method"})],
        rules)
    assert ("sample_size" in kinds(findings)) is flagged


def test_judge_screened_told_as_randomised(rules):
    findings, _ = run(
        [S("Investigators randomly assigned 2,654 adults to the programme.",
           [Q("2,654 adults", "count", 2654, of="adults")], fields={"kind": "method"})],
        [S("We screened 2654 individuals and randomly assigned 1260 to the intervention or "
           "control group.", [Q("2654 individuals", "count", 2654, of="individuals")],
           fields={"kind": "result"})],
        rules)
    f = next(f for f in findings if f.kind == "sample_size")
    assert "1260" in f.abstract_span.text


def test_judge_coincident_number_does_not_support_another_outcome(rules):
    findings, _ = run(
        [S("The vaccine also halved rates of genital warts, the researchers found.",
           [Q("halved", "ratio", 0.5, "x", relative=True)], fields={"direction": "decrease"})],
        [S("The incidence rate ratio for cervical cancer was 0.51 (95% CI, 0.32 to 0.82).",
           [Q("0.51", "number", 0.51, low=0.32, high=0.82)], fields={"outcome": "cervical cancer"})],
        rules)
    f = next(f for f in findings if f.kind == "not_in_abstract")
    assert "genital warts" in f.message


def test_judge_causal_language_needs_the_causal_words(rules):
    """The check reads the claims stage's causal cue: a claim with no cue is not flagged."""
    findings, _ = run(
        [S("Coffee drinkers had a 10 per cent lower risk of death, a large study shows.",
           fields={"causal_strength": "direct_causal", "outcome": "death"})],
        [S("Coffee drinking was associated with a lower risk of death in this cohort.",
           role="RESULTS", fields={"causal_strength": "correlational", "outcome": "death",
                                   "design": ("cohort",)})],
        rules)
    assert "causal_language" not in kinds(findings)


def test_judge_live_longer_against_increased_mortality(rules):
    findings, _ = run(
        [S("Tight control helped people with diabetes live longer, the researchers reported.",
           fields={"kind": "other"})],
        [S("Intensive therapy increased mortality in high-risk patients with type 2 diabetes.",
           role="CONCLUSIONS", fields={"kind": "conclusion", "direction": "increase"})],
        rules)
    assert "direction" in kinds(findings)


def test_judge_olive_oil_is_not_an_outcome_word(rules):
    findings, _ = run(
        [S("People who ate more olive oil had a lower risk of death.",
           fields={"direction": "decrease", "outcome": "death"})],
        [S("Higher olive oil intake was associated with a lower risk of total mortality.",
           role="CONCLUSIONS", fields={"kind": "conclusion", "direction": "decrease"})],
        rules)
    assert "direction" not in kinds(findings)


def test_judge_efficacy_claim_against_a_hedged_conclusion(rules):
    findings, _ = run(
        [S("For people with depression, an exercise class is just as effective as pills.",
           fields={"kind": "other"})],
        [S("These findings suggest that exercise may be considered an alternative to "
           "antidepressants for treating depression.", role="CONCLUSIONS", hedges=["may"],
           fields={"kind": "conclusion"})],
        rules)
    assert "hedge_dropped" in kinds(findings)


def test_judge_relative_change_judged_on_the_primary_result(rules):
    findings, _ = run(
        [S("The statin cut the combined rate of heart attacks, strokes and deaths by 54 per cent "
           "compared with placebo.", [Q("54 per cent", "percent", 54, "%")],
           fields={"direction": "decrease"})],
        [S("The primary end point was the first heart attack, stroke or death from "
           "cardiovascular causes.", role="METHODS", fields={"kind": "method"}),
         S("Rates of the primary end point were 0.77 and 1.36 per 100 person-years (hazard ratio, "
           "0.56; 95% confidence interval, 0.46 to 0.69).",
           [Q("hazard ratio, 0.56", "ratio", 0.56, "HR", low=0.46, high=0.69),
            Q("95% confidence interval, 0.46 to 0.69", "ci", 95, None, low=0.46, high=0.69)],
           role="RESULTS"),
         S("Corresponding hazard ratios were 0.46 (95% CI, 0.30 to 0.70) for myocardial infarction.",
           [Q("0.46", "number", 0.46, low=0.30, high=0.70)], role="RESULTS"),
         ], rules)
    f = next(f for f in findings if f.kind == "number_mismatch")
    assert "44%" in f.message


def test_judge_unsigned_difference_matches_a_negative_one(rules):
    findings, supported = run(
        [S("Hospitalisation fell, with a difference of 5.81 percentage points.",
           [Q("5.81 percentage points", "percent", 5.81, "percentage points")],
           fields={"direction": "decrease"})],
        [S("Hospitalisation fell with a difference of -5.81 percentage points (95% CI, -7.78 to "
           "-3.84).", [Q("-5.81 percentage points", "percent", -5.81, "percentage points",
                         low=-7.78, high=-3.84)], fields={"direction": "decrease"})],
        rules)
    assert "number_mismatch" not in kinds(findings) and supported


def test_judge_no_direction_read_from_an_open_question(rules):
    """"cannot determine whether less sleep causes dementia" gives dementia no direction."""
    text = ("The authors cautioned that the findings cannot determine whether less sleep causes "
            "dementia, but short sleep is linked to dementia.")
    abstract = [S("Short sleep duration in midlife is associated with an increased risk of dementia.",
                  role="CONCLUSIONS", fields={"kind": "conclusion", "direction": "increase",
                                              "outcome": "dementia"})]
    fields = {"outcome": "dementia", "direction": "increase"}
    unmarked = run([S(text, fields=fields)], abstract, rules)[0]
    marked = run([S(text, fields={**fields, "open_question": "whether less sleep causes dementia"})],
                 abstract, rules)[0]
    assert "direction" in kinds(unmarked)  # "cannot ... less" read as no change
    assert "direction" not in kinds(marked)


def test_judge_review_trials_counted_are_not_a_trial_claim(rules):
    abstract = [S("We did a meta-analysis of randomized controlled trials and cohort studies.",
                  role="METHODS", fields={"kind": "method", "design": ("meta_analysis",)})]
    counted = run([S("Researchers examined 18 randomized controlled trials with 93,000 subjects.",
                     fields={"kind": "method", "design": ("randomized", "trial")})], abstract, rules)[0]
    called = run([S("In the randomized trial, fish oil cut heart attacks.",
                    fields={"design": ("randomized", "trial")})], abstract, rules)[0]
    assert "study_design" not in kinds(counted)
    assert "study_design" in kinds(called)


def test_judge_figure_not_in_abstract_shows_the_closest_sentence(rules):
    findings, _ = run(
        [S("Those who got the morning shot had four times as many antibodies against H1N1.",
           [Q("four times", "ratio", 4.0, "x", relative=True)], fields={"direction": "increase"})],
        [S("The morning group had a larger rise in H1N1 antibody titre (mean difference 293.3).",
           [Q("293.3", "number", 293.3)], fields={"direction": "increase"})], rules)
    f = next(f for f in findings if f.rule_id == "figure-not-in-abstract-v1")
    assert (f.kind, f.severity) == ("not_in_abstract", "low")
    assert f.article_span.text == "Those who got the morning shot had four times as many antibodies against H1N1"
    assert f.abstract_span is not None and "293.3" in f.abstract_span.text


def test_judge_figure_worked_out_from_two_shares_is_supported(rules):
    """"almost twice as likely" from 18.0% against 9.9% in one sentence is in the abstract."""
    findings, _ = run(
        [S("Smokers who switched to e-cigarettes were almost twice as likely to have stopped.",
           [Q("twice", "ratio", 2.0, "x", relative=True, qualifier="~")],
           fields={"direction": "increase"})],
        [S("The one-year abstinence rate was 18.0% in the e-cigarette group and 9.9% in the "
           "nicotine-replacement group.", [Q("18.0%", "percent", 18.0, "%"),
                                           Q("9.9%", "percent", 9.9, "%")])], rules)
    assert "not_in_abstract" not in kinds(findings)


@pytest.mark.parametrize("story,flagged", [
    ("The study found a 9 percent increased breast cancer risk for under a year of use.", True),
    ("They found a 9 percent increased risk, too small to rule out that it was due to chance.",
     False)])
def test_judge_nonsignificant_estimate_told_as_effect(rules, story, flagged):
    significance = None if flagged else "not_significant"
    findings, _ = run(
        [S(story, [Q("9 percent", "percent", 9.0, "%", relative=True)],
           fields={"direction": "increase", "significance": significance})],
        [S("The breast cancer risk was 1.09 (95% CI, 0.96 to 1.23) with less than 1 year of use.",
           [Q("1.09", "number", 1.09, low=0.96, high=1.23)])], rules)
    found = [f for f in findings if f.rule_id == "nonsignificant-told-as-effect-v1"]
    assert bool(found) is flagged
    if flagged:
        assert found[0].kind == "significance" and "0.96 to 1.23" in found[0].message


def _mentioned(text: str, words: str, value: str, role: str) -> Mentioned:
    at = text.index(words)
    return Mentioned(value=value, span=Span(at, at + len(words), words), role=role)


def test_judge_journal_credited_as_institution(rules):
    story = [S("A new study from the Mayo Clinic finds omega-3s lower heart disease risk.",
               fields={"kind": "result"})]
    abstract = [S("Omega-3 intake was associated with a lower risk of coronary heart disease.")]
    def mention(text):
        return StudyMention(institutions=(_mentioned(text, "Mayo Clinic", "Mayo Clinic", "institution"),))
    found = run(story, abstract, rules, mention=mention, journal="Mayo Clinic Proceedings")[0]
    f = next(f for f in found if f.rule_id == "journal-as-institution-v1")
    assert f.article_span.text == "A new study from the Mayo Clinic" and f.severity == "medium"
    other = run(story, abstract, rules, mention=mention, journal="Circulation")[0]
    assert "journal-as-institution-v1" not in [f.rule_id for f in other]


def test_judge_issue_date_of_another_year(rules):
    story = [S("A report in the January 8, 2007 issue of Circulation found low vitamin D raised risk.",
               fields={"kind": "result"})]
    abstract = [S("Vitamin D deficiency was associated with incident cardiovascular disease.")]
    def mention(text):
        return StudyMention(journals=(_mentioned(text, "Circulation", "Circulation", "listed"),))
    found = run(story, abstract, rules, mention=mention, journal="Circulation", year=2008)[0]
    f = next(f for f in found if f.rule_id == "year-mismatch-v1")
    assert f.article_span.text == "January 8, 2007 issue of Circulation"
    assert "journal-mismatch-v1" not in [f.rule_id for f in found]  # "January" is no journal
    same = run(story, abstract, rules, mention=mention, journal="Circulation", year=2007)[0]
    assert "year-mismatch-v1" not in [f.rule_id for f in same]


def test_judge_listed_journal_of_another_paper(rules):
    story = [S("The study, published in JAMA, found coffee drinkers lived longer.",
               fields={"kind": "result"})]
    abstract = [S("Coffee drinking was inversely associated with mortality.")]
    def mention(text):
        return StudyMention(journals=(_mentioned(text, "JAMA", "JAMA", "listed"),))
    found = run(story, abstract, rules, mention=mention, journal="BMJ")[0]
    assert any(f.rule_id == "journal-mismatch-v1" and f.article_span.text == "JAMA" for f in found)
    right = run(story, abstract, rules, mention=mention, journal="JAMA")[0]
    assert "journal-mismatch-v1" not in [f.rule_id for f in right]


def test_judge_count_given_a_sex_the_abstract_does_not(rules):
    abstract = [S("We applied the test to 1005 patients with nonmetastatic cancers of the ovary, "
                  "liver, stomach, pancreas, colorectum or lung.",
                  [Q("1005 patients", "count", 1005, of="patients")], role="METHODS",
                  fields={"kind": "method"})]
    story = [S("Researchers tested the blood test in 1,005 women with early cancers.",
               [Q("1,005 women", "count", 1005, of="women")], fields={"kind": "method"})]
    f = next(f for f in run(story, abstract, rules)[0] if f.rule_id == "population-sex-of-count-v1")
    assert f.article_span.text == "Researchers tested the blood test in 1,005 women with early cancers"
    women = [S("We enrolled 1005 women with breast cancer.",
               [Q("1005 women", "count", 1005, of="women")], role="METHODS",
               fields={"kind": "method", "population_tags": ("female",)})]
    assert "population" not in kinds(run(story, women, rules)[0])


@pytest.mark.parametrize("story,rule", [
    ("The study followed 85,000 women between the ages of 70 and 80.", "population-age-band-v1"),
    ("Participants in this study were 60 years and older.", "population-age-bound-dropped-v1"),
    ("Participants in this study were aged 60 to 84.", None)])
def test_judge_age_band_of_the_people_studied(rules, story, rule):
    abstract = [S("We randomised 21 315 participants aged 60-84 years at enrolment.",
                  [Q("21 315 participants", "count", 21315, of="participants")], role="METHODS",
                  fields={"kind": "method"})]
    found = [f.rule_id for f in run([S(story, fields={"kind": "method"})], abstract, rules)[0]
             if f.kind == "population"]
    assert found == ([rule] if rule else [])


def test_judge_study_credited_with_what_its_conclusion_hedges(rules):
    """"a new study shows that X" is held to the abstract's conclusion, on any wording."""
    abstract = [S("Morning vaccination may be beneficial for the influenza antibody response in "
                  "older adults.", role="CONCLUSIONS", fields={"kind": "conclusion"}, hedges=["may"])]
    shows = run([S("A new study shows that getting the flu shot in the morning provides better "
                   "immunity.", fields={"direction": "increase"})], abstract, rules)[0]
    assert "hedge_dropped" in kinds(shows)
    purpose = run([S("Some participants wore trackers to confirm that their reports were accurate.",
                     fields={"kind": "method"})], abstract, rules)[0]
    assert "hedge_dropped" not in kinds(purpose)


def test_judge_lab_claim_not_held_to_a_hedge_about_people(rules):
    abstract = [S("Ivermectin therefore warrants further investigation for possible benefits in "
                  "humans.", role="CONCLUSIONS", fields={"kind": "conclusion"}, hedges=["possible"])]
    findings, _ = run([S("The study showed that ivermectin stopped the virus from growing in cell "
                         "culture within 48 hours.",
                         fields={"causal_strength": "direct_causal", "causal_cue": "stopped"})],
                      abstract, rules)
    assert "hedge_dropped" not in kinds(findings)


def test_judge_no_link_where_the_abstract_reports_one(rules):
    abstract = [S("Ever use of straightening products was associated with higher incident uterine "
                  "cancer rates (HR = 1.80, 95% CI = 1.12 to 2.88).", role="RESULTS",
                  fields={"direction": "increase", "outcome": "uterine cancer"})]
    story = "The study found no link between hair straighteners and uterine cancer."
    flagged = run([S(story, fields={"direction": "no_change", "outcome": "uterine cancer",
                                    "causal_strength": "no_relationship"})], abstract, rules)[0]
    f = next(f for f in flagged if f.kind == "direction")
    assert "no link" in f.message and f.severity == "high"
    hedged = [S("Straightening products were not clearly associated with uterine cancer "
                "(HR 1.10, 95% CI 0.80 to 1.50).", role="RESULTS",
                fields={"direction": "no_change", "outcome": "uterine cancer",
                        "significance": "not_significant"})]
    assert "direction" not in kinds(run([S(story, fields={
        "direction": "no_change", "outcome": "uterine cancer",
        "causal_strength": "no_relationship"})], hedged, rules)[0])


def test_judge_relative_change_told_as_an_absolute_risk(rules):
    abstract = [S("Permanent dye use was associated with 45% higher breast cancer risk in black women "
                  "(HR = 1.45, 95% CI: 1.10-1.90).", [Q("45%", "percent", 45, "%", relative=True),
                                                      Q("HR = 1.45", "ratio", 1.45, "HR", low=1.10,
                                                        high=1.90)])]
    story = [S("Black women now at 45% risk of breast cancer if they use this.",
               [Q("45%", "percent", 45, "%")], role="title", fields={"direction": "increase"})]
    f = next(f for f in run(story, abstract, rules)[0] if f.rule_id == "relative-told-as-absolute-v1")
    assert (f.kind, f.severity) == ("relative_without_absolute", "high")
    shares = [S("Remission occurred in 4% of patients receiving standard care.",
                [Q("4%", "percent", 4, "%")])]
    told = [S("Only 4 per cent of patients receiving standard care went into remission.",
              [Q("4 per cent", "percent", 4, "%")])]
    assert "relative-told-as-absolute-v1" not in [f.rule_id for f in run(told, shares, rules)[0]]


def test_judge_one_finding_per_quoted_span(rules):
    from factcheck.judge import one_per_span
    from factcheck.types import Finding
    span, other = Span(0, 20, "x" * 20), Span(30, 40, "y" * 10)
    found = [Finding("population", "low", "An age band.", span, rule_id="population-age-bound-dropped-v1"),
             Finding("duration", "medium", "A study length.", span, rule_id="duration-v1"),
             Finding("causal_language", "medium", "Cause and effect.", other, rule_id="causal-from-correlational-v1")]
    order = list(rules.setting("checks"))
    merged = one_per_span(found, order)
    assert [f.rule_id for f in merged] == ["duration-v1", "causal-from-correlational-v1"]
    assert "Also: An age band." in merged[0].message
    assert ("also", "population (population-age-bound-dropped-v1)") in merged[0].details


def test_judge_review_whose_trials_show_nothing(rules):
    """Trials pooled to no significant effect, cohorts to an association: "X lowers risk" is
    causal language, "X linked to lower risk" is right, "X significantly reduces" is wrong."""
    abstract = [
        S("Among RCTs, there was a nonstatistically significant reduction in CHD risk with EPA+DHA "
          "provision (SRRE=0.94; 95% CI, 0.85-1.05).", [Q("0.94", "number", 0.94, low=0.85, high=1.05)],
          fields={"significance": "not_significant", "direction": "decrease", "design": ("randomized",),
                  "outcome": "chd"}),
        S("Meta-analysis of data from prospective cohort studies resulted in a statistically "
          "significant SRRE of 0.82 (95% CI, 0.74-0.92) for higher intakes of EPA+DHA and risk of CHD.",
          [Q("0.82", "number", 0.82, low=0.74, high=0.92)],
          fields={"significance": "significant", "design": ("meta_analysis", "cohort"), "outcome": "chd"})]
    lowers = run([S("EPA and DHA omega-3s lower CHD risk: Study", role="title",
                    fields={"causal_strength": "direct_causal", "causal_cue": "lower",
                            "direction": "decrease", "outcome": "chd"})], abstract, rules)[0]
    assert "causal_language" in kinds(lowers)
    linked = run([S("Omega-3 fatty acids linked to lower risk of CHD", role="title",
                    fields={"causal_strength": "correlational", "direction": "decrease",
                            "outcome": "chd"})], abstract, rules)[0]
    assert not [f for f in linked if f.severity in ("high", "medium")]


def test_judge_list_of_figures_given_to_another_outcome(rules):
    abstract = [S("We show an absolute reduction of 5.7% and 1.2% (USA and UK) in false positives and "
                  "9.4% and 2.7% in false negatives.",
                  [Q("5.7%", "percent", 5.7, "%"), Q("1.2%", "percent", 1.2, "%"),
                   Q("9.4%", "percent", 9.4, "%"), Q("2.7%", "percent", 2.7, "%")])]
    swapped = [S("The AI helped reduce false negatives by 5.7 and 1.2 percent in the US and UK.",
                 [Q("5.7", "number", 5.7), Q("1.2 percent", "percent", 1.2, "%")],
                 fields={"direction": "decrease"})]
    f = next(f for f in run(swapped, abstract, rules)[0] if f.kind == "number_mismatch")
    assert "negatives" in f.message and "positives" in f.message
    right = [S("The AI helped reduce false positives by 5.7 and 1.2 percent in the US and UK.",
               [Q("5.7", "number", 5.7), Q("1.2 percent", "percent", 1.2, "%")],
               fields={"direction": "decrease"})]
    assert "number_mismatch" not in kinds(run(right, abstract, rules)[0])


def test_judge_list_given_to_another_outcome_named_before_its_figures(rules):
    abstract = [S("False positives fell by an absolute 5.7% and 1.2% (USA and UK) and false negatives "
                  "by 9.4% and 2.7%.",
                  [Q("5.7%", "percent", 5.7, "%"), Q("1.2%", "percent", 1.2, "%"),
                   Q("9.4%", "percent", 9.4, "%"), Q("2.7%", "percent", 2.7, "%")])]
    swapped = [S("The system cut false negatives by 5.7 and 1.2 percent in the US and UK.",
                 [Q("5.7", "number", 5.7), Q("1.2 percent", "percent", 1.2, "%")],
                 fields={"direction": "decrease"})]
    assert "number_mismatch" in kinds(run(swapped, abstract, rules)[0])
    right = [S("The system cut false positives by 5.7 and 1.2 percent in the US and UK.",
               [Q("5.7", "number", 5.7), Q("1.2 percent", "percent", 1.2, "%")],
               fields={"direction": "decrease"})]
    assert "number_mismatch" not in kinds(run(right, abstract, rules)[0])
