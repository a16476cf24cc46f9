"""Small MNIST-shaped IDX files for fast end-to-end runs: one noisy prototype per class, learnable in one epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dnne.runtime.data.idx import write_idx

NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def write_synthetic_mnist(
    folder: Path, n_train: int = 640, n_test: int = 200, *, noise: float = 60.0, seed: int = 0
) -> Path:
    """Write the four IDX .gz files into `folder` (uint8 28×28 images, labels 0..9); more noise = harder."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 256, size=(10, 28, 28)).astype(np.float32)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        jitter = rng.normal(0.0, noise, size=(n, 28, 28))
        images = np.clip(prototypes[labels] + jitter, 0, 255).astype(np.uint8)
        return images, labels

    folder.mkdir(parents=True, exist_ok=True)
    train_x, train_y = split(n_train)
    test_x, test_y = split(n_test)
    for key, array in (
        ("train_images", train_x),
        ("train_labels", train_y),
        ("test_images", test_x),
        ("test_labels", test_y),
    ):
        write_idx(folder / NAMES[key], array)
    return folder
