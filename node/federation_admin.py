"""The admin's federation settings as the admin pages change them: the federation mode
and the list of blocked domains (``node/policy.py`` holds the rules and the cache)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from node.context import Node, transaction
from node.db.models import DomainState
from node.errors import Invalid
from node.policy import MODES, federation_mode, set_domain_block, set_federation_mode

#: A host name with an optional port (loopback test nodes have ports); no scheme, no path.
DOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::\d{1,5})?$")


@dataclass(frozen=True)
class FederationPolicy:
    mode: str
    blocked: list[str]


def check_domain(domain: str) -> str:
    """The domain as stored (lower case), or Invalid with an example of what fits."""
    name = domain.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    host, _, port = name.partition(":")
    # a bare word is a typo, not a host; loopback test nodes are written with a port
    if not DOMAIN_RE.match(name) or ("." not in host and not port):
        raise Invalid(f"{domain.strip()!r} is not a domain name: write it like spam.example")
    return name


async def federation_policy(node: Node) -> FederationPolicy:
    async with node.reads() as db:
        mode = await federation_mode(db, node.settings.federation_mode)
        blocked = list(
            await db.scalars(
                select(DomainState.domain)
                .where(DomainState.blocked.is_(True))
                .order_by(DomainState.domain)
            )
        )
    return FederationPolicy(mode=mode, blocked=blocked)


async def change_mode(node: Node, mode: str) -> None:
    if mode not in MODES:
        raise Invalid(f"unknown federation mode {mode!r}: one of {', '.join(MODES)}")
    async with transaction(node) as db:
        await set_federation_mode(db, mode)


async def block_domain(node: Node, domain: str, blocked: bool = True) -> str:
    """Block (or unblock) a domain; returns it as stored. Blocking this node's own domain
    is refused: it would refuse every local delivery and fetch."""
    name = check_domain(domain)
    if name == node.settings.domain.lower():
        raise Invalid("this is the node's own domain: it cannot be blocked")
    async with transaction(node) as db:
        await set_domain_block(db, name, blocked)
    return name
