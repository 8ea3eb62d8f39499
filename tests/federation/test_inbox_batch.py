"""The inbox's batch path stores, notifies and announces exactly what the per-activity
path does (node/remote_posts_bulk.py against node/remote_posts.py), and the in-memory
answers the inbox keeps (key owners, federation policy) do not outlive a change.

Two identical nodes receive the same activities: one applies each activity alone, the
other applies them a group-commit batch at a time. Their rows, their live events and
the status words the peer would read must come out the same.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from federation.vocab import parse_activity, parse_actor
from node.context import Node, transaction
from node.db.models import (
    Actor,
    Follow,
    Mention,
    Mute,
    Notification,
    Post,
    PostTag,
    ReceivedActivity,
    TimelineEntry,
)
from node.db.models.follows import ACCEPTED
from node.events import Event
from node.inbox.group_commit import _Pending
from node.inbox.registry import handler_for
from node.policy import set_domain_block
from node.posts import create_post
from node.remote_actors import upsert_actor_document
from tests.fake_peer import AS2, FakePeer
from tests.harness import NodeFactory, RunningNode

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = await FakePeer().start()
    for name in ("writer", "stranger", "muted"):
        fake.add_actor(name)
    try:
        yield fake
    finally:
        await fake.stop()


async def prepared_node(factory: NodeFactory, name: str, peer: FakePeer) -> RunningNode:
    """alice follows writer and mutes muted; alice has a post strangers reply to."""
    running = await factory.start(name, users=("alice", "carol"), workers=False)
    node = running.node
    async with transaction(node) as db:
        remote = {
            username: await upsert_actor_document(
                db, parse_actor(peer.documents[f"/users/{username}"])
            )
            for username in ("writer", "stranger", "muted")
        }
    alice = await running.actor("alice")
    async with transaction(node) as db:
        db.add(
            Follow(
                follower_id=alice.id,
                followee_id=remote["writer"].id,
                state=ACCEPTED,
                activity_uri=f"{running.base_url}/follows/1",
            )
        )
        db.add(Mute(actor_id=alice.id, target_id=remote["muted"].id, notifications=True))
    running.extra["local_post"] = await create_post(node, alice, "replies welcome")
    return running


def note(
    peer: FakePeer,
    author: str,
    serial: str,
    *,
    to: list[str],
    cc: list[str] = (),  # type: ignore[assignment]
    mentions: list[str] = (),  # type: ignore[assignment]
    hashtags: list[str] = (),  # type: ignore[assignment]
    reply_to: str | None = None,
    activity_serial: str | None = None,
) -> dict[str, Any]:
    actor = peer.actor_uri(author)
    obj_id = f"{actor}/statuses/{serial}"
    tags = [{"type": "Mention", "href": m, "name": "@x"} for m in mentions]
    tags += [{"type": "Hashtag", "name": f"#{h}"} for h in hashtags]
    return {
        "@context": AS2,
        "id": f"{actor}/activities/{activity_serial or serial}",
        "type": "Create",
        "actor": actor,
        "to": to,
        "cc": list(cc),
        "object": {
            "id": obj_id,
            "type": "Note",
            "attributedTo": actor,
            "content": f"<p>post {serial} <script>x()</script></p>",
            "published": f"2026-11-20T10:00:{len(serial):02d}Z",
            "inReplyTo": reply_to,
            "to": to,
            "cc": list(cc),
            "tag": tags,
        },
    }


def scenario(peer: FakePeer, node: RunningNode) -> list[list[dict[str, Any]]]:
    """Batches of activities covering every branch of storing a received post."""
    alice, carol = node.actor_uri("alice"), node.actor_uri("carol")
    followers = f"{peer.actor_uri('writer')}/followers"
    local_post = node.extra["local_post"].uri
    first_reply = f"{peer.actor_uri('writer')}/statuses/c1"
    c3 = note(peer, "stranger", "c3", to=[alice], mentions=[alice])
    return [
        [note(peer, "stranger", "c0", to=[PUBLIC], cc=[alice], mentions=[alice])],
        [  # one run of Creates: the whole batch is applied together
            note(
                peer,
                "writer",
                "c1",
                to=[PUBLIC],
                cc=[followers, carol],
                mentions=[carol],
                hashtags=["Cats", "cats", "Dogs"],
            ),
            note(peer, "writer", "c2", to=[followers]),
            c3,
            note(peer, "stranger", "c4", to=[PUBLIC]),  # concerns nobody here
            note(peer, "stranger", "c5", to=[PUBLIC], reply_to=local_post),
            note(peer, "writer", "c6", to=[PUBLIC], reply_to=first_reply),  # parent in batch
            c3,  # the same activity twice in one batch
            note(peer, "writer", "c2", to=[followers], activity_serial="c2-again"),
            note(peer, "muted", "c9", to=[PUBLIC], cc=[alice], mentions=[alice]),
            note(peer, "writer", "c10", to=[PUBLIC], cc=[alice, carol], mentions=[alice, carol]),
            note(peer, "stranger", "c0", to=[PUBLIC]),  # received in an earlier batch
        ],
        [  # mixed: Creates around activities applied one by one
            note(peer, "stranger", "c11", to=[PUBLIC], cc=[carol], mentions=[carol]),
            {
                "@context": AS2,
                "id": f"{peer.actor_uri('stranger')}/likes/1",
                "type": "Like",
                "actor": peer.actor_uri("stranger"),
                "object": local_post,
            },
            note(peer, "stranger", "c12", to=[PUBLIC], reply_to=local_post),
            {
                "@context": AS2,
                "id": f"{peer.actor_uri('stranger')}/follows/1",
                "type": "Follow",
                "actor": peer.actor_uri("stranger"),
                "object": carol,
            },
            note(peer, "writer", "c13", to=[PUBLIC], reply_to=first_reply),
        ],
    ]


async def pending(node: Node, doc: dict[str, Any]) -> _Pending:
    activity = parse_activity(doc)
    async with node.reads() as db:
        actor = await db.scalar(select(Actor).where(Actor.uri == activity.actor))
    assert actor is not None
    handler = handler_for(activity.type)
    assert handler is not None
    prepared = await handler.prepare(node, activity, actor) if handler.prepare else None
    return _Pending(activity=activity, actor=actor, handler=handler, prepared=prepared)


async def apply(running: RunningNode, batches: list[list[dict[str, Any]]], *, together: bool):
    """Outcomes and live events of applying ``batches`` one batch (or one activity) at a
    time."""
    node = running.node
    committer = node.inbox_committer
    assert committer is not None
    users = {(await running.actor(u)).id: u for u in ("alice", "carol")}
    streams = [f"user:{i}" for i in users] + ["public", "public:remote", "hashtag:cats"]
    outcomes: list[str] = []
    async with node.events.subscribe(streams) as queue:
        for docs in batches:
            items = [await pending(node, doc) for doc in docs]
            if together:
                await committer._apply(items)
                outcomes += [await item.done for item in items]
            else:
                results = await committer._apply_in_session([(items, False)])
                outcomes += [str(outcome) for outcome, _ in results]
        events: list[Event] = []
        while not queue.empty():
            events.append(queue.get_nowait())
    return outcomes, await describe_events(running, events, users)


async def describe_events(
    running: RunningNode, events: list[Event], users: dict[int, str]
) -> tuple[list[tuple[str, str, str]], Counter[tuple[str, str, str]]]:
    """Timeline and stream events in order; notifications as a multiset (their order
    among one post's mentions is the database's)."""
    updates: list[tuple[str, str, str]] = []
    notifications: Counter[tuple[str, str, str]] = Counter()
    async with running.node.reads() as db:
        for event in events:
            stream = event.stream
            if stream.startswith("user:"):
                stream = "user:" + users[int(stream[5:])]
            if event.kind == "notification":
                row = await db.get(Notification, event.object_id)
                assert row is not None
                post = await db.get(Post, row.post_id) if row.post_id else None
                about = local(running, post.uri) if post is not None else ""
                notifications[(stream, row.type, about)] += 1
            else:
                post = await db.get(Post, event.object_id)
                assert post is not None
                updates.append((event.kind, stream, local(running, post.uri)))
    return updates, notifications


def local(running: RunningNode, value: Any) -> Any:
    """``value`` with this node's base URL (and its post's id) replaced, so two nodes
    compare."""
    if isinstance(value, str):
        value = value.replace(running.extra["local_post"].uri, "LOCAL_POST")
        return value.replace(running.base_url, "LOCAL")
    if isinstance(value, list):
        return [local(running, v) for v in value]
    if isinstance(value, dict):
        return {k: local(running, v) for k, v in value.items()}
    return value


async def stored(running: RunningNode) -> dict[str, Any]:
    """Every row the inbox writes, keyed by URIs instead of the node's own ids."""
    async with running.node.reads() as db:
        uri_of_actor = dict((await db.execute(select(Actor.id, Actor.uri))).all())
        posts = list(await db.scalars(select(Post)))
        uri_of_post = {p.id: p.uri for p in posts}

        def actor(i: int) -> str:
            return local(running, uri_of_actor[i])

        def post(i: int | None) -> str | None:
            return None if i is None else local(running, uri_of_post[i])

        columns = [c.key for c in Post.__table__.columns if c.key not in ("id", "actor_id")]
        return {
            "posts": sorted(
                (
                    local(running, {k: str(getattr(p, k)) for k in columns})
                    | {
                        "actor": actor(p.actor_id),
                        "in_reply_to_id": post(p.in_reply_to_id),
                        "id_time": p.id >> 16,
                    }
                    for p in posts
                    if not p.local
                ),
                key=str,
            )
            + sorted(
                (local(running, p.uri), p.replies_count, p.likes_count) for p in posts if p.local
            ),
            "mentions": sorted(
                (post(m.post_id), actor(m.actor_id)) for m in await db.scalars(select(Mention))
            ),
            "timelines": sorted(
                (actor(t.owner_id), post(t.post_id))
                for t in await db.scalars(select(TimelineEntry))
            ),
            "tags": sorted((t.tag, post(t.post_id)) for t in await db.scalars(select(PostTag))),
            "notifications": sorted(
                (actor(n.owner_id), n.type, actor(n.from_actor_id), post(n.post_id))
                for n in await db.scalars(select(Notification))
            ),
            "received": sorted(
                (r.uri, r.type, r.actor_uri) for r in await db.scalars(select(ReceivedActivity))
            ),
            "follows": sorted(
                (actor(f.follower_id), actor(f.followee_id), f.state)
                for f in await db.scalars(select(Follow))
            ),
        }


async def test_batches_store_what_single_activities_store(
    node_factory: NodeFactory, peer: FakePeer
):
    """Given two identical nodes, when one applies activities one by one and the other
    a batch at a time, then both store the same rows, queue the same live events and
    answer the same status words."""
    alone = await prepared_node(node_factory, "alone", peer)
    together = await prepared_node(node_factory, "together", peer)

    outcomes_alone, events_alone = await apply(alone, scenario(peer, alone), together=False)
    outcomes_together, events_together = await apply(
        together, scenario(peer, together), together=True
    )

    assert outcomes_together == outcomes_alone
    assert outcomes_alone[1:12] == [
        *["applied"] * 3,
        "ignored",  # c4 concerns nobody here
        *["applied"] * 2,
        "duplicate",  # c3 again in the same batch
        *["applied"] * 3,
        "duplicate",  # c0 from the first batch
    ]
    assert events_together == events_alone
    assert await stored(together) == await stored(alone)
    rows = await stored(together)
    # Spot checks that the scenario exercised what it claims to.
    assert "hashtag:cats" in {stream for _, stream, _ in events_together[0]}
    assert not any(
        owner.endswith("alice") and "c9" in p for owner, _, _, p in rows["notifications"]
    )
    assert sum(1 for _, kind, _, p in rows["notifications"] if p and p.endswith("c10")) == 2


async def test_one_failing_activity_does_not_spoil_its_batch(
    node_factory: NodeFactory, peer: FakePeer
):
    """Given a batch where one Create cannot be stored (its author row is gone), when it
    is applied together, then the others are stored and only that one fails."""
    running = await prepared_node(node_factory, "solo", peer)
    node = running.node
    alice = running.actor_uri("alice")
    docs = [
        note(peer, "stranger", "ok1", to=[alice], mentions=[alice]),
        note(peer, "writer", "bad", to=[alice], mentions=[alice]),
        note(peer, "stranger", "ok2", to=[alice], mentions=[alice]),
    ]
    items = [await pending(node, doc) for doc in docs]
    ghost = Actor(**{c.key: getattr(items[1].actor, c.key) for c in Actor.__table__.columns})
    ghost.id = items[1].actor.id + 12345  # no such row: the post's foreign key fails
    items[1].actor = ghost

    assert node.inbox_committer is not None
    await node.inbox_committer._apply(items)

    assert await items[0].done == "applied" and await items[2].done == "applied"
    with pytest.raises(Exception):  # noqa: B017 - the database's integrity error
        await items[1].done
    async with node.reads() as db:
        uris = set(await db.scalars(select(Post.uri).where(Post.local.is_(False))))
        received = set(await db.scalars(select(ReceivedActivity.uri)))
    assert uris == {
        f"{peer.actor_uri(u)}/statuses/{s}" for u, s in (("stranger", "ok1"), ("stranger", "ok2"))
    }
    assert docs[1]["id"] not in received


async def test_a_domain_block_applies_to_the_next_activity(node_b: RunningNode, peer: FakePeer):
    """The federation policy is kept in memory; blocking a domain drops it, so the very
    next activity from there is refused rather than up to a few seconds later."""
    bob = node_b.actor_uri("bob")
    first = note(peer, "stranger", "before", to=[bob], mentions=[bob])
    status, _ = await peer.post(
        f"{node_b.base_url}/inbox", first, key_id=f"{peer.actor_uri('stranger')}#main-key"
    )
    assert status == 202

    async with transaction(node_b.node) as db:
        await set_domain_block(db, peer.base.removeprefix("http://"), True)

    second = note(peer, "stranger", "after", to=[bob], mentions=[bob])
    status, body = await peer.post(
        f"{node_b.base_url}/inbox", second, key_id=f"{peer.actor_uri('stranger')}#main-key"
    )
    assert status == 403 and "blocked" in body["error"]


async def test_an_actor_update_is_seen_by_the_next_activity(node_b: RunningNode, peer: FakePeer):
    """The signer of a request is remembered in memory; when it sends an Update of
    itself, the next activity sees the updated actor, not the remembered one."""
    stranger = peer.actor_uri("stranger")
    key_id = f"{stranger}#main-key"
    bob = node_b.actor_uri("bob")
    status, _ = await peer.post(
        f"{node_b.base_url}/inbox",
        note(peer, "stranger", "u1", to=[bob], mentions=[bob]),
        key_id=key_id,
    )
    assert status == 202
    document = dict(peer.documents["/users/stranger"], name="Renamed", followers=f"{stranger}/fans")
    update = {
        "@context": AS2,
        "id": f"{stranger}/updates/1",
        "type": "Update",
        "actor": stranger,
        "object": document,
    }
    status, _ = await peer.post(f"{node_b.base_url}/inbox", update, key_id=key_id)
    assert status == 202

    # A followers-only post addressed to the new followers collection: its audience is
    # read against the actor's followers URL, so a stale remembered actor would get it wrong.
    fans_only = note(peer, "stranger", "u2", to=[f"{stranger}/fans"], cc=[bob], mentions=[bob])
    status, _ = await peer.post(f"{node_b.base_url}/inbox", fans_only, key_id=key_id)
    assert status == 202
    async with node_b.node.reads() as db:
        post = await db.scalar(select(Post).where(Post.uri == f"{stranger}/statuses/u2"))
    assert post is not None and post.audience == "followers"


async def test_replays_still_answer_duplicate_under_load(node_b: RunningNode, peer: FakePeer):
    """Idempotency is decided in the write batch now: the same activity sent many times
    at once is applied once and every other copy answers 202 duplicate."""
    bob = node_b.actor_uri("bob")
    doc = note(peer, "stranger", "many", to=[bob], mentions=[bob])
    key_id = f"{peer.actor_uri('stranger')}#main-key"
    answers = await asyncio.gather(
        *(peer.post(f"{node_b.base_url}/inbox", doc, key_id=key_id) for _ in range(8))
    )
    assert sorted(body["status"] for status, body in answers if status == 202) == [
        "applied",
        *["duplicate"] * 7,
    ]
    async with node_b.node.reads() as db:
        posts = list(await db.scalars(select(Post.id).where(Post.local.is_(False))))
    assert len(posts) == 1
