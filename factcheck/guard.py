"""The SSRF guard of the web form: story URLs on this machine or a private network are refused.

What the form refuses, and why (DESIGN.md: "only the web form refuses internal addresses"):

- anything but an http(s) URL with a host: no local file paths, no `file:`, no "-";
- a host that resolves to a loopback, private, link-local, multicast, reserved, unspecified or
  otherwise non-global address, IPv4 or IPv6, including IPv4 carried inside IPv6
  (`::ffff:127.0.0.1`, 6to4, NAT64). Every address the host resolves to must be public.
  The same check runs again on every connection the story fetch opens, so a redirect to an
  internal address, or a DNS answer that changes between the check and the fetch, is refused
  too (`public_only_session`). The literature services are not restricted: their addresses come
  from settings, not from the form, and may be local mirrors.

An allow-list (`AllowList`, setting `web.allow_hosts`: exact host names or CIDRs) lets the same
checks accept a newsroom's internal hosts; everything else keeps the rule, also after a redirect
from an allowed host. The public-only session's connections are the HTTP layer's watched
ones, so the total deadline of a response (`http.page_deadline`) holds for the web form's
fetches too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ._http import _WatchedHTTPConnection, _WatchedHTTPSConnection
from .config import Settings
from .errors import ConfigError, InputError

MAX_URL_CHARS = 2048
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InternalAddressError(InputError):
    """The URL's host is this machine or a private network: the web form does not fetch it."""


# -- which addresses are internal ---------------------------------------------------------------

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_problem(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the web form must not connect to `address`, or None when it is a public address.

    IPv4 carried inside IPv6 (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
    `2002:aabb:ccdd::`, Teredo) is judged by the IPv4 address it carries.

    Args:
        address: an IP address, as text (an IPv6 scope such as `%eth0` is allowed) or parsed.

    Returns:
        A phrase such as "a loopback address (this machine)", or None.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_problem(ip.ipv4_mapped)
        if ip in _NAT64:
            return address_problem(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for inner in (ip.sixtofour, *(ip.teredo or ())):
            if inner is not None and (problem := address_problem(inner)):
                return f"an IPv6 address that carries {inner}, {problem}"
    if ip.is_unspecified:
        return "the unspecified address, which means this machine"
    if ip.is_loopback:
        return "a loopback address (this machine)"
    if ip.is_link_local:
        return "a link-local address (the local network segment, where cloud metadata services live)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:  # before is_private, whose table also lists 240.0.0.0/4
        return "a reserved address"
    if ip.is_private:
        return "a private-network address"
    if not ip.is_global:
        return "an address that is not publicly routable"
    return None


@dataclass(frozen=True, slots=True)
class AllowList:
    """Internal hosts and networks the web app may fetch (setting `web.allow_hosts`)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Host names and CIDRs, as the setting lists them.

        Raises:
            ConfigError: an entry is neither a host name nor an address or network.
        """
        hosts: set[str] = set()
        networks: list[Network] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or ":" in entry or any(ch.isspace() for ch in entry):
                raise ConfigError(f"web.allow_hosts: {raw!r} is neither a host name "
                                  f"(cms.intranet) nor a network (10.20.0.0/16)",
                                  key="web.allow_hosts")
            hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.hosts or self.networks)

    def names(self, host: str) -> bool:
        """True when `host` is allowed by name."""
        return host.strip("[]").lower().rstrip(".") in self.hosts

    def covers(self, address: str) -> bool:
        """True when `address` lies in an allowed network (IPv4 inside IPv6 counts as IPv4)."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(c in net for c in candidates for net in self.networks
                   if c.version == net.version)


_NOTHING_ALLOWED = AllowList()


def public_addresses(host: str, port: int, allow: AllowList = _NOTHING_ALLOWED) -> list[str]:
    """The addresses `host` resolves to, when every one of them is public or allowed.

    Args:
        allow: internal hosts and networks accepted all the same (setting `web.allow_hosts`).

    Raises:
        InputError: the host does not resolve, or is not a valid host name.
        InternalAddressError: one of its addresses is internal (`address_problem`) and not
            allowed.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"the host {host} could not be found ({exc.strerror or exc})") from exc
    except (UnicodeError, ValueError) as exc:
        raise InputError(f"{host!r} is not a valid host name") from exc
    by_name = allow.names(host)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        problem = None if by_name or allow.covers(address) else address_problem(address)
        if problem:
            literal = host.strip("[]").lower() == address.lower()
            where = f"{host} is" if literal else f"{host} resolves to {address},"
            raise InternalAddressError(
                f"refused: {where} {problem}; the web form only checks stories on the public "
                f"internet" + (" and the internal hosts its administrator allows "
                               "(web.allow_hosts)" if allow else ""))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise InputError(f"the host {host} has no address")
    return addresses


def check_story_url(url: str, *, allow_internal: bool = False,
                    allow: AllowList = _NOTHING_ALLOWED) -> str:
    """The story URL an editor typed, validated for the web form.

    Args:
        url: the submitted text.
        allow_internal: skip the address check (tests, a trusted local deployment); the scheme
            and length checks still apply.
        allow: internal hosts and networks accepted all the same (`web.allow_hosts`).

    Returns:
        The URL, stripped of surrounding whitespace.

    Raises:
        InputError: empty, too long, not an http(s) URL with a host (a file path, `file:`),
            credentials in the URL, or a host that does not resolve.
        InternalAddressError: the host is internal (see `address_problem`).
    """
    url = url.strip()
    if not url:
        raise InputError("enter the web address of the story to check")
    if len(url) > MAX_URL_CHARS:
        raise InputError(f"the web address is {len(url):,} characters long; the limit is "
                         f"{MAX_URL_CHARS:,}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InputError("the web address contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"not a valid web address ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError("only http:// and https:// web addresses can be checked here, not file "
                         "paths or other schemes")
    host = parts.hostname
    if not host:
        raise InputError("the web address has no host name")
    if parts.username is not None or parts.password is not None:
        raise InputError("web addresses with a user name or password are not accepted")
    if not allow_internal:
        public_addresses(host, port or (443 if parts.scheme.lower() == "https" else 80), allow)
    return url


# -- a requests session that only connects to public addresses ----------------------------------


def _connect_vetted(conn: HTTPConnection, allow: AllowList,
                    connect: Callable[[], socket.socket]) -> socket.socket:
    """Open `conn`'s socket to one of its host's vetted addresses, never another.

    Resolving here, at connect time, closes the gap a redirect or a changed DNS answer would
    open after `check_story_url`. A proxied connection (the proxy's address comes from the
    environment, not the form) is left alone; the adapter's `send` vets its target URL.
    """
    if getattr(conn, "proxy", None) is not None:
        return connect()
    host = conn._dns_host
    last: Exception | None = None
    for address in public_addresses(host, conn.port or 80, allow):
        conn._dns_host = address  # TLS still verifies (and sends SNI for) conn.host
        try:
            return connect()
        except (NewConnectionError, ConnectTimeoutError) as exc:
            last = exc
        finally:
            conn._dns_host = host
    assert last is not None
    raise last


def _pools(allow: AllowList) -> dict[str, type[HTTPConnectionPool]]:
    """Pool classes whose connections (the HTTP layer's watched ones) open only to vetted
    addresses under `allow`."""
    class Conn(_WatchedHTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_vetted(self, allow, super()._new_conn)

    class TLSConn(_WatchedHTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_vetted(self, allow, super()._new_conn)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConn

    return {"http": Pool, "https": TLSPool}


_PUBLIC_POOLS = _pools(_NOTHING_ALLOWED)
_PublicHTTPConnection = _PUBLIC_POOLS["http"].ConnectionCls


class _VettingAdapter(requests.adapters.HTTPAdapter):
    """Vets every request it sends (each redirect hop too) and every connection it opens."""

    def __init__(self, allow: AllowList, **kwargs: Any):
        self._allow = allow
        self._pool_classes = _PUBLIC_POOLS if not allow else _pools(allow)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        check_story_url(request.url or "", allow=self._allow)
        return super().send(request, *args, **kwargs)


def public_only_session(settings: Settings,
                        allow: AllowList = _NOTHING_ALLOWED) -> requests.Session:
    """`_http.make_session(settings)` whose requests reach only public (or allowed) addresses.

    A request to (or redirected to) an internal address `allow` does not cover raises
    InternalAddressError.
    """
    from ._http import make_session
    session = make_session(settings)  # the layer's User-Agent and redirect limit
    adapter = _VettingAdapter(allow, pool_connections=8, pool_maxsize=8, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
