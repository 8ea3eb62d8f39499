"""Writing posts: store, fan out to local timelines, queue delivery, all in one
transaction; and who may see a post (through ``audience.can_see``).

Reactions (favourites, boosts) live in ``node.reactions`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.ap.documents import create_activity, delete_activity
from node.circles import recipients_of
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import (
    Actor,
    IdempotencyKey,
    MediaAttachment,
    Mention,
    Pin,
    Post,
    PostCircle,
    PostRecipient,
)
from node.db.types import utcnow
from node.delivery.queue import enqueue, inboxes_for
from node.errors import CercleError, Forbidden, Invalid, NotFound
from node.follows import follower_actors
from node.groups import group_settings, is_member, mentioned_group, relay
from node.integrity_keys import signed_for_audience
from node.media import attachment_documents, claim_for_post
from node.notifications import notify_ids
from node.partners import partner_org_actors
from node.places import PlaceSpec, as2_place, place_columns
from node.polls import PollSpec, new_poll, with_question
from node.reactions import like as like
from node.reactions import reblog as reblog
from node.reactions import unlike as unlike
from node.reactions import unreblog as unreblog
from node.remote_actors import resolve_account
from node.text import parse_text, render_text
from node.thread_audience import reply_audience
from node.timelines import (
    add_to_timelines,
    all_local_user_ids,
    announce_deletion,
    index_public_post,
    local_follower_ids,
)
from node.visibility import (  # noqa: F401 - re-exported for callers
    post_facts,
    viewer_can_see,
    viewer_for,
    visible_posts,
)

MAX_CHARS = 5000
#: How long a client's ``Idempotency-Key`` names the post it made, as in Mastodon.
IDEMPOTENCY_WINDOW = timedelta(hours=1)


async def resolve_mentions(node: Node, text: str) -> dict[tuple[str, str | None], Actor]:
    """Mentioned accounts that exist; unknown ones stay plain text, as in Mastodon."""
    found: dict[tuple[str, str | None], Actor] = {}
    for user, host in parse_text(text).mentions:
        handle = f"{user}@{host or node.settings.domain}"
        try:
            found[(user, host)] = await resolve_account(node, handle)
        except CercleError:
            continue
    return found


def rendered_text(
    node: Node,
    text: str,
    mentioned: dict[tuple[str, str | None], Actor],
    *,
    author: Actor,
    parent_author: Actor | None = None,
) -> tuple[str, list[dict[str, Any]], list[Actor], tuple[str, ...]]:
    """``(content HTML, AS2 tags, mentioned actors, hashtags)`` of what the author typed.

    A reply mentions the author of the post it answers, as in Mastodon, so that they are
    told and can see it whatever its audience.
    """
    mention_actors = list({a.id: a for a in mentioned.values()}.values())
    if parent_author is not None and parent_author.id != author.id:
        mention_actors = list({a.id: a for a in [*mention_actors, parent_author]}.values())
    hashtags = parse_text(text).hashtags
    tags: list[dict[str, Any]] = [
        {"type": "Mention", "href": a.uri, "name": f"@{a.handle}"} for a in mention_actors
    ]
    tags += [
        {"type": "Hashtag", "href": f"{node.settings.base_url}/tags/{t}", "name": f"#{t}"}
        for t in hashtags
    ]
    content = render_text(
        text,
        mention_urls={k: (a.url or a.uri) for k, a in mentioned.items()},
        tag_url=f"{node.settings.base_url}/tags/",
    )
    return content, tags, mention_actors, hashtags


async def idempotent_post(node: Node, user_id: int, key: str) -> Post | None:
    """The post a client already made with this ``Idempotency-Key`` within the hour."""
    async with node.reads() as db:
        return await _idempotent_post(db, user_id, key)


async def _idempotent_post(db: AsyncSession, user_id: int, key: str) -> Post | None:
    row = await db.get(IdempotencyKey, (user_id, key))
    if row is None or row.created_at < utcnow() - IDEMPOTENCY_WINDOW:
        return None
    return await db.get(Post, row.post_id)


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
    media_ids: Sequence[int | str] = (),
    poll: PollSpec | None = None,
    idempotency: tuple[int, str] | None = None,
    circle_ids: Sequence[int | str] = (),
    place: PlaceSpec | None = None,
    group: Actor | None = None,
) -> Post:
    """Store a post, put it in local timelines, notify mentioned people and queue its
    delivery, all in one transaction.

    ``media_ids`` are the author's unattached uploads (``node.media``), which also go
    into the Note's ``attachment``; ``poll`` makes the post a Question. ``idempotency``
    is ``(user id, Idempotency-Key)``: the same key within an hour returns the post it
    first made instead of posting twice (a client retrying after a timeout). ``place``
    is where it was posted from (node/places.py): stored and sent as the Note's location.
    """
    if idempotency is not None:
        existing = await idempotent_post(node, *idempotency)
        if existing is not None:
            return existing
    if not text.strip() and not media_ids:
        raise Invalid("Text can't be blank")
    if len(text) > MAX_CHARS:
        raise Invalid(f"a post is at most {MAX_CHARS} characters")
    if audience not in aud.AUDIENCES:
        raise Invalid(f"unknown audience {audience!r}: one of {', '.join(aud.AUDIENCES)}")
    if media_ids and poll is not None:
        raise Invalid("a post cannot have both media and a poll")
    mentioned = await resolve_mentions(node, text)
    parent_author = None
    if in_reply_to is not None:
        async with node.reads() as db:
            parent_author = await db.get(Actor, in_reply_to.actor_id)
    content, tags, mention_actors, hashtags = rendered_text(
        node, text, mentioned, author=author, parent_author=parent_author
    )
    if audience == aud.DIRECT and not mention_actors:
        raise Invalid("a direct post must mention at least one account")
    circle_people: list[Actor] = []
    partner_orgs: list[Actor] = []
    thread = await reply_audience(node, author, in_reply_to, audience)
    if thread is not None:  # a reply stays in its thread's audience (node/thread_audience.py)
        audience, circle_ids = thread.audience, ()
        circle_people, partner_orgs = thread.readers, thread.partner_orgs
    group_public = False
    async with node.reads() as db:
        if group is None and thread is None and audience not in (aud.DIRECT, aud.CIRCLE):
            # Addressing a group from any client: mentioning a group one belongs to.
            group = await mentioned_group(db, author, mention_actors)
            if group is not None:
                audience = aud.GROUP
        if audience == aud.GROUP:
            if group is None:
                raise Invalid("a group post needs the group (group_id)")
            if not await is_member(db, group.id, author.id):
                raise Forbidden("you are not a member of this group")
            settings = await group_settings(db, group.id)
            group_public = settings is not None and not settings.members_only
        elif group is not None:
            raise Invalid("group_id goes with the group audience only")
        if audience == aud.CIRCLE and thread is None:
            circle_people = await recipients_of(db, author, circle_ids)
            if not circle_people and not mention_actors:
                raise Invalid("the chosen circles are empty: add people to them first")
        elif circle_ids:
            raise Invalid("circle_id goes with the circle (limited) audience only")
        if audience == aud.PARTNERS and thread is None:
            partner_orgs = await partner_org_actors(db)

    post_id = new_id()
    uri = node.urls.status(author.uri, post_id)
    to, cc = aud.addressing(
        audience,
        followers_url=author.followers_url,
        mentioned_uris=[a.uri for a in mention_actors],
        partner_org_uris=[o.uri for o in partner_orgs],
        group_uri=group.uri if group is not None else None,
        group_public=group_public,
    )
    post = Post(
        id=post_id,
        uri=uri,
        url=node.urls.status_html(author.username, post_id),
        actor_id=author.id,
        local=True,
        type="Question" if poll is not None else "Note",
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
        **place_columns(as2_place(place) if place is not None else None),
        group_id=group.id if group is not None else None,
    )
    try:
        async with transaction(node) as db:
            if idempotency is not None:
                # Checked again under the write lock: a retry may have raced us here.
                existing = await _idempotent_post(db, *idempotency)
                if existing is not None:
                    return existing
            db.add(post)
            await db.flush()
            if idempotency is not None:
                await _claim_idempotency_key(db, idempotency, post.id)
            media = await claim_for_post(db, author.id, media_ids, post.id)
            post.attachments = attachment_documents(node.settings.base_url, media)
            poll_row = new_poll(post.id, poll) if poll is not None else None
            if poll_row is not None:
                db.add(poll_row)
            for actor in mention_actors:
                db.add(Mention(post_id=post.id, actor_id=actor.id))
            for actor in circle_people:
                db.add(PostRecipient(post_id=post.id, actor_id=actor.id))
            for circle_id in dict.fromkeys(int(c) for c in circle_ids):
                db.add(PostCircle(post_id=post.id, circle_id=circle_id))
            await db.flush()
            if in_reply_to is not None:
                await db.execute(
                    update(Post)
                    .where(Post.id == in_reply_to.id)
                    .values(replies_count=Post.replies_count + 1)
                )
            await add_to_timelines(
                db, post.id, await _local_audience(db, author, post, mention_actors + circle_people)
            )
            await index_public_post(db, post, hashtags)
            await notify_ids(
                db,
                [a.id for a in mention_actors if a.local],
                kind="mention",
                from_actor_id=author.id,
                post_id=post.id,
            )
            if aud.is_federated(audience):
                recipients = await remote_recipients(
                    db,
                    author,
                    audience,
                    mention_actors,
                    listed=circle_people,
                    orgs=partner_orgs,
                    group=group,
                )
                if thread is not None and thread.inboxes is not None:
                    recipients = thread.inboxes  # the thread's node forwards it to the others
                activity = with_question(create_activity(post, author), poll_row)
                activity = signed_for_audience(activity, author, audience)
                await enqueue(db, sender=author, activity=activity, inboxes=recipients)
                if group is not None and group.local:
                    # We host the group: it relays the post to its members elsewhere.
                    await relay(
                        db,
                        group,
                        activity if not group_public else post.uri,
                        members_only=not group_public,
                    )
    except IntegrityError:
        # PostgreSQL: another request with the same key committed first; return its post.
        if idempotency is not None:
            existing = await idempotent_post(node, *idempotency)
            if existing is not None:
                return existing
        raise
    node.delivery_wakeup.set()
    return post


async def _claim_idempotency_key(db: AsyncSession, key: tuple[int, str], post_id: int) -> None:
    user_id, value = key
    # An expired key with the same value would block the primary key: it has served.
    await db.execute(
        delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == value)
    )
    db.add(IdempotencyKey(user_id=user_id, key=value, post_id=post_id))
    await db.flush()


async def _local_audience(
    db: AsyncSession, author: Actor, post: Post, mentioned: list[Actor]
) -> set[int]:
    """Local home timelines a new post goes to; ``mentioned`` includes circle members."""
    owners = {author.id} | {a.id for a in mentioned if a.local}
    if post.audience in (aud.ORGANISATION, aud.PARTNERS):
        owners |= set(await all_local_user_ids(db))
    elif post.audience == aud.GROUP and post.group_id is not None:
        owners |= set(await local_follower_ids(db, post.group_id))
    elif post.audience not in aud.LISTED_AUDIENCES:
        owners |= set(await local_follower_ids(db, author.id))
    return owners


async def remote_recipients(
    db: AsyncSession,
    author: Actor,
    audience: str,
    mentioned: list[Actor],
    *,
    listed: Sequence[Actor] = (),
    orgs: Sequence[Actor] = (),
    group: Actor | None = None,
) -> list[str]:
    """The inboxes a post of ``author`` with ``audience`` goes to.

    Followers' servers (shared inboxes) for public, unlisted and followers posts; partner
    firms' Organization actors (their shared inboxes) for partners posts; for circle posts
    each member's **personal** inbox, so a server learns only who of its own people a post
    is for; and always the mentioned accounts.
    """
    if audience == aud.CIRCLE:
        personal = [a.inbox for a in listed if not a.local and a.inbox]
        return list(dict.fromkeys([*personal, *inboxes_for(mentioned)]))
    actors: list[Actor] = [a for a in mentioned if a.type != "Group" or not a.local]
    if audience == aud.GROUP:
        # To the group's server, which relays it (a group hosted here relays it itself).
        if group is not None and not group.local and group not in actors:
            actors.append(group)
    elif audience == aud.PARTNERS:
        actors += list(orgs)
    elif audience != aud.DIRECT:
        actors += await follower_actors(db, author.id)
    return inboxes_for(actors)


async def delete_post(node: Node, author: Actor, post: Post, *, detach_media: bool = False) -> None:
    """Delete (soft) the author's post and tell the servers it went to. ``detach_media``
    frees its uploads for a new post (Mastodon's delete-and-redraft)."""
    if post.actor_id != author.id:
        raise NotFound("no such post")
    async with transaction(node) as db:
        row = await db.get(Post, post.id)
        if row is None or row.deleted_at is not None:
            raise NotFound("no such post")
        row.deleted_at = utcnow()
        await db.execute(delete(Pin).where(Pin.post_id == row.id))
        if detach_media:
            await db.execute(
                update(MediaAttachment)
                .where(MediaAttachment.post_id == row.id)
                .values(post_id=None)
            )
        await announce_deletion(db, row)
        mentioned = list(
            await db.scalars(
                select(Actor)
                .join(Mention, Mention.actor_id == Actor.id)
                .where(Mention.post_id == row.id)
            )
        )
        if aud.is_federated(row.audience):
            listed = list(
                await db.scalars(
                    select(Actor)
                    .join(PostRecipient, PostRecipient.actor_id == Actor.id)
                    .where(PostRecipient.post_id == row.id)
                )
            )
            orgs = await partner_org_actors(db) if row.audience == aud.PARTNERS else []
            recipients = await remote_recipients(
                db, author, row.audience, mentioned, listed=listed, orgs=orgs
            )
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


async def post_by_uri(db: AsyncSession, uri: str) -> Post | None:
    return await db.scalar(select(Post).where(Post.uri == uri))
