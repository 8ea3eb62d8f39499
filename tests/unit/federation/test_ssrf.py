"""The SSRF guard: which addresses and URLs outgoing requests refuse."""

from __future__ import annotations

import re
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from federation.errors import UnsafeURLError
from federation.ssrf import GuardedResolver, check_url, is_forbidden_address

# address, forbidden without loopback, forbidden with allow_loopback
ADDRESSES = [
    ("93.184.216.34", False, False),
    ("8.8.8.8", False, False),
    ("2606:4700:4700::1111", False, False),
    ("::ffff:8.8.8.8", False, False),
    ("64:ff9b::808:808", False, False),  # NAT64 of a public address
    ("127.0.0.1", True, False),
    ("127.8.9.10", True, False),
    ("::1", True, False),
    ("::ffff:127.0.0.1", True, False),  # IPv4-mapped loopback
    ("10.1.2.3", True, True),
    ("172.16.0.1", True, True),
    ("192.168.1.1", True, True),
    ("169.254.169.254", True, True),  # cloud metadata endpoint
    ("::ffff:169.254.169.254", True, True),
    ("64:ff9b::a9fe:a9fe", True, True),  # NAT64 of the metadata endpoint
    ("fd00:ec2::254", True, True),  # AWS IPv6 metadata (ULA)
    ("100.64.0.1", True, True),  # CGNAT
    ("0.0.0.0", True, True),
    ("::", True, True),
    ("224.0.0.1", True, True),
    ("ff02::1", True, True),
    ("255.255.255.255", True, True),
    ("240.0.0.1", True, True),
    ("192.0.2.1", True, True),  # documentation
    ("fd12:3456::1", True, True),
    ("fe80::1", True, True),
    ("fe80::1%eth0", True, True),
    ("fec0::1", True, True),
    ("::ffff:10.0.0.1", True, True),
    ("::ffff:192.168.0.1", True, True),
    ("2002:a00:1::", True, True),  # 6to4 of 10.0.0.1
    ("not-an-ip", True, True),  # fails closed
]


@pytest.mark.parametrize(("address", "strict", "dev"), ADDRESSES)
def test_is_forbidden_address(address: str, strict: bool, dev: bool) -> None:
    """allow_loopback lifts the ban on loopback and nothing else."""
    assert is_forbidden_address(address, allow_loopback=False) is strict
    assert is_forbidden_address(address, allow_loopback=True) is dev


@pytest.mark.parametrize(
    ("url", "allow_loopback"),
    [
        ("https://example.com/users/bob", False),
        ("https://example.com:8443/users/bob", False),
        ("https://93.184.216.34/x", False),
        ("https://[2606:4700:4700::1111]/x", False),
        ("http://127.0.0.1:8080/users/bob", True),
        ("http://[::1]:8080/users/bob", True),
        ("http://localhost:8080/x", True),
        ("https://127.0.0.1/x", True),
        ("https://localhost/x", False),  # names are the resolver's job
    ],
)
def test_check_url_accepts(url: str, allow_loopback: bool) -> None:
    check_url(url, allow_loopback=allow_loopback)


@pytest.mark.parametrize(
    ("url", "allow_loopback"),
    [
        ("ftp://example.com/x", False),
        ("file:///etc/passwd", True),
        ("/relative/path", True),
        ("http://example.com/x", False),  # plain http outside dev mode
        ("http://example.com/x", True),  # plain http only to loopback, even in dev mode
        ("http://127.0.0.1:8080/x", False),
        ("https://127.0.0.1/x", False),
        ("https://[::1]/x", False),
        ("https://[::ffff:127.0.0.1]/x", False),
        ("https://169.254.169.254/latest/meta-data/", True),
        ("https://10.0.0.1/x", True),
        ("https://[fd00::1]/x", True),
        ("https://user:pass@example.com/x", False),
        ("https://user@example.com/x", False),
    ],
)
def test_check_url_refuses(url: str, allow_loopback: bool) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url, allow_loopback=allow_loopback)


class FakeResolver(AbstractResolver):
    """Answers every name with fixed addresses, like a hostile DNS server could."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_guarded_resolver_passes_public_answers() -> None:
    resolver = GuardedResolver(allow_loopback=False, inner=FakeResolver(["93.184.216.34"]))
    results = await resolver.resolve("example.com", 443)
    assert [r["host"] for r in results] == ["93.184.216.34"]


async def test_guarded_resolver_refuses_if_any_address_is_internal() -> None:
    """A name mixing a public and an internal address is refused as a whole (rebinding)."""
    inner = FakeResolver(["93.184.216.34", "169.254.169.254"])
    resolver = GuardedResolver(allow_loopback=True, inner=inner)
    with pytest.raises(UnsafeURLError, match=re.escape("169.254.169.254")):
        await resolver.resolve("rebind.example", 443)


async def test_guarded_resolver_refuses_localhost_unless_dev_mode() -> None:
    """The real system resolver answers localhost with loopback, which only dev mode allows."""
    strict = GuardedResolver(allow_loopback=False)
    with pytest.raises(UnsafeURLError):
        await strict.resolve("localhost", 80)
    await strict.close()
    dev = GuardedResolver(allow_loopback=True)
    assert await dev.resolve("localhost", 80)
    await dev.close()
