"""Places: a post's location (AS2 ``Place``), the firm's sites, and the nearby timeline.

A post's place is stored as the AS2 ``location`` document we send (or the one a peer
sent, cleaned), so what federates and what is stored are the same thing; its coordinates
are repeated in two indexed columns for the nearby timeline. Sites are named places the
admin maintains: posting "at" a site copies the site's name and coordinates into the
post (a later edit of the site does not move old posts).

The geometry is the plain haversine distance on a sphere of the Earth's mean radius:
metres of error over the few kilometres a "nearby" search spans, far below what a phone's
position or an office's radius means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab.objects import APObject
from federation.vocab.objects import Place as ReceivedPlace
from node.accounts import require_user_actor
from node.context import Node
from node.db.models import Actor, Post, Site, SiteMember
from node.errors import Invalid, NotFound
from node.follows import Page
from node.visibility import visible_posts

EARTH_RADIUS_KM = 6371.0088
#: The widest nearby search: a region, not a continent (the scan stays an index range).
MAX_RADIUS_KM = 500.0
MAX_NAME = 255
#: AS2 ``units`` → metres; AS2's default unit is the metre.
UNITS_IN_METRES = {
    "m": 1.0,
    "cm": 0.01,
    "km": 1000.0,
    "feet": 0.3048,
    "inches": 0.0254,
    "miles": 1609.344,
}
#: Rows read per step of the nearby scan, and the most steps one request may take: a
#: viewer who may see few of the posts around a point still gets an answer in bounded time.
SCAN_CHUNK = 80
MAX_SCAN_STEPS = 25


@dataclass(frozen=True)
class Coordinates:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class PlaceSpec:
    """What a post's author chose: a name, a point, an optional radius in metres, and
    the site it came from (whose page the place links to)."""

    name: str
    latitude: float
    longitude: float
    radius_m: float | None = None
    url: str | None = None


# --- pure helpers ---------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{what} must be a number") from exc
    if math.isnan(number) or math.isinf(number):
        raise Invalid(f"{what} must be a finite number")
    return number


def coordinates(latitude: Any, longitude: Any) -> Coordinates:
    """Validated WGS84 coordinates; the message names the field that is wrong."""
    lat = _number(latitude, "latitude")
    lon = _number(longitude, "longitude")
    if not -90.0 <= lat <= 90.0:
        raise Invalid("latitude must be between -90 and 90")
    if not -180.0 <= lon <= 180.0:
        raise Invalid("longitude must be between -180 and 180")
    return Coordinates(lat, lon)


def radius_km(value: Any, *, default: float = 5.0) -> float:
    if value is None or value == "":
        return default
    radius = _number(value, "radius_km")
    if not 0 < radius <= MAX_RADIUS_KM:
        raise Invalid(f"radius_km must be more than 0 and at most {MAX_RADIUS_KM:g}")
    return radius


def place_spec(fields: Mapping[str, Any]) -> PlaceSpec:
    """``place[name]``, ``place[latitude]``, ``place[longitude]`` and optional
    ``place[radius]`` (metres) of a new post, checked."""
    name = str(fields.get("name") or "").strip()
    if not name:
        raise Invalid("place[name] can't be blank")
    if len(name) > MAX_NAME:
        raise Invalid(f"place[name] is at most {MAX_NAME} characters")
    if fields.get("latitude") in (None, "") or fields.get("longitude") in (None, ""):
        raise Invalid("place needs both place[latitude] and place[longitude]")
    point = coordinates(fields.get("latitude"), fields.get("longitude"))
    radius = None
    if fields.get("radius") not in (None, ""):
        radius = _number(fields.get("radius"), "place[radius]")
        if not 0 <= radius <= MAX_RADIUS_KM * 1000:
            raise Invalid("place[radius] is in metres, between 0 and 500000")
    return PlaceSpec(name, point.latitude, point.longitude, radius)


def as2_place(spec: PlaceSpec) -> dict[str, Any]:
    """The AS2 ``Place`` a Note carries as its ``location`` (what is stored, too)."""
    doc: dict[str, Any] = {
        "type": "Place",
        "name": spec.name,
        "latitude": spec.latitude,
        "longitude": spec.longitude,
    }
    if spec.radius_m is not None:
        doc["radius"] = spec.radius_m
        doc["units"] = "m"
    if spec.url:
        doc["url"] = spec.url
    return doc


def received_place(place: ReceivedPlace | None) -> dict[str, Any] | None:
    """A peer's ``location`` as we keep it: a name (plain text, bounded) and coordinates
    only when they are valid; the radius converted to metres. A place with neither a
    name nor coordinates is dropped."""
    if place is None:
        return None
    name = " ".join((place.name or "").split())[:MAX_NAME]
    doc: dict[str, Any] = {"type": "Place", "name": name}
    try:
        point = coordinates(place.latitude, place.longitude)
    except Invalid:
        point = None
    if point is not None:
        doc["latitude"], doc["longitude"] = point.latitude, point.longitude
        if place.radius is not None and place.radius >= 0:
            factor = UNITS_IN_METRES.get((place.units or "m").lower())
            if factor is not None:
                doc["radius"] = place.radius * factor
                doc["units"] = "m"
    if not name and point is None:
        return None
    return doc


def place_columns(place: dict[str, Any] | None) -> dict[str, Any]:
    """The ``posts`` columns of a place (all three keys always: bulk inserts need every
    row to have the same columns)."""
    if not place:
        return {"place": None, "place_latitude": None, "place_longitude": None}
    return {
        "place": place,
        "place_latitude": place.get("latitude"),
        "place_longitude": place.get("longitude"),
    }


def received_place_columns(obj: APObject) -> dict[str, Any]:
    """The place columns of a post received from a peer (``new_post_values``)."""
    return place_columns(received_place(obj.location))


def place_entity(place: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``place`` of a client-API Status (a Cercle extension, docs/places-and-adoption.md)."""
    if not place:
        return None
    return {
        "name": place.get("name") or "",
        "latitude": place.get("latitude"),
        "longitude": place.get("longitude"),
        "radius": place.get("radius"),
        "url": place.get("url"),
    }


def distance_km(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance (haversine)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(centre: Coordinates, radius: float) -> tuple[float, float, float, float]:
    """``(south, north, west, east)`` degrees holding every point within ``radius`` km.
    ``west > east`` when the box crosses the antimeridian; near a pole the box spans
    every longitude."""
    dlat = math.degrees(radius / EARTH_RADIUS_KM)
    south, north = max(-90.0, centre.latitude - dlat), min(90.0, centre.latitude + dlat)
    if south <= -90.0 or north >= 90.0:
        return south, north, -180.0, 180.0
    dlon = math.degrees(radius / (EARTH_RADIUS_KM * math.cos(math.radians(centre.latitude))))
    if dlon >= 180.0:
        return south, north, -180.0, 180.0
    west, east = centre.longitude - dlon, centre.longitude + dlon
    if west < -180.0:
        west += 360.0
    if east > 180.0:
        east -= 360.0
    return south, north, west, east


def within(place: dict[str, Any] | None, centre: Coordinates, radius: float) -> bool:
    if not place or place.get("latitude") is None or place.get("longitude") is None:
        return False
    point = Coordinates(float(place["latitude"]), float(place["longitude"]))
    return distance_km(centre, point) <= radius


# --- the nearby timeline --------------------------------------------------------------


def _box_query(centre: Coordinates, radius: float) -> Select[Any]:
    south, north, west, east = bounding_box(centre, radius)
    longitude = (
        Post.place_longitude.between(west, east)
        if west <= east
        else or_(Post.place_longitude >= west, Post.place_longitude <= east)
    )
    return select(Post).where(
        Post.place_latitude.is_not(None),
        Post.place_latitude.between(south, north),
        longitude,
        Post.deleted_at.is_(None),
        Post.reblog_of_id.is_(None),
    )


async def nearby_page(
    db: AsyncSession, viewer: Actor | None, centre: Coordinates, radius: float, page: Page
) -> list[Post]:
    """Posts placed within ``radius`` km of ``centre`` that ``viewer`` may see, newest
    first, paged like every Mastodon timeline.

    The bounding box is read by index in chunks; each chunk is cut to the true circle
    and to what the viewer may see (``visible_posts``: the one visibility rule), until
    the page is full, the box is exhausted, or ``MAX_SCAN_STEPS`` chunks were read (a
    short page then, as Mastodon's filtered timelines may give).
    """
    base = _box_query(centre, radius)
    ascending = page.min_id is not None
    cursor = page.min_id if ascending else page.max_id
    kept: list[Post] = []
    for _ in range(MAX_SCAN_STEPS):
        query = base
        if page.since_id is not None:
            query = query.where(Post.id > page.since_id)
        if ascending:
            assert cursor is not None
            query = query.where(Post.id > cursor).order_by(Post.id.asc())
        else:
            if cursor is not None:
                query = query.where(Post.id < cursor)
            query = query.order_by(Post.id.desc())
        chunk = list(await db.scalars(query.limit(SCAN_CHUNK)))
        if not chunk:
            return _finish(kept, page, ascending)
        cursor = chunk[-1].id
        inside = [p for p in chunk if within(p.place, centre, radius)]
        kept += await visible_posts(db, viewer, inside)
        if len(kept) >= page.limit:
            return _finish(kept, page, ascending)
        if len(chunk) < SCAN_CHUNK:
            return _finish(kept, page, ascending)
    return _finish(kept, page, ascending)


def _finish(kept: list[Post], page: Page, ascending: bool) -> list[Post]:
    chosen = kept[: page.limit]
    return chosen[::-1] if ascending else chosen


# --- sites ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SitePage:
    site: Site
    people: list[Actor]
    posts: list[Post]


async def add_site(
    db: AsyncSession,
    name: str,
    latitude: Any,
    longitude: Any,
    *,
    radius_m: Any = 500,
    description: str = "",
) -> Site:
    clean = " ".join(name.split())
    if not clean:
        raise Invalid("a site needs a name")
    if len(clean) > MAX_NAME:
        raise Invalid(f"a site name is at most {MAX_NAME} characters")
    point = coordinates(latitude, longitude)
    radius = _number(radius_m, "radius")
    if not 0 < radius <= MAX_RADIUS_KM * 1000:
        raise Invalid("a site's radius is in metres, more than 0 and at most 500000")
    if await site_by_name(db, clean) is not None:
        raise Invalid(f"there is already a site named {clean!r}")
    site = Site(
        name=clean,
        latitude=point.latitude,
        longitude=point.longitude,
        radius_m=radius,
        description=description.strip(),
    )
    db.add(site)
    await db.flush()
    return site


async def site_by_name(db: AsyncSession, name: str) -> Site | None:
    return await db.scalar(select(Site).where(func.lower(Site.name) == name.strip().lower()))


async def find_site(db: AsyncSession, key: str | int) -> Site:
    """A site by id or by name (the CLI takes either)."""
    site = None
    text = str(key).strip()
    if text.isdigit():
        site = await db.get(Site, int(text))
    if site is None:
        site = await site_by_name(db, text)
    if site is None:
        raise NotFound(f"no site {text!r}")
    return site


async def list_sites(db: AsyncSession) -> list[tuple[Site, int]]:
    """Every site with its number of people, by name."""
    people = (
        select(SiteMember.site_id, func.count().label("n")).group_by(SiteMember.site_id).subquery()
    )
    rows = await db.execute(
        select(Site, func.coalesce(people.c.n, 0))
        .outerjoin(people, people.c.site_id == Site.id)
        .order_by(func.lower(Site.name))
    )
    return [(site, int(count)) for site, count in rows.all()]


async def remove_site(db: AsyncSession, key: str | int) -> Site:
    """Delete a site (its people lose their home site; posts keep their place)."""
    site = await find_site(db, key)
    await db.execute(delete(SiteMember).where(SiteMember.site_id == site.id))
    await db.delete(site)
    return site


async def assign(db: AsyncSession, username: str, key: str | int | None) -> Site | None:
    """Set (or with ``key`` None, clear) a local person's home site."""
    _, actor = await require_user_actor(db, username)
    await db.execute(delete(SiteMember).where(SiteMember.actor_id == actor.id))
    if key is None:
        return None
    site = await find_site(db, key)
    db.add(SiteMember(actor_id=actor.id, site_id=site.id))
    return site


async def site_of(db: AsyncSession, actor_id: int) -> Site | None:
    return await db.scalar(
        select(Site)
        .join(SiteMember, SiteMember.site_id == Site.id)
        .where(SiteMember.actor_id == actor_id)
    )


async def site_people(db: AsyncSession, site_id: int) -> list[Actor]:
    return list(
        await db.scalars(
            select(Actor)
            .join(SiteMember, SiteMember.actor_id == Actor.id)
            .where(SiteMember.site_id == site_id)
            .order_by(Actor.username)
        )
    )


def site_centre(site: Site) -> Coordinates:
    return Coordinates(site.latitude, site.longitude)


def site_radius_km(site: Site) -> float:
    return max(site.radius_m / 1000.0, 0.001)


async def site_page(
    db: AsyncSession, viewer: Actor | None, site_id: int | str, *, limit: int = 20
) -> SitePage:
    """A site, its people, and the recent posts placed on it that ``viewer`` may see."""
    site = await find_site(db, site_id)
    people = await site_people(db, site.id)
    posts = await nearby_page(
        db, viewer, site_centre(site), site_radius_km(site), Page(limit=limit)
    )
    return SitePage(site=site, people=people, posts=posts)


def site_spec(site: Site, base_url: str) -> PlaceSpec:
    """Posting "at" a site: its name and centre, and a link to its page."""
    return PlaceSpec(
        name=site.name,
        latitude=site.latitude,
        longitude=site.longitude,
        radius_m=site.radius_m,
        url=f"{base_url}/sites/{site.id}",
    )


def site_entity(site: Site, base_url: str, people: int | None = None) -> dict[str, Any]:
    """A site as ``GET /api/v1/places`` lists it."""
    entity: dict[str, Any] = {
        "id": str(site.id),
        "name": site.name,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "radius": site.radius_m,
        "description": site.description,
        "url": f"{base_url}/sites/{site.id}",
    }
    if people is not None:
        entity["people_count"] = people
    return entity


# --- for the web pages (each opens its own session) --------------------------------


@dataclass(frozen=True)
class SiteView:
    page: SitePage
    authors: dict[int, Actor]


async def sites_overview(node: Node) -> list[tuple[Site, int]]:
    async with node.reads() as db:
        return await list_sites(db)


async def site_view(node: Node, viewer: Actor | None, site_id: int | str) -> SiteView:
    """A site page's content: the site, its people, its recent visible posts and their
    authors. Raises NotFound for an unknown site."""
    async with node.reads() as db:
        page = await site_page(db, viewer, site_id)
        ids = {p.actor_id for p in page.posts}
        authors = (
            {a.id: a for a in await db.scalars(select(Actor).where(Actor.id.in_(ids)))}
            if ids
            else {}
        )
    return SiteView(page=page, authors=authors)
