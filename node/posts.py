"""Writing posts and reacting to them: store, fan out to local timelines, queue delivery,
all in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.ap.documents import (
    announce_activity,
    create_activity,
    delete_activity,
    like_activity,
    undo_activity,
)
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Like, Mention, Post
from node.db.types import utcnow
from node.delivery.queue import enqueue, inboxes_for
from node.errors import CercleError, Invalid, NotFound
from node.follows import follower_actors, following_ids
from node.notifications import notify, notify_ids
from node.remote_actors import resolve_account
from node.text import parse_text, render_text
from node.timelines import (
    add_to_timelines,
    all_local_user_ids,
    announce_deletion,
    index_public_post,
    local_follower_ids,
)

MAX_CHARS = 5000


async def _resolve_mentions(node: Node, text: str) -> dict[tuple[str, str | None], Actor]:
    """Mentioned accounts that exist; unknown ones stay plain text, as in Mastodon."""
    found: dict[tuple[str, str | None], Actor] = {}
    for user, host in parse_text(text).mentions:
        handle = f"{user}@{host or node.settings.domain}"
        try:
            found[(user, host)] = await resolve_account(node, handle)
        except CercleError:
            continue
    return found


async def create_post(
    node: Node,
    author: Actor,
    text: str,
    *,
    audience: str = aud.PUBLIC_AUDIENCE,
    in_reply_to: Post | None = None,
    summary: str = "",
    sensitive: bool = False,
    language: str | None = None,
) -> Post:
    if not text.strip():
        raise Invalid("a post needs some text")
    if len(text) > MAX_CHARS:
        raise Invalid(f"a post is at most {MAX_CHARS} characters")
    if audience not in aud.AUDIENCES:
        raise Invalid(f"unknown audience {audience!r}: one of {', '.join(aud.AUDIENCES)}")
    mentioned = await _resolve_mentions(node, text)
    mention_actors = list({a.id: a for a in mentioned.values()}.values())
    if in_reply_to is not None:
        async with node.reads() as db:
            parent_author = await db.get(Actor, in_reply_to.actor_id)
        if parent_author is not None and parent_author.id != author.id:
            mention_actors = list({a.id: a for a in [*mention_actors, parent_author]}.values())
    if audience == aud.DIRECT and not mention_actors:
        raise Invalid("a direct post must mention at least one account")

    post_id = new_id()
    uri = node.urls.status(author.uri, post_id)
    to, cc = aud.addressing(
        audience,
        followers_url=author.followers_url,
        mentioned_uris=[a.uri for a in mention_actors],
    )
    tags: list[dict[str, Any]] = [
        {"type": "Mention", "href": a.uri, "name": f"@{a.handle}"} for a in mention_actors
    ]
    tags += [
        {"type": "Hashtag", "href": f"{node.settings.base_url}/tags/{t}", "name": f"#{t}"}
        for t in parse_text(text).hashtags
    ]
    content = render_text(
        text,
        mention_urls={k: (a.url or a.uri) for k, a in mentioned.items()},
        tag_url=f"{node.settings.base_url}/tags/",
    )
    post = Post(
        id=post_id,
        uri=uri,
        url=node.urls.status_html(author.username, post_id),
        actor_id=author.id,
        local=True,
        type="Note",
        audience=audience,
        content=content,
        source=text,
        summary=summary,
        sensitive=sensitive or bool(summary),
        language=language,
        in_reply_to_uri=in_reply_to.uri if in_reply_to else None,
        in_reply_to_id=in_reply_to.id if in_reply_to else None,
        to=to,
        cc=cc,
        tags=tags,
        attachments=[],
        published=utcnow(),
    )
    async with transaction(node) as db:
        db.add(post)
        await db.flush()
        for actor in mention_actors:
            db.add(Mention(post_id=post.id, actor_id=actor.id))
        if in_reply_to is not None:
            await db.execute(
                update(Post)
                .where(Post.id == in_reply_to.id)
                .values(replies_count=Post.replies_count + 1)
            )
        await add_to_timelines(db, post.id, await _local_audience(db, author, post, mention_actors))
        await index_public_post(db, post, parse_text(text).hashtags)
        await notify_ids(
            db,
            [a.id for a in mention_actors if a.local],
            kind="mention",
            from_actor_id=author.id,
            post_id=post.id,
        )
        if aud.is_federated(audience):
            recipients = await _remote_recipients(db, author, audience, mention_actors)
            await enqueue(
                db, sender=author, activity=create_activity(post, author), inboxes=recipients
            )
    node.delivery_wakeup.set()
    return post


async def _local_audience(
    db: AsyncSession, author: Actor, post: Post, mentioned: list[Actor]
) -> set[int]:
    owners = {author.id} | {a.id for a in mentioned if a.local}
    if post.audience == aud.ORGANISATION:
        owners |= set(await all_local_user_ids(db))
    elif post.audience != aud.DIRECT:
        owners |= set(await local_follower_ids(db, author.id))
    return owners


async def _remote_recipients(
    db: AsyncSession, author: Actor, audience: str, mentioned: list[Actor]
) -> list[str]:
    actors: list[Actor] = list(mentioned)
    if audience != aud.DIRECT:
        actors += await follower_actors(db, author.id)
    return inboxes_for(actors)


async def delete_post(node: Node, author: Actor, post: Post) -> None:
    if post.actor_id != author.id:
        raise NotFound("no such post")
    async with transaction(node) as db:
        row = await db.get(Post, post.id)
        if row is None or row.deleted_at is not None:
            raise NotFound("no such post")
        row.deleted_at = utcnow()
        await announce_deletion(db, row)
        mentioned = list(
            await db.scalars(
                select(Actor)
                .join(Mention, Mention.actor_id == Actor.id)
                .where(Mention.post_id == row.id)
            )
        )
        if aud.is_federated(row.audience):
            recipients = await _remote_recipients(db, author, row.audience, mentioned)
            await enqueue(
                db, sender=author, activity=delete_activity(row, author), inboxes=recipients
            )
    node.delivery_wakeup.set()


async def visible_post(node: Node, viewer: Actor | None, post_id: int) -> Post:
    """The post if ``viewer`` may see it; NotFound otherwise (never leak existence)."""
    async with node.reads() as db:
        post = await db.get(Post, post_id)
        if post is None or not await viewer_can_see(db, viewer, post):
            raise NotFound("no such post")
        return post


async def post_facts(db: AsyncSession, post: Post) -> aud.PostFacts:
    author = await db.get(Actor, post.actor_id)
    mentioned = frozenset(
        await db.scalars(select(Mention.actor_id).where(Mention.post_id == post.id))
    )
    return aud.PostFacts(
        audience=post.audience,
        author_id=post.actor_id,
        author_local=bool(author and author.local),
        mentioned_ids=mentioned,
        deleted=post.deleted_at is not None,
    )


async def viewer_for(db: AsyncSession, actor: Actor | None) -> aud.Viewer:
    if actor is None:
        return aud.ANONYMOUS
    return aud.Viewer(
        actor_id=actor.id, local=actor.local, following=await following_ids(db, actor.id)
    )


async def viewer_can_see(db: AsyncSession, viewer: Actor | None, post: Post) -> bool:
    return aud.can_see(await viewer_for(db, viewer), await post_facts(db, post))


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


async def reblog(node: Node, actor: Actor, post: Post) -> Post:
    if post.audience not in aud.OPEN_AUDIENCES:
        raise Invalid("only public and unlisted posts can be boosted")
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
            aud.PUBLIC_AUDIENCE, followers_url=actor.followers_url, mentioned_uris=[author.uri]
        )
        boost = Post(
            id=boost_id,
            uri=node.urls.status(actor.uri, boost_id),
            actor_id=actor.id,
            local=True,
            type="Announce",
            audience=aud.PUBLIC_AUDIENCE,
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


async def post_by_uri(db: AsyncSession, uri: str) -> Post | None:
    return await db.scalar(select(Post).where(Post.uri == uri))
