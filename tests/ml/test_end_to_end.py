"""Export examples/mnist_mlp.json and run it on small synthetic IDX data: epochs, metrics, resume, inference.

The first two tests share one 2-epoch run (~15 s); resume and inference start 3 more runners (marked slow)."""

from __future__ import annotations

import json

import pytest

from tests.ml.helpers import EXAMPLES, export, records, run_runner, strip_timing
from tests.ml.synthetic_idx import write_synthetic_mnist

EPOCH_FIELDS = {
    "epoch",
    "train_loss",
    "train_accuracy",
    "test_loss",
    "test_accuracy",
    "lr",
    "epoch_time_s",
    "samples_per_s",
}


@pytest.fixture(scope="module")
def mlp_export(tmp_path_factory):
    return export(EXAMPLES / "mnist_mlp.json", tmp_path_factory.mktemp("mlp") / "export")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    # noisy enough that accuracy stays well below 100 % (so equal accuracies mean something)
    return write_synthetic_mnist(tmp_path_factory.mktemp("data"), n_train=640, n_test=300, noise=400.0)


@pytest.fixture(scope="module")
def full_run(mlp_export, data_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("full")
    proc = run_runner(mlp_export, "--data-dir", str(data_dir), "--run-dir", str(run_dir), "--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    return run_dir


def test_one_record_per_epoch_with_test_metrics(full_run):
    epochs = records(full_run / "metrics.jsonl", "epoch")
    assert [r["epoch"] for r in epochs] == [1, 2]
    for rec in epochs:
        assert EPOCH_FIELDS <= set(rec)
        assert rec["train_samples"] == 640 and rec["batches"] == 10  # exact epochs: 640 / 64, nothing carried over
        assert 0.0 <= rec["test_accuracy"] <= 1.0
    assert epochs[-1]["final"] is True
    assert epochs[1]["train_loss"] < epochs[0]["train_loss"]


def test_stops_after_max_epochs_and_writes_outputs(full_run):
    done = records(full_run / "metrics.jsonl", "done")
    assert done and done[-1]["reason"] == "done" and done[-1]["exit_code"] == 0
    checkpoint = json.loads((full_run / "checkpoints" / "latest" / "checkpoint.json").read_text())
    assert checkpoint["step"] == 20  # 2 epochs × 10 steps, no extra step after the last epoch
    assert (full_run / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_resume_continues_bit_identically(mlp_export, data_dir, full_run, tmp_path):
    first = tmp_path / "first"
    proc = run_runner(
        mlp_export, "--data-dir", str(data_dir), "--run-dir", str(first), "--epochs", "2", "--max-steps", "13"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((first / "checkpoints" / "latest" / "checkpoint.json").read_text())["step"] == 13
    second = tmp_path / "second"
    proc = run_runner(
        mlp_export,
        "--data-dir",
        str(data_dir),
        "--run-dir",
        str(second),
        "--epochs",
        "2",
        "--resume",
        str(first / "checkpoints"),
    )
    assert proc.returncode == 0, proc.stderr
    resumed = records(first / "metrics.jsonl", "epoch") + records(second / "metrics.jsonl", "epoch")
    uninterrupted = records(full_run / "metrics.jsonl", "epoch")
    assert [strip_timing(r) for r in resumed] == [strip_timing(r) for r in uninterrupted]


@pytest.mark.slow
def test_inference_accuracy_equals_final_test_accuracy(mlp_export, data_dir, full_run, tmp_path):
    proc = run_runner(
        mlp_export,
        "--data-dir",
        str(data_dir),
        "--run-dir",
        str(tmp_path),
        "--inference",
        "--resume",
        str(full_run / "checkpoints"),
    )
    assert proc.returncode == 0, proc.stderr
    (result,) = [r for r in records(tmp_path / "metrics.jsonl", "inference") if r["split"] == "test"]
    final = records(full_run / "metrics.jsonl", "epoch")[-1]
    assert result["samples"] == 300
    assert result["accuracy"] == final["test_accuracy"]
    assert result["loss"] == pytest.approx(final["test_loss"], rel=1e-6)
    assert 0.3 < result["accuracy"] < 1.0  # a real, imperfect model: no "8 % after loading"
