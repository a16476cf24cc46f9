"""Bounded decompression: a data file from a stranger must not expand without limit (a 2 MB gzip bomb is 2 GB).

Every reader that decompresses goes through here. The limit is the size the file's own header promises (IDX dims,
the `.npy` header of an npz member) where there is one, else a fixed cap per kind of file. Decompression stops one
byte past the limit, so refusing a bomb costs at most `limit` bytes of memory.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import IO

from .errors import DataError

MiB = 1 << 20
GiB = 1 << 30
MAX_IDX_BYTES = 4 * GiB  # the largest decompressed IDX file a header may announce
MAX_CSV_BYTES = 1 * GiB  # a decompressed CSV table (parsed into Python lists: several times this in memory)
MAX_NPZ_BYTES = 4 * GiB  # all arrays of one .npz archive together, as their headers announce them
MAX_PICKLE_BYTES = 512 * MiB  # mnist.pkl.gz: 220 MB decompressed


class DecompressionLimitError(DataError):
    """A compressed file expands beyond what its header (or the cap for its kind) allows."""


def _size(n: int) -> str:
    return f"{n / MiB:,.1f} MiB" if n >= MiB else f"{n:,} bytes"


class BoundedGzip(io.RawIOBase):
    """A readable gzip stream that raises `DecompressionLimitError` once more than `limit` bytes come out."""

    def __init__(self, source: Path | IO[bytes], limit: int, origin: str):
        self._gz = gzip.open(source, "rb") if isinstance(source, Path) else gzip.GzipFile(fileobj=source, mode="rb")
        self.limit, self.origin, self.count = limit, origin, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        room = self.limit + 1 - self.count
        if room <= 0:
            self._refuse()
        n = self._gz.readinto(view[: min(len(view), room, MiB)])  # gzip copies via a temporary this size
        self.count += n
        if self.count > self.limit:
            self._refuse()
        return n

    def read_up_to(self, n: int) -> bytes:
        """Up to `n` bytes (fewer only at the end of the data), read in chunks: memory grows with what comes out."""
        out = bytearray()
        chunk = bytearray(min(n, MiB))
        while len(out) < n:
            view = memoryview(chunk)[: min(len(chunk), n - len(out))]
            got = self.readinto(view)
            if got == 0:
                break
            out += view[:got]
        return bytes(out)

    def close(self) -> None:
        self._gz.close()
        super().close()

    def _refuse(self) -> None:
        raise DecompressionLimitError(
            f"{self.origin} decompresses to more than {_size(self.limit)} (the most this file may hold); "
            "refused without decompressing the rest: it is corrupt or a decompression bomb"
        )


def gunzip(raw: bytes, limit: int, origin: str) -> bytes:
    """All of the gzip data `raw`, refused when it would exceed `limit` bytes."""
    with BoundedGzip(io.BytesIO(raw), limit, origin) as stream:
        return _read_all(stream)


def _read_all(stream: BoundedGzip) -> bytes:
    try:
        return stream.read_up_to(stream.limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{stream.origin} is a corrupt or truncated gzip file ({exc})") from None


def check_npz_sizes(path: Path, origin: str) -> None:
    """Refuse an .npz whose members announce more than MAX_NPZ_BYTES, or whose `.npy` headers announce more data
    than their member holds. zipfile never inflates a member past its declared size, so these sizes bound memory."""
    import zipfile

    import numpy as np

    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return  # not a zip: np.load reports it
    with archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_NPZ_BYTES:
            raise DecompressionLimitError(
                f"{origin}: its members decompress to {_size(total)}, more than the {_size(MAX_NPZ_BYTES)} an .npz "
                "archive may hold here; refused without decompressing it"
            )
        for member in members:
            if not member.filename.endswith(".npy"):
                continue
            try:
                with archive.open(member) as stream:
                    version = np.lib.format.read_magic(stream)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(stream)
            except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
                raise DataError(f"{origin}: member {member.filename} is not a valid .npy array ({exc})") from None
            announced = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if announced > member.file_size:
                raise DecompressionLimitError(
                    f"{origin}: array {member.filename} announces shape {tuple(shape)} of {dtype} "
                    f"({_size(announced)}), but its member holds {_size(member.file_size)}: corrupt or crafted"
                )
