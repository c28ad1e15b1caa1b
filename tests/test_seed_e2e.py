"""The seed story, end to end: `factcheck check` against a local PubMed stand-in.

The stand-in (tests/fakes.py) serves ../shared/seed/paper.json as real E-utilities responses
(esearch JSON, efetch XML) on 127.0.0.1; FACTCHECK_PUBMED_URL points the client at it. The story
is checked as the plain-text file and as an HTML page served by a local HTTP server.
"""

from __future__ import annotations

import html
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fakes import ServiceStandIn, paper_from_seed_json

SEED_PMID = "40210000"  # invented: the seed's paper.json carries no PMID


def _overlaps(span: dict, quote: str, text: str) -> bool:
    at = text.find(quote)
    assert at >= 0, f"quote not in story: {quote}"
    return span["start"] < at + len(quote) and at < span["end"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "factcheck", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


@pytest.fixture(scope="module")
def stand_in(shared_dir):
    paper = paper_from_seed_json(shared_dir / "seed" / "paper.json")
    with ServiceStandIn(papers=[(paper, SEED_PMID)]) as server:
        yield server


def _story_page(story: str) -> bytes:
    lines = [line for line in story.splitlines() if line.strip()]
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in lines[1:])
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(lines[0])}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{html.escape(lines[0])}</h1>\n{body}</article>"
            f"<footer><p>Copyright</p></footer></body></html>")
    return page.encode("utf-8")


@pytest.fixture(scope="module")
def story_server(shared_dir):
    page = _story_page((shared_dir / "seed" / "story.txt").read_text("utf-8"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path != "/news/ldn-fibromyalgia":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news/ldn-fibromyalgia"
    server.shutdown()


def _check(source: str, stand_in, tmp_path: Path) -> dict:
    env = {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "cache")}
    done = _run(["check", source, "--format", "json"], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _assert_seed_report(report: dict) -> None:
    text = report["article"]["text"]
    findings = report["findings"]
    kinds = [f["kind"] for f in findings]
    assert not {"number_mismatch", "sample_size", "duration"} & set(kinds), kinds

    def found(kind: str, quote: str) -> bool:
        return any(f["kind"] == kind and _overlaps(f["article_span"], quote, text) for f in findings)

    assert found("population", "99 fibromyalgia patients")
    assert found("not_in_abstract", "did not outperform placebo in reducing pain intensity")
    assert found("omitted_uncertainty", "the LDN group had a rise of 1.2 kPa")

    def supported(quote: str) -> bool:
        return any(_overlaps(s["article_span"], quote, text) for s in report["supported"])

    for quote in ("For 12 weeks", "45 versus 47", "a rise of 1.2 kPa", "a drop of 0.8 kPa"):
        assert supported(quote), quote
    assert report["papers"][0]["doi"] == "10.1007/s40263-025-01183-7"
    assert report["papers"][0]["source"] == "pubmed"


def test_seed_story_file_end_to_end(shared_dir, stand_in, tmp_path):
    report = _check(str(shared_dir / "seed" / "story.txt"), stand_in, tmp_path)
    _assert_seed_report(report)
    paths = [r["path"] for r in stand_in.requests]
    assert any(p.endswith("esearch.fcgi") for p in paths)
    assert any(p.endswith("efetch.fcgi") for p in paths)


def test_seed_story_page_end_to_end(shared_dir, stand_in, story_server, tmp_path):
    report = _check(story_server, stand_in, tmp_path)
    _assert_seed_report(report)
    assert report["article"]["title"].startswith("Low-Dose Naltrexone")


def test_seed_rerun_uses_the_cache(shared_dir, stand_in, tmp_path):
    story = str(shared_dir / "seed" / "story.txt")
    env = {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "cache")}
    assert _run(["check", story, "--format", "json"], env).returncode == 0
    before = len(stand_in.requests)
    offline = _run(["check", story, "--format", "json", "--offline"], env)
    assert offline.returncode == 0, offline.stderr
    assert len(stand_in.requests) == before


@pytest.mark.parametrize("query", ["10.1007/s40263-025-01183-7",
                                   "Bruun, CNS Drugs, 2025, naltrexone fibromyalgia"])
def test_seed_resolve_by_doi_or_reference(stand_in, tmp_path, query):
    env = {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "cache")}
    done = _run(["resolve", query], env)
    assert done.returncode == 0, done.stderr
    paper = json.loads(done.stdout)
    assert paper["doi"] == "10.1007/s40263-025-01183-7"
    assert "99 women with fibromyalgia" in paper["abstract"]


def test_seed_resolve_unknown_reference_exits_2(stand_in, tmp_path):
    env = {**stand_in.env, "FACTCHECK_CACHE": str(tmp_path / "cache")}
    done = _run(["resolve", "Smith, Lancet, 2019, vitamin C and colds in marathon runners"], env)
    assert done.returncode == 2
    assert "error:" in done.stderr and "Traceback" not in done.stderr
