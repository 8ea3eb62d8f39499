"""SCIM 2.0 provisioning driven the way a company directory drives it: over HTTP with a
bearer token, against a real node on a loopback port."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server
from sqlalchemy import select

from node.circles import create_circle, members
from node.context import transaction
from node.db.models import AuditEntry, Circle, User
from node.identity.scim.links import find_group, link_group
from tests.api.conftest import issue_token
from tests.harness import PASSWORD, NodeFactory, RunningNode
from tests.identity.conftest import scim_token

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Directory:
    """The directory's SCIM client."""

    def __init__(self, node: RunningNode, session: aiohttp.ClientSession, token: str) -> None:
        self.node, self.session, self.token = node, session, token

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: int = 200,
        token: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/scim+json"
        async with self.session.request(
            method, f"{self.node.base_url}/scim/v2{path}", json=body, headers=headers
        ) as response:
            payload = await response.json(content_type=None) if response.status != 204 else None
            assert response.status == expect, (method, path, response.status, payload)
            if payload is not None:
                assert response.content_type == "application/scim+json"
            return payload


@pytest.fixture
async def directory(node_factory: NodeFactory) -> Any:
    node = await node_factory.start("acme", users=("alice",))
    async with aiohttp.ClientSession() as session:
        yield Directory(node, session, await scim_token(node))


#: The checker makes some seventy requests, many creating accounts: minutes on a busy machine.
@pytest.mark.timeout(600)
async def test_scim2_tester_finds_no_failure(node_factory: NodeFactory):
    """The scim2-tester compliance checker runs every check it has against the node:
    discovery, CRUD and PATCH of Users and Groups. Nothing may fail; the only skips are
    the cross-resource ``/.search``, which the node answers 501 as RFC 7644 allows."""
    node = await node_factory.start("acme", users=())
    token = await scim_token(node)

    def run() -> list[Any]:
        with httpx2.Client(
            base_url=f"{node.base_url}/scim/v2", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            return check_server(SyncSCIMClient(client))

    results = await asyncio.to_thread(run)
    failures = [
        (r.resource_type, r.title, r.reason)
        for r in results
        if r.status in (Status.ERROR, Status.CRITICAL, Status.DEVIATION)
    ]
    assert failures == [], failures
    skipped = [r.reason for r in results if r.status == Status.SKIPPED]
    assert all("/.search" in reason for reason in skipped), skipped
    assert sum(r.status == Status.SUCCESS for r in results) >= 60


async def test_provision_group_circle_and_suspend_within_the_request(directory: Directory):
    """Provisioning a user, adding them to a directory group linked to a circle, and
    deactivating them are each visible in the node as soon as the SCIM request answered."""
    node = directory.node
    # Given alice's "Team" circle, driven by the directory group "Sales"
    alice = await node.actor("alice")
    async with transaction(node.node) as db:
        circle = await create_circle(db, alice, "Team")
    group = await directory.call(
        "POST", "/Groups", {"schemas": [GROUP], "displayName": "Sales"}, expect=201
    )
    async with transaction(node.node) as db:
        await link_group(db, await find_group(db, "Sales"), "circle", circle.id)

    # When the directory provisions Dana
    dana = await directory.call(
        "POST",
        "/Users",
        {
            "schemas": [USER],
            "userName": "dana.smith@acme.example",
            "externalId": "00u1",
            "name": {"givenName": "Dana", "familyName": "Smith"},
            "displayName": "Dana Smith",
            "emails": [{"value": "dana.smith@acme.example", "primary": True, "type": "work"}],
            "active": True,
        },
        expect=201,
    )
    # Then the account exists, with a local name derived from the userName
    actor = await node.actor("dana_smith")
    assert actor.display_name == "Dana Smith"
    assert dana["userName"] == "dana.smith@acme.example"

    # When she is added to the group, she is in the circle
    await directory.call(
        "PATCH",
        f"/Groups/{group['id']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": dana["id"]}]}],
        },
    )
    async with node.node.reads() as db:
        assert [a.username for a in await members(db, await db.get(Circle, circle.id))] == [
            "dana_smith"
        ]

    # And she uses an app with a token
    token = await issue_token(node, "dana_smith")
    async with directory.session.get(
        f"{node.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200

    # When the directory deactivates her (Entra sends the boolean as a string)
    patched = await directory.call(
        "PATCH",
        f"/Users/{dana['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    )
    assert patched["active"] is False
    # Then the account is suspended, her token is dead and she left the circle
    async with node.node.reads() as db:
        user = await db.scalar(select(User).where(User.actor_id == actor.id))
        assert user is not None and user.disabled
        assert await members(db, await db.get(Circle, circle.id)) == []
        actions = list(
            await db.scalars(select(AuditEntry.action).where(AuditEntry.target == "dana_smith"))
        )
    assert "user.created" in actions and "user.suspended" in actions
    async with directory.session.get(
        f"{node.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 401

    # When reactivated, she is back in the circle, but her old token stays revoked
    await directory.call(
        "PATCH",
        f"/Users/{dana['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]},
    )
    async with node.node.reads() as db:
        assert len(await members(db, await db.get(Circle, circle.id))) == 1
    async with directory.session.get(
        f"{node.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 401

    # When deleted, SCIM no longer shows her; the account stays, suspended
    await directory.call("DELETE", f"/Users/{dana['id']}", expect=204)
    await directory.call("GET", f"/Users/{dana['id']}", expect=404)
    async with node.node.reads() as db:
        user = await db.scalar(select(User).where(User.actor_id == actor.id))
        assert user is not None and user.disabled
        assert await members(db, await db.get(Circle, circle.id)) == []


async def test_filter_pagination_and_errors(directory: Directory):
    """``userName eq`` (case-insensitive), paging, and SCIM error objects for bad input."""
    for n in range(5):
        await directory.call(
            "POST", "/Users", {"schemas": [USER], "userName": f"User{n}@acme.example"}, expect=201
        )
    found = await directory.call("GET", "/Users?filter=userName%20eq%20%22user3@ACME.example%22")
    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "User3@acme.example"
    # alice (made by hand) is listed by her local name
    found = await directory.call("GET", '/Users?filter=userName eq "alice"')
    assert found["totalResults"] == 1

    page = await directory.call("GET", "/Users?startIndex=2&count=2&attributes=userName")
    assert page["totalResults"] == 7  # admin, alice and the five
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert set(page["Resources"][0]) == {"schemas", "id", "userName"}

    conflict = await directory.call(
        "POST", "/Users", {"schemas": [USER], "userName": "user1@acme.example"}, expect=409
    )
    assert conflict["scimType"] == "uniqueness"
    bad = await directory.call("GET", "/Users?filter=userName%20eq", expect=400)
    assert bad["scimType"] == "invalidFilter"
    await directory.call("POST", "/Users", {"schemas": [USER]}, expect=400)
    await directory.call("GET", "/Users/12345", expect=404)
    await directory.call("GET", "/Users", expect=401, token="not-a-token")
    members = await directory.call(
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "Ghosts", "members": [{"value": "999"}]},
        expect=400,
    )
    assert "999" in members["detail"]


async def test_suspension_cuts_web_sessions_for_good(directory: Directory):
    """A browser signed in before a suspension stays signed out after reactivation: the
    cookie is not revived (sessions are revoked, not merely paused)."""
    node = directory.node
    found = await directory.call("GET", '/Users?filter=userName eq "alice"')
    alice_id = found["Resources"][0]["id"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(f"{node.base_url}/signin") as page:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert csrf is not None
        async with browser.post(
            f"{node.base_url}/signin",
            data={"username": "alice", "password": PASSWORD, "csrf_token": csrf.group(1)},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
        async with browser.get(f"{node.base_url}/home", allow_redirects=False) as home:
            assert home.status == 200

        for active in (False, True):
            await directory.call(
                "PATCH",
                f"/Users/{alice_id}",
                {
                    "schemas": [PATCH],
                    "Operations": [{"op": "replace", "path": "active", "value": active}],
                },
            )
            async with browser.get(f"{node.base_url}/home", allow_redirects=False) as home:
                assert home.status in (302, 303), active


async def test_directory_group_drives_a_group(directory: Directory):
    """A directory group linked to a group hosted here: its active members are the
    group's local members; leaving the directory group (or being deactivated) takes
    them out, and the group's own admin stays."""
    from node import groups

    node = directory.node
    alice = await node.actor("alice")
    crew = await groups.create_group(node.node, alice, "crew", members_only=True)
    scim_group = await directory.call(
        "POST", "/Groups", {"schemas": [GROUP], "displayName": "Crew"}, expect=201
    )
    async with transaction(node.node) as db:
        await link_group(db, await find_group(db, "Crew"), "group", crew.id)
    erin = await directory.call(
        "POST",
        "/Users",
        {"schemas": [USER], "userName": "erin@acme.example", "active": True},
        expect=201,
    )
    await directory.call(
        "PATCH",
        f"/Groups/{scim_group['id']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": erin["id"]}]}],
        },
    )
    erin_actor = await node.actor("erin")
    async with node.node.reads() as db:
        assert await groups.is_member(db, crew.id, erin_actor.id)
        assert await groups.is_member(db, crew.id, alice.id)
    await directory.call(
        "PATCH",
        f"/Users/{erin['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]},
    )
    async with node.node.reads() as db:
        assert not await groups.is_member(db, crew.id, erin_actor.id)
        assert await groups.is_member(db, crew.id, alice.id)
