"""Local accounts and the local actors behind them (Person, Organization, Application)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.ap.documents import update_actor_activity
from node.context import Node, transaction
from node.db.models import Actor, Block, MediaAttachment, Pin, Post, PostTag, User
from node.delivery.queue import enqueue, inboxes_for
from node.errors import Conflict, Invalid, NotFound
from node.follows import Page, accept_all_pending, follower_actors
from node.identity.audit import record_audit
from node.keys import new_actor_keys
from node.passwords import hash_password
from node.text import render_text
from node.urls import RESERVED_USERNAMES
from node.visibility import visible_posts

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
MIN_PASSWORD_LENGTH = 8


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise Invalid(f"invalid user name {username!r}: use 1-30 letters, digits or _")
    if name in RESERVED_USERNAMES:
        raise Invalid(f"user name {name!r} is reserved")
    return name


async def create_local_actor(
    node: Node,
    db: AsyncSession,
    *,
    username: str,
    actor_type: str,
    uri: str,
    display_name: str = "",
    summary: str = "",
    profile_url: str | None = None,
    locked: bool = False,
) -> Actor:
    keys = new_actor_keys()
    actor = Actor(
        uri=uri,
        local=True,
        type=actor_type,
        username=username,
        domain=node.settings.domain,
        display_name=display_name,
        summary=summary,
        inbox=f"{uri}/inbox",
        outbox=f"{uri}/outbox",
        followers_url=f"{uri}/followers",
        following_url=f"{uri}/following",
        shared_inbox=node.urls.shared_inbox(),
        url=profile_url or uri,
        public_key_id=f"{uri}#main-key",
        public_key_pem=keys.public_key_pem,
        private_key_pem=keys.private_key_pem,
        ed25519_public_multibase=keys.ed25519_public_multibase,
        ed25519_private_pem=keys.ed25519_private_pem,
        manually_approves=locked,
    )
    db.add(actor)
    await db.flush()
    return actor


async def create_user(
    node: Node,
    db: AsyncSession,
    *,
    username: str,
    password: str,
    email: str | None = None,
    admin: bool = False,
    display_name: str = "",
) -> User:
    name = check_username(username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if email is not None and "@" not in email:
        raise Invalid(f"invalid e-mail address {email!r}")
    if await local_actor_by_username(db, name) is not None:
        raise Conflict(f"user {name} already exists")
    if email and await db.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"e-mail address {email} is already used")
    actor = await create_local_actor(
        node,
        db,
        username=name,
        actor_type="Person",
        uri=node.urls.user(name),
        display_name=display_name or name.capitalize(),
        profile_url=node.urls.profile(name),
    )
    user = User(
        actor_id=actor.id, email=email, password_hash=hash_password(password), is_admin=admin
    )
    db.add(user)
    await db.flush()
    record_audit(db, "user.created", target=name, detail={"admin": admin})
    return user


async def local_actor_by_username(db: AsyncSession, username: str) -> Actor | None:
    return await db.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == username.lower())
    )


async def require_user_actor(db: AsyncSession, username: str) -> tuple[User, Actor]:
    """The enabled account named ``username``, or NotFound with a clear message."""
    row = (
        await db.execute(
            select(User, Actor)
            .join(Actor, Actor.id == User.actor_id)
            .where(Actor.username == username.lower(), Actor.local.is_(True))
        )
    ).first()
    if row is None:
        raise NotFound(f"unknown user {username!r}")
    user, actor = row
    if user.disabled:
        raise NotFound(f"user {username!r} is disabled")
    return user, actor


async def list_users(db: AsyncSession) -> list[tuple[User, Actor]]:
    rows = await db.execute(
        select(User, Actor).join(Actor, Actor.id == User.actor_id).order_by(Actor.username)
    )
    return [(u, a) for u, a in rows.all()]


async def set_disabled(db: AsyncSession, username: str, disabled: bool = True) -> User:
    row = (
        await db.execute(
            select(User).join(Actor, Actor.id == User.actor_id).where(Actor.username == username)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"unknown user {username!r}")
    if row.disabled != disabled:
        record_audit(db, "user.suspended" if disabled else "user.reactivated", target=username)
    row.disabled = disabled
    return row


async def count_users(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(User)) or 0)


# --- profiles edited through the client API ----------------------------------------

MAX_DISPLAY_NAME = 30
MAX_NOTE = 500
#: Where a local actor keeps what its owner typed (the bio as plain text) and its header
#: image: ``raw`` holds the peer's document for remote actors and is free for local ones.
SOURCE_KEY = "cercle:source"


def profile_source_note(actor: Actor) -> str:
    """The bio as its owner typed it, for editing (Mastodon's ``source.note``)."""
    source = (actor.raw or {}).get(SOURCE_KEY) if actor.local else None
    if isinstance(source, dict) and isinstance(source.get("note"), str):
        return source["note"]
    return html_to_text(actor.summary or "")


def html_to_text(content: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", content)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


@dataclass(frozen=True)
class ProfileChange:
    """What ``update_credentials`` asked to change; ``None`` leaves a field as it is."""

    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    discoverable: bool | None = None
    avatar_url: str | None = None
    header_url: str | None = None


def _check_profile(change: ProfileChange) -> None:
    if change.display_name is not None and len(change.display_name) > MAX_DISPLAY_NAME:
        raise Invalid(f"display name is too long (at most {MAX_DISPLAY_NAME} characters)")
    if change.note is not None and len(change.note) > MAX_NOTE:
        raise Invalid(f"note is too long (at most {MAX_NOTE} characters)")


async def update_profile(node: Node, actor_id: int, change: ProfileChange) -> Actor:
    """Apply a profile change and tell followers' servers (an ``Update`` of the actor),
    in one transaction. The bio is typed as plain text and published as HTML paragraphs,
    as Mastodon does; the typed text is kept for the next edit. Unlocking an account
    approves the requests waiting for it."""
    _check_profile(change)
    async with transaction(node) as db:
        actor = await db.get(Actor, actor_id)
        if actor is None or not actor.local:
            raise NotFound("no such local account")
        raw = dict(actor.raw or {})
        if change.display_name is not None:
            actor.display_name = change.display_name.strip()
        if change.note is not None:
            actor.summary = render_text(
                change.note, mention_urls={}, tag_url=f"{node.settings.base_url}/tags/"
            )
            raw[SOURCE_KEY] = {**raw.get(SOURCE_KEY, {}), "note": change.note}
        if change.discoverable is not None:
            actor.discoverable = change.discoverable
        if change.avatar_url is not None:
            actor.avatar_url = change.avatar_url
        if change.header_url is not None:
            raw["image"] = {"type": "Image", "url": change.header_url}
        actor.raw = raw
        if change.locked is not None:
            was_locked = actor.manually_approves
            actor.manually_approves = change.locked
            if was_locked and not change.locked:
                await accept_all_pending(node, db, actor)
        await db.flush()
        followers = await follower_actors(db, actor.id)
        await enqueue(
            db,
            sender=actor,
            activity=update_actor_activity(node.urls, actor),
            inboxes=inboxes_for(followers),
        )
    node.delivery_wakeup.set()
    return actor


# --- reading an account's posts ------------------------------------------------------


#: How many rows one page may examine before giving up on finding more visible posts:
#: bounds the work when most of an account's posts are hidden from the viewer.
MAX_SCANNED_BATCHES = 10


async def visible_page(
    db: AsyncSession,
    viewer: Actor | None,
    query: Select[tuple[Post]],
    page: Page,
    *,
    skip: int = 0,
) -> list[Post]:
    """A page of ``query``'s posts that ``viewer`` may see, newest first, paged by post
    id. Invisible posts are dropped before counting, so a page is full whenever enough
    visible posts exist; ``skip`` drops that many visible posts first (search offsets)."""
    lows = [x for x in (page.min_id, page.since_id) if x is not None]
    lower = max(lows) if lows else None
    upper = page.max_id
    ascending = page.min_id is not None
    wanted = page.limit + skip
    batch = max(wanted * 2, 20)
    found: list[Post] = []
    for _ in range(MAX_SCANNED_BATCHES):
        q = query
        if upper is not None:
            q = q.where(Post.id < upper)
        if lower is not None:
            q = q.where(Post.id > lower)
        q = q.order_by(Post.id.asc() if ascending else Post.id.desc()).limit(batch)
        rows = list(await db.scalars(q))
        found += await visible_posts(db, viewer, rows)
        if len(rows) < batch or len(found) >= wanted:
            break
        if ascending:
            lower = rows[-1].id
        else:
            upper = rows[-1].id
    found = found[skip:wanted]
    return found[::-1] if ascending else found


@dataclass(frozen=True)
class PostFilter:
    """``GET /api/v1/accounts/:id/statuses`` filters."""

    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    pinned: bool = False
    tagged: str | None = None


async def account_posts(
    db: AsyncSession, viewer: Actor | None, account: Actor, filters: PostFilter, page: Page
) -> list[Post]:
    """An account's posts and boosts as ``viewer`` may see them; nothing at all when the
    account blocks the viewer (as Mastodon answers)."""
    if viewer is not None and await db.scalar(
        select(Block.id).where(Block.blocker_id == account.id, Block.blocked_id == viewer.id)
    ):
        return []
    query = select(Post).where(Post.actor_id == account.id, Post.deleted_at.is_(None))
    if filters.exclude_replies:
        own = select(Post.id).where(Post.actor_id == account.id)
        # Replies to oneself (threads) stay, as in Mastodon.
        query = query.where(or_(Post.in_reply_to_uri.is_(None), Post.in_reply_to_id.in_(own)))
    if filters.exclude_reblogs:
        query = query.where(Post.reblog_of_id.is_(None))
    if filters.only_media:
        has_upload = exists().where(MediaAttachment.post_id == Post.id)
        query = query.where(or_(has_upload, func.json_array_length(Post.attachments) > 0))
    if filters.pinned:
        query = query.where(Post.id.in_(select(Pin.post_id).where(Pin.actor_id == account.id)))
    if filters.tagged:
        tag = filters.tagged.lstrip("#").lower()
        query = query.where(Post.id.in_(select(PostTag.post_id).where(PostTag.tag == tag)))
    return await visible_page(db, viewer, query, page)


async def actor_by_id(db: AsyncSession, actor_id: int) -> Actor:
    """An account by its API id; a local account that is disabled is not found."""
    actor = await db.get(Actor, actor_id)
    if actor is None:
        raise NotFound("Record not found")
    if actor.local:
        disabled = await db.scalar(select(User.disabled).where(User.actor_id == actor.id))
        if disabled:
            raise NotFound("Record not found")
    return actor
