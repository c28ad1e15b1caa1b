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

from .._http import _WatchedHTTPConnection, _WatchedHTTPSConnection, make_session
from ..config import Settings
from ..errors import ConfigError, InputError
from ..guard import InternalAddressError, address_problem, check_story_url, public_only_session

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def vetted_addresses(host: str, port: int, allow: AllowList) -> list[str]:
    """The addresses of `host` the app may connect to: public ones, or ones the list allows.

    Raises:
        InputError: the host does not resolve.
        InternalAddressError: it resolves to an internal address the list does not allow.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"the host {host} could not be found ({exc.strerror or exc})") from exc
    except (UnicodeError, ValueError) as exc:
        raise InputError(f"{host!r} is not a valid host name") from exc
    by_name = allow.names(host)
    addresses: list[str] = []
    for *_rest, sockaddr in infos:
        address = str(sockaddr[0])
        problem = None if by_name or allow.covers(address) else address_problem(address)
        if problem:
            literal = host.strip("[]").lower() == address.lower()
            where = f"{host} is" if literal else f"{host} resolves to {address},"
            raise InternalAddressError(
                f"refused: {where} {problem}; the web form only checks stories on the public "
                f"internet and the internal hosts its administrator allows (web.allow_hosts)")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise InputError(f"the host {host} has no address")
    return addresses


def vet_story_url(url: str, allow: AllowList) -> str:
    """`guard.check_story_url`, with the allow-list's exceptions; returns the stripped URL."""
    if not allow:
        return check_story_url(url)
    url = check_story_url(url, allow_internal=True)  # scheme, length, credentials
    parts = urlsplit(url)
    vetted_addresses(parts.hostname or "", parts.port or (
        443 if parts.scheme.lower() == "https" else 80), allow)
    return url


def story_session(settings: Settings, allow: AllowList) -> requests.Session:
    """The session a web check fetches the story (and its landing pages) with.

    Every request (each redirect hop) and every connection is vetted: `guard.public_only_session`
    when nothing is allowed, else the same rules with the allow-list's exceptions.
    """
    if not allow:
        return public_only_session(settings)
    session = make_session(settings)
    adapter = _AllowingAdapter(allow, pool_connections=8, pool_maxsize=8, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _connect(conn: HTTPConnection, allow: AllowList,
             connect: Callable[[], socket.socket]) -> socket.socket:
    """Open `conn`'s socket to one of its host's vetted addresses (as guard._connect_public)."""
    if getattr(conn, "proxy", None) is not None:
        return connect()
    host = conn._dns_host
    last: Exception | None = None
    for address in vetted_addresses(host, conn.port or 80, allow):
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
    class Conn(_WatchedHTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(self, allow, super()._new_conn)

    class TLSConn(_WatchedHTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(self, allow, super()._new_conn)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConn

    return {"http": Pool, "https": TLSPool}


class _AllowingAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, allow: AllowList, **kwargs: Any):
        self._allow = allow
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pools(self._allow)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        vet_story_url(request.url or "", self._allow)
        return super().send(request, *args, **kwargs)


__all__ = ["AllowList", "story_session", "vet_story_url", "vetted_addresses"]
