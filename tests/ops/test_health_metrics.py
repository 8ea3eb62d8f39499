"""``/healthz``, ``/readyz``, ``/metrics`` and request ids, on real nodes over loopback."""

from __future__ import annotations

import re

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from node.context import transaction
from node.db.migrate import HEAD_REVISION
from node.delivery.queue import enqueue
from node.delivery.worker import run_once
from node.follows import follow
from node.remote_actors import resolve_account
from tests.harness import NodeFactory, RunningNode, bind_loopback, wait_for


async def scrape(node: RunningNode) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics`` by (name, sorted labels)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(node.base_url + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_health_and_readiness_and_request_ids(node_a: RunningNode) -> None:
    """A load balancer's probes answer, and every answer carries a request id: the
    proxy's own when it sent a sane one, a fresh one otherwise."""
    async with aiohttp.ClientSession() as session:
        async with session.get(node_a.base_url + "/healthz") as r:
            assert r.status == 200
            assert await r.json() == {"status": "ok"}
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"])
        async with session.get(node_a.base_url + "/readyz") as r:
            assert r.status == 200
            assert await r.json() == {"status": "ready", "schema": HEAD_REVISION}
        async with session.get(
            node_a.base_url + "/users/alice", headers={"X-Request-Id": "proxy-42"}
        ) as r:
            assert r.headers["X-Request-Id"] == "proxy-42"
        async with session.get(
            node_a.base_url + "/users/alice", headers={"X-Request-Id": "no spaces\tplease"}
        ) as r:
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"])
        async with session.get(node_a.base_url + "/no/such/page") as r:
            assert r.status == 404
            assert r.headers["X-Request-Id"]


async def test_metrics_count_requests_and_inbox_activities_by_type_and_result(
    node_a: RunningNode, node_b: RunningNode
) -> None:
    """alice@A follows bob@B: B's inbox applies a Follow, A's an Accept; an unsigned POST
    is counted as refused with its status."""
    # Given alice on A follows bob on B
    alice = await node_a.actor("alice")
    bob_on_a = await resolve_account(node_a.node, node_b.handle("bob"))
    await follow(node_a.node, alice, bob_on_a)

    async def follow_counted() -> bool:
        b = await scrape(node_b)
        return (
            b.get(("cercle_inbox_activities_total", (("result", "applied"), ("type", "Follow"))))
            == 1.0
        )

    await wait_for(follow_counted)
    # When someone posts an unsigned activity to bob's inbox
    async with aiohttp.ClientSession() as session:
        async with session.post(
            node_b.actor_uri("bob") + "/inbox",
            data=b'{"type": "Create"}',
            headers={"Content-Type": "application/activity+json"},
        ) as r:
            assert r.status == 401
    # Then B reports it by result, and counts the requests by route pattern
    b = await scrape(node_b)
    assert b[("cercle_inbox_activities_total", (("result", "401"), ("type", "unknown")))] == 1.0
    posts_to_inbox = b[
        (
            "cercle_http_requests_total",
            (("method", "POST"), ("route", "/users/{username}/inbox"), ("status", "401")),
        )
    ]
    assert posts_to_inbox == 1.0
    await wait_for(
        lambda: _has(
            node_a, ("cercle_inbox_activities_total", (("result", "applied"), ("type", "Accept")))
        )
    )


async def test_metrics_count_repeated_requests_and_fold_unknown_methods(
    node_a: RunningNode,
) -> None:
    """Each answer counts once in its series (the series are kept between requests), and
    methods beyond HTTP's usual ones share one series, so a client cannot grow the registry."""
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with session.get(
                node_a.base_url + "/users/alice", headers={"Accept": "application/activity+json"}
            ) as r:
                assert r.status == 200
        for method in ("PROPFIND", "MKCOL", "LOCK"):  # WebDAV: HTTP parsers accept them
            async with session.request(method, node_a.base_url + "/users/alice") as r:
                assert r.status == 405
    samples = await scrape(node_a)
    actor = ("route", "/users/{username}")
    assert (
        samples[("cercle_http_requests_total", (("method", "GET"), actor, ("status", "200")))]
        == 3.0
    )
    unmatched = ("route", "unmatched")  # 405: no route takes these methods
    assert (
        samples[("cercle_http_requests_total", (("method", "OTHER"), unmatched, ("status", "405")))]
        == 3.0
    )
    assert not [key for key in samples if ("method", "MKCOL") in key[1]]


async def _has(node: RunningNode, key: tuple[str, tuple[tuple[str, str], ...]]) -> bool:
    return (await scrape(node)).get(key, 0.0) >= 1.0


async def test_metrics_report_queue_depth_age_and_failures_by_domain(
    node_factory: NodeFactory,
) -> None:
    """Deliveries to a server that does not answer: due first, then waiting for a retry
    and counted as failures of that domain, as every worker process sees them."""
    node = await node_factory.start("q", workers=False)
    closed = bind_loopback()
    dead_domain = f"127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nobody listens there any more
    alice = await node.actor("alice")
    async with transaction(node.node) as db:
        for n in range(3):
            await enqueue(
                db,
                sender=alice,
                activity={"id": f"{node.base_url}/activities/{n}", "type": "Create"},
                inboxes=[f"http://{dead_domain}/users/x/inbox"],
            )
    before = await scrape(node)
    assert before[("cercle_delivery_queue_depth", (("state", "due"),))] == 3.0
    assert before[("cercle_delivery_queue_oldest_due_seconds", ())] >= 0.0

    # When a worker tries them once
    assert await run_once(node.node) == 3

    # Then they wait for a retry and the domain shows its failures
    after = await scrape(node)
    assert after[("cercle_delivery_queue_depth", (("state", "due"),))] == 0.0
    assert after[("cercle_delivery_queue_depth", (("state", "waiting"),))] == 3.0
    assert after[("cercle_delivery_queue_depth", (("state", "in_flight"),))] == 0.0
    assert (
        after[("cercle_delivery_failures", (("domain", dead_domain), ("state", "retrying")))] == 3.0
    )
    assert after[("cercle_domain_consecutive_failures", (("domain", dead_domain),))] >= 1.0
