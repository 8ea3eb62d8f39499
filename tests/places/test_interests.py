"""Communities by interest through the client API: followed hashtags feed the home
timeline (as in Mastodon), trending tags count the firm and its partners only, and the
directory lists the groups people may join."""

from __future__ import annotations

from sqlalchemy import select

from node.accounts import create_local_actor
from node.context import transaction
from node.db.models import Follow, GroupSettings, Post
from node.db.models.follows import ACCEPTED
from node.follows import follow
from node.remote_actors import resolve_account
from tests.api.conftest import ApiClient, ClientFactory
from tests.harness import NodeFactory, RunningNode, wait_for
from tests.places.helpers import make_partners


async def _home_texts(client: ApiClient) -> list[str]:
    return [s["content"] for s in await client.get("/api/v1/timelines/home", params={"limit": 40})]


async def _stored(node: RunningNode, uri: str) -> Post | None:
    async with node.node.reads() as db:
        return await db.scalar(select(Post).where(Post.uri == uri))


async def _accepted(node: RunningNode, follower_id: int, followee_id: int) -> bool:
    async with node.node.reads() as db:
        state = await db.scalar(
            select(Follow.state).where(
                Follow.follower_id == follower_id, Follow.followee_id == followee_id
            )
        )
    return state == ACCEPTED


async def test_followed_tags_feed_home_and_trends_stay_inside_the_firm_and_partners(
    node_factory: NodeFactory, api: ClientFactory
) -> None:
    """Given A and B are partners and C is a stranger whose cleo dave@A follows, when
    alice follows #launch, then public #launch posts of carol (A) and bob (B, received
    through the inbox) come to her home, followers-only ones do not, and after she
    unfollows no new one comes. Trends count A's and B's posts, never C's, and circle
    or organisation posts only for A's own people."""
    a = await node_factory.start("a", users=("alice", "carol", "dave"))
    b = await node_factory.start("b", users=("bob",))
    c = await node_factory.start("c", users=("cleo",))
    await make_partners(a, b)
    dave = await a.actor("dave")
    for far, name in ((b, "bob"), (c, "cleo")):
        remote = await resolve_account(a.node, far.handle(name))
        await follow(a.node, dave, remote)
        await wait_for(lambda r=remote: _accepted(a, dave.id, r.id))
    alice, carol = await api(a, "alice"), await api(a, "carol")
    bob, cleo = await api(b, "bob"), await api(c, "cleo")
    anonymous = await api(a, None)

    # alice follows #Launch (any case, with or without #).
    tag = await alice.post("/api/v1/tags/%23Launch/follow")
    assert (tag["name"], tag["following"]) == ("launch", True)
    assert tag["url"] == f"{a.base_url}/tags/launch" and len(tag["history"]) == 7
    _, followed, headers = await alice.call("GET", "/api/v1/followed_tags")
    assert [t["name"] for t in followed] == ["launch"] and "Link" in headers
    assert (await alice.get("/api/v1/tags/launch"))["following"] is True
    assert "following" not in await anonymous.get("/api/v1/tags/launch")
    await alice.call("POST", "/api/v1/tags/no%20such%20tag!/follow", expect=404)

    await carol.post("/api/v1/statuses", json={"status": "We launch today #launch"})
    await carol.post(
        "/api/v1/statuses", json={"status": "Launch secret #launch", "visibility": "private"}
    )
    remote = await bob.post("/api/v1/statuses", json={"status": "Partner launch #launch"})
    stranger = await cleo.post("/api/v1/statuses", json={"status": "Buy now #launch #deals"})
    await b.deliver_all()
    await c.deliver_all()
    await wait_for(lambda: _stored(a, remote["uri"]))
    await wait_for(lambda: _stored(a, stranger["uri"]))

    home = await _home_texts(alice)
    assert any("We launch today" in h for h in home)
    assert any("Partner launch" in h for h in home)
    assert not any("Launch secret" in h for h in home)

    untag = await alice.post("/api/v1/tags/launch/unfollow")
    assert untag["following"] is False
    assert await alice.get("/api/v1/followed_tags") == []
    await carol.post("/api/v1/statuses", json={"status": "Launch again #launch"})
    assert not any("Launch again" in h for h in await _home_texts(alice))

    # Trends: A's and B's people; C (no partnership) never counts.
    await carol.post(
        "/api/v1/statuses", json={"status": "Inside only #inside", "visibility": "organisation"}
    )
    dave_client = await api(a, "dave")
    await dave_client.post("/api/v1/statuses", json={"status": "#launch day"})
    seen = await alice.get("/api/v1/trends/tags")
    names = [t["name"] for t in seen]
    assert names[0] == "launch"  # carol, bob and dave used it
    assert "inside" in names and "deals" not in names
    launch = seen[0]
    assert sum(int(d["accounts"]) for d in launch["history"]) == 3
    assert sum(int(d["uses"]) for d in launch["history"]) == 4  # carol x2 public, bob, dave
    outsider = [t["name"] for t in await anonymous.get("/api/v1/trends/tags")]
    assert "launch" in outsider and "inside" not in outsider


async def test_group_directory_lists_groups_people_may_join(
    node_factory: NodeFactory, api: ClientFactory
) -> None:
    """Listed: discoverable groups of this node, public or members-only (joining is by
    request), the most followed first; not listed: a group that is not discoverable."""
    node = await node_factory.start("a", users=("alice", "carol"))
    alice, carol = await node.actor("alice"), await node.actor("carol")
    async with transaction(node.node) as db:
        for name, members_only, discoverable, members in (
            ("bikes", False, True, [alice, carol]),
            ("board", True, True, [alice]),
            ("hidden", False, False, []),
        ):
            group = await create_local_actor(
                node.node, db, username=name, actor_type="Group",
                uri=f"{node.base_url}/groups/{name}", display_name=name.title(),
            )  # fmt: skip
            group.discoverable = discoverable
            db.add(
                GroupSettings(actor_id=group.id, members_only=members_only, created_by_id=alice.id)
            )
            for member in members:
                db.add(
                    Follow(
                        follower_id=member.id,
                        followee_id=group.id,
                        state=ACCEPTED,
                        activity_uri=f"{member.uri}#join-{name}",
                    )
                )
    client = await api(node, "carol")
    listed = await client.get("/api/v1/directory/groups")
    assert [(g["username"], g["group"], g["members_only"], g["members_count"]) for g in listed] == [
        ("bikes", True, False, 2),
        ("board", True, True, 1),
    ]
    await (await api(node, None)).call("GET", "/api/v1/directory/groups", expect=401)
