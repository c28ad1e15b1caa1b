"""JSON round-trip for types.py, and the report's JSON contract (DESIGN.md).

`to_data` turns any of our dataclasses into plain JSON values (fields by name); `from_data` rebuilds
one. `report_to_json` adds the contract's convenience fields: every finding carries
`article_quote` and `abstract_quote` strings beside its spans.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, TypeVar

from . import types as t

T = TypeVar("T")

_CLASSES = {cls.__name__: cls for cls in (
    t.Span, t.Page, t.Paragraph, t.Link, t.Mentioned, t.StudyMention, t.Article, t.Citation,
    t.Section, t.Paper, t.QueryRun, t.Candidate, t.SearchOutcome, t.Quantity, t.Entity, t.Claim,
    t.Alignment, t.Finding, t.Supported, t.Problem, t.Report)}


def to_data(value: Any) -> Any:
    """Plain JSON-ready data for a dataclass, tuple or scalar (tuples become lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    return value


def _build(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        for option in options:
            if dataclasses.is_dataclass(option) and isinstance(data, dict):
                return _build(option, data)
        return _build(options[0], data) if options else data
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in data)
        return tuple(_build(a, v) for a, v in zip(args, data))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_data(hint, data)
    return data


def from_data(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a dataclass of type `cls` from `to_data` output (unknown keys are ignored)."""
    hints = typing.get_type_hints(cls, vars(t))
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _build(hints[f.name], data[f.name])
    return cls(**kwargs)


def claim_to_json(claim: t.Claim) -> dict[str, Any]:
    """A claim as one JSON object: DESIGN.md's field names plus `text`, `start`, `end`."""
    data = to_data(claim)
    data.pop("span")
    data["hedges"] = [h["text"] for h in data["hedges"]]
    for name in ("causal_cue", "open_question"):  # their words, like the hedges
        data[name] = getattr(claim, name).text if getattr(claim, name) else None
    return {"text": claim.text, "start": claim.start, "end": claim.end, **data}


def _finding_json(finding: t.Finding) -> dict[str, Any]:
    data = to_data(finding)
    data["article_quote"] = finding.article_span.text
    data["abstract_quote"] = finding.abstract_span.text if finding.abstract_span else None
    data["details"] = dict(finding.details)
    return data


def _supported_json(item: t.Supported) -> dict[str, Any]:
    data = to_data(item)
    data["article_quote"] = item.article_span.text
    data["abstract_quote"] = item.abstract_span.text
    return data


def report_to_data(report: t.Report) -> dict[str, Any]:
    """The JSON contract: version, article, papers, findings, supported, warnings (and more)."""
    papers = []
    for paper in report.papers:
        data = to_data(paper)
        data["abstract"] = paper.abstract
        papers.append(data)
    return {
        "version": report.version,
        "source": report.source,
        "checked_at": report.checked_at,
        "article": to_data(report.article),
        "papers": papers,
        "citations": to_data(report.citations),
        "findings": [_finding_json(f) for f in report.findings],
        "supported": [_supported_json(s) for s in report.supported],
        "warnings": list(report.warnings),
        "problems": to_data(report.problems),
        "claims": [claim_to_json(c) for c in report.claims],
        "abstract_claims": [[claim_to_json(c) for c in claims] for claims in report.abstract_claims],
        "timings": {stage: round(seconds, 4) for stage, seconds in report.timings},
    }


def report_to_json(report: t.Report, indent: int | None = 2) -> str:
    return json.dumps(report_to_data(report), indent=indent, ensure_ascii=False)


def _claim_from_json(data: dict[str, Any]) -> t.Claim:
    data = dict(data)
    text = data.pop("text")
    start, end = data.pop("start"), data.pop("end")
    data["span"] = {"start": start, "end": end, "text": text}
    hedges = data.get("hedges") or []
    # hedge spans are not kept in the contract's claim objects; keep their words without offsets
    data["hedges"] = [{"start": -1, "end": -1, "text": h} if isinstance(h, str) else h for h in hedges]
    for name in ("causal_cue", "open_question"):
        if isinstance(data.get(name), str):
            data[name] = {"start": -1, "end": -1, "text": data[name]}
    return from_data(t.Claim, data)


def report_from_data(data: dict[str, Any]) -> t.Report:
    """Rebuild a Report from `report_to_data` output (for `factcheck report` and the store)."""
    return t.Report(
        version=data["version"],
        source=data.get("source", ""),
        checked_at=data.get("checked_at"),
        article=from_data(t.Article, data["article"]) if data.get("article") else None,
        papers=tuple(from_data(t.Paper, p) for p in data.get("papers", [])),
        citations=tuple(from_data(t.Citation, c) for c in data.get("citations", [])),
        findings=tuple(from_data(t.Finding, {**f, "details": [list(kv) for kv in
                                                               f.get("details", {}).items()]})
                       for f in data.get("findings", [])),
        supported=tuple(from_data(t.Supported, s) for s in data.get("supported", [])),
        warnings=tuple(data.get("warnings", [])),
        problems=tuple(from_data(t.Problem, p) for p in data.get("problems", [])),
        claims=tuple(_claim_from_json(c) for c in data.get("claims", [])),
        abstract_claims=tuple(tuple(_claim_from_json(c) for c in group)
                              for group in data.get("abstract_claims", [])),
        timings=tuple((k, float(v)) for k, v in data.get("timings", {}).items()),
    )
