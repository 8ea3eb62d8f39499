"""Guards that keep remote fetches and deliveries away from internal addresses (SSRF).

Any remote actor can make Cercle fetch a URL of its choosing (a key id, an ``inReplyTo``, an
avatar), so every outgoing request must be kept off loopback, private networks and cloud
metadata endpoints. The check is made twice:

* ``check_url`` looks at the URL itself: scheme, userinfo, and literal IP hosts (aiohttp
  connects to a literal IP without asking the resolver);
* ``GuardedResolver`` checks every address a host name resolves to, at connect time. Because
  the check happens on the very addresses aiohttp then connects to, a name that resolves to a
  public address when checked and to 127.0.0.1 when used (DNS rebinding) cannot slip through.

``allow_loopback`` is the ``--dev`` mode used by tests and local multi-node setups: it lets
loopback addresses through (and plain http to them), and nothing else.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from federation.errors import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges refused in addition to what ``ipaddress`` already classes as private, reserved,
# link-local, multicast or unspecified — listed so the rule does not depend on the Python
# patch release (those properties have changed between 3.11 releases).
_EXTRA_FORBIDDEN: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("0.0.0.0/8"),  # "this network"; 0.0.0.0 reaches localhost on Linux
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT (RFC 6598)
    ipaddress.ip_network("169.254.0.0/16"),  # link-local, incl. 169.254.169.254 metadata
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("240.0.0.0/4"),  # reserved, incl. broadcast
    ipaddress.ip_network("fc00::/7"),  # unique local addresses
    ipaddress.ip_network("fe80::/10"),  # link-local
    ipaddress.ip_network("fec0::/10"),  # deprecated site-local
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ipaddress.ip_network("100::/64"),  # discard-only
    ipaddress.ip_network("2001:db8::/32"),  # documentation
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOOPBACK_NAMES = ("localhost",)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to, if any (mapped, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_forbidden_address(ip: str | IPAddress, *, allow_loopback: bool) -> bool:
    """Whether outgoing requests must refuse this address.

    Refused: private, loopback, link-local (incl. the 169.254.169.254 metadata endpoint),
    multicast, reserved, unspecified, CGNAT, IPv6 unique-local and site-local, and any IPv6
    address that embeds one of those IPv4 addresses (IPv4-mapped, NAT64, 6to4, Teredo).
    ``allow_loopback`` lifts the ban on loopback only. Anything that does not parse as an
    address is refused: the guard fails closed.
    """
    try:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return True
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id is not None:
            addr = ipaddress.IPv6Address(str(addr).split("%", 1)[0])
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return is_forbidden_address(embedded, allow_loopback=allow_loopback)
    if addr.is_loopback:
        return not allow_loopback
    if (
        addr.is_private
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or (isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local)
    ):
        return True
    if any(addr in net for net in _EXTRA_FORBIDDEN if net.version == addr.version):
        return True
    return not addr.is_global


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_loopback_host(host: str) -> bool:
    """A literal loopback address or a ``localhost`` name (RFC 6761 keeps those local)."""
    ip = _literal_ip(host)
    if ip is not None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback
    name = host.rstrip(".").lower()
    return name in _LOOPBACK_NAMES or name.endswith(".localhost")


def check_url(url: str | URL, *, allow_loopback: bool) -> None:
    """Refuse a URL that outgoing requests must not touch, looking at the URL alone.

    https only; plain http only in dev mode (``allow_loopback``) and only to a loopback
    host, which is how tests and local multi-node setups run. No userinfo (it would send
    credentials and confuses host parsing). Literal IP hosts are checked here; host names are
    checked by ``GuardedResolver`` when they are resolved.
    """
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except ValueError as exc:
        raise UnsafeURLError(f"not a valid URL: {url!s}") from exc
    if not parsed.is_absolute() or not parsed.host:
        raise UnsafeURLError(f"not an absolute URL: {url!s}")
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURLError(f"scheme {parsed.scheme!r} is not allowed: {url!s}")
    if parsed.user is not None or parsed.password is not None:
        raise UnsafeURLError(f"URLs with credentials are not allowed: {url!s}")
    host = parsed.host
    if parsed.scheme == "http" and not (allow_loopback and _is_loopback_host(host)):
        raise UnsafeURLError(f"plain http is only allowed to loopback in dev mode: {url!s}")
    ip = _literal_ip(host)
    if ip is not None and is_forbidden_address(ip, allow_loopback=allow_loopback):
        raise UnsafeURLError(f"address {ip} is not allowed: {url!s}")


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses host names resolving to forbidden addresses.

    It wraps aiohttp's default resolver and raises ``UnsafeURLError`` if *any* address of the
    answer is forbidden, rather than filtering: a name that mixes public and internal
    addresses is hostile or broken either way. Create it inside a running event loop.
    """

    def __init__(self, *, allow_loopback: bool, inner: AbstractResolver | None = None) -> None:
        self._allow_loopback = allow_loopback
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if is_forbidden_address(result["host"], allow_loopback=self._allow_loopback):
                raise UnsafeURLError(f"{host} resolves to forbidden address {result['host']}")
        return results

    async def close(self) -> None:
        await self._inner.close()
