"""``/api/v1/accounts`` over real HTTP: one's own profile, other profiles, an account's
posts as each reader may see them, follower listings with Mastodon's Link paging."""

from __future__ import annotations

import io
import re

import aiohttp
from PIL import Image

from node.context import transaction
from node.db.models import Pin
from node.posts import create_post, reblog
from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory, RunningNode, wait_for


def next_link(headers: object) -> str | None:
    link = headers.get("Link", "")  # type: ignore[attr-defined]
    match = re.search(r'<([^>]+)>; rel="next"', link)
    return match.group(1) if match else None


def png(width: int = 600, height: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 200)).save(out, format="PNG")
    return out.getvalue()


# --- own account ------------------------------------------------------------------


async def test_verify_credentials_needs_a_valid_token(node_a: RunningNode, api: ClientFactory):
    """The token's account comes back with its editable source; no token or a wrong one
    is a 401 with Mastodon's error shape."""
    alice = await api(node_a, "alice")
    me = await alice.get("/api/v1/accounts/verify_credentials")
    assert me["username"] == "alice" and me["acct"] == "alice"
    assert isinstance(me["id"], str)
    assert me["source"]["note"] == "" and me["source"]["follow_requests_count"] == 0

    anonymous = await api(node_a, None)
    _, body, _ = await anonymous.call("GET", "/api/v1/accounts/verify_credentials", expect=401)
    assert "error" in body
    forged = await api(node_a, None)
    forged.token = "not-a-token"
    await forged.call("GET", "/api/v1/accounts/verify_credentials", expect=401)


async def test_profile_token_or_read_accounts_may_verify(node_a: RunningNode, api: ClientFactory):
    """Mastodon 4.3 lets a ``profile``-only token read its own account; a write-only
    token may not."""
    profile_only = await api(node_a, "alice", scopes="profile")
    assert (await profile_only.get("/api/v1/accounts/verify_credentials"))["username"] == "alice"
    write_only = await api(node_a, "alice", scopes="write")
    await write_only.call("GET", "/api/v1/accounts/verify_credentials", expect=403)


async def test_update_credentials_edits_the_profile(node_a: RunningNode, api: ClientFactory):
    """Display name and bio change; the bio is typed as text, published as HTML
    paragraphs, and kept as typed for the next edit; ``locked`` takes effect."""
    alice = await api(node_a, "alice")
    note = "Head of sales.\n\nAsk me about #pricing & <deals>"
    me = await alice.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice A.", "note": note, "locked": "true", "bot": "true"},
    )
    assert me["display_name"] == "Alice A."
    assert me["note"].startswith("<p>Head of sales.</p><p>Ask me about ")
    assert "&lt;deals&gt;" in me["note"] and 'rel="tag"' in me["note"]
    assert me["source"]["note"] == note
    assert me["locked"] is True

    again = await alice.get("/api/v1/accounts/verify_credentials")
    assert again["source"]["note"] == note and again["display_name"] == "Alice A."

    # JSON bodies work too, and a field left out stays as it was.
    me = await alice.patch("/api/v1/accounts/update_credentials", json={"locked": False})
    assert me["locked"] is False and me["display_name"] == "Alice A."


async def test_update_credentials_refuses_bad_input(node_a: RunningNode, api: ClientFactory):
    """Too long a display name is a 422 naming the problem; a read-only token is a 403."""
    alice = await api(node_a, "alice")
    _, body, _ = await alice.call(
        "PATCH", "/api/v1/accounts/update_credentials", data={"display_name": "x" * 31}, expect=422
    )
    assert "display name" in body["error"]
    _, body, _ = await alice.call(
        "PATCH", "/api/v1/accounts/update_credentials", data={"locked": "maybe"}, expect=422
    )
    assert "locked" in body["error"]
    reader = await api(node_a, "alice", scopes="read")
    await reader.call(
        "PATCH", "/api/v1/accounts/update_credentials", data={"display_name": "x"}, expect=403
    )


async def test_avatar_and_header_uploads(node_a: RunningNode, api: ClientFactory):
    """Multipart avatar and header uploads are stored through the media service (the
    avatar resized to 400 px at most) and the avatar shows on the account."""
    alice = await api(node_a, "alice")
    form = aiohttp.FormData()
    form.add_field("avatar", png(), filename="me.png", content_type="image/png")
    form.add_field("header", png(1600, 400), filename="banner.png", content_type="image/png")
    form.add_field("display_name", "Alice")
    me = await alice.patch("/api/v1/accounts/update_credentials", data=form)
    assert me["avatar"].startswith(f"{node_a.base_url}/media/")
    async with alice.session.get(me["avatar"]) as response:
        assert response.status == 200
        image = Image.open(io.BytesIO(await response.read()))
        assert max(image.size) <= 400
    actor = await node_a.actor("alice")
    assert (actor.raw or {})["image"]["url"].startswith(f"{node_a.base_url}/media/")

    bad = aiohttp.FormData()
    bad.add_field("avatar", b"not an image", filename="x.png", content_type="image/png")
    await alice.call("PATCH", "/api/v1/accounts/update_credentials", data=bad, expect=422)


async def test_profile_update_reaches_followers_servers(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """bob@B follows alice@A; when alice renames herself, B's copy of her follows."""
    # Given bob on B follows alice on A
    bob_client = await api(node_b, "bob")
    found = await bob_client.get(
        "/api/v2/search", params={"q": node_a.handle("alice"), "resolve": "true"}
    )
    alice_id = found["accounts"][0]["id"]
    rel = await bob_client.post(f"/api/v1/accounts/{alice_id}/follow")
    assert rel["following"] or rel["requested"]

    async def following() -> bool:
        rels = await bob_client.get("/api/v1/accounts/relationships", params={"id[]": alice_id})
        return rels[0]["following"]

    await wait_for(following)

    # When alice changes her display name
    alice = await api(node_a, "alice")
    await alice.patch("/api/v1/accounts/update_credentials", data={"display_name": "Alice Renamed"})

    # Then B's cached actor is updated by the Update activity
    async def renamed() -> bool:
        actor = await node_b.actor_by_uri(node_a.actor_uri("alice"))
        return actor is not None and actor.display_name == "Alice Renamed"

    await wait_for(renamed)


async def test_unlocking_approves_waiting_requests(node_a: RunningNode, api: ClientFactory):
    """A locked account's pending requests are accepted when it unlocks, as in Mastodon."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    alice_id = (await alice.get("/api/v1/accounts/verify_credentials"))["id"]
    rel = await carol.post(f"/api/v1/accounts/{alice_id}/follow")
    assert rel["requested"] is True and rel["following"] is False
    await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "false"})
    rels = await carol.get("/api/v1/accounts/relationships", params={"id[]": alice_id})
    assert rels[0]["following"] is True and rels[0]["requested"] is False


# --- other accounts ---------------------------------------------------------------


async def test_get_account_and_lookup(node_a: RunningNode, api: ClientFactory):
    """Public: anyone may read a profile by id or look a user name up; unknown ids and
    names are 404s."""
    anonymous = await api(node_a, None)
    alice = await node_a.actor("alice")
    account = await anonymous.get(f"/api/v1/accounts/{alice.id}")
    assert account["id"] == str(alice.id) and account["username"] == "alice"
    for key in ("followers_count", "following_count", "statuses_count", "avatar", "url"):
        assert key in account

    assert (await anonymous.get("/api/v1/accounts/lookup", params={"acct": "alice"}))["id"] == str(
        alice.id
    )
    same = await anonymous.get("/api/v1/accounts/lookup", params={"acct": node_a.handle("alice")})
    assert same["id"] == str(alice.id)
    await anonymous.call("GET", "/api/v1/accounts/lookup", params={"acct": "nobody"}, expect=404)
    await anonymous.call("GET", "/api/v1/accounts/lookup", expect=422)
    await anonymous.call("GET", "/api/v1/accounts/123456789", expect=404)
    await anonymous.call("GET", "/api/v1/accounts/not-a-number", expect=404)

    many = await anonymous.get("/api/v1/accounts", params=[("id[]", str(alice.id)), ("id[]", "42")])
    assert [a["id"] for a in many] == [str(alice.id)]


async def test_lookup_resolves_a_remote_handle(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """``user@host`` of an account not yet known here is found through WebFinger."""
    alice = await api(node_a, "alice")
    bob = await alice.get("/api/v1/accounts/lookup", params={"acct": node_b.handle("bob")})
    assert bob["acct"] == node_b.handle("bob") and bob["username"] == "bob"
    await alice.call(
        "GET",
        "/api/v1/accounts/lookup",
        params={"acct": f"ghost@{node_b.domain}"},
        expect=404,
    )


async def test_account_statuses_follow_the_audience_rules(node_a: RunningNode, api: ClientFactory):
    """Each reader sees the posts its audience allows: anonymous only public and
    unlisted; a follower also followers-only; an organisation post only local accounts."""
    alice = await node_a.actor("alice")
    public = await create_post(node_a.node, alice, "public one")
    unlisted = await create_post(node_a.node, alice, "unlisted one", audience="unlisted")
    private = await create_post(node_a.node, alice, "followers one", audience="followers")
    org = await create_post(node_a.node, alice, "org one", audience="organisation")
    direct = await create_post(node_a.node, alice, "hi @carol", audience="direct")

    path = f"/api/v1/accounts/{alice.id}/statuses"
    anonymous = await api(node_a, None)
    seen = {s["id"] for s in await anonymous.get(path)}
    assert seen == {str(public.id), str(unlisted.id)}

    carol = await api(node_a, "carol")
    seen = {s["id"] for s in await carol.get(path)}
    assert seen == {str(public.id), str(unlisted.id), str(org.id), str(direct.id)}
    await carol.post(f"/api/v1/accounts/{alice.id}/follow")
    seen = {s["id"] for s in await carol.get(path)}
    assert str(private.id) in seen

    own = {s["id"] for s in await (await api(node_a, "alice")).get(path)}
    assert own == {str(p.id) for p in (public, unlisted, private, org, direct)}


async def test_account_statuses_filters_and_paging(node_a: RunningNode, api: ClientFactory):
    """exclude_replies keeps self-threads, exclude_reblogs drops boosts, tagged and
    pinned narrow the list, and Link headers page through it."""
    alice = await node_a.actor("alice")
    carol = await node_a.actor("carol")
    carol_post = await create_post(node_a.node, carol, "carol says hi")
    first = await create_post(node_a.node, alice, "thread start #launch")
    self_reply = await create_post(node_a.node, alice, "thread part two", in_reply_to=first)
    reply = await create_post(node_a.node, alice, "@carol hello back", in_reply_to=carol_post)
    boost = await reblog(node_a.node, alice, carol_post)
    async with transaction(node_a.node) as db:
        db.add(Pin(actor_id=alice.id, post_id=first.id))

    client = await api(node_a, None)
    path = f"/api/v1/accounts/{alice.id}/statuses"
    all_ids = [s["id"] for s in await client.get(path)]
    assert all_ids == [str(p.id) for p in (boost, reply, self_reply, first)]
    boosted = (await client.get(path))[0]
    assert boosted["reblog"]["id"] == str(carol_post.id)

    no_replies = [s["id"] for s in await client.get(path, params={"exclude_replies": "true"})]
    assert str(reply.id) not in no_replies and str(self_reply.id) in no_replies
    no_boosts = [s["id"] for s in await client.get(path, params={"exclude_reblogs": "1"})]
    assert str(boost.id) not in no_boosts
    tagged = [s["id"] for s in await client.get(path, params={"tagged": "Launch"})]
    assert tagged == [str(first.id)]
    pinned = await client.get(path, params={"pinned": "true"})
    assert [s["id"] for s in pinned] == [str(first.id)]
    assert await client.get(path, params={"only_media": "true"}) == []

    # Paging: two at a time, following the Link header to the end.
    collected: list[str] = []
    url: str | None = node_a.base_url + path + "?limit=2"
    while url:
        async with client.session.get(url) as response:
            page = await response.json()
            collected += [s["id"] for s in page]
            url = next_link(response.headers) if page else None
    assert collected == all_ids
    newer = await client.get(path, params={"min_id": str(self_reply.id), "limit": "1"})
    assert [s["id"] for s in newer] == [str(reply.id)]
    await client.call("GET", path, params={"max_id": "abc"}, expect=422)
    await client.call("GET", "/api/v1/accounts/999/statuses", expect=404)


async def test_followers_and_following_pages(node_factory: NodeFactory, api: ClientFactory):
    """Followers and following come newest first, with Link headers paging by follow."""
    node = await node_factory.start("a", users=("alice", "u1", "u2", "u3"))
    alice = await node.actor("alice")
    for name in ("u1", "u2", "u3"):
        client = await api(node, name)
        await client.post(f"/api/v1/accounts/{alice.id}/follow")
    anonymous = await api(node, None)
    _, first, headers = await anonymous.call(
        "GET", f"/api/v1/accounts/{alice.id}/followers", params={"limit": "2"}
    )
    assert [a["username"] for a in first] == ["u3", "u2"]
    url = next_link(headers)
    assert url is not None and "max_id=" in url and "limit=2" in url
    async with anonymous.session.get(url) as response:
        assert [a["username"] for a in await response.json()] == ["u1"]

    u1 = await node.actor("u1")
    following = await anonymous.get(f"/api/v1/accounts/{u1.id}/following")
    assert [a["username"] for a in following] == ["alice"]
    await anonymous.call("GET", "/api/v1/accounts/4242/followers", expect=404)


async def test_account_search(node_a: RunningNode, node_b: RunningNode, api: ClientFactory):
    """By user name or display name, local first; ``resolve`` finds a remote handle;
    ``following`` narrows to followed accounts; a token is required."""
    alice = await api(node_a, "alice")
    await alice.patch("/api/v1/accounts/update_credentials", data={"display_name": "Wonderland"})
    carol = await api(node_a, "carol")
    found = await carol.get("/api/v1/accounts/search", params={"q": "wonder"})
    assert [a["username"] for a in found] == ["alice"]
    by_handle = await carol.get("/api/v1/accounts/search", params={"q": "@car"})
    assert [a["username"] for a in by_handle] == ["carol"]
    assert await carol.get("/api/v1/accounts/search", params={"q": "bob"}) == []
    remote = await carol.get(
        "/api/v1/accounts/search", params={"q": node_b.handle("bob"), "resolve": "true"}
    )
    assert [a["acct"] for a in remote] == [node_b.handle("bob")]
    assert (
        await carol.get("/api/v1/accounts/search", params={"q": "alice", "following": "true"}) == []
    )
    await (await api(node_a, None)).call(
        "GET", "/api/v1/accounts/search", params={"q": "alice"}, expect=401
    )
    await carol.call("GET", "/api/v1/accounts/search", expect=422)


async def test_disabled_accounts_are_not_found(node_a: RunningNode, api: ClientFactory):
    """A disabled local account's profile answers 404, like a missing one."""
    from node.accounts import set_disabled

    carol = await node_a.actor("carol")
    async with transaction(node_a.node) as db:
        await set_disabled(db, "carol")
    client = await api(node_a, "alice")
    await client.call("GET", f"/api/v1/accounts/{carol.id}", expect=404)
    await client.call("GET", "/api/v1/accounts/lookup", params={"acct": "carol"}, expect=404)
