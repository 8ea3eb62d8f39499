"""Shared fixtures: real nodes on loopback ports, each with its own data directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import NodeFactory, RunningNode


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
