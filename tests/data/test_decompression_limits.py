"""Decompression bombs: every reader that decompresses stops at the size the file announces (or a cap per kind).

Each bomb is ~2 MB on disk and expands to 2 GiB; before the limits, `gzip.decompress` inflated all of it. The tests
measure the peak of Python allocations (tracemalloc: numpy and bytes buffers are traced) while the file is refused.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from dnne.runtime.data import limits
from dnne.runtime.data.datasets import load_csv, load_npz
from dnne.runtime.data.errors import DataError
from dnne.runtime.data.idx import encode_idx, read_idx
from dnne.runtime.data.limits import DecompressionLimitError

BOMB_MIB = 2048  # what each bomb expands to
PEAK_LIMIT = 64 << 20  # refusing a bomb may cost what the file announces (or its kind's cap), not what it expands to


def gzip_bomb(head: bytes, mib: int = BOMB_MIB, filler: bytes = b"\0") -> bytes:
    """`head`, then `mib` MiB of `filler`, gzip-compressed (≈ 1 KiB per MiB)."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = filler * ((1 << 20) // len(filler))
    parts = [co.compress(head)]
    parts += [co.compress(block) for _ in range(mib)]
    parts.append(co.flush())
    return b"".join(parts)


def refuse_measured(read, path, match: str, allowed: int = PEAK_LIMIT) -> int:
    """Run `read(path)` expecting a refusal matching `match`; the peak of traced allocations (bytes) must stay
    under `allowed`."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=match) as info:
            read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{path.name}: {path.stat().st_size / 1e6:.1f} MB on disk, peak {peak / 2**20:.1f} MiB, max RSS {rss_mib:.0f} MiB"
    )
    assert peak < allowed, f"refusing {path.name} allocated {peak / 2**20:.0f} MiB (max RSS {rss_mib:.0f} MiB)"
    assert isinstance(info.value, DecompressionLimitError)
    return peak


def test_idx_gzip_bomb_stops_at_the_header_dimensions(tmp_path):
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    bomb.write_bytes(gzip_bomb(encode_idx(np.zeros((10, 28, 28), np.uint8))))
    assert bomb.stat().st_size < 3_000_000
    refuse_measured(read_idx, bomb, r"more than its header's dimensions \(10, 28, 28\) announce")


def test_idx_header_announcing_more_than_the_cap_is_refused_before_decompressing(tmp_path):
    huge = b"\x00\x00\x08\x03" + np.array([60000, 4096, 4096], dtype=">u4").tobytes()  # 1 TB announced
    bomb = tmp_path / "huge-idx3-ubyte.gz"
    bomb.write_bytes(gzip_bomb(huge))
    refuse_measured(read_idx, bomb, r"announces dimensions \(60000, 4096, 4096\)")


def test_an_exact_idx_file_still_reads(tmp_path):
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = tmp_path / "ok.gz"
    path.write_bytes(gzip_bomb(encode_idx(array), mib=0))
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.slow  # inflates up to the cap (1 GiB / 512 MiB): ~10 s
def test_csv_gzip_bomb_stops_at_the_csv_cap(tmp_path):
    bomb = tmp_path / "table.csv.gz"
    bomb.write_bytes(gzip_bomb(b"a,b,label\n", filler=b"1,2,3\n"))
    refuse_measured(load_csv, bomb, r"decompresses to more than 1,024.0 MiB", limits.MAX_CSV_BYTES + PEAK_LIMIT)


@pytest.mark.slow  # inflates up to the cap (1 GiB / 512 MiB): ~10 s
def test_mnist_pickle_bomb_stops_at_the_pickle_cap(tmp_path):
    """The pickle announces a 2 GiB bytes object (BINBYTES8) and the gzip really holds 2 GiB. The unpickler reserves
    the announced size (virtual memory, untouched), so what counts is the resident memory of a fresh process."""
    bomb = tmp_path / "mnist.pkl.gz"
    bomb.write_bytes(gzip_bomb(b"\x80\x04\x8e" + (BOMB_MIB << 20).to_bytes(8, "little")))
    code = (
        "import sys\n"
        "from dnne.runtime.data.errors import DataError\n"
        "from dnne.runtime.data.mnist import read_mnist_pickle\n"
        "try:\n"
        f"    read_mnist_pickle({str(bomb)!r})\n"
        "except DataError as exc:\n"
        "    print(exc)\n"
        "hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')]\n"
        "print('peak-rss-kib', hwm[0].split()[1])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    # VmHWM: this process image's own peak resident memory (ru_maxrss would include the forked pytest's)
    *_, peak_line = proc.stdout.strip().splitlines()
    peak_mib = int(peak_line.split()[1]) / 1024
    print(
        f"{bomb.name}: {bomb.stat().st_size / 1e6:.1f} MB on disk, peak RSS {peak_mib:.0f} MiB: {proc.stdout.strip()}"
    )
    assert proc.returncode == 0, proc.stderr
    assert "decompresses to more than 512.0 MiB" in proc.stdout
    # before the limit: 4,328 MiB; now the cap plus the interpreter, numpy and torch (~220 MiB)
    assert peak_mib < limits.MAX_PICKLE_BYTES / 2**20 + 512, f"peak RSS {peak_mib:.0f} MiB"


def _npz_with_member(path, name: str, header_shape: tuple[int, ...], payload_mib: int, declared_extra: int = 0):
    array_header = io.BytesIO()
    np.lib.format.write_array_header_1_0(array_header, {"descr": "|u1", "fortran_order": False, "shape": header_shape})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open(name, "w", force_zip64=True) as member:
            member.write(array_header.getvalue())
            block = bytes(1 << 20)
            for _ in range(payload_mib):
                member.write(block)


def test_npz_array_header_announcing_more_than_its_member_is_refused(tmp_path):
    path = tmp_path / "lies.npz"
    _npz_with_member(path, "x_train.npy", (60000, 4096, 4096), payload_mib=1)
    refuse_measured(load_npz, path, r"announces shape \(60000, 4096, 4096\).*but its member holds")


def test_npz_members_over_the_cap_are_refused_before_inflating(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_NPZ_BYTES", 64 << 20)  # the real cap (4 GiB) would take minutes to compress
    path = tmp_path / "big.npz"
    _npz_with_member(path, "x_train.npy", (128 << 20,), payload_mib=128)
    refuse_measured(load_npz, path, r"members decompress to 128.0 MiB, more than the 64.0 MiB")
