"""A post to a big group: 2,000 members spread over 200 nodes (issue 4's figure).

The group, hosted on a real node (SQLite), relays a member's post with one delivery per
shared inbox (FEP-1b12 Announce), not one per member: 200 deliveries, not 2,000. Measured
from the post's ``create_post`` call to the last 2xx answer, with the unmodified delivery
worker (``run_once``: claim, sign each request, POST over keep-alive connections).

What runs where (2 cores): core 0, the node (post, queue, worker, signing); core 1, 200
loopback "servers" (one port each, so 200 distinct domains for the policy, the breaker
and the connection pool), each answering 202.

Run: ``.venv/bin/python -m bench.group_fanout [--members 2000] [--nodes 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.common import (
    PYTHON,
    REPO_ROOT,
    SERVER_CPU,
    Figure,
    child_env,
    client_cpu,
    format_table,
    machine_line,
    pin_self,
    stop_process,
    wait_for_line,
)
from bench.fanout import CHILD_TIMEOUT, done_count, drain, open_started_node, serve_receivers

MEMBERS = 2_000
NODES = 200


async def seed_members(node: object, ports: list[int], members: int) -> tuple[object, object]:
    """The group, its admin (the bench user) and ``members`` remote members, spread evenly
    over one domain per receiver port; returns (group, author)."""
    from node import groups
    from node.context import Node, transaction
    from node.db.models import Actor, Follow
    from node.db.models.follows import ACCEPTED

    assert isinstance(node, Node)
    async with node.reads() as db:
        author = await db.scalar(select(Actor).where(Actor.username == "bench"))
    assert author is not None
    group = await groups.create_group(node, author, "everyone", members_only=True)
    async with transaction(node) as db:
        for i in range(members):
            port = ports[i % len(ports)]
            base = f"http://127.0.0.1:{port}"
            uri = f"{base}/users/m{i}"
            actor = Actor(
                uri=uri,
                local=False,
                type="Person",
                username=f"m{i}",
                domain=f"127.0.0.1:{port}",
                inbox=f"{uri}/inbox",
                shared_inbox=f"{base}/inbox/0",
                followers_url=f"{uri}/followers",
                public_key_id=f"{uri}#main-key",
                public_key_pem="",
            )
            db.add(actor)
            await db.flush()
            db.add(
                Follow(
                    follower_id=actor.id,
                    followee_id=group.id,
                    state=ACCEPTED,
                    activity_uri=f"{uri}#follow",
                )
            )
    return group, author


async def worker_run(data_dir: Path, ports: list[int], members: int) -> str:
    from bench.node_server import bench_settings, prepare
    from node.db.models import Delivery
    from node.posts import create_post
    from tests.harness import bind_loopback

    sock = bind_loopback(0)
    port = sock.getsockname()[1]
    sock.close()
    await prepare(data_dir, port)
    node = await open_started_node(bench_settings(data_dir, port))
    try:
        group, author = await seed_members(node, ports, members)
        # Warm-up: connections opened, SQL compiled (a first post, drained and not counted)
        await create_post(node, author, "warm-up", audience="group", group=group)  # type: ignore[arg-type]
        await drain(node, 64)
        warm = await done_count(node)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        post = await create_post(node, author, "hello everyone", audience="group", group=group)  # type: ignore[arg-type]
        queued_at = time.perf_counter() - wall0
        await drain(node, 64)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        done = await done_count(node) - warm
        async with node.reads() as db:  # type: ignore[attr-defined]
            queued = await db.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.activity_uri.like(f"{group.uri}/announces/%"))  # type: ignore[attr-defined]
            )
        del post
    finally:
        await node.close()  # type: ignore[attr-defined]
    return json.dumps(
        {
            "queued": int(queued or 0) // 2,  # two posts were relayed: warm-up and measured
            "done": done,
            "cpu": cpu,
            "wall": wall,
            "enqueue": queued_at,
        }
    )


def run(members: int = MEMBERS, nodes: int = NODES) -> list[Figure]:
    receivers = subprocess.Popen(
        [PYTHON, "-m", "bench.group_fanout", "--receivers", str(nodes), "--cpu",
         str(client_cpu())],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        line = wait_for_line(receivers, "ready ", CHILD_TIMEOUT)
        ports = line.split()[1]
        with tempfile.TemporaryDirectory(prefix="cercle-bench-group-") as tmp:
            worker = subprocess.run(
                [PYTHON, "-m", "bench.group_fanout", "--worker", str(Path(tmp) / "node"),
                 "--ports", ports, "--members", str(members), "--cpu", str(SERVER_CPU)],
                cwd=REPO_ROOT,
                env=child_env(),
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT * 3,
            )  # fmt: skip
    finally:
        stop_process(receivers)
    if worker.returncode != 0:
        raise RuntimeError(f"group fan-out worker failed: {worker.stderr[-2000:]}")
    result = json.loads(worker.stdout.strip().splitlines()[-1].removeprefix("result "))
    note = (
        f"{members} members on {nodes} nodes: {result['queued']} deliveries queued (one per "
        f"shared inbox), {result['done']} delivered (2xx); post queued in "
        f"{1000 * result['enqueue']:.0f} ms; CPU {result['cpu']:.2f}s"
    )
    return [
        Figure(
            "group post fan-out, post to last 2xx",
            1000 * result["wall"],
            "ms",
            target="one delivery per shared inbox",
            ok=result["queued"] == nodes and result["done"] == nodes,
            note=note,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--nodes", type=int, default=NODES)
    parser.add_argument("--receivers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu is not None:
        pin_self(args.cpu)
    if args.receivers:
        asyncio.run(serve_receivers(args.receivers))
        return
    if args.worker:
        ports = [int(p) for p in args.ports.split(",")]
        print("result " + asyncio.run(worker_run(args.worker, ports, args.members)))
        return
    print(machine_line(), flush=True)
    print(format_table(run(args.members, args.nodes)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
