"""Places in the client API (a Cercle extension, docs/places-and-adoption.md): the firm's
sites (``/api/v1/places``), the nearby timeline (``/api/v1/timelines/nearby``) and the
``place[...]`` parameters of a new status.

The nearby timeline pages like every Mastodon timeline (``max_id``/``since_id``/
``min_id``/``limit`` and a ``Link`` header) and shows every audience the viewer may
see, decided post by post by the one visibility rule.
"""

from __future__ import annotations

from aiohttp import web

from node.api.auth import optional_auth, require_user
from node.api.errors import not_found, unprocessable
from node.api.mastodon.render import Renderer
from node.api.pagination import page_from, paged_response
from node.api.params import Params, read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import Node
from node.errors import Invalid, NotFound
from node.places import (
    Coordinates,
    PlaceSpec,
    coordinates,
    find_site,
    list_sites,
    nearby_page,
    place_spec,
    radius_km,
    site_centre,
    site_entity,
    site_people,
    site_radius_km,
    site_spec,
)


async def place_param(node: Node, params: Params) -> PlaceSpec | None:
    """A new status's place: ``place[site_id]`` (one of the firm's sites), or
    ``place[name]`` with ``place[latitude]``, ``place[longitude]`` and optional
    ``place[radius]`` in metres (from the phone's position, with the user's consent).
    Raises ``Invalid`` (a 422 in the caller) for anything else."""
    fields = params.get_dict("place")
    if not fields:
        return None
    site_id = fields.get("site_id")
    if site_id not in (None, ""):
        async with node.reads() as db:
            try:
                site = await find_site(db, str(site_id))
            except NotFound as exc:
                raise Invalid(f"place[site_id] {site_id} is not one of this firm's sites") from exc
        return site_spec(site, node.settings.base_url)
    return place_spec(fields)


async def sites_index(request: web.Request) -> web.Response:
    """``GET /api/v1/places``: the firm's sites, for the place picker."""
    node = request.app[NODE]
    await require_user(request, "read")
    async with node.reads() as db:
        sites = await list_sites(db)
    base = node.settings.base_url
    return web.json_response([site_entity(site, base, people) for site, people in sites])


async def site_show(request: web.Request) -> web.Response:
    """``GET /api/v1/places/:id``: one site and its people (Account entities)."""
    node = request.app[NODE]
    _, me = await require_user(request, "read")
    async with node.reads() as db:
        try:
            site = await find_site(db, int(request.match_info["id"]))
        except (NotFound, ValueError) as exc:
            raise not_found() from exc
        people = await site_people(db, site.id)
        entity = site_entity(site, node.settings.base_url, len(people))
        entity["accounts"] = await Renderer(node, db, me).accounts(people)
    return web.json_response(entity)


def _centre(params: Params) -> tuple[Coordinates, float] | None:
    lat, lon = params.get_str("latitude"), params.get_str("longitude")
    if lat in (None, "") and lon in (None, ""):
        return None
    if lat in (None, "") or lon in (None, ""):
        raise unprocessable("give both latitude and longitude")
    try:
        return coordinates(lat, lon), radius_km(params.get_str("radius_km"))
    except Invalid as exc:
        raise unprocessable(exc.message) from exc


async def nearby(request: web.Request) -> web.Response:
    """``GET /api/v1/timelines/nearby?latitude=&longitude=&radius_km=`` (or
    ``place_id=`` for a site, its own radius unless ``radius_km`` is given)."""
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    params = await read_params(request)
    page = page_from(params)
    async with node.reads() as db:
        found = _centre(params)
        if found is None:
            site_id = params.get_str("place_id")
            if not site_id:
                raise unprocessable("give latitude and longitude, or place_id")
            try:
                site = await find_site(db, int(site_id))
            except (NotFound, ValueError) as exc:
                raise not_found() from exc
            try:
                radius = radius_km(params.get_str("radius_km"), default=site_radius_km(site))
            except Invalid as exc:
                raise unprocessable(exc.message) from exc
            found = site_centre(site), radius
        centre, radius = found
        posts = await nearby_page(db, viewer, centre, radius, page)
        body = await Renderer(node, db, viewer).statuses(posts)
    return paged_response(request, body, [p.id for p in posts])


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/places", sites_index)
    route(app, "GET", r"/api/v1/places/{id:\d+}", site_show)
    route(app, "GET", "/api/v1/timelines/nearby", nearby)
