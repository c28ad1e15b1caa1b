"""Load and validate every file under rules/ into frozen objects.

File kinds (rules/README.md describes each):
- `lexicons/*.txt`: one lowercase term per line, sorted, no duplicates, `#` comments;
- `lexicons/*.tsv`: a header row, then one row per term with its attributes;
- `claims/*.jsonl`: spaCy-style patterns, one JSON object per line with `id`, `label`, `pattern`
  and optionally `note`, `examples`, and any extra attributes the component reads;
- `*.toml`: thresholds and verdict tables (verdicts.toml, severity settings, units).

Loaded rules are tuples, frozensets and read-only mappings; nothing changes them after loading.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .errors import RuleError

logger = logging.getLogger(__name__)

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LABEL = re.compile(r"^[A-Z][A-Z0-9_]*$")


def rules_dir() -> Path:
    """Where the rule files are: inside the installed package, else the source checkout's rules/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise RuleError(f"no rules folder next to {here}; reinstall factcheck")


@dataclass(frozen=True, slots=True)
class Pattern:
    """One claim/entity pattern from a rules/claims/*.jsonl file."""

    id: str
    label: str
    pattern: Any  # a phrase (str) or a token-pattern list, as spaCy's matchers read them
    note: str
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    attrs: Mapping[str, Any]
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything the checker knows, as data."""

    root: Path
    lexicons: Mapping[str, frozenset[str]]
    tables: Mapping[str, tuple[Mapping[str, str], ...]]
    patterns: tuple[Pattern, ...]
    settings: Mapping[str, Any]  # one entry per *.toml file, by stem

    def lexicon(self, name: str) -> frozenset[str]:
        try:
            return self.lexicons[name]
        except KeyError:
            raise RuleError(f"no lexicon {name!r}; available: {sorted(self.lexicons)}") from None

    def table(self, name: str) -> tuple[Mapping[str, str], ...]:
        try:
            return self.tables[name]
        except KeyError:
            raise RuleError(f"no table {name!r}; available: {sorted(self.tables)}") from None

    def setting(self, name: str) -> Mapping[str, Any]:
        try:
            return self.settings[name]
        except KeyError:
            raise RuleError(f"no settings file {name}.toml; available: {sorted(self.settings)}") from None

    def patterns_for(self, *labels: str) -> tuple[Pattern, ...]:
        return tuple(p for p in self.patterns if p.label in labels)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _content_lines(path: Path) -> list[tuple[int, str]]:
    out = []
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        out.append((number, line))
    return out


def load_lexicon(path: Path) -> frozenset[str]:
    """Read a .txt lexicon and check it is lowercase, sorted and free of duplicates."""
    terms: list[str] = []
    for number, line in _content_lines(path):
        term = line.strip()
        if term != term.lower():
            raise RuleError(f"term {term!r} is not lowercase", str(path), number)
        if terms and term <= terms[-1]:
            problem = "duplicate" if term == terms[-1] else "out of order"
            raise RuleError(f"term {term!r} is {problem} (after {terms[-1]!r})", str(path), number)
        terms.append(term)
    return frozenset(terms)


def load_table(path: Path) -> tuple[Mapping[str, str], ...]:
    """Read a .tsv table: the first non-comment line is the header."""
    lines = _content_lines(path)
    if not lines:
        raise RuleError("table has no header row", str(path), 1)
    header = lines[0][1].split("\t")
    rows = []
    for number, line in lines[1:]:
        cells = line.split("\t")
        if len(cells) != len(header):
            raise RuleError(f"expected {len(header)} tab-separated cells, got {len(cells)}",
                            str(path), number)
        rows.append(MappingProxyType(dict(zip(header, (c.strip() for c in cells)))))
    return tuple(rows)


def load_patterns(path: Path, seen: dict[str, str]) -> list[Pattern]:
    """Read a .jsonl pattern file, checking ids are kebab-case and unique across all files."""
    out = []
    for number, line in _content_lines(path):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RuleError(f"not valid JSON: {exc.msg}", str(path), number) from exc
        rule_id = obj.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            raise RuleError(f"id {rule_id!r} is missing or not kebab-case", str(path), number)
        if rule_id in seen:
            raise RuleError(f"id already used in {seen[rule_id]}", str(path), number, rule_id)
        seen[rule_id] = f"{path.name}:{number}"
        label = obj.get("label")
        if not isinstance(label, str) or not _LABEL.match(label):
            raise RuleError(f"label {label!r} is missing or not UPPER_SNAKE", str(path), number, rule_id)
        pattern = obj.get("pattern")
        if not pattern or not isinstance(pattern, (str, list)):
            raise RuleError("pattern must be a phrase or a token list", str(path), number, rule_id)
        extra = {k: v for k, v in obj.items()
                 if k not in {"id", "label", "pattern", "note", "examples", "counter_examples"}}
        out.append(Pattern(
            id=rule_id, label=label, pattern=_freeze(pattern) if isinstance(pattern, list) else pattern,
            note=str(obj.get("note", "")), examples=tuple(obj.get("examples", ())),
            counter_examples=tuple(obj.get("counter_examples", ())),
            attrs=_freeze(extra), path=str(path), line=number,
        ))
    return out


def load_rules(root: Path | None = None) -> Rules:
    """Load every rule file under `root` (the shipped rules/ by default).

    Raises:
        RuleError: a file is malformed; the message names the file, line and rule id.
    """
    root = root or rules_dir()
    lexicons: dict[str, frozenset[str]] = {}
    tables: dict[str, tuple[Mapping[str, str], ...]] = {}
    settings: dict[str, Any] = {}
    patterns: list[Pattern] = []
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".txt":
            lexicons[path.stem] = load_lexicon(path)
        elif path.suffix == ".tsv":
            tables[path.stem] = load_table(path)
        elif path.suffix == ".jsonl":
            patterns.extend(load_patterns(path, seen))
        elif path.suffix == ".toml":
            try:
                settings[path.stem] = _freeze(tomllib.loads(path.read_text("utf-8")))
            except tomllib.TOMLDecodeError as exc:
                raise RuleError(f"not valid TOML: {exc}", str(path)) from exc
    logger.debug("rules: %s lexicons, %s tables, %s patterns from %s",
                  len(lexicons), len(tables), len(patterns), root)
    return Rules(root=root, lexicons=MappingProxyType(lexicons), tables=MappingProxyType(tables),
                 patterns=tuple(patterns), settings=MappingProxyType(settings))
