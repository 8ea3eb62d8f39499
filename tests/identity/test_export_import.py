"""Archives: a user's archive re-imports into a fresh node with follows and circles intact;
the firm's archive holds exactly the date range."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from node.circles import add_members, create_circle
from node.context import transaction
from node.db.models import Post
from node.db.types import utcnow
from node.errors import Invalid
from node.follows import follow
from node.identity.export import write_firm_archive, write_user_archive
from node.identity.imports import import_into, read_import
from node.posts import create_post
from node.remote_actors import resolve_account
from tests.harness import NodeFactory, RunningNode


def archive_parts(path: Path) -> tuple[dict, set[str], set[tuple[str, str]], set[str]]:
    with zipfile.ZipFile(path) as archive:
        outbox = json.loads(archive.read("outbox.json"))
        following = list(csv.reader(io.StringIO(archive.read("following_accounts.csv").decode())))
        circles = set(map(tuple, csv.reader(io.StringIO(archive.read("circles.csv").decode()))))
        followers = list(csv.reader(io.StringIO(archive.read("followers.csv").decode())))
        assert json.loads(archive.read("actor.json"))["type"] == "Person"
    assert following[0] == ["Account address", "Show boosts", "Notify on new posts", "Languages"]
    assert followers[0] == ["Account address"]
    return outbox, {row[0] for row in following[1:]}, circles, {r[0] for r in followers[1:]}


async def settle(*nodes: RunningNode) -> None:
    for _ in range(3):
        for node in nodes:
            await node.deliver_all()


async def test_user_archive_reimports_into_a_fresh_node(node_factory: NodeFactory, tmp_path: Path):
    a = await node_factory.start("a", users=("alice", "carol"), workers=False)
    b = await node_factory.start("b", users=("bob",), workers=False)
    # Given alice follows bob@B and carol, has two circles and two posts
    alice = await a.actor("alice")
    bob_at_a = await resolve_account(a.node, b.handle("bob"))
    carol = await a.actor("carol")
    for target in (bob_at_a, carol):
        await follow(a.node, alice, target)
    await follow(b.node, await b.actor("bob"), await resolve_account(b.node, a.handle("alice")))
    await settle(a, b)
    async with transaction(a.node) as db:
        team = await create_circle(db, alice, "Team, EMEA")
        await add_members(db, team, [bob_at_a, carol])
        await create_circle(db, alice, "Later")
    await create_post(a.node, alice, "first")
    await create_post(a.node, alice, "only for the firm", audience="organisation")

    # When she exports her archive
    exported = tmp_path / "alice.zip"
    with exported.open("wb") as stream:
        assert await write_user_archive(a.node, "alice", stream) == 2
    outbox, following, circles, followers = archive_parts(exported)
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 2
    assert [item["type"] for item in outbox["orderedItems"]] == ["Create", "Create"]
    assert following == {b.handle("bob"), a.handle("carol")}
    assert followers == {b.handle("bob")}
    assert circles == {
        ("Team, EMEA", b.handle("bob")),
        ("Team, EMEA", a.handle("carol")),
        ("Later", ""),
    }

    # And imports it into her account on a fresh node
    c = await node_factory.start("c", users=("alice",), workers=False)
    report = await import_into(c.node, "alice", read_import(exported))
    assert report.failures == []
    assert report.followed == 2 and report.circles_created == 2
    await settle(c, a, b)

    # Then the new account follows the same people and has the same circles
    again = tmp_path / "again.zip"
    with again.open("wb") as stream:
        await write_user_archive(c.node, "alice", stream)
    _, following_again, circles_again, _ = archive_parts(again)
    assert following_again == following
    assert circles_again == circles


async def test_import_refuses_what_it_cannot_read(tmp_path: Path):
    bad = tmp_path / "notes.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(Invalid, match="not a Cercle archive"):
        read_import(bad)
    lists = tmp_path / "lists.csv"
    lists.write_text("just a title\n")
    with pytest.raises(Invalid, match="needs a title and an account address"):
        read_import(lists)
    with pytest.raises(Invalid, match="no file"):
        read_import(tmp_path / "missing.csv")
    follows = tmp_path / "following_accounts.csv"
    follows.write_text("Account address,Show boosts\nbob@b.example,true\n")
    assert read_import(follows).follows == ["bob@b.example"]


async def test_firm_archive_holds_the_date_range(node_factory: NodeFactory, tmp_path: Path):
    a = await node_factory.start("a", users=("alice",), workers=False)
    alice = await a.actor("alice")
    old = await create_post(a.node, alice, "last year", audience="organisation")
    recent = await create_post(a.node, alice, "this month", audience="public")
    async with transaction(a.node) as db:
        await db.execute(
            update(Post).where(Post.id == old.id).values(published=utcnow() - timedelta(days=400))
        )
    path = tmp_path / "firm.zip"
    with path.open("wb") as stream:
        count = await write_firm_archive(
            a.node, utcnow() - timedelta(days=30), utcnow() + timedelta(days=1), stream
        )
    assert count == 1
    with zipfile.ZipFile(path) as archive:
        outbox = json.loads(archive.read("outbox.json"))
        users = archive.read("users.csv").decode()
        audit = json.loads(archive.read("audit.json"))
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [recent.uri]
    assert "alice" in users
    assert isinstance(audit, list)
    with pytest.raises(Invalid):
        await write_firm_archive(a.node, utcnow(), utcnow() - timedelta(days=1), io.BytesIO())
    async with a.node.reads() as db:
        assert await db.scalar(select(Post.id).where(Post.id == old.id)) is not None
