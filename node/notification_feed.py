"""A page of someone's notifications with what a page needs to show each: who, the post
(only if its owner may still see it), and whether a follow request still waits.

Reading the first page also moves the ``notifications`` read marker to its newest entry
(Mastodon's web app does the same), writing only when the marker is behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from node.context import Node, transaction
from node.db.models import Actor, Follow, Notification, Post
from node.db.models.follows import PENDING
from node.follows import Page
from node.markers import markers, save_markers
from node.timelines import clear_notifications, notifications_page
from node.visibility import visible_posts
from node.web_sessions import actors_by_id


@dataclass(frozen=True)
class FeedItem:
    notification: Notification
    who: Actor | None
    post: Post | None
    post_author: Actor | None
    #: a follow request not yet accepted or rejected
    pending_request: bool


async def notification_feed(node: Node, owner: Actor, page: Page) -> list[FeedItem]:
    async with node.reads() as db:
        rows = await notifications_page(db, owner.id, page)
        people = await actors_by_id(db, {n.from_actor_id for n in rows})
        post_ids = {n.post_id for n in rows if n.post_id is not None}
        posts = list(await db.scalars(select(Post).where(Post.id.in_(post_ids))))
        shown = {p.id: p for p in await visible_posts(db, owner, posts)}
        authors = await actors_by_id(db, {p.actor_id for p in shown.values()})
        waiting = set(
            await db.scalars(
                select(Follow.follower_id).where(
                    Follow.followee_id == owner.id, Follow.state == PENDING
                )
            )
        )
        marker = next(iter(await markers(db, owner.id, ["notifications"])), None)
    read_up_to = marker.last_read_id if marker is not None else None
    if rows and page.max_id is None and (read_up_to is None or read_up_to < rows[0].id):
        await save_markers(node, owner.id, {"notifications": rows[0].id})
    items = []
    for n in rows:
        post = shown.get(n.post_id) if n.post_id is not None else None
        items.append(
            FeedItem(
                notification=n,
                who=people.get(n.from_actor_id),
                post=post,
                post_author=authors.get(post.actor_id) if post is not None else None,
                pending_request=n.type == "follow_request" and n.from_actor_id in waiting,
            )
        )
    return items


async def dismiss_all(node: Node, owner: Actor) -> None:
    async with transaction(node) as db:
        await clear_notifications(db, owner.id)
