"""The editors' web app: many checks at once, a page per check, a report per address, history.

```
factcheck/web/
  app.py        Starlette routes and pages (the route table is in its docstring)
  jobs.py       the fair queue and the bounded pool of worker threads, one Context each
  fetching.py   the SSRF guard (factcheck.guard) with the allow-list of internal hosts
  security.py   Host names, CSRF token, same-origin posts, security headers
  messages.py   errors written for editors: what went wrong, what to try
  server.py     uvicorn on a bound socket (`factcheck serve`)
  templates/    jinja2 pages (base, form, job, history, message), beside the report templates
```
A story is checked by the same `pipeline.check` as `factcheck check`, and every check lands in
the same history store as the command line's, the batches' and the nightly feed's (origin
"web"). There is no login: serve on 127.0.0.1 (the default) or behind a proxy that authenticates
editors.
"""

from __future__ import annotations

from .app import MAX_BODY_BYTES, MAX_QUEUE, MAX_TEXT_CHARS, create_app
from .fetching import AllowList, story_session, vet_story_url
from .jobs import CheckRequest, JobPool, QueueFull, pipeline_check
from .server import default_server_names, serve

__all__ = ["MAX_BODY_BYTES", "MAX_QUEUE", "MAX_TEXT_CHARS", "AllowList", "CheckRequest",
           "JobPool", "QueueFull", "create_app", "default_server_names", "pipeline_check",
           "serve", "story_session", "vet_story_url"]
