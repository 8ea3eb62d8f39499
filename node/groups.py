"""Groups, Cercle's shared circles (DESIGN.md section 3): a Group actor people from any
node join, whose posts it relays to its members (FEP-1b12).

Membership is an accepted Follow of the Group actor, so every fediverse server knows how
to join (Follow), leave (Undo) and be let in (Accept) or refused (Reject); a request waits
for a group admin or moderator unless the person was invited. Staff (``GroupRole``) may be
on other nodes: a co-hosted group has moderators at partner firms, who act on it by
signed activities sent to the group (node/inbox/handlers/group_moderation.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import PUBLIC
from node.accounts import check_username, create_local_actor, local_actor_by_username
from node.ap.documents import respond_activity, with_context
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Follow, GroupInvitation, GroupRole, GroupSettings, Post
from node.db.models.follows import ACCEPTED, PENDING
from node.db.models.groups import ADMIN, MODERATOR
from node.db.types import utcnow
from node.delivery.queue import enqueue, inboxes_for
from node.errors import Conflict, Forbidden, Invalid, NotFound
from node.notifications import notify
from node.timelines import announce_deletion
from node.visibility import visible_posts

GROUP = "Group"
ROLES = (ADMIN, MODERATOR)


@dataclass(frozen=True)
class LocalGroup:
    actor: Actor
    members_only: bool


async def create_group(
    node: Node, creator: Actor, name: str, *, display_name: str = "", members_only: bool = True
) -> Actor:
    """A new group hosted here; its creator is its first admin and member."""
    username = check_username(name)
    async with transaction(node) as db:
        if await local_actor_by_username(db, username) is not None:
            raise Conflict(f"the name {username} is taken")
        group = await create_local_actor(
            node,
            db,
            username=username,
            actor_type=GROUP,
            uri=node.urls.group(username),
            display_name=display_name.strip() or username,
            profile_url=node.urls.profile(username),
            locked=True,
        )
        db.add(
            GroupSettings(actor_id=group.id, members_only=members_only, created_by_id=creator.id)
        )
        db.add(GroupRole(group_id=group.id, actor_id=creator.id, role=ADMIN))
        db.add(
            Follow(
                follower_id=creator.id,
                followee_id=group.id,
                state=ACCEPTED,
                activity_uri=f"{creator.uri}#joins/{new_id()}",
            )
        )
    return group


async def local_group(db: AsyncSession, group_id: int) -> LocalGroup:
    row = (
        await db.execute(
            select(Actor, GroupSettings)
            .join(GroupSettings, GroupSettings.actor_id == Actor.id)
            .where(Actor.id == group_id, Actor.local.is_(True))
        )
    ).first()
    if row is None:
        raise NotFound("no such group here")
    return LocalGroup(row[0], row[1].members_only)


async def group_settings(db: AsyncSession, group_id: int) -> GroupSettings | None:
    return await db.get(GroupSettings, group_id)


async def role_of(db: AsyncSession, group_id: int, actor_id: int) -> str | None:
    return await db.scalar(
        select(GroupRole.role).where(GroupRole.group_id == group_id, GroupRole.actor_id == actor_id)
    )


async def require_staff(db: AsyncSession, group_id: int, actor: Actor) -> str:
    role = await role_of(db, group_id, actor.id)
    if role is None:
        raise Forbidden("only the group's admins and moderators may do this")
    return role


async def is_member(db: AsyncSession, group_id: int, actor_id: int) -> bool:
    return bool(
        await db.scalar(
            select(Follow.id).where(
                Follow.followee_id == group_id,
                Follow.follower_id == actor_id,
                Follow.state == ACCEPTED,
            )
        )
    )


async def members(db: AsyncSession, group_id: int) -> list[Actor]:
    return list(
        await db.scalars(
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .where(Follow.followee_id == group_id, Follow.state == ACCEPTED)
            .order_by(Actor.id)
        )
    )


async def pending_requests(db: AsyncSession, group_id: int) -> list[Actor]:
    return list(
        await db.scalars(
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .where(Follow.followee_id == group_id, Follow.state == PENDING)
            .order_by(Follow.id)
        )
    )


async def is_invited(db: AsyncSession, group_id: int, actor_id: int) -> bool:
    return bool(
        await db.scalar(
            select(GroupInvitation.actor_id).where(
                GroupInvitation.group_id == group_id, GroupInvitation.actor_id == actor_id
            )
        )
    )


async def can_read_members(db: AsyncSession, group_id: int, viewer: Actor | None) -> bool:
    """The member list of a members-only group is for its members."""
    settings = await group_settings(db, group_id)
    if settings is None or not settings.members_only:
        return True
    return viewer is not None and await is_member(db, group_id, viewer.id)


async def decide_request(
    node: Node, group_id: int, staff: Actor, member: Actor, *, accept: bool
) -> None:
    """A group admin or moderator lets a requester in, or refuses them (Accept / Reject
    from the Group actor, as for a locked account)."""
    async with transaction(node) as db:
        group = (await local_group(db, group_id)).actor
        await require_staff(db, group.id, staff)
        row = await db.scalar(
            select(Follow).where(Follow.followee_id == group.id, Follow.follower_id == member.id)
        )
        if row is None or row.state != PENDING:
            raise NotFound(f"no pending request from {member.handle}")
        firm_staff = (await staff_domains(db, group.id)).get(member.domain)
        if accept and firm_staff and staff.domain != member.domain:
            raise Forbidden(f"people of {member.domain} are let in by their own firm's moderators")
        await answer_request(node, db, group, member, row, accept=accept)
    node.delivery_wakeup.set()


async def answer_request(
    node: Node, db: AsyncSession, group: Actor, member: Actor, row: Follow, *, accept: bool
) -> None:
    if accept:
        row.state = ACCEPTED
    else:
        await db.delete(row)
    if not member.local:
        activity = respond_activity(
            node.urls, "Accept" if accept else "Reject", group, row.activity_uri, member.uri
        )
        await enqueue(db, sender=group, activity=activity, inboxes=[member.inbox])
    elif accept:
        await notify(db, owner=member, kind="follow", from_actor_id=group.id)


async def remove_member(node: Node, group_id: int, staff: Actor, member: Actor) -> None:
    async with transaction(node) as db:
        group = (await local_group(db, group_id)).actor
        await remove_member_in(node, db, group, staff, member)
    node.delivery_wakeup.set()


async def remove_member_in(
    node: Node, db: AsyncSession, group: Actor, staff: Actor, member: Actor
) -> None:
    """In an open transaction: ``staff`` (local, or a remote moderator whose signed
    Remove the inbox verified) takes ``member`` out of the group."""
    await require_staff(db, group.id, staff)
    if await role_of(db, group.id, member.id) == ADMIN and staff.id != member.id:
        raise Forbidden("an admin of the group cannot be removed by someone else")
    row = await db.scalar(
        select(Follow).where(Follow.followee_id == group.id, Follow.follower_id == member.id)
    )
    if row is None:
        raise NotFound(f"{member.handle} is not a member")
    await db.delete(row)
    await db.execute(
        delete(GroupRole).where(GroupRole.group_id == group.id, GroupRole.actor_id == member.id)
    )
    await db.execute(
        delete(GroupInvitation).where(
            GroupInvitation.group_id == group.id, GroupInvitation.actor_id == member.id
        )
    )
    if not member.local:
        # As Mastodon removes a follower: a Reject of their Follow.
        activity = respond_activity(node.urls, "Reject", group, row.activity_uri, member.uri)
        await enqueue(db, sender=group, activity=activity, inboxes=[member.inbox])


async def invite(node: Node, group_id: int, staff: Actor, people: Sequence[Actor]) -> int:
    """Invite people (local or remote) to join: their Follow is then accepted at once,
    and a pending request of theirs is accepted now. Remote people get an AS2 Invite."""
    if not people:
        raise Invalid("choose whom to invite")
    invited = 0
    async with transaction(node) as db:
        group = (await local_group(db, group_id)).actor
        await require_staff(db, group.id, staff)
        for person in people:
            if person.type == GROUP or person.id == group.id:
                raise Invalid(f"{person.handle} is a group, not a person")
            if await is_member(db, group.id, person.id):
                continue
            if not await is_invited(db, group.id, person.id):
                db.add(
                    GroupInvitation(group_id=group.id, actor_id=person.id, invited_by_id=staff.id)
                )
                invited += 1
            pending = await db.scalar(
                select(Follow).where(
                    Follow.followee_id == group.id,
                    Follow.follower_id == person.id,
                    Follow.state == PENDING,
                )
            )
            if pending is not None:
                await answer_request(node, db, group, person, pending, accept=True)
            elif person.local:
                await notify(db, owner=person, kind="group_invite", from_actor_id=group.id)
            else:
                await enqueue(
                    db,
                    sender=group,
                    activity=invite_activity(group, staff, person),
                    inboxes=[person.inbox],
                )
    node.delivery_wakeup.set()
    return invited


def invite_activity(group: Actor, staff: Actor, person: Actor) -> dict[str, Any]:
    return with_context(
        {
            "id": f"{group.uri}#invites/{new_id()}",
            "type": "Invite",
            "actor": group.uri,
            "object": group.uri,
            "target": person.uri,
            "to": [person.uri],
            "attributedTo": staff.uri,
        }
    )


async def set_role(
    node: Node, group_id: int, admin: Actor, person: Actor, role: str | None
) -> None:
    """Make a member (of any node: a partner firm's moderator co-hosts the group) an admin
    or moderator, or take the role away (``None``)."""
    if role is not None and role not in ROLES:
        raise Invalid(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    async with transaction(node) as db:
        group = (await local_group(db, group_id)).actor
        if await role_of(db, group.id, admin.id) != ADMIN:
            raise Forbidden("only the group's admins may give roles")
        if role is not None and not await is_member(db, group.id, person.id):
            raise Invalid(f"{person.handle} must be a member first")
        row = await db.get(GroupRole, (group.id, person.id))
        if role is None:
            if row is not None:
                await db.delete(row)
        elif row is None:
            db.add(GroupRole(group_id=group.id, actor_id=person.id, role=role))
        else:
            row.role = role


async def staff_domains(db: AsyncSession, group_id: int) -> dict[str, list[Actor]]:
    """Remote staff by domain: for a co-hosted group, the firms whose moderators approve
    their own people's requests."""
    rows = await db.scalars(
        select(Actor)
        .join(GroupRole, GroupRole.actor_id == Actor.id)
        .where(GroupRole.group_id == group_id, Actor.local.is_(False))
    )
    found: dict[str, list[Actor]] = {}
    for actor in rows:
        found.setdefault(actor.domain, []).append(actor)
    return found


def announce_document(
    group: Actor, inner: dict[str, Any] | str, *, members_only: bool
) -> dict[str, Any]:
    """The Group's Announce of an activity (FEP-1b12): to its members, and to the public
    too when its posts are public."""
    return with_context(
        {
            "id": f"{group.uri}/announces/{new_id()}",
            "type": "Announce",
            "actor": group.uri,
            "object": inner,
            "to": [group.followers_url],
            "cc": [] if members_only else [PUBLIC],
            "audience": group.uri,
            "published": utcnow().isoformat().replace("+00:00", "Z"),
        }
    )


async def relay(
    db: AsyncSession,
    group: Actor,
    inner: dict[str, Any] | str,
    *,
    members_only: bool,
    skip_domains: Sequence[str] = (),
) -> int:
    """Queue the group's Announce of ``inner`` to its remote members: one delivery per
    shared inbox. ``skip_domains``: servers that have it already (the author's)."""
    remote = [
        m for m in await members(db, group.id) if not m.local and m.domain not in skip_domains
    ]
    inboxes = inboxes_for(remote)
    if inboxes:
        await enqueue(
            db,
            sender=group,
            activity=announce_document(group, inner, members_only=members_only),
            inboxes=inboxes,
        )
    return len(inboxes)


def remove_document(group: Actor, post_uri: str) -> dict[str, Any]:
    """The group takes a post out of itself (Lemmy's and FEP-1b12's moderation shape)."""
    return with_context(
        {
            "id": f"{group.uri}#removes/{new_id()}",
            "type": "Remove",
            "actor": group.uri,
            "object": post_uri,
            "target": group.uri,
            "to": [group.followers_url],
            "audience": group.uri,
        }
    )


async def remove_post_in(
    node: Node, db: AsyncSession, group: Actor, staff: Actor, post: Post
) -> None:
    """In an open transaction: a group admin or moderator removes a post from the group;
    every member's server is told to drop it."""
    await require_staff(db, group.id, staff)
    if post.group_id != group.id:
        raise NotFound("that post is not in this group")
    if post.deleted_at is None:
        post.deleted_at = utcnow()
        await announce_deletion(db, post)
    remote = [m for m in await members(db, group.id) if not m.local]
    author = await db.get(Actor, post.actor_id)
    if author is not None and not author.local:
        remote.append(author)
    inboxes = inboxes_for(remote)
    if inboxes:
        await enqueue(db, sender=group, activity=remove_document(group, post.uri), inboxes=inboxes)


async def remove_post(node: Node, group_id: int, staff: Actor, post_id: int) -> None:
    async with transaction(node) as db:
        group = (await local_group(db, group_id)).actor
        post = await db.get(Post, post_id)
        if post is None:
            raise NotFound("no such post")
        await remove_post_in(node, db, group, staff, post)
    node.delivery_wakeup.set()


async def mentioned_group(
    db: AsyncSession, author: Actor, mentioned: Sequence[Actor]
) -> Actor | None:
    """The first group among ``mentioned`` that ``author`` belongs to: mentioning a group
    is how any fediverse client posts to it."""
    for actor in mentioned:
        if actor.type == GROUP and await is_member(db, actor.id, author.id):
            return actor
    return None


async def groups_of(db: AsyncSession, actor_id: int) -> list[Actor]:
    """The groups (here or elsewhere) ``actor_id`` is a member of."""
    return list(
        await db.scalars(
            select(Actor)
            .join(Follow, Follow.followee_id == Actor.id)
            .where(
                Follow.follower_id == actor_id,
                Follow.state == ACCEPTED,
                Actor.type == GROUP,
            )
            .order_by(Actor.username)
        )
    )


async def group_posts(
    db: AsyncSession, group_id: int, viewer: Actor | None, *, limit: int = 40
) -> list[Post]:
    """The newest posts of a group that ``viewer`` may see (the one visibility rule)."""
    rows = list(
        await db.scalars(
            select(Post)
            .where(Post.group_id == group_id, Post.deleted_at.is_(None))
            .order_by(Post.id.desc())
            .limit(limit)
        )
    )
    return await visible_posts(db, viewer, rows)
