"""Shared fixtures: one export of mnist_mlp + FaultTap, small MNIST data, one uninterrupted 2-epoch baseline run."""

from __future__ import annotations

import pytest

from .harness import export_mlp_with_tap, start, write_small_mnist

EPOCHS = "2"


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    return export_mlp_with_tap(tmp_path_factory.mktemp("reliability") / "export")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return write_small_mnist(tmp_path_factory.mktemp("mnist"))


@pytest.fixture(scope="session")
def baseline(exported, data_dir, tmp_path_factory):
    """The uninterrupted run every interrupted + resumed run must reproduce (its epoch records)."""
    run = start(exported, data_dir, tmp_path_factory.mktemp("baseline"), "--epochs", EPOCHS)
    code, _ = run.wait()
    assert code == 0, run.stderr
    epochs = run.metrics("epoch")
    assert [r["epoch"] for r in epochs] == [1, 2]
    return run
