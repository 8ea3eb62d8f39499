"""A circle post with members on two nodes: each member's personal inbox gets it, and
what travels names none of the members (DESIGN.md section 3: membership stays private)."""

from __future__ import annotations

import json

from sqlalchemy import select

from node.circles import add_members, create_circle
from node.context import transaction
from node.db.models import Delivery, Post
from node.posts import create_post
from node.remote_actors import resolve_account
from node.visibility import viewer_can_see
from tests.harness import NodeFactory, RunningNode, wait_for


async def _sees(node: RunningNode, username: str, uri: str) -> bool:
    async with node.node.reads() as db:
        post = await db.scalar(select(Post).where(Post.uri == uri))
        return post is not None and await viewer_can_see(db, await node.actor(username), post)


async def test_circle_post_names_no_member(node_factory: NodeFactory):
    a = await node_factory.start("a", users=("alice", "colleague", "other"))
    b = await node_factory.start("b", users=("bob", "bart", "bea"))
    alice = await a.actor("alice")
    colleague = await a.actor("colleague")
    bob = await resolve_account(a.node, b.handle("bob"))
    bart = await resolve_account(a.node, b.handle("bart"))
    async with transaction(a.node) as db:
        circle = await create_circle(db, alice, "project")
        await add_members(db, circle, [colleague, bob, bart])
    post = await create_post(
        a.node, alice, "for the project", audience="circle", circle_ids=[circle.id]
    )

    # What is sent: one delivery per member's personal inbox, naming nobody
    async with a.node.reads() as db:
        rows = list(
            await db.scalars(select(Delivery).where(Delivery.activity_uri.like(f"{post.uri}%")))
        )
    assert sorted(r.inbox for r in rows) == sorted([bob.inbox, bart.inbox])
    members = [colleague.uri, bob.uri, bart.uri]
    for row in rows:
        body = json.loads(row.body)
        text = row.body.decode()
        assert "bto" not in body and "bcc" not in body
        assert "bto" not in body["object"] and "bcc" not in body["object"]
        assert not any(uri in text for uri in members), text

    await a.deliver_all()
    await wait_for(lambda: _sees(b, "bob", post.uri))
    await wait_for(lambda: _sees(b, "bart", post.uri))
    assert not await _sees(b, "bea", post.uri)
    assert await _sees(a, "colleague", post.uri)
    assert not await _sees(a, "other", post.uri)
    # What B stored names nobody either
    async with b.node.reads() as db:
        stored = await db.scalar(select(Post).where(Post.uri == post.uri))
    assert stored is not None and stored.audience == "circle"
    raw = json.dumps(stored.raw)
    assert "bto" not in stored.raw and "bcc" not in stored.raw
    assert not any(uri in raw for uri in members)
