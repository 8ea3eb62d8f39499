"""Account moves between real nodes: alice@A moves to alice2@B and carol@C, who
followed her, follows alice2 instead; a Move whose target does not list the old
account is refused on both ends."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from node.context import transaction
from node.db.ids import new_id
from node.db.models import Delivery
from node.delivery.queue import enqueue
from node.errors import Invalid
from node.moderation.moves import move_account, move_activity, set_aliases
from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory, wait_for
from tests.moderation.helpers import delivery_outcome, follows, make_follow


async def test_move_from_a_to_b_moves_followers_on_c(node_factory: NodeFactory, api: ClientFactory):
    """Given carol@C follows alice@A and alice2@B lists alice@A as an alias, when alice
    moves to alice2, carol follows alice2 and no longer alice; alice's account shows it
    moved."""
    a = await node_factory.start("a", users=("alice",))
    b = await node_factory.start("b", users=("alice2",))
    c = await node_factory.start("c", users=("carol",))
    await make_follow(c, "carol", a, "alice")
    alice_uri = a.actor_uri("alice")

    # A move without the alias is refused at once
    try:
        await move_account(a.node, "alice", b.handle("alice2"))
        raise AssertionError("move without alias accepted")
    except Invalid as exc:
        assert "alsoKnownAs" in exc.message

    # Given the alias on B
    assert await set_aliases(b.node, "alice2", [a.handle("alice")]) == [alice_uri]

    # When alice moves
    await move_account(a.node, "alice", b.handle("alice2"))

    # Then carol follows alice2 on B, and not alice any more
    await wait_for(lambda: follows(c, "carol", b.actor_uri("alice2")))
    assert not await follows(c, "carol", alice_uri)
    # and A's API shows alice moved
    client = await api(a, "alice")
    me = await client.get("/api/v1/accounts/verify_credentials")
    assert me["moved"]["uri"] == b.actor_uri("alice2")


async def test_forged_move_is_refused(node_factory: NodeFactory):
    """A Move naming a target that does not list the old actor gets 422 at the
    receiving inbox and changes no follow."""
    a = await node_factory.start("a", users=("alice",))
    b = await node_factory.start("b", users=("mallory",))
    c = await node_factory.start("c", users=("carol",))
    await make_follow(c, "carol", a, "alice")
    alice = await a.actor("alice")
    carol_on_a = await a.actor_by_uri(c.actor_uri("carol"))
    assert carol_on_a is not None

    # When A sends a Move to mallory@B, who never listed alice
    activity = move_activity(a.node.urls.activity(new_id()), alice, b.actor_uri("mallory"))
    async with transaction(a.node) as db:
        await enqueue(db, sender=alice, activity=activity, inboxes=[carol_on_a.inbox])
    a.node.delivery_wakeup.set()

    # Then C refuses it and carol still follows alice
    assert await wait_for(lambda: delivery_outcome(a, activity["id"])) == ("dead", 422)
    assert await follows(c, "carol", alice.uri)
    assert not await follows(c, "carol", b.actor_uri("mallory"))
    async with a.node.reads() as db:
        error = await db.scalar(
            select(Delivery.last_error).where(Delivery.activity_uri == activity["id"])
        )
    assert error is not None


def test_cli_move_without_alias_exits_non_zero(tmp_path):  # type: ignore[no-untyped-def]
    """``cercle account move`` to an unknown account fails with one line."""
    env = {"CERCLE_DATA_DIR": str(tmp_path), "CERCLE_DOMAIN": "a.example", "PATH": "/usr/bin:/bin"}
    run = [".venv/bin/python", "-m", "node"]
    subprocess.run(
        [*run, "init", "--admin", "root", "--password", "pw-123456789"],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [*run, "account", "move", "root", "--to", "nobody@a.example"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert done.stderr.startswith("cercle: error:") and len(done.stderr.strip().splitlines()) == 1
