"""``/api/v1/polls`` over real HTTP: voting rules, the end of a poll and its
notifications, and a vote on another node's poll travelling to its author."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from federation.vocab import APObject, parse_object
from node.context import transaction
from node.db.models import Follow, Notification, Poll, Post
from node.db.types import utcnow
from node.follows import follow
from node.polls import close_expired_polls, receive_vote
from node.remote_actors import resolve_account
from tests.api.conftest import ClientFactory
from tests.api.test_statuses import people_of_a
from tests.harness import NodeFactory, RunningNode, wait_for


async def test_poll_voting_rules_and_end(node_factory: NodeFactory, api: ClientFactory):
    """A poll is posted in the form shape, voted in once per person, never by its
    author, never after its end; when it ends its voters and its author are notified."""
    people = await people_of_a(node_factory, api)
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    status = await alice.post(
        "/api/v1/statuses",
        data=[
            ("status", "Lunch?"),
            ("poll[options][]", "pizza"),
            ("poll[options][]", "salad"),
            ("poll[expires_in]", "3600"),
        ],
    )
    poll = status["poll"]
    assert poll["id"] == status["id"] and [o["title"] for o in poll["options"]] == [
        "pizza",
        "salad",
    ]
    assert poll["multiple"] is False and poll["expired"] is False and poll["voted"] is False

    voted = await bob.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": ["1"]})
    assert voted["voted"] is True and voted["own_votes"] == [1]
    assert [o["votes_count"] for o in voted["options"]] == [0, 1]
    for client, choices, reason in [
        (bob, ["0"], "already voted"),
        (alice, ["0"], "own poll"),
        (carol, ["7"], "options"),
        (carol, ["0", "1"], "single choice"),
    ]:
        _, error, _ = await client.call(
            "POST", f"/api/v1/polls/{poll['id']}/votes", json={"choices": choices}, expect=422
        )
        assert reason in error["error"]
    assert (await people["anonymous"].get(f"/api/v1/polls/{poll['id']}"))["votes_count"] == 1
    await people["anonymous"].call(
        "POST", f"/api/v1/polls/{poll['id']}/votes", json={"choices": ["0"]}, expect=401
    )
    plain = await alice.post("/api/v1/statuses", json={"status": "no poll"})
    await bob.call("GET", f"/api/v1/polls/{plain['id']}", expect=404)

    multiple = await alice.post(
        "/api/v1/statuses",
        json={
            "status": "Which days?",
            "poll": {"options": ["mon", "tue", "wed"], "expires_in": 600, "multiple": True},
        },
    )
    both = await carol.post(f"/api/v1/polls/{multiple['id']}/votes", json={"choices": [0, 2]})
    assert both["own_votes"] == [0, 2] and both["votes_count"] == 2

    # When the poll has ended (moved to end a second from now: a poll's end is always
    # committed before it comes), nobody may vote, and its voters and author hear of it.
    async with transaction(bob.node.node) as db:
        await db.execute(
            update(Poll)
            .where(Poll.post_id == int(poll["id"]))
            .values(expires_at=utcnow() + timedelta(seconds=1))
        )

    async def ended() -> bool:
        return (await carol.get(f"/api/v1/polls/{poll['id']}"))["expired"]

    await wait_for(ended)
    _, error, _ = await carol.call(
        "POST", f"/api/v1/polls/{poll['id']}/votes", json={"choices": ["0"]}, expect=422
    )
    assert "ended" in error["error"]
    # The node's own closer may get there first; either way it is closed exactly once.
    await close_expired_polls(bob.node.node)
    assert await close_expired_polls(bob.node.node) == 0
    for client in (alice, bob):
        [ended_poll] = await client.get("/api/v1/notifications", params={"types[]": "poll"})
        assert ended_poll["status"]["id"] == status["id"]
        assert ended_poll["account"]["acct"] == "alice"
        assert ended_poll["status"]["poll"]["expired"] is True
    assert await carol.get("/api/v1/notifications", params={"types[]": "poll"}) == []


async def test_vote_on_a_remote_poll_reaches_its_author(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """alice@A's poll reaches bob@B as a Question; bob votes on B; the vote travels to A
    as a named Note and is counted there; it never shows up as a post on A."""
    bob = await node_b.actor("bob")
    await follow(node_b.node, bob, await resolve_account(node_b.node, node_a.handle("alice")))
    alice = await api(node_a, "alice")

    async def followed() -> bool:
        async with node_a.node.reads() as db:
            return bool(await db.scalar(select(Follow.id).where(Follow.state == "accepted")))

    await wait_for(followed)
    status = await alice.post(
        "/api/v1/statuses",
        json={"status": "Offsite?", "poll": {"options": ["yes", "no"], "expires_in": 3600}},
    )

    async def copy_on_b() -> int | None:
        async with node_b.node.reads() as db:
            post_id = await db.scalar(select(Post.id).where(Post.uri == status["uri"]))
            has_poll = post_id and await db.get(Poll, post_id)
            return post_id if has_poll else None

    remote_id = await wait_for(copy_on_b)
    bob_api = await api(node_b, "bob")
    seen = await bob_api.get(f"/api/v1/statuses/{remote_id}")
    assert [o["title"] for o in seen["poll"]["options"]] == ["yes", "no"]
    voted = await bob_api.post(f"/api/v1/polls/{remote_id}/votes", json={"choices": [0]})
    assert voted["voted"] is True

    async def counted_on_a() -> bool:
        poll = await alice.get(f"/api/v1/polls/{status['id']}")
        return poll["options"][0]["votes_count"] == 1 and poll["voters_count"] in (1, None)

    await wait_for(counted_on_a)
    async with node_a.node.reads() as db:
        posts = list(await db.scalars(select(Post.uri).where(Post.local.is_(False))))
        assert posts == []
        assert (
            await db.scalar(select(Notification.id).where(Notification.type == "mention")) is None
        )


async def test_received_votes_follow_the_rules(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """What the inbox does with vote Notes (signatures are the gate's business, tested
    there): a vote counts once, names an existing option, and only from someone who may
    see the poll; a vote on no poll of ours is left to the ordinary Create handling."""
    alice = await api(node_a, "alice")
    poll = {"options": ["yes", "no"], "expires_in": 3600}
    public = await alice.post("/api/v1/statuses", json={"status": "Q1", "poll": poll})
    private = await alice.post(
        "/api/v1/statuses", json={"status": "Q2", "poll": poll, "visibility": "private"}
    )
    bob = await resolve_account(node_a.node, node_b.handle("bob"))

    def note(question_uri: str, name: str, n: int) -> APObject:
        return parse_object(
            {
                "id": f"{bob.uri}#votes/{n}",
                "type": "Note",
                "attributedTo": bob.uri,
                "to": [node_a.actor_uri("alice")],
                "name": name,
                "inReplyTo": question_uri,
            }
        )

    async def receive(obj: APObject) -> bool:
        async with transaction(node_a.node) as db:
            return await receive_vote(db, obj, bob)

    assert await receive(note(public["uri"], "no", 1))
    assert await receive(note(public["uri"], "yes", 2))  # a second vote: dropped
    assert await receive(note(public["uri"], "maybe", 3))  # no such option: dropped
    assert await receive(note(private["uri"], "yes", 4))  # bob does not follow alice
    assert not await receive(note("https://elsewhere.example/q/1", "yes", 5))
    counts = await alice.get(f"/api/v1/polls/{public['id']}")
    assert [o["votes_count"] for o in counts["options"]] == [0, 1]
    hidden = await alice.get(f"/api/v1/polls/{private['id']}")
    assert hidden["votes_count"] == 0
