"""The audience matrix across three real nodes (DESIGN.md section 3).

A and B are partner firms, C is a stranger. For every audience, a post by alice@A is seen
by exactly the intended people — through delivery to their node, and through a signed
fetch of the post by each of them — and by no one else.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from federation.errors import FetchError
from federation.fetch import Fetcher
from node import groups
from node.circles import add_members, create_circle
from node.context import transaction
from node.db.models import Actor, Follow, Post
from node.db.models.follows import ACCEPTED
from node.follows import follow
from node.posts import create_post
from node.remote_actors import resolve_account
from node.visibility import viewer_can_see
from tests.circles.partnering import make_partners
from tests.harness import NodeFactory, RunningNode, wait_for


@dataclass
class Person:
    name: str
    node: RunningNode


AUDIENCES = [
    "public",
    "unlisted",
    "followers",
    "organisation",
    "partners",
    "circle",
    "group",
    "direct",
]
#: Who, besides alice, must see each audience.
EXPECTED = {
    "public": {"colleague", "bob", "bart", "carl", "cleo", "anonymous"},
    "unlisted": {"colleague", "bob", "bart", "carl", "cleo", "anonymous"},
    "followers": {"bob", "cleo"},
    "organisation": {"colleague"},
    "partners": {"colleague", "bob", "bart"},
    "circle": {"bob"},
    "group": {"bob"},
    "direct": {"carl"},
}
#: Who can read the post on their own node once it is delivered there (the followers
#: bob and cleo bring public posts to B and C, where their colleagues may read them too).
DELIVERED = {
    "public": {"bob", "bart", "carl", "cleo"},
    "unlisted": {"bob", "bart", "carl", "cleo"},
    "followers": {"bob", "cleo"},
    "organisation": {"colleague"},
    "partners": {"colleague", "bob", "bart"},
    "circle": {"bob"},
    "group": {"bob"},
    "direct": {"carl"},
}


@pytest.fixture
async def world(node_factory: NodeFactory) -> dict[str, Person]:
    a = await node_factory.start("a", users=("alice", "colleague"))
    b = await node_factory.start("b", users=("bob", "bart"))
    c = await node_factory.start("c", users=("carl", "cleo"))
    people = {
        "alice": Person("alice", a),
        "colleague": Person("colleague", a),
        "bob": Person("bob", b),
        "bart": Person("bart", b),
        "carl": Person("carl", c),
        "cleo": Person("cleo", c),
    }
    await make_partners(a, b)
    alice = await a.actor("alice")
    for follower in ("bob", "cleo"):
        person = people[follower]
        me = await person.node.actor(follower)
        await follow(
            person.node.node, me, await resolve_account(person.node.node, a.handle("alice"))
        )
        await person.node.deliver_all()
    await a.deliver_all()
    for follower in ("bob", "cleo"):
        node = people[follower].node
        await wait_for(lambda n=node: _follows_alice(n, alice.uri))
    # A members-only group on A that bob (B) joined with the group admin's approval
    team = await groups.create_group(a.node, alice, "team", members_only=True)
    bob = await b.actor("bob")
    await follow(b.node, bob, await resolve_account(b.node, a.handle("team")))
    await b.deliver_all()

    async def bob_asked() -> Actor | None:
        # B's own worker may deliver the Follow a moment after deliver_all (as in test_groups)
        async with a.node.reads() as db:
            return await db.scalar(
                select(Actor)
                .join(Follow, Follow.follower_id == Actor.id)
                .where(Actor.uri == bob.uri, Follow.followee_id == team.id)
            )

    bob_on_a = await wait_for(bob_asked)
    await groups.decide_request(a.node, team.id, alice, bob_on_a, accept=True)
    await a.deliver_all()
    await wait_for(lambda: _follows_alice(b, team.uri))
    return people


async def _follows_alice(node: RunningNode, alice_uri: str) -> bool:
    """Someone on ``node`` follows alice and her node accepted it."""
    async with node.node.reads() as db:
        return bool(
            await db.scalar(
                select(Follow.id)
                .join(Actor, Actor.id == Follow.followee_id)
                .where(Actor.uri == alice_uri, Follow.state == ACCEPTED)
            )
        )


async def _post(world: dict[str, Person], audience: str) -> Post:
    a = world["alice"].node
    alice = await a.actor("alice")
    text = f"{audience} news"
    circle_ids: list[int] = []
    if audience == "circle":
        bob = await resolve_account(a.node, world["bob"].node.handle("bob"))
        async with transaction(a.node) as db:
            circle = await create_circle(db, alice, "project")
            await add_members(db, circle, [bob])
        circle_ids = [circle.id]
    if audience == "direct":
        text += f" @carl@{world['carl'].node.domain}"
    group = None
    if audience == "group":
        group = await a.actor_by_uri(a.base_url + "/groups/team")
    return await create_post(
        a.node, alice, text, audience=audience, circle_ids=circle_ids, group=group
    )


async def _sees_delivered(person: Person, uri: str) -> bool:
    node = person.node
    async with node.node.reads() as db:
        post = await db.scalar(select(Post).where(Post.uri == uri))
        if post is None:
            return False
        me = await node.actor(person.name)
        return await viewer_can_see(db, me, post)


async def _sees_by_fetch(person: Person | None, world: dict[str, Person], uri: str) -> bool:
    a = world["alice"].node
    if person is None:
        fetcher = Fetcher(a.node.http, signer=None, allow_loopback=True)  # type: ignore[arg-type]
    else:
        me = await person.node.actor(person.name)
        fetcher = Fetcher(
            person.node.node.http,  # type: ignore[arg-type]
            signer=person.node.node.signer(me),
            allow_loopback=True,
        )
    try:
        doc = await fetcher.get_json(uri)
    except FetchError as exc:
        assert exc.status == 404, exc.reason
        return False
    return doc["id"] == uri


async def test_audience_matrix_across_three_nodes(world: dict[str, Person]):
    """Every audience against every kind of viewer, on one set of three nodes (building
    them is most of the cost; the posts do not interfere: each has its own audience)."""
    for audience in AUDIENCES:
        await _check_audience(world, audience)


async def _check_audience(world: dict[str, Person], audience: str) -> None:
    post = await _post(world, audience)
    for node in {p.node.name: p.node for p in world.values()}.values():
        await node.deliver_all()
    # The delivered copies: each viewer's own node decides with the same rules
    for name in ("bob", "bart", "carl", "cleo"):
        if name in DELIVERED[audience]:
            await wait_for(lambda n=name: _sees_delivered(world[n], post.uri), timeout=10)
    for name in ("bob", "bart", "carl", "cleo"):
        if name not in DELIVERED[audience]:
            assert not await _sees_delivered(world[name], post.uri), (audience, name)
    # The colleague reads on the author's node
    assert await _sees_delivered(world["colleague"], post.uri) == (
        "colleague" in EXPECTED[audience]
    )

    # Signed fetches of the post by each remote viewer, and an anonymous fetch
    for name in ("bob", "bart", "carl", "cleo"):
        expected = name in EXPECTED[audience] and audience != "organisation"
        assert await _sees_by_fetch(world[name], world, post.uri) == expected, (audience, name)
    assert await _sees_by_fetch(None, world, post.uri) == ("anonymous" in EXPECTED[audience])
