"""What an editor reads when a check cannot be done: what went wrong, what to try.

Each FactcheckError class has a heading and a suggestion written for a newsroom; the error's own
message follows as the detail, with the command-line advice it carries for `factcheck check`
("pass the paper with --paper DOI|PMID", "(setting check.budget)") taken out, since the web page
offers its own way: a field for the paper's DOI, shown when `ask_paper` is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import (
    EXIT_UPSTREAM,
    CheckBudgetExceeded,
    CitationNotFound,
    ExtractionError,
    FactcheckError,
    FetchError,
    InputError,
    NoAbstract,
    NoConfidentMatch,
    NotHtmlError,
    PaperNotFound,
    SiteUnavailable,
    TooLargeError,
    UpstreamError,
)
from ..guard import InternalAddressError


@dataclass(frozen=True, slots=True)
class EditorError:
    """An error page's content: HTTP status, heading, the detail, what to try."""

    status: int
    heading: str
    detail: str
    advice: str
    kind: str = "error"
    ask_paper: bool = False


_TEXT = "paste the story's text into the form instead"
# (class, heading, advice, ask for the paper); the first class the error is an instance of wins
_EXPLAINED: tuple[tuple[type[FactcheckError], str, str, bool], ...] = (
    (InternalAddressError, "This address is on an internal network",
     "factcheck fetches stories from the public internet only. For a pre-publication page, "
     f"{_TEXT}, or ask whoever runs factcheck to allow the host (setting web.allow_hosts).",
     False),
    (NotHtmlError, "This address is not a news story",
     "It points to a PDF, an image or another file. Give the address of the story itself; "
     "if the file is the paper, give the story's address and the paper's DOI below.", True),
    (TooLargeError, "The page is too large to check",
     f"Check that the address is the story itself, or {_TEXT}.", False),
    (SiteUnavailable, "The story's site did not answer",
     f"The site was slow, down or refused us. Try again in a few minutes, or {_TEXT}.", False),
    (FetchError, "The story could not be fetched",
     "Check that the address opens in your browser. If the site needs a login or blocks "
     f"automated readers, {_TEXT}.", False),
    (InputError, "This address cannot be checked",
     f"Check the address (it starts with https://), or {_TEXT}.", False),
    (ExtractionError, "No story text was found on the page",
     f"The page may be an index, a video page or one built by JavaScript; {_TEXT}.", False),
    (CitationNotFound, "The story does not say which paper it is about",
     "Give the paper's DOI or PubMed ID below and check again (a press release or the "
     "journal's page usually shows the DOI).", True),
    (NoConfidentMatch, "The paper could not be identified with confidence",
     "A search found candidates, but none is clearly the story's paper (a wrong paper is "
     "worse than none). Give the paper's DOI or PubMed ID below.", True),
    (PaperNotFound, "The paper was not found",
     "No literature service knows the paper. Check the DOI or PubMed ID, or give another "
     "below.", True),
    (NoAbstract, "The paper has no abstract to compare with",
     "The paper was found but no service has its abstract yet (new papers take days to reach "
     "PubMed). Try again later, or give the DOI of another version below.", True),
    (UpstreamError, "A literature service failed",
     "PubMed, Europe PMC, Crossref or OpenAlex did not answer properly. Try again in a few "
     "minutes.", False),
    (CheckBudgetExceeded, "The check took too long",
     "A site or a literature service was slow. Try again later; giving the paper's DOI "
     "below makes the check quicker.", True),
)

_CLI_ADVICE = re.compile(r"--[a-z][a-z-]*|`factcheck |setting [a-z_]+\.[a-z_]+")


def for_editors(message: str) -> str:
    """`message` without the clauses that give command-line advice (flags, settings)."""
    kept = []
    for part in re.split(r";\s+|,\s+or\s+|\s+or\s+(?=pass\b|use\b|give\b)", message):
        part = re.sub(r"\s*\((?:setting|see) [^)]*\)", "", part)
        if part.strip() and not _CLI_ADVICE.search(part):
            kept.append(part.strip())
    text = "; ".join(kept) or message.split(";")[0]
    return text[:1].upper() + text[1:] if text else text


def explain(exc: FactcheckError) -> EditorError:
    """The page for a FactcheckError (502 when a site or service failed, else 400)."""
    status = 502 if exc.exit_status == EXIT_UPSTREAM else 400
    for cls, heading, advice, ask in _EXPLAINED:
        if isinstance(exc, cls):
            return EditorError(status, heading, for_editors(str(exc)), advice,
                               type(exc).__name__, ask)
    return EditorError(status, "The check could not be completed", for_editors(str(exc)),
                       "Try again; if it keeps failing, tell whoever runs factcheck.",
                       type(exc).__name__)


def unexpected(detail: str = "the check failed unexpectedly") -> EditorError:
    """The page for a bug: nothing of its internals is shown (they are in the server's log)."""
    return EditorError(500, "Something went wrong", f"{detail[:1].upper()}{detail[1:]}.",
                       "The error is in the server's log. Try again; if it happens again, tell "
                       "whoever runs factcheck.", "bug")


def form_error(status: int, detail: str, heading: str | None = None) -> EditorError:
    """A problem with the submitted form itself (400, 403, 411, 413, 415)."""
    headings = {400: "This cannot be checked", 403: "The form could not be accepted",
                411: "The form was not sent properly", 413: "The form was too large",
                415: "The form was not sent properly", 503: "Busy, try again in a minute"}
    advice = {403: "Reload the form and submit it again.",
              413: "Shorten the pasted text, or give the story's address instead.",
              503: "Many checks are waiting; this one was not queued. Try again shortly."}
    return EditorError(status, heading or headings.get(status, "This cannot be checked"),
                       detail[:1].upper() + detail[1:],
                       advice.get(status, "Correct the form and submit it again."), "form")


__all__ = ["EditorError", "explain", "for_editors", "form_error", "unexpected"]
