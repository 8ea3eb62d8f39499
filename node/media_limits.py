"""Media limits and the stored-image record, shared by the upload service and the image
processing (which loads Pillow only when needed)."""

from __future__ import annotations

from dataclasses import dataclass

#: Refused before decoding (a bomb is small on disk, huge in memory). Mastodon's
#: ``image_matrix_limit``, 7680x4320, which /api/v2/instance advertises to clients.
MAX_PIXELS = 33_177_600
THUMBNAIL_SIDE = 400


@dataclass(frozen=True)
class StoredImage:
    """An image written under ``data_dir/media``: served at ``/media/{file_name}``."""

    file_name: str
    width: int
    height: int
    mime_type: str
    thumbnail_name: str
    blurhash: str


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size Pillow's ``thumbnail`` gives: aspect kept, longest side at most ``max_side``."""
    if max(width, height) <= max_side:
        return width, height
    if width >= height:
        return max_side, max(1, round(height * max_side / width))
    return max(1, round(width * max_side / height)), max_side
