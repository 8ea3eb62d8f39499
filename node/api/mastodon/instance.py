"""What a client learns about the node before and after signing in: ``/api/v1/instance``,
``/api/v2/instance``, rules, peers, weekly activity and custom emojis.

Clients parse ``version`` to decide which features to use, so it claims the Mastodon API
level Cercle implements (4.3.0) and names Cercle after it, as other compatible servers do.
Every number here is counted, never made up: no placeholder rules, no invented emoji.
Rules are those an administrator stored under the node setting ``rules`` (a JSON array of
strings); there are none by default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.api.auth import require_auth
from node.api.mastodon.render import Renderer, plain_text
from node.api.routing import route
from node.appkeys import NODE
from node.bootstrap import org_actor
from node.context import Node
from node.db.ids import id_floor
from node.db.models import Actor, NodeSetting, OAuthToken, Post, User
from node.db.types import utcnow
from node.posts import MAX_CHARS
from node.settings import SOFTWARE_VERSION, Settings

MASTODON_API_VERSION = "4.3.0"
VERSION = f"{MASTODON_API_VERSION} (compatible; Cercle {SOFTWARE_VERSION})"
#: ``api_versions.mastodon`` as Mastodon 4.3 reports it.
MASTODON_API_LEVEL = 2
RULES_KEY = "rules"
ACTIVE_DAYS = 30  # as NodeInfo's activeMonth, so both documents give the same number
ACTIVITY_WEEKS = 12
#: The default avatar served by the web UI at /static/avatar.png (120x120 PNG).
DEFAULT_AVATAR_SIZE = "120x120"

LIMITS: dict[str, Any] = {
    "accounts": {"max_featured_tags": 10},
    "statuses": {
        "max_characters": MAX_CHARS,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    },
    "media_attachments": {
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
        "image_size_limit": 16 * 1024 * 1024,
        "image_matrix_limit": 33_177_600,
        # No video or audio: the types above say so, the zeros confirm it to typed clients.
        "video_size_limit": 0,
        "video_frame_rate_limit": 0,
        "video_matrix_limit": 0,
    },
    "polls": {
        "max_options": 4,
        "max_characters_per_option": 50,
        "min_expiration": 300,
        "max_expiration": 2_629_746,
    },
}


@dataclass(frozen=True)
class InstanceFacts:
    title: str
    description: str
    user_count: int
    status_count: int
    domain_count: int
    active_month: int
    contact_email: str
    contact_account: dict[str, Any] | None
    rules: list[dict[str, str]]


def streaming_url(settings: Settings) -> str:
    """The streaming API's base: ``ws://`` on a plain-http dev node, ``wss://`` otherwise."""
    scheme = "ws" if settings.scheme == "http" else "wss"
    return f"{scheme}://{settings.domain}"


async def _count(db: AsyncSession, query: Any) -> int:
    return int(await db.scalar(query) or 0)


async def read_rules(db: AsyncSession) -> list[dict[str, str]]:
    raw = await db.scalar(select(NodeSetting.value).where(NodeSetting.key == RULES_KEY))
    try:
        texts = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        texts = []
    if not isinstance(texts, list):
        return []
    return [
        {"id": str(index), "text": text, "hint": ""}
        for index, text in enumerate((t for t in texts if isinstance(t, str) and t), 1)
    ]


async def gather_facts(node: Node) -> InstanceFacts:
    async with node.reads() as db:
        org = await org_actor(db, node)
        users = await _count(
            db, select(func.count()).select_from(User).where(User.disabled.is_(False))
        )
        statuses = await _count(
            db,
            select(func.count())
            .select_from(Post)
            .where(Post.local.is_(True), Post.deleted_at.is_(None)),
        )
        domains = await _count(
            db, select(func.count(func.distinct(Actor.domain))).where(Actor.local.is_(False))
        )
        active = await _count(
            db,
            select(func.count(func.distinct(Post.actor_id))).where(
                Post.local.is_(True),
                Post.published >= utcnow() - timedelta(days=ACTIVE_DAYS),
                Post.actor_id.in_(select(User.actor_id)),
            ),
        )
        admin = (
            await db.execute(
                select(User, Actor)
                .join(Actor, Actor.id == User.actor_id)
                .where(User.is_admin.is_(True), User.disabled.is_(False))
                .order_by(User.created_at, User.id)
                .limit(1)
            )
        ).first()
        contact = await Renderer(node, db, None).account(admin[1]) if admin else None
        rules = await read_rules(db)
    return InstanceFacts(
        title=(org.display_name if org else "") or node.settings.org_name,
        description=plain_text(org.summary) if org and org.summary else "",
        user_count=users,
        status_count=statuses,
        domain_count=domains,
        active_month=active,
        contact_email=(admin[0].email or "") if admin else "",
        contact_account=contact,
        rules=rules,
    )


def _languages(node: Node) -> list[str]:
    configured = node.settings.extra.get("languages")
    return [str(x) for x in configured] if isinstance(configured, list) else ["en"]


async def instance_v2(request: web.Request) -> web.Response:
    node = request.app[NODE]
    facts = await gather_facts(node)
    base = node.settings.base_url
    icon_size = DEFAULT_AVATAR_SIZE
    return web.json_response(
        {
            "domain": node.settings.domain,
            "title": facts.title,
            "version": VERSION,
            "source_url": "",
            "description": facts.description,
            "usage": {"users": {"active_month": facts.active_month}},
            "thumbnail": {"url": f"{base}/static/header.png"},
            "icon": (
                [{"src": f"{base}/static/avatar.png", "size": icon_size}] if icon_size else []
            ),
            "languages": _languages(node),
            "configuration": {
                "urls": {"streaming": streaming_url(node.settings)},
                "vapid": {"public_key": ""},
                **LIMITS,
                "translation": {"enabled": False},
            },
            "registrations": {
                "enabled": False,
                "approval_required": False,
                "message": "Accounts are created by the organisation's administrators.",
            },
            "api_versions": {"mastodon": MASTODON_API_LEVEL},
            "contact": {"email": facts.contact_email, "account": facts.contact_account},
            "rules": facts.rules,
        }
    )


async def instance_v1(request: web.Request) -> web.Response:
    node = request.app[NODE]
    facts = await gather_facts(node)
    return web.json_response(
        {
            "uri": node.settings.domain,
            "title": facts.title,
            "short_description": facts.description,
            "description": facts.description,
            "email": facts.contact_email,
            "version": VERSION,
            "urls": {"streaming_api": streaming_url(node.settings)},
            "stats": {
                "user_count": facts.user_count,
                "status_count": facts.status_count,
                "domain_count": facts.domain_count,
            },
            "thumbnail": f"{node.settings.base_url}/static/header.png",
            "languages": _languages(node),
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": LIMITS,
            "contact_account": facts.contact_account,
            "rules": facts.rules,
        }
    )


async def rules(request: web.Request) -> web.Response:
    async with request.app[NODE].reads() as db:
        return web.json_response(await read_rules(db))


async def _members_only_unless_open(request: web.Request) -> None:
    """As Mastodon in limited-federation mode: a node that federates only with partners
    does not tell strangers who its partners are or how busy it is."""
    if request.app[NODE].settings.federation_mode != "open":
        await require_auth(request, "read")


async def peers(request: web.Request) -> web.Response:
    await _members_only_unless_open(request)
    async with request.app[NODE].reads() as db:
        domains = await db.scalars(
            select(Actor.domain).where(Actor.local.is_(False)).distinct().order_by(Actor.domain)
        )
        return web.json_response(list(domains))


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of ``now``'s week (Mastodon's weekly buckets start on Monday)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


async def activity(request: web.Request) -> web.Response:
    """Twelve weeks, newest first; counts as strings, as Mastodon sends them. ``logins`` is
    the number of people who signed in to an app (received a token) that week."""
    await _members_only_unless_open(request)
    node = request.app[NODE]
    start = week_start(utcnow())
    weeks = []
    async with node.reads() as db:
        for n in range(ACTIVITY_WEEKS):
            begin = start - timedelta(weeks=n)
            end = begin + timedelta(weeks=1)
            statuses = await _count(
                db,
                select(func.count())
                .select_from(Post)
                .where(
                    Post.local.is_(True),
                    Post.id >= id_floor(begin),
                    Post.id < id_floor(end),
                ),
            )
            logins = await _count(
                db,
                select(func.count(func.distinct(OAuthToken.user_id))).where(
                    OAuthToken.user_id.is_not(None),
                    OAuthToken.created_at >= begin,
                    OAuthToken.created_at < end,
                ),
            )
            registrations = await _count(
                db,
                select(func.count())
                .select_from(User)
                .where(User.created_at >= begin, User.created_at < end),
            )
            weeks.append(
                {
                    "week": str(int(begin.timestamp())),
                    "statuses": str(statuses),
                    "logins": str(logins),
                    "registrations": str(registrations),
                }
            )
    return web.json_response(weeks)


async def custom_emojis(request: web.Request) -> web.Response:
    """Cercle has no custom emoji yet: the empty list is the truth."""
    return web.json_response([])


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/instance", instance_v1)
    route(app, "GET", "/api/v2/instance", instance_v2)
    route(app, "GET", "/api/v1/instance/rules", rules)
    route(app, "GET", "/api/v1/instance/peers", peers)
    route(app, "GET", "/api/v1/instance/activity", activity)
    route(app, "GET", "/api/v1/custom_emojis", custom_emojis)
