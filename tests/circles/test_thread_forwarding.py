"""Threads that stay in their audience, across three real nodes (issue 4).

A reply to a circle or partners post goes from the replier's node to the original
author's node only; that node stores it for the audience and forwards the reply's Create,
with its author's FEP-8b32 proof, to the rest of the audience. The receiving nodes accept
it from the forwarder because the proof verifies with the replier's published key, and
refuse (401, nothing stored) a forwarded activity whose proof is missing, invalid or
does not match the content. A reply by someone who could not see the post is not
forwarded.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from federation.integrity import verify_proof
from federation.transport import deliver
from node.circles import add_members, create_circle
from node.context import transaction
from node.db.models import Actor, Delivery, Post, ReceivedActivity
from node.integrity_keys import verification_method, with_proof
from node.posts import create_post
from node.remote_actors import resolve_account
from node.visibility import viewer_can_see
from tests.circles.partnering import make_partners
from tests.harness import NodeFactory, RunningNode, wait_for


@dataclass
class Thread:
    a: RunningNode
    b: RunningNode
    c: RunningNode
    parent_uri: str


async def _post_on(node: RunningNode, uri: str) -> Post | None:
    async with node.node.reads() as db:
        return await db.scalar(select(Post).where(Post.uri == uri))


async def _sees(node: RunningNode, username: str, uri: str) -> bool:
    async with node.node.reads() as db:
        post = await db.scalar(select(Post).where(Post.uri == uri))
        return post is not None and await viewer_can_see(db, await node.actor(username), post)


async def _deliveries(node: RunningNode, activity_uri: str) -> list[Delivery]:
    async with node.node.reads() as db:
        return list(await db.scalars(select(Delivery).where(Delivery.activity_uri == activity_uri)))


async def _count(node: RunningNode, model: Any, *where: Any) -> int:
    async with node.node.reads() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _deliver_everywhere(*nodes: RunningNode) -> None:
    for _ in range(2):
        for node in nodes:
            await node.deliver_all()


async def _send(sender: RunningNode, username: str, inbox: str, activity: dict[str, Any]) -> int:
    """POST ``activity`` to ``inbox``, HTTP-signed by ``username`` of ``sender``."""
    actor = await sender.actor(username)
    outcome = await deliver(
        sender.node.http,  # type: ignore[arg-type]
        inbox,
        json.dumps(activity).encode(),
        sender.node.signer(actor),
    )
    assert outcome.status is not None, outcome.error
    return outcome.status


@pytest.fixture
async def circle_thread(node_factory: NodeFactory) -> Thread:
    """alice@A posts to her circle of bob@B, carl@C and her colleague; bart@B and cleo@C
    are not in it."""
    a = await node_factory.start("a", users=("alice", "colleague"), workers=False)
    b = await node_factory.start("b", users=("bob", "bart"), workers=False)
    c = await node_factory.start("c", users=("carl", "cleo"), workers=False)
    alice = await a.actor("alice")
    members = [await a.actor("colleague")]
    for node, name in ((b, "bob"), (c, "carl")):
        members.append(await resolve_account(a.node, node.handle(name)))
    async with transaction(a.node) as db:
        circle = await create_circle(db, alice, "project")
        await add_members(db, circle, members)
    parent = await create_post(
        a.node, alice, "circle news", audience="circle", circle_ids=[circle.id]
    )
    await a.deliver_all()
    await wait_for(lambda: _sees(b, "bob", parent.uri))
    await wait_for(lambda: _sees(c, "carl", parent.uri))
    return Thread(a, b, c, parent.uri)


async def test_circle_reply_reaches_the_circle_through_the_authors_node(circle_thread: Thread):
    """A reply from B to a circle post from A reaches the circle member on C through A's
    forwarding, and C verifies the forwarded reply's proof."""
    a, b, c = circle_thread.a, circle_thread.b, circle_thread.c
    # Given bob's copy of alice's circle post on B
    parent_on_b = await _post_on(b, circle_thread.parent_uri)
    assert parent_on_b is not None

    # When bob replies (his client left the visibility at its default, public)
    reply = await create_post(b.node, await b.actor("bob"), "count me in", in_reply_to=parent_on_b)

    # Then the reply keeps the circle audience and goes to alice's personal inbox only,
    # with bob's proof and no trace of the circle
    assert reply.audience == "circle"
    sent = await _deliveries(b, f"{reply.uri}/activity")
    assert [d.inbox for d in sent] == [a.actor_uri("alice") + "/inbox"]
    original = json.loads(sent[0].body)
    assert original["proof"]["verificationMethod"] == verification_method(b.actor_uri("bob"))
    assert verify_proof(original, (await b.actor("bob")).ed25519_public_multibase or "")
    assert "carl" not in sent[0].body.decode() and "bto" not in original

    # A stores it for the circle and forwards bob's Create, unchanged, to carl's inbox,
    # signed at the HTTP level by alice; not back to B
    await b.deliver_all()
    await wait_for(lambda: _sees(a, "alice", reply.uri))
    assert await _sees(a, "colleague", reply.uri)
    forwarded = await _deliveries(a, f"{reply.uri}/activity")
    assert [d.inbox for d in forwarded] == [c.actor_uri("carl") + "/inbox"]
    assert forwarded[0].sender_id == (await a.actor("alice")).id
    assert json.loads(forwarded[0].body) == original

    # C accepts it from alice's node because bob's proof verifies (bob was unknown to C:
    # his key was fetched from his actor's assertionMethod)
    assert await c.actor_by_uri(b.actor_uri("bob")) is None
    await a.deliver_all()
    done = await _deliveries(a, f"{reply.uri}/activity")
    assert done[0].state == "done" and done[0].last_status == 202, done[0].last_error
    await wait_for(lambda: _sees(c, "carl", reply.uri))
    on_c = await _post_on(c, reply.uri)
    assert on_c is not None and on_c.audience == "circle"
    assert on_c.in_reply_to_uri == circle_thread.parent_uri
    bob_on_c = await c.actor_by_uri(b.actor_uri("bob"))
    assert bob_on_c is not None and bob_on_c.ed25519_public_multibase

    # Nobody outside the circle sees it, on any node
    assert not await _sees(c, "cleo", reply.uri)
    assert not await _sees(b, "bart", reply.uri)

    # When carl answers bob, his reply too goes to alice's node (the thread's), which
    # forwards it to bob
    answer = await create_post(c.node, await c.actor("carl"), "me too", in_reply_to=on_c)
    assert answer.audience == "circle"
    sent = await _deliveries(c, f"{answer.uri}/activity")
    assert [d.inbox for d in sent] == [a.actor_uri("alice") + "/inbox"]
    await c.deliver_all()
    await wait_for(lambda: _sees(a, "colleague", answer.uri))
    forwarded = await _deliveries(a, f"{answer.uri}/activity")
    assert [d.inbox for d in forwarded] == [b.actor_uri("bob") + "/inbox"]
    await a.deliver_all()
    await wait_for(lambda: _sees(b, "bob", answer.uri))
    assert not await _sees(b, "bart", answer.uri)
    assert not await _sees(c, "cleo", answer.uri)


async def test_reply_by_someone_who_cannot_see_the_post_is_not_forwarded(circle_thread: Thread):
    """cleo@C is not in the circle; her reply to the post (whose address she guessed)
    reaches alice as a message, and goes no further."""
    a, b, c = circle_thread.a, circle_thread.b, circle_thread.c
    cleo = await c.actor("cleo")
    alice_uri = a.actor_uri("alice")
    note_id = f"{cleo.uri}/statuses/1"
    activity = with_proof(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": cleo.uri,
            "to": [alice_uri],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": cleo.uri,
                "inReplyTo": circle_thread.parent_uri,
                "to": [alice_uri],
                "content": "<p>what is this about?</p>",
                "tag": [{"type": "Mention", "href": alice_uri}],
            },
        },
        cleo,
    )
    assert await _send(c, "cleo", alice_uri + "/inbox", activity) == 202
    stored = await _post_on(a, note_id)
    assert stored is not None and stored.audience == "direct"
    assert await _sees(a, "alice", note_id)
    assert not await _sees(a, "colleague", note_id)
    assert await _deliveries(a, activity["id"]) == []
    await _deliver_everywhere(a)
    assert await _post_on(b, note_id) is None
    assert not await _sees(c, "carl", note_id)


async def _bob_reply(thread: Thread) -> dict[str, Any]:
    """A Create by bob@B replying to the circle post, with bob's proof, never sent."""
    bob = await thread.b.actor("bob")
    alice_uri = thread.a.actor_uri("alice")
    note_id = f"{bob.uri}/statuses/42"
    return with_proof(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": bob.uri,
            "to": [alice_uri],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": bob.uri,
                "inReplyTo": thread.parent_uri,
                "to": [alice_uri],
                "content": "<p>agreed</p>",
            },
        },
        bob,
    )


def _without_proof(activity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in activity.items() if k != "proof"}


def _bad_value(activity: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(activity)
    broken["proof"]["proofValue"] = "z" + "1" * 86
    return broken


def _tampered(activity: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(activity)
    changed["object"]["content"] = "<p>send me the passwords</p>"
    return changed


async def _signed_by_someone_else(thread: Thread, activity: dict[str, Any]) -> dict[str, Any]:
    """A valid proof, but made with alice's key while naming bob's."""
    forged = with_proof(_without_proof(activity), await thread.a.actor("alice"))
    forged["proof"]["verificationMethod"] = verification_method(thread.b.actor_uri("bob"))
    return forged


async def test_forwarded_activity_without_a_valid_proof_is_refused(circle_thread: Thread):
    """An activity delivered by alice's server on behalf of bob is accepted only with
    bob's valid proof: missing, invalid, forged or tampered gets 401 and nothing of it is
    stored on C."""
    a, c = circle_thread.a, circle_thread.c
    carl_inbox = c.actor_uri("carl") + "/inbox"
    good = await _bob_reply(circle_thread)
    bad = {
        "missing": _without_proof(good),
        "invalid": _bad_value(good),
        "forged": await _signed_by_someone_else(circle_thread, good),
        "tampered": _tampered(good),
    }
    for case, activity in bad.items():
        assert await _send(a, "alice", carl_inbox, activity) == 401, case
    assert await _count(c, Post, Post.uri == good["object"]["id"]) == 0
    assert await _count(c, ReceivedActivity, ReceivedActivity.uri.like(f"{good['id']}%")) == 0

    # The same activity with its proof intact is accepted, as bob's own
    assert await _send(a, "alice", carl_inbox, good) == 202
    stored = await _post_on(c, good["object"]["id"])
    assert stored is not None
    async with c.node.reads() as db:
        author = await db.get(Actor, stored.actor_id)
    assert author is not None and author.uri == circle_thread.b.actor_uri("bob")
    assert await _sees(c, "carl", stored.uri) and not await _sees(c, "cleo", stored.uri)


async def test_partners_reply_reaches_the_other_partner_firm(node_factory: NodeFactory):
    """A partners with B and with C (B and C are not partners): bob's reply to alice's
    partners post goes to A only; A forwards it to C, whose people then see it."""
    a = await node_factory.start("a", users=("alice", "colleague"), workers=False)
    b = await node_factory.start("b", users=("bob", "bart"), workers=False)
    c = await node_factory.start("c", users=("carl", "cleo"), workers=False)
    await make_partners(a, b)
    await make_partners(a, c)
    parent = await create_post(a.node, await a.actor("alice"), "partners news", audience="partners")
    await a.deliver_all()
    await wait_for(lambda: _sees(b, "bob", parent.uri))
    await wait_for(lambda: _sees(c, "carl", parent.uri))
    parent_on_b = await _post_on(b, parent.uri)
    assert parent_on_b is not None

    reply = await create_post(b.node, await b.actor("bob"), "we are in", in_reply_to=parent_on_b)

    assert reply.audience == "partners"
    assert reply.to == [f"{a.base_url}/org"]
    sent = await _deliveries(b, f"{reply.uri}/activity")
    assert [d.domain for d in sent] == [a.domain]
    assert "proof" in json.loads(sent[0].body)
    assert await _sees(b, "bart", reply.uri)
    await b.deliver_all()
    await wait_for(lambda: _sees(a, "colleague", reply.uri))
    forwarded = await _deliveries(a, f"{reply.uri}/activity")
    assert [d.domain for d in forwarded] == [c.domain]
    await a.deliver_all()
    await wait_for(lambda: _sees(c, "cleo", reply.uri))
    assert await _sees(c, "carl", reply.uri)
    stored = await _post_on(c, reply.uri)
    assert stored is not None and stored.audience == "partners"
