"""Places on posts and the nearby timeline, driven through the client API of real nodes.

The nearby timeline must return exactly the posts placed within the radius that the
viewer may see — every audience, decided by the one visibility rule — including posts
received from another node with their AS2 ``location``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from node.db.models import Post
from node.follows import follow
from node.remote_actors import resolve_account
from tests.api.conftest import ApiClient, ClientFactory
from tests.harness import NodeFactory, RunningNode, wait_for
from tests.places.helpers import make_partners

#: Lyon, place Bellecour; a point ~0.9 km away (inside 2 km) and one ~7 km away.
CENTRE = (45.7578, 4.8320)
INSIDE = (45.7640, 4.8400)
OUTSIDE = (45.8100, 4.8900)


def place(name: str, point: tuple[float, float]) -> dict[str, Any]:
    return {"name": name, "latitude": point[0], "longitude": point[1]}


async def post(
    client: ApiClient, text: str, where: tuple[float, float] | None, **extra: Any
) -> str:
    body: dict[str, Any] = {"status": text, **extra}
    if where is not None:
        body["place"] = place(text, where)
    status = await client.post("/api/v1/statuses", json=body)
    return str(status["id"])


async def nearby(client: ApiClient, *, limit: int = 2, radius: float = 2) -> list[dict[str, Any]]:
    """Every page of the nearby timeline, following the Link header as a client does."""
    params: dict[str, str] = {
        "latitude": str(CENTRE[0]),
        "longitude": str(CENTRE[1]),
        "radius_km": str(radius),
        "limit": str(limit),
    }
    seen: list[dict[str, Any]] = []
    for _ in range(50):
        _, page, headers = await client.call("GET", "/api/v1/timelines/nearby", params=params)
        seen += page
        link = headers.get("Link", "")
        if not page or 'rel="next"' not in link:
            break
        next_url = link.split(">;")[0].lstrip("<")
        params = {k: v[0] for k, v in parse_qs(urlsplit(next_url).query).items()}
    return seen


async def test_status_carries_its_place_in_the_api_and_over_activitypub(
    node_factory: NodeFactory, api: ClientFactory
):
    """A status posted with ``place[...]`` shows it in its entity and in its Note's
    ``location``; a bad place is refused with a 422 naming the problem, and nothing is
    stored."""
    node = await node_factory.start("a", users=("alice",))
    alice = await api(node, "alice")
    status = await alice.post(
        "/api/v1/statuses",
        data={
            "status": "Coffee at the office",
            "place[name]": "Lyon office",
            "place[latitude]": "45.764",
            "place[longitude]": "4.8357",
            "place[radius]": "150",
        },
    )
    assert status["place"] == {
        "name": "Lyon office",
        "latitude": 45.764,
        "longitude": 4.8357,
        "radius": 150.0,
        "url": None,
    }
    async with alice.session.get(
        status["uri"], headers={"Accept": "application/activity+json"}
    ) as response:
        assert response.status == 200
        note = await response.json(content_type=None)
    assert note["location"] == {
        "type": "Place",
        "name": "Lyon office",
        "latitude": 45.764,
        "longitude": 4.8357,
        "radius": 150.0,
        "units": "m",
    }
    plain = await alice.post("/api/v1/statuses", json={"status": "no place"})
    assert plain["place"] is None

    for bad, message in (
        ({"name": "x", "latitude": 91, "longitude": 0}, "latitude must be between -90 and 90"),
        ({"name": "x", "latitude": 1}, "place needs both"),
        ({"latitude": 1, "longitude": 2}, "place[name] can't be blank"),
        ({"name": "x", "latitude": "north", "longitude": 2}, "latitude must be a number"),
        ({"site_id": "999"}, "not one of this firm's sites"),
    ):
        _, body, _ = await alice.call(
            "POST", "/api/v1/statuses", json={"status": "bad", "place": bad}, expect=422
        )
        assert message in body["error"], body
    async with node.node.reads() as db:
        texts = [p.source for p in await db.scalars(select(Post))]
    assert "bad" not in texts


async def _accepted(a: RunningNode, follower: str, uri: str) -> bool:
    from node.db.models import Follow
    from node.db.models.follows import ACCEPTED

    me = await a.actor(follower)
    target = await a.actor_by_uri(uri)
    if target is None:
        return False
    async with a.node.reads() as db:
        state = await db.scalar(
            select(Follow.state).where(Follow.follower_id == me.id, Follow.followee_id == target.id)
        )
    return state == ACCEPTED


async def test_nearby_returns_exactly_what_the_viewer_may_see_within_the_radius(
    node_factory: NodeFactory, api: ClientFactory
):
    """Given posts of every audience inside and outside 2 km of a point, on this node and
    from a partner node (A and B are partner firms; alice follows bob@B), when alice,
    dave and an anonymous reader page through the nearby timeline, then each gets
    exactly the placed posts within the radius that they may see, newest first, once."""
    a = await node_factory.start("a", users=("alice", "carol", "dave"))
    b = await node_factory.start("b", users=("bob",))
    alice, carol, dave = [await api(a, n) for n in ("alice", "carol", "dave")]
    anonymous = await api(a, None)
    bob = await api(b, "bob")

    # Given A and B are partner firms, and alice follows carol here and bob on B.
    await make_partners(a, b)
    carol_id = (await alice.get("/api/v1/accounts/lookup", params={"acct": "carol"}))["id"]
    await alice.post(f"/api/v1/accounts/{carol_id}/follow")
    bob_remote = await resolve_account(a.node, b.handle("bob"))
    await follow(a.node, await a.actor("alice"), bob_remote)
    await wait_for(lambda: _accepted(a, "alice", bob_remote.uri))
    dave_id = (await carol.get("/api/v1/accounts/lookup", params={"acct": "dave"}))["id"]
    alice_id = (await carol.get("/api/v1/accounts/lookup", params={"acct": "alice"}))["id"]
    circle = await carol.post("/api/v1/circles", json={"title": "alice only"})
    await carol.post(f"/api/v1/circles/{circle['id']}/accounts", json={"account_ids": [alice_id]})
    dave_circle = await carol.post("/api/v1/circles", json={"title": "dave only"})
    await carol.post(
        f"/api/v1/circles/{dave_circle['id']}/accounts", json={"account_ids": [dave_id]}
    )

    # When carol, dave and bob post at places near and far, in every audience.
    ids = {
        "public in": await post(carol, "public in", INSIDE),
        "public out": await post(carol, "public out", OUTSIDE),
        "public nowhere": await post(carol, "public nowhere", None),
        "unlisted in": await post(carol, "unlisted in", INSIDE, visibility="unlisted"),
        "org in": await post(carol, "org in", INSIDE, visibility="organisation"),
        "followers in": await post(carol, "followers in", INSIDE, visibility="private"),
        "circle alice in": await post(
            carol, "circle alice in", INSIDE, visibility="limited", circle_id=[circle["id"]]
        ),
        "circle dave in": await post(
            carol, "circle dave in", INSIDE, visibility="limited", circle_id=[dave_circle["id"]]
        ),
        "direct dave in": await post(carol, "@dave direct dave in", INSIDE, visibility="direct"),
        "dave followers in": await post(dave, "dave followers in", INSIDE, visibility="private"),
    }
    remote_in = await bob.post(
        "/api/v1/statuses",
        json={"status": "bob followers in", "visibility": "private", "place": place("B", INSIDE)},
    )
    remote_public_in = await bob.post(
        "/api/v1/statuses", json={"status": "bob public in", "place": place("B", INSIDE)}
    )
    remote_partners_in = await bob.post(
        "/api/v1/statuses",
        json={"status": "bob partners in", "visibility": "partners", "place": place("B", INSIDE)},
    )
    remote_out = await bob.post(
        "/api/v1/statuses", json={"status": "bob public out", "place": place("B", OUTSIDE)}
    )
    await b.deliver_all()

    async def stored_on_a(uri: str) -> Post | None:
        async with a.node.reads() as db:
            return await db.scalar(select(Post).where(Post.uri == uri))

    received = {}
    for name, status in (
        ("bob followers in", remote_in),
        ("bob public in", remote_public_in),
        ("bob partners in", remote_partners_in),
        ("bob public out", remote_out),
    ):
        row = await wait_for(lambda s=status: stored_on_a(s["uri"]))
        # Then the peer's Place is kept with the post.
        assert row.place is not None and row.place["name"] == "B"
        received[name] = str(row.id)
    ids.update(received)

    def expected(*names: str) -> list[str]:
        return sorted((ids[n] for n in names), key=int, reverse=True)

    # Then each reader sees exactly what they may, within the radius, newest first.
    open_posts = ("public in", "unlisted in", "bob public in")
    assert [s["id"] for s in await nearby(anonymous)] == expected(*open_posts)
    assert [s["id"] for s in await nearby(alice)] == expected(
        *open_posts,
        "org in",
        "followers in",
        "circle alice in",
        "bob followers in",
        "bob partners in",
    )
    assert [s["id"] for s in await nearby(dave)] == expected(
        *open_posts,
        "org in",
        "circle dave in",
        "direct dave in",
        "dave followers in",
        "bob partners in",
    )
    # A wider radius takes in the far posts too, for anyone.
    wide = [s["id"] for s in await nearby(anonymous, radius=20, limit=40)]
    assert wide == expected(*open_posts, "public out", "bob public out")
    # Statuses on the timeline carry their place.
    first = (await nearby(alice, limit=40))[0]
    assert first["place"]["latitude"] == INSIDE[0]


async def test_nearby_refuses_bad_coordinates(node_factory: NodeFactory, api: ClientFactory):
    node = await node_factory.start("a", users=("alice",))
    alice = await api(node, "alice")
    for params, message in (
        ({"latitude": "45"}, "give both latitude and longitude"),
        ({"latitude": "45", "longitude": "200"}, "longitude must be between -180 and 180"),
        ({"latitude": "45", "longitude": "4", "radius_km": "0"}, "radius_km must be more than 0"),
        ({"latitude": "45", "longitude": "4", "radius_km": "9000"}, "at most 500"),
        ({}, "give latitude and longitude, or place_id"),
    ):
        _, body, _ = await alice.call("GET", "/api/v1/timelines/nearby", params=params, expect=422)
        assert message in body["error"], (params, body)
    await alice.call("GET", "/api/v1/timelines/nearby", params={"place_id": "123"}, expect=404)
