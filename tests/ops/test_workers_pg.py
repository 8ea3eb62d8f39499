"""Several ``cercle worker`` processes on one PostgreSQL queue, one of them killed."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from aiohttp import web
from sqlalchemy import func, select

from node.context import transaction
from node.db.models import Delivery
from node.db.models.delivery import DONE, IN_FLIGHT
from node.delivery.queue import enqueue
from tests.harness import NodeFactory, bind_loopback, wait_for
from tests.ops.cli_process import needs_postgres, settings_env, start_cli, wait_for_line

ACTIVITIES = 100
INBOXES = 10  # 100 activities x 10 inboxes = 1,000 queued deliveries
#: The receiving server takes this long per POST, so that a batch is in flight when the
#: first worker is killed (a slow peer is the one thing this receiver fakes).
RECEIVER_DELAY = 0.05


class CountingReceiver:
    """A peer that records every signed POST it receives, by (inbox, activity id)."""

    def __init__(self) -> None:
        self.received: Counter[tuple[str, str]] = Counter()
        self.unsigned = 0

    async def inbox(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "Signature" not in request.headers:
            self.unsigned += 1
            return web.json_response({"error": "unsigned"}, status=401)
        await asyncio.sleep(RECEIVER_DELAY)
        self.received[(request.path, body["id"])] += 1
        return web.json_response({}, status=202)


@needs_postgres
async def test_two_workers_deliver_everything_when_one_is_killed(
    node_factory: NodeFactory,
) -> None:
    """1,000 deliveries, two worker processes, SIGKILL to one of them midway: every
    delivery arrives; only those the killed worker had in flight may arrive twice."""
    # Given a node whose web process runs no workers, and a receiving peer
    node = await node_factory.start("w", workers=False)
    receiver = CountingReceiver()
    app = web.Application()
    app.router.add_post("/inbox/{n}", receiver.inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bind_loopback()
    peer = f"127.0.0.1:{sock.getsockname()[1]}"
    await web.SockSite(runner, sock).start()
    workers = []
    try:
        # And 1,000 queued deliveries
        alice = await node.actor("alice")
        async with transaction(node.node) as db:
            for n in range(ACTIVITIES):
                await enqueue(
                    db,
                    sender=alice,
                    activity={"id": f"{node.base_url}/activities/{n}", "type": "Create"},
                    inboxes=[f"http://{peer}/inbox/{i}" for i in range(INBOXES)],
                )
        expected = {
            (f"/inbox/{i}", f"{node.base_url}/activities/{n}")
            for n in range(ACTIVITIES)
            for i in range(INBOXES)
        }

        # When two worker processes run, with a short lease
        env = settings_env(node.settings)
        for _ in range(2):
            process = start_cli(env, "worker", "--lease", "5", "--log-format", "text")
            holder = wait_for_line(process, "worker ").split()[1]
            workers.append((process, holder))

        # And the first is killed once a third of the deliveries have arrived
        await wait_for(lambda: _received_at_least(receiver, 300), timeout=60, interval=0.005)
        victim, victim_id = workers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        async with node.node.reads() as db:
            in_flight = set(
                (row.inbox, row.activity_uri)
                for row in await db.scalars(
                    select(Delivery).where(
                        Delivery.state == IN_FLIGHT, Delivery.claimed_by == victim_id
                    )
                )
            )
        in_flight = {(f"/{inbox.split('/', 3)[3]}", uri) for inbox, uri in in_flight}

        # Then the survivor finishes the queue, the victim's rows once their lease is over
        async def all_done() -> bool:
            async with node.node.reads() as db:
                done = await db.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state == DONE)
                )
            return done == ACTIVITIES * INBOXES

        await wait_for(all_done, timeout=120, interval=0.2)
        assert set(receiver.received) == expected, "a delivery was lost"
        twice = {key for key, times in receiver.received.items() if times > 1}
        assert twice <= in_flight, "a delivery not in the killed worker's hands came twice"
        assert all(times <= 2 for times in receiver.received.values())
        assert receiver.unsigned == 0
        print(
            f"\nkilled worker had {len(in_flight)} deliveries in flight; "
            f"{len(twice)} of them were delivered twice"
        )

        # And the survivor stops cleanly on SIGTERM
        survivor = workers[1][0]
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0
    finally:
        for process, _ in workers:
            if process.poll() is None:
                process.kill()
            process.wait(10)
        await runner.cleanup()


async def _received_at_least(receiver: CountingReceiver, count: int) -> bool:
    return sum(receiver.received.values()) >= count
