"""A dependency-free PNG writer for RGB frames (uint8 [H, W, 3])."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path: str | Path, rgb) -> None:
    """Write an RGB (or grayscale) uint8 image to `path`."""
    img = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"write_png expects an [H, W, 3] image, got shape {img.shape}")
    height, width, channels = img.shape
    color_type = 2 if channels == 3 else 6
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")
    )
    Path(path).write_bytes(data)
