"""Acting on a group hosted on another node: a co-host's moderators remove posts and
members, and a partner firm's moderators let their own people in, by signed activities
sent to the group's inbox (docs/federation.md, "Groups"). The group's host checks the
sender's role and does the rest; what is sent here only asks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from node.ap.documents import with_context
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Follow, Post
from node.db.models.follows import PENDING
from node.delivery.queue import enqueue
from node.errors import Invalid, NotFound


def _activity(kind: str, actor: Actor, obj: Any, group: Actor) -> dict[str, Any]:
    return with_context(
        {
            "id": f"{actor.uri}#{kind.lower()}s/{new_id()}",
            "type": kind,
            "actor": actor.uri,
            "object": obj,
            "target": group.uri,
            "to": [group.uri],
            "audience": group.uri,
        }
    )


async def _send(node: Node, sender: Actor, group: Actor, activity: dict[str, Any]) -> None:
    if group.local or group.type != "Group":
        raise Invalid("not a group hosted on another node")
    async with transaction(node) as db:
        await enqueue(db, sender=sender, activity=activity, inboxes=[group.inbox])
    node.delivery_wakeup.set()


async def ask_remove_post(node: Node, moderator: Actor, group: Actor, post_id: int) -> None:
    async with node.reads() as db:
        post = await db.get(Post, post_id)
    if post is None or post.group_id != group.id:
        raise NotFound("that post is not in this group")
    await _send(node, moderator, group, _activity("Remove", moderator, post.uri, group))


async def ask_remove_member(node: Node, moderator: Actor, group: Actor, member: Actor) -> None:
    await _send(node, moderator, group, _activity("Remove", moderator, member.uri, group))


async def local_requests(db: Any, group: Actor) -> list[Actor]:
    """People of this node waiting to join a remote group: what its moderators here
    decide on when the group is co-hosted with this firm."""
    return list(
        await db.scalars(
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .where(Follow.followee_id == group.id, Follow.state == PENDING, Actor.local.is_(True))
            .order_by(Follow.id)
        )
    )


async def decide_local_request(
    node: Node, moderator: Actor, group: Actor, member: Actor, *, accept: bool
) -> None:
    """A moderator here approves (or refuses) one of this firm's people joining a group
    co-hosted elsewhere: an Accept (Reject) of that person's Follow, sent to the group."""
    async with node.reads() as db:
        row = await db.scalar(
            select(Follow).where(
                Follow.follower_id == member.id,
                Follow.followee_id == group.id,
                Follow.state == PENDING,
            )
        )
    if row is None or not member.local:
        raise NotFound(f"no pending request from {member.handle}")
    follow = {"id": row.activity_uri, "type": "Follow", "actor": member.uri, "object": group.uri}
    kind = "Accept" if accept else "Reject"
    await _send(node, moderator, group, _activity(kind, moderator, follow, group))
