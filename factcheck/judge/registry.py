"""The check registry and the runner that runs the checks in rules/checks.toml order.

A check is a small function registered under the rule id it raises:

```python
@check("group-swap-v1", needs=("evidence",))
def numbers_given_to_the_wrong_group(run: Run, al: Alignment) -> None:
    ...
    run.add("group-swap-v1", al.article, ...)
```

`needs` says what the check reads, and so when the runner calls it and with what:

- `alignment`: a story claim and the abstract claim the aligner paired with it. The check runs
  once per judged story claim, as `fn(run, al)`.
- `evidence`: the same, re-picked among the near-best abstract claims for one that states the
  story claim's numbers (`_common.best_for_numbers`); once per judged claim, `fn(run, al)`.
- `paper`: one cited paper (metadata, notices, publication types). Without `alignment` or
  `evidence` the check runs once per paper, as `fn(run, index, paper)`.
- `story`: the whole story (text, links, every claim). Without any of the above the check runs
  once, as `fn(run)`.
- `abstract` (every claim of the abstracts, `run.abstract_claims`) and `findings` (what earlier
  checks raised, `run.findings`) say what else the check reads; they do not change when it runs.

The run order is the order of the tables in rules/checks.toml. A check whose one decision picks
among several rules (the numbers check raises number_mismatch, unit_mismatch, sample_size,
duration or a subgroup finding for each number) lists them in `also`; it runs at its first table
and its other tables must follow that one directly. Consecutive checks of one scope run as a
block: per-claim checks run claim by claim (every check of the block on one claim, then the next
claim), so a check can see what the earlier ones raised on the same claim. That is how skipping is
said, as data in checks.toml that the runner reads from `run.raised` (the rule ids each claim has
raised so far):

- `ends_claim = true` on a table: once that rule fires on a claim, later checks skip the claim;
- `unless = [kinds]` on a table: its check skips a claim that already has a finding of those kinds.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Sequence, TypeVar

from ..errors import RuleError
from ..types import FINDING_KINDS, Alignment
from ._common import Run, best_for_numbers

logger = logging.getLogger(__name__)

Need = Literal["alignment", "evidence", "paper", "story", "abstract", "findings"]
Scope = Literal["claim", "paper", "story"]
NEEDS: tuple[str, ...] = Need.__args__  # type: ignore[attr-defined]
# keys a table of checks.toml may hold
TABLE_KEYS = frozenset({"kind", "severity", "message", "ends_claim", "unless"})

F = TypeVar("F", bound=Callable[..., None])


@dataclass(frozen=True, slots=True)
class Check:
    """One registered check: the function, the rules it raises and what it needs."""

    rule_id: str
    fn: Callable[..., None]
    needs: tuple[str, ...]
    also: tuple[str, ...] = ()

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return (self.rule_id, *self.also)

    @property
    def scope(self) -> Scope:
        if "alignment" in self.needs or "evidence" in self.needs:
            return "claim"
        return "paper" if "paper" in self.needs else "story"

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


_REGISTRY: dict[str, Check] = {}


def check(rule_id: str, *, needs: Sequence[Need], also: Sequence[str] = ()) -> Callable[[F], F]:
    """Register the decorated function as the check that raises `rule_id` (and the `also` rules).

    Args:
        rule_id: the table of rules/checks.toml the check raises; its position there is the
            check's place in the run.
        needs: what the check reads (see the module docstring); it decides when the runner calls
            the function and with which arguments.
        also: further rules the same decision may raise instead; their tables follow `rule_id`'s.

    Raises:
        ValueError: a rule id is registered twice, or a need is unknown or contradictory.
    """
    def register(fn: F) -> F:
        unknown = [n for n in needs if n not in NEEDS]
        if unknown:
            raise ValueError(f"check {rule_id}: unknown needs {unknown}; known: {list(NEEDS)}")
        if "alignment" in needs and "evidence" in needs:
            raise ValueError(f"check {rule_id}: needs either 'alignment' or 'evidence', not both")
        entry = Check(rule_id=rule_id, fn=fn, needs=tuple(needs), also=tuple(also))
        for rid in entry.rule_ids:
            if rid in _REGISTRY and _REGISTRY[rid].fn is not fn:
                raise ValueError(f"rule {rid} is raised by {_REGISTRY[rid].name} already")
            _REGISTRY[rid] = entry
        return fn
    return register


def registered() -> Mapping[str, Check]:
    """Every registered rule id and the check that raises it."""
    return dict(_REGISTRY)


def ordered_checks(tables: Mapping[str, Mapping[str, Any]]) -> tuple[Check, ...]:
    """The registered checks in the order of rules/checks.toml, validated against its tables.

    Raises:
        RuleError: a table names no registered check (or a check has no table), a table holds
            an unknown key or kind, or a check's tables do not follow one another.
    """
    where = "rules/checks.toml"
    missing = sorted(set(_REGISTRY) - set(tables))
    if missing:
        raise RuleError(f"registered checks without a table: {missing}", where, rule_id=missing[0])
    out: list[Check] = []
    pending: list[str] = []  # the `also` tables of the last check, which must come next
    for rule_id, table in tables.items():
        entry = _REGISTRY.get(rule_id)
        if entry is None:
            raise RuleError("no check is registered for this table (@check in factcheck/judge/)",
                            where, rule_id=rule_id)
        extra = sorted(set(table) - TABLE_KEYS)
        if extra:
            raise RuleError(f"unknown keys {extra}; known: {sorted(TABLE_KEYS)}", where, rule_id=rule_id)
        kinds = [table.get("kind"), *table.get("unless", ())]
        if any(k not in FINDING_KINDS for k in kinds):
            raise RuleError(f"kind must be one of {list(FINDING_KINDS)}: {kinds}", where, rule_id=rule_id)
        if pending:
            if rule_id != pending[0]:
                raise RuleError(f"{out[-1].name} also raises {pending[0]}, whose table must come here",
                                where, rule_id=rule_id)
            if "unless" in table:
                raise RuleError(f"`unless` belongs on {entry.rule_id}, the table its check runs at",
                                where, rule_id=rule_id)
            pending.pop(0)
            continue
        if rule_id != entry.rule_id:
            raise RuleError(f"{entry.name} runs at {entry.rule_id}, whose table must come first",
                            where, rule_id=rule_id)
        out.append(entry)
        pending = list(entry.also)
    if pending:
        raise RuleError(f"{out[-1].name} also raises {pending}, which have no table after its own",
                        where, rule_id=pending[0])
    return tuple(out)


def run_checks(run: Run, alignments: Sequence[Alignment]) -> None:
    """Run every check in checks.toml order on the story, its papers and its aligned claims."""
    tables = run.checks
    skip_kinds = frozenset(run.verdicts["judge"]["skip_claim_kinds"])
    for scope, block in itertools.groupby(ordered_checks(tables), key=lambda c: c.scope):
        checks = tuple(block)
        if scope == "paper":
            for index, paper in enumerate(run.papers):
                for entry in checks:
                    entry.fn(run, index, paper)
        elif scope == "story":
            for entry in checks:
                entry.fn(run)
        else:
            for al in alignments:
                if al.article.kind not in skip_kinds:
                    _judge_claim(run, al, checks)


def _judge_claim(run: Run, aligned: Alignment, checks: Sequence[Check]) -> None:
    """Every per-claim check on one claim, honouring `unless` and `ends_claim`."""
    tables = run.checks
    start = aligned.article.start
    evidence: Alignment | None = None
    for entry in checks:
        unless = tables[entry.rule_id].get("unless", ())
        if unless and run.kinds_raised(start) & set(unless):
            continue
        if "evidence" in entry.needs:
            if evidence is None:
                evidence = best_for_numbers(run, aligned)
            entry.fn(run, evidence)
        else:
            entry.fn(run, aligned)
        if any(tables[r].get("ends_claim") for r in run.raised.get(start, ())):
            return
