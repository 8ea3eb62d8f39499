"""SIGTERM to a ``cercle worker`` in the middle of a batch: the batch is finished first."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web
from sqlalchemy import func, select

from node.context import transaction
from node.db.models import Delivery
from node.db.models.delivery import DONE
from node.delivery.queue import enqueue
from tests.harness import NodeFactory, bind_loopback, wait_for
from tests.ops.cli_process import settings_env, start_cli, wait_for_line

DELIVERIES = 20
#: a slow peer, so that SIGTERM arrives while requests are in flight
RECEIVER_DELAY = 0.5


async def test_sigterm_finishes_the_deliveries_in_flight(node_factory: NodeFactory) -> None:
    """Deliveries already sent when the operator stops the worker are recorded as done,
    nothing is left claimed, and the worker exits 0."""
    node = await node_factory.start("g", workers=False)
    received: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body["id"])
        await asyncio.sleep(RECEIVER_DELAY)
        return web.json_response({}, status=202)

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bind_loopback()
    peer = f"127.0.0.1:{sock.getsockname()[1]}"
    await web.SockSite(runner, sock).start()
    worker = None
    try:
        alice = await node.actor("alice")
        async with transaction(node.node) as db:
            for n in range(DELIVERIES):
                await enqueue(
                    db,
                    sender=alice,
                    activity={"id": f"{node.base_url}/activities/{n}", "type": "Create"},
                    inboxes=[f"http://{peer}/inbox"],
                )
        worker = start_cli(settings_env(node.settings), "worker", "--log-format", "text")
        wait_for_line(worker, "worker ")
        # When SIGTERM arrives while the first requests are still being answered
        await wait_for(lambda: _any(received), timeout=60, interval=0.01)
        worker.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(worker.wait, 60)
        # Then every delivery the worker had taken was finished and recorded
        assert exit_code == 0
        async with node.node.reads() as db:
            states = dict(
                (
                    await db.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
                ).all()
            )
        assert states == {DONE: DELIVERIES}
        assert sorted(received) == sorted(
            f"{node.base_url}/activities/{n}" for n in range(DELIVERIES)
        )
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(10)
        await runner.cleanup()


async def _any(items: list[str]) -> bool:
    return bool(items)
