"""Render a JavaScript-only story with the system's headless Chromium -> Page.

Some news sites send an empty shell and build the story in the browser. When the article stage
says a page is JavaScript-only, `factcheck check --render URL` calls `render_page`, which runs
the Chromium that the system package manager installed (never one downloaded at run time):

    chromium --headless --no-sandbox --disable-gpu --disable-background-networking
             --disable-component-update --disable-sync --no-first-run
             --user-data-dir=<temporary folder> --dump-dom URL

and takes the DOM it prints as the page's HTML. Without a browser the FetchError says how to
install one.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .config import Settings
from .errors import FetchError, InputError
from .types import Page

logger = logging.getLogger(__name__)

BROWSER_NAMES = ("chromium", "chromium-browser")
BROWSER_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-extensions", "--mute-audio")
INSTALL_HINT = ("install the system package (Debian/Ubuntu: `sudo apt-get install chromium`) "
                "or set [fetch] browser in the settings file to its path")


def find_browser(settings: Settings) -> str | None:
    """The headless browser to use: `settings.browser`, then chromium on PATH or in /usr/bin."""
    if settings.browser:
        return settings.browser if os.access(settings.browser, os.X_OK) else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in BROWSER_PATHS if os.access(p, os.X_OK)), None)


def render_page(url: str, settings: Settings, *, browser: str | None = None) -> Page:
    """Load `url` in headless Chromium and return the DOM it built as a Page.

    Args:
        url: an http(s) URL.
        settings: `browser`, `render_timeout` and `offline` come from here.
        browser: the browser executable; found with `find_browser` when None.

    Returns:
        The Page; `html` is the rendered DOM (always text/html, UTF-8).

    Raises:
        InputError: `url` is not an http(s) URL.
        FetchError: offline mode; no browser is installed (the message says how to install
            one); the browser failed, timed out or printed nothing.
    """
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise InputError(f"--render needs an http(s) URL, not {url}")
    if settings.offline:
        raise FetchError(f"offline mode: cannot render {url} in a browser", url)
    executable = browser or find_browser(settings)
    if executable is None:
        raise FetchError(f"the page needs JavaScript and no headless Chromium is installed; "
                         f"to enable --render, {INSTALL_HINT}: {url}", url)
    with tempfile.TemporaryDirectory(prefix="factcheck-chromium-") as profile:
        command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url]
        logger.debug("render: %s", " ".join(command))
        try:
            done = subprocess.run(command, capture_output=True, timeout=settings.render_timeout,
                                  check=False, cwd=profile)
        except subprocess.TimeoutExpired:
            raise FetchError(f"the browser did not finish rendering within "
                             f"{settings.render_timeout:g} s: {url}", url) from None
        except OSError as exc:
            raise FetchError(f"could not start the browser {executable} ({exc.strerror or exc}); "
                             f"{INSTALL_HINT}: {url}", url) from exc
    html = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0 or not html.strip():
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1][:200] if detail else f"exit status {done.returncode}"
        raise FetchError(f"the browser could not render the page ({reason}): {url}", url)
    return Page(url=url, final_url=url, status=200, content_type="text/html", encoding="utf-8",
                html=html, fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


__all__ = ["find_browser", "render_page"]
