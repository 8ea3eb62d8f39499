"""Lists: private groupings of followed accounts, each with its own timeline.

A list holds only accounts its owner follows or asked to follow (or the owner itself), as
in Mastodon: a list timeline is made of posts that reach the owner anyway, so a list can
never be used to read what the owner could not otherwise see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node, transaction
from node.db.models import Actor, Follow, ListMember, UserList
from node.errors import Invalid, NotFound
from node.follows import Page, fetch_page

REPLIES_POLICIES = ("followed", "list", "none")
MAX_TITLE = 255


def _check(title: str | None, replies_policy: str | None) -> None:
    if title is not None and not title.strip():
        raise Invalid("title can't be blank")
    if title is not None and len(title) > MAX_TITLE:
        raise Invalid(f"title is too long (at most {MAX_TITLE} characters)")
    if replies_policy is not None and replies_policy not in REPLIES_POLICIES:
        raise Invalid(f"replies_policy must be one of {', '.join(REPLIES_POLICIES)}")


async def owned_lists(db: AsyncSession, owner_id: int) -> list[UserList]:
    return list(
        await db.scalars(
            select(UserList).where(UserList.owner_id == owner_id).order_by(UserList.id)
        )
    )


async def owned_list(db: AsyncSession, owner_id: int, list_id: int) -> UserList:
    """The list, if ``owner_id`` owns it; another owner's list is as unknown as a missing one."""
    row = await db.get(UserList, list_id)
    if row is None or row.owner_id != owner_id:
        raise NotFound("Record not found")
    return row


async def create_list(
    node: Node,
    owner: Actor,
    title: str,
    *,
    replies_policy: str = "list",
    exclusive: bool = False,
) -> UserList:
    _check(title, replies_policy)
    async with transaction(node) as db:
        row = UserList(
            owner_id=owner.id,
            title=title.strip(),
            replies_policy=replies_policy,
            exclusive=exclusive,
        )
        db.add(row)
        await db.flush()
    return row


async def update_list(
    node: Node,
    owner: Actor,
    list_id: int,
    *,
    title: str | None = None,
    replies_policy: str | None = None,
    exclusive: bool | None = None,
) -> UserList:
    """Change what is given; ``None`` leaves a field as it is."""
    _check(title, replies_policy)
    async with transaction(node) as db:
        row = await owned_list(db, owner.id, list_id)
        if title is not None:
            row.title = title.strip()
        if replies_policy is not None:
            row.replies_policy = replies_policy
        if exclusive is not None:
            row.exclusive = exclusive
    return row


async def delete_list(node: Node, owner: Actor, list_id: int) -> None:
    async with transaction(node) as db:
        row = await owned_list(db, owner.id, list_id)
        await db.execute(delete(ListMember).where(ListMember.list_id == row.id))
        await db.delete(row)


async def add_members(node: Node, owner: Actor, list_id: int, actor_ids: Iterable[int]) -> None:
    """Add accounts the owner follows (or has asked to follow); anything else is refused
    with the account named, and nothing is added."""
    ids = list(dict.fromkeys(actor_ids))
    if not ids:
        raise Invalid("account_ids can't be blank")
    async with transaction(node) as db:
        row = await owned_list(db, owner.id, list_id)
        actors = {a.id: a for a in await db.scalars(select(Actor).where(Actor.id.in_(ids)))}
        missing = [i for i in ids if i not in actors]
        if missing:
            raise NotFound("Record not found")
        followed = set(
            await db.scalars(
                select(Follow.followee_id).where(
                    Follow.follower_id == owner.id, Follow.followee_id.in_(ids)
                )
            )
        )
        present = set(
            await db.scalars(
                select(ListMember.actor_id).where(
                    ListMember.list_id == row.id, ListMember.actor_id.in_(ids)
                )
            )
        )
        for actor_id in ids:
            actor = actors[actor_id]
            if actor_id != owner.id and actor_id not in followed:
                raise Invalid(f"you must follow {_acct(actor)} to add it to a list")
            if actor_id in present:
                raise Invalid(f"{_acct(actor)} is already in this list")
            db.add(ListMember(list_id=row.id, actor_id=actor_id))


async def remove_members(node: Node, owner: Actor, list_id: int, actor_ids: Iterable[int]) -> None:
    """Remove accounts; those not in the list are ignored."""
    ids = list(dict.fromkeys(actor_ids))
    async with transaction(node) as db:
        row = await owned_list(db, owner.id, list_id)
        if ids:
            await db.execute(
                delete(ListMember).where(ListMember.list_id == row.id, ListMember.actor_id.in_(ids))
            )


async def members_page(db: AsyncSession, list_id: int, page: Page) -> list[Row[Any]]:
    """``(actor id, actor)`` rows of a list, paged by account id (members have no row id)."""
    query = (
        select(ListMember.actor_id, Actor)
        .join(Actor, Actor.id == ListMember.actor_id)
        .where(ListMember.list_id == list_id)
    )
    return await fetch_page(db, query, ListMember.actor_id, page)


async def list_member_ids(db: AsyncSession, list_id: int) -> list[int]:
    """Account ids of a list: what the list timeline reads posts from."""
    return list(await db.scalars(select(ListMember.actor_id).where(ListMember.list_id == list_id)))


async def lists_containing(db: AsyncSession, owner_id: int, actor_id: int) -> list[UserList]:
    """The owner's lists that hold ``actor_id`` (``GET /api/v1/accounts/:id/lists``)."""
    return list(
        await db.scalars(
            select(UserList)
            .join(ListMember, ListMember.list_id == UserList.id)
            .where(UserList.owner_id == owner_id, ListMember.actor_id == actor_id)
            .order_by(UserList.id)
        )
    )


async def drop_from_lists(db: AsyncSession, owner_id: int, actor_id: int) -> None:
    """Take ``actor_id`` out of every list of ``owner_id`` (after an unfollow or a block),
    in the caller's transaction."""
    await db.execute(
        delete(ListMember).where(
            ListMember.actor_id == actor_id,
            ListMember.list_id.in_(select(UserList.id).where(UserList.owner_id == owner_id)),
        )
    )


def _acct(actor: Actor) -> str:
    return actor.username if actor.local else actor.handle
