"""LRScheduler, EarlyStopping and SaveCheckpoint in a real exported run on synthetic data (slow: ~20 s)."""

from __future__ import annotations

import pytest

from tests.ml.helpers import export, records, run_runner
from tests.ml.synthetic_idx import write_synthetic_mnist
from tests.ml.ui_workflow import supervised_workflow


@pytest.mark.slow
def test_schedule_early_stop_and_manual_checkpoints(tmp_path):
    wf = supervised_workflow(
        [("LinearLayer", {"output_size": 32}), ("LinearLayer", {"output_size": 10, "activation": "none"})],
        max_epochs=8,
        schedule={"schedule": "cosine", "epochs": 8},
        network_widgets={"checkpoint_enabled": False},
    )
    stopper = wf.add("EarlyStopping", {"monitor": "train_accuracy", "patience": 1})
    saver = wf.add("SaveCheckpoint", {"every_n": 7, "tag": "seven"})
    wf.link(wf.find("EpochTracker"), "training_summary", stopper, "training_summary")
    wf.link(wf.find("TrainingStep"), "step_complete", saver, "trigger")
    out = export(wf.to_dict(), tmp_path / "export")
    data = write_synthetic_mnist(tmp_path / "data", n_train=320, n_test=100, noise=40.0)
    proc = run_runner(out, "--data-dir", str(data), "--run-dir", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    metrics = tmp_path / "run" / "metrics.jsonl"
    epochs = records(metrics, "epoch")
    lrs = [r["lr"] for r in epochs]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] < 0.001  # cosine decay, stepped every batch
    # easy data: train accuracy reaches 100 % and stops improving, so the run ends early
    assert 2 <= len(epochs) < 8
    assert records(metrics, "done")[-1]["reason"] == "early_stop"
    tags = [r["reason"] for r in records(metrics, "checkpoint")]
    assert "seven-7" in tags and "seven-14" in tags
