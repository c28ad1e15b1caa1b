"""The quantity finder: numbers, units, intervals, p-values, counts and durations with exact spans."""

from __future__ import annotations

import pytest

from factcheck.nlp.quantities import build_finder, convert, find_quantities, parse_number, pint_names
from factcheck.rules import load_rules


@pytest.fixture(scope="module")
def finder():
    return build_finder(load_rules())


def _one(text: str, finder, kind: str | None = None):
    found = [q for q in find_quantities(text, finder) if kind is None or q.kind == kind]
    assert len(found) == 1, found
    q = found[0]
    assert text[q.span.start:q.span.end] == q.span.text
    return q


@pytest.mark.parametrize("text,value", [
    ("1,203", 1203.0), ("−1.9", -1.9), ("-0.4", -0.4), (".001", 0.001), ("ninety-nine", 99.0),
    ("twelve", 12.0), ("1.2 million", 1_200_000.0), ("forty two", 42.0),
])
def test_quantities_parse_number(text: str, value: float, finder) -> None:
    assert parse_number(text, finder) == pytest.approx(value)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "1e5", "0x10"])
def test_quantities_parse_number_is_finite_digits_only(text: str, finder) -> None:
    """What float() would take but a story's number never is: not a number."""
    assert parse_number(text, finder) is None


@pytest.mark.parametrize("text,span,value,of", [
    ("In the trial, 99 women with fibromyalgia were treated.", "99 women", 99, "women"),
    ("The cohort included 1,203 adults aged over 65.", "1,203 adults", 1203, "adults"),
    ("For 12 weeks, 99 fibromyalgia patients received either drug.", "99 fibromyalgia patients", 99, "patients"),
    ("Ninety-nine volunteers took part.", "Ninety-nine volunteers", 99, "volunteers"),
    ("The study followed 300 healthy older adults.", "300 healthy older adults", 300, "adults"),
    ("Outcomes were analysed (n = 45).", "n = 45", 45, "participants"),
    # journal style: thousands grouped by a space (BMJ, Annals), thin or no-break spaces too
    ("We followed 657 461 children born in Denmark.", "657 461 children", 657461, "children"),
    ("Data on 33\u2009947 women were analysed.", "33\u2009947 women", 33947, "women"),
    ("vitamin D3 (n=10 662) or placebo", "n=10 662", 10662, "participants"),
])
def test_quantities_counts(text, span, value, of, finder) -> None:
    q = _one(text, finder, "count")
    assert (q.span.text, q.value, q.of) == (span, value, of)


def test_quantities_a_portion_of_a_thing_is_no_share(finder) -> None:
    """"half a tablespoon" and "half the optimal level" are no percentages; "a quarter of" is ~25%."""
    assert not [q for q in find_quantities("who consumed more than half a tablespoon a day", finder)
                if q.kind == "percent"]
    assert not find_quantities("levels that were less than half the optimal level", finder)
    q = _one("a quarter of those on the diet", finder, "percent")
    assert (q.value, q.qualifier) == (25.0, "~")


def test_quantities_times_as_likely_is_a_ratio(finder) -> None:
    q = _one("were nearly three times as likely to have a stroke", finder, "ratio")
    assert (q.span.text, q.value, q.relative) == ("three times", 3.0, True)
    assert not [q for q in find_quantities("it was tried three times in 2010", finder) if q.kind == "ratio"]


def test_quantities_space_grouping_needs_whole_groups(finder) -> None:
    """A space joins digits only as a full group of three: years and lists stay apart."""
    values = [q.value for q in find_quantities("Between 2003 and 2009 100 women and 12 34 men.", finder)
              if q.kind == "count"]
    assert 2009100 not in values and 1234 not in values and 100 in values


def test_quantities_versus_counts(finder) -> None:
    text = "in the complete case population (45 versus 47 participants)."
    counts = [q for q in find_quantities(text, finder) if q.kind == "count"]
    assert [(q.span.text, q.value, q.of) for q in counts] == [
        ("45", 45, "participants"), ("47 participants", 47, "participants")]


@pytest.mark.parametrize("text,span,value,unit", [
    ("Patients were treated for 12 weeks.", "12 weeks", 12, "week"),
    ("After three months of treatment,", "three months", 3, "month"),
    ("at the 2-year follow-up visit", "2-year", 2, "year"),
    ("using the 30-second chair stand test", "30-second", 30, "second"),
    ("using the 30-s chair stand test", "30-s", 30, "second"),
    ("Participants slept 7 hours a night.", "7 hours", 7, "hour"),
])
def test_quantities_durations(text, span, value, unit, finder) -> None:
    q = _one(text, finder, "duration")
    assert (q.span.text, q.value, q.unit) == (span, value, unit)


@pytest.mark.parametrize("text,value,unit,low,high", [
    ("greater enhancement (2.0 kPa; 95% confidence interval (CI) 0.4-3.7 kPa) with LDN", 2.0, "kPa", 0.4, 3.7),
    ("an increase of 1.2 kPa (95% CI 0.05-2.4 kPa) in the LDN group", 1.2, "kPa", 0.05, 2.4),
    ("a possible decrease of 0.8 kPa (95% CI −1.9 to 0.4 kPa)", 0.8, "kPa", -1.9, 0.4),
    ("a decrease of 0.8 kPa (95% CI -1.9 to 0.4 kPa)", 0.8, "kPa", -1.9, 0.4),
    ("a decrease of 0.8 kPa (95% CI –1.9 – 0.4 kPa)", 0.8, "kPa", -1.9, 0.4),
    ("HR 0.82; 95% CI, 0.71 to 0.95", 0.82, "HR", 0.71, 0.95),
    ("hazard ratio 0.82 (95% CI 0.71–0.95)", 0.82, "HR", 0.71, 0.95),
    ("odds ratio of 1.4 [1.1; 1.9]", 1.4, "OR", 1.1, 1.9),
    ("RR 0.75 (95% CI: 0.60, 0.93)", 0.75, "RR", 0.60, 0.93),
    ("systolic pressure fell by 5.1 mmHg (95% CI 2.0 to 8.2)", 5.1, "mmHg", 2.0, 8.2),
    ("SMD −0.35 (95% CrI −0.60 to −0.10)", -0.35, "SMD", -0.60, -0.10),
    ("deaths fell (hazard ratio [HR], 0.49; 95% CI, 0.44-0.55) with the drug", 0.49, "HR", 0.44, 0.55),
    ("hazard ratio [HR], 0.49; 95% CI, 0.44-0.55", 0.49, "HR", 0.44, 0.55),
    ("(odds ratio [OR], 1.62; 95% CI, 1.10 to 2.38)", 1.62, "OR", 1.10, 2.38),
    ("relative risk, 0.90; 95% Bayesian credible interval, 0.70 to 1.16", 0.90, "RR", 0.70, 1.16),
])
def test_quantities_confidence_intervals(text, value, unit, low, high, finder) -> None:
    found = find_quantities(text, finder)
    point = [q for q in found if q.kind != "ci"]
    ci = [q for q in found if q.kind == "ci"]
    assert len(point) == 1 and len(ci) == 1, found
    assert (point[0].value, point[0].unit) == (pytest.approx(value), unit)
    assert (point[0].low, point[0].high) == (pytest.approx(low), pytest.approx(high))
    assert (ci[0].low, ci[0].high) == (pytest.approx(low), pytest.approx(high))
    assert ci[0].span.start > point[0].span.start
    assert text[ci[0].span.start:ci[0].span.end] == ci[0].span.text


def test_quantities_ci_level(finder) -> None:
    ci = _one("mean difference 2.0 (90% CI 0.4 to 3.7)", finder, "ci")
    assert ci.value == 90.0


@pytest.mark.parametrize("text,value,qualifier", [
    ("P < .001", 0.001, "<"), ("p=0.03", 0.03, None), ("(P = .21)", 0.21, None),
    ("P<.001", 0.001, "<"), ("p ≤ 0.05", 0.05, "<="), ("p-value of 0.04", 0.04, None),
])
def test_quantities_p_values(text, value, qualifier, finder) -> None:
    q = _one(text, finder, "p_value")
    assert (q.value, q.qualifier) == (pytest.approx(value), qualifier)


@pytest.mark.parametrize("text,span,value,unit,relative", [
    ("Mortality was 12% in the drug group.", "12%", 12, "%", False),
    ("a 50% lower risk of dementia", "50%", 50, "%", True),
    ("an absolute difference of 5 percentage points", "5 percentage points", 5, "percentage points", False),
    ("Twenty per cent of children", "Twenty per cent", 20, "%", False),
    ("One in five adults reported pain.", "One in five", 20, "%", None),
    ("Half of patients improved.", "Half", 50, "%", None),
    ("a third of participants dropped out", "a third", 33.33, "%", None),
    ("two thirds of women", "two thirds", 66.67, "%", None),
    ("Nine in ten adults over 65 take at least one prescription drug.", "Nine in ten", 90, "%", None),
    ("seven in 10 patients stopped the drug within a year", "seven in 10", 70, "%", None),
])
def test_quantities_percentages(text, span, value, unit, relative, finder) -> None:
    q = _one(text, finder, "percent")
    assert (q.span.text, q.value, q.unit, q.relative) == (span, pytest.approx(value), unit, relative)


@pytest.mark.parametrize("text,span,value", [
    ("The drug halved the number of attacks.", "halved", 0.5),
    ("Rates doubled over a decade.", "doubled", 2.0),
    ("a three-fold higher risk", "three-fold", 3.0),
    ("a 3-fold increase", "3-fold", 3.0),
    ("twice as likely to relapse", "twice", 2.0),
])
def test_quantities_multipliers(text, span, value, finder) -> None:
    q = _one(text, finder, "ratio")
    assert (q.span.text, q.value, q.unit, q.relative) == (span, value, "x", True)


@pytest.mark.parametrize("text,span,value,unit", [
    ("LDL fell by 38 mg/dl.", "38 mg/dl", 38, "mg/dL"),
    ("HbA1c dropped 5 mmol/mol", "5 mmol/mol", 5, "mmol/mol"),
    ("blood pressure 135 mm Hg", "135 mm Hg", 135, "mmHg"),
    ("lost 4.5 kg on average", "4.5 kg", 4.5, "kg"),
    ("lost 10 pounds", "10 pounds", 10, "lb"),
    ("2,000 IU of vitamin D daily", "2,000 IU", 2000, "IU"),
    ("4.5mg of naltrexone", "4.5mg", 4.5, "mg"),
    ("12.5 per 100,000 person-years", "12.5 per 100,000", 12.5, "per 100,000"),
])
def test_quantities_measures(text, span, value, unit, finder) -> None:
    q = _one(text, finder, "measure")
    assert (q.span.text, q.value, q.unit) == (span, value, unit)


@pytest.mark.parametrize("text,qualifier,value", [
    ("nearly 100 children", "~", 100), ("more than 1,200 adults", ">", 1200),
    ("at least 45 women", ">=", 45), ("fewer than 30 patients", "<", 30), ("up to 12 weeks", "<=", 12),
])
def test_quantities_qualifiers(text, qualifier, value, finder) -> None:
    q = _one(text, finder)
    assert (q.qualifier, q.value) == (qualifier, value)


@pytest.mark.parametrize("text,low,high,unit", [
    ("women aged 45-60 years", 45, 60, "year"),
    ("women aged 45 to 60 years", 45, 60, "year"),
    ("between 45 and 60 years old", 45, 60, "year"),
])
def test_quantities_ranges(text, low, high, unit, finder) -> None:
    q = _one(text, finder)
    assert (q.low, q.high, q.unit, q.value) == (low, high, unit, None)


@pytest.mark.parametrize("text,span,value,unit,low,high", [
    ("Participants took the supplement or a placebo for a year.", "a year", 1, "year", None, None),
    ("Rates of obesity in children rose sharply over a decade.", "a decade", 1, "decade", None, None),
    ("Those who stayed on the drug for more than a month lost more weight.", "a month", 1, "month", None, None),
    ("In a six-month trial, 120 adults took the pill.", "six-month", 6, "month", None, None),
    ("Symptoms eased after two to three months of treatment.", "two to three months", None, "month", 2, 3),
    ("Patients were treated for three to five months.", "three to five months", None, "month", 3, 5),
    ("Patients were treated for 3-5 months.", "3-5 months", None, "month", 3, 5),
    ("twenty-five to thirty years of follow-up", "twenty-five to thirty years", None, "year", 25, 30),
])
def test_quantities_durations_in_words(text, span, value, unit, low, high, finder) -> None:
    q = _one(text, finder, "duration")
    assert (q.span.text, q.value, q.unit, q.low, q.high) == (span, value, unit, low, high)


@pytest.mark.parametrize("text", [
    "Take one tablet twice a day with food.",
    "The NHS spends £1.2 million a year on the drug.",
    "The results were published a year later.",
    "For every 10,000 women taking the hormones for a year, there were seven more heart attacks.",
    "Sessions were run one-to-one by a nurse.",
])
def test_quantities_no_duration(text, finder) -> None:
    assert not [q for q in find_quantities(text, finder) if q.kind == "duration" or q.low is not None]


@pytest.mark.parametrize("text", [
    "The trial ran from 30 May 2020 to 1 June 2021.", "Enrolment ran 30 May 2020 to 1 June 2021.",
    "Recruitment took place from May 2019 to 30 June 2020.",
])
def test_quantities_date_spans_are_not_ranges(text, finder) -> None:
    assert find_quantities(text, finder) == ()


@pytest.mark.parametrize("text,span,value,of", [
    ("Two heart drugs helped people with heart failure live longer.", "Two heart drugs", 2, "drugs"),
    ("The 10 hospitals enrolled 500 patients.", "10 hospitals", 10, "hospitals"),
])
def test_quantities_count_noun_follows_closely(text, span, value, of, finder) -> None:
    counts = [q for q in find_quantities(text, finder) if q.kind == "count"]
    assert (counts[0].span.text, counts[0].value, counts[0].of) == (span, value, of)
    assert not any(q.of == "people" for q in counts)


@pytest.mark.parametrize("text,count", [
    ("There were 3.2 events per 1,000 participant-years in the statin group.", None),
    ("Incidence per 1,000 person-years was higher among smokers.", None),
    ("The cohort contributed over 1,000 participant years of follow-up.", None),
    ("There was one death per 1,000 patients treated.", None),
    ("In total, 120 diabetes patients took part.", 120),
])
def test_quantities_person_time_is_not_a_count(text, count, finder) -> None:
    counts = [q.value for q in find_quantities(text, finder) if q.kind == "count"]
    assert counts == ([count] if count else [])


def test_quantities_events_per_person_years(finder) -> None:
    q = _one("There were 3.2 events per 1,000 participant-years.", finder)
    assert (q.kind, q.value, q.unit, q.of) == ("measure", 3.2, "per 1,000", "events")


def test_quantities_mean_sd(finder) -> None:
    found = find_quantities("baseline CPM was 3.2 ± 1.1 kPa", finder)
    mean = [q for q in found if q.of != "sd"][0]
    sd = [q for q in found if q.of == "sd"][0]
    assert (mean.value, mean.unit, mean.span.text) == (3.2, "kPa", "3.2 ± 1.1 kPa")
    assert sd.value == 1.1


def test_quantities_money(finder) -> None:
    q = _one("The NHS spends £1.2 million a year.", finder, "money")
    assert (q.value, q.unit) == (1_200_000, "GBP")


@pytest.mark.parametrize("text", [
    "COVID-19 vaccines and IL-6 levels", "registered on 30 January 2020", "NCT0427877",
    "https://doi.org/10.1007/s40263-025-01183-7", "published in 2025", "one of the outcomes",
    "adults with type 2 diabetes", "as Figure 2 shows", "a phase 3 trial", "enrolled by 30 May 2020",
])
def test_quantities_ignores_names_dates_and_ids(text, finder) -> None:
    assert find_quantities(text, finder) == ()


def test_quantities_change_from_to_is_two_numbers(finder) -> None:
    found = find_quantities("systolic pressure fell from 140 to 135 mmHg", finder)
    assert [q.value for q in found] == [140, 135]


@pytest.mark.parametrize("value,src,dst,expected", [
    (1.0, "kPa", "mmHg", 7.5006), (2.0, "lb", "kg", 0.9072), (12, "week", "day", 84),
    (5, "mmHg", "mmHg", 5),
])
def test_quantities_convert(value, src, dst, expected) -> None:
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("src,dst", [("mg/dL", "mmol/L"), ("kPa", "week"), ("IU", "mg"), ("%", "percentage points")])
def test_quantities_convert_refuses(src, dst) -> None:
    assert convert(1.0, src, dst) is None


@pytest.mark.parametrize("text,low,high", [
    ("participants aged 40 to 69", 40, 69), ("volunteers aged 18-35", 18, 35),
    ("The 566,398 men and women, aged 50 to 71 years, filled in a questionnaire.", 50, 71),
    ("Retired people aged 50 to 71 were invited by post.", 50, 71),
    ("The trial enrolled 50- to 71-year-olds.", 50, 71),
])
def test_quantities_ages(text, low, high, finder) -> None:
    q = _one(text, finder, "measure")
    assert (q.kind, q.unit, q.of, q.low, q.high) == ("measure", "year", "age", low, high)


def test_quantities_absolute_cue_wins(finder) -> None:
    found = find_quantities("admissions fell from 14.2% to 9.8% (an absolute risk reduction)", finder)
    assert [q.relative for q in found] == [False, False]


@pytest.mark.parametrize("text", ["rose by 12.5% points", "rose by 12.5 % points"])
def test_quantities_percent_points_symbol(text, finder) -> None:
    q = _one(text, finder, "percent")
    assert (q.value, q.unit, q.relative) == (12.5, "percentage points", False)


def test_quantities_from_to_change_is_two_numbers_not_a_range(analyzer):
    found = analyzer.quantities("The drug brought it down from a median of 92 to 30 millimoles "
                                "per litre.")
    assert [(q.value, q.unit) for q in found] == [(92.0, None), (30.0, "mmol/L")]
    ranged = analyzer.quantities("Doses of 12 to 24 mg a day were given.")
    assert ranged[0].low == 12.0 and ranged[0].high == 24.0


@pytest.mark.parametrize("value,src,dst,expected", [
    (1.0, "decade", "day", 3652.5), (18, "month", "year", 1.5), (30, "mmol/L", "mmol/L", 30),
    (2.0, "%", "%", 2.0), (3.0, "kg/m²", "kg/m²", 3.0)])
def test_quantities_convert_through_the_units_table(value, src, dst, expected) -> None:
    assert convert(value, src, dst, pint_names(load_rules())) == pytest.approx(expected, rel=1e-3)


def test_quantities_points_are_not_percent_in_the_units_table() -> None:
    names = pint_names(load_rules())
    assert names["percentage points"] is None
    assert convert(5.0, "percentage points", "%", names) is None


def test_quantities_ci_with_bracketed_abbreviation(finder) -> None:
    found = find_quantities("(hazard ratio, 0.56; 95% confidence interval [CI], 0.46 to 0.69)",
                            finder)
    hr = next(q for q in found if q.kind == "ratio")
    assert (hr.value, hr.low, hr.high) == (0.56, 0.46, 0.69)
    assert not [q for q in found if q.kind == "percent"]  # the 95 is the CI's level


@pytest.mark.parametrize("unit", ["a", "a@", "1.", "a-"])
def test_quantities_time_grows_linearly_on_adversarial_text(unit, finder) -> None:
    """10x the text takes about 10x the time (a quadratic pattern would take about 100x): long
    runs with no space, the shape that made the e-mail mask take 11 s on 64 KB."""
    import time

    def best(text: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            find_quantities(text, finder)
            times.append(time.perf_counter() - started)
        return min(times)

    small, large = unit * (10_000 // len(unit)), unit * (100_000 // len(unit))
    ratio = best(large) / max(best(small), 1e-4)
    assert ratio < 35, f"100 KB took {ratio:.0f}x the time of 10 KB"
