"""Federation modes and partnerships across three real nodes (DESIGN.md section 4).

A runs in ``partners`` mode and partners with B; C is a stranger. C's posts, follows and
fetches are refused by A and nothing of them is stored there; C's firm may still ask to
become a partner (held for A's admin). After A proposes and B accepts, A's partners posts
reach B's people and nobody on C. A domain block refuses everything from the blocked node.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from federation.errors import FetchError
from federation.fetch import Fetcher
from federation.transport import deliver
from federation.vocab import PUBLIC
from node import partners
from node.context import transaction
from node.db.models import Actor, Delivery, Post, ReceivedActivity
from node.policy import set_domain_block, set_federation_mode
from node.posts import create_post
from node.visibility import viewer_can_see
from tests.circles.partnering import make_partners, partnership_state
from tests.harness import NodeFactory, RunningNode, wait_for


async def _send(sender: RunningNode, username: str, inbox: str, activity: dict[str, Any]) -> int:
    """POST ``activity`` signed by ``username`` of ``sender`` (a real node's key)."""
    actor = await sender.actor(username) if username != "org" else await _org(sender)
    outcome = await deliver(
        sender.node.http,  # type: ignore[arg-type]
        inbox,
        json.dumps(activity).encode(),
        sender.node.signer(actor),
    )
    assert outcome.status is not None, outcome.error
    return outcome.status


async def _org(node: RunningNode) -> Actor:
    async with node.node.reads() as db:
        return await partners.our_org(node.node, db)


async def _fetch_status(node: RunningNode, username: str | None, uri: str) -> int:
    signer = None
    if username is not None:
        signer = node.node.signer(await node.actor(username))
    fetcher = Fetcher(node.node.http, signer=signer, allow_loopback=True)  # type: ignore[arg-type]
    try:
        await fetcher.get_json(uri)
    except FetchError as exc:
        return exc.status or 0
    return 200


async def _count(node: RunningNode, model: Any, *where: Any) -> int:
    async with node.node.reads() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _sees(node: RunningNode, username: str, uri: str) -> bool:
    async with node.node.reads() as db:
        post = await db.scalar(select(Post).where(Post.uri == uri))
        return post is not None and await viewer_can_see(db, await node.actor(username), post)


async def test_partners_mode_admits_partners_only(node_factory: NodeFactory):
    a = await node_factory.start("a", users=("alice", "colleague"))
    b = await node_factory.start("b", users=("bob", "bart"))
    c = await node_factory.start("c", users=("carl",))
    async with transaction(a.node) as db:
        await set_federation_mode(db, "partners")
    public = await create_post(a.node, await a.actor("alice"), "hello world")
    alice_uri = a.actor_uri("alice")
    carl_uri = c.actor_uri("carl")

    # A stranger's follow and post are refused, and nothing of them is stored on A.
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{carl_uri}#follows/1",
        "type": "Follow",
        "actor": carl_uri,
        "object": alice_uri,
    }
    assert await _send(c, "carl", f"{alice_uri}/inbox", follow) == 403
    note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{carl_uri}/statuses/1/activity",
        "type": "Create",
        "actor": carl_uri,
        "to": [PUBLIC, alice_uri],
        "object": {
            "id": f"{carl_uri}/statuses/1",
            "type": "Note",
            "attributedTo": carl_uri,
            "to": [PUBLIC, alice_uri],
            "content": "<p>hi @alice</p>",
            "tag": [{"type": "Mention", "href": alice_uri}],
        },
    }
    assert await _send(c, "carl", a.base_url + "/inbox", note) == 403
    assert await _count(a, Actor, Actor.domain == c.domain) == 0
    assert await _count(a, Post, Post.uri.like(f"{c.base_url}%")) == 0
    assert await _count(a, ReceivedActivity, ReceivedActivity.actor_uri == carl_uri) == 0

    # ... and so are its reads, signed or not; A's keys stay readable for the handshake.
    assert await _fetch_status(c, "carl", public.uri) == 404
    assert await _fetch_status(c, None, public.uri) == 404
    assert await _fetch_status(c, "carl", alice_uri) == 404
    assert await _fetch_status(c, "carl", a.base_url + "/org") == 200

    # A stranger firm may ask to become a partner: held for A's admin.
    ask = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{c.base_url}/org#follows/1",
        "type": "Follow",
        "actor": f"{c.base_url}/org",
        "object": f"{a.base_url}/org",
    }
    assert await _send(c, "org", a.base_url + "/org/inbox", ask) == 202
    assert await partnership_state(a, c.domain) == "requested"
    assert await _fetch_status(c, "carl", public.uri) == 404  # asking is not being a partner

    # A proposes to B, B accepts: B's people read A, A's partners posts reach B only.
    await make_partners(a, b)
    assert await _fetch_status(b, "bob", public.uri) == 200
    news = await create_post(a.node, await a.actor("alice"), "partners news", audience="partners")
    await a.deliver_all()
    await wait_for(lambda: _sees(b, "bob", news.uri))
    assert await _sees(b, "bart", news.uri)
    assert await _count(c, Post, Post.uri == news.uri) == 0
    assert await _fetch_status(c, "carl", news.uri) == 404
    assert await _fetch_status(b, "bob", news.uri) == 200
    assert await _sees(a, "colleague", news.uri)

    # Ending the partnership stops partners posts both ways.
    await partners.end(b.node, a.domain)
    for _ in range(2):
        await b.deliver_all()
        await a.deliver_all()
    await wait_for(lambda: _is_not_active(a, b.domain))
    later = await create_post(a.node, await a.actor("alice"), "after the end", audience="partners")
    await a.deliver_all()
    assert await _count(b, Post, Post.uri == later.uri) == 0
    assert await _fetch_status(b, "bob", public.uri) == 404


async def _is_not_active(node: RunningNode, domain: str) -> bool:
    return await partnership_state(node, domain) not in ("active", "proposed")


async def test_blocked_domain_is_refused_and_nothing_is_stored(node_factory: NodeFactory):
    a = await node_factory.start("a", users=("alice",))
    c = await node_factory.start("c", users=("carl",))
    async with transaction(a.node) as db:
        await set_domain_block(db, c.domain, True)
    alice_uri = a.actor_uri("alice")
    carl_uri = c.actor_uri("carl")
    for n, kind in enumerate(("Follow", "Like", "Create")):
        activity: dict[str, Any] = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{carl_uri}#{kind}/{n}",
            "type": kind,
            "actor": carl_uri,
            "object": alice_uri,
        }
        if kind == "Create":
            activity["object"] = {
                "id": f"{carl_uri}/statuses/9",
                "type": "Note",
                "attributedTo": carl_uri,
                "to": [alice_uri],
                "content": "spam",
            }
        assert await _send(c, "carl", f"{alice_uri}/inbox", activity) == 403
    assert await _count(a, Actor, Actor.domain == c.domain) == 0
    assert await _count(a, ReceivedActivity, ReceivedActivity.actor_uri == carl_uri) == 0
    assert await _count(a, Post, Post.uri.like(f"{c.base_url}%")) == 0
    # Its reads are refused too, and nothing is delivered to it.
    public = await create_post(a.node, await a.actor("alice"), f"hi @carl@{c.domain}")
    assert await _fetch_status(c, "carl", public.uri) == 404
    await a.deliver_all()
    assert await _count(a, Delivery, Delivery.domain == c.domain, Delivery.state == "done") == 0
