"""The command line: exit statuses on bad input, the JSON contract on stdout, help and docs."""

from __future__ import annotations

import http.server
import json
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import ServiceStandIn

from factcheck.cli import main
from factcheck.resolve import paper_from_file

REPO = Path(__file__).resolve().parent.parent
CASE = REPO / "corpora" / "cases" / "coffee-mortality-causal"

PAGES = {
    "/story": ("text/html; charset=utf-8", (CASE / "story.html").read_bytes()),
    "/story-base64": ("text/html; charset=base64", (CASE / "story.html").read_bytes()),
    "/down": ("", b""),
    "/paper.pdf": ("application/pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n" * 20),
    "/empty": ("text/html; charset=utf-8", b"<html><head><title>x</title></head><body>"
                                            b"<nav>Home</nav></body></html>"),
    "/no-citation": ("text/html; charset=utf-8", (
        "<html><head><title>Walking and mood</title></head><body><article><h1>Walking lifts "
        "mood, experts say</h1><p>Walking outdoors is widely recommended for low mood, and many "
        "doctors now suggest a daily walk to patients who feel down in winter.</p><p>Charities "
        "say that even ten minutes in a park can help, and that walking with a friend makes the "
        "habit easier to keep.</p><p>Several councils have started free walking groups for "
        "residents, with routes planned to suit people who have not exercised for years.</p>"
        "</article></body></html>").encode()),
}


@pytest.fixture(scope="module")
def site():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path not in PAGES:
                self.send_error(404)
                return
            ctype, body = PAGES[self.path]
            if self.path == "/down":
                self.send_error(503)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTCHECK_CACHE", str(tmp_path / "cache"))
    quick = tmp_path / "quick.toml"  # fast retries so the failure tests do not sleep for long
    quick.write_text("[http]\nbackoff = 0.01\nretries = 1\nmax_retry_after = 0.1\n", "utf-8")
    monkeypatch.setenv("FACTCHECK_CONFIG", str(quick))
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_missing_file_exits_2(env):
    result = invoke("check", str(env / "nope.html"))
    assert result.exit_code == 2
    assert "error:" in result.output and "nope.html" in result.output
    assert "Traceback" not in result.output


def test_cli_404_exits_2(env, site):
    result = invoke("check", f"{site}/gone")
    assert result.exit_code == 2 and "404" in result.output


def test_cli_pdf_exits_2_and_says_what_it_is(env, site):
    result = invoke("check", f"{site}/paper.pdf")
    assert result.exit_code == 2 and "PDF" in result.output


def test_cli_page_without_article_text_exits_2(env, site):
    result = invoke("check", f"{site}/empty")
    assert result.exit_code == 2 and "text" in result.output.lower()


def test_cli_story_citing_nothing_exits_2_and_says_what_was_tried(env, site):
    result = invoke("check", f"{site}/no-citation")
    assert result.exit_code == 2
    assert "DOI" in result.output and "--paper" in result.output


def test_cli_service_failing_after_retries_exits_3(env, site, monkeypatch):
    paper = paper_from_file(CASE / "pubmed.xml")
    with ServiceStandIn(papers=[paper]) as stand_in:
        for name, value in stand_in.env.items():
            monkeypatch.setenv(name, value)
        for path in ("pubmed", "europepmc", "crossref", "openalex"):
            stand_in.inject(path, "500")
        result = invoke("check", f"{site}/story")
    assert result.exit_code == 3, result.output
    assert "500" in result.output or "failed" in result.output


def test_cli_check_json_contract_and_fail_on(env, site, monkeypatch):
    paper = paper_from_file(CASE / "pubmed.xml")
    with ServiceStandIn(papers=[paper]) as stand_in:
        for name, value in stand_in.env.items():
            monkeypatch.setenv(name, value)
        result = invoke("check", f"{site}/story", "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["papers"][0]["doi"] == "10.5555/fc.coffee-mortality-causal"
        assert any(f["kind"] == "causal_language" for f in data["findings"])
        failing = invoke("check", f"{site}/story", "--fail-on", "medium")
        assert failing.exit_code == 1


def test_cli_check_offline_with_paper_file_writes_html(env, tmp_path):
    out = tmp_path / "r" / "report.html"
    result = invoke("check", str(CASE / "story.html"), "--paper-file", str(CASE / "pubmed.xml"),
                    "--offline", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert "causal_language" in result.output


def test_cli_claims_prints_json_lines(env, tmp_path):
    story = tmp_path / "s.txt"
    story.write_text("In 1,203 adults, the drug lowered systolic blood pressure by 8 mmHg "
                     "(95% CI 5 to 11) over 12 weeks.", "utf-8")
    result = invoke("claims", str(story))
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows and {"text", "start", "end", "quantities", "direction", "causal_strength"} <= set(rows[0])


def test_cli_report_rerenders_saved_json(env, tmp_path):
    saved = tmp_path / "r.json"
    result = invoke("check", str(CASE / "story.html"), "--paper-file", str(CASE / "pubmed.xml"),
                    "--offline", "--format", "json", "-o", str(saved))
    assert result.exit_code == 0
    md = invoke("report", str(saved), "--format", "md")
    assert md.exit_code == 0 and md.output.startswith("# factcheck:")
    bad = tmp_path / "bad.json"
    bad.write_text("{}", "utf-8")
    assert invoke("report", str(bad)).exit_code == 2


def _commands(group, prefix=""):
    for name, command in sorted(group.commands.items()):
        yield f"{prefix}{name}", command
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize("name,command", list(_commands(main)))
def test_cli_every_command_has_help_and_is_in_readme(name, command):
    assert command.help and command.help.strip()
    readme = (REPO / "README.md").read_text("utf-8")
    top = name.split()[0]
    assert re.search(rf"factcheck {re.escape(top)}\b", readme), f"`factcheck {top}` not in README"


def test_cli_unwritable_output_is_a_one_line_error(env, tmp_path):
    result = invoke("check", str(CASE / "story.html"), "--paper-file", str(CASE / "pubmed.xml"),
                    "--offline", "-o", str(tmp_path))  # a folder, not a file
    assert result.exit_code == 2 and "cannot write" in result.output
    assert "Traceback" not in result.output


def test_cli_story_site_down_exits_3(env, site):
    result = invoke("check", f"{site}/down")
    assert result.exit_code == 3 and "503" in result.output


def test_cli_non_text_charset_is_read_not_crashed(env, site):
    result = invoke("check", f"{site}/story-base64", "--paper-file", str(CASE / "pubmed.xml"))
    assert result.exit_code == 0, result.output


def test_cli_broken_history_store_keeps_the_report(env, tmp_path):
    cache = env / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    result = invoke("check", str(CASE / "story.html"), "--paper-file", str(CASE / "pubmed.xml"),
                    "--offline", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output[result.output.index("{"):])["findings"]


@pytest.mark.parametrize("args", [["--nope"], ["check"], ["check", "--format", "pdf", "x.html"],
                                  ["check", "--paper-file", "/no/such/file.xml", "x.html"]])
def test_cli_usage_errors_have_their_own_exit_status(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 64, result.output
    assert "Usage:" in result.output


def test_cli_help_and_version_still_exit_0():
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["check", "--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["--version"]).exit_code == 0


def test_cli_eval_with_nothing_to_score_is_bad_input(env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("eval", "--corpus", str(empty / "cases"), "--shared", str(empty),
                    "--no-datasets")
    assert result.exit_code == 2, result.output
    assert "nothing to score" in result.output
