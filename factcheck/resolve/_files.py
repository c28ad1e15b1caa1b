"""A paper read from a saved service answer or the plain JSON of a case (`--paper-file`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..errors import InputError, UpstreamError
from ..types import Paper, Section
from ._parse import (
    category_for,
    clean_text,
    normalize_doi,
    parse_crossref_json,
    parse_efetch_xml,
    parse_europepmc_json,
    parse_openalex_json,
)


def _paper_from_plain_json(data: dict) -> Paper:
    """A Paper from the plain seed-case JSON: doi, pmid, title, abstract [{label, text}]."""
    sections = []
    for part in data.get("abstract") or []:
        label = part.get("label") or None
        text = clean_text(part.get("text"))
        if text:
            sections.append(Section(label=label, category=category_for(label), text=text))
    year = data.get("year")
    return Paper(
        source="file",
        title=data.get("title") or None,
        sections=tuple(sections),
        doi=normalize_doi(data.get("doi")),
        pmid=str(data["pmid"]) if data.get("pmid") else None,
        pmcid=data.get("pmcid") or None,
        journal=data.get("journal") or None,
        year=int(year) if year else None,
        authors=tuple(data.get("authors") or ()),
        publication_types=tuple(data.get("publication_types") or ()),
        retracted=bool(data.get("retracted")),
        notices=tuple(data.get("notices") or ()),
        url=data.get("url") or data.get("source_url") or None,
    )


def paper_from_file(path: Path) -> Paper:
    """A Paper from a saved service answer, the format detected from its content.

    Reads PubMed efetch XML (the first PubmedArticle), a Europe PMC search JSON (the first
    result), a Crossref work JSON, an OpenAlex work JSON, or the plain seed-case JSON
    (`doi`, `title`, `abstract: [{label, text}]`).

    Args:
        path: the file.

    Returns:
        The Paper with `source="file"`.

    Raises:
        InputError: the file cannot be read, is malformed, or is none of those formats.
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read paper file {path}: {exc}") from exc
    try:
        if text.lstrip().startswith("<"):
            papers = parse_efetch_xml(text, str(path))
            if not papers:
                raise InputError(f"{path} holds no PubmedArticle")
            paper = papers[0]
        else:
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise InputError(f"{path} is neither XML nor JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise InputError(f"{path}: expected a JSON object, found {type(data).__name__}")
            message = data.get("message")
            if "resultList" in data:
                papers = parse_europepmc_json(text, str(path))
                if not papers:
                    raise InputError(f"{path}: the Europe PMC answer has no results")
                paper = papers[0]
            elif "esearchresult" in data:
                raise InputError(f"{path} is an esearch answer (ids only); save the efetch XML")
            elif isinstance(message, dict) and "items" not in message or (
                    "DOI" in data and "container-title" in data):
                paper = parse_crossref_json(text, str(path))
            elif "abstract_inverted_index" in data or str(data.get("id", "")).startswith(
                    "https://openalex.org/"):
                paper = parse_openalex_json(text, str(path))
            elif isinstance(data.get("abstract"), list):
                paper = _paper_from_plain_json(data)
            else:
                raise InputError(f"{path}: not a PubMed, Europe PMC, Crossref or OpenAlex record")
    except UpstreamError as exc:
        raise InputError(f"{path}: {exc}") from exc
    return replace(paper, source="file")

