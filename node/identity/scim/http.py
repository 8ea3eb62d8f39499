"""SCIM 2.0 over HTTP at ``/scim/v2/`` (RFC 7644): bearer-token authentication, the
discovery endpoints, Users and Groups with list, filter, pagination, attribute
projection, create, replace, patch and delete. Every answer is ``application/scim+json``;
every error is an RFC 7644 section 3.12 error object, never an HTML page."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from node.api.auth import bearer_token
from node.appkeys import NODE
from node.context import transaction
from node.db.models import ScimToken
from node.errors import CercleError
from node.identity.audit import acting_as
from node.identity.scim import groups, users
from node.identity.scim.filters import FilterError, parse_filter
from node.identity.scim.patch import PatchError, apply_patch
from node.identity.scim.resources import ScimError, invalid
from node.identity.scim.schemas import (
    DEFAULT_COUNT,
    LIST_RESPONSE,
    MAX_COUNT,
    PATCH_OP,
    resource_types,
    schemas,
    service_provider_config,
)
from node.identity.scim.tokens import authenticate, mark_used

PREFIX = "/scim/v2"
CONTENT_TYPE = "application/scim+json"
ALWAYS_RETURNED = {"id", "schemas"}
Handler = Callable[[web.Request], Awaitable[web.Response]]


def scim_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type=CONTENT_TYPE,
        headers=headers,
    )


def base_url(request: web.Request) -> str:
    return request.app[NODE].settings.base_url + PREFIX


def scim_handler(handler: Callable[[web.Request, ScimToken], Awaitable[web.Response]]) -> Handler:
    """Authenticate, attribute audit entries to the token, and turn every failure into a
    SCIM error object."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            node = request.app[NODE]
            async with node.reads() as db:
                token = await authenticate(db, bearer_token(request))
            if token is None:
                raise ScimError(401, "a valid SCIM bearer token is required")
            async with transaction(node) as db:
                await mark_used(db, token)
            with acting_as(f"scim:{token.name}", request.remote):
                return await handler(request, token)
        except ScimError as exc:
            headers = {"WWW-Authenticate": 'Bearer realm="scim"'} if exc.status == 401 else None
            return scim_response(exc.body(), exc.status, headers)
        except CercleError as exc:
            status = 400 if exc.status == 422 else exc.status
            return scim_response(ScimError(status, exc.message).body(), status)

    return wrapped


async def read_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > 1_000_000:
        raise ScimError(413, "the request body is too large")
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise invalid(f"the body is not JSON: {exc}", "invalidSyntax") from exc
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object", "invalidSyntax")
    return body


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def _strip_urn(name: str) -> str:
    return name.rsplit(":", 1)[1] if name.lower().startswith("urn:") else name


def project(resource: dict[str, Any], attributes: list[str], excluded: list[str]) -> dict[str, Any]:
    """RFC 7644 section 3.4.2.5: ``attributes`` keeps only those (and id, schemas);
    ``excludedAttributes`` drops them. Dotted names reach sub-attributes."""
    if attributes:
        wanted: dict[str, set[str] | None] = {}
        for name in (_strip_urn(a).lower() for a in attributes):
            top, _, sub = name.partition(".")
            if sub and wanted.get(top, set()) is not None:
                wanted.setdefault(top, set()).add(sub)  # type: ignore[union-attr]
            else:
                wanted[top] = None
        kept: dict[str, Any] = {}
        for key, value in resource.items():
            lower = key.lower()
            if lower in ALWAYS_RETURNED:
                kept[key] = value
            elif lower in wanted:
                subs = wanted[lower]
                kept[key] = value if subs is None else _only(value, subs)
        return kept
    if excluded:
        dropped = {_strip_urn(e).lower() for e in excluded}
        result = {}
        for key, value in resource.items():
            lower = key.lower()
            if lower in dropped and lower not in ALWAYS_RETURNED:
                continue
            subs = {d.partition(".")[2] for d in dropped if d.startswith(lower + ".")}
            result[key] = _without(value, subs) if subs else value
        return result
    return resource


def _only(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [_only(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in subs}
    return value


def _without(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [_without(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() not in subs}
    return value


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise invalid(f"{name} must be an integer", "invalidValue") from exc


def list_response(resources: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """Filter, paginate (1-based ``startIndex``, ``count``) and project."""
    filter_text = params.get("filter")
    if filter_text:
        try:
            predicate = parse_filter(str(filter_text))
        except FilterError as exc:
            raise invalid(str(exc), "invalidFilter") from exc
        resources = [r for r in resources if predicate(r)]
    start = max(1, _int(params.get("startIndex"), "startIndex", 1))
    count = min(MAX_COUNT, max(0, _int(params.get("count"), "count", DEFAULT_COUNT)))
    page = resources[start - 1 : start - 1 + count]
    attributes = params.get("attributes")
    excluded = params.get("excludedAttributes")
    attributes = attributes if isinstance(attributes, list) else _names(attributes)
    excluded = excluded if isinstance(excluded, list) else _names(excluded)
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": len(resources),
        "startIndex": start,
        "itemsPerPage": len(page),
        "Resources": [project(r, attributes, excluded) for r in page],
    }


def _projected(request: web.Request, resource: dict[str, Any]) -> dict[str, Any]:
    return project(
        resource,
        _names(request.query.get("attributes")),
        _names(request.query.get("excludedAttributes")),
    )


def _created(resource: dict[str, Any]) -> web.Response:
    return scim_response(resource, 201, {"Location": resource["meta"]["location"]})


# --- discovery ---------------------------------------------------------------------


async def get_service_provider_config(request: web.Request, token: ScimToken) -> web.Response:
    documentation = request.app[NODE].settings.base_url + "/docs/identity"
    return scim_response(service_provider_config(base_url(request), documentation))


def _by_id(items: list[dict[str, Any]], key: str, kind: str) -> dict[str, Any]:
    for item in items:
        if item["id"] == key:
            return item
    raise ScimError(404, f"{kind} {key} not found")


async def get_schemas(request: web.Request, token: ScimToken) -> web.Response:
    items = schemas(base_url(request))
    key = request.match_info.get("id")
    if key:
        return scim_response(_by_id(items, key, "Schema"))
    return scim_response(list_response(items, dict(request.query)))


async def get_resource_types(request: web.Request, token: ScimToken) -> web.Response:
    items = resource_types(base_url(request))
    key = request.match_info.get("id")
    if key:
        return scim_response(_by_id(items, key, "ResourceType"))
    return scim_response(list_response(items, dict(request.query)))


# --- Users -------------------------------------------------------------------------


async def list_users(
    request: web.Request, token: ScimToken, params: dict[str, Any]
) -> web.Response:
    base = base_url(request)
    async with request.app[NODE].reads() as db:
        resources = [await users.representation(db, base, row) for row in await users.all_users(db)]
    return scim_response(list_response(resources, params))


async def get_users(request: web.Request, token: ScimToken) -> web.Response:
    key = request.match_info.get("id")
    if not key:
        return await list_users(request, token, dict(request.query))
    async with request.app[NODE].reads() as db:
        resource = await users.representation(db, base_url(request), await users.load(db, key))
    return scim_response(_projected(request, resource))


async def post_user(request: web.Request, token: ScimToken) -> web.Response:
    data = await read_body(request)
    node = request.app[NODE]
    async with transaction(node) as db:
        row = await users.create(node, db, data)
        resource = await users.representation(db, base_url(request), row)
    return _created(resource)


async def put_user(request: web.Request, token: ScimToken) -> web.Response:
    data = await read_body(request)
    async with transaction(request.app[NODE]) as db:
        row = await users.replace(db, request.match_info["id"], data)
        resource = await users.representation(db, base_url(request), row)
    return scim_response(_projected(request, resource))


async def patch_user(request: web.Request, token: ScimToken) -> web.Response:
    body = await read_body(request)
    _check_patch(body)
    base = base_url(request)
    async with transaction(request.app[NODE]) as db:
        current = await users.representation(
            db, base, await users.load(db, request.match_info["id"])
        )
        patched = _patched(current, body)
        row = await users.replace(db, request.match_info["id"], patched)
        resource = await users.representation(db, base, row)
    return scim_response(_projected(request, resource))


async def delete_user(request: web.Request, token: ScimToken) -> web.Response:
    async with transaction(request.app[NODE]) as db:
        await users.deprovision(db, request.match_info["id"])
    return web.Response(status=204)


# --- Groups ------------------------------------------------------------------------


async def list_groups(
    request: web.Request, token: ScimToken, params: dict[str, Any]
) -> web.Response:
    base = base_url(request)
    async with request.app[NODE].reads() as db:
        resources = [await groups.representation(db, base, g) for g in await groups.all_groups(db)]
    return scim_response(list_response(resources, params))


async def get_groups(request: web.Request, token: ScimToken) -> web.Response:
    key = request.match_info.get("id")
    if not key:
        return await list_groups(request, token, dict(request.query))
    async with request.app[NODE].reads() as db:
        resource = await groups.representation(db, base_url(request), await groups.load(db, key))
    return scim_response(_projected(request, resource))


async def post_group(request: web.Request, token: ScimToken) -> web.Response:
    data = await read_body(request)
    async with transaction(request.app[NODE]) as db:
        group = await groups.create(db, data)
        resource = await groups.representation(db, base_url(request), group)
    return _created(resource)


async def put_group(request: web.Request, token: ScimToken) -> web.Response:
    data = await read_body(request)
    async with transaction(request.app[NODE]) as db:
        group = await groups.replace(db, request.match_info["id"], data)
        resource = await groups.representation(db, base_url(request), group)
    return scim_response(_projected(request, resource))


async def patch_group(request: web.Request, token: ScimToken) -> web.Response:
    body = await read_body(request)
    _check_patch(body)
    base = base_url(request)
    async with transaction(request.app[NODE]) as db:
        current = await groups.representation(
            db, base, await groups.load(db, request.match_info["id"])
        )
        patched = _patched(current, body)
        group = await groups.replace(db, request.match_info["id"], patched)
        resource = await groups.representation(db, base, group)
    return scim_response(_projected(request, resource))


async def delete_group(request: web.Request, token: ScimToken) -> web.Response:
    async with transaction(request.app[NODE]) as db:
        await groups.remove(db, request.match_info["id"])
    return web.Response(status=204)


# --- search and PATCH helpers -------------------------------------------------------


def _check_patch(body: dict[str, Any]) -> None:
    if PATCH_OP not in (body.get("schemas") or []):
        raise invalid(f"a PATCH body names the schema {PATCH_OP}", "invalidSyntax")


def _patched(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    operations = body.get("Operations", body.get("operations"))
    try:
        return apply_patch(current, operations)
    except PatchError as exc:
        raise invalid(exc.detail, exc.scim_type) from exc


async def search_users(request: web.Request, token: ScimToken) -> web.Response:
    return await list_users(request, token, await read_body(request))


async def search_groups(request: web.Request, token: ScimToken) -> web.Response:
    return await list_groups(request, token, await read_body(request))


async def search_root(request: web.Request, token: ScimToken) -> web.Response:
    raise ScimError(501, "searching several resource types at once is not supported")


async def read_only(request: web.Request, token: ScimToken) -> web.Response:
    raise ScimError(405, f"{request.path} is read-only")


async def not_found(request: web.Request, token: ScimToken) -> web.Response:
    raise ScimError(404, f"no SCIM endpoint at {request.path}")


def setup_routes(app: web.Application) -> None:
    routes: list[tuple[str, str, Callable[[web.Request, ScimToken], Awaitable[web.Response]]]] = [
        ("GET", "/ServiceProviderConfig", get_service_provider_config),
        ("GET", "/Schemas", get_schemas),
        ("GET", "/Schemas/{id}", get_schemas),
        ("GET", "/ResourceTypes", get_resource_types),
        ("GET", "/ResourceTypes/{id}", get_resource_types),
        ("GET", "/Users", get_users),
        ("POST", "/Users", post_user),
        ("POST", "/Users/.search", search_users),
        ("GET", "/Users/{id}", get_users),
        ("PUT", "/Users/{id}", put_user),
        ("PATCH", "/Users/{id}", patch_user),
        ("DELETE", "/Users/{id}", delete_user),
        ("GET", "/Groups", get_groups),
        ("POST", "/Groups", post_group),
        ("POST", "/Groups/.search", search_groups),
        ("GET", "/Groups/{id}", get_groups),
        ("PUT", "/Groups/{id}", put_group),
        ("PATCH", "/Groups/{id}", patch_group),
        ("DELETE", "/Groups/{id}", delete_group),
        ("POST", "/.search", search_root),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, PREFIX + path, scim_handler(handler))
    for path in ("/ServiceProviderConfig", "/Schemas", "/ResourceTypes"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            app.router.add_route(method, PREFIX + path, scim_handler(read_only))
    app.router.add_route("*", PREFIX + "/{tail:.*}", scim_handler(not_found))
