"""An exception inside a node of an exported runner: fast non-zero exit naming the node, traceback, checkpoint kept."""

from __future__ import annotations

import json

from .harness import (
    STEPS_PER_EPOCH,
    assert_same_training,
    checkpoint_step,
    fault_record,
    resume,
    start,
    tap_config,
)

CRASH_AT = STEPS_PER_EPOCH + 5  # mid-epoch 2: the epoch-1 checkpoint exists and must survive


def test_crash_exits_1_names_the_node_and_keeps_the_last_checkpoint(exported, data_dir, baseline, tmp_path):
    marker = tmp_path / "crash.mark"
    config = tap_config(exported, tmp_path / "config.json", action="raise", at=CRASH_AT, marker=str(marker))
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", config=config)
    code, exited = run.wait()
    stderr = run.stderr
    assert code == 1, stderr
    assert f"node 17 (FaultTap 'Fault Tap') failed at firing {CRASH_AT}: RuntimeError: injected fault" in stderr
    assert "Traceback (most recent call last)" in stderr and "raise RuntimeError" in stderr
    (error,) = run.metrics("error")
    assert (error["node_id"], error["node_type"], error["firing"]) == ("17", "FaultTap", CRASH_AT)
    # the graph stops within a second of the exception (in-process clock), nothing trains after it
    assert error["t"] - fault_record(run)["t"] < 1.0
    assert [r["epoch"] for r in run.metrics("epoch")] == [1]
    # the process is gone soon after; the bound allows for a loaded machine (measured latencies: docs/reliability.md)
    assert exited - json.loads(marker.read_text())["t"] < 10.0
    # no checkpoint of the half-finished epoch: latest is still the complete epoch-1 checkpoint, no temp folders
    checkpoints = run.checkpoints
    assert checkpoint_step(checkpoints) == STEPS_PER_EPOCH
    assert [r["reason"] for r in run.metrics("checkpoint")] == ["epoch1"]
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest"]
    resumed = resume(exported, data_dir, checkpoints, tmp_path / "resumed")
    assert_same_training(run, resumed, baseline)
