"""Regenerate the web app's screenshots in docs/screenshots/ with headless Chromium.

    python scripts/screenshots.py [--out docs/screenshots]

Runs the app as the browser tests do (tests/test_web_browser.py: uvicorn on 127.0.0.1, the real
pipeline, corpus stories on a loopback site, papers from the literature stand-in), so nothing
leaves the machine, and saves:

    form.png     the form
    job.png      a check in progress (a slow story site holds the fetch stage)
    report.png   the report at its permanent address
    history.png  the history, after a few checks
    error.png    a failed check: what went wrong, what to try, the DOI form

Needs /usr/bin/chromium (Debian's chromium package) and the test dependencies (playwright).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from test_web_browser import chromium, live_app  # noqa: E402

VIEWPORT = {"width": 1100, "height": 760}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, live_app(Path(tmp), delay=6.0) as live, \
            chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]

        def shot(name: str) -> None:
            page.screenshot(path=str(out / f"{name}.png"))
            print(f"wrote {out / name}.png", file=sys.stderr)

        def check(url: str, paper: str = "") -> None:
            page.goto(f"{live.base}/")
            page.fill("#url", url)
            if paper:
                page.fill("#paper", paper)
            page.click("button[type=submit]")

        page.goto(f"{live.base}/")
        page.fill("#url", live.site.url("/news/coffee-mortality-causal"))
        shot("form")
        for slug in ("dapagliflozin-ckd-faithful", "statin-crp-number-mismatch"):
            check(live.site.url(f"/news/{slug}"))
            page.wait_for_url(re.compile(r".*/checks/\d+$"), timeout=120_000)
        check(live.site.url("/slow/coffee-mortality-causal"))
        page.wait_for_selector("ol.stages li.now:has-text('Fetching the story')", timeout=30_000)
        shot("job")
        page.wait_for_url(re.compile(r".*/checks/\d+$"), timeout=120_000)
        shot("report")
        check(live.site.url("/news/picnic"))  # cites no paper: the DOI form
        page.wait_for_selector("[role=alert]", timeout=120_000)
        shot("error")
        page.goto(f"{live.base}/history")
        shot("history")
    return 0


if __name__ == "__main__":
    sys.exit(main())
