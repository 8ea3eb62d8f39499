"""Forming a partnership between two running nodes the way two admins do: one proposes,
the other accepts, and the handshake's activities travel between the real nodes."""

from __future__ import annotations

from node import partners
from tests.harness import RunningNode, wait_for


async def partnership_state(node: RunningNode, domain: str) -> str | None:
    for p in await partners.partnerships(node.node):
        if p.domain == domain:
            return p.state
    return None


async def make_partners(a: RunningNode, b: RunningNode) -> None:
    await partners.propose(a.node, b.domain)
    await a.deliver_all()
    await wait_for(lambda: _is(b, a.domain, "requested"))
    await partners.accept(b.node, a.domain)
    for _ in range(3):
        await b.deliver_all()
        await a.deliver_all()
    await wait_for(lambda: _is(a, b.domain, "active"))
    await wait_for(lambda: _is(b, a.domain, "active"))


async def _is(node: RunningNode, domain: str, state: str) -> bool:
    return await partnership_state(node, domain) == state
