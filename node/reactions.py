"""Reacting to posts: favourites (Like) and boosts (Announce), with their undoing.

Each reaction is stored, counted on the post, notified to a local author and queued for
delivery in one transaction. ``node.posts`` re-exports these functions.
"""

from __future__ import annotations

from sqlalchemy import select, update

from node import audience as aud
from node.ap.documents import announce_activity, like_activity, undo_activity
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Like, Post
from node.db.types import utcnow
from node.delivery.queue import enqueue, inboxes_for
from node.errors import Invalid
from node.follows import follower_actors
from node.notifications import notify
from node.timelines import add_to_timelines, local_follower_ids

#: Audiences a boost may take (Mastodon's ``visibility`` of a reblog).
BOOST_AUDIENCES = (aud.PUBLIC_AUDIENCE, aud.UNLISTED, aud.FOLLOWERS)


async def like(node: Node, actor: Actor, post: Post) -> Like:
    async with transaction(node) as db:
        existing = await db.scalar(
            select(Like).where(Like.actor_id == actor.id, Like.post_id == post.id)
        )
        if existing is not None:
            return existing
        author = await db.get(Actor, post.actor_id)
        assert author is not None
        activity = like_activity(node.urls, actor, post.uri)
        row = Like(actor_id=actor.id, post_id=post.id, uri=activity["id"])
        db.add(row)
        await notify(db, owner=author, kind="favourite", from_actor_id=actor.id, post_id=post.id)
        await db.execute(
            update(Post).where(Post.id == post.id).values(likes_count=Post.likes_count + 1)
        )
        if not author.local:
            await enqueue(db, sender=actor, activity=activity, inboxes=[author.inbox])
    node.delivery_wakeup.set()
    return row


async def unlike(node: Node, actor: Actor, post: Post) -> None:
    async with transaction(node) as db:
        row = await db.scalar(
            select(Like).where(Like.actor_id == actor.id, Like.post_id == post.id)
        )
        if row is None:
            return
        await db.delete(row)
        await db.execute(
            update(Post).where(Post.id == post.id).values(likes_count=Post.likes_count - 1)
        )
        author = await db.get(Actor, post.actor_id)
        if author is not None and not author.local:
            inner = {"id": row.uri, "type": "Like", "actor": actor.uri, "object": post.uri}
            await enqueue(
                db,
                sender=actor,
                activity=undo_activity(node.urls, actor, inner),
                inboxes=[author.inbox],
            )
    node.delivery_wakeup.set()


async def reblog(
    node: Node, actor: Actor, post: Post, *, audience: str = aud.PUBLIC_AUDIENCE
) -> Post:
    """Boost ``post``; ``audience`` is who sees the boost (public, unlisted or followers,
    Mastodon's ``visibility`` of a reblog). Boosting twice returns the first boost."""
    if post.audience not in aud.OPEN_AUDIENCES:
        raise Invalid("only public and unlisted posts can be boosted")
    if post.reblog_of_id is not None:
        raise Invalid("a boost cannot be boosted")
    if audience not in BOOST_AUDIENCES:
        raise Invalid(f"a boost is one of {', '.join(BOOST_AUDIENCES)}")
    async with transaction(node) as db:
        existing = await db.scalar(
            select(Post).where(
                Post.actor_id == actor.id, Post.reblog_of_id == post.id, Post.deleted_at.is_(None)
            )
        )
        if existing is not None:
            return existing
        author = await db.get(Actor, post.actor_id)
        assert author is not None
        boost_id = new_id()
        to, cc = aud.addressing(
            audience, followers_url=actor.followers_url, mentioned_uris=[author.uri]
        )
        boost = Post(
            id=boost_id,
            uri=node.urls.status(actor.uri, boost_id),
            actor_id=actor.id,
            local=True,
            type="Announce",
            audience=audience,
            reblog_of_id=post.id,
            to=to,
            cc=cc,
            published=utcnow(),
        )
        db.add(boost)
        await db.flush()
        await db.execute(
            update(Post).where(Post.id == post.id).values(reblogs_count=Post.reblogs_count + 1)
        )
        await add_to_timelines(db, boost.id, {actor.id, *await local_follower_ids(db, actor.id)})
        await notify(db, owner=author, kind="reblog", from_actor_id=actor.id, post_id=post.id)
        recipients = inboxes_for([*await follower_actors(db, actor.id), author])
        await enqueue(
            db,
            sender=actor,
            activity=announce_activity(boost, actor, post.uri),
            inboxes=recipients,
        )
    node.delivery_wakeup.set()
    return boost


async def unreblog(node: Node, actor: Actor, post: Post) -> None:
    async with transaction(node) as db:
        boost = await db.scalar(
            select(Post).where(
                Post.actor_id == actor.id, Post.reblog_of_id == post.id, Post.deleted_at.is_(None)
            )
        )
        if boost is None:
            return
        boost.deleted_at = utcnow()
        await db.execute(
            update(Post).where(Post.id == post.id).values(reblogs_count=Post.reblogs_count - 1)
        )
        author = await db.get(Actor, post.actor_id)
        inner = announce_activity(boost, actor, post.uri)
        recipients = inboxes_for(
            [*await follower_actors(db, actor.id), *([author] if author else [])]
        )
        await enqueue(
            db, sender=actor, activity=undo_activity(node.urls, actor, inner), inboxes=recipients
        )
    node.delivery_wakeup.set()
