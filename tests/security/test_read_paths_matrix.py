"""Who may read what, over every read path (issue 7's authorization suite; DESIGN.md §3).

Four real nodes: A (the author's firm), B (A's partner firm), C (a stranger firm), D (a
domain A blocks). alice@A posts once to each audience; every kind of requester then asks
for the post over each read path, and the answers must be exactly the allowed set:

* ActivityPub (signed GETs by remote people, and anonymous): the post, its Create
  activity, and alice's outbox;
* the client API (tokens of local people, and anonymous): the status, its thread (as a
  reply to a public post), alice's statuses, the public and hashtag timelines.

Refusals are 404 everywhere, indistinguishable from a post that does not exist. The
expected sets below are written out by hand from DESIGN.md, not computed with
``node.audience.can_see``: a test that asked the rule what the rule says could not fail.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from federation.errors import FetchError
from federation.fetch import Fetcher
from node import groups
from node.circles import add_members, create_circle
from node.context import transaction
from node.follows import follow
from node.policy import set_domain_block
from node.posts import create_post
from node.remote_actors import resolve_account
from tests.api.conftest import issue_token
from tests.circles.partnering import make_partners
from tests.harness import NodeFactory, RunningNode, wait_for

AUDIENCES = (
    "public", "unlisted", "followers", "organisation", "partners", "circle", "group", "direct",
)  # fmt: skip
#: Remote people (ActivityPub readers): their node and what they are to alice.
REMOTE = {
    "carl": "c",  # a stranger
    "dan": "d",  # on a blocked domain (he followed alice before the block)
    "cleo": "c",  # follows alice
    "bob": "b",  # partner firm; in alice's circle
    "bea": "b",  # partner firm; member of alice's group
    "bart": "b",  # partner firm, nothing else
}
#: Local people (client-API readers) besides the author.
LOCAL = ("colleague", "lou")  # lou is in alice's circle and group
#: Who may read each audience (alice always may; "anonymous" is anyone signed out).
ALLOWED: dict[str, set[str]] = {
    "public": {"anonymous", "carl", "cleo", "bob", "bea", "bart", "colleague", "lou"},
    "unlisted": {"anonymous", "carl", "cleo", "bob", "bea", "bart", "colleague", "lou"},
    "followers": {"cleo"},
    "organisation": {"colleague", "lou"},
    "partners": {"bob", "bea", "bart", "colleague", "lou"},
    "circle": {"bob", "lou"},
    "group": {"bea", "lou"},
    "direct": {"carl"},
}
#: Over ActivityPub, organisation posts never leave the node: nobody remote reads them.
AP_NEVER = {"organisation"}


async def test_every_read_path_answers_exactly_the_allowed_readers(
    world: dict[str, Any],
) -> None:
    """One set of four nodes for the three checks: building it is most of the cost."""
    await check_activitypub_read_paths(world)
    await check_client_api_read_paths(world)
    await check_delivered_copies(world)


@pytest.fixture
async def world(node_factory: NodeFactory) -> dict[str, Any]:
    a = await node_factory.start("a", users=("alice", "colleague", "lou"))
    b = await node_factory.start("b", users=("bob", "bea", "bart"))
    c = await node_factory.start("c", users=("carl", "cleo"))
    d = await node_factory.start("d", users=("dan",))
    nodes = {"a": a, "b": b, "c": c, "d": d}
    await make_partners(a, b)
    alice = await a.actor("alice")
    for name in ("cleo", "dan"):
        node = nodes[REMOTE[name]]
        await follow(
            node.node, await node.actor(name), await resolve_account(node.node, a.handle("alice"))
        )
        await node.deliver_all()
    await a.deliver_all()
    team = await groups.create_group(a.node, alice, "team", members_only=True)
    bea = await resolve_account(a.node, b.handle("bea"))
    lou = await a.actor("lou")
    await groups.invite(a.node, team.id, alice, [bea, lou])
    await follow(a.node, lou, team)
    await follow(b.node, await b.actor("bea"), await resolve_account(b.node, a.handle("team")))
    bob = await resolve_account(a.node, b.handle("bob"))
    async with transaction(a.node) as db:
        circle = await create_circle(db, alice, "inner")
        await add_members(db, circle, [bob, lou])
    for _ in range(2):
        for node in nodes.values():
            await node.deliver_all()
    async with a.node.reads() as db:
        assert await groups.is_member(db, team.id, bea.id)
    async with transaction(a.node) as db:
        await set_domain_block(db, d.domain, True)

    root = await create_post(a.node, alice, "root #matrix")
    posts = {}
    for audience in AUDIENCES:
        text = f"{audience} post #matrix"
        if audience == "direct":
            text += f" @carl@{c.domain}"
        posts[audience] = await create_post(
            a.node,
            alice,
            text,
            audience=audience,
            in_reply_to=root,
            circle_ids=[circle.id] if audience == "circle" else (),
            group=team if audience == "group" else None,
        )
    await a.deliver_all()
    return {"nodes": nodes, "posts": posts, "root": root}


async def _ap_status(world: dict[str, Any], reader: str | None, url: str) -> int:
    a = world["nodes"]["a"]
    if reader is None:
        fetcher = Fetcher(a.node.http, signer=None, allow_loopback=True)  # type: ignore[arg-type]
    else:
        node: RunningNode = world["nodes"][REMOTE[reader]]
        signer = node.node.signer(await node.actor(reader))
        fetcher = Fetcher(node.node.http, signer=signer, allow_loopback=True)  # type: ignore[arg-type]
    try:
        doc = await fetcher.get_json(url)
    except FetchError as exc:
        return exc.status or 0
    return 200 if isinstance(doc, dict) else 0


async def _outbox_ids(world: dict[str, Any], reader: str | None) -> set[str] | None:
    """Post ids in alice's outbox as ``reader`` sees it; None when refused (404)."""
    a = world["nodes"]["a"]
    url = f"{a.actor_uri('alice')}/outbox?page=true"
    node = world["nodes"][REMOTE[reader]] if reader else a
    signer = node.node.signer(await node.actor(reader)) if reader else None
    fetcher = Fetcher(node.node.http, signer=signer, allow_loopback=True)  # type: ignore[arg-type]
    try:
        page = await fetcher.get_json(url)
    except FetchError as exc:
        assert exc.status == 404
        return None
    return {
        item["object"]["id"] for item in page["orderedItems"] if isinstance(item["object"], dict)
    }


async def check_activitypub_read_paths(world: dict[str, Any]) -> None:
    wrong = []
    readers: list[str | None] = [None, *REMOTE]
    for audience, post in world["posts"].items():
        for reader in readers:
            name = reader or "anonymous"
            allowed = name in ALLOWED[audience] and audience not in AP_NEVER and name != "dan"
            for url in (post.uri, f"{post.uri}/activity"):
                status = await _ap_status(world, reader, url)
                if status != (200 if allowed else 404):
                    wrong.append(f"{audience} {url.rsplit('/', 1)[-1]} by {name}: {status}")
    # The outbox lists public and unlisted posts only, and nothing to a blocked domain
    for reader in readers:
        ids = await _outbox_ids(world, reader)
        if reader == "dan":
            if ids is not None:
                wrong.append("outbox readable by a blocked domain")
            continue
        listed = {a for a, p in world["posts"].items() if ids is not None and p.uri in ids}
        if listed != {"public", "unlisted"}:
            wrong.append(f"outbox by {reader or 'anonymous'} lists {sorted(listed)}")
    assert wrong == [], "\n".join(wrong)


async def _api(node: RunningNode, token: str | None, path: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(node.base_url + path, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


async def check_client_api_read_paths(world: dict[str, Any]) -> None:
    a: RunningNode = world["nodes"]["a"]
    alice_id = str((await a.actor("alice")).id)
    tokens: dict[str, str | None] = {"anonymous": None}
    for name in ("alice", *LOCAL):
        tokens[name] = await issue_token(a, name)
    wrong = []
    for name, token in tokens.items():
        _, thread = await _api(a, token, f"/api/v1/statuses/{world['root'].id}/context")
        in_thread = {s["id"] for s in thread["descendants"]}
        _, mine = await _api(a, token, f"/api/v1/accounts/{alice_id}/statuses?limit=40")
        in_account = {s["id"] for s in mine}
        _, public = await _api(a, token, "/api/v1/timelines/public?limit=40")
        in_public = {s["id"] for s in public}
        _, tagged = await _api(a, token, "/api/v1/timelines/tag/matrix?limit=40")
        in_tag = {s["id"] for s in tagged}
        for audience, post in world["posts"].items():
            pid = str(post.id)
            allowed = name == "alice" or name in ALLOWED[audience]
            status, _ = await _api(a, token, f"/api/v1/statuses/{pid}")
            checks = {
                "status": status == 200,
                "thread": pid in in_thread,
                "account statuses": pid in in_account,
            }
            for path, seen in checks.items():
                if seen != allowed:
                    wrong.append(f"{audience} {path} by {name}: seen={seen}")
            if status not in (200, 404):
                wrong.append(f"{audience} status by {name}: {status}")
            # Public and hashtag timelines carry public posts only, for everyone
            for path, ids in (("public timeline", in_public), ("tag timeline", in_tag)):
                if (pid in ids) != (audience == "public"):
                    wrong.append(f"{audience} {path} by {name}: listed={pid in ids}")
    assert wrong == [], "\n".join(wrong)


async def check_delivered_copies(world: dict[str, Any]) -> None:
    """What each remote node stored and shows its people: the same allowed sets."""
    from sqlalchemy import select

    from node.db.models import Post
    from node.visibility import viewer_can_see

    async def sees(name: str, uri: str) -> bool:
        node: RunningNode = world["nodes"][REMOTE[name]]
        async with node.node.reads() as db:
            post = await db.scalar(select(Post).where(Post.uri == uri))
            return post is not None and await viewer_can_see(db, await node.actor(name), post)

    wrong = []
    for audience, post in world["posts"].items():
        for name in REMOTE:
            if name == "dan":
                continue  # nothing is delivered to a blocked domain (checked below)
            # Delivered copies follow the rules of the reader's own node: public posts
            # reach B and C through alice's followers there (cleo, and the partnership).
            expected = name in ALLOWED[audience] and audience not in AP_NEVER
            if audience in ("public", "unlisted") and REMOTE[name] == "b":
                expected = False  # nobody on B follows alice: public posts are not sent there
            if expected:
                try:
                    await wait_for(lambda n=name, u=post.uri: sees(n, u), timeout=10)
                except AssertionError:
                    wrong.append(f"{audience}: {name} never received it")
            elif await sees(name, post.uri):
                wrong.append(f"{audience}: {name} received it")
        d: RunningNode = world["nodes"]["d"]
        async with d.node.reads() as db:
            if await db.scalar(select(Post.id).where(Post.uri == post.uri)) is not None:
                wrong.append(f"{audience}: delivered to the blocked domain")
    assert wrong == [], "\n".join(wrong)
