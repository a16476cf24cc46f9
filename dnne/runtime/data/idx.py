"""IDX files (the MNIST container format): read and write, raw or gzip-compressed.

Layout: a big-endian header `>HBB` (zero, element type, number of dimensions), one big-endian uint32 per dimension,
then the elements, big-endian, row-major.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import IdxFormatError
from .limits import MAX_IDX_BYTES, BoundedGzip, DecompressionLimitError

# element type code -> numpy dtype (big-endian, as stored)
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMS = 8


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IdxFormatError(f"IDX file {path} does not exist") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return _gunzip_idx(raw, str(path))
        except (OSError, EOFError, zlib.error) as exc:
            raise IdxFormatError(f"{path} is a corrupt or truncated gzip file ({exc}); download it again") from None
    return raw


def _gunzip_idx(raw: bytes, name: str) -> bytes:
    """Decompress no more than the header's dimensions announce (plus one byte, to tell "longer" apart)."""
    with BoundedGzip(io.BytesIO(raw), MAX_IDX_BYTES, name) as stream:
        head = stream.read_up_to(4)
        if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in IDX_TYPES or not 1 <= head[3] <= MAX_DIMS:
            return head  # parse_idx names what is wrong with the header
        head += stream.read_up_to(4 * head[3])
        if len(head) < 4 + 4 * head[3]:
            return head
        dims = struct.unpack_from(f">{head[3]}I", head, 4)
        expected = int(np.prod(dims, dtype=np.int64)) * IDX_TYPES[head[2]].itemsize
        if len(head) + expected > MAX_IDX_BYTES:
            raise DecompressionLimitError(
                f"{name}: its header announces dimensions {tuple(dims)} ({expected:,} bytes), more than the "
                f"{MAX_IDX_BYTES:,} bytes an IDX file may hold here; refused without decompressing it"
            )
        stream.limit = len(head) + expected + 1  # one byte more tells a longer payload from an exact one
        payload = stream.read_up_to(expected + 1)
        if len(payload) > expected:
            raise DecompressionLimitError(
                f"{name} decompresses to more than its header's dimensions {tuple(dims)} announce ({expected:,} "
                "bytes after the header); refused without decompressing the rest: a corrupt file or a decompression bomb"
            )
        return head + payload


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes (already decompressed) into a native-endian numpy array."""
    if len(data) < 4:
        raise IdxFormatError(f"{name} is too short to be an IDX file ({len(data)} bytes; the header alone is 4)")
    zero, type_code, ndim = struct.unpack_from(">HBB", data, 0)
    if zero != 0:
        raise IdxFormatError(f"{name} is not an IDX file: the first two bytes must be zero, got 0x{zero:04x}")
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_TYPES)
        raise IdxFormatError(f"{name} has unknown IDX element type 0x{type_code:02x} (known: {known})")
    if not 1 <= ndim <= MAX_DIMS:
        raise IdxFormatError(f"{name} declares {ndim} dimensions; expected 1 to {MAX_DIMS}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(f"{name} is truncated inside its header ({len(data)} bytes, header needs {header})")
    dims = struct.unpack_from(f">{ndim}I", data, 4)
    dtype = IDX_TYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    payload = len(data) - header
    if payload != expected:
        what = "truncated" if payload < expected else "longer than its header says"
        raise IdxFormatError(
            f"{name} is {what}: dimensions {tuple(dims)} of {dtype.itemsize}-byte elements need {expected} bytes "
            f"after the header, found {payload}"
        )
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip detected from its content, whatever its name) into a writable numpy array."""
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of `array` (uint8, int8, int16, int32, float32 or float64; 1 to 8 dimensions)."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise IdxFormatError(f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    if not 1 <= array.ndim <= MAX_DIMS:
        raise IdxFormatError(f"IDX stores 1 to {MAX_DIMS} dimensions, got an array of shape {array.shape}")
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write `array` as IDX; gzip (deterministic: mtime 0) when `compress` or, by default, when the name ends in .gz."""
    path = Path(path)
    data = encode_idx(array)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
            gz.write(data)
        data = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
