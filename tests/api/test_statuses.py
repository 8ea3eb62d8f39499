"""``/api/v1/statuses`` over real HTTP against real nodes: who may read each visibility,
posting with media and idempotency keys, delete-and-redraft, edits with their history
(and their Update reaching another node), threads, boosts, favourites, bookmarks and
pins. Polls are in ``test_polls``."""

from __future__ import annotations

from sqlalchemy import select

from node.context import transaction
from node.db.models import Follow, MediaAttachment, Post
from node.follows import follow
from node.remote_actors import resolve_account
from tests.api.conftest import ApiClient, ClientFactory
from tests.harness import NodeFactory, RunningNode, wait_for


async def people_of_a(node_factory: NodeFactory, api: ClientFactory) -> dict[str, ApiClient]:
    """alice (author), bob (follows alice), carol (a stranger) and an anonymous client."""
    node = await node_factory.start("a", users=("alice", "bob", "carol"))
    await follow(node.node, await node.actor("bob"), await node.actor("alice"))
    return {
        "alice": await api(node, "alice"),
        "bob": await api(node, "bob"),
        "carol": await api(node, "carol"),
        "anonymous": await api(node, None),
    }


async def insert_upload(node: RunningNode, username: str, description: str = "a chart") -> int:
    """An upload as the media endpoint leaves it: owned, not attached yet."""
    owner = await node.actor(username)
    async with transaction(node.node) as db:
        item = MediaAttachment(
            owner_id=owner.id,
            type="image",
            mime_type="image/png",
            file_name="abcdefghijklmnopqrstuvwx.png",
            thumbnail_name="abcdefghijklmnopqrstuvwy.png",
            width=640,
            height=480,
            blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            description=description,
            focus_x=0.1,
            focus_y=-0.2,
        )
        db.add(item)
        await db.flush()
        return item.id


# --- who may read what ----------------------------------------------------------------


async def test_each_visibility_is_read_back_by_the_rightpeople_of_a(
    node_factory: NodeFactory, api: ClientFactory
):
    """Public and unlisted posts are for everyone; private (followers) ones for the
    author and followers; direct ones for the author and the mentioned. Everyone else,
    signed in or not, gets the same 404 as for a post that does not exist."""
    people = await people_of_a(node_factory, api)
    alice = people["alice"]
    expected = {
        "public": {"alice": 200, "bob": 200, "carol": 200, "anonymous": 200},
        "unlisted": {"alice": 200, "bob": 200, "carol": 200, "anonymous": 200},
        "private": {"alice": 200, "bob": 200, "carol": 404, "anonymous": 404},
        "direct": {"alice": 200, "bob": 404, "carol": 200, "anonymous": 404},
    }
    created: dict[str, str] = {}
    for visibility, readers in expected.items():
        # Only the direct post mentions carol: a mention lets one see any post.
        text = f"@carol a {visibility} post" if visibility == "direct" else f"a {visibility} post"
        status = await alice.post(
            "/api/v1/statuses", json={"status": text, "visibility": visibility}
        )
        assert status["visibility"] == visibility
        created[visibility] = status["id"]
        assert isinstance(status["id"], str) and status["account"]["acct"] == "alice"
        for reader, code in readers.items():
            _, body, _ = await people[reader].call(
                "GET", f"/api/v1/statuses/{status['id']}", expect=code
            )
            if code == 404:
                assert body == {"error": "Record not found"}
            else:
                assert body["id"] == status["id"]

    missing = await people["carol"].call("GET", "/api/v1/statuses/12345", expect=404)
    assert missing[1] == {"error": "Record not found"}

    # Several at once: only those the reader may see, in the order asked.
    ids = [created[v] for v in ("direct", "private", "public")] + ["12345"]
    some = await people["carol"].get("/api/v1/statuses", params=[("id[]", i) for i in ids])
    assert [s["id"] for s in some] == [created["direct"], created["public"]]


async def test_posting_needs_a_token_the_write_scope_and_valid_input(
    node_a: RunningNode, api: ClientFactory
):
    """401 without a token, 403 with a read-only one, 422 with a reason for what cannot
    be posted, 404 for a reply to a post one may not see."""
    anonymous = await api(node_a, None)
    await anonymous.call("POST", "/api/v1/statuses", json={"status": "hi"}, expect=401)
    reader = await api(node_a, "alice", scopes="read")
    await reader.call("POST", "/api/v1/statuses", json={"status": "hi"}, expect=403)

    alice = await api(node_a, "alice")
    refusals = [
        {"status": "  "},
        {"status": "hi", "visibility": "secret"},
        {"status": "x" * 5001},
        {"status": "hi", "poll": {"options": ["only one"], "expires_in": 3600}},
        {"status": "hi", "poll": {"options": ["a", "b"], "expires_in": 10}},
        {"status": "hi", "media_ids": ["999"]},
        {"status": "hi", "scheduled_at": "2099-01-01T00:00:00Z"},
        {"status": "no one is mentioned", "visibility": "direct"},
    ]
    for body in refusals:
        _, error, _ = await alice.call("POST", "/api/v1/statuses", json=body, expect=422)
        assert error["error"].startswith("Validation failed: "), (body, error)

    _, error, _ = await alice.call(
        "POST", "/api/v1/statuses", json={"status": "hi", "visibility": "limited"}, expect=422
    )
    assert "circle" in error["error"]

    carol = await api(node_a, "carol")
    secret = await carol.post(
        "/api/v1/statuses", json={"status": "for my followers", "visibility": "private"}
    )
    await alice.call(
        "POST",
        "/api/v1/statuses",
        json={"status": "sneaky reply", "in_reply_to_id": secret["id"]},
        expect=404,
    )


async def test_idempotency_key_posts_once(node_a: RunningNode, api: ClientFactory):
    """A retried request with the same Idempotency-Key returns the first status instead
    of posting twice; another key, or another user with the same key, posts anew."""
    alice = await api(node_a, "alice")
    headers = {"Idempotency-Key": "retry-1"}
    first = await alice.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    again = await alice.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    assert again["id"] == first["id"]
    other = await alice.post(
        "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": "retry-2"}
    )
    assert other["id"] != first["id"]
    carol = await api(node_a, "carol")
    hers = await carol.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    assert hers["id"] != first["id"]

    async with node_a.node.reads() as db:
        alices = await db.scalars(
            select(Post.id).where(Post.actor_id == (await node_a.actor("alice")).id)
        )
        assert len(list(alices)) == 2


async def test_media_are_attached_and_federated_as_documents(
    node_a: RunningNode, api: ClientFactory
):
    """Uploads named in ``media_ids[]`` (form shape) are attached, shown as media
    attachments, and go into the Note's ``attachment`` as Documents; someone else's
    upload cannot be attached. Deleting answers with what a redraft needs."""
    alice = await api(node_a, "alice")
    media_id = await insert_upload(node_a, "alice")
    status = await alice.post(
        "/api/v1/statuses", data=[("status", ""), ("media_ids[]", str(media_id))]
    )
    [attachment] = status["media_attachments"]
    assert attachment["id"] == str(media_id) and attachment["description"] == "a chart"
    assert attachment["meta"]["focus"] == {"x": 0.1, "y": -0.2}

    async with node_a.node.reads() as db:
        post = await db.get(Post, int(status["id"]))
    assert post is not None
    [document] = post.attachments
    assert document["type"] == "Document" and document["mediaType"] == "image/png"
    assert document["url"].endswith("/media/abcdefghijklmnopqrstuvwx.png")
    assert document["blurhash"] and document["focalPoint"] == [0.1, -0.2]
    assert (document["width"], document["height"], document["name"]) == (640, 480, "a chart")

    carols = await insert_upload(node_a, "carol")
    await alice.call(
        "POST", "/api/v1/statuses", json={"status": "x", "media_ids": [str(carols)]}, expect=422
    )

    # Delete and redraft: the status comes back with its text, its media freed.
    gone = await alice.delete(f"/api/v1/statuses/{status['id']}")
    assert gone["text"] == "" and gone["media_attachments"][0]["id"] == str(media_id)
    await alice.call("GET", f"/api/v1/statuses/{status['id']}", expect=404)
    redraft = await alice.post(
        "/api/v1/statuses", json={"status": "take two", "media_ids": [str(media_id)]}
    )
    assert redraft["media_attachments"][0]["id"] == str(media_id)


async def test_delete_returns_the_source_and_only_the_author_may(
    node_a: RunningNode, api: ClientFactory
):
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    status = await alice.post("/api/v1/statuses", json={"status": "typed *as is* #tag"})
    await carol.call("DELETE", f"/api/v1/statuses/{status['id']}", expect=404)
    deleted = await alice.delete(f"/api/v1/statuses/{status['id']}")
    assert deleted["text"] == "typed *as is* #tag"
    await alice.call("DELETE", f"/api/v1/statuses/{status['id']}", expect=404)


# --- edits -----------------------------------------------------------------------------


async def test_edit_keeps_history_and_source(node_factory: NodeFactory, api: ClientFactory):
    """Each edit keeps the previous version; the history lists every version oldest
    first, the current one last; the source is what was typed. Only the author may edit,
    and someone who boosted the post is told of the edit."""
    people = await people_of_a(node_factory, api)
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    status = await alice.post("/api/v1/statuses", json={"status": "first version"})
    await bob.post(f"/api/v1/statuses/{status['id']}/reblog")

    edited = await alice.put(
        f"/api/v1/statuses/{status['id']}",
        json={"status": "second version", "spoiler_text": "cw"},
    )
    assert "second version" in edited["content"] and edited["spoiler_text"] == "cw"
    assert edited["edited_at"] is not None and edited["sensitive"] is True
    await alice.put(f"/api/v1/statuses/{status['id']}", json={"status": "third version"})

    history = await carol.get(f"/api/v1/statuses/{status['id']}/history")
    assert [h["content"] for h in history] == [
        "<p>first version</p>",
        "<p>second version</p>",
        "<p>third version</p>",
    ]
    assert [h["spoiler_text"] for h in history] == ["", "cw", ""]
    assert history[0]["created_at"] == status["created_at"]
    assert history[0]["created_at"] <= history[1]["created_at"] <= history[2]["created_at"]
    assert all(h["account"]["acct"] == "alice" for h in history)

    source = await alice.get(f"/api/v1/statuses/{status['id']}/source")
    assert source == {"id": status["id"], "text": "third version", "spoiler_text": ""}

    await carol.call(
        "PUT", f"/api/v1/statuses/{status['id']}", json={"status": "mine now"}, expect=404
    )
    await alice.call("PUT", f"/api/v1/statuses/{status['id']}", json={"status": ""}, expect=422)

    notifications = await bob.get("/api/v1/notifications", params={"types[]": "update"})
    assert [n["status"]["id"] for n in notifications] == [status["id"], status["id"]]

    unedited = await alice.post("/api/v1/statuses", json={"status": "never edited"})
    assert len(await alice.get(f"/api/v1/statuses/{unedited['id']}/history")) == 1


async def test_edit_reaches_the_other_node_as_an_update(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """bob@B follows alice@A; alice's edit goes out as an Update to the servers the
    Create went to, and B's copy changes."""
    bob = await node_b.actor("bob")
    await follow(node_b.node, bob, await resolve_account(node_b.node, node_a.handle("alice")))

    async def accepted() -> bool:
        async with node_b.node.reads() as db:
            state = await db.scalar(select(Follow.state).where(Follow.follower_id == bob.id))
            return state == "accepted"

    await wait_for(accepted)
    alice = await api(node_a, "alice")
    status = await alice.post("/api/v1/statuses", json={"status": "draft wording"})

    async def copy_on_b() -> Post | None:
        async with node_b.node.reads() as db:
            return await db.scalar(select(Post).where(Post.uri == status["uri"]))

    remote = await wait_for(copy_on_b)
    assert "draft wording" in remote.content

    await alice.put(f"/api/v1/statuses/{status['id']}", json={"status": "final wording"})

    async def edited_on_b() -> bool:
        copy = await copy_on_b()
        return copy is not None and "final wording" in copy.content and copy.edited_at is not None

    await wait_for(edited_on_b)
    bob_api = await api(node_b, "bob")
    seen = await bob_api.get(f"/api/v1/statuses/{remote.id}")
    assert "final wording" in seen["content"] and seen["edited_at"] is not None
    # B keeps the remote post's history too: the version replaced, then the current one
    history = await bob_api.get(f"/api/v1/statuses/{remote.id}/history")
    assert ["draft wording" in h["content"] for h in history] == [True, False]
    assert "final wording" in history[-1]["content"]


# --- threads ----------------------------------------------------------------------------


async def test_context_lists_ancestors_and_descendants_each_reader_may_see(
    node_factory: NodeFactory, api: ClientFactory
):
    """root ← reply1 ← reply2 ← reply3, and a followers-only reply to reply1: the middle
    of the thread sees the ancestors oldest first and the replies depth first; a stranger
    does not see the followers-only reply."""
    people = await people_of_a(node_factory, api)
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    root = await alice.post("/api/v1/statuses", json={"status": "root"})
    reply1 = await bob.post(
        "/api/v1/statuses", json={"status": "reply one", "in_reply_to_id": root["id"]}
    )
    reply2 = await alice.post(
        "/api/v1/statuses", json={"status": "reply two", "in_reply_to_id": reply1["id"]}
    )
    reply3 = await carol.post(
        "/api/v1/statuses", json={"status": "reply three", "in_reply_to_id": reply2["id"]}
    )
    private = await alice.post(
        "/api/v1/statuses",
        json={"status": "for followers", "in_reply_to_id": reply1["id"], "visibility": "private"},
    )
    assert reply1["in_reply_to_id"] == root["id"]
    assert reply1["in_reply_to_account_id"] == root["account"]["id"]

    seen_by_bob = await bob.get(f"/api/v1/statuses/{reply1['id']}/context")
    assert [s["id"] for s in seen_by_bob["ancestors"]] == [root["id"]]
    assert [s["id"] for s in seen_by_bob["descendants"]] == [
        reply2["id"],
        reply3["id"],
        private["id"],
    ]
    seen_by_carol = await carol.get(f"/api/v1/statuses/{reply3['id']}/context")
    assert [s["id"] for s in seen_by_carol["ancestors"]] == [root["id"], reply1["id"], reply2["id"]]
    seen_anonymously = await people["anonymous"].get(f"/api/v1/statuses/{reply1['id']}/context")
    assert private["id"] not in [s["id"] for s in seen_anonymously["descendants"]]
    await people["anonymous"].call("GET", f"/api/v1/statuses/{private['id']}/context", expect=404)


# --- reactions ---------------------------------------------------------------------------


async def test_favourite_boost_bookmark_and_their_lists(
    node_factory: NodeFactory, api: ClientFactory
):
    """Each action answers with the status and the viewer's flag set; who favourited or
    boosted is listed; bookmarks and favourites are listed with Link paging."""
    people = await people_of_a(node_factory, api)
    alice, bob = people["alice"], people["bob"]
    posts = [await alice.post("/api/v1/statuses", json={"status": f"n{i}"}) for i in range(3)]
    target = posts[0]["id"]

    faved = await bob.post(f"/api/v1/statuses/{target}/favourite")
    assert faved["favourited"] is True and faved["favourites_count"] == 1
    assert (await bob.post(f"/api/v1/statuses/{target}/favourite"))["favourites_count"] == 1
    [fan] = await people["anonymous"].get(f"/api/v1/statuses/{target}/favourited_by")
    assert fan["acct"] == "bob"

    boost = await bob.post(f"/api/v1/statuses/{target}/reblog")
    assert boost["reblog"]["id"] == target and boost["id"] != target
    assert boost["reblog"]["reblogged"] is True and boost["reblog"]["reblogs_count"] == 1
    [booster] = await alice.get(f"/api/v1/statuses/{target}/reblogged_by")
    assert booster["acct"] == "bob"
    quiet = await people["carol"].post(
        f"/api/v1/statuses/{posts[1]['id']}/reblog", json={"visibility": "private"}
    )
    assert quiet["visibility"] == "private"
    undone = await bob.post(f"/api/v1/statuses/{target}/unreblog")
    assert undone["id"] == target and undone["reblogged"] is False
    assert await alice.get(f"/api/v1/statuses/{target}/reblogged_by") == []

    for status in posts:
        marked = await bob.post(f"/api/v1/statuses/{status['id']}/bookmark")
        assert marked["bookmarked"] is True
    first, headers = (await bob.call("GET", "/api/v1/bookmarks", params={"limit": "2"}))[1:]
    # Most recently bookmarked first, paged by the bookmarks' own ids.
    assert [s["id"] for s in first] == [posts[2]["id"], posts[1]["id"]]
    assert 'rel="next"' in headers["Link"] and 'rel="prev"' in headers["Link"]
    next_url = headers["Link"].split(">")[0].lstrip("<")
    async with bob.session.get(next_url, headers=bob.headers()) as response:
        rest = await response.json()
        assert 'rel="next"' not in response.headers["Link"]
    assert [s["id"] for s in rest] == [posts[0]["id"]]
    unmarked = await bob.post(f"/api/v1/statuses/{posts[1]['id']}/unbookmark")
    assert unmarked["bookmarked"] is False
    assert len(await bob.get("/api/v1/bookmarks")) == 2

    [favourite] = await bob.get("/api/v1/favourites")
    assert favourite["id"] == target
    await bob.post(f"/api/v1/statuses/{target}/unfavourite")
    assert await bob.get("/api/v1/favourites") == []

    reader = await api(bob.node, "bob", scopes="read")
    await reader.call("POST", f"/api/v1/statuses/{target}/favourite", expect=403)
    await people["anonymous"].call("GET", "/api/v1/bookmarks", expect=401)
    await bob.call("POST", "/api/v1/statuses/999/favourite", expect=404)


async def test_pins_are_own_public_posts_five_at_most(
    node_factory: NodeFactory, api: ClientFactory
):
    people = await people_of_a(node_factory, api)
    alice, bob = people["alice"], people["bob"]
    mine = [await alice.post("/api/v1/statuses", json={"status": f"p{i}"}) for i in range(6)]
    for status in mine[:5]:
        assert (await alice.post(f"/api/v1/statuses/{status['id']}/pin"))["pinned"] is True
    _, error, _ = await alice.call("POST", f"/api/v1/statuses/{mine[5]['id']}/pin", expect=422)
    assert "maximum" in error["error"]
    assert (await alice.post(f"/api/v1/statuses/{mine[0]['id']}/unpin"))["pinned"] is False
    await alice.post(f"/api/v1/statuses/{mine[5]['id']}/pin")

    private = await alice.post(
        "/api/v1/statuses", json={"status": "followers only", "visibility": "private"}
    )
    await alice.post(f"/api/v1/statuses/{mine[1]['id']}/unpin")
    await alice.call("POST", f"/api/v1/statuses/{private['id']}/pin", expect=422)
    await bob.call("POST", f"/api/v1/statuses/{mine[0]['id']}/pin", expect=422)
