"""Media uploads (``/api/v1/media``, ``/api/v2/media``) and the files themselves (``/media/…``).

Processing is synchronous, so uploads answer 200 with ``url`` already set; Mastodon
answers 202 with a null ``url`` while it processes large files, and clients handle both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from node.api.auth import require_user
from node.api.errors import not_found, unprocessable
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import transaction
from node.db.models import MediaAttachment
from node.media import (
    MAX_BYTES,
    check_description,
    create_attachment,
    media_path,
    media_url,
    own_attachment,
    parse_focus,
    remove_files,
)
from node.media_limits import THUMBNAIL_SIDE, scaled_size

#: Text fields of an upload form are short; a larger one is not a real client.
FIELD_LIMIT = 64 * 1024
#: Stored names are random and never reused, so a file never changes once served.
FILE_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
MIME_BY_EXTENSION = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def _size(width: int, height: int) -> dict[str, Any]:
    return {
        "width": width,
        "height": height,
        "size": f"{width}x{height}",
        "aspect": width / height,
    }


def media_entity(base_url: str, item: MediaAttachment) -> dict[str, Any]:
    """Mastodon's MediaAttachment entity. Kept here rather than calling the Renderer's
    private ``_media``; it adds ``meta.small`` (the thumbnail's size) that clients use
    to lay out previews before they load."""
    meta: dict[str, Any] = {}
    if item.width and item.height:
        meta["original"] = _size(item.width, item.height)
        meta["small"] = _size(*scaled_size(item.width, item.height, THUMBNAIL_SIDE))
    if item.focus_x is not None and item.focus_y is not None:
        meta["focus"] = {"x": item.focus_x, "y": item.focus_y}
    return {
        "id": str(item.id),
        "type": item.type,
        "url": media_url(base_url, item.file_name),
        "preview_url": media_url(base_url, item.thumbnail_name or item.file_name),
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": item.description,
        "blurhash": item.blurhash,
    }


@dataclass
class Upload:
    data: bytes = b""
    mime_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


async def _read_part(part: BodyPartReader, limit: int, what: str) -> bytes:
    """Read one part, refusing it as soon as it passes ``limit`` rather than after."""
    chunks: list[bytes] = []
    total = 0
    while chunk := await part.read_chunk(65536):
        total += len(chunk)
        if total > limit:
            raise unprocessable(f"{what} is too large (at most {limit // 2**20 or 1} MB)")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: web.Request) -> Upload:
    """The multipart form, streamed: uploads may be up to 16 MB, far above the body limit
    of every other request, so they are read part by part with their own cap."""
    upload = Upload(fields=dict(request.query))
    if request.content_type != "multipart/form-data":
        raise unprocessable("file can't be blank (send multipart/form-data)")
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise unprocessable("nested multipart bodies are not accepted")
        if part.name == "file":
            upload.data = await _read_part(part, MAX_BYTES, "file")
            upload.mime_type = part.headers.get("Content-Type")
        elif part.name in ("description", "focus"):
            raw = await _read_part(part, FIELD_LIMIT, part.name)
            upload.fields[part.name] = raw.decode("utf-8", errors="replace")
        else:
            await part.release()
    if not upload.data:
        raise unprocessable("file can't be blank")
    return upload


async def create(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:media")
    upload = await read_upload(request)
    item = await create_attachment(
        node,
        me,
        upload.data,
        upload.mime_type,
        upload.fields.get("description"),
        upload.fields.get("focus"),
    )
    return web.json_response(media_entity(node.settings.base_url, item))


def _media_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError as exc:
        raise not_found() from exc


async def show(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:media")
    async with node.reads() as db:
        item = await own_attachment(db, me.id, _media_id(request))
    return web.json_response(media_entity(node.settings.base_url, item))


async def update(request: web.Request) -> web.Response:
    """Description and focal point, until the media is posted (as in Mastodon)."""
    node = request.app[NODE]
    _, me = await require_user(request, "write:media")
    params = await read_params(request)
    description = check_description(params.get_str("description"))
    focus = parse_focus(params.get_str("focus"))
    async with transaction(node) as db:
        item = await own_attachment(db, me.id, _media_id(request))
        if item.post_id is not None:
            raise unprocessable(
                f"media {item.id} is attached to a post: edit the post to change it"
            )
        if params.has("description"):
            item.description = description
        if focus is not None:
            item.focus_x, item.focus_y = focus
    return web.json_response(media_entity(node.settings.base_url, item))


async def destroy(request: web.Request) -> web.Response:
    """Mastodon 4.4: an upload never posted can be deleted; a posted one goes with its post."""
    node = request.app[NODE]
    _, me = await require_user(request, "write:media")
    async with transaction(node) as db:
        item = await own_attachment(db, me.id, _media_id(request))
        if item.post_id is not None:
            raise unprocessable(f"media {item.id} is attached to a post")
        names = [item.file_name, item.thumbnail_name]
        await db.delete(item)
    remove_files(node, names)
    return web.json_response({})


async def serve_file(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    path = media_path(node, request.match_info["file_name"])
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    content_type = MIME_BY_EXTENSION[path.suffix]
    return web.FileResponse(path, headers={**FILE_HEADERS, "Content-Type": content_type})


def setup_routes(app: web.Application) -> None:
    route(app, "POST", "/api/v2/media", create)
    route(app, "POST", "/api/v1/media", create)
    route(app, "GET", "/api/v1/media/{id}", show)
    route(app, "PUT", "/api/v1/media/{id}", update)
    route(app, "DELETE", "/api/v1/media/{id}", destroy)
    app.router.add_route("GET", "/media/{file_name}", serve_file)
