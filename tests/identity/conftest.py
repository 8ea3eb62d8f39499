"""Fixtures for enterprise identity: a SCIM bearer token on a running node."""

from __future__ import annotations

from node.context import transaction
from node.identity.scim.tokens import create_token
from tests.harness import RunningNode


async def scim_token(node: RunningNode, name: str = "directory") -> str:
    """A token as ``cercle scim token create`` makes it (the CLI has its own test)."""
    async with transaction(node.node) as db:
        return (await create_token(db, name)).token
