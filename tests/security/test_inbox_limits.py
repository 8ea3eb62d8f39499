"""Inbox abuse limits against a real node: a flooding peer gets 429 with Retry-After, one
flooding account does not use up its server's budget for others, a follower-count bomb and
a reply flood are capped per domain, oversized and nested-bomb bodies are refused — and
nothing refused is stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import func, select

from node.db.models import Follow, Post, ReceivedActivity
from node.inbox.rate_limit import InboxLimits
from tests.fake_peer import AS2, FakePeer
from tests.harness import NodeFactory, RunningNode

LIMITS = {"per_account": 5, "per_domain": 8, "interactions_per_domain": 3}


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = await FakePeer().start()
    for name in ("alice", "mallory", *(f"bot{n}" for n in range(6))):
        fake.add_actor(name)
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def limited(node_factory: NodeFactory, peer: FakePeer) -> RunningNode:
    running = await node_factory.start(
        "limited", users=("bob",), workers=False, extra={"inbox_limits": LIMITS}
    )
    peer.bob_domain = running.domain  # type: ignore[attr-defined]
    return running


def note(peer: FakePeer, user: str, n: int, *, reply_to: str | None = None) -> dict:
    """A public Create mentioning bob (so the node stores it: it concerns a local user)."""
    actor = peer.actor_uri(user)
    bob = f"http://{peer.bob_domain}/users/bob"
    obj = {
        "id": f"{actor}/notes/{n}",
        "type": "Note",
        "attributedTo": actor,
        "content": f"<p>@bob note {n}</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public", bob],
        "tag": [{"type": "Mention", "href": bob, "name": "@bob"}],
    }
    if reply_to:
        obj["inReplyTo"] = reply_to
    return {
        "@context": AS2,
        "id": f"{actor}/notes/{n}/activity",
        "type": "Create",
        "actor": actor,
        "object": obj,
        "to": obj["to"],
    }


def follow(peer: FakePeer, user: str, target: str) -> dict:
    actor = peer.actor_uri(user)
    return {"@context": AS2, "id": f"{actor}/follows/1", "type": "Follow", "actor": actor,
            "object": target}  # fmt: skip


async def send(peer: FakePeer, node: RunningNode, activity: dict, user: str) -> int:
    status, _ = await peer.post(
        f"{node.base_url}/inbox", activity, key_id=f"{peer.actor_uri(user)}#main-key"
    )
    return status


async def count(node: RunningNode, model: type) -> int:
    async with node.node.reads() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_one_account_flooding_gets_429_with_retry_after(
    limited: RunningNode, peer: FakePeer
) -> None:
    """Given a per-account limit of 5 a minute, the 6th Create from one account is refused
    with 429 and a Retry-After, and is not stored; another account of the same server
    still gets through (its own budget), until the domain budget (8) runs out."""
    statuses = [await send(peer, limited, note(peer, "mallory", n), "mallory") for n in range(6)]
    assert statuses == [202] * 5 + [429]
    url = f"{limited.base_url}/inbox"
    body = json.dumps(note(peer, "mallory", 99)).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url,
            data=body,
            headers=peer.signed(url, body, key_id=f"{peer.actor_uri('mallory')}#main-key"),
        ) as response,  # fmt: skip
    ):
        assert response.status == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert "mallory" in (await response.json())["error"]
    assert await count(limited, Post) == 5
    others = [await send(peer, limited, note(peer, "alice", n), "alice") for n in range(4)]
    assert others == [202, 202, 202, 429], "domain budget: 8 a minute in all"
    assert await count(limited, Post) == 8


async def test_follower_bomb_is_capped_per_domain(limited: RunningNode, peer: FakePeer) -> None:
    """Six fresh accounts of one server following bob within a minute: three are applied,
    the rest wait (429) — the follower count cannot be pumped faster than the cap."""
    target = limited.actor_uri("bob")
    statuses = [
        await send(peer, limited, follow(peer, f"bot{n}", target), f"bot{n}") for n in range(6)
    ]
    assert statuses == [202, 202, 202, 429, 429, 429]
    assert await count(limited, Follow) == 3


async def test_reply_flood_is_capped_but_plain_posts_are_not(
    limited: RunningNode, peer: FakePeer
) -> None:
    """Replies count against the interaction budget (3); a plain post does not."""
    parent = f"{limited.base_url}/users/bob/statuses/1"
    replies = [
        await send(peer, limited, note(peer, f"bot{n}", n, reply_to=parent), f"bot{n}")
        for n in range(4)
    ]
    assert replies == [202, 202, 202, 429]
    assert await send(peer, limited, note(peer, "bot5", 50), "bot5") == 202


async def test_forged_key_id_does_not_spend_a_peers_budget(
    limited: RunningNode, peer: FakePeer
) -> None:
    """Requests whose signature does not verify are refused (401) before counting, so a
    forger cannot lock a real peer out by naming its key."""
    from federation.signatures.keys import generate_rsa_key

    wrong = generate_rsa_key()
    for n in range(10):
        status, _ = await peer.post(
            f"{limited.base_url}/inbox", note(peer, "alice", n), private_key=wrong
        )
        assert status == 401
    assert await send(peer, limited, note(peer, "alice", 100), "alice") == 202


async def test_body_cap_and_nesting_bomb(limited: RunningNode, peer: FakePeer) -> None:
    """A body over max_body_bytes gets 413 (announced or streamed without a length); a
    JSON nesting bomb that fits the cap gets 400, not a server error."""
    url = f"{limited.base_url}/inbox"
    cap = limited.settings.max_body_bytes
    big = b'{"x": "' + b"a" * cap + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/activity+json"}
        async with session.post(url, data=big, headers=headers) as response:
            assert response.status == 413
        async with session.post(url, data=chunks(), headers=headers) as response:
            assert response.status == 413
        bomb = b"[" * 200_000 + b"]" * 200_000
        async with session.post(url, data=bomb, headers=peer.signed(url, bomb)) as response:
            assert response.status == 400, await response.text()
            assert "malformed JSON" in (await response.json())["error"]
    assert await count(limited, ReceivedActivity) == 0


def test_windows_reset_and_retry_after_counts_down() -> None:
    """Pure: a fresh window admits again; Retry-After is the time left in the window."""
    from federation.vocab import parse_activity

    limits = InboxLimits(per_account=1, per_domain=10, interactions_per_domain=10, window=60)
    activity = parse_activity(
        {
            "type": "Like",
            "id": "https://p.example/l",
            "actor": "https://p.example/u",
            "object": "https://n.example/o",
        }
    )
    assert limits.check("https://p.example/u", "p.example", activity, now=100.0) is None
    refusal = limits.check("https://p.example/u", "p.example", activity, now=130.0)
    assert refusal is not None and refusal.retry_after == 30
    assert limits.check("https://p.example/u", "p.example", activity, now=160.0) is None


def test_limits_come_from_the_toml_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``[inbox_limits]`` in cercle.toml reaches the node's limiter; missing keys keep
    their defaults."""
    from node.inbox.rate_limit import DEFAULTS
    from node.settings import load_settings

    (tmp_path / "cercle.toml").write_text("[inbox_limits]\nper_domain = 42\n")
    settings = load_settings({"CERCLE_DATA_DIR": str(tmp_path), "CERCLE_DEV": "1"})
    limits = InboxLimits.from_config(settings.extra.get("inbox_limits"))
    assert limits.domains.limit == 42
    assert limits.accounts.limit == DEFAULTS["per_account"]
    assert limits.interactions.limit == DEFAULTS["interactions_per_domain"]
