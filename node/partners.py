"""Partnerships between firms (DESIGN.md section 4): a mutual follow of the two nodes'
Organization actors. A partnership is active once both follows are accepted; ending it
removes both, which stops partners posts in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import FetchError
from node.bootstrap import org_actor
from node.context import Node, transaction
from node.db.models import Actor, Partnership
from node.db.models.follows import ACCEPTED
from node.db.models.partners import ACTIVE, ENDED, PROPOSED, REFUSED, REQUESTED
from node.db.types import utcnow
from node.errors import CercleError, Invalid, NotFound
from node.follows import find_follow, follow, respond, unfollow
from node.identity.audit import record_audit
from node.policy import POLICY_CHANGED
from node.remote_actors import get_or_fetch_actor, resolve_account
from node.settings import host_is_loopback


@dataclass(frozen=True)
class PartnerView:
    domain: str
    state: str
    organisation: str
    name: str


async def our_org(node: Node, db: AsyncSession) -> Actor:
    org = await org_actor(db, node)
    if org is None:
        raise CercleError("this node has no Organization actor: run `cercle init`")
    return org


async def discover_org(node: Node, target: str) -> Actor:
    """The Organization actor of another node, from its domain, a handle or an actor URL.

    From a domain alone: NodeInfo's ``metadata.organization.actor`` (what Cercle nodes
    publish), else WebFinger ``acct:org@domain``. Anything that is not an Organization
    actor is refused: partnerships are between Cercle firms.
    """
    text = target.strip()
    if not text:
        raise Invalid("give the partner's domain, the handle or the URL of its organisation")
    if text.startswith(("http://", "https://")) or "@" in text:
        actor = await resolve_account(node, text)
    else:
        actor = await _org_from_domain(node, text.lower().rstrip("/"))
    if actor.type != "Organization":
        raise Invalid(f"{actor.uri} is a {actor.type}, not a firm's Organization actor")
    if actor.local:
        raise Invalid("a node cannot be its own partner")
    return actor


async def _org_from_domain(node: Node, domain: str) -> Actor:
    scheme = "http" if node.settings.dev and host_is_loopback(domain) else "https"
    fetcher = node.require_fetcher()
    try:
        links = await fetcher.get_json(f"{scheme}://{domain}/.well-known/nodeinfo", signed=False)
        href = next(
            (link["href"] for link in links.get("links", []) if "nodeinfo" in str(link.get("rel"))),
            None,
        )
        info = await fetcher.get_json(href, signed=False) if href else {}
        org = ((info.get("metadata") or {}).get("organization") or {}).get("actor")
    except (FetchError, KeyError, TypeError, AttributeError) as exc:
        raise CercleError(f"{domain} does not look like an ActivityPub server: {exc}") from exc
    if isinstance(org, str):
        try:
            return await get_or_fetch_actor(node, org)
        except FetchError as exc:
            raise CercleError(f"cannot fetch the organisation of {domain}: {exc.reason}") from exc
    try:
        return await resolve_account(node, f"org@{domain}")
    except CercleError as exc:
        raise CercleError(f"{domain} is not a Cercle node (no Organization actor found)") from exc


async def _partnership(db: AsyncSession, domain: str) -> Partnership | None:
    return await db.scalar(select(Partnership).where(Partnership.domain == domain.lower()))


async def _set_state(db: AsyncSession, org: Actor, state: str) -> Partnership:
    row = await _partnership(db, org.domain)
    if row is None:
        row = Partnership(domain=org.domain, org_actor_id=org.id, state=state)
        db.add(row)
    row.state = state
    row.org_actor_id = org.id
    row.updated_at = utcnow()
    db.info[POLICY_CHANGED] = True  # partners mode talks to partners: its list changed
    return row


async def sync_state(db: AsyncSession, ours: Actor, theirs: Actor) -> str | None:
    """Recompute a partnership from the two follows: called after every Follow, Accept,
    Reject or Undo between the two Organization actors."""
    row = await _partnership(db, theirs.domain)
    out = await find_follow(db, ours.id, theirs.id)
    back = await find_follow(db, theirs.id, ours.id)
    if out is not None and back is not None and out.state == ACCEPTED and back.state == ACCEPTED:
        return (await _set_state(db, theirs, ACTIVE)).state
    if back is not None and back.state != ACCEPTED:
        if out is not None:  # we proposed too: the other side asked back, accept it
            return (await _set_state(db, theirs, PROPOSED)).state
        return (await _set_state(db, theirs, REQUESTED)).state
    if out is not None:
        return (await _set_state(db, theirs, PROPOSED)).state
    if row is not None and row.state in (ACTIVE, PROPOSED, REQUESTED):
        row.state = ENDED
        row.updated_at = utcnow()
        db.info[POLICY_CHANGED] = True
    return row.state if row is not None else None


async def propose(node: Node, target: str) -> PartnerView:
    theirs = await discover_org(node, target)
    async with node.reads() as db:
        ours = await our_org(node, db)
    await follow(node, ours, theirs)
    async with transaction(node) as db:
        back = await find_follow(db, theirs.id, ours.id)
        state = await sync_state(db, ours, theirs)
        record_audit(db, "partnership.proposed", target=theirs.domain)
    if back is not None and back.state != ACCEPTED:
        # They had asked us first: proposing is accepting.
        await respond(node, ours, theirs, accept=True)
        async with transaction(node) as db:
            state = await sync_state(db, ours, theirs)
    return PartnerView(theirs.domain, state or PROPOSED, theirs.uri, theirs.display_name)


async def _known(node: Node, domain: str) -> tuple[Actor, Actor, Partnership]:
    async with node.reads() as db:
        row = await _partnership(db, domain)
        if row is None:
            raise NotFound(f"no partnership with {domain}")
        theirs = await db.get(Actor, row.org_actor_id)
        ours = await our_org(node, db)
    assert theirs is not None
    return ours, theirs, row


async def accept(node: Node, domain: str) -> PartnerView:
    ours, theirs, _ = await _known(node, domain)
    async with node.reads() as db:
        back = await find_follow(db, theirs.id, ours.id)
    if back is None:
        raise Invalid(f"{domain} has not asked to be a partner")
    if back.state != ACCEPTED:
        await respond(node, ours, theirs, accept=True)
    await follow(node, ours, theirs)
    async with transaction(node) as db:
        state = await sync_state(db, ours, theirs)
        record_audit(db, "partnership.accepted", target=theirs.domain, detail={"state": state})
    return PartnerView(theirs.domain, state or PROPOSED, theirs.uri, theirs.display_name)


async def refuse(node: Node, domain: str) -> PartnerView:
    ours, theirs, _ = await _known(node, domain)
    async with node.reads() as db:
        back = await find_follow(db, theirs.id, ours.id)
    if back is None or back.state == ACCEPTED:
        raise Invalid(f"there is no pending request from {domain} to refuse")
    await respond(node, ours, theirs, accept=False)
    async with transaction(node) as db:
        await _set_state(db, theirs, REFUSED)
        record_audit(db, "partnership.refused", target=theirs.domain)
    return PartnerView(theirs.domain, REFUSED, theirs.uri, theirs.display_name)


async def end(node: Node, domain: str) -> PartnerView:
    ours, theirs, _ = await _known(node, domain)
    await unfollow(node, ours, theirs)
    async with node.reads() as db:
        back = await find_follow(db, theirs.id, ours.id)
    if back is not None:
        await respond(node, ours, theirs, accept=False)
    async with transaction(node) as db:
        await _set_state(db, theirs, ENDED)
        record_audit(db, "partnership.ended", target=theirs.domain)
    return PartnerView(theirs.domain, ENDED, theirs.uri, theirs.display_name)


async def partnerships(node: Node) -> list[PartnerView]:
    async with node.reads() as db:
        rows = (
            await db.execute(
                select(Partnership, Actor)
                .join(Actor, Actor.id == Partnership.org_actor_id)
                .order_by(Partnership.domain)
            )
        ).all()
    return [PartnerView(p.domain, p.state, a.uri, a.display_name) for p, a in rows]


async def partner_org_actors(db: AsyncSession) -> list[Actor]:
    """The Organization actors partners posts are addressed to."""
    return list(
        await db.scalars(
            select(Actor)
            .join(Partnership, Partnership.org_actor_id == Actor.id)
            .where(Partnership.state == ACTIVE)
        )
    )


async def is_partner_domain(db: AsyncSession, domain: str) -> bool:
    return bool(
        await db.scalar(
            select(Partnership.id).where(
                Partnership.domain == domain.lower(), Partnership.state == ACTIVE
            )
        )
    )
