"""The firm's sites: managed with ``cercle site`` as an operator runs it, listed by the
client API, used as a post's place, and searched around by the nearby timeline."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory
from tests.places.helpers import cercle, cercle_here


async def test_sites_from_the_cli_to_the_api_and_the_nearby_timeline(
    node_factory: NodeFactory, api: ClientFactory, monkeypatch: Any, capsys: Any
) -> None:
    """Given the admin adds two sites and assigns alice to one with the CLI, when people
    use the API, then the sites are listed with their head counts, a status posted at a
    site carries the site's place and link, and the site's nearby timeline shows it;
    bad input gets one clear line and a non-zero exit, and changes nothing."""
    node = await node_factory.start("a", users=("alice", "bob"))
    code, out, err = await cercle(
        node, "site", "add", "Lyon office", "--latitude", "45.7578", "--longitude", "4.8320",
        "--radius", "300", "--description", "Place Bellecour",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("added site Lyon office")
    code, _, err = await cercle_here(
        node, monkeypatch, capsys,
        "site", "add", "Paris", "--latitude", "48.8566", "--longitude", "2.3522",
    )  # fmt: skip
    assert code == 0, err
    for args, message in (
        (("add", "Nowhere", "--latitude", "95", "--longitude", "0"), "latitude must be between"),
        (("add", "lyon office", "--latitude", "1", "--longitude", "1"), "already a site named"),
        (("remove", "Berlin"), "no site 'Berlin'"),
        (("assign", "alice"), "give the site"),
        (("assign", "nobody", "Paris"), "nobody"),
    ):
        code, _, err = await cercle_here(node, monkeypatch, capsys, "site", *args)
        assert code != 0 and message in err and err.count("\n") == 1, (args, err)
    code, _, err = await cercle_here(
        node, monkeypatch, capsys, "site", "assign", "alice", "Lyon office"
    )
    assert code == 0, err
    code, out, _ = await cercle(node, "site", "list")
    assert [line.split("\t")[1] for line in out.splitlines()] == ["Lyon office", "Paris"]
    assert "1 people" in out.splitlines()[0]

    alice = await api(node, "alice")
    bob = await api(node, "bob")
    sites = await alice.get("/api/v1/places")
    assert [(s["name"], s["people_count"]) for s in sites] == [("Lyon office", 1), ("Paris", 0)]
    lyon = sites[0]
    assert (lyon["latitude"], lyon["longitude"], lyon["radius"]) == (45.7578, 4.832, 300.0)
    assert lyon["url"] == f"{node.base_url}/sites/{lyon['id']}"
    one = await bob.get(f"/api/v1/places/{lyon['id']}")
    assert [a["username"] for a in one["accounts"]] == ["alice"]
    await bob.call("GET", "/api/v1/places/1", expect=404)
    await (await api(node, None)).call("GET", "/api/v1/places", expect=401)

    status = await alice.post(
        "/api/v1/statuses",
        json={"status": "Team breakfast", "visibility": "organisation",
              "place": {"site_id": lyon["id"]}},
    )  # fmt: skip
    assert status["place"] == {
        "name": "Lyon office",
        "latitude": 45.7578,
        "longitude": 4.832,
        "radius": 300.0,
        "url": lyon["url"],
    }
    await alice.post("/api/v1/statuses", json={"status": "elsewhere", "place": {
        "name": "Paris", "latitude": 48.8566, "longitude": 2.3522}})  # fmt: skip
    here = await bob.get("/api/v1/timelines/nearby", params={"place_id": lyon["id"]})
    assert [s["content"] for s in here] == ["<p>Team breakfast</p>"]
    # anonymous readers do not see the organisation post
    anonymous = await api(node, None)
    assert await anonymous.get("/api/v1/timelines/nearby", params={"place_id": lyon["id"]}) == []

    code, out, err = await cercle_here(node, monkeypatch, capsys, "site", "remove", "Paris")
    assert code == 0 and out.strip() == "removed site Paris", err
    assert [s["name"] for s in await alice.get("/api/v1/places")] == ["Lyon office"]
    # a post keeps the place it was made at
    paris_posts = await bob.get(
        "/api/v1/timelines/nearby", params={"latitude": "48.8566", "longitude": "2.3522"}
    )
    assert [s["place"]["name"] for s in paris_posts] == ["Paris"]
