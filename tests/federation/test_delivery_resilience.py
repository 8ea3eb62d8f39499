"""Deliveries survive a receiver that is down and a sender that restarts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from node.db.models import Delivery
from node.db.models.delivery import DONE, PENDING
from node.db.types import utcnow
from node.follows import follow
from node.posts import create_post
from node.remote_actors import resolve_account
from node.timelines import home_page
from tests.harness import NodeFactory, wait_for


async def test_delivery_retried_after_receiver_returns_and_sender_restarts(
    node_factory: NodeFactory,
):
    a = await node_factory.start("a", users=("alice",), workers=False)
    b = await node_factory.start("b", users=("bob",), workers=False)
    # Given alice@A follows bob@B
    await follow(a.node, await a.actor("alice"), await resolve_account(a.node, b.handle("bob")))
    await a.deliver_all()
    await b.deliver_all()

    # When A is down while bob posts
    await node_factory.stop(a)
    post = await create_post(b.node, await b.actor("bob"), "while you were away")
    await b.deliver_all()
    async with b.node.reads() as db:
        row = await db.scalar(
            select(Delivery).where(Delivery.activity_uri == f"{post.uri}/activity")
        )
        assert row is not None and row.state == PENDING and row.attempts == 1
        assert row.next_attempt_at > utcnow()  # backed off, not hammering

    # And B restarts before the retry is due (nothing is kept only in memory)
    await node_factory.restart(b)
    await node_factory.restart(a)
    async with b.node.sessions() as db, db.begin():
        await db.execute(update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))

    # Then the retry delivers it and it lands in alice's timeline
    await b.deliver_all()
    alice = await a.actor("alice")

    async def arrived() -> bool:
        async with a.node.reads() as db:
            return post.uri in [p.uri for p in await home_page(db, alice.id)]

    await wait_for(arrived)
    async with b.node.reads() as db:
        states = dict(
            (await db.execute(select(Delivery.state, func.count()).group_by(Delivery.state))).all()
        )
    assert states == {DONE: 2}  # the Accept and the Create, each exactly once
