"""Retention and legal hold across two real nodes: expired posts are deleted, held ones
are kept, and the peer that received a deleted post gets its Delete."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from node.context import transaction
from node.db.models import AuditEntry, Post
from node.db.types import utcnow
from node.follows import follow
from node.identity.retention import run_retention, set_hold, set_policy
from node.posts import create_post
from node.remote_actors import resolve_account
from tests.harness import NodeFactory, wait_for


async def test_retention_deletes_exactly_the_expired_posts_not_on_hold(node_factory: NodeFactory):
    a = await node_factory.start("a", users=("alice", "carol"), workers=False)
    b = await node_factory.start("b", users=("bob",), workers=False)
    # Given bob@B follows alice and carol on A
    bob = await b.actor("bob")
    for name in ("alice", "carol"):
        await follow(b.node, bob, await resolve_account(b.node, a.handle(name)))
    await b.deliver_all()
    await a.deliver_all()
    # And posts of several ages and audiences
    alice, carol = await a.actor("alice"), await a.actor("carol")
    old_public = await create_post(a.node, alice, "old and public")
    old_org = await create_post(a.node, alice, "old, organisation", audience="organisation")
    new_public = await create_post(a.node, alice, "recent and public")
    old_followers = await create_post(a.node, alice, "old, followers only", audience="followers")
    held = await create_post(a.node, carol, "old, but carol is on legal hold")
    await a.deliver_all()

    async def received(uri: str) -> bool:
        async with b.node.reads() as db:
            return await db.scalar(select(Post.id).where(Post.uri == uri)) is not None

    await wait_for(lambda: received(old_public.uri))
    three_years_ago = utcnow() - timedelta(days=3 * 365)
    async with transaction(a.node) as db:
        await db.execute(
            update(Post)
            .where(Post.id.in_([old_public.id, old_org.id, old_followers.id, held.id]))
            .values(published=three_years_ago)
        )
        # When policies keep public and organisation posts two years, followers posts ten
        await set_policy(db, "public", 730)
        await set_policy(db, "organisation", 730)
        await set_policy(db, "followers", 3650)
        await set_hold(db, "carol", True, "litigation 2026-17")

    report = await run_retention(a.node)

    # Then exactly the expired posts not on hold are deleted
    assert report.deleted == 2
    async with a.node.reads() as db:
        deleted = {
            p.id: p.deleted_at is not None
            for p in await db.scalars(
                select(Post).where(
                    Post.id.in_(
                        [old_public.id, old_org.id, new_public.id, old_followers.id, held.id]
                    )
                )
            )
        }
        actions = list(await db.scalars(select(AuditEntry.action)))
    assert deleted == {
        old_public.id: True,
        old_org.id: True,
        new_public.id: False,
        old_followers.id: False,
        held.id: False,
    }
    assert {"retention.policy", "retention.hold", "retention.run"} <= set(actions)

    # And the peer that received the public post gets its Delete
    await a.deliver_all()

    async def gone_at_b() -> bool:
        async with b.node.reads() as db:
            row = await db.scalar(select(Post).where(Post.uri == old_public.uri))
            return row is None or row.deleted_at is not None

    await wait_for(gone_at_b)
    assert await received(new_public.uri)
    assert await received(held.uri)

    # A second run finds nothing more
    assert (await run_retention(a.node)).deleted == 0
