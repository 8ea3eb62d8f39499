"""Search: accounts by name or handle, posts by words or address, hashtags by prefix.

Everything found goes through the same visibility rule as every other read path
(``audience.can_see``), so search never reveals a post its reader could not open.
Remote accounts and posts are fetched only when the caller asks to resolve (and is signed
in, as Mastodon requires), never for an anonymous visitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import FetchError, ValidationError
from federation.vocab import parse_object
from node import audience as aud
from node.accounts import visible_page
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Follow, Post, PostTag, User
from node.db.models.follows import ACCEPTED
from node.db.types import utcnow
from node.dbutil import insert_ignore
from node.errors import CercleError
from node.follows import Page
from node.posts import visible_posts
from node.remote_actors import get_or_fetch_actor, host_of, resolve_account
from node.remote_posts import POST_TYPES, _attachments, _tags  # shaped as inbox posts
from node.text import sanitize_html

#: Actor types that are people or groups a reader may look for (not the node's own
#: Application actor that signs key fetches).
SEARCHABLE_TYPES = ("Person", "Group", "Organization", "Service")


@dataclass
class Results:
    accounts: list[Actor] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def looks_like_handle(text: str) -> bool:
    """``user@host`` or ``@user@host``: something WebFinger can resolve."""
    parts = text.lstrip("@").split("@")
    return len(parts) == 2 and all(parts) and " " not in text


# --- accounts ---------------------------------------------------------------------


async def search_accounts(
    db: AsyncSession,
    query: str,
    *,
    limit: int,
    offset: int = 0,
    following_of: int | None = None,
) -> list[Actor]:
    """Accounts whose user name or display name contains ``query`` (or, for
    ``user@host``, that exact handle's user name on that host), exact user names first,
    then local accounts. Disabled local accounts are left out."""
    text = query.strip().lstrip("@").lower()
    if not text:
        return []
    username, _, host = text.partition("@")
    condition = (
        (func.lower(Actor.username) == username) & (func.lower(Actor.domain) == host)
        if host
        else or_(
            func.lower(Actor.username).like(_like(text), escape="\\"),
            func.lower(Actor.display_name).like(_like(text), escape="\\"),
        )
    )
    disabled = select(User.actor_id).where(User.disabled.is_(True))
    stmt = select(Actor).where(
        condition, Actor.type.in_(SEARCHABLE_TYPES), Actor.id.not_in(disabled)
    )
    if following_of is not None:
        stmt = stmt.where(
            Actor.id.in_(
                select(Follow.followee_id).where(
                    Follow.follower_id == following_of, Follow.state == ACCEPTED
                )
            )
        )
    stmt = (
        stmt.order_by(
            (func.lower(Actor.username) != username),
            Actor.local.desc(),
            Actor.username,
            Actor.id,
        )
        .offset(max(offset, 0))
        .limit(limit)
    )
    return list(await db.scalars(stmt))


async def resolve_remote_account(node: Node, query: str) -> Actor | None:
    """The account a handle or actor URL names, fetched if needs be; None when it cannot
    be found (search then simply has no such result)."""
    try:
        return await resolve_account(node, query.strip())
    except CercleError:
        return None


# --- posts ------------------------------------------------------------------------


async def search_posts(
    db: AsyncSession,
    viewer: Actor | None,
    query: str,
    *,
    limit: int,
    offset: int = 0,
    account_id: int | None = None,
    page: Page | None = None,
) -> list[Post]:
    """Posts containing ``query`` (a plain substring of their text, case-insensitive)
    that ``viewer`` may see, newest first. Boosts are not results: their original is."""
    text = query.strip().lower()
    if not text:
        return []
    stmt = select(Post).where(
        Post.deleted_at.is_(None),
        Post.reblog_of_id.is_(None),
        or_(
            func.lower(Post.content).like(_like(text), escape="\\"),
            func.lower(Post.summary).like(_like(text), escape="\\"),
        ),
    )
    if account_id is not None:
        stmt = stmt.where(Post.actor_id == account_id)
    base = page or Page()
    return await visible_page(
        db,
        viewer,
        stmt,
        Page(limit=limit, max_id=base.max_id, since_id=base.since_id, min_id=base.min_id),
        skip=max(offset, 0),
    )


async def post_at_url(db: AsyncSession, viewer: Actor | None, url: str) -> Post | None:
    """A stored post whose id or web address is ``url``, if ``viewer`` may see it."""
    post = await db.scalar(
        select(Post).where(or_(Post.uri == url, Post.url == url), Post.deleted_at.is_(None))
    )
    if post is None:
        return None
    visible = await visible_posts(db, viewer, [post])
    return visible[0] if visible else None


async def resolve_remote_post(node: Node, url: str) -> Post | None:
    """Fetch the post at ``url`` from its server and keep it, as Mastodon does when a
    reader pastes a post's address into search. Only a document served by the host
    that owns it, and attributed to an actor of that host, is accepted: anything else
    would let one server plant posts in another's name."""
    try:
        data = await node.require_fetcher().get_json(url)
        obj = parse_object(data)
    except (FetchError, ValidationError):
        return None
    if obj.type not in POST_TYPES or not obj.attributed_to:
        return None
    if host_of(obj.id) != host_of(url) or host_of(obj.attributed_to) != host_of(obj.id):
        return None
    try:
        author = await get_or_fetch_actor(node, obj.attributed_to)
    except FetchError:
        return None
    async with transaction(node) as db:
        existing = await db.scalar(select(Post).where(Post.uri == obj.id))
        if existing is not None:
            return existing
        published = obj.published or utcnow()
        post = Post(
            id=new_id(published),
            uri=obj.id,
            url=obj.url or obj.id,
            actor_id=author.id,
            local=False,
            type=obj.type,
            audience=aud.audience_from_addressing(
                [*obj.to, *obj.bto], [*obj.cc, *obj.bcc], followers_url=author.followers_url
            ),
            content=sanitize_html(obj.content or ""),
            summary=obj.summary or "",
            sensitive=bool(obj.sensitive),
            in_reply_to_uri=obj.in_reply_to,
            to=list(obj.to),
            cc=list(obj.cc),
            tags=_tags(obj),
            attachments=_attachments(obj),
            raw=dict(obj.raw),
            published=published,
        )
        db.add(post)
        await db.flush()
        # Indexed for tag search, but not streamed: it is an old post, not news.
        tags = sorted({t.lower().lstrip("#") for t in obj.hashtags if t})
        await insert_ignore(db, PostTag.__table__, [{"tag": t, "post_id": post.id} for t in tags])
    return post


# --- hashtags ---------------------------------------------------------------------


async def search_hashtags(
    db: AsyncSession, query: str, *, limit: int, offset: int = 0
) -> list[str]:
    """Hashtags in use that start with ``query`` (without its ``#``), the exact one first,
    then the most used."""
    text = query.strip().lstrip("#").lower()
    if not text or " " in text:
        return []
    prefix = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    uses = func.count(PostTag.post_id)
    stmt = (
        select(PostTag.tag)
        .where(PostTag.tag.like(prefix, escape="\\"))
        .group_by(PostTag.tag)
        .order_by(PostTag.tag != text, uses.desc(), PostTag.tag)
        .offset(max(offset, 0))
        .limit(limit)
    )
    return list(await db.scalars(stmt))


# --- everything at once (``/api/v2/search``) ----------------------------------------

TYPES = ("accounts", "statuses", "hashtags")


@dataclass(frozen=True)
class SearchRequest:
    query: str
    kinds: tuple[str, ...] = TYPES
    resolve: bool = False
    limit: int = 20
    offset: int = 0
    account_id: int | None = None
    following_only: bool = False
    page: Page = field(default_factory=Page)


async def search(node: Node, viewer: Actor | None, request: SearchRequest) -> Results:
    """Mastodon's ``/api/v2/search``: an address (handle or URL) finds that one thing,
    fetched from its server when ``resolve`` is set and a reader is signed in; other
    text searches names, post text and hashtags."""
    results = Results()
    text = request.query.strip()
    resolve = request.resolve and viewer is not None
    if is_url(text):
        await _search_url(node, viewer, text, request, resolve, results)
        return results
    if "accounts" in request.kinds:
        if resolve and looks_like_handle(text) and request.offset == 0:
            found = await resolve_remote_account(node, text)
            if found is not None:
                results.accounts.append(found)
        async with node.reads() as db:
            more = await search_accounts(
                db,
                text,
                limit=request.limit,
                offset=request.offset,
                following_of=viewer.id if viewer and request.following_only else None,
            )
        known = {a.id for a in results.accounts}
        results.accounts += [a for a in more if a.id not in known]
        results.accounts = results.accounts[: request.limit]
    async with node.reads() as db:
        if "statuses" in request.kinds and not looks_like_handle(text):
            results.posts = await search_posts(
                db,
                viewer,
                text,
                limit=request.limit,
                offset=request.offset,
                account_id=request.account_id,
                page=request.page,
            )
        if "hashtags" in request.kinds:
            results.hashtags = await search_hashtags(
                db, text, limit=request.limit, offset=request.offset
            )
    return results


async def _search_url(
    node: Node,
    viewer: Actor | None,
    url: str,
    request: SearchRequest,
    resolve: bool,
    results: Results,
) -> None:
    """A pasted address: the post or the account it names, known here or fetched."""
    if request.offset:
        return
    async with node.reads() as db:
        post = await post_at_url(db, viewer, url) if "statuses" in request.kinds else None
        actor = (
            await db.scalar(select(Actor).where(or_(Actor.uri == url, Actor.url == url)))
            if "accounts" in request.kinds
            else None
        )
    if post is None and actor is None and resolve:
        if "statuses" in request.kinds:
            fetched = await resolve_remote_post(node, url)
            if fetched is not None:
                async with node.reads() as db:
                    post = (await visible_posts(db, viewer, [fetched]) or [None])[0]
        if post is None and "accounts" in request.kinds:
            actor = await resolve_remote_account(node, url)
    if post is not None:
        results.posts.append(post)
    if actor is not None and actor.type in SEARCHABLE_TYPES:
        results.accounts.append(actor)
