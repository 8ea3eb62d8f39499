"""Who may moderate: admins and moderators, as Mastodon's Moderator role may handle
reports and act on accounts (``manage_reports``, ``manage_users``)."""

from __future__ import annotations

from sqlalchemy import select

from node.admin_users import ADMIN, MODERATOR, role_of
from node.context import Node
from node.db.models import User
from node.errors import Forbidden


async def can_moderate(node: Node, user: User | None) -> bool:
    if user is None or user.disabled:
        return False
    return await role_of(node, user) in (ADMIN, MODERATOR)


async def require_moderator(node: Node, user_id: int | None) -> User:
    """The acting user, if an admin or moderator; Forbidden otherwise (Mastodon's 403)."""
    async with node.reads() as db:
        user = await db.scalar(select(User).where(User.id == user_id)) if user_id else None
    if user is None or not await can_moderate(node, user):
        raise Forbidden("This action is not allowed")
    return user
