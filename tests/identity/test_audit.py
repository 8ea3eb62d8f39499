"""The audit log is append-only in the database itself, and records what services do."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from node.context import transaction
from node.db.models import AuditEntry
from node.identity.audit import acting_as, audit_entries
from node.policy import set_domain_block, set_federation_mode
from tests.harness import NodeFactory


async def test_entries_cannot_be_changed_or_removed(node_factory: NodeFactory):
    node = (await node_factory.start("acme", users=())).node
    # Given an admin changes the federation mode and blocks a domain
    with acting_as("admin", "192.0.2.7"):
        async with transaction(node) as db:
            await set_federation_mode(db, "partners")
            await set_domain_block(db, "spam.example", True)
    async with node.reads() as db:
        entries = await audit_entries(db, action="")
    assert [(e.actor, e.action, e.target, e.address) for e in entries][-2:] == [
        ("admin", "federation.mode", "partners", "192.0.2.7"),
        ("admin", "domain.blocked", "spam.example", "192.0.2.7"),
    ]
    # Then neither UPDATE nor DELETE can touch them, even with direct SQL
    for statement in (
        update(AuditEntry).values(actor="someone else"),
        delete(AuditEntry),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(node) as db:
                await db.execute(statement)
    async with node.reads() as db:
        assert (
            await db.scalar(select(AuditEntry.actor).where(AuditEntry.action == "domain.blocked"))
            == "admin"
        )
