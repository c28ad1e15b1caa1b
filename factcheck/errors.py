"""The exception hierarchy. Stages raise these; the CLI turns them into one line and an exit status.

```
FactcheckError                 exit 2 unless stated
  ConfigError                  bad or missing setting (names the key and the file)
  RuleError                    invalid rule file (file, line, rule id)
  InputError                   the source given cannot be read (missing file, empty stdin)
  FetchError                   non-2xx for a story, or a story that cannot be read (url, status)
    NotHtmlError               the response is a PDF, an image or other non-HTML content
    TooLargeError              the response passed the size cap
    SiteUnavailable            timeout, no connection, 429 or 5xx after retries    exit 3
      PageDeadline             the page did not arrive whole within fetch.page_deadline   exit 3
  ExtractionError              no main text, or text shorter than min_article_chars
  CitationNotFound             the story cites nothing we can resolve
  ResolveError                 (service, query)
    PaperNotFound              every client answered, none matched
      NoConfidentMatch         a search found candidates but none clearly the story's paper
    NoAbstract                 the paper was found but no service has its abstract
    UpstreamError              429/5xx/timeout/malformed answer after retries   exit 3
  DeliveryError                sending email failed after retries               exit 3
  CheckBudgetExceeded          the whole check ran past check.budget (names the step)  exit 3
  QueueUnavailable             the queue's Redis cannot be reached (factcheck.queue)   exit 3
```

Exit statuses: 0 clean, 1 findings, 2 bad input, 3 a site, service or the mail server failed or
ran out of time, 4 the feed job finished but left work undone (every story failed, or emails
stayed unsent or uncertain), 64 a usage error (unknown option, missing argument; click's own 2 is
moved so scripts can tell a typo from bad input).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_UPSTREAM = 3
EXIT_INCOMPLETE = 4
EXIT_USAGE = 64


class FactcheckError(Exception):
    """Root of every error factcheck raises on purpose."""

    exit_status = EXIT_BAD_INPUT
    stage = "check"


class ConfigError(FactcheckError):
    stage = "config"

    def __init__(self, message: str, key: str | None = None, path: str | None = None):
        super().__init__(message)
        self.key = key
        self.path = path


class RuleError(FactcheckError):
    stage = "rules"

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 rule_id: str | None = None):
        where = ":".join(str(p) for p in (path, line) if p is not None)
        full = f"{where}: {message}" if where else message
        if rule_id:
            full += f" (rule {rule_id})"
        super().__init__(full)
        self.path = path
        self.line = line
        self.rule_id = rule_id


class InputError(FactcheckError):
    stage = "input"


class FetchError(FactcheckError):
    stage = "fetch"

    def __init__(self, message: str, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class NotHtmlError(FetchError):
    def __init__(self, message: str, url: str | None = None, status: int | None = None,
                 content_type: str | None = None):
        super().__init__(message, url, status)
        self.content_type = content_type


class TooLargeError(FetchError):
    pass


class SiteUnavailable(FetchError):
    """The story's site is down or overloaded: worth retrying later, not the editor's mistake."""

    exit_status = EXIT_UPSTREAM


class PageDeadline(SiteUnavailable):
    """The page (headers and body) did not arrive within its total deadline."""


class ExtractionError(FactcheckError):
    stage = "article"


class CitationNotFound(FactcheckError):
    stage = "citations"


class ResolveError(FactcheckError):
    stage = "sources"

    def __init__(self, message: str, service: str | None = None, query: str | None = None):
        super().__init__(message)
        self.service = service
        self.query = query


class PaperNotFound(ResolveError):
    pass


class NoConfidentMatch(PaperNotFound):
    """The search found candidates but none clearly the story's; `outcome` lists them."""

    def __init__(self, message: str, outcome: object = None):
        super().__init__(message)
        self.outcome = outcome  # the SearchOutcome


class NoAbstract(ResolveError):
    pass


class UpstreamError(ResolveError):
    exit_status = EXIT_UPSTREAM

    def __init__(self, message: str, service: str | None = None, query: str | None = None,
                 status: int | None = None):
        super().__init__(message, service, query)
        self.status = status


class DeliveryError(FactcheckError):
    stage = "deliver"
    exit_status = EXIT_UPSTREAM


class CheckBudgetExceeded(FactcheckError):
    """The check as a whole ran out of time; `step` names the stage that was running."""

    exit_status = EXIT_UPSTREAM

    def __init__(self, message: str, step: str | None = None, budget: float | None = None):
        super().__init__(message)
        self.step = step
        self.budget = budget
        if step:
            self.stage = step
