"""The part of tests/api/test_openapi.py's scenario that exercises the group operations,
each answer checked against docs/openapi.json."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import issue_token
from tests.harness import RunningNode


async def groups_scenario(node: RunningNode, call: Any) -> None:
    """alice creates a group, bob asks to join and is let in, carol is invited then
    refused a role; posts are made and removed; every group operation answers as
    documented."""
    a = await issue_token(node, "alice")
    b = await issue_token(node, "bob")
    c = await issue_token(node, "carol")
    group = await call(
        "POST", "/api/v1/groups", a, json={"name": "schema_crew", "display_name": "Crew"}
    )
    await call("POST", "/api/v1/groups", a, json={"name": "schema_crew"}, expect=409)
    gid = {"id": group["id"]}
    me_b = await call("GET", "/api/v1/accounts/verify_credentials", b)
    me_c = await call("GET", "/api/v1/accounts/verify_credentials", c)
    await call("POST", "/api/v1/accounts/{id}/follow", b, ids=gid)
    await call("GET", "/api/v1/groups/{id}/requests", a, ids=gid)
    await call("GET", "/api/v1/groups/{id}/requests", b, ids=gid, expect=403)
    bob = {**gid, "account_id": me_b["id"]}
    await call("POST", "/api/v1/groups/{id}/requests/{account_id}/authorize", a, ids=bob)
    await call("GET", "/api/v1/groups", b)
    await call("GET", "/api/v1/groups/{id}/members", b, ids=gid)
    await call("GET", "/api/v1/groups/{id}/members", ids=gid, expect=404)
    await call("POST", "/api/v1/accounts/{id}/follow", c, ids=gid)
    carol = {**gid, "account_id": me_c["id"]}
    await call("POST", "/api/v1/groups/{id}/requests/{account_id}/reject", a, ids=carol)
    await call(
        "POST", "/api/v1/groups/{id}/invitations", a, ids=gid, json={"account_ids": [me_c["id"]]}
    )
    await call("POST", "/api/v1/accounts/{id}/follow", c, ids=gid)
    await call("PUT", "/api/v1/groups/{id}/roles/{account_id}", a, ids=bob,
               json={"role": "moderator"})  # fmt: skip
    await call("PUT", "/api/v1/groups/{id}/roles/{account_id}", c, ids=bob, expect=403)
    status = await call(
        "POST", "/api/v1/statuses", c, json={"status": "hello crew", "group_id": group["id"]}
    )
    await call(
        "DELETE",
        "/api/v1/groups/{id}/statuses/{status_id}",
        b,
        ids={**gid, "status_id": status["id"]},
    )
    await call("DELETE", "/api/v1/groups/{id}/members/{account_id}", b, ids=carol)
    await call("DELETE", "/api/v1/groups/{id}/roles/{account_id}", a, ids=bob)
