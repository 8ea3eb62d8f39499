"""End to end with the real Mastodon.py client, as a script or an app would use Cercle:
register an app, log in, post with each visibility, follow someone on another node, get
notified, page the home timeline, upload an image and attach it.

Mastodon.py is synchronous, so each call runs in a thread while the nodes keep serving on
the test's event loop.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any, TypeVar

from mastodon import Mastodon
from PIL import Image

from node.db.models import Post
from node.posts import create_post, like
from tests.harness import PASSWORD, NodeFactory, RunningNode, wait_for

T = TypeVar("T")
SCOPES = ["read", "write", "follow", "push"]


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def logged_in(node: RunningNode, username: str) -> Mastodon:
    client_id, client_secret = await call(
        Mastodon.create_app, "cercle e2e", scopes=SCOPES, api_base_url=node.base_url
    )
    client = await call(
        Mastodon,
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=node.base_url,
        ratelimit_method="throw",
    )
    await call(client.log_in, username, PASSWORD, scopes=SCOPES, allow_http=True)
    return client


def png_bytes() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 40)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


async def test_mastodon_py_end_to_end(node_factory: NodeFactory):
    a = await node_factory.start("a", users=("alice", "carol"))
    b = await node_factory.start("b", users=("bob",))
    alice = await logged_in(a, "alice")

    # The instance parses as a Mastodon-compatible server
    instance = await call(alice.instance)
    assert "Cercle" in instance["version"]
    me = await call(alice.me)
    assert me["username"] == "alice" and me["acct"] == "alice"

    # Post with each visibility; all four are in alice's home timeline
    posted = {}
    for visibility in ("public", "unlisted", "private", "direct"):
        text = f"{visibility} words" + (" @carol" if visibility == "direct" else "")
        status = await call(alice.status_post, text, visibility=visibility)
        assert status["visibility"] == visibility
        posted[visibility] = status
    home_ids = {s["id"] for s in await call(alice.timeline_home, limit=40)}
    assert {s["id"] for s in posted.values()} <= home_ids

    # Follow bob on node B by his handle; his next post arrives in alice's home
    found = await call(alice.search_v2, f"bob@{b.domain}", resolve=True, result_type="accounts")
    bob_account = found["accounts"][0]
    await call(alice.account_follow, bob_account["id"])

    async def following() -> bool:
        relationships = await call(alice.account_relationships, bob_account["id"])
        return bool(relationships[0]["following"])

    await wait_for(following, timeout=15)
    bob_post = await create_post(b.node, await b.actor("bob"), "News from B")

    async def arrived() -> bool:
        return any(s["uri"] == bob_post.uri for s in await call(alice.timeline_home))

    await wait_for(arrived, timeout=15)

    # carol favourites alice's public post: alice gets a notification
    public_post = posted["public"]
    async with a.node.reads() as db:
        row = await db.get(Post, int(public_post["id"]))
    assert row is not None
    await like(a.node, await a.actor("carol"), row)
    notifications = await call(alice.notifications, types=["favourite"])
    assert notifications and notifications[0]["type"] == "favourite"
    assert notifications[0]["account"]["username"] == "carol"
    assert notifications[0]["status"]["id"] == public_post["id"]

    # Paging with max_id / min_id through the Link headers
    for n in range(5):
        await call(alice.status_post, f"page filler {n}")
    first = await call(alice.timeline_home, limit=3)
    second = await call(alice.fetch_next, first)
    assert len(first) == 3 and len(second) == 3
    assert int(first[-1]["id"]) > int(second[0]["id"])
    back = await call(alice.fetch_previous, second)
    assert [s["id"] for s in back][-1] == first[-1]["id"]
    newer = await call(alice.timeline_home, min_id=second[0]["id"], limit=3)
    assert [s["id"] for s in newer] == [s["id"] for s in first]

    # Upload an image and attach it
    media = await call(alice.media_post, png_bytes(), mime_type="image/png", description="a square")
    assert media["type"] == "image" and media["description"] == "a square"
    with_image = await call(alice.status_post, "look at this", media_ids=[media["id"]])
    attachment = with_image["media_attachments"][0]
    assert attachment["id"] == media["id"] and attachment["url"].startswith(a.base_url)
