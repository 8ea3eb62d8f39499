"""Adoption figures on a seeded dataset (tests/places/seed.py) against figures worked
out by hand from the seed's table, through the admin API (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory
from tests.places.seed import seed

ZERO = {
    a: 0
    for a in (
        "public",
        "unlisted",
        "followers",
        "organisation",
        "partners",
        "circle",
        "group",
        "direct",
    )
}

#: Worked out from the seed's table, by hand.
WEEK = {
    "total_users": 5,  # admin, alice, carol, dave, erin
    "active_users": 3,  # alice (posts), carol (replies), dave (a favourite)
    "weekly_active_users": 3,
    "monthly_active_users": 4,  # + erin (E1, 20 days ago)
    "posting_users": 2,  # alice, carol
    "posting_share": 0.4,
    "posts": 4,  # P1, P2, P3, P5
    "posts_by_audience": {**ZERO, "public": 1, "organisation": 1, "circle": 1, "group": 1},
    "replies": 4,  # carol→P1, alice→P1, carol→P2, carol→Q1
    "replies_by_audience": {**ZERO, "public": 3, "organisation": 1},
    # bob→P1 and carol→Q1; bob likes P1 and alice likes Q1; bob's post in group G
    "cross_firm_interactions": {"replies": 2, "favourites": 2, "group_posts": 1, "total": 5},
    # P1 first answered by bob after 20 min, P2 by carol after 10: median 15
    "median_first_reply_minutes": 15.0,
    "answered_share": 0.5,  # P1, P2 of P1, P2, P3, P5
    "circles": [{"posts": 1, "members": 2}],
}
MONTH = {
    **WEEK,
    "active_users": 4,
    "posting_users": 3,  # + erin
    "posting_share": 0.6,
    "posts": 6,  # + P4, E1
    "posts_by_audience": {
        **ZERO,
        "public": 2,
        "organisation": 1,
        "circle": 1,
        "group": 1,
        "followers": 1,
    },
    "answered_share": 0.3333,  # 2 of 6
}


def _subset(figures: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {k: figures[k] for k in expected}


async def test_adoption_figures_match_the_seeded_dataset(
    node_factory: NodeFactory, api: ClientFactory
):
    """Given the seeded firm and its partner, when an admin asks for the week's and the
    month's figures, then every figure is the one counted by hand; the CSV says the same;
    people who are not admins, or tokens without admin:read, are refused."""
    world = await seed(node_factory)
    admin = await api(world.a, "admin", "admin:read")

    week = await admin.get("/api/v1/admin/adoption", params={"period": "week"})
    assert _subset(week, WEEK) == WEEK
    assert week["groups"] == [
        {"id": str(world.group_id), "name": "Bike to work", "local": True, "members": 3, "posts": 2}
    ]
    assert len(week["daily"]) == 7
    assert sum(d["posts"] for d in week["daily"]) == WEEK["posts"] + WEEK["replies"]
    # dave's favourite a day ago makes him active that day, with alice (P3, P5) and carol
    assert max(d["active_users"] for d in week["daily"]) == 3

    month = await admin.get("/api/v1/admin/adoption", params={"period": "month"})
    assert _subset(month, MONTH) == MONTH
    assert len(month["daily"]) == 30

    status, text = await _csv(admin, "week")
    assert status == 200
    rows = {(r["section"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(text))}
    assert rows[("active_users", "")] == "3"
    assert rows[("posts_by_audience", "circle")] == "1"
    assert rows[("cross_firm_interactions", "total")] == "5"
    assert rows[("median_first_reply_minutes", "")] == "15.0"
    assert rows[("group_posts", "Bike to work")] == "2"

    # Refusals: wrong period or format, a non-admin, a token without admin:read.
    for params, message in (
        ({"period": "year"}, "period must be one of week, month"),
        ({"format": "xml"}, "format must be json or csv"),
    ):
        _, body, _ = await admin.call("GET", "/api/v1/admin/adoption", params=params, expect=422)
        assert message in body["error"]
    alice = await api(world.a, "alice", "admin:read")
    await alice.call("GET", "/api/v1/admin/adoption", expect=403)
    reader = await api(world.a, "admin", "read write")
    await reader.call("GET", "/api/v1/admin/adoption", expect=403)
    anonymous = await api(world.a, None)
    await anonymous.call("GET", "/api/v1/admin/adoption", expect=401)


async def _csv(client: Any, period: str) -> tuple[int, str]:
    async with client.session.get(
        client.url("/api/v1/admin/adoption"),
        params={"period": period, "format": "csv"},
        headers=client.headers(),
    ) as response:
        assert response.content_type == "text/csv"
        return response.status, await response.text()
