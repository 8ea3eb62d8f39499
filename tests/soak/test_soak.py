"""A bounded soak: three real nodes and one flaky third-party peer, under load, with a
restart and an outage; at the end every post is exactly where its audience puts it.

Short mode (``make test``): ``CERCLE_SOAK_SECONDS`` of load, 15 s by default, about a
minute in all. Full mode (``make soak``): ``CERCLE_SOAK_SECONDS=600``; it stops by itself.

The world: alice on A, bob on B, carol on C. bob and carol follow alice, alice follows
bob; a fake peer's account (the only fake: a third-party server we make misbehave)
follows alice; alice hosts a members-only group with bob and carol as members. Each
round, concurrently: alice posts publicly and to her followers, bob to his followers and
to the group, carol publicly, and carol likes one of alice's posts. Midway B is stopped and
started again a tenth of the run later (A and C keep posting to it meanwhile); the fake
peer answers 500 for the first 60 % of the run. Then time is
fast-forwarded (due dates of retried deliveries set to now, circuit breakers closed) and
the queues drained.

Expected placement (the author's node always stores its own):
alice public/followers → A, B, C and the fake peer;  bob followers → A, B (not C);
bob group post → A, B, C (Announced by the group), not the fake peer;  carol public → C
only (nobody follows carol). Likes by carol → recorded on A.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import func, select, update

from node import groups
from node.db.models import Actor, Delivery, DomainState, Follow, Like, Post, ReceivedActivity
from node.db.models.delivery import DONE, PENDING
from node.db.models.follows import ACCEPTED
from node.db.types import utcnow
from node.follows import follow
from node.posts import create_post, post_by_uri
from node.reactions import like
from node.remote_actors import resolve_account
from tests.fake_peer import AS2, FakePeer
from tests.harness import NodeFactory, RunningNode, wait_for

SOAK_SECONDS = float(os.environ.get("CERCLE_SOAK_SECONDS", "15"))


class FlakyPeer(FakePeer):
    """A third-party server whose inbox fails with 500 while ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = True
        self.faults = 0
        self.creates: Counter[str] = Counter()

    async def _post(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if self.failing:
            self.faults += 1
            return web.Response(status=500, text="scheduled outage")
        self.received.append(body)
        if body.get("type") == "Create" and isinstance(body.get("object"), dict):
            self.creates[body["object"]["id"]] += 1
        return web.Response(status=202)


@dataclass
class Ledger:
    """What the run did: where each post must be found, and the faults injected."""

    placements: dict[str, set[str]] = field(default_factory=dict)
    to_peer: set[str] = field(default_factory=set)
    likes: set[str] = field(default_factory=set)
    alice_posts: list[str] = field(default_factory=list)
    restarts: int = 0


async def _stored(node: RunningNode, uri: str) -> bool:
    async with node.node.reads() as db:
        return await db.scalar(select(Post.id).where(Post.uri == uri)) is not None


async def _accepted(node: RunningNode, username: str, target_uri: str) -> bool:
    async with node.node.reads() as db:
        me = await node.actor(username)
        state = await db.scalar(
            select(Follow.state)
            .join(Actor, Actor.id == Follow.followee_id)
            .where(Follow.follower_id == me.id, Actor.uri == target_uri)
        )
    return state == ACCEPTED


async def _fast_forward(nodes: list[RunningNode]) -> int:
    """Make every retried delivery due now and close every breaker; returns rows pending."""
    pending = 0
    for running in nodes:
        async with running.node.sessions() as db, db.begin():
            await db.execute(
                update(Delivery).where(Delivery.state == PENDING).values(next_attempt_at=utcnow())
            )
            await db.execute(update(DomainState).values(open_until=None, failures=0))
            pending += int(
                await db.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state != DONE)
                )
                or 0
            )
        running.node.delivery_wakeup.set()
    return pending


async def _world(factory: NodeFactory, peer: FlakyPeer) -> dict[str, Any]:
    a = await factory.start("a", users=("alice",))
    b = await factory.start("b", users=("bob",))
    c = await factory.start("c", users=("carol",))
    alice_on = {n.name: await resolve_account(n.node, a.handle("alice")) for n in (b, c)}
    await follow(b.node, await b.actor("bob"), alice_on["b"])
    await follow(c.node, await c.actor("carol"), alice_on["c"])
    await follow(a.node, await a.actor("alice"), await resolve_account(a.node, b.handle("bob")))
    status, _ = await peer.post(
        f"{a.base_url}/inbox",
        {"@context": AS2, "id": f"{peer.base}/follows/1", "type": "Follow",
         "actor": peer.actor_uri(), "object": a.actor_uri("alice")},
    )  # fmt: skip
    assert status == 202
    alice = await a.actor("alice")
    team = await groups.create_group(a.node, alice, "soakteam", members_only=True)
    group_on_b = None
    for node, name in ((b, "bob"), (c, "carol")):
        remote = await resolve_account(node.node, a.handle("soakteam"))
        await follow(node.node, await node.actor(name), remote)
        if name == "bob":
            group_on_b = remote

        async def arrived(n: RunningNode = node, u: str = name) -> Actor | None:
            async with a.node.reads() as db:
                return await db.scalar(select(Actor).where(Actor.uri == n.actor_uri(u)))

        person = await wait_for(arrived)

        async def asked(p: Actor = person) -> bool:
            async with a.node.reads() as db:
                return p.id in {x.id for x in await groups.pending_requests(db, team.id)}

        await wait_for(asked)
        await groups.decide_request(a.node, team.id, alice, person, accept=True)
        await wait_for(lambda n=node, u=name: _accepted(n, u, team.uri))
    for node, name in ((b, "bob"), (c, "carol")):
        await wait_for(lambda n=node, u=name: _accepted(n, u, alice.uri))
    await wait_for(lambda: _accepted(a, "alice", b.actor_uri("bob")))
    return {"a": a, "b": b, "c": c, "team_uri": team.uri, "group_on_b": group_on_b}


async def _round(world: dict[str, Any], ledger: Ledger, n: int, *, b_up: bool) -> None:
    """One round of concurrent posting; while B is down only A and C post."""
    a, b, c = world["a"], world["b"], world["c"]
    alice, carol = await a.actor("alice"), await c.actor("carol")
    everywhere = {"a", "b", "c"}
    work = [
        (create_post(a.node, alice, f"alice public {n}"), everywhere),
        (create_post(a.node, alice, f"alice followers {n}", audience="followers"), everywhere),
        (create_post(c.node, carol, f"carol public {n}"), {"c"}),
    ]
    if b_up:
        bob = await b.actor("bob")
        async with b.node.reads() as db:
            group_on_b = await db.scalar(select(Actor).where(Actor.uri == world["team_uri"]))
        work += [
            (create_post(b.node, bob, f"bob followers {n}", audience="followers"), {"a", "b"}),
            (
                create_post(
                    b.node, bob, f"bob to the team {n}", audience="group", group=group_on_b
                ),
                everywhere,
            ),
        ]
    posts = await asyncio.gather(*(job for job, _ in work))
    for post, (_, where) in zip(posts, work, strict=True):
        ledger.placements[post.uri] = where
    ledger.to_peer |= {posts[0].uri, posts[1].uri}
    # carol likes an earlier post of alice's that has reached C
    for uri in ledger.alice_posts[-10::-1]:
        if uri in ledger.likes:
            continue
        async with c.node.reads() as db:
            seen = await post_by_uri(db, uri)
        if seen is not None:
            await like(c.node, carol, seen)
            ledger.likes.add(uri)
            break
    ledger.alice_posts += [posts[0].uri, posts[1].uri]


async def test_soak(node_factory: NodeFactory) -> None:
    peer = FlakyPeer()
    await peer.start()
    peer.add_actor("alice")
    peer.failing = False  # the world is set up on a healthy network
    try:
        world = await _world(node_factory, peer)
        peer.failing = True
        ledger = Ledger()
        started = time.monotonic()
        b_down_at: float | None = None
        n = 0
        # When rounds run for SOAK_SECONDS, B down from 50 % to 60 % of the run (the others
        # keep posting to it), the peer failing for the first 60 %
        while (elapsed := time.monotonic() - started) < SOAK_SECONDS:
            await _round(world, ledger, n, b_up=b_down_at is None)
            n += 1
            if b_down_at is None and not ledger.restarts and elapsed > SOAK_SECONDS / 2:
                await node_factory.stop(world["b"])
                b_down_at = elapsed
            elif b_down_at is not None and elapsed > SOAK_SECONDS * 0.6:
                await node_factory.restart(world["b"])
                ledger.restarts += 1
                b_down_at = None
            if elapsed > SOAK_SECONDS * 0.6:
                peer.failing = False
        if b_down_at is not None:
            await node_factory.restart(world["b"])
            ledger.restarts += 1
        peer.failing = False
        nodes = [world["a"], world["b"], world["c"]]

        # Then, time fast-forwarded, the queues drain
        async def drained() -> bool:
            return await _fast_forward(nodes) == 0

        await wait_for(drained, timeout=120 + SOAK_SECONDS / 5, interval=0.5)

        # And every post is where its audience puts it, and nowhere else
        misplaced = []
        for uri, where in ledger.placements.items():
            found = {node.name for node in nodes if await _stored(node, uri)}
            if found != where:
                misplaced.append((uri, sorted(found), sorted(where)))
        assert misplaced == [], misplaced
        assert set(peer.creates) == ledger.to_peer, "the fake peer got exactly alice's posts"
        async with world["a"].node.reads() as db:
            likes = set(
                await db.scalars(
                    select(Post.uri).join(Like, Like.post_id == Post.id)
                    .where(Like.actor_id != (await world["a"].actor("alice")).id)
                )
            )  # fmt: skip
        assert ledger.likes <= likes
        exchanged = 0
        for node in nodes:
            async with node.node.reads() as db:
                exchanged += int(
                    await db.scalar(select(func.count()).select_from(ReceivedActivity)) or 0
                )
        exchanged += len(peer.received)
        retried = 0
        for node in nodes:
            async with node.node.reads() as db:
                retried += int(
                    await db.scalar(
                        select(func.count()).select_from(Delivery).where(Delivery.attempts > 1)
                    )
                    or 0
                )
        lost = len(misplaced) + len(ledger.to_peer - set(peer.creates))
        print(
            f"\nsoak: {SOAK_SECONDS:g}s of load, {n} rounds, {len(ledger.placements)} posts, "
            f"{len(ledger.likes)} likes, {exchanged} activities received, "
            f"faults injected: {peer.faults} HTTP 500 + {ledger.restarts} restart "
            f"({retried} deliveries needed a retry), lost: {lost}"
        )
    finally:
        await peer.stop()
