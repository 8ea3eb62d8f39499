"""Image processing for uploads, pure and synchronous (run it in a thread): decode,
refuse bombs, apply the EXIF orientation then drop every metadata chunk, convert to sRGB,
resize, thumbnail, blurhash. Kept apart from node/media.py so that Pillow is imported only
when an image first arrives."""

from __future__ import annotations

import contextlib
import io
import secrets
import warnings
from pathlib import Path
from typing import Any

import blurhash
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from node.errors import Invalid
from node.media_limits import MAX_PIXELS, THUMBNAIL_SIDE, StoredImage

#: Blurhash is computed in pure Python: from a tiny image it stays a millisecond affair.
BLURHASH_SOURCE_SIDE = 32

#: What we accept (Pillow's format name) and what we store it as.
OUTPUT_FORMAT = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG", "MPO": "JPEG"}
EXTENSION = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MIME_TYPE = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 85, "optimize": True, "progressive": True},
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 85, "method": 4},
}
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def process_image(data: bytes, directory: Path, max_side: int) -> StoredImage:
    image, source_format = _decode(data)
    output = OUTPUT_FORMAT[source_format]
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    if output == "JPEG":
        has_alpha = False
    image = _to_srgb(image, has_alpha)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A fresh image from the bare pixels: no EXIF, XMP, ICC, comments or PNG text chunks
    # can survive, whatever the encoder would otherwise copy from ``info``.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    thumbnail = clean.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)

    directory.mkdir(parents=True, exist_ok=True)
    stem = secrets.token_urlsafe(24)
    extension = EXTENSION[output]
    file_name = f"{stem}.{extension}"
    thumbnail_name = f"{stem}_small.{extension}"
    written: list[Path] = []
    try:
        for name, picture in ((file_name, clean), (thumbnail_name, thumbnail)):
            path = directory / name
            with path.open("xb") as handle:
                written.append(path)
                picture.save(handle, format=output, **SAVE_OPTIONS[output])
    except OSError:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return StoredImage(
        file_name=file_name,
        width=clean.width,
        height=clean.height,
        mime_type=MIME_TYPE[output],
        thumbnail_name=thumbnail_name,
        blurhash=_blurhash(thumbnail),
    )


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """Open, check the header's size before decoding any pixel, then load the first frame."""
    with warnings.catch_warnings():
        # Pillow only warns below twice its own limit; a warning here is a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Invalid(
                f"the image is too large: at most {MAX_PIXELS // 1_000_000} megapixels"
            ) from exc
        except DECODE_ERRORS as exc:
            raise Invalid("the file is not an image (JPEG, PNG, WebP or GIF)") from exc
        source_format = image.format or ""
        if source_format not in OUTPUT_FORMAT:
            raise Invalid(
                f"unsupported image format {source_format or 'unknown'}: use JPEG, PNG, WebP or GIF"
            )
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise Invalid(
                f"the image is too large ({width}x{height}): at most "
                f"{MAX_PIXELS // 1_000_000} megapixels"
            )
        try:
            image.seek(0)
            image.load()
            # Orientation first (it lives in the EXIF we are about to drop).
            image = ImageOps.exif_transpose(image)
        except DECODE_ERRORS as exc:
            raise Invalid("the image is damaged or truncated and cannot be read") from exc
    return image, source_format


def _to_srgb(image: Image.Image, has_alpha: bool) -> Image.Image:
    """RGB or RGBA pixels. A colour profile, which is about to be dropped, is applied
    first, so that wide-gamut phone photos and CMYK scans keep their colours."""
    target = "RGBA" if has_alpha else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode=output_mode,
            )
            if converted is not None:
                image = converted
    return image if image.mode == target else image.convert(target)


def _blurhash(picture: Image.Image) -> str:
    small = picture.convert("RGB")
    small.thumbnail((BLURHASH_SOURCE_SIDE, BLURHASH_SOURCE_SIDE), Image.Resampling.BILINEAR)
    width, height = small.size
    raw = small.tobytes()
    rows = [
        [raw[i : i + 3] for i in range(y * width * 3, (y + 1) * width * 3, 3)]
        for y in range(height)
    ]
    return str(blurhash.encode(rows, 4, 3))
