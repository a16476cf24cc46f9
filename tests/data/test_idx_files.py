import gzip
import struct

import numpy as np
import pytest

from dnne.runtime.data.errors import IdxFormatError
from dnne.runtime.data.idx import encode_idx, parse_idx, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 5, 7)) * 100).astype(dtype)
    path = write_idx(tmp_path / name, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 5, 7)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_header_is_big_endian_mnist_layout():
    data = encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert data[:4] == b"\x00\x00\x08\x02"
    assert struct.unpack(">II", data[4:12]) == (2, 3)
    assert data[12:] == bytes(range(6))


def test_gzip_detected_by_content_and_deterministic(tmp_path):
    array = np.arange(100, dtype=np.uint8).reshape(10, 10)
    first = write_idx(tmp_path / "x.gz", array).read_bytes()
    second = write_idx(tmp_path / "y.gz", array).read_bytes()
    assert first == second  # mtime 0: byte-identical output
    renamed = tmp_path / "no-suffix"
    renamed.write_bytes(first)
    np.testing.assert_array_equal(read_idx(renamed), array)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "first two bytes must be zero"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX element type 0x07"),
        (b"\x00\x00\x08\x00", "declares 0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated inside its header"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 4) + b"\x00\x01", "truncated"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x00\x01", "longer than its header says"),
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 2) + b"\x00" * 7, "4-byte elements need 8 bytes"),
    ],
)
def test_corrupt_headers(data, message):
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(data, "bad.idx")


def test_corrupt_gzip_names_the_file(tmp_path):
    good = gzip.compress(encode_idx(np.zeros((50, 50), dtype=np.uint8)))
    bad = tmp_path / "cut.gz"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(IdxFormatError, match="cut.gz is a corrupt or truncated gzip file"):
        read_idx(bad)


def test_missing_file(tmp_path):
    with pytest.raises(IdxFormatError, match="does not exist"):
        read_idx(tmp_path / "nope")


def test_unsupported_dtype():
    with pytest.raises(IdxFormatError, match="cannot store dtype"):
        encode_idx(np.zeros(3, dtype=np.uint16))
