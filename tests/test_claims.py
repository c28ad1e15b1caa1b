"""Claim extraction: kinds, slots, direction, significance, hedging, causal strength, the seed case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"


def _claim(analyzer, text: str, origin: str = "article", sections=()):
    claims = analyzer.claims(text, origin, sections)
    assert len(claims) == 1, [c.text for c in claims]
    c = claims[0]
    assert text[c.start:c.end] == c.text
    return c


def test_claims_spans_are_exact_and_skip_boilerplate(analyzer) -> None:
    text = ("Aspirin Cuts Bowel Cancer Risk\n"
            "Daily aspirin reduces the risk of bowel cancer, a large trial found. "
            "Subscribe to our newsletter for more health news. "
            "Read our Privacy Policy here.")
    claims = analyzer.claims(text, "article")
    assert [c.text for c in claims] == [
        "Aspirin Cuts Bowel Cancer Risk",
        "Daily aspirin reduces the risk of bowel cancer, a large trial found."]
    for c in claims:
        assert text[c.start:c.end] == c.text
        assert c.origin == "article"


@pytest.mark.parametrize("text,direction", [
    ("Systolic blood pressure fell by 5 mmHg in the treatment group.", "decrease"),
    ("Mortality rose by 12% among smokers.", "increase"),
    ("Naltrexone did not outperform placebo in reducing pain intensity.", "no_change"),
    ("Pain scores did not differ between the groups.", "no_change"),
    ("There was no significant difference in quality of life.", "no_change"),
    ("Quality of life improved in the exercise arm.", "increase"),
    ("The drug was not associated with lower mortality.", "no_change"),
    ("Treatment with tranexamic acid did not result in a statistically significant improvement in "
     "survival at 28 days.", "no_change"),
    ("Vitamin D supplementation did not lead to a lower incidence of invasive cancer.", "no_change"),
    ("Early decompressive surgery did not improve functional outcome at six months.", "no_change"),
    ("Statin use was not associated with an increased risk of dementia.", "no_change"),
    ("Moderate drinking was not significantly associated with a lower risk of death.", "no_change"),
    ("The diet has not translated into fewer heart attacks.", "no_change"),
    ("Coffee drinking was associated with a lower risk of death.", "decrease"),
    ("Those with no history of stroke had a lower risk of dementia.", "decrease"),
])
def test_claims_direction(text, direction, analyzer) -> None:
    assert _claim(analyzer, text).direction == direction


@pytest.mark.parametrize("text,direction", [
    # "saves lives": the direction of the deaths averted, as an abstract's "lower mortality" reads
    ("Aggressive blood sugar control saves lives in people with diabetes, study finds", "decrease"),
    ("The programme saved an estimated 3,000 lives in its first year.", "decrease"),
    ("Drinking coffee protects against early death, a large study suggests.", "decrease"),
    ("Statin slashes heart attacks and strokes in people with normal cholesterol", "decrease"),
    ("A daily pill halves the risk of a second stroke.", "decrease"),
    ("Exercise boosts memory in older adults.", "increase"),
    ("Hospitalized adults recovered faster with remdesivir than with placebo.", "increase"),
    ("Genital infections were more common among people taking empagliflozin.", "increase"),
    ("Cough and high potassium were less common than with enalapril.", "decrease"),
    ("Patients on the drug had fewer strokes.", "decrease"),
    ("Side effects were no more common with ivermectin than with placebo.", "no_change"),
])
def test_claims_direction_news_words(text, direction, analyzer) -> None:
    assert _claim(analyzer, text).direction == direction


def test_claims_negated_result_is_not_significant_and_no_change(analyzer) -> None:
    c = _claim(analyzer, "Treatment with the drug did not result in a statistically significant "
                         "improvement in pain scores.")
    assert (c.direction, c.significance) == ("no_change", "not_significant")
    assert "direction-no-change-negated-result" in c.rule_ids


def test_claims_counted_things_are_not_the_population(analyzer) -> None:
    c = _claim(analyzer, "Two heart drugs helped people with heart failure live longer.")
    assert [(q.kind, q.value, q.of) for q in c.quantities] == [("count", 2, "drugs")]
    assert c.population != "Two heart drugs"


@pytest.mark.parametrize("text,significance", [
    ("Only change in CPM showed a significant between-group difference.", "significant"),
    ("The trial showed no significant pain relief.", "not_significant"),
    ("The difference did not reach statistical significance.", "not_significant"),
    ("Weight fell by 2.1 kg more with semaglutide (P < .001).", "significant"),
    ("Fatigue scores were similar between groups (p = 0.21).", "not_significant"),
    ("A non-significant trend towards fewer falls was seen.", "not_significant"),
])
def test_claims_significance(text, significance, analyzer) -> None:
    assert _claim(analyzer, text).significance == significance


@pytest.mark.parametrize("text,strength", [
    ("Daily aspirin reduces the risk of bowel cancer.", "direct_causal"),
    ("Naltrexone reduced pain scores by a third.", "direct_causal"),
    ("Low-dose naltrexone may reduce pain in fibromyalgia.", "conditional_causal"),
    ("Exercise could help prevent dementia in older adults.", "conditional_causal"),
    ("Coffee drinking was associated with a lower risk of death.", "correlational"),
    ("Night shift work is linked to diabetes.", "correlational"),
    ("Sensitivity analyses showed no association between CPM and pain.", "no_relationship"),
    ("The supplement did not reduce fractures.", "no_relationship"),
])
def test_claims_causal_strength(text, strength, analyzer) -> None:
    assert _claim(analyzer, text).causal_strength == strength


def test_claims_hedges(analyzer) -> None:
    c = _claim(analyzer, "These results suggest that vitamin D might protect against falls.")
    assert c.hedged
    assert {h.text for h in c.hedges} >= {"suggest", "might"}
    assert not _claim(analyzer, "Vitamin D protects against falls.").hedged
    c = _claim(analyzer, "The trial began on 30 May 2020 and enrolled 40 adults.")
    assert not c.hedged  # the month is not a hedge
    c = _claim(analyzer, "Those who drank three or more cups a day were 20 per cent less likely to die.")
    assert not c.hedged and c.direction == "decrease"  # a comparison, not a hedge


def test_claims_subject_comparator_population(analyzer) -> None:
    text = ("In this double-blind trial, 120 adults with type 2 diabetes were randomly assigned "
            "to metformin or placebo for 24 weeks.")
    c = _claim(analyzer, text)
    assert c.subject == "metformin"
    assert c.comparator == "placebo"
    assert c.population == "120 adults with type 2 diabetes"
    assert "adults" in c.population_tags and "human" in c.population_tags
    assert {"double_blind", "randomized", "trial"} <= set(c.design)
    assert c.kind == "method"
    assert any(q.kind == "duration" and q.value == 24 for q in c.quantities)


def test_claims_abbreviation_expands_subject_and_outcome(analyzer) -> None:
    text = ("Low-dose naltrexone (LDN) was compared with placebo on conditioned pain modulation (CPM). "
            "LDN increased CPM by 1.2 kPa.")
    claims = analyzer.claims(text, "abstract")
    last = claims[-1]
    assert last.subject == "low-dose naltrexone"
    assert last.outcome == "conditioned pain modulation"
    assert any(e.label == "ABBREV" and e.norm == "low-dose naltrexone" for e in last.entities)
    assert last.direction == "increase"


@pytest.mark.parametrize("text,tags", [
    ("The drug shrank tumours in mice.", {"animal", "mice"}),
    ("Curcumin killed cancer cells in vitro.", {"in_vitro"}),
    ("Among 2,000 postmenopausal women, fracture risk fell.", {"female", "older_adults"}),
    ("Screen time was linked to poorer sleep in children.", {"children", "human"}),
])
def test_claims_population_tags(text, tags, analyzer) -> None:
    assert tags <= set(_claim(analyzer, text).population_tags)


@pytest.mark.parametrize("text,design", [
    ("This was a prospective cohort study of 5,000 nurses.", {"cohort", "prospective"}),
    ("A meta-analysis of 12 RCTs pooled 8,000 patients.", {"meta_analysis", "randomized"}),
    ("The preprint, which has not yet been peer-reviewed, analysed survey data.", {"preprint", "survey"}),
    ("In a post hoc secondary analysis of the trial,", {"exploratory", "secondary_analysis", "trial"}),
    ("This cross-sectional study used a case-control design.", {"cross_sectional", "case_control"}),
])
def test_claims_design(text, design, analyzer) -> None:
    claims = analyzer.claims(text, "article")
    assert design <= {d for c in claims for d in c.design}


def test_claims_kinds_from_sections(analyzer) -> None:
    background = "Fibromyalgia is thought to involve central sensitization."
    results = "Pain fell by 1.2 points (95% CI 0.4 to 2.0) with the drug."
    conclusions = "Naltrexone may be a useful option for some patients."
    text = "\n".join((background, results, conclusions))
    a = len(background) + 1
    b = a + len(results) + 1
    sections = ((0, a - 1, "BACKGROUND"), (a, b - 1, "RESULTS"), (b, len(text), "CONCLUSIONS"))
    claims = analyzer.claims(text, "abstract", sections)
    assert [(c.kind, c.section) for c in claims] == [
        ("background", "BACKGROUND"), ("result", "RESULTS"), ("conclusion", "CONCLUSIONS")]


@pytest.mark.parametrize("text,kind", [
    ("“This is a really important finding for patients,” said Dr Jane Smith, who led the study.", "quote"),
    ("We conclude that the effect is small and uncertain.", "conclusion"),
    ("Participants were randomly assigned to yoga or usual care.", "method"),
    ("The drug lowered LDL cholesterol by 38 mg/dL.", "result"),
])
def test_claims_kind_without_sections(text, kind, analyzer) -> None:
    assert _claim(analyzer, text).kind == kind


def test_claims_split_opposite_directions(analyzer) -> None:
    text = "The LDN group had a rise of 1.2 kPa, whereas the placebo group may have seen a drop of 0.8 kPa."
    claims = analyzer.claims(text, "article")
    assert [c.direction for c in claims] == ["increase", "decrease"]
    assert [c.hedged for c in claims] == [False, True]
    assert claims[1].text.startswith("whereas")
    assert [q.value for c in claims for q in c.quantities] == [1.2, 0.8]


def test_claims_rule_ids_recorded(analyzer) -> None:
    c = _claim(analyzer, "Low-dose naltrexone did not outperform placebo.")
    assert "direction-no-change-negated-verb" in c.rule_ids
    assert "causal-none-did-not" in c.rule_ids


# --- the seed case (third-party text: read by path, never copied) ----------------------------------

@pytest.fixture(scope="module")
def seed():
    if not (SEED / "story.txt").is_file():
        pytest.skip("shared/seed is absent")
    story = (SEED / "story.txt").read_text("utf-8")
    paper = json.loads((SEED / "paper.json").read_text("utf-8"))
    parts, sections, pos = [], [], 0
    for part in paper["abstract"]:
        parts.append(part["text"])
        sections.append((pos, pos + len(part["text"]), part["label"]))
        pos += len(part["text"]) + 1
    return story, "\n".join(parts), tuple(sections)


def _quantities(claims):
    return [(c, q) for c in claims for q in c.quantities]


def test_claims_seed_story(seed, analyzer) -> None:
    story, _, _ = seed
    claims = analyzer.claims(story, "article")
    qs = _quantities(claims)
    assert any(q.kind == "count" and q.value == 99 and q.of == "patients" for _, q in qs)
    assert any(q.kind == "duration" and q.value == 12 and q.unit == "week" for _, q in qs)
    counts = [q.value for _, q in qs if q.kind == "count" and q.of == "individuals"]
    assert counts == [45, 47]
    rise = [(c, q) for c, q in qs if q.value == 1.2 and q.unit == "kPa"]
    drop = [(c, q) for c, q in qs if q.value == 0.8 and q.unit == "kPa"]
    assert rise and rise[0][0].direction == "increase" and not rise[0][0].hedged
    assert drop and drop[0][0].direction == "decrease" and drop[0][0].hedged
    assert "may" in {h.text.split()[0] for h in drop[0][0].hedges}
    headline = claims[0]
    assert headline.text.startswith("Low-Dose Naltrexone")
    assert headline.significance == "not_significant"
    assert headline.subject == "low-dose naltrexone"
    assert not any("Disclaimer" in c.text or "Privacy Policy" in c.text for c in claims)
    patients = next(c for c, q in qs if q.kind == "count" and q.value == 99)
    assert {"randomized", "placebo_controlled"} <= set(patients.design)
    assert patients.population == "99 fibromyalgia patients"


def test_claims_seed_abstract(seed, analyzer) -> None:
    _, abstract, sections = seed
    claims = analyzer.claims(abstract, "abstract", sections)
    for c in claims:
        assert abstract[c.start:c.end] == c.text
    qs = _quantities(claims)
    women = [(c, q) for c, q in qs if q.kind == "count" and q.value == 99]
    assert women and women[0][1].of == "women"
    method = women[0][0]
    assert method.section == "METHODS" and method.kind == "method"
    assert {"randomized", "placebo_controlled"} <= set(method.design)
    assert method.population == "99 women with fibromyalgia"
    assert "female" in method.population_tags

    def point(value):
        return next((c, q) for c, q in qs if q.value == value and q.unit == "kPa" and q.kind != "ci")

    c, q = point(2.0)
    assert (q.low, q.high) == (0.4, 3.7)
    assert c.significance == "significant"
    c, q = point(1.2)
    assert (q.low, q.high) == (0.05, 2.4) and c.direction == "increase" and not c.hedged
    c, q = point(0.8)
    assert (q.low, q.high) == (-1.9, 0.4) and c.direction == "decrease"
    assert c.hedged and [h.text for h in c.hedges] == ["possible"]
    assert any("significant between-group difference" in c.text and c.significance == "significant"
               and c.kind == "conclusion" for c in claims)
    random_finding = next(c for c in claims if "random finding" in c.text)
    assert random_finding.hedged and "suggesting" in [h.text for h in random_finding.hedges]
    assert random_finding.causal_strength == "no_relationship"
    assert any(c.subject == "low-dose naltrexone" for c in claims)


@pytest.mark.parametrize("text,strength", [
    ("Further studies are needed to determine whether coffee prevents dementia.", None),
    ("Serum folate levels were lower in patients with acne.", "correlational"),
    ("Smokers were twice as likely to develop lung cancer.", "correlational"),
    ("The intervention was effective in reducing BMI.", "direct_causal"),
    ("GSTM1-null may contribute to the course of diabetes.", "conditional_causal"),
    ("Pay for performance had no discernible effect on outcomes.", "no_relationship"),
])
def test_claims_causal_strength_cues(text, strength, analyzer) -> None:
    assert _claim(analyzer, text).causal_strength == strength


@pytest.mark.parametrize("text,strength", [
    # a hedge that ends inside the cue ("could be" + "be efficacious") still makes it conditional
    ("Use of the urgent referral pathway could be efficacious.", "conditional_causal"),
    # half of a compound adjective is not an association: 'violence-related injuries'
    ("Higher alcohol prices would substantially reduce violence-related injuries.", "direct_causal"),
    # an open question's scope ends at its phrase; the finding after it is asserted
    ("In the first study to investigate the impact of abuse on children, scientists found that "
     "exposure was associated with brain activity.", "correlational"),
    ("Emergency department target may not have improved patient care.", "no_relationship"),
    ("Pay for performance targets are failing to improve the health of patients.", "no_relationship"),
    ("Most off-label antidepressant prescriptions lack strong scientific evidence.", "no_relationship"),
    ("Use of the urgent referral pathway is saving lives.", "direct_causal"),
])
def test_claims_causal_strength_press_phrasing(text, strength, analyzer) -> None:
    assert _claim(analyzer, text).causal_strength == strength


@pytest.mark.parametrize("text,strength,cue", [
    # news headlines: "can" before an effect verb states the effect, it does not hedge it
    ("Diet soda can increase risk of dementia and stroke.", "direct_causal", "can increase"),
    ("Blood pressure drugs can halve risk of dementia, say researchers.", "direct_causal", "can halve"),
    ("Birth control pills raise breast cancer risk.", "direct_causal", "raise"),
    ("Drinking coffee cuts your risk of early death, a large study shows.", "direct_causal", "cuts"),
    ("The drugs play a key role in delaying the symptoms of dementia.", "direct_causal", None),
    # a hedge keeps it conditional; a comparison or a noun is no causal verb
    ("Diet soda may increase the risk of dementia.", "conditional_causal", "may increase"),
    ("Coffee drinkers had a 10 per cent lower risk of death, a large study shows.", "correlational", None),
    ("Age at initiation was not a decisive determinant for the increase in risk.", None, None),
])
def test_claims_causal_strength_and_cue(analyzer, text, strength, cue) -> None:
    c = _claim(analyzer, text)
    assert c.causal_strength == strength
    if strength is not None:
        assert c.causal_cue is not None and text[c.causal_cue.start:c.causal_cue.end] == c.causal_cue.text
    if cue is not None:
        assert c.causal_cue.text == cue


def test_claims_earlier_research_is_background(analyzer) -> None:
    c = _claim(analyzer, "Previous research has linked omega-3s to a lower risk of abnormal heartbeats.")
    assert c.kind == "background"


def test_claims_a_majority_is_no_restriction(analyzer) -> None:
    c = _claim(analyzer, "We studied 819 491 predominantly male participants (98%) aged 65 or more.")
    assert "male" not in c.population_tags
    assert "male" in _claim(analyzer, "We studied 1,200 male participants aged 65 or more.").population_tags


def test_claims_open_question_is_marked(analyzer) -> None:
    text = ("While the authors cautioned that the findings cannot determine whether less sleep causes "
            "dementia, they said too little sleep is linked to the condition.")
    c = _claim(analyzer, text)
    assert c.open_question is not None
    assert c.open_question.text == "whether less sleep causes dementia"


def test_claims_finding_credited_to_the_study_is_a_result(analyzer) -> None:
    c = _claim(analyzer, "The study found no link between hair straighteners and uterine cancer, a "
                         "cancer that has been on the rise in recent years.")
    assert (c.kind, c.causal_strength) == ("result", "no_relationship")
