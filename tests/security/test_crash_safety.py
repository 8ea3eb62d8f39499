"""SIGKILL of ``cercle serve`` mid-work, then a restart: no accepted activity lost, no queued
delivery lost, nothing applied twice. Real processes on loopback, real signatures, the
node's own SQLite file (or PostgreSQL with CERCLE_TEST_POSTGRES)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from node.accounts import require_user_actor
from node.context import Node, open_node, transaction
from node.db.models import Delivery, Notification, Post
from node.db.models.delivery import DONE, IN_FLIGHT
from node.delivery.queue import enqueue
from node.settings import Settings
from tests.fake_peer import AS2, FakePeer
from tests.harness import NodeFactory, RunningNode, bind_loopback, wait_for
from tests.ops.cli_process import settings_env


@contextmanager
def served(settings: Settings, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``cercle serve`` as an operator starts it (workers embedded), answering when yielded."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "node", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=settings_env(settings),
            stdout=out,
            stderr=out,
        )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/.well-known/nodeinfo", timeout=1
                ):
                    break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(log.read_text()[-3000:]) from None
                time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def sigkill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


@asynccontextmanager
async def reading(settings: Settings) -> AsyncIterator[Node]:
    node = open_node(settings)
    try:
        yield node
    finally:
        await node.close()


async def initialised(factory: NodeFactory, name: str) -> RunningNode:
    """A node's data directory and database, ready, with nothing serving it yet."""
    running = await factory.start(name, users=("alice", "bob"), workers=False)
    await factory.stop(running)
    return running


class SlowReceiver:
    """A peer's inboxes that take a while per POST, so deliveries are in flight at the kill."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: Counter[tuple[str, str]] = Counter()
        self.sock = bind_loopback()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    async def inbox(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(self.delay)
        self.received[(request.path, body["id"])] += 1
        return web.json_response({}, status=202)


async def test_sigkill_during_delivery_loses_nothing(node_factory: NodeFactory, tmp_path: Path):
    """600 queued deliveries; serve is SIGKILLed once a quarter have arrived, then started
    again: every delivery arrives, only those in flight at the kill may arrive twice, and
    the restarted node hands the killed process's rows back at once (no lease wait)."""
    # Given a node with 60 activities queued for 10 inboxes of a slow peer
    running = await initialised(node_factory, "courier")
    receiver = SlowReceiver(delay=0.02)
    app = web.Application()
    app.router.add_post("/inbox/{n}", receiver.inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, receiver.sock).start()
    expected = set()
    async with reading(running.settings) as node:
        async with transaction(node) as db:
            alice = (await require_user_actor(db, "alice"))[1]
            for n in range(60):
                uri = f"{running.base_url}/activities/crash-{n}"
                await enqueue(
                    db,
                    sender=alice,
                    activity={"id": uri, "type": "Create"},
                    inboxes=[f"{receiver.base}/inbox/{i}" for i in range(10)],
                )
                expected |= {(f"/inbox/{i}", uri) for i in range(10)}
    log = tmp_path / "serve.log"
    try:
        # When serve runs and is killed mid-queue
        with served(running.settings, running.port, log) as process:
            await wait_for(lambda: _arrived(receiver, 150), timeout=60, interval=0.01)
            sigkill(process)
            victim = process.pid
        async with reading(running.settings) as node, node.reads() as db:
            held = (
                await db.execute(
                    select(Delivery.inbox, Delivery.activity_uri, Delivery.claimed_by).where(
                        Delivery.state == IN_FLIGHT
                    )
                )
            ).all()
        in_flight = {(f"/{inbox.split('/', 3)[3]}", uri) for inbox, uri, _ in held}
        assert all(holder.endswith(f":{victim}") for _, _, holder in held)
        # Then a restarted serve delivers the rest well within the five-minute lease
        with served(running.settings, running.port, log):
            async with reading(running.settings) as node:

                async def all_done() -> bool:
                    async with node.reads() as db:
                        done = await db.scalar(
                            select(func.count()).select_from(Delivery).where(Delivery.state == DONE)
                        )
                    return done == len(expected)

                await wait_for(all_done, timeout=90, interval=0.2)
        assert set(receiver.received) == expected, "a queued delivery was lost"
        twice = {key for key, times in receiver.received.items() if times > 1}
        assert twice <= in_flight, "only deliveries in flight at the kill may come twice"
        print(f"\nkilled with {len(in_flight)} in flight; {len(twice)} delivered twice")
    finally:
        await runner.cleanup()


async def _arrived(receiver: SlowReceiver, count: int) -> bool:
    return sum(receiver.received.values()) >= count


def mention(peer: FakePeer, node: RunningNode, n: int) -> dict:
    actor = peer.actor_uri()
    bob = node.actor_uri("bob")
    note = {
        "id": f"{actor}/notes/{n}",
        "type": "Note",
        "attributedTo": actor,
        "content": f"<p>@bob crash {n}</p>",
        "to": [bob],
        "tag": [{"type": "Mention", "href": bob, "name": "@bob"}],
    }
    return {
        "@context": AS2,
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": actor,
        "object": note,
        "to": [bob],
    }


async def test_sigkill_during_inbox_processing_loses_nothing_accepted(
    node_factory: NodeFactory, tmp_path: Path
):
    """A peer sends 200 signed Creates, 8 at a time; serve is SIGKILLed after 60 of them
    got 202. After a restart every accepted one is stored; the peer then re-sends all 200
    (as a retrying server does): each post exists once, with one notification."""
    running = await initialised(node_factory, "inbox")
    peer = await FakePeer().start()
    peer.add_actor("alice")
    activities = [mention(peer, running, n) for n in range(200)]
    url = f"{running.base_url}/inbox"
    accepted: set[str] = set()
    log = tmp_path / "serve.log"

    async def send_all(session: aiohttp.ClientSession, items: list[dict]) -> list[int]:
        gate = asyncio.Semaphore(8)

        async def one(activity: dict) -> int:
            body = json.dumps(activity).encode()
            async with gate:
                try:
                    async with session.post(url, data=body, headers=peer.signed(url, body)) as r:
                        if r.status == 202:
                            accepted.add(activity["object"]["id"])
                        return r.status
                except aiohttp.ClientError:
                    return 0

        return list(await asyncio.gather(*(one(a) for a in items)))

    try:
        async with aiohttp.ClientSession() as session:
            # When serve is killed while the activities pour in
            with served(running.settings, running.port, log) as process:
                sending = asyncio.create_task(send_all(session, activities))
                await wait_for(lambda: _count_at_least(accepted, 60), timeout=60, interval=0.005)
                sigkill(process)
                statuses = await sending
            assert 0 in statuses, "the kill interrupted some requests"
            first_round = set(accepted)
            # Then after a restart every accepted activity is stored
            with served(running.settings, running.port, log):
                async with reading(running.settings) as node, node.reads() as db:
                    stored = set(await db.scalars(select(Post.uri).where(Post.local.is_(False))))
                assert first_round <= stored, "an accepted (202) activity was lost"
                # And re-sending everything applies each activity exactly once
                statuses = await send_all(session, activities)
                assert statuses == [202] * len(activities)
                async with reading(running.settings) as node, node.reads() as db:
                    uris = list(await db.scalars(select(Post.uri).where(Post.local.is_(False))))
                    notes = await db.scalar(select(func.count()).select_from(Notification))
                assert sorted(uris) == sorted(a["object"]["id"] for a in activities)
                assert notes == len(activities), "a mention was notified twice (or lost)"
    finally:
        await peer.stop()


async def _count_at_least(items: set[str], count: int) -> bool:
    return len(items) >= count


def test_only_dead_processes_of_this_host_lose_their_rows() -> None:
    """A holder on another host, this very process, a live process or an unreadable name
    keeps its rows; a finished process of this host does not."""
    import os

    from node.delivery.orphans import dead_local_holder

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert dead_local_holder(f"here:{child.pid}", "here")
    assert not dead_local_holder(f"elsewhere:{child.pid}", "here")
    assert not dead_local_holder(f"here:{os.getpid()}", "here")
    assert not dead_local_holder("here:1", "here")  # init: alive (or not ours to signal)
    assert not dead_local_holder("here:not-a-pid", "here")
