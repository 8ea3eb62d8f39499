"""Lists (``/api/v1/lists``) and search (``/api/v2/search``) over real HTTP."""

from __future__ import annotations

import re

from sqlalchemy import select

from node.db.models import Post
from node.lists import list_member_ids
from node.posts import create_post
from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory, RunningNode

# --- lists ------------------------------------------------------------------------


async def test_list_crud(node_a: RunningNode, api: ClientFactory):
    """Create, read, rename, delete; a list of someone else is as missing as a deleted
    one; bad titles and policies are 422s."""
    alice = await api(node_a, "alice")
    created = await alice.post("/api/v1/lists", data={"title": "Sales"})
    assert created == {
        "id": created["id"],
        "title": "Sales",
        "replies_policy": "list",
        "exclusive": False,
    }
    other = await alice.post(
        "/api/v1/lists", json={"title": "Ops", "replies_policy": "followed", "exclusive": True}
    )
    assert other["replies_policy"] == "followed" and other["exclusive"] is True
    assert [x["title"] for x in await alice.get("/api/v1/lists")] == ["Sales", "Ops"]

    path = f"/api/v1/lists/{created['id']}"
    assert (await alice.get(path))["title"] == "Sales"
    renamed = await alice.put(path, data={"title": "Sales EMEA", "replies_policy": "none"})
    assert renamed["title"] == "Sales EMEA" and renamed["replies_policy"] == "none"

    await alice.call("POST", "/api/v1/lists", data={"title": "  "}, expect=422)
    await alice.call("POST", "/api/v1/lists", expect=422)
    _, body, _ = await alice.call(
        "POST", "/api/v1/lists", data={"title": "x", "replies_policy": "all"}, expect=422
    )
    assert "replies_policy" in body["error"]

    carol = await api(node_a, "carol")
    await carol.call("GET", path, expect=404)
    await carol.call("DELETE", path, expect=404)
    assert await carol.get("/api/v1/lists") == []

    assert await alice.delete(path) == {}
    await alice.call("GET", path, expect=404)
    await alice.call("GET", "/api/v1/lists/123", expect=404)

    await (await api(node_a, None)).call("GET", "/api/v1/lists", expect=401)
    reader = await api(node_a, "alice", scopes="read")
    await reader.call("POST", "/api/v1/lists", data={"title": "No"}, expect=403)
    assert len(await reader.get("/api/v1/lists")) == 1


async def test_list_members(node_factory: NodeFactory, api: ClientFactory):
    """Only followed accounts may be added (else a 422 naming the account); members page
    by account id; ``limit=0`` gives them all; unfollowing drops the account from lists."""
    node = await node_factory.start("a", users=("alice", "u1", "u2", "u3", "stranger"))
    alice = await api(node, "alice")
    ids = {name: str((await node.actor(name)).id) for name in ("u1", "u2", "u3", "stranger")}
    for name in ("u1", "u2", "u3"):
        await alice.post(f"/api/v1/accounts/{ids[name]}/follow")
    team = await alice.post("/api/v1/lists", data={"title": "Team"})
    path = f"/api/v1/lists/{team['id']}/accounts"

    added = await alice.post(
        path, data=[("account_ids[]", ids["u1"]), ("account_ids[]", ids["u2"])]
    )
    assert added == {}
    await alice.post(path, json={"account_ids": [ids["u3"]]})
    _, body, _ = await alice.call("POST", path, data={"account_ids[]": ids["stranger"]}, expect=422)
    assert "stranger" in body["error"]
    _, body, _ = await alice.call("POST", path, data={"account_ids[]": ids["u1"]}, expect=422)
    assert "already" in body["error"]
    await alice.call("POST", path, data={"account_ids[]": "99999"}, expect=404)
    await alice.call("POST", path, expect=422)

    _, page, headers = await alice.call("GET", path, params={"limit": "2"})
    assert [a["username"] for a in page] == ["u3", "u2"]
    next_url = re.search(r'<([^>]+)>; rel="next"', headers["Link"])
    assert next_url is not None
    async with alice.session.get(next_url.group(1), headers=alice.headers()) as response:
        assert [a["username"] for a in await response.json()] == ["u1"]
    assert len(await alice.get(path, params={"limit": "0"})) == 3

    in_lists = await alice.get(f"/api/v1/accounts/{ids['u2']}/lists")
    assert [x["id"] for x in in_lists] == [team["id"]]
    assert await alice.get(f"/api/v1/accounts/{ids['stranger']}/lists") == []

    await alice.delete(path, data={"account_ids[]": ids["u2"]})
    await alice.post(f"/api/v1/accounts/{ids['u3']}/unfollow")
    async with node.node.reads() as db:
        assert await list_member_ids(db, int(team["id"])) == [int(ids["u1"])]

    carol = await api(node, "u1")
    await carol.call("GET", path, expect=404)
    await carol.call("POST", path, data={"account_ids[]": ids["u1"]}, expect=404)


# --- search -----------------------------------------------------------------------


async def test_search_finds_accounts_posts_and_tags(node_a: RunningNode, api: ClientFactory):
    """One query searches names, post text and hashtags; ``type`` narrows it; posts a
    reader may not see are never found."""
    alice = await node_a.actor("alice")
    carol = await node_a.actor("carol")
    public = await create_post(node_a.node, alice, "Quarterly roadmap is out #roadmap2025")
    hidden = await create_post(
        node_a.node, alice, "Secret roadmap draft #roadmapdraft", audience="followers"
    )
    await create_post(node_a.node, carol, "Lunch at noon")

    anonymous = await api(node_a, None)
    found = await anonymous.get("/api/v2/search", params={"q": "roadmap"})
    assert [s["id"] for s in found["statuses"]] == [str(public.id)]
    assert {t["name"] for t in found["hashtags"]} == {"roadmap2025", "roadmapdraft"}
    assert found["hashtags"][0]["url"].startswith(node_a.base_url + "/tags/")
    assert found["accounts"] == []

    author = await api(node_a, "alice")
    mine = await author.get("/api/v2/search", params={"q": "roadmap", "type": "statuses"})
    assert [s["id"] for s in mine["statuses"]] == [str(hidden.id), str(public.id)]
    assert mine["accounts"] == [] and mine["hashtags"] == []
    by_carol = await author.get(
        "/api/v2/search", params={"q": "roadmap", "account_id": str(carol.id)}
    )
    assert by_carol["statuses"] == []
    paged = await author.get(
        "/api/v2/search", params={"q": "roadmap", "type": "statuses", "limit": 1, "offset": 1}
    )
    assert [s["id"] for s in paged["statuses"]] == [str(public.id)]

    people = await anonymous.get("/api/v2/search", params={"q": "car", "type": "accounts"})
    assert [a["username"] for a in people["accounts"]] == ["carol"]
    tags = await anonymous.get("/api/v2/search", params={"q": "#roadmap2", "type": "hashtags"})
    assert [t["name"] for t in tags["hashtags"]] == ["roadmap2025"]
    nothing = await anonymous.get("/api/v2/search", params={"q": "roadmap", "type": "groups"})
    assert nothing == {"accounts": [], "statuses": [], "hashtags": []}
    # LIKE wildcards in the query are taken literally.
    assert (await anonymous.get("/api/v2/search", params={"q": "%"}))["statuses"] == []


async def test_search_input_and_authentication(node_a: RunningNode, api: ClientFactory):
    """``q`` is required; anonymous readers may neither resolve nor page with offset;
    a token without the search scope is refused."""
    anonymous = await api(node_a, None)
    await anonymous.call("GET", "/api/v2/search", expect=422)
    _, body, _ = await anonymous.call(
        "GET", "/api/v2/search", params={"q": "x", "resolve": "true"}, expect=401
    )
    assert "authentication" in body["error"]
    await anonymous.call("GET", "/api/v2/search", params={"q": "x", "offset": "5"}, expect=401)
    writer = await api(node_a, "alice", scopes="write")
    await writer.call("GET", "/api/v2/search", params={"q": "x"}, expect=403)
    reader = await api(node_a, "alice", scopes="read:search")
    assert (await reader.get("/api/v2/search", params={"q": "x"}))["accounts"] == []


async def test_search_by_address(node_a: RunningNode, node_b: RunningNode, api: ClientFactory):
    """A pasted address finds that post or account: known here at once, fetched from
    its server only with ``resolve`` and a signed-in reader."""
    alice = await node_a.actor("alice")
    bob = await node_b.actor("bob")
    local_post = await create_post(node_a.node, alice, "Find me by my link")
    remote_post = await create_post(node_b.node, bob, "A post nobody on A follows")
    client = await api(node_a, "carol")

    by_url = await client.get("/api/v2/search", params={"q": local_post.url})
    assert [s["id"] for s in by_url["statuses"]] == [str(local_post.id)]
    by_uri = await client.get("/api/v2/search", params={"q": local_post.uri})
    assert [s["id"] for s in by_uri["statuses"]] == [str(local_post.id)]
    profile = await client.get("/api/v2/search", params={"q": node_a.actor_uri("alice")})
    assert [a["username"] for a in profile["accounts"]] == ["alice"]

    unresolved = await client.get("/api/v2/search", params={"q": remote_post.uri})
    assert unresolved["statuses"] == []
    resolved = await client.get("/api/v2/search", params={"q": remote_post.uri, "resolve": "1"})
    assert [s["uri"] for s in resolved["statuses"]] == [remote_post.uri]
    assert resolved["statuses"][0]["account"]["acct"] == node_b.handle("bob")
    async with node_a.node.reads() as db:
        assert await db.scalar(select(Post.id).where(Post.uri == remote_post.uri)) is not None

    account = await client.get(
        "/api/v2/search", params={"q": node_b.actor_uri("bob"), "resolve": "true"}
    )
    assert [a["acct"] for a in account["accounts"]] == [node_b.handle("bob")]
    missing = await client.get(
        "/api/v2/search", params={"q": f"{node_b.base_url}/users/ghost", "resolve": "true"}
    )
    assert missing == {"accounts": [], "statuses": [], "hashtags": []}
    unknown_handle = await client.get(
        "/api/v2/search", params={"q": f"ghost@{node_b.domain}", "resolve": "true"}
    )
    assert unknown_handle["accounts"] == []
