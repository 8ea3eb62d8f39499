"""Mastodon's list paging: ``max_id`` / ``since_id`` / ``min_id`` / ``limit`` in, a ``Link``
header out.

Clients page through every list with the ``Link`` header rather than with the ids in the
body (the favourites list is paged by favourite ids, which the body never shows), so the
header must be exactly Mastodon's: ``rel="next"`` goes to older items with ``max_id`` set
to the last item's paging id, ``rel="prev"`` goes to newer items with ``min_id`` set to
the first one's; no header at all for an empty page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from node.api.errors import unprocessable
from node.api.params import Params
from node.appkeys import NODE
from node.follows import Page

__all__ = ["Page", "link_header", "page_from", "paged_response"]

PAGING_PARAMS = frozenset({"max_id", "since_id", "min_id"})
#: Never echoed into a Link header: it would hand the token to whatever logs the URL.
SECRET_PARAMS = frozenset({"access_token"})


def _id(params: Params, name: str) -> int | None:
    value = params.get_str(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        # Ids are numeric strings: anything else is a client mistake worth naming.
        raise unprocessable(f"{name} must be an id") from exc


def page_from(
    params: Params, *, default: int = 20, maximum: int = 40, allow_all: bool = False
) -> Page:
    """Read the paging parameters (``Page`` is the services' keyset page); ``limit`` is
    clamped to ``1..maximum`` as Mastodon does, except that ``allow_all`` lets ``limit=0``
    through to mean every row (Mastodon's list members)."""
    limit = params.get_int("limit", default, high=maximum)
    assert limit is not None
    if limit < 1 and not (allow_all and limit == 0):
        limit = 1
    return Page(
        limit=limit,
        max_id=_id(params, "max_id"),
        since_id=_id(params, "since_id"),
        min_id=_id(params, "min_id"),
    )


def _url(request: web.Request, key: str, value: int) -> str:
    base = request.app[NODE].settings.base_url
    kept = [
        (k, v)
        for k, v in request.query.items()
        if k not in PAGING_PARAMS and k not in SECRET_PARAMS
    ]
    kept.append((key, str(value)))
    return f"{base}{request.path}?{urlencode(kept)}"


def link_header(
    request: web.Request, first_id: int | None, last_id: int | None, *, more: bool = True
) -> str | None:
    """The ``Link`` value for a page whose newest paging id is ``first_id`` and oldest
    ``last_id``; ``more=False`` drops ``next`` (lists that know they reached the end)."""
    if first_id is None or last_id is None:
        return None
    links = []
    if more:
        links.append(f'<{_url(request, "max_id", last_id)}>; rel="next"')
    links.append(f'<{_url(request, "min_id", first_id)}>; rel="prev"')
    return ", ".join(links)


def paged_response(
    request: web.Request,
    body: object,
    ids: list[int],
    *,
    more: bool = True,
) -> web.Response:
    """JSON ``body`` with the ``Link`` header built from the page's paging ``ids``
    (newest first, as the page is ordered)."""
    response = web.json_response(body)
    link = link_header(request, ids[0] if ids else None, ids[-1] if ids else None, more=more)
    if link:
        response.headers["Link"] = link
    return response
