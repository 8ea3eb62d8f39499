"""The instance endpoints over real HTTP: the shapes clients parse before signing in, and
numbers counted from what the node really holds."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from node.api.mastodon.instance import streaming_url
from node.context import transaction
from node.db.models import Actor, NodeSetting, User
from node.posts import create_post
from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory, RunningNode, make_settings

pytestmark = pytest.mark.timeout(60)

VERSION_RE = re.compile(r"^4\.\d+\.\d+ \(compatible; Cercle")
ACCOUNT_KEYS = {"id", "username", "acct", "display_name", "url", "avatar", "created_at"}


async def add_remote_actors(node: RunningNode, *handles: str) -> None:
    """Actors as the inbox would cache them after hearing from peers."""
    async with transaction(node.node) as db:
        for handle in handles:
            username, domain = handle.split("@")
            db.add(
                Actor(
                    uri=f"https://{domain}/users/{username}",
                    local=False,
                    username=username,
                    domain=domain,
                    inbox=f"https://{domain}/users/{username}/inbox",
                )
            )


async def populate(node: RunningNode) -> None:
    """Two posts by alice, three remote actors on two domains, an e-mail for the admin."""
    alice = await node.actor("alice")
    await create_post(node.node, alice, "hello")
    await create_post(node.node, alice, "again")
    await add_remote_actors(node, "bob@b.example", "eve@b.example", "zed@a.example")
    admin = await node.actor("admin")
    async with transaction(node.node) as db:
        await db.execute(
            update(User).where(User.actor_id == admin.id).values(email="it@acme.example")
        )


async def test_instance_v2_shape_and_values(node_a: RunningNode, api: ClientFactory) -> None:
    """Every documented field, with the types clients decode, and counted values."""
    await populate(node_a)
    client = await api(node_a, None)
    body = await client.get("/api/v2/instance")
    assert VERSION_RE.match(body["version"]), body["version"]
    assert body["version"] == "4.3.0 (compatible; Cercle 0.1.0)"
    assert body["domain"] == node_a.domain
    assert body["title"] == "Org a"
    assert isinstance(body["description"], str) and isinstance(body["source_url"], str)
    assert body["usage"] == {"users": {"active_month": 1}}
    assert body["thumbnail"]["url"] == f"{node_a.base_url}/static/header.png"
    assert body["icon"] == [{"src": f"{node_a.base_url}/static/avatar.png", "size": "120x120"}]
    assert body["languages"] == ["en"]
    assert body["api_versions"] == {"mastodon": 2}
    assert body["registrations"]["enabled"] is False
    assert body["registrations"]["approval_required"] is False
    assert body["rules"] == []

    config = body["configuration"]
    assert config["urls"] == {"streaming": f"ws://{node_a.domain}"}
    assert config["statuses"] == {
        "max_characters": 5000,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    media = config["media_attachments"]
    assert media["supported_mime_types"] == ["image/jpeg", "image/png", "image/gif", "image/webp"]
    assert media["image_size_limit"] == 16 * 1024 * 1024
    assert media["image_matrix_limit"] == 33_177_600
    assert config["polls"] == {
        "max_options": 4,
        "max_characters_per_option": 50,
        "min_expiration": 300,
        "max_expiration": 2_629_746,
    }
    assert isinstance(config["accounts"]["max_featured_tags"], int)
    assert config["translation"] == {"enabled": False}
    assert "public_key" in config["vapid"]

    contact = body["contact"]
    assert contact["email"] == "it@acme.example"
    assert ACCOUNT_KEYS <= set(contact["account"])
    assert contact["account"]["username"] == "admin"


async def test_instance_v1_shape_and_stats(node_a: RunningNode, api: ClientFactory) -> None:
    await populate(node_a)
    client = await api(node_a, None)
    body = await client.get("/api/v1/instance")
    assert VERSION_RE.match(body["version"])
    assert body["uri"] == node_a.domain
    assert body["title"] == "Org a"
    assert body["email"] == "it@acme.example"
    assert body["urls"] == {"streaming_api": f"ws://{node_a.domain}"}
    # admin, alice and carol; alice's two posts; b.example and a.example
    assert body["stats"] == {"user_count": 3, "status_count": 2, "domain_count": 2}
    assert body["thumbnail"] == f"{node_a.base_url}/static/header.png"
    assert body["registrations"] is False and body["approval_required"] is False
    assert body["invites_enabled"] is False
    assert body["configuration"]["statuses"]["max_characters"] == 5000
    assert body["contact_account"]["username"] == "admin"
    assert body["rules"] == []
    assert isinstance(body["short_description"], str) and isinstance(body["languages"], list)


async def test_instance_answers_with_a_trailing_slash_and_cors(
    node_a: RunningNode, api: ClientFactory
) -> None:
    client = await api(node_a, None)
    _, body, headers = await client.call("GET", "/api/v2/instance/")
    assert VERSION_RE.match(body["version"])
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_streaming_url_is_ws_only_for_a_dev_node_on_loopback(tmp_path: Path) -> None:
    dev = make_settings(tmp_path, 8080)
    assert streaming_url(dev) == "ws://127.0.0.1:8080"
    production = dev.with_overrides(dev=False, domain="social.acme.example")
    assert streaming_url(production) == "wss://social.acme.example"


async def test_rules_are_empty_until_an_admin_sets_them(
    node_a: RunningNode, api: ClientFactory
) -> None:
    client = await api(node_a, None)
    assert await client.get("/api/v1/instance/rules") == []
    async with transaction(node_a.node) as db:
        db.add(NodeSetting(key="rules", value=json.dumps(["Be kind", "No secrets"])))
    expected = [
        {"id": "1", "text": "Be kind", "hint": ""},
        {"id": "2", "text": "No secrets", "hint": ""},
    ]
    assert await client.get("/api/v1/instance/rules") == expected
    assert (await client.get("/api/v2/instance"))["rules"] == expected
    assert (await client.get("/api/v1/instance"))["rules"] == expected


async def test_peers_activity_and_custom_emojis(node_a: RunningNode, api: ClientFactory) -> None:
    await populate(node_a)
    anonymous = await api(node_a, None)
    assert await anonymous.get("/api/v1/instance/peers") == ["a.example", "b.example"]
    assert await anonymous.get("/api/v1/custom_emojis") == []

    await api(node_a, "alice")  # a sign-in this week
    weeks: list[dict[str, Any]] = await anonymous.get("/api/v1/instance/activity")
    assert len(weeks) == 12
    assert all(set(w) == {"week", "statuses", "logins", "registrations"} for w in weeks)
    assert all(isinstance(v, str) for w in weeks for v in w.values())
    starts = [int(w["week"]) for w in weeks]
    assert starts == sorted(starts, reverse=True)
    assert all(b - a == 7 * 86400 for a, b in zip(starts[1:], starts, strict=False))
    monday = datetime.fromtimestamp(starts[0], UTC)
    assert monday.weekday() == 0 and (monday.hour, monday.minute) == (0, 0)
    this_week = weeks[0]
    assert this_week["statuses"] == "2"
    assert this_week["logins"] == "1"
    assert this_week["registrations"] == "3"


async def test_peers_and_activity_are_for_members_on_a_partners_node(
    node_factory: NodeFactory, api: ClientFactory
) -> None:
    """A node federating only with partners does not list them for strangers."""
    node = await node_factory.start("p", users=("alice",), federation_mode="partners")
    anonymous = await api(node, None)
    for path in ("/api/v1/instance/peers", "/api/v1/instance/activity"):
        await anonymous.get(path, expect=401)
    member = await api(node, "alice", scopes="read")
    assert await member.get("/api/v1/instance/peers") == []
    assert len(await member.get("/api/v1/instance/activity")) == 12
    assert (await anonymous.get("/api/v2/instance"))["domain"] == node.domain
