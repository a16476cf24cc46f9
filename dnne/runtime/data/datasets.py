"""In-memory data sets as tensors: a `Dataset` holds a train and an optional test `Split`, already normalised.

Loaders: `load_mnist` (MNIST / Fashion-MNIST, see `mnist.py` for where the data comes from), `load_csv` (tabular),
`load_npz` (numpy archives) and `make_synthetic` (a tiny deterministic MNIST-shaped set for tests).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .errors import DataError
from .limits import MAX_CSV_BYTES, check_npz_sizes, gunzip

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
FASHION_MEAN, FASHION_STD = 0.2860, 0.3530


def _on_device(tensor: Tensor, device: torch.device) -> bool:
    if tensor.device.type != device.type:
        return False
    if device.index is None:
        return device.type != "cuda" or tensor.device.index == torch.cuda.current_device()
    return tensor.device.index == device.index


@dataclass
class Split:
    """Inputs (`images`: float32 [N, C, H, W] for images, [N, F] for tables) and int64 `labels` [N]."""

    images: Tensor
    labels: Tensor

    def __post_init__(self) -> None:
        if self.images.shape[0] != self.labels.shape[0]:
            raise DataError(f"{self.images.shape[0]} inputs but {self.labels.shape[0]} labels")
        if self.labels.dtype != torch.int64 or self.labels.dim() != 1:
            raise DataError(f"labels must be an int64 vector, got {self.labels.dtype} {list(self.labels.shape)}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device: torch.device | str) -> Split:
        """This split on `device` (self when already there: "cuda" matches tensors on the current CUDA device)."""
        device = torch.device(device)
        if _on_device(self.images, device) and _on_device(self.labels, device):
            return self
        return Split(self.images.to(device), self.labels.to(device))


@dataclass
class Dataset:
    """A named data set: train split, optional test split, class names and the shape of one input."""

    name: str
    train: Split
    test: Split | None
    num_classes: int
    input_shape: tuple[int, ...]
    classes: list[str] = field(default_factory=list)
    source: str = ""

    def to(self, device: torch.device | str) -> Dataset:
        """Move both splits to `device` once (in place); later calls on the same device do nothing. Returns self."""
        self.train = self.train.to(device)
        if self.test is not None:
            self.test = self.test.to(device)
        return self

    def split(self, train: bool) -> Split:
        """The train split, or the test split (an error naming the data set when it has none)."""
        if train:
            return self.train
        if self.test is None:
            raise DataError(f"data set {self.name!r} has no test split")
        return self.test

    @property
    def input_size(self) -> int:
        """Number of values in one input (784 for MNIST)."""
        return int(np.prod(self.input_shape))


def _images_to_tensor(images: np.ndarray, mean: float, std: float, normalize: bool) -> Tensor:
    x = torch.from_numpy(images).to(torch.float32).div_(255.0).unsqueeze(1)
    if normalize:
        x.sub_(mean).div_(std)
    return x


def load_mnist(
    data_dir: str | Path | None = "./data",
    *,
    download: bool = False,
    fashion: bool = False,
    normalize: bool = True,
    include_validation: bool = True,
) -> Dataset:
    """MNIST (60k/10k) or Fashion-MNIST as [N, 1, 28, 28] float32, scaled to [0, 1] then standardised."""
    from .mnist import FASHION_CLASSES, MNIST_CLASSES, load_arrays

    arrays = load_arrays(data_dir, download=download, fashion=fashion, include_validation=include_validation)
    mean, std = (FASHION_MEAN, FASHION_STD) if fashion else (MNIST_MEAN, MNIST_STD)
    return Dataset(
        name="fashion-mnist" if fashion else "mnist",
        train=Split(
            _images_to_tensor(arrays.train_images, mean, std, normalize), torch.from_numpy(arrays.train_labels)
        ),
        test=Split(_images_to_tensor(arrays.test_images, mean, std, normalize), torch.from_numpy(arrays.test_labels)),
        num_classes=10,
        input_shape=(1, 28, 28),
        classes=list(FASHION_CLASSES if fashion else MNIST_CLASSES),
        source=arrays.source,
    )


# -- tabular and numpy files ------------------------------------------------------------------------------------------


def _encode_labels(raw: Sequence, origin: str) -> tuple[np.ndarray, list[str]]:
    """Integer labels stay as they are (classes '0'..'max'); any other labels become indices of their sorted values."""
    values = np.asarray(raw)
    if values.dtype.kind in "iu" or (values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0)):
        labels = values.astype(np.int64)
        if labels.size and labels.min() < 0:
            raise DataError(f"{origin}: class labels must be ≥ 0, found {labels.min()}")
        count = int(labels.max()) + 1 if labels.size else 0
        return labels, [str(i) for i in range(count)]
    if values.dtype.kind == "f":
        raise DataError(f"{origin}: labels must be class indices or names, found fractional values")
    names = sorted({str(v) for v in values.tolist()})
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[str(v)] for v in values.tolist()], dtype=np.int64), names


def _split_train_test(x: Tensor, y: Tensor, test_fraction: float, seed: int, origin: str) -> tuple[Split, Split | None]:
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"{origin}: test_fraction must be in [0, 1), got {test_fraction}")
    n_test = int(round(len(y) * test_fraction))
    if n_test == 0:
        return Split(x, y), None
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    test_idx, train_idx = order[:n_test], order[n_test:]
    return Split(x[train_idx], y[train_idx]), Split(x[test_idx], y[test_idx])


def _standardise(train: Split, test: Split | None) -> tuple[Split, Split | None]:
    mean = train.images.mean(dim=0, keepdim=True)
    std = train.images.std(dim=0, keepdim=True).clamp_min(1e-8)
    train = Split((train.images - mean) / std, train.labels)
    return train, (Split((test.images - mean) / std, test.labels) if test is not None else None)


def _looks_numeric(cells: list[str]) -> bool:
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def label_column_of(text: str | int) -> int | str:
    """The CSV Dataset widget's label column: an index (`-1` = last) when it reads as an integer, else a header name."""
    if isinstance(text, int):
        return text
    try:
        return int(text.strip())
    except ValueError:
        return text.strip()


def load_csv(
    path: str | Path,
    *,
    label_column: int | str = -1,
    has_header: bool | None = None,
    delimiter: str = ",",
    test_fraction: float = 0.0,
    seed: int = 0,
    normalize: bool = False,
    name: str | None = None,
) -> Dataset:
    """A CSV (or .csv.gz) table: features float32 [N, F], labels from `label_column` (index or header name).

    `has_header=None` detects a header (a first row that is not all numbers). `test_fraction` holds out a seeded
    random part as the test split; `normalize` standardises each feature with the train split's mean/std.
    """
    path = Path(path)
    origin = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read CSV file {origin}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        raw = gunzip(raw, MAX_CSV_BYTES, origin)
    rows = [row for row in csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter) if row]
    if not rows:
        raise DataError(f"{origin} is empty")
    if has_header is None:
        has_header = not _looks_numeric(rows[0])
    header = rows.pop(0) if has_header else None
    if not rows:
        raise DataError(f"{origin} has a header but no data rows")
    width = len(rows[0])
    for number, row in enumerate(rows, start=2 if has_header else 1):
        if len(row) != width:
            raise DataError(f"{origin} line {number}: {len(row)} columns, expected {width} like the first row")
    if isinstance(label_column, str):
        if header is None or label_column not in header:
            raise DataError(f"{origin}: no column named {label_column!r}" + (f" (columns: {header})" if header else ""))
        label_index = header.index(label_column)
    else:
        if not -width <= label_column < width:
            raise DataError(f"{origin}: label_column {label_column} is out of range for {width} columns")
        label_index = label_column % width
    feature_cols = [i for i in range(width) if i != label_index]
    try:
        features = np.array([[float(row[i]) for i in feature_cols] for row in rows], dtype=np.float32)
    except ValueError as exc:
        raise DataError(f"{origin}: every feature column must be numeric ({exc})") from None
    cells = [row[label_index].strip() for row in rows]
    labels, classes = _encode_labels([float(c) for c in cells] if _looks_numeric(cells) else cells, origin)
    train, test = _split_train_test(torch.from_numpy(features), torch.from_numpy(labels), test_fraction, seed, origin)
    if normalize:
        train, test = _standardise(train, test)
    return Dataset(
        name=name or path.name.split(".")[0],
        train=train,
        test=test,
        num_classes=len(classes),
        input_shape=(features.shape[1],),
        classes=classes,
        source=f"CSV {origin}",
    )


def load_npz(
    path: str | Path,
    *,
    x_key: str = "x_train",
    y_key: str = "y_train",
    x_test_key: str | None = "x_test",
    y_test_key: str | None = "y_test",
    scale: float | None = None,
    normalize: bool = False,
    channels_last: bool = False,
    name: str | None = None,
) -> Dataset:
    """A `.npz` archive (loaded without pickle): inputs `x_key`/`y_key`, optional test arrays when present.

    Integer images (uint8) are divided by `scale` (default 255 for uint8, else 1). 3-D image arrays [N, H, W] gain a
    channel axis; `channels_last` converts [N, H, W, C] to [N, C, H, W]. `normalize` standardises with the train
    mean/std (per feature).
    """
    path = Path(path)
    origin = str(path)
    check_npz_sizes(path, origin)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {origin} as a .npz archive: {exc}") from None
    with archive:
        keys = list(archive.keys())
        for key in (x_key, y_key):
            if key not in keys:
                raise DataError(f"{origin} has no array {key!r} (arrays: {keys})")
        has_test = bool(x_test_key and y_test_key and x_test_key in keys and y_test_key in keys)
        arrays = {k: archive[k] for k in (x_key, y_key) + ((x_test_key, y_test_key) if has_test else ())}

    def inputs(x: np.ndarray) -> Tensor:
        factor = scale if scale is not None else (255.0 if x.dtype == np.uint8 else 1.0)
        t = torch.from_numpy(np.ascontiguousarray(x)).to(torch.float32) / factor
        if channels_last and t.dim() == 4:
            t = t.permute(0, 3, 1, 2).contiguous()
        elif t.dim() == 3:
            t = t.unsqueeze(1)
        return t

    labels, classes = _encode_labels(arrays[y_key].reshape(-1), origin)
    train = Split(inputs(arrays[x_key]), torch.from_numpy(labels))
    test = None
    if has_test:
        test_labels, _ = _encode_labels(arrays[y_test_key].reshape(-1), origin)  # type: ignore[index]
        test = Split(inputs(arrays[x_test_key]), torch.from_numpy(test_labels))  # type: ignore[index]
        if len(test_labels):
            classes = [str(i) for i in range(max(len(classes), int(test_labels.max()) + 1))]
    if normalize:
        train, test = _standardise(train, test)
    return Dataset(
        name=name or path.stem,
        train=train,
        test=test,
        num_classes=len(classes),
        input_shape=tuple(train.images.shape[1:]),
        classes=classes,
        source=f"npz {origin}",
    )


# -- synthetic ---------------------------------------------------------------------------------------------------------


def make_synthetic(
    n_train: int = 512,
    n_test: int = 128,
    *,
    num_classes: int = 10,
    input_shape: tuple[int, ...] = (1, 28, 28),
    noise: float = 0.5,
    seed: int = 0,
) -> Dataset:
    """A deterministic, learnable MNIST-shaped set: one random prototype per class plus Gaussian noise."""
    if n_train < 1 or n_test < 0 or num_classes < 2:
        raise DataError("make_synthetic needs n_train ≥ 1, n_test ≥ 0 and num_classes ≥ 2")
    gen = torch.Generator().manual_seed(seed)
    prototypes = torch.randn((num_classes, *input_shape), generator=gen)

    def split(n: int) -> Split:
        labels = torch.arange(n, dtype=torch.int64) % num_classes
        labels = labels[torch.randperm(n, generator=gen)]
        images = prototypes[labels] + noise * torch.randn((n, *input_shape), generator=gen)
        return Split(images.to(torch.float32), labels)

    train = split(n_train)
    return Dataset(
        name="synthetic",
        train=train,
        test=split(n_test) if n_test else None,
        num_classes=num_classes,
        input_shape=tuple(input_shape),
        classes=[str(i) for i in range(num_classes)],
        source=f"synthetic(seed={seed})",
    )
