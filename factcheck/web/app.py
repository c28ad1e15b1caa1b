"""The Starlette application: routes, the form post, the job page, permalinks, the history.

```
GET  /                    the form: a story URL, or pasted text; the paper's DOI/PMID optional
POST /check               validate (size, CSRF, origin, SSRF guard) -> queue -> 303 /jobs/ID
GET  /jobs/ID             queue position, then the stages as they start (refresh every 2 s);
                          303 to /checks/N when done; the error and a form to retry when not
GET  /jobs/ID.json        the same as JSON {state, position, stages, check, error}
GET  /checks/N            the HTML report (report.html.j2 with a bar of links)
GET  /checks/N.json       the JSON contract (serialize.report_to_json)
GET  /checks/N.md         the Markdown report
GET  /history             newest checks; ?q= (title, URL, DOI, PMID) &site= &verdict= &origin=
GET  /status              {"workers", "running", "queued", "max_queue"} for monitoring
```
Answers: 303 after a post; 400 bad input (with the form refilled and what to try); 403 a
cross-site or stale form; 411/413/415 a malformed post; 404 unknown pages, jobs or checks; 503
with Retry-After only when `MAX_QUEUE` checks already wait. A failed job's page answers with its
error's status (400 bad input, 502 a site or service failed, 500 a bug, logged and not shown).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..budget import STEP_WORDS
from ..config import Settings
from ..errors import FactcheckError
from ..guard import MAX_URL_CHARS
from ..report import render_html, render_markdown, templates_dir
from ..serialize import report_to_json
from ..store import ORIGINS, VERDICTS, CheckRow, Store
from .fetching import AllowList, vet_story_url
from .jobs import CheckFn, CheckRequest, JobPool, JobView, QueueFull
from .messages import EditorError, explain, form_error
from .security import Guard, SecurityHeaders

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # a form post, pasted text included
MAX_TEXT_CHARS = 200_000
MAX_PAPER_CHARS = 200
MAX_QUEUE = 100  # checks that may wait; one more is a 503
QUEUE_RETRY_AFTER = 30  # seconds, sent with that 503
REFRESH_SECONDS = 2
HISTORY_PAGE = 50
STAGE_ORDER = ("fetch", "article", "claims", "citations", "landing", "mention", "sources",
               "claims_abstract", "align", "judge")
VERDICT_WORDS = {"needs_correction": "Needs correction", "needs_review": "Needs review",
                 "minor": "Minor issues", "clean": "No discrepancies",
                 "not_checked": "Not checked"}
ORIGIN_WORDS = {"web": "web form", "cli": "command line", "batch": "batch", "feed": "nightly feed"}


@dataclass
class _State:
    settings: Settings
    pool: JobPool
    store: Store
    guard: Guard
    allow: AllowList
    env: jinja2.Environment
    own_store: bool


def _environment() -> jinja2.Environment:
    """The web pages' templates, beside the report templates they share."""
    here = Path(__file__).resolve().parent / "templates"
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(here)),
                                  jinja2.FileSystemLoader(str(templates_dir()))])
    return jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "j2"]),
                              trim_blocks=True, lstrip_blocks=True)


def _state(request: Request) -> _State:
    state: _State = request.app.state.web
    return state


def _page(request: Request, template: str, status: int = 200, cookie: str | None = None,
          headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    state = _state(request)
    body = state.env.get_template(template).render(workers=state.pool.workers, **values)
    response = HTMLResponse(body, status_code=status, headers=headers)
    if cookie:
        response.headers.append("set-cookie", cookie)
    return response


def _form_page(request: Request, form: dict[str, str] | None = None,
               error: EditorError | None = None, template: str = "form.html.j2",
               headers: dict[str, str] | None = None, page: str | None = "form",
               **values: Any) -> HTMLResponse:
    token, cookie = _state(request).guard.token_for(request.headers.get("cookie", ""))
    return _page(request, template, error.status if error else 200, cookie, headers,
                 form=form or {}, error=error, token=token, max_url=MAX_URL_CHARS,
                 max_text=MAX_TEXT_CHARS, max_paper=MAX_PAPER_CHARS,
                 ask_paper=bool(error and error.ask_paper), page=page, **values)


def _message(request: Request, status: int, heading: str, detail: str) -> HTMLResponse:
    return _page(request, "message.html.j2", status, heading=heading, detail=detail)


# -- the form and its post ----------------------------------------------------------------------


async def form(request: Request) -> Response:
    return _form_page(request)


class _Refused(Exception):
    def __init__(self, error: EditorError, form: dict[str, str] | None = None):
        self.error = error
        self.form = form or {}


async def _read_body(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise _Refused(form_error(415, "send the form as application/x-www-form-urlencoded"))
    declared = request.headers.get("content-length", "").strip()
    if declared and not declared.isdigit():
        raise _Refused(form_error(400, "the form's Content-Length is not a number"))
    if not declared and "chunked" not in request.headers.get("transfer-encoding", "").lower():
        raise _Refused(form_error(411, "the form arrived without a Content-Length"))
    if declared and int(declared) > MAX_BODY_BYTES:
        raise _Refused(form_error(413, f"the form is {int(declared):,} bytes; the limit is "
                                       f"{MAX_BODY_BYTES:,}"))
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise _Refused(form_error(413, f"the form is over {MAX_BODY_BYTES:,} bytes, "
                                               f"the limit"))
    except ClientDisconnect:
        raise _Refused(form_error(400, "the form did not arrive whole; submit it again")) from None
    if declared and len(body) < int(declared):
        raise _Refused(form_error(400, f"the form arrived incomplete ({len(body):,} of "
                                       f"{int(declared):,} bytes); submit it again"))
    return bytes(body)


def _fields(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused(form_error(400, f"the form could not be read ({exc})")) from exc
    return {name: (parsed.get(name) or [""])[0] for name in ("url", "text", "paper", "csrf")}


def _check_request(fields: dict[str, str]) -> CheckRequest:
    url, text, paper = fields["url"].strip(), fields["text"], fields["paper"].strip()
    shown = {"url": url[:MAX_URL_CHARS], "text": text[:MAX_TEXT_CHARS], "paper": paper[:200]}
    if len(paper) > MAX_PAPER_CHARS:
        raise _Refused(form_error(400, f"the DOI or PubMed ID is longer than {MAX_PAPER_CHARS} "
                                       "characters"), shown)
    if len(text) > MAX_TEXT_CHARS:
        raise _Refused(form_error(413, f"the pasted text is {len(text):,} characters; the limit "
                                       f"is {MAX_TEXT_CHARS:,}"), shown)
    if url and text.strip():
        raise _Refused(form_error(400, "give either the story's address or its text, not both",
                                  "Address or text?"), shown)
    if text.strip():
        return CheckRequest(text=text, paper=paper or None)
    return CheckRequest(url=url, paper=paper or None)


async def submit(request: Request) -> Response:
    state = _state(request)
    fields: dict[str, str] = {}
    try:
        fields = _fields(await _read_body(request))
        refused = state.guard.cross_site(request.headers, fields["csrf"].strip())
        if refused is not None:
            logger.info("cross-site or stale form refused: %s", refused)
            raise _Refused(form_error(403, refused))
        asked = _check_request(fields)
        if asked.url is not None:
            try:  # a DNS look-up: off the event loop
                url = await run_in_threadpool(vet_story_url, asked.url, state.allow)
            except FactcheckError as exc:
                raise _Refused(explain(exc), {**fields, "url": asked.url}) from exc
            asked = CheckRequest(url=url, paper=asked.paper)
        job = state.pool.submit(asked)
    except _Refused as refused_form:
        shown = refused_form.form or {k: v for k, v in fields.items() if k != "csrf"}
        if len(shown.get("url", "")) > MAX_URL_CHARS:
            shown["url"] = ""
        return _form_page(request, shown, refused_form.error)
    except QueueFull as exc:
        logger.warning("web queue full, check refused: %s", exc)
        error = form_error(503, f"{exc}, the most this server queues")
        return _form_page(request, {k: v for k, v in fields.items() if k != "csrf"}, error,
                          headers={"retry-after": str(QUEUE_RETRY_AFTER)})
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def check_get(request: Request) -> Response:
    return RedirectResponse("/", status_code=303)  # a reload or a typed address: the form


# -- jobs ---------------------------------------------------------------------------------------


def _stages(job: JobView) -> list[dict[str, str]]:
    started = list(job.stages)
    out = [{"name": s, "words": STEP_WORDS.get(s, s),
            "state": "now" if i == len(started) - 1 and job.state == "running" else "done"}
           for i, s in enumerate(started)]
    last = max((STAGE_ORDER.index(s) for s in started if s in STAGE_ORDER), default=-1)
    out += [{"name": s, "words": STEP_WORDS[s], "state": "todo"}
            for s in STAGE_ORDER[last + 1:] if s != "landing" and s not in started]
    return out


def _job(request: Request) -> JobView:
    view = _state(request).pool.view(request.path_params["job_id"])
    if view is None:
        raise HTTPException(404, "no check in progress has this address; it may have finished "
                                 "before the server restarted: look for it in the history")
    return view


async def job_page(request: Request) -> Response:
    job = _job(request)
    if job.state == "done" and job.check_id is not None:
        return RedirectResponse(f"/checks/{job.check_id}", status_code=303)
    stages = _stages(job)
    current = next((s["words"] for s in stages if s["state"] == "now"), "starting")
    report_url = f"/checks/{job.check_id}" if job.check_id is not None else None
    if job.state == "failed" and job.error is not None:
        retry = {"url": job.request.url or "", "text": job.request.text or "",
                 "paper": job.request.paper or ""}
        return _form_page(request, retry, job.error, template="job.html.j2", page=None,
                          job=job, report_url=report_url, refresh=None)
    return _page(request, "job.html.j2", job=job, stages=stages, current=current,
                 refresh=REFRESH_SECONDS, report_url=report_url)


async def job_json(request: Request) -> Response:
    job = _job(request)
    error = job.error
    return JSONResponse({
        "id": job.id, "state": job.state, "position": job.position, "stages": list(job.stages),
        "check": job.check_id, "report": f"/checks/{job.check_id}" if job.check_id else None,
        "error": None if error is None else {"status": error.status, "kind": error.kind,
                                             "heading": error.heading, "detail": error.detail,
                                             "advice": error.advice}})


# -- permanent reports --------------------------------------------------------------------------


def _stored(request: Request) -> tuple[CheckRow, Any]:
    store = _state(request).store
    check_id = int(request.path_params["check_id"])
    try:
        return store.get_check(check_id), store.get_report(check_id)
    except FactcheckError:
        raise HTTPException(404, f"no check #{check_id} is in the history") from None


def report_page(request: Request) -> Response:
    row, report = _stored(request)
    bar = _state(request).env.get_template("report_bar.html.j2").render(
        row=row, origin_words=ORIGIN_WORDS.get(row.origin or "", "checked"))
    html = render_html(report)
    marker = '<div class="wrap">\n'
    html = html.replace(marker, marker + bar, 1) if marker in html else bar + html
    return HTMLResponse(html)


def report_json(request: Request) -> Response:
    _row, report = _stored(request)
    return Response(report_to_json(report) + "\n", media_type="application/json")


def report_md(request: Request) -> Response:
    _row, report = _stored(request)
    return Response(render_markdown(report), media_type="text/markdown; charset=utf-8")


# -- history and status -------------------------------------------------------------------------


def _row(row: CheckRow) -> dict[str, Any]:
    verdict = row.verdict or "not_checked"
    counts = ", ".join(f"{n} {s}" for s, n in (("high", row.high), ("medium", row.medium),
                                                ("low", row.low)) if n)
    key = row.paper_key or ""
    return {"id": row.id, "when": row.checked_at.replace("T", " ")[:16], "site": row.site,
            "title": row.title or row.source, "doi": key[4:] if key.startswith("doi:") else None,
            "paper_key": key or None, "verdict": verdict,
            "verdict_words": VERDICT_WORDS.get(verdict, verdict), "counts": counts,
            "origin_words": ORIGIN_WORDS.get(row.origin or "", row.origin or "")}


def history(request: Request) -> Response:
    params = request.query_params
    q, site = params.get("q", "")[:200].strip(), params.get("site", "")[:100].strip()
    verdict = params.get("verdict", "") if params.get("verdict", "") in VERDICTS else ""
    origin = params.get("origin", "") if params.get("origin", "") in ORIGINS else ""
    offset = int(params["offset"]) if params.get("offset", "").isdigit() else 0
    rows = _state(request).store.search_checks(q, site=site, verdict=verdict, origin=origin,
                                               limit=HISTORY_PAGE + 1, offset=offset)
    query = {k: v for k, v in (("q", q), ("site", site), ("verdict", verdict),
                               ("origin", origin)) if v}

    def link(at: int) -> str:
        return "/history?" + urlencode({**query, **({"offset": at} if at else {})})

    return _page(request, "history.html.j2", page="history", q=q, site=site, verdict=verdict,
                 origin=origin, rows=[_row(r) for r in rows[:HISTORY_PAGE]],
                 verdicts=list(VERDICT_WORDS.items()), origins=list(ORIGIN_WORDS.items()),
                 searched=bool(query) or offset > 0,
                 newer=link(max(0, offset - HISTORY_PAGE)) if offset else None,
                 older=link(offset + HISTORY_PAGE) if len(rows) > HISTORY_PAGE else None)


async def status(request: Request) -> Response:
    return JSONResponse(_state(request).pool.status())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        response = _message(request, 405, "Method not allowed",
                            "This address does not take that kind of request.")
        response.headers["allow"] = (exc.headers or {}).get("Allow", "GET, HEAD")
        return response
    if exc.status_code == 404:
        detail = exc.detail if exc.detail != "Not Found" else "There is no page at this address."
        return _message(request, 404, "Not found", detail[:1].upper() + detail[1:] + ".")
    return _message(request, exc.status_code, "This request cannot be answered", str(exc.detail))


def _wrong_host() -> Any:
    env = _environment()

    def refuse(problem: str) -> Response:
        body = env.get_template("message.html.j2").render(
            workers=0, heading="Wrong address", detail=problem[:1].upper() + problem[1:] + ".")
        return HTMLResponse(body, status_code=400)
    return refuse


def create_app(settings: Settings, *, server_names: Iterable[str] | None = None,
               check_fn: CheckFn | None = None, store: Store | None = None,
               workers: int | None = None, max_queue: int = MAX_QUEUE,
               allow_hosts: Iterable[str] | None = None) -> Starlette:
    """The web app as an ASGI application (uvicorn runs it; `factcheck serve`).

    Args:
        settings: the Settings of every check (and `web.*`, unless overridden here).
        server_names: the Host values ("host:port") it answers to; None accepts any Host
            (posts must still come from the same origin with a valid form token).
        check_fn: `check_fn(CheckRequest, Context) -> Report`; the real pipeline by default.
        store: the history store; `Store.from_settings(settings)` by default (closed with the
            app).
        workers: checks at once; `settings.web_workers` by default.
        max_queue: checks that may wait before a post is answered 503.
        allow_hosts: internal hosts and CIDRs stories may be fetched from; by default
            `settings.web_allow_hosts`.

    Raises:
        ConfigError: an allow-list entry is neither a host name nor a network.
    """
    allow = AllowList.parse(settings.web_allow_hosts if allow_hosts is None else allow_hosts)
    own_store = store is None
    store = store or Store.from_settings(settings)
    if check_fn is None and settings.queue_url:  # the queue backend: factcheck workers check
        from .jobs import queued_check
        check_fn = queued_check(settings)
    pool = JobPool(settings, store, workers or settings.web_workers, max_queue, check_fn, allow)
    guard = Guard(server_names)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(pool.close)
        if own_store:
            store.close()

    routes = [
        Route("/", form, methods=["GET"]),
        Route("/check", submit, methods=["POST"]),
        Route("/check", check_get, methods=["GET"]),
        Route("/jobs/{job_id:str}.json", job_json, methods=["GET"]),
        Route("/jobs/{job_id:str}", job_page, methods=["GET"]),
        Route("/checks/{check_id:int}.json", report_json, methods=["GET"]),
        Route("/checks/{check_id:int}.md", report_md, methods=["GET"]),
        Route("/checks/{check_id:int}", report_page, methods=["GET"]),
        Route("/history", history, methods=["GET"]),
        Route("/status", status, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error})
    app.state.web = _State(settings, pool, store, guard, allow, _environment(), own_store)
    app.add_middleware(SecurityHeaders, guard=guard, refuse=_wrong_host())
    return app


__all__ = ["MAX_BODY_BYTES", "MAX_QUEUE", "MAX_TEXT_CHARS", "create_app"]
