"""Uploaded and fetched images under hostile bytes: truncated and bit-flipped files, bogus
formats and decompression bombs are refused with ``Invalid`` (HTTP 422), never a crash, and
never leave a half-written file behind."""

from __future__ import annotations

import io
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from node.errors import Invalid
from node.imaging import process_image
from tests.fuzz.conftest import FUZZ


def _encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (24, 16)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 90) if mode == "RGB" else None).save(out, format=fmt)
    return out.getvalue()


SEEDS = [_encoded("PNG"), _encoded("JPEG"), _encoded("GIF", "P"), _encoded("WEBP")]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb:
    a few hundred bytes on disk, gigabytes once decoded)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    how = draw(st.sampled_from(["truncate", "flip", "splice"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(min_value=0, max_value=len(data) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            at = draw(st.integers(min_value=0, max_value=len(data) - 1))
            data[at] = draw(st.integers(min_value=0, max_value=255))
        return bytes(data)
    at = draw(st.integers(min_value=0, max_value=len(data)))
    return bytes(data[:at]) + draw(st.binary(max_size=64)) + bytes(data[at:])


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "media"
        try:
            stored = process_image(data, directory, 64)
        except Invalid as exc:
            assert str(exc)
            leftovers = list(directory.iterdir()) if directory.exists() else []
            assert leftovers == [], "a refused image leaves no file"
        else:
            assert stored.width <= 64 and stored.height <= 64
            assert (directory / stored.file_name).stat().st_size > 0


@FUZZ
@given(st.one_of(damaged(), st.binary(max_size=300)))
def test_damaged_images_are_refused_cleanly(data: bytes) -> None:
    _check(data)


@pytest.mark.parametrize("size", [(100_000, 100_000), (8000, 4321), (2**31 - 1, 1), (1, 2**31 - 1)])
def test_decompression_bombs_are_refused_before_decoding(size: tuple[int, int]) -> None:
    """A PNG claiming more pixels than the limit is refused from its header alone."""
    with pytest.raises(Invalid, match="too large"):
        process_image(png_bomb(*size), Path(tempfile.mkdtemp()), 64)


def test_seeds_are_valid_images() -> None:
    for data in SEEDS:
        _check(data)
