"""The part of tests/api/test_openapi.py's scenario that exercises the reports and
moderation admin operations, each answer checked against docs/openapi.json."""

from __future__ import annotations

from typing import Any

from node.posts import create_post
from tests.api.conftest import issue_token
from tests.harness import RunningNode


async def moderation_scenario(node: RunningNode, call: Any) -> None:
    """Given bob's post, alice reports it; the admin lists, shows, resolves and reopens
    the report, silences bob and lifts it, suspends and unsuspends him."""
    a = await issue_token(node, "alice")
    admin = await issue_token(node, "admin", "admin:read admin:write")
    bob = await node.actor("bob")
    post = await create_post(node.node, bob, "Reported in the scenario")
    ids = {"id": str(bob.id)}
    report = await call(
        "POST",
        "/api/v1/reports",
        a,
        json={"account_id": ids["id"], "status_ids": [str(post.id)], "comment": "rude"},
    )
    await call(
        "POST", "/api/v1/reports", a, json={"account_id": ids["id"], "category": "x"}, expect=422
    )
    await call("POST", "/api/v1/reports", a, json={"account_id": "1"}, expect=404)
    listed = await call("GET", "/api/v1/admin/reports", admin)
    assert listed and listed[0]["id"] == report["id"]
    await call("GET", "/api/v1/admin/reports", a, expect=403)
    rid = {"id": report["id"]}
    shown = await call("GET", "/api/v1/admin/reports/{id}", admin, ids=rid)
    assert shown["statuses"][0]["id"] == str(post.id)
    await call("POST", "/api/v1/admin/reports/{id}/resolve", admin, ids=rid)
    await call("POST", "/api/v1/admin/reports/{id}/reopen", admin, ids=rid)
    await call(
        "POST",
        "/api/v1/admin/accounts/{id}/action",
        admin,
        ids=ids,
        json={"type": "silence", "report_id": report["id"], "text": "calm down"},
    )
    await call(
        "POST", "/api/v1/admin/accounts/{id}/action", admin, ids=ids, json={"type": "x"}, expect=422
    )
    await call("POST", "/api/v1/admin/accounts/{id}/unsilence", admin, ids=ids)
    await call(
        "POST", "/api/v1/admin/accounts/{id}/action", admin, ids=ids, json={"type": "sensitive"}
    )
    await call("POST", "/api/v1/admin/accounts/{id}/unsensitive", admin, ids=ids)
    await call(
        "POST", "/api/v1/admin/accounts/{id}/action", admin, ids=ids, json={"type": "suspend"}
    )
    await call("POST", "/api/v1/admin/accounts/{id}/unsuspend", admin, ids=ids)
