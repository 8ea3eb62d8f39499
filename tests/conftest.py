"""Shared fixtures: real nodes on loopback ports, each with its own data directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness import NodeFactory, RunningNode, drop_migrated_template


@pytest.fixture(scope="session", autouse=True)
def _migrated_template() -> Iterator[None]:
    """Nodes start from a copy of one migrated database per test process (harness.py);
    it is built on first use and dropped here, after the process's last test, once the
    nodes' databases, dropped in the background, are gone."""
    yield
    drop_migrated_template()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2id with small parameters in the test process. Every node the suite starts
    hashes two to four passwords and every sign-in verifies one; with the tuned defaults
    (64 MiB, three passes, four lanes) each costs about 0.2 CPU-second, which made up
    about half of the CPU time of starting a node. Hashes are still real argon2id hashes
    made and checked by the node's own code; only their cost differs. CLI processes the
    tests start keep the defaults."""
    from argon2 import PasswordHasher

    import node.passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    original = node.passwords._hasher
    node.passwords._hasher = lambda: cheap  # type: ignore[assignment]
    try:
        yield
    finally:
        node.passwords._hasher = original  # type: ignore[assignment]


@pytest.fixture
async def node_factory(tmp_path: Path) -> AsyncIterator[NodeFactory]:
    factory = NodeFactory(tmp_path)
    try:
        yield factory
    finally:
        await factory.stop_all()


@pytest.fixture
async def node_a(node_factory: NodeFactory) -> RunningNode:
    return await node_factory.start("a", users=("alice", "carol"))


@pytest.fixture
async def node_b(node_factory: NodeFactory) -> RunningNode:
    return await node_factory.start("b", users=("bob",))
