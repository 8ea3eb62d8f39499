"""Media uploads over real HTTP: images are re-encoded (no EXIF survives), resized,
thumbnailed and blurhashed; only their owner can read or change them."""

from __future__ import annotations

import io
import os
import struct
import zlib

import aiohttp
import pytest
from PIL import ExifTags, Image

from node import media
from node.context import transaction
from node.errors import Invalid
from node.posts import create_post
from tests.api.conftest import ClientFactory
from tests.harness import RunningNode

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (2.0, 21.0, 3.0),
}


def png_bytes(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 40, 220), (0, 0, width // 2, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps(width: int, height: int, orientation: int = 1) -> bytes:
    """A phone photo: GPS position in EXIF, and the camera's orientation tag."""
    image = Image.new("RGB", (width, height), (10, 120, 60))
    image.paste((250, 250, 0), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def bomb_png(width: int, height: int) -> bytes:
    """Only a header announcing a huge image: decoding it would need gigabytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def form(data: bytes, content_type: str, **fields: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field("file", data, filename="upload", content_type=content_type)
    for key, value in fields.items():
        body.add_field(key, value)
    return body


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[bytes, dict[str, str]]:
    async with session.get(url) as response:
        assert response.status == 200, url
        return await response.read(), dict(response.headers)


async def test_png_upload_is_resized_thumbnailed_and_blurhashed(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """A 3000 px wide PNG comes back at most 2560 px wide with a 400 px preview."""
    alice = await api(node_a, "alice")

    entity = await alice.post(
        "/api/v2/media", data=form(png_bytes(3000, 1500), "image/png", description="flag")
    )

    assert entity["type"] == "image"
    assert entity["description"] == "flag"
    assert entity["meta"]["original"] == {
        "width": 2560,
        "height": 1280,
        "size": "2560x1280",
        "aspect": 2.0,
    }
    assert entity["meta"]["small"]["width"] == 400
    assert entity["blurhash"] and len(entity["blurhash"]) >= 6
    assert entity["url"] != entity["preview_url"]

    stored, headers = await fetch(alice.session, entity["url"])
    assert Image.open(io.BytesIO(stored)).size == (2560, 1280)
    assert headers["Content-Type"] == "image/png"
    assert "immutable" in headers["Cache-Control"]
    preview, _ = await fetch(alice.session, entity["preview_url"])
    assert max(Image.open(io.BytesIO(preview)).size) == 400


async def test_jpeg_exif_is_stripped_after_applying_orientation(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """GPS coordinates never reach the published file; the picture still stands up."""
    alice = await api(node_a, "alice")
    # Given a 300x200 photo whose EXIF says "rotate 90°" and holds a GPS position
    upload = jpeg_with_gps(300, 200, orientation=6)

    # When it is uploaded through the legacy v1 endpoint
    entity = await alice.post("/api/v1/media", data=form(upload, "image/jpeg"))

    # Then the stored JPEG is upright (200x300) and carries no metadata at all
    assert entity["meta"]["original"]["width"] == 200
    assert entity["meta"]["original"]["height"] == 300
    for url in (entity["url"], entity["preview_url"]):
        stored, headers = await fetch(alice.session, url)
        assert headers["Content-Type"] == "image/jpeg"
        image = Image.open(io.BytesIO(stored))
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info
        assert b"Exif" not in stored and b"PhoneCo" not in stored


async def test_get_and_put_own_media(node_a: RunningNode, api: ClientFactory) -> None:
    alice = await api(node_a, "alice")
    entity = await alice.post(
        "/api/v2/media", data=form(png_bytes(64, 48), "image/png", focus="0.5,-0.25")
    )
    assert entity["meta"]["focus"] == {"x": 0.5, "y": -0.25}

    shown = await alice.get(f"/api/v1/media/{entity['id']}")
    assert shown == entity

    updated = await alice.put(
        f"/api/v1/media/{entity['id']}", json={"description": "a red square", "focus": "-1,1"}
    )
    assert updated["description"] == "a red square"
    assert updated["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    assert (await alice.get(f"/api/v1/media/{entity['id']}/"))["description"] == "a red square"

    _, body, _ = await alice.call(
        "PUT", f"/api/v1/media/{entity['id']}", json={"focus": "2,0"}, expect=422
    )
    assert "focus" in body["error"]


async def test_someone_elses_media_is_not_found(node_a: RunningNode, api: ClientFactory) -> None:
    """Carol cannot read or change Alice's upload, nor learn that it exists."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    entity = await alice.post("/api/v2/media", data=form(png_bytes(10, 10), "image/png"))

    await carol.call("GET", f"/api/v1/media/{entity['id']}", expect=404)
    await carol.call("PUT", f"/api/v1/media/{entity['id']}", json={"description": "x"}, expect=404)
    await carol.call("GET", "/api/v1/media/12345", expect=404)
    await carol.call("DELETE", f"/api/v1/media/{entity['id']}", expect=404)
    assert (await alice.get(f"/api/v1/media/{entity['id']}"))["id"] == entity["id"]


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b"just some text, not a picture", "text/plain", "only images"),
        (b"%PDF-1.4 not an image", "application/octet-stream", "not an image"),
        (bomb_png(20_000, 20_000), "image/png", "too large"),
        (png_bytes(20, 20)[:60], "image/png", "damaged"),
    ],
)
async def test_uploads_that_are_not_reasonable_images_are_refused(
    node_a: RunningNode, api: ClientFactory, data: bytes, content_type: str, message: str
) -> None:
    alice = await api(node_a, "alice")
    _, body, _ = await alice.call(
        "POST", "/api/v2/media", data=form(data, content_type), expect=422
    )
    assert message in body["error"]
    assert not list((node_a.settings.data_dir / "media").glob("*"))


async def test_uploads_may_exceed_the_api_body_limit_up_to_16_mb(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """Other requests are capped at ``max_body_bytes`` (1 MB); a photo is not. Past
    16 MB the upload is refused with a message rather than a dropped connection."""
    alice = await api(node_a, "alice")
    noise = Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000))
    out = io.BytesIO()
    noise.save(out, format="PNG", compress_level=1)
    assert len(out.getvalue()) > node_a.settings.max_body_bytes

    entity = await alice.post("/api/v2/media", data=form(out.getvalue(), "image/png"))
    assert entity["meta"]["original"]["size"] == "1000x1000"

    too_big = out.getvalue() + os.urandom(17 * 2**20 - len(out.getvalue()))
    _, body, _ = await alice.call(
        "POST", "/api/v2/media", data=form(too_big, "image/png"), expect=422
    )
    assert "too large" in body["error"]


async def test_upload_needs_a_token_with_write_media(
    node_a: RunningNode, api: ClientFactory
) -> None:
    anonymous = await api(node_a, None)
    reader = await api(node_a, "alice", scopes="read")
    await anonymous.call(
        "POST", "/api/v2/media", data=form(png_bytes(8, 8), "image/png"), expect=401
    )
    await reader.call("POST", "/api/v2/media", data=form(png_bytes(8, 8), "image/png"), expect=403)
    await reader.call("POST", "/api/v2/media", data={"description": "no file"}, expect=403)
    writer = await api(node_a, "alice", scopes="write:media")
    await writer.call("POST", "/api/v2/media", data={"description": "no file"}, expect=422)


async def test_media_route_serves_only_generated_names(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """The data directory (database, keys) is never reachable through /media/."""
    alice = await api(node_a, "alice")
    (node_a.settings.data_dir / "media").mkdir(exist_ok=True)
    for name in ("cercle.db", "..%2Fcercle.db", "%2e%2e%2fcercle.db", "x" * 30 + ".db"):
        async with alice.session.get(f"{node_a.base_url}/media/{name}") as response:
            assert response.status == 404, name


async def test_unattached_media_can_be_deleted(node_a: RunningNode, api: ClientFactory) -> None:
    alice = await api(node_a, "alice")
    entity = await alice.post("/api/v2/media", data=form(png_bytes(8, 8), "image/png"))
    await alice.delete(f"/api/v1/media/{entity['id']}")
    await alice.call("GET", f"/api/v1/media/{entity['id']}", expect=404)
    async with alice.session.get(entity["url"]) as response:
        assert response.status == 404


async def test_claim_for_post_checks_owner_state_and_count(node_a: RunningNode) -> None:
    """What the statuses endpoint relies on: own, unattached uploads only, at most four,
    each refusal naming the upload at fault."""
    node = node_a.node
    alice = await node_a.actor("alice")
    carol = await node_a.actor("carol")
    mine = [
        await media.create_attachment(node, alice, png_bytes(30, 20), "image/png", f"pic {i}")
        for i in range(5)
    ]
    theirs = await media.create_attachment(node, carol, png_bytes(8, 8), "image/png", None)
    post = await create_post(node, alice, "with pictures")
    other_post = await create_post(node, alice, "another one")

    async with transaction(node) as db:
        claimed = await media.claim_for_post(db, alice.id, [str(mine[1].id), mine[0].id], post.id)
    assert [m.id for m in claimed] == [mine[1].id, mine[0].id]
    assert all(m.post_id == post.id for m in claimed)

    async with transaction(node) as db:  # the same post may claim them again (an edit)
        assert len(await media.claim_for_post(db, alice.id, [mine[0].id], post.id)) == 1

    refusals = [
        ([theirs.id], str(theirs.id)),
        ([mine[0].id], "already attached"),
        ([m.id for m in mine], "at most 4"),
        (["nope"], "nope"),
        ([999], "999"),
    ]
    for ids, message in refusals:
        with pytest.raises(Invalid, match=message):
            async with transaction(node) as db:
                await media.claim_for_post(db, alice.id, ids, other_post.id)

    documents = media.attachment_documents(node.settings.base_url, claimed)
    assert documents[0] == {
        "type": "Document",
        "mediaType": "image/png",
        "url": f"{node.settings.base_url}/media/{mine[1].file_name}",
        "name": "pic 1",
        "blurhash": mine[1].blurhash,
        "width": 30,
        "height": 20,
    }


async def test_store_image_for_avatars_keeps_alpha_and_custom_size(node_a: RunningNode) -> None:
    """The accounts service stores avatars with a smaller ``max_side``."""
    image = Image.new("RGBA", (1000, 800), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")

    stored = await media.store_image(node_a.node, out.getvalue(), mime_type=None, max_side=400)

    assert (stored.width, stored.height) == (400, 320)
    assert stored.mime_type == "image/png"
    path = media.media_path(node_a.node, stored.file_name)
    assert path is not None and Image.open(path).mode == "RGBA"
    assert media.media_path(node_a.node, stored.thumbnail_name) is not None
