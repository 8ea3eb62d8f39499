"""Uploaded images: made safe to publish, stored under the data directory, attached to posts.

Every upload is decoded and re-encoded, never stored as sent: that is what removes EXIF
(a phone photo's GPS position would otherwise be published with it), applies the camera's
orientation first so the picture still stands the right way up, and refuses files that
are not images or that would decode into gigabytes (decompression bombs).

Files get random, unguessable names: a media URL is a capability, so a followers-only
post's pictures cannot be found by counting.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node, transaction
from node.db.models import Actor, MediaAttachment
from node.errors import Invalid, NotFound
from node.media_limits import StoredImage

MAX_BYTES = 16 * 1024 * 1024
#: Refused before decoding (a bomb is small on disk, huge in memory). Mastodon's
#: ``image_matrix_limit``, 7680x4320, which /api/v2/instance advertises to clients.
MAX_SIDE = 2560
MAX_ATTACHMENTS = 4
DESCRIPTION_LIMIT = 1500

#: The names we generate: anything else asked of the media route is refused unread.
FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{20,64}\.(?:jpg|png|webp)$")


def media_dir(node: Node) -> Path:
    return node.settings.data_dir / "media"


def media_path(node: Node, file_name: str) -> Path | None:
    """The stored file for a requested name, or None for any name we would not generate
    (so ``../cercle.db`` and friends never reach the file system)."""
    if not FILE_NAME.fullmatch(file_name):
        return None
    return media_dir(node) / file_name


async def store_image(
    node: Node, data: bytes, *, mime_type: str | None, max_side: int = MAX_SIDE
) -> StoredImage:
    """Decode, clean, resize and store an uploaded image with its thumbnail and blurhash.

    Raises ``Invalid`` (422) with a message a person can act on for anything that is not
    a reasonable image. Decoding runs in a thread: a large JPEG takes long enough to
    stall every other request of the node.
    """
    if len(data) > MAX_BYTES:
        raise Invalid(f"the file is too large: images are at most {MAX_BYTES // 2**20} MB")
    if not data:
        raise Invalid("the file is empty")
    if mime_type and mime_type.split("/", 1)[0] in ("video", "audio", "text"):
        raise Invalid(f"unsupported file type {mime_type}: only images can be uploaded")
    from node.imaging import process_image

    return await asyncio.to_thread(process_image, data, media_dir(node), max_side)


def remove_files(node: Node, names: Iterable[str | None]) -> None:
    """Best effort: a file left behind is wasted space, never a leak (its name is random)."""
    for name in names:
        if name and (path := media_path(node, name)) is not None:
            path.unlink(missing_ok=True)


# --- attachments ----------------------------------------------------------------------


def parse_focus(value: str | Sequence[float] | None) -> tuple[float, float] | None:
    """Mastodon's focal point, ``"x,y"`` with both in [-1, 1] (0,0 is the centre)."""
    if value is None or value == "":
        return None
    parts: Sequence[Any] = value.split(",") if isinstance(value, str) else value
    try:
        x, y = (float(p) for p in parts)
    except (TypeError, ValueError) as exc:
        raise Invalid("focus must be two numbers, x,y, between -1.0 and 1.0") from exc
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise Invalid("focus must be two numbers, x,y, between -1.0 and 1.0")
    return x, y


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > DESCRIPTION_LIMIT:
        raise Invalid(f"the description is at most {DESCRIPTION_LIMIT} characters")
    return description or None


async def create_attachment(
    node: Node,
    owner: Actor,
    data: bytes,
    mime_type: str | None,
    description: str | None = None,
    focus: str | Sequence[float] | None = None,
) -> MediaAttachment:
    """Store an image and record it as ``owner``'s, not yet attached to any post."""
    description = check_description(description)
    point = parse_focus(focus)
    stored = await store_image(node, data, mime_type=mime_type)
    item = MediaAttachment(
        owner_id=owner.id,
        type="image",
        mime_type=stored.mime_type,
        file_name=stored.file_name,
        thumbnail_name=stored.thumbnail_name,
        width=stored.width,
        height=stored.height,
        blurhash=stored.blurhash,
        description=description,
        focus_x=point[0] if point else None,
        focus_y=point[1] if point else None,
    )
    try:
        async with transaction(node) as db:
            db.add(item)
    except BaseException:
        remove_files(node, [stored.file_name, stored.thumbnail_name])
        raise
    return item


async def own_attachment(db: AsyncSession, owner_id: int, media_id: int) -> MediaAttachment:
    """The owner's attachment; someone else's is reported exactly like a missing one."""
    item = await db.get(MediaAttachment, media_id)
    if item is None or item.owner_id != owner_id:
        raise NotFound("Record not found")
    return item


async def claim_for_post(
    db: AsyncSession, owner_id: int, media_ids: Sequence[int | str], post_id: int
) -> list[MediaAttachment]:
    """Attach uploads to a post inside the caller's transaction, in the order given.

    Each must be the author's own and not attached elsewhere (re-claiming for the same
    post is allowed, so an edit can keep its pictures). Raises ``Invalid`` naming the
    offending id.
    """
    ids: list[int] = []
    for raw in media_ids:
        try:
            number = int(raw)
        except (TypeError, ValueError) as exc:
            raise Invalid(f"media id {raw!r} is not a valid id") from exc
        if number not in ids:
            ids.append(number)
    if len(ids) > MAX_ATTACHMENTS:
        raise Invalid(f"a post has at most {MAX_ATTACHMENTS} attachments")
    if not ids:
        return []
    rows = await db.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(ids)))
    found = {m.id: m for m in rows}
    claimed = []
    for media_id in ids:
        item = found.get(media_id)
        if item is None or item.owner_id != owner_id:
            raise Invalid(f"media {media_id} does not exist or is not yours")
        if item.post_id is not None and item.post_id != post_id:
            raise Invalid(f"media {media_id} is already attached to another post")
        item.post_id = post_id
        claimed.append(item)
    await db.flush()
    return claimed


def media_url(base_url: str, file_name: str) -> str:
    return f"{base_url}/media/{file_name}"


def attachment_documents(base_url: str, items: Iterable[MediaAttachment]) -> list[dict[str, Any]]:
    """ActivityStreams ``Document``s for a post's ``attachment``, as Mastodon reads them
    (``blurhash`` and ``focalPoint`` are Mastodon's ``toot:`` extensions)."""
    documents = []
    for item in items:
        document: dict[str, Any] = {
            "type": "Document",
            "mediaType": item.mime_type,
            "url": media_url(base_url, item.file_name),
            "name": item.description,
            "blurhash": item.blurhash,
        }
        if item.width and item.height:
            document["width"] = item.width
            document["height"] = item.height
        if item.focus_x is not None and item.focus_y is not None:
            document["focalPoint"] = [item.focus_x, item.focus_y]
        documents.append(document)
    return documents
