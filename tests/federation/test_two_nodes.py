"""Two real nodes on loopback: follow, post, react, delete, undo — over signed HTTP."""

from __future__ import annotations

from sqlalchemy import select

from node.db.models import Follow, Like, Post
from node.db.models.follows import ACCEPTED, PENDING
from node.follows import follow, respond, unfollow
from node.posts import create_post, delete_post, like, reblog
from node.remote_actors import resolve_account
from node.timelines import home_page
from tests.harness import RunningNode, wait_for


async def _home_uris(node: RunningNode, username: str) -> list[str]:
    me = await node.actor(username)
    async with node.node.reads() as db:
        return [p.uri for p in await home_page(db, me.id, limit=40)]


async def _follow_state(node: RunningNode, follower: str, followee_uri: str) -> str | None:
    me = await node.actor(follower)
    async with node.node.reads() as db:
        target = await node.actor_by_uri(followee_uri)
        if target is None:
            return None
        return await db.scalar(
            select(Follow.state).where(Follow.follower_id == me.id, Follow.followee_id == target.id)
        )


async def _alice_follows_bob(a: RunningNode, b: RunningNode) -> None:
    alice = await a.actor("alice")
    bob_remote = await resolve_account(a.node, b.handle("bob"))
    await follow(a.node, alice, bob_remote)
    await wait_for(lambda: _is_accepted(a, b))


async def _is_accepted(a: RunningNode, b: RunningNode) -> bool:
    return await _follow_state(a, "alice", b.actor_uri("bob")) == ACCEPTED


async def test_follow_post_like_announce_delete_and_undo(node_a: RunningNode, node_b: RunningNode):
    """alice@A follows bob@B; bob's public post reaches alice's home; her Like and
    Announce reach B; bob's Delete removes it on A; after Undo Follow, nothing more comes."""
    # Given alice on A follows bob on B (B accepts automatically)
    await _alice_follows_bob(node_a, node_b)

    # When bob posts publicly
    bob = await node_b.actor("bob")
    post = await create_post(node_b.node, bob, "Hello from B #launch")

    # Then the post lands in alice's home timeline on A
    await wait_for(lambda: _contains(node_a, "alice", post.uri))

    # When alice likes and boosts it
    alice = await node_a.actor("alice")
    async with node_a.node.reads() as db:
        remote_post = await db.scalar(select(Post).where(Post.uri == post.uri))
    assert remote_post is not None
    await like(node_a.node, alice, remote_post)
    await reblog(node_a.node, alice, remote_post)

    # Then B counts the like and the boost on bob's post
    async def counted() -> bool:
        async with node_b.node.reads() as db:
            row = await db.get(Post, post.id)
            likes = await db.scalar(select(Like.id).where(Like.post_id == post.id))
            return bool(row and row.likes_count == 1 and row.reblogs_count == 1 and likes)

    await wait_for(counted)

    # When bob deletes the post, it disappears from alice's timeline
    await delete_post(node_b.node, bob, post)
    await wait_for(lambda: _absent(node_a, "alice", post.uri))

    # When alice unfollows, bob's next post does not reach her
    bob_on_a = await node_a.actor_by_uri(node_b.actor_uri("bob"))
    assert bob_on_a is not None
    await unfollow(node_a.node, alice, bob_on_a)

    async def follow_gone_on_b() -> bool:
        async with node_b.node.reads() as db:
            return await db.scalar(select(Follow.id).where(Follow.followee_id == bob.id)) is None

    await wait_for(follow_gone_on_b)
    later = await create_post(node_b.node, bob, "Nobody on A should see this")
    await node_b.deliver_all()
    assert later.uri not in await _home_uris(node_a, "alice")


async def _contains(node: RunningNode, username: str, uri: str) -> bool:
    return uri in await _home_uris(node, username)


async def _absent(node: RunningNode, username: str, uri: str) -> bool:
    return uri not in await _home_uris(node, username)


async def test_locked_account_requires_approval(node_a: RunningNode, node_b: RunningNode):
    """A follow of a locked account stays pending until its owner approves it."""
    bob = await node_b.actor("bob")
    async with node_b.node.sessions() as db, db.begin():
        row = await db.get(type(bob), bob.id)
        assert row is not None
        row.manually_approves = True
    alice = await node_a.actor("alice")
    bob_remote = await resolve_account(node_a.node, node_b.handle("bob"))
    assert bob_remote.manually_approves

    await follow(node_a.node, alice, bob_remote)
    alice_on_b = await wait_for(lambda: node_b.actor_by_uri(node_a.actor_uri("alice")))

    async def pending_on_b() -> bool:
        async with node_b.node.reads() as db:
            state = await db.scalar(
                select(Follow.state).where(
                    Follow.follower_id == alice_on_b.id, Follow.followee_id == bob.id
                )
            )
            return state == PENDING

    await wait_for(pending_on_b)
    assert await _follow_state(node_a, "alice", node_b.actor_uri("bob")) == PENDING

    await respond(node_b.node, bob, alice_on_b, accept=True)
    await wait_for(lambda: _is_accepted(node_a, node_b))
