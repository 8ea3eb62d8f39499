"""A small, fully known dataset on two partner nodes, for the adoption figures, the
dashboard and the digest.

Node A (the firm) has admin, alice, carol, dave and erin; node B (a partner firm) has
bob. Times are set afterwards in A's database, relative to ``now``, so that what falls
in the last 7 and 30 days is known exactly. Groups are seeded as a local Group actor
with its settings and accepted member follows (the group service is built elsewhere).

The expected figures are written out by hand in tests/places/test_adoption.py from the
list below; nothing there reuses node/adoption.py.

| post | author | audience     | when            | notes                                  |
|------|--------|--------------|-----------------|----------------------------------------|
| P1   | alice  | public       | now - 2 days    | replies: bob@B +20', carol +30', alice +5' |
| P2   | alice  | organisation | now - 3 days    | reply: carol +10 min (organisation)    |
| P3   | alice  | circle       | now - 1 day     | circle {carol, dave}                   |
| P5   | alice  | group        | now - 1 day     | in group G                             |
| P4   | alice  | followers    | now - 20 days   |                                        |
| E1   | erin   | public       | now - 20 days   |                                        |
| E2   | erin   | public       | now - 40 days   | outside every period                   |
| Q1   | bob@B  | public       | now - 1 day     | liked by alice, replied by carol +15 min |
| BG   | bob@B  | public       | now - 1 day     | posted in group G (relayed)            |

Likes: dave likes P1 (now - 1 day), bob@B likes P1, alice likes Q1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from node import audience as aud
from node.accounts import create_local_actor
from node.circles import add_members, create_circle
from node.context import transaction
from node.db.models import Actor, Follow, GroupSettings, Like, Post
from node.db.models.follows import ACCEPTED
from node.db.types import utcnow
from node.follows import follow
from node.posts import create_post, like
from node.remote_actors import resolve_account
from tests.harness import NodeFactory, RunningNode, wait_for
from tests.places.helpers import make_partners


@dataclass
class Seeded:
    a: RunningNode
    b: RunningNode
    now: datetime
    ids: dict[str, int] = field(default_factory=dict)
    group_id: int = 0


async def _stored(node: RunningNode, uri: str) -> Post | None:
    async with node.node.reads() as db:
        return await db.scalar(select(Post).where(Post.uri == uri))


async def _accepted(a: RunningNode, follower_id: int, followee_id: int) -> bool:
    async with a.node.reads() as db:
        state = await db.scalar(
            select(Follow.state).where(
                Follow.follower_id == follower_id, Follow.followee_id == followee_id
            )
        )
    return state == ACCEPTED


async def seed(factory: NodeFactory) -> Seeded:
    a = await factory.start("a", users=("alice", "carol", "dave", "erin"))
    b = await factory.start("b", users=("bob",))
    await make_partners(a, b)
    alice, carol, dave, erin = [await a.actor(n) for n in ("alice", "carol", "dave", "erin")]
    bob = await b.actor("bob")
    bob_on_a = await resolve_account(a.node, b.handle("bob"))
    alice_on_b = await resolve_account(b.node, a.handle("alice"))
    await follow(a.node, alice, bob_on_a)
    await follow(b.node, bob, alice_on_b)
    await a.deliver_all()
    await b.deliver_all()
    await wait_for(lambda: _accepted(a, alice.id, bob_on_a.id))
    await wait_for(lambda: _accepted(b, bob.id, alice_on_b.id))

    # The group G, hosted on A, with alice, carol and bob as members.
    async with transaction(a.node) as db:
        group = await create_local_actor(
            a.node,
            db,
            username="bikes",
            actor_type="Group",
            uri=f"{a.base_url}/groups/bikes",
            display_name="Bike to work",
        )
        db.add(GroupSettings(actor_id=group.id, members_only=False, created_by_id=alice.id))
        for member in (alice, carol, bob_on_a):
            db.add(
                Follow(
                    follower_id=member.id,
                    followee_id=group.id,
                    state=ACCEPTED,
                    activity_uri=f"{member.uri}#join-bikes",
                )
            )
        circle = await create_circle(db, alice, "Lunch crew")
        await add_members(db, circle, [carol, dave])

    made = {
        "P1": await create_post(a.node, alice, "Launch day! #launch"),
        "P2": await create_post(
            a.node, alice, "All hands at 10 #launch", audience=aud.ORGANISATION
        ),
        "P3": await create_post(
            a.node, alice, "Lunch?", audience=aud.CIRCLE, circle_ids=[circle.id]
        ),
        "P5": await create_post(a.node, alice, "Ride on Friday", audience=aud.ORGANISATION),
        "P4": await create_post(a.node, alice, "Old news", audience=aud.FOLLOWERS),
        "E1": await create_post(a.node, erin, "Hello #launch"),
        "E2": await create_post(a.node, erin, "Very old"),
    }
    made["R_carol_P1"] = await create_post(a.node, carol, "Congrats", in_reply_to=made["P1"])
    made["R_alice_P1"] = await create_post(a.node, alice, "Thread: more", in_reply_to=made["P1"])
    made["R_carol_P2"] = await create_post(
        a.node, carol, "See you", audience=aud.ORGANISATION, in_reply_to=made["P2"]
    )
    ids = {name: post.id for name, post in made.items()}

    # bob@B: a reply to P1 (it reaches A: it answers and mentions alice), a post and a
    # post in the group (both reach A: alice follows bob), a favourite of P1.
    await wait_for(lambda: _stored(b, made["P1"].uri))
    async with b.node.reads() as db:
        p1_on_b = await db.scalar(select(Post).where(Post.uri == made["P1"].uri))
    assert p1_on_b is not None
    bob_reply = await create_post(
        b.node, bob, f"@{a.handle('alice')} well done", in_reply_to=p1_on_b
    )
    q1 = await create_post(b.node, bob, "Partner news #launch")
    bg = await create_post(b.node, bob, "I ride too")
    await like(b.node, bob, p1_on_b)
    await b.deliver_all()
    for name, remote in (("R_bob_P1", bob_reply), ("Q1", q1), ("BG", bg)):
        row = await wait_for(lambda r=remote: _stored(a, r.uri))
        ids[name] = row.id

    async def liked_by_bob() -> bool:
        async with a.node.reads() as db:
            return bool(
                await db.scalar(
                    select(Like.id).where(Like.post_id == ids["P1"], Like.actor_id == bob_on_a.id)
                )
            )

    await wait_for(liked_by_bob)
    q1_on_a = await _stored(a, q1.uri)
    assert q1_on_a is not None
    await like(a.node, alice, q1_on_a)
    await like(a.node, dave, made["P1"])
    made["R_carol_Q1"] = await create_post(a.node, carol, "Nice", in_reply_to=q1_on_a)
    ids["R_carol_Q1"] = made["R_carol_Q1"].id

    # Times and places in A's database.
    now = utcnow()
    day, minute = timedelta(days=1), timedelta(minutes=1)
    p1, p2 = now - 2 * day, now - 3 * day
    q1_time = now - day
    times = {
        "P1": p1,
        "P2": p2,
        "P3": now - day,
        "P5": now - day,
        "P4": now - 20 * day,
        "E1": now - 20 * day,
        "E2": now - 40 * day,
        "R_bob_P1": p1 + 20 * minute,
        "R_carol_P1": p1 + 30 * minute,
        "R_alice_P1": p1 + 5 * minute,
        "R_carol_P2": p2 + 10 * minute,
        "Q1": q1_time,
        "BG": q1_time,
        "R_carol_Q1": q1_time + 15 * minute,
    }
    async with transaction(a.node) as db:
        for name, moment in times.items():
            await db.execute(update(Post).where(Post.id == ids[name]).values(published=moment))
        await db.execute(
            update(Post).where(Post.id == ids["P5"]).values(audience=aud.GROUP, group_id=group.id)
        )
        await db.execute(update(Post).where(Post.id == ids["BG"]).values(group_id=group.id))
        await db.execute(
            update(Like)
            .where(Like.actor_id == dave.id, Like.post_id == ids["P1"])
            .values(created_at=now - day)
        )
    return Seeded(a=a, b=b, now=now, ids=ids, group_id=group.id)


async def group_actor(node: RunningNode, group_id: int) -> Actor:
    async with node.node.reads() as db:
        actor = await db.get(Actor, group_id)
    assert actor is not None
    return actor
