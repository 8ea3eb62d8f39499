"""The part of tests/api/test_openapi.py's scenario that exercises the places, hashtags,
directory and adoption operations, each answer checked against docs/openapi.json."""

from __future__ import annotations

from typing import Any

from node.context import transaction
from node.places import add_site, assign
from tests.api.conftest import issue_token
from tests.harness import RunningNode


async def places_scenario(node: RunningNode, call: Any) -> None:
    """Given a site with alice at it, alice posts there and follows a hashtag; then
    every places, tags, trends, directory and adoption operation answers as documented."""
    a = await issue_token(node, "alice")
    b = await issue_token(node, "bob")
    admin = await issue_token(node, "admin", "admin:read")
    async with transaction(node.node) as db:
        site = await add_site(db, "Lyon office", 45.7578, 4.832, radius_m=300)
        await assign(db, "alice", site.id)
    sid = {"id": str(site.id)}
    await call("GET", "/api/v1/places", a)
    await call("GET", "/api/v1/places/{id}", b, ids=sid)
    await call(
        "POST",
        "/api/v1/statuses",
        a,
        json={"status": "At the office #lyon", "place": {"site_id": sid["id"]}},
    )
    await call(
        "POST",
        "/api/v1/statuses",
        a,
        data={"status": "Outside #lyon", "place[name]": "Parc de la Tête d'Or",
              "place[latitude]": "45.7772", "place[longitude]": "4.8559"},
    )  # fmt: skip
    near = {"latitude": "45.76", "longitude": "4.84", "radius_km": "5"}
    found = await call("GET", "/api/v1/timelines/nearby", b, params={**near, "limit": "1"})
    assert found and found[0]["place"] is not None
    await call("GET", "/api/v1/timelines/nearby", params={"place_id": sid["id"]})
    await call("GET", "/api/v1/timelines/nearby", b, params={"latitude": "95"}, expect=422)
    tag = {"id": "lyon"}
    await call("POST", "/api/v1/tags/{id}/follow", b, ids=tag)
    await call("GET", "/api/v1/followed_tags", b)
    await call("GET", "/api/v1/tags/{id}", b, ids=tag)
    await call("GET", "/api/v1/tags/{id}", ids=tag)
    await call("POST", "/api/v1/tags/{id}/unfollow", b, ids=tag)
    trends = await call("GET", "/api/v1/trends/tags", a)
    assert trends and trends[0]["name"] == "lyon"
    await call("GET", "/api/v1/directory/groups", a)
    await call("GET", "/api/v1/admin/adoption", admin, params={"period": "month"})
    await call("GET", "/api/v1/admin/adoption", admin, params={"format": "csv"})
    await call("GET", "/api/v1/admin/adoption", a, expect=403)
