"""Tensors as pictures without any imaging library: a grid of images (numpy) and a minimal PNG writer (zlib)."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

MAX_IMAGES = 64
PAD = 2


def _as_images(array: np.ndarray) -> np.ndarray:
    """[N, H, W, C] float (C = 1 or 3) from a tensor of 1 to 5+ dimensions (see `tensor_grid`)."""
    if array.ndim == 0:
        array = array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, 1, -1, 1)
    if array.ndim == 2:
        n, f = array.shape
        side = math.isqrt(f)
        if side * side == f and side >= 8 and n <= 4 * MAX_IMAGES:  # a batch of flattened square images
            return array.reshape(n, side, side, 1)
        return array.reshape(1, n, f, 1)
    if array.ndim > 4:
        array = array.reshape(-1, *array.shape[-3:])
    if array.ndim == 3:
        if array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
            return np.moveaxis(array, 0, -1)[None]  # one [C, H, W] image
        return array[..., None]  # N grayscale [H, W] images
    if array.shape[1] in (1, 3):
        return np.moveaxis(array, 1, -1)  # [N, C, H, W]
    if array.shape[-1] in (1, 3, 4):
        return array[..., :3] if array.shape[-1] == 4 else array  # [N, H, W, C] (ComfyUI IMAGE)
    return array.reshape(-1, *array.shape[-2:])[..., None]  # other channel counts: one gray tile per channel


def tensor_grid(value: Any, max_images: int = MAX_IMAGES, min_size: int = 64) -> np.ndarray:
    """A uint8 picture [H, W, 3] of a tensor: image batches as a grid, matrices and vectors as gray maps.

    Accepted layouts: [N, C, H, W] and [N, H, W, C] with C in 1/3 (4 drops alpha), [C, H, W], [N, H, W], [N, F] with F
    a square ≥ 64 (flattened images, e.g. MNIST 784), any other 2-D matrix or 1-D vector. Values are scaled min→0,
    max→255 over the whole tensor. At most `max_images` tiles; small pictures are enlarged (nearest neighbour).
    """
    if hasattr(value, "detach"):
        value = value.detach().to("cpu").float().numpy()
    array = np.asarray(value, dtype=np.float32)
    if array.size == 0:
        raise ValueError(f"cannot draw an empty tensor (shape {list(array.shape)})")
    images = _as_images(array)[:max_images]
    finite = np.isfinite(images)
    lo = float(images[finite].min()) if finite.any() else 0.0
    hi = float(images[finite].max()) if finite.any() else 0.0
    scaled = np.where(finite, images - lo, 0.0) / (hi - lo if hi > lo else 1.0)
    tiles = np.clip(np.rint(scaled * 255.0), 0, 255).astype(np.uint8)
    if tiles.shape[-1] == 1:
        tiles = np.repeat(tiles, 3, axis=-1)
    n, h, w, _ = tiles.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    pad = PAD if n > 1 else 0
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 40, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = tiles[i]
    factor = max(1, min(16, math.ceil(min_size / max(1, min(grid.shape[:2])))))
    if factor > 1 and max(grid.shape[:2]) * factor <= 4096:
        grid = grid.repeat(factor, axis=0).repeat(factor, axis=1)
    return grid


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes of a uint8 [H, W] (gray) or [H, W, 3] (RGB) array; `text` adds tEXt chunks (Latin-1)."""
    pixels = np.ascontiguousarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"encode_png needs uint8 [H, W] or [H, W, 3], got {pixels.dtype} {list(pixels.shape)}")
    height, width = pixels.shape[:2]
    color = 0 if pixels.ndim == 2 else 2
    raw = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1).tobytes()
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
    for key, value in (text or {}).items():
        data = key.encode("latin-1", "replace")[:79] + b"\x00" + value.encode("latin-1", "replace")
        out += _chunk(b"tEXt", data)
    return out + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def write_png(path: str | Path, pixels: np.ndarray, text: dict[str, str] | None = None) -> Path:
    """Write a PNG atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(encode_png(pixels, text))
    tmp.replace(path)
    return path


def _file_stem(node_id: str) -> str:
    return "node_" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in str(node_id))


def save_tensor_image(
    value: Any, folder: str | Path, node_id: str, count: int, max_files: int, caption: str = ""
) -> tuple[Path, np.ndarray]:
    """Write firing `count` of a visualizer node as `node_<id>_<count>.png` (beyond `max_files`: `…_latest.png`).

    Returns the path written and the picture (uint8 [H, W, 3]). The caption goes into the PNG's Title text.
    """
    picture = tensor_grid(value)
    stem = _file_stem(node_id)
    name = f"{stem}_{count:05d}.png" if count <= max_files else f"{stem}_latest.png"
    text = {"Title": caption} if caption else {}
    if hasattr(value, "shape"):
        text["Description"] = "shape " + "x".join(str(d) for d in value.shape)
    return write_png(Path(folder) / name, picture, text), picture
