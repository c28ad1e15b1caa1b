"""The syntax of the identifiers factcheck sends to the literature services: DOI, PMID, PMCID.

One place decides what a DOI is, so the story's text and links, a landing page, `--paper`, the
command line and every service's answer agree, and nothing that could steer a request outside
a service's base URL (a `..` path segment, however encoded; a control character; whitespace)
ever reaches a client:

- `normalize_doi(text)`: the DOI without resolver prefix, percent-decoded, lowercased; None when
  it is not a DOI we may send (`doi_problem` says why);
- `require_doi`, `require_pmid`, `require_pmcid`: the same for input that must be an identifier
  (`InputError`, exit 2, with a one-line message naming the problem);
- `pmid_or_none`, `pmcid_or_none`: the identifier a service's answer gives, or None.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from .errors import InputError

# "doi:", "info:doi/", a doi.org resolver URL: ways of writing a DOI that are not part of it
_RESOLVER = re.compile(r"^(?:doi:\s*|info:doi/|https?://(?:dx\.|www\.)?doi\.org/)", re.I)
# 10.<registrant code, possibly subdivided>/<suffix>; ASCII digits only
_DOI = re.compile(r"10\.[0-9]{4,9}(?:\.[0-9]+)*/(?P<suffix>.*)", re.S)
_PMID = re.compile(r"[0-9]{1,10}")
_PMCID = re.compile(r"PMC[0-9]{1,10}")
_SEGMENT = re.compile(r"[/\\]")  # some servers read a backslash as a slash
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
MAX_DOI_LENGTH = 400  # the longest DOIs registered are under 300 characters
# whitespace, line and paragraph separators, control, format, surrogate, private and unassigned
_FORBIDDEN = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"})


def _decoded(text: str) -> str:
    """`text` with percent-escapes decoded until none is left (a proxy may decode twice)."""
    for _ in range(4):
        if not _ESCAPE.search(text):
            break
        text = unquote(text)
    return text


def doi_problem(doi: str) -> str | None:
    """Why `doi` (prefix-free, as it would be sent) is not a DOI a request may carry, or None.

    Args:
        doi: the candidate, e.g. "10.1000/xyz".

    Returns:
        A phrase such as "has a '..' path segment", or None when the DOI is acceptable.
    """
    if len(doi) > MAX_DOI_LENGTH:
        return f"is longer than {MAX_DOI_LENGTH} characters"
    match = _DOI.fullmatch(doi)
    if match is None:
        return "does not start with 10.NNNN/"
    full = _decoded(doi)
    if any(ch.isspace() or unicodedata.category(ch) in _FORBIDDEN for ch in full):
        return "holds whitespace or a control character"
    suffix = match.group("suffix")
    if not suffix:
        return "has nothing after the slash"
    if "#" in full:  # a URL's fragment mark: the same DOI could not be read back from its link
        return "holds a '#'"
    if any(part in (".", "..") for part in _SEGMENT.split(_decoded(suffix))):
        return "has a '.' or '..' path segment"
    return None


def _bare(text: str) -> str:
    doi = _RESOLVER.sub("", text.strip()).strip()
    if _ESCAPE.search(doi):
        doi = unquote(doi)  # "10.1000%2Fxyz" from a URL is the DOI 10.1000/xyz
    return doi.lower()


def normalize_doi(text: str | None) -> str | None:
    """A DOI without resolver prefix ("doi:", doi.org URL), percent-decoded and lowercased; None
    for empty input and for anything `doi_problem` refuses.

    Args:
        text: "10.1000/XYZ", "doi:10.1000/xyz", "https://doi.org/10.1000/xyz".

    Returns:
        The DOI, e.g. "10.1000/xyz", or None.
    """
    if not text or not isinstance(text, str):
        return None
    doi = _bare(text)
    return doi if doi and doi_problem(doi) is None else None


def _shown(text: str, limit: int = 80) -> str:
    """`text` for a one-line message: quoted, control characters escaped, cut when long."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def require_doi(text: str) -> str:
    """The normalised DOI in `text`, which must be one.

    Raises:
        InputError: `text` is not a DOI a request may carry (the message says why, on one line).
    """
    doi = normalize_doi(text)
    if doi is None:
        why = doi_problem(_bare(text or "")) or "is empty"
        raise InputError(f"not a valid DOI: {_shown(text or '')} {why}; give the DOI alone, "
                         "e.g. 10.1000/xyz123 (10.NNNN/, then a suffix with no spaces, control "
                         "characters or '..' parts)")
    return doi


def require_pmid(text: str) -> str:
    """The PMID in `text` (digits only, surrounding space allowed).

    Raises:
        InputError: `text` is not a PMID.
    """
    pmid = pmid_or_none(text)
    if pmid is None:
        raise InputError(f"not a valid PMID: {_shown(text or '')}; a PMID is digits only, "
                         "e.g. 40210000")
    return pmid


def require_pmcid(text: str) -> str:
    """The PMCID in `text` ("PMC" and digits; "pmc" accepted).

    Raises:
        InputError: `text` is not a PMCID.
    """
    pmcid = pmcid_or_none(text)
    if pmcid is None or not text.strip().upper().startswith("PMC"):
        raise InputError(f"not a valid PMCID: {_shown(text or '')}; a PMCID is PMC and digits, "
                         "e.g. PMC1234567")
    return pmcid


def pmid_or_none(value: object) -> str | None:
    """A PMID from a string or an integer, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text if _PMID.fullmatch(text) and int(text) > 0 else None


def pmcid_or_none(value: object) -> str | None:
    """A PMCID ("PMC1234567") from "PMC1234567", "pmc1234567" or the digits alone, or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip().upper()
    if not text.startswith("PMC"):
        text = "PMC" + text
    return text if _PMCID.fullmatch(text) else None


__all__ = ["doi_problem", "normalize_doi", "pmcid_or_none", "pmid_or_none", "require_doi",
           "require_pmcid", "require_pmid"]
