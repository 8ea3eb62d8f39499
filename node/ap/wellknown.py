"""Discovery: WebFinger (RFC 7033), host-meta (RFC 6415), NodeInfo 2.0/2.1."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select

from federation.nodeinfo import build_nodeinfo, build_nodeinfo_links
from federation.webfinger import build_host_meta_json, build_host_meta_xml, build_jrd, parse_handle
from node.appkeys import NODE
from node.db.models import Actor, Post, User
from node.db.types import utcnow
from node.settings import SOFTWARE_NAME, SOFTWARE_VERSION

JRD = "application/jrd+json"


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def webfinger(request: web.Request) -> web.Response:
    node = request.app[NODE]
    resource = request.query.get("resource", "").strip()
    if not resource:
        return _error(400, "the resource parameter is required")
    async with node.reads() as db:
        if resource.startswith(("http://", "https://")):
            actor = await db.scalar(
                select(Actor).where(
                    Actor.local.is_(True), (Actor.uri == resource) | (Actor.url == resource)
                )
            )
        else:
            try:
                username, host = parse_handle(resource)
            except ValueError as exc:
                return _error(400, str(exc))
            if host.lower() != node.settings.domain.lower():
                return _error(404, f"{host} is not this node")
            actor = await db.scalar(
                select(Actor).where(Actor.local.is_(True), Actor.username == username.lower())
            )
        if actor is not None and actor.type == "Person":
            disabled = await db.scalar(select(User.disabled).where(User.actor_id == actor.id))
            if disabled:
                actor = None
    if actor is None:
        return _error(404, f"no account {resource}")
    jrd = build_jrd(
        username=actor.username,
        domain=node.settings.domain,
        actor_url=actor.uri,
        profile_url=actor.url or actor.uri,
    )
    return web.json_response(jrd, content_type=JRD, headers={"Access-Control-Allow-Origin": "*"})


async def host_meta(request: web.Request) -> web.Response:
    base = request.app[NODE].settings.base_url
    if "json" in request.headers.get("Accept", "") or request.path.endswith(".json"):
        return web.json_response(build_host_meta_json(base), content_type=JRD)
    return web.Response(text=build_host_meta_xml(base), content_type="application/xrd+xml")


async def nodeinfo_links(request: web.Request) -> web.Response:
    return web.json_response(build_nodeinfo_links(request.app[NODE].settings.base_url))


async def nodeinfo(request: web.Request) -> web.Response:
    node = request.app[NODE]
    version = request.match_info["version"]
    if version not in ("2.0", "2.1"):
        return _error(404, f"NodeInfo {version} is not served: use 2.1 or 2.0")
    async with node.reads() as db:
        users = await db.scalar(
            select(func.count()).select_from(User).where(User.disabled.is_(False))
        )
        posts = await db.scalar(
            select(func.count())
            .select_from(Post)
            .where(Post.local.is_(True), Post.deleted_at.is_(None))
        )
        active = {}
        for days in (30, 180):
            since = utcnow() - timedelta(days=days)
            active[days] = await db.scalar(
                select(func.count(func.distinct(Post.actor_id))).where(
                    Post.local.is_(True), Post.published >= since
                )
            )
        org_name = node.settings.org_name
    doc = build_nodeinfo(
        version=version,
        software_name=SOFTWARE_NAME,
        software_version=SOFTWARE_VERSION,
        repository=None,
        homepage=None,
        users_total=int(users or 0),
        active_month=int(active[30] or 0),
        active_halfyear=int(active[180] or 0),
        local_posts=int(posts or 0),
        open_registrations=False,
        metadata={
            "nodeName": org_name,
            "organization": {"actor": node.urls.org()},
            "federationMode": node.settings.federation_mode,
        },
    )
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return web.json_response(doc, content_type=f'application/json; profile="{profile}"')


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_get("/.well-known/host-meta", host_meta)
    app.router.add_get("/.well-known/host-meta.json", host_meta)
    app.router.add_get("/.well-known/nodeinfo", nodeinfo_links)
    app.router.add_get("/nodeinfo/{version}", nodeinfo)
