"""Which story addresses the web app may fetch: factcheck.guard, plus the allow-list.

Without `web.allow_hosts` this is factcheck.guard unchanged (`check_story_url`,
`public_only_session`): loopback, private, link-local and every other non-public address are
refused, when the form is posted and again on every connection the fetch opens (each redirect
hop, each DNS answer). The allow-list lets a newsroom check its own internal pages:

- an exact host name (`cms.intranet`): that host is fetched whatever it resolves to;
- a CIDR or an address (`10.20.0.0/16`, `192.168.1.7`): an internal address inside it is
  accepted, for any host name that resolves there.

Everything else keeps the guard's rule, also after a redirect from an allowed host: an allowed
CMS that redirects to 169.254.169.254 is refused at that hop.
"""

from __future__ import annotations

import requests

from ..config import Settings
from ..guard import AllowList, check_story_url, public_only_session


def vet_story_url(url: str, allow: AllowList) -> str:
    """`guard.check_story_url` with the allow-list's exceptions; returns the stripped URL."""
    return check_story_url(url, allow=allow)


def story_session(settings: Settings, allow: AllowList) -> requests.Session:
    """The session a web check fetches the story (and its landing pages) with: every request
    (each redirect hop) and every connection vetted, with the allow-list's exceptions."""
    return public_only_session(settings, allow)


__all__ = ["AllowList", "story_session", "vet_story_url"]
