"""Every rule file loads; lexicons are sorted and unique; every pattern's examples match its rule."""

from __future__ import annotations

import json

import pytest

from factcheck.rules import load_lexicon, load_rules, rules_dir

RULES = load_rules()
PATTERNS = [p for p in RULES.patterns if p.path.endswith(".jsonl") and "/claims/" in p.path]


def test_rules_every_file_loads() -> None:
    rules = load_rules()
    assert rules.patterns
    for name in ("hedges", "negations", "drugs", "outcomes", "conditions", "count_nouns", "comparators"):
        assert rules.lexicon(name)
    for name in ("units", "number_words", "ratio_terms", "direction", "population", "design",
                 "approximations", "currencies"):
        assert rules.table(name)
    assert 0 < rules.setting("nlp")["significance"]["alpha"] < 1


@pytest.mark.parametrize("path", sorted(rules_dir().rglob("*.txt")), ids=lambda p: p.name)
def test_rules_lexicon_sorted_lowercase_unique(path) -> None:
    terms = [line.strip() for line in path.read_text("utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert terms == sorted(set(terms)), "terms must be sorted and unique"
    assert all(t == t.lower() for t in terms)
    assert load_lexicon(path) == frozenset(terms)


@pytest.mark.parametrize("path", sorted(p for ext in ("txt", "tsv", "jsonl", "toml")
                                        for p in rules_dir().rglob(f"*.{ext}")), ids=lambda p: p.name)
def test_rules_file_starts_with_comment(path) -> None:
    assert path.read_text("utf-8").startswith("#"), f"{path.name} must open with a comment"


@pytest.mark.parametrize("path", sorted(rules_dir().rglob("*.tsv")), ids=lambda p: p.name)
def test_rules_table_rows_match_header(path) -> None:
    table = RULES.table(path.stem)
    assert table
    header = set(table[0])
    optional = {"pint", "aliases"}  # units without a pint name; journals without an alias
    assert all(set(row) == header and all(v != "" or k in optional for k, v in row.items())
               for row in table)


def test_rules_jsonl_ids_unique_and_documented() -> None:
    ids = [p.id for p in RULES.patterns]
    assert len(ids) == len(set(ids))
    for p in PATTERNS:
        assert p.note, f"{p.id} needs a note"
        assert p.examples, f"{p.id} needs at least one example"


def test_rules_jsonl_lines_are_objects() -> None:
    for path in rules_dir().joinpath("claims").glob("*.jsonl"):
        for line in path.read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                assert isinstance(json.loads(line), dict)


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.id)
def test_rules_examples_match(pattern, analyzer) -> None:
    for sentence in pattern.examples:
        fired = {rule for _, rule, _ in analyzer.matches(sentence)}
        assert pattern.id in fired, f"{pattern.id} should match: {sentence!r}"
    for sentence in pattern.counter_examples:
        fired = {rule for _, rule, _ in analyzer.matches(sentence)}
        assert pattern.id not in fired, f"{pattern.id} should not match: {sentence!r}"


def test_rules_units_have_known_kinds() -> None:
    kinds = {row["kind"] for row in RULES.table("units")}
    assert kinds <= {"percent", "measure", "duration"}
    assert {row["attach"] for row in RULES.table("units")} <= {"any", "space"}


def test_rules_direction_values() -> None:
    assert {row["direction"] for row in RULES.table("direction")} <= {"increase", "decrease", "no_change"}
    for p in RULES.patterns_for("CAUSAL"):
        assert p.attrs["strength"] in {"direct_causal", "conditional_causal", "correlational",
                                       "no_relationship"}
    for p in RULES.patterns_for("SIGNIFICANCE"):
        assert p.attrs["significance"] in {"significant", "not_significant"}


# --- lexicon examples: rules/examples/<lexicon>.examples.tsv -----------------------------------------

EXAMPLE_LABELS = {"drugs": "DRUG", "outcomes": "OUTCOME", "conditions": "CONDITION", "comparators": "COMPARATOR",
                  "hedges": "HEDGE", "negations": "NEGATION", "hedge_exceptions": "HEDGE_EXCEPTION",
                  "population": "POPULATION", "design": "DESIGN", "direction": "DIRECTION_WORD"}


def _terms(name: str) -> set[str]:
    if name in RULES.lexicons:
        return set(RULES.lexicon(name))
    return {row["term"].lower() for row in RULES.table(name)}


@pytest.mark.parametrize("name", sorted(EXAMPLE_LABELS))
def test_rules_every_lexicon_term_has_an_example(name) -> None:
    examples = RULES.table(f"{name}.examples")
    assert _terms(name) <= {row["term"] for row in examples}, "terms without an example row"
    for row in examples:
        assert row["term"] in row["example"].lower(), row


@pytest.mark.parametrize("name", sorted(EXAMPLE_LABELS))
def test_rules_lexicon_examples_match(name, analyzer) -> None:
    label = EXAMPLE_LABELS[name]
    missed = []
    for row in RULES.table(f"{name}.examples"):
        found = {span.text.lower() for lab, _, span in analyzer.matches(row["example"]) if lab == label}
        if row["term"] not in found:
            missed.append(row["term"])
    assert not missed, f"{name}: not labelled {label} in their example: {missed}"


def test_rules_hyphen_split_examples(analyzer) -> None:
    rows = RULES.table("hyphen_split_suffixes.examples")
    assert set(RULES.lexicon("hyphen_split_suffixes")) <= {row["term"] for row in rows}
    for row in rows:
        tokens = [t.lower_ for t in analyzer.nlp.make_doc(row["example"])]
        assert row["term"] in tokens, row
        assert any(label == "DRUG" for label, _, _ in analyzer.matches(row["example"])), row


QUANTITY_TABLES = {"units": "alias", "ratio_terms": "alias", "approximations": "phrase",
                   "number_words": "word", "currencies": "symbol"}


@pytest.mark.parametrize("name", sorted(QUANTITY_TABLES))
def test_rules_quantity_table_examples(name, analyzer) -> None:
    """Every quantity-table entry read in a sentence: `<value> <alias>` etc. finds a quantity using it."""
    column = QUANTITY_TABLES[name]
    missed = []
    for row in RULES.table(name):
        term = row[column]
        if name == "units":
            texts = [f"The mean was 12.5 {term} at follow-up."]
            if row["attach"] == "any" and len(term) > 1:
                texts.append(f"The mean was 12.5{term} at follow-up.")
            text = " / ".join(texts)
            ok = all(any(q.unit == row["canonical"] for q in analyzer.quantities(t)) for t in texts)
        elif name == "ratio_terms":
            text = f"The {term} was 0.82 (95% CI 0.71 to 0.95)."
            ok = any(q.kind == "ratio" and q.unit == row["canonical"] and q.low == 0.71
                     for q in analyzer.quantities(text))
        elif name == "approximations":
            text = f"The trial enrolled {term} 120 adults."
            ok = any(q.qualifier == row["qualifier"] for q in analyzer.quantities(text))
        elif name == "currencies":
            text = f"It cost {term}5 million." if row["position"] == "before" else f"It cost 5 {term}."
            ok = any(q.kind == "money" and q.unit == row["code"] for q in analyzer.quantities(text))
        else:
            text = {"ones": f"{term} adults took part.", "tens": f"{term} adults took part.",
                    "cardinal": f"{term} adults took part.", "scale": f"About 1.5 {term} adults took part.",
                    "denominator": f"Two {term} of adults took part.", "multiplier": f"The risk {term}."}[row["kind"]]
            ok = bool(analyzer.quantities(text))
        if not ok:
            missed.append((term, text))
    assert not missed, missed
