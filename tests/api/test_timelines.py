"""``/api/v1/timelines/…`` over real HTTP: the home timeline paged exactly as Mastodon
pages (``max_id``, ``since_id``, ``min_id``, Link headers) with a fixed number of queries
per page, and the public, hashtag and list timelines with their filters."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event

from node.follows import follow
from node.lists import add_members, create_list
from tests.api.conftest import ApiClient, ClientFactory
from tests.api.test_statuses import insert_upload
from tests.harness import NodeFactory, RunningNode


def links(headers: Any) -> dict[str, str]:
    """``{"next": url, "prev": url}`` from a Link header (empty without one)."""
    return dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', headers.get("Link", ""))
    )


async def page(client: ApiClient, url: str) -> tuple[list[str], dict[str, str]]:
    """Follow an absolute URL (a Link target) and return the ids and the next links."""
    async with client.session.get(url, headers=client.headers()) as response:
        assert response.status == 200, await response.text()
        return [s["id"] for s in await response.json()], links(response.headers)


async def test_home_timeline_pages_as_mastodon_does(node_a: RunningNode, api: ClientFactory):
    """Seven statuses paged by three: ``next`` walks to older ones with ``max_id``,
    ``prev`` back to newer ones with ``min_id``; ``since_id`` gives the newest above a
    point, ``min_id`` the ones right above it; an empty page has no Link header."""
    alice = await api(node_a, "alice")
    ids = [
        (await alice.post("/api/v1/statuses", json={"status": f"post {i}"}))["id"] for i in range(7)
    ]
    newest_first = ids[::-1]
    base = node_a.base_url + "/api/v1/timelines/home"

    first, first_links = await page(alice, f"{base}?limit=3")
    assert first == newest_first[:3]
    assert first_links["next"] == f"{base}?limit=3&max_id={newest_first[2]}"
    assert first_links["prev"] == f"{base}?limit=3&min_id={newest_first[0]}"

    second, second_links = await page(alice, first_links["next"])
    assert second == newest_first[3:6]
    third, third_links = await page(alice, second_links["next"])
    assert third == newest_first[6:]
    after_end, end_links = await page(alice, third_links["next"])
    assert after_end == [] and end_links == {}

    back, _ = await page(alice, second_links["prev"])
    assert back == newest_first[:3]
    assert (await page(alice, first_links["prev"]))[0] == []

    # since_id: the newest above the point, leaving a gap; min_id: right above it.
    since, _ = await page(alice, f"{base}?limit=3&since_id={ids[1]}")
    assert since == newest_first[:3]
    adjacent, _ = await page(alice, f"{base}?limit=3&min_id={ids[1]}")
    assert adjacent == [ids[4], ids[3], ids[2]]
    between, _ = await page(alice, f"{base}?max_id={ids[5]}&since_id={ids[2]}")
    assert between == [ids[4], ids[3]]

    await (await api(node_a, None)).call("GET", "/api/v1/timelines/home", expect=401)


async def test_home_timeline_shows_what_reaches_the_reader(
    node_factory: NodeFactory, api: ClientFactory
):
    """A follower's home has the author's public and followers-only posts and boosts of
    the people they follow; a stranger's home has none of it."""
    node = await node_factory.start("a", users=("alice", "bob", "carol"))
    await follow(node.node, await node.actor("bob"), await node.actor("alice"))
    alice, bob, carol = [await api(node, u) for u in ("alice", "bob", "carol")]
    public = await alice.post("/api/v1/statuses", json={"status": "hello"})
    private = await alice.post(
        "/api/v1/statuses", json={"status": "followers", "visibility": "private"}
    )
    carols = await carol.post("/api/v1/statuses", json={"status": "carol's"})
    boost = await alice.post(f"/api/v1/statuses/{carols['id']}/reblog")

    home = await bob.get("/api/v1/timelines/home")
    assert [s["id"] for s in home] == [boost["id"], private["id"], public["id"]]
    assert home[0]["reblog"]["id"] == carols["id"]
    assert [s["id"] for s in await carol.get("/api/v1/timelines/home")] == [carols["id"]]


async def test_home_timeline_costs_a_fixed_number_of_queries(
    node_factory: NodeFactory, api: ClientFactory
):
    """The same number of SQL statements for a page of 2 and a page of 30: one range scan
    for the page plus the Renderer's batch queries, never one query per status."""
    node = await node_factory.start("a", users=("alice", "bob"))
    await follow(node.node, await node.actor("alice"), await node.actor("bob"))
    alice, bob = await api(node, "alice"), await api(node, "bob")
    for i in range(30):
        author = alice if i % 2 else bob
        status = await author.post("/api/v1/statuses", json={"status": f"#n{i} @alice hi"})
        if i % 5 == 0:
            await alice.post(f"/api/v1/statuses/{status['id']}/favourite")
            await alice.post(f"/api/v1/statuses/{status['id']}/bookmark")
    await alice.get("/api/v1/timelines/home?limit=1")  # token lookup warmed up

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = node.node.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(await alice.get("/api/v1/timelines/home?limit=2")) == 2
        small = len(statements)
        statements.clear()
        assert len(await alice.get("/api/v1/timelines/home?limit=30")) == 30
        large = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert small == large, (small, large)
    assert large <= 20, large


async def test_public_timeline_has_public_posts_only(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """Public posts of this node, without unlisted, private or direct ones, boosts or
    replies to others (self-replies stay); ``local``/``remote``/``only_media`` filter;
    anonymous readers are welcome."""
    alice, carol = await api(node_a, "alice"), await api(node_a, "carol")
    public = await alice.post("/api/v1/statuses", json={"status": "public"})
    for visibility in ("unlisted", "private"):
        await alice.post("/api/v1/statuses", json={"status": "x", "visibility": visibility})
    await alice.post("/api/v1/statuses", json={"status": "@carol psst", "visibility": "direct"})
    await carol.post(f"/api/v1/statuses/{public['id']}/reblog")
    reply_to_other = await carol.post(
        "/api/v1/statuses", json={"status": "a reply", "in_reply_to_id": public["id"]}
    )
    thread = await alice.post(
        "/api/v1/statuses", json={"status": "1/2", "in_reply_to_id": public["id"]}
    )
    media_id = await insert_upload(node_a, "alice")
    picture = await alice.post(
        "/api/v1/statuses", json={"status": "look", "media_ids": [str(media_id)]}
    )

    anonymous = await api(node_a, None)
    timeline = [s["id"] for s in await anonymous.get("/api/v1/timelines/public")]
    assert timeline == [picture["id"], thread["id"], public["id"]]
    assert reply_to_other["id"] not in timeline
    assert [s["id"] for s in await anonymous.get("/api/v1/timelines/public?local=true")] == (
        timeline
    )
    assert await anonymous.get("/api/v1/timelines/public?remote=true") == []
    media_only = await anonymous.get("/api/v1/timelines/public?only_media=true")
    assert [s["id"] for s in media_only] == [picture["id"]]
    limited = await anonymous.call("GET", "/api/v1/timelines/public?limit=1")
    assert f"max_id={picture['id']}" in limited[2]["Link"]


async def test_tag_timeline_with_any_all_none(node_a: RunningNode, api: ClientFactory):
    alice = await api(node_a, "alice")
    both = await alice.post("/api/v1/statuses", json={"status": "#Sales and #emea"})
    sales = await alice.post("/api/v1/statuses", json={"status": "only #sales"})
    emea = await alice.post("/api/v1/statuses", json={"status": "only #emea"})
    await alice.post("/api/v1/statuses", json={"status": "#sales hidden", "visibility": "unlisted"})
    anonymous = await api(node_a, None)

    async def tagged(query: str) -> list[str]:
        return [s["id"] for s in await anonymous.get(f"/api/v1/timelines/tag/{query}")]

    assert await tagged("sales") == [sales["id"], both["id"]]
    assert await tagged("SALES") == [sales["id"], both["id"]]
    assert await tagged("sales?any[]=emea") == [emea["id"], sales["id"], both["id"]]
    assert await tagged("sales?all[]=emea") == [both["id"]]
    assert await tagged("sales?none[]=emea") == [sales["id"]]
    assert await tagged("nothing") == []


async def test_list_timeline_is_the_owners_and_has_the_members_posts(
    node_factory: NodeFactory, api: ClientFactory
):
    """A list shows its members' posts from the owner's home timeline; another account's
    list is a 404; replies to non-members follow the list's replies policy."""
    node = await node_factory.start("a", users=("alice", "bob", "carol"))
    alice_actor = await node.actor("alice")
    for name in ("bob", "carol"):
        await follow(node.node, alice_actor, await node.actor(name))
    team = await create_list(node.node, alice_actor, "Team")
    await add_members(node.node, alice_actor, team.id, [(await node.actor("bob")).id])
    alice, bob, carol = [await api(node, u) for u in ("alice", "bob", "carol")]
    bobs = await bob.post("/api/v1/statuses", json={"status": "from bob"})
    carols = await carol.post("/api/v1/statuses", json={"status": "from carol"})
    bob_to_carol = await bob.post(
        "/api/v1/statuses", json={"status": "@carol hi", "in_reply_to_id": carols["id"]}
    )
    bob_to_self = await bob.post(
        "/api/v1/statuses", json={"status": "more", "in_reply_to_id": bobs["id"]}
    )

    listed = await alice.get(f"/api/v1/timelines/list/{team.id}")
    assert [s["id"] for s in listed] == [bob_to_self["id"], bobs["id"]]
    assert bob_to_carol["id"] not in [s["id"] for s in listed]
    await carol.call("GET", f"/api/v1/timelines/list/{team.id}", expect=404)
    await alice.call("GET", "/api/v1/timelines/list/424242", expect=404)
