"""Creating a node: schema, the firm's Organization actor, the node's Application actor,
the first admin. Idempotent: a second run finds the node and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import create_local_actor, create_user
from node.context import Node, transaction
from node.db.migrate import upgrade
from node.db.models import Actor, NodeSetting
from node.urls import ORG_USERNAME

INITIALISED_KEY = "initialised_domain"


@dataclass(frozen=True)
class InitResult:
    created: bool
    domain: str


async def node_domain(db: AsyncSession) -> str | None:
    return await db.scalar(select(NodeSetting.value).where(NodeSetting.key == INITIALISED_KEY))


async def initialise(
    node: Node, *, admin: str, password: str, org_name: str | None = None, email: str | None = None
) -> InitResult:
    await upgrade(node.engine)
    async with transaction(node) as db:
        existing = await node_domain(db)
        if existing is not None:
            return InitResult(created=False, domain=existing)
        await create_local_actor(
            node,
            db,
            username=ORG_USERNAME,
            actor_type="Organization",
            uri=node.urls.org(),
            display_name=org_name or node.settings.org_name,
            profile_url=node.urls.org(),
            locked=True,
        )
        await create_local_actor(
            node,
            db,
            username=node.settings.domain,
            actor_type="Application",
            uri=node.urls.app_actor(),
            display_name=node.settings.domain,
            profile_url=node.settings.base_url + "/",
            locked=True,
        )
        await create_user(node, db, username=admin, password=password, email=email, admin=True)
        db.add(NodeSetting(key=INITIALISED_KEY, value=node.settings.domain))
        db.add(NodeSetting(key="org_name", value=org_name or node.settings.org_name))
    return InitResult(created=True, domain=node.settings.domain)


async def app_actor(db: AsyncSession, node: Node) -> Actor | None:
    return await db.scalar(select(Actor).where(Actor.uri == node.urls.app_actor()))


async def org_actor(db: AsyncSession, node: Node) -> Actor | None:
    return await db.scalar(select(Actor).where(Actor.uri == node.urls.org()))
