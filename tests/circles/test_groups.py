"""Groups across three real nodes (FEP-1b12; DESIGN.md section 3, issue 4).

A hosts a members-only group with members on B and C. A member's post on C is Announced
by the group to the members on A and B; a non-member on C neither receives it nor can
fetch it; removing the member on B stops delivery to B. A moderator on B (a co-host at a
partner firm) removes a post through a signed Remove and it disappears for members on
A, B and C; B's moderator, not A's admin, lets B's people in.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from federation.errors import FetchError
from federation.fetch import Fetcher
from node import group_remote, groups
from node.db.models import Actor, Follow, Post
from node.db.models.follows import ACCEPTED, PENDING
from node.errors import Forbidden
from node.follows import follow
from node.posts import create_post
from node.remote_actors import resolve_account
from node.visibility import viewer_can_see
from tests.harness import NodeFactory, RunningNode, wait_for


async def _sees(node: RunningNode, username: str, uri: str) -> bool:
    async with node.node.reads() as db:
        post = await db.scalar(select(Post).where(Post.uri == uri))
        if post is None:
            return False
        return await viewer_can_see(db, await node.actor(username), post)


async def _stored(node: RunningNode, uri: str) -> Post | None:
    async with node.node.reads() as db:
        return await db.scalar(select(Post).where(Post.uri == uri))


async def _fetch(node: RunningNode, username: str | None, uri: str) -> int:
    signer = node.node.signer(await node.actor(username)) if username else None
    fetcher = Fetcher(node.node.http, signer=signer, allow_loopback=True)  # type: ignore[arg-type]
    try:
        await fetcher.get_json(uri)
    except FetchError as exc:
        return exc.status or 0
    return 200


async def _follow_state(node: RunningNode, username: str, group_uri: str) -> str | None:
    async with node.node.reads() as db:
        me = await node.actor(username)
        return await db.scalar(
            select(Follow.state)
            .join(Actor, Actor.id == Follow.followee_id)
            .where(Follow.follower_id == me.id, Actor.uri == group_uri)
        )


async def _deliver(*nodes: RunningNode, rounds: int = 2) -> None:
    for _ in range(rounds):
        for n in nodes:
            await n.deliver_all()


async def _join(member_node: RunningNode, username: str, host: RunningNode, group: Actor) -> Actor:
    """``username`` asks to join; returns the group as their node knows it."""
    remote_group = await resolve_account(member_node.node, host.handle(group.username))
    assert remote_group.type == "Group"
    row = await follow(member_node.node, await member_node.actor(username), remote_group)
    assert row.state == PENDING  # "requested" until approved
    await member_node.deliver_all()
    return remote_group


async def _member_on_host(host: RunningNode, member_node: RunningNode, username: str) -> Actor:
    """The person as the group's host knows them, once their Follow of the group arrived
    there (their node may deliver it with its own worker, a moment after ``deliver_all``)."""

    async def known() -> Actor | None:
        async with host.node.reads() as db:
            return await db.scalar(
                select(Actor)
                .join(Follow, Follow.follower_id == Actor.id)
                .where(Actor.uri == member_node.actor_uri(username))
            )

    return await wait_for(known)


@pytest.fixture
async def world(node_factory: NodeFactory) -> dict[str, Any]:
    a = await node_factory.start("a", users=("alice", "colleague"))
    b = await node_factory.start("b", users=("bob", "bart"))
    c = await node_factory.start("c", users=("carl", "cleo"))
    alice = await a.actor("alice")
    team = await groups.create_group(a.node, alice, "team", display_name="Team", members_only=True)
    seen: dict[str, Actor] = {}
    for node, name in ((b, "bob"), (c, "carl")):
        seen[name] = await _join(node, name, a, team)
        person = await _member_on_host(a, node, name)
        await groups.decide_request(a.node, team.id, alice, person, accept=True)
        await a.deliver_all()
        await wait_for(lambda n=node, u=name: _is_state(n, u, team.uri, ACCEPTED))
    return {"a": a, "b": b, "c": c, "team": team, "groups_seen": seen}


async def _is_state(node: RunningNode, username: str, group_uri: str, state: str) -> bool:
    return await _follow_state(node, username, group_uri) == state


async def test_members_only_group_relays_to_members_only(world: dict[str, Any]):
    a, b, c, team = world["a"], world["b"], world["c"], world["team"]
    carl = await c.actor("carl")
    team_on_c = world["groups_seen"]["carl"]

    post = await create_post(c.node, carl, "hello team", audience="group", group=team_on_c)
    await _deliver(c, a, b)
    await wait_for(lambda: _sees(a, "alice", post.uri))
    await wait_for(lambda: _sees(b, "bob", post.uri))
    stored = await _stored(b, post.uri)
    assert stored is not None and stored.audience == "group"
    assert await _sees(c, "carl", post.uri)
    # Non-members: not on A (colleague), not on B (bart), not on C (cleo)
    assert not await _sees(a, "colleague", post.uri)
    assert not await _sees(b, "bart", post.uri)
    assert not await _sees(c, "cleo", post.uri)
    # ...nor by fetching it from its author's server or the group's
    assert await _fetch(c, "cleo", post.uri) == 404
    assert await _fetch(a, "colleague", post.uri) in (200, 404)  # same node: local read
    assert await _fetch(b, "bart", post.uri) == 404
    # The member list of a members-only group is for members
    assert await _fetch(c, "cleo", team.followers_url + "?page=1") == 404
    assert await _fetch(b, "bob", team.followers_url + "?page=1") == 200

    # Removing the member on B stops delivery to B
    alice = await a.actor("alice")
    bob_on_a = await _member_on_host(a, b, "bob")
    await groups.remove_member(a.node, team.id, alice, bob_on_a)
    await _deliver(a, b)
    await wait_for(lambda: _is_state(b, "bob", team.uri, None))  # type: ignore[arg-type]
    later = await create_post(c.node, carl, "after bob left", audience="group", group=team_on_c)
    await _deliver(c, a, b)
    await wait_for(lambda: _sees(a, "alice", later.uri))
    assert await _stored(b, later.uri) is None


async def test_a_non_member_cannot_post_to_the_group(world: dict[str, Any]):
    a, c = world["a"], world["c"]
    cleo = await c.actor("cleo")
    team_on_c = await resolve_account(c.node, a.handle("team"))
    with pytest.raises(Forbidden):
        await create_post(c.node, cleo, "let me in", audience="group", group=team_on_c)


async def test_co_host_moderator_removes_a_post_everywhere(world: dict[str, Any]):
    a, b, c, team = world["a"], world["b"], world["c"], world["team"]
    alice = await a.actor("alice")
    bob_on_a = await _member_on_host(a, b, "bob")
    await groups.set_role(a.node, team.id, alice, bob_on_a, groups.MODERATOR)

    post = await create_post(a.node, alice, "a post to moderate", audience="group", group=team)
    await _deliver(a, b, c)
    await wait_for(lambda: _sees(b, "bob", post.uri))
    await wait_for(lambda: _sees(c, "carl", post.uri))

    bob = await b.actor("bob")
    team_on_b = world["groups_seen"]["bob"]
    on_b = await _stored(b, post.uri)
    assert on_b is not None
    await group_remote.ask_remove_post(b.node, bob, team_on_b, on_b.id)
    await _deliver(b, a, b, c, rounds=2)
    await wait_for(lambda: _gone(a, "alice", post.uri))
    await wait_for(lambda: _gone(b, "bob", post.uri))
    await wait_for(lambda: _gone(c, "carl", post.uri))

    # Someone who is not staff asks the same: the group refuses.
    other = await create_post(a.node, alice, "stays", audience="group", group=team)
    await _deliver(a, b, c)
    await wait_for(lambda: _sees(c, "carl", other.uri))
    carl = await c.actor("carl")
    on_c = await _stored(c, other.uri)
    assert on_c is not None
    await group_remote.ask_remove_post(c.node, carl, world["groups_seen"]["carl"], on_c.id)
    await _deliver(c, a, c)
    assert await _sees(a, "alice", other.uri)


async def _gone(node: RunningNode, username: str, uri: str) -> bool:
    return not await _sees(node, username, uri)


async def test_partner_firm_moderator_lets_its_own_people_in(world: dict[str, Any]):
    a, b, team = world["a"], world["b"], world["team"]
    alice = await a.actor("alice")
    bob_on_a = await _member_on_host(a, b, "bob")
    await groups.set_role(a.node, team.id, alice, bob_on_a, groups.MODERATOR)

    team_on_b = await _join(b, "bart", a, team)
    bart_on_a = await _member_on_host(a, b, "bart")
    # The host's admin may not let B's people in: B's moderators decide for B
    with pytest.raises(Forbidden):
        await groups.decide_request(a.node, team.id, alice, bart_on_a, accept=True)
    bob = await b.actor("bob")
    async with b.node.reads() as db:
        waiting = await group_remote.local_requests(db, team_on_b)
    assert [p.username for p in waiting] == ["bart"]
    await group_remote.decide_local_request(
        b.node, bob, team_on_b, await b.actor("bart"), accept=True
    )
    await _deliver(b, a, b)
    await wait_for(lambda: _is_state(b, "bart", team.uri, ACCEPTED))
