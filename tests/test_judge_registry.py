"""The check registry: rules/checks.toml, the registered checks and the finding kinds agree, and the
runner calls the checks in checks.toml order, skipping as its tables say."""

from __future__ import annotations

from dataclasses import replace

import pytest

from factcheck.errors import RuleError
from factcheck.judge import judge, registry
from factcheck.judge._common import Run, Vocab, sentence_span
from factcheck.judge.registry import Check, ordered_checks, registered, run_checks
from factcheck.types import FINDING_KINDS, Alignment, Article, Claim, Paper, Paragraph, Section, Span


def _story(*sentences: tuple[str, str]) -> tuple[Article, tuple[Claim, ...]]:
    """An article of (kind, sentence) lines and its claims."""
    text, claims = "", []
    for kind, sentence in sentences:
        start = len(text)
        text += sentence + "\n"
        claims.append(Claim(origin="article", span=Span(start, start + len(sentence), sentence),
                            section="body", kind=kind))
    paragraphs = tuple(Paragraph(c.start, c.end, "body") for c in claims)
    article = Article(url="file:story", final_url="file:story", title=None, published=None,
                      site=None, authors=(), text=text, paragraphs=paragraphs)
    return article, tuple(claims)


def _paper(text: str) -> tuple[Paper, tuple[Claim, ...]]:
    paper = Paper(source="file", title="A trial", doi="10.5555/test",
                  sections=(Section(label="RESULTS", category="RESULTS", text=text),))
    claim = Claim(origin="abstract", span=Span(0, len(text), text), section="RESULTS", kind="result")
    return paper, (claim,)


def test_judge_registry_every_table_has_a_check_and_every_check_a_table(rules):
    tables = rules.setting("checks")
    assert set(registered()) == set(tables)


def test_judge_registry_every_kind_is_a_finding_kind(rules):
    for rule_id, table in rules.setting("checks").items():
        assert table["kind"] in FINDING_KINDS, rule_id
        assert set(table.get("unless", ())) <= set(FINDING_KINDS), rule_id
        assert table["severity"]["default"] in {"high", "medium", "low"}, rule_id


def test_judge_registry_run_order_is_the_checks_toml_order(rules):
    tables = rules.setting("checks")
    order = [rule_id for entry in ordered_checks(tables) for rule_id in entry.rule_ids]
    assert order == list(tables)


def test_judge_registry_runner_calls_the_checks_in_that_order(rules, monkeypatch):
    calls: list[tuple[str, str]] = []

    def spy(entry: Check) -> Check:
        def fn(run: Run, *args: object) -> None:
            where = "story" if not args else ("paper" if len(args) == 2 else "claim")
            calls.append((where, entry.rule_id))
        return replace(entry, fn=fn)

    spies = {entry.rule_id: spy(entry) for entry in registered().values()}
    monkeypatch.setattr(registry, "_REGISTRY", {rid: spies[e.rule_id] for rid, e in registered().items()})
    article, claims = _story(("result", "The drug cut deaths by half."),
                             ("background", "Heart disease is common."),
                             ("result", "Benefits lasted two years."))
    paper, abstract = _paper("Mortality was lower with the drug.")
    alignments = tuple(Alignment(article=c, abstract=abstract[0], score=0.5) for c in claims)
    judge(article, (paper, paper), claims, (abstract, abstract), alignments, rules)

    checks = ordered_checks(rules.setting("checks"))
    by_scope = {scope: [c.rule_id for c in checks if c.scope == scope] for scope in ("paper", "claim", "story")}
    expected = [("paper", r) for _ in range(2) for r in by_scope["paper"]] + \
        [("claim", r) for _ in range(2) for r in by_scope["claim"]] + \
        [("story", r) for r in by_scope["story"]]
    assert calls == expected  # two papers, two judged claims (the background one is skipped)
    # checks.toml lists the paper checks first and the story check last
    assert [c.rule_id for c in checks] == by_scope["paper"] + by_scope["claim"] + by_scope["story"]


def _table(kind: str, **extra: object) -> dict[str, object]:
    return {"kind": kind, "severity": {"default": "medium"}, "message": "m", **extra}


def test_judge_registry_unless_and_ends_claim_are_read_from_the_tables(rules, monkeypatch):
    calls: list[str] = []

    def raising(rule_id: str):
        def fn(run: Run, al: Alignment) -> None:
            calls.append(rule_id)
            run.add(rule_id, al.article, sentence_span(al.article), None, {})
        return fn

    def quiet(rule_id: str):
        def fn(run: Run, al: Alignment) -> None:
            calls.append(rule_id)
        return fn

    fake = {"a-v1": Check("a-v1", raising("a-v1"), ("alignment",)),
            "b-v1": Check("b-v1", quiet("b-v1"), ("evidence",)),
            "c-v1": Check("c-v1", raising("c-v1"), ("alignment",)),
            "d-v1": Check("d-v1", quiet("d-v1"), ("evidence",))}
    tables = {"a-v1": _table("direction"), "b-v1": _table("population", unless=["direction"]),
              "c-v1": _table("not_in_abstract", ends_claim=True), "d-v1": _table("other")}
    monkeypatch.setattr(registry, "_REGISTRY", fake)
    article, claims = _story(("result", "The drug cut deaths by half."))
    paper, abstract = _paper("Mortality was lower with the drug.")
    run = Run(article=article, papers=(paper,), abstract_claims=(abstract,), article_claims=claims,
              rules=rules, checks=tables, verdicts=rules.setting("verdicts"),
              vocab=Vocab.from_rules(rules))
    run_checks(run, (Alignment(article=claims[0], abstract=abstract[0], score=0.5),))
    # b: skipped, its claim already has a direction finding; d: skipped, c ended the claim
    assert calls == ["a-v1", "c-v1"]
    assert [f.rule_id for f in run.findings] == ["a-v1", "c-v1"]
    assert run.raised == {claims[0].start: ["a-v1", "c-v1"]}


@pytest.mark.parametrize("tables, message", [
    ({"a-v1": _table("other"), "b-v1": _table("other"), "z-v1": _table("other")}, "no check is registered"),
    ({"a-v1": _table("other")}, "without a table"),
    ({"b-v1": _table("other"), "a-v1": _table("other")}, "whose table must come first"),
    ({"a-v1": _table("other"), "x-v1": _table("other"), "b-v1": _table("other")}, "must come here"),
    ({"a-v1": _table("nonsense"), "b-v1": _table("other")}, "kind must be one of"),
    ({"a-v1": _table("other", skip=True), "b-v1": _table("other")}, "unknown keys"),
])
def test_judge_registry_disagreement_with_checks_toml_is_a_rule_error(monkeypatch, tables, message):
    def fn(run: Run, al: Alignment) -> None:
        return None

    ab = Check("a-v1", fn, ("alignment",), also=("b-v1",))
    x = Check("x-v1", fn, ("alignment",))
    fake = {"a-v1": ab, "b-v1": ab}
    if "x-v1" in tables:
        fake["x-v1"] = x
    monkeypatch.setattr(registry, "_REGISTRY", fake)
    with pytest.raises(RuleError, match=message):
        ordered_checks(tables)


def test_judge_registry_a_rule_id_is_registered_once(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    registry.check("a-v1", needs=("alignment",))(lambda run, al: None)
    with pytest.raises(ValueError, match="already"):
        registry.check("a-v1", needs=("alignment",))(lambda run, al: None)
    with pytest.raises(ValueError, match="unknown needs"):
        registry.check("b-v1", needs=("everything",))(lambda run, al: None)  # type: ignore[arg-type]
