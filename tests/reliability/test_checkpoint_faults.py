"""Faults while checkpointing: kill -9 mid-save, disk full mid-run, an unwritable checkpoint directory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from .harness import (
    STEPS_PER_EPOCH,
    assert_same_training,
    checkpoint_step,
    resume,
    send,
    start,
    tap_config,
    wait_for,
)


def test_kill_9_mid_save_leaves_the_previous_checkpoint_intact(exported, data_dir, baseline, tmp_path):
    marker = tmp_path / "save.mark"
    # the epoch-1 save (step 10) is normal; the epoch-2 save stalls in the FaultTap's state_dict, half written
    config = tap_config(
        exported,
        tmp_path / "config.json",
        action="slow_save",
        at=STEPS_PER_EPOCH + 1,
        save_delay_ms=30_000,
        marker=str(marker),
    )
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", config=config)
    wait_for(marker.with_name(marker.name + ".saving"), run)
    send(run, signal.SIGKILL)
    code, _ = run.wait()
    assert code == -signal.SIGKILL
    checkpoints = run.checkpoints
    (partial,) = [p for p in checkpoints.iterdir() if p.name.startswith(".tmp-")]
    assert any(partial.rglob("weights.safetensors"))  # the kill really hit a save in progress
    assert not (partial / "checkpoint.json").exists()
    assert checkpoint_step(checkpoints) == STEPS_PER_EPOCH  # latest is still the complete epoch-1 checkpoint
    # resume into the same folder: its next save removes the half-written one
    resumed = resume(exported, data_dir, checkpoints, tmp_path / "resumed", "--checkpoint-dir", str(checkpoints))
    assert_same_training(run, resumed, baseline)
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest", "previous"]
    assert checkpoint_step(checkpoints) == 2 * STEPS_PER_EPOCH


@pytest.fixture
def tiny_disk(tmp_path, baseline):
    """A tmpfs with room for one mnist_mlp checkpoint (1.5 × its size, ~4 MiB), not for a second one next to it."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root on Linux to mount a small tmpfs")
    one = sum(f.stat().st_size for f in (baseline.checkpoints / "latest").rglob("*") if f.is_file())
    size_kib = -(-int(one * 1.5) // 65536) * 64
    mount = tmp_path / "disk"
    mount.mkdir()
    options = f"size={size_kib}k"
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_mid_run_stops_with_one_message_exit_4_and_the_checkpoint_intact(
    exported, data_dir, baseline, tmp_path, tiny_disk
):
    checkpoints = tiny_disk / "checkpoints"
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", "--checkpoint-dir", str(checkpoints))
    code, _ = run.wait()
    stderr = run.stderr
    assert code == 4, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert f"cannot write checkpoint to {checkpoints}" in errors[0] and "No space left on device" in errors[0]
    assert f"the last complete checkpoint is {checkpoints / 'latest'} (step {STEPS_PER_EPOCH}), intact" in errors[0]
    assert "Traceback" not in stderr
    assert [r["reason"] for r in run.metrics("checkpoint_failed")] == ["epoch2"]  # no doomed "final" save after it
    assert run.metrics("done")[-1]["exit_code"] == 4
    assert checkpoint_step(checkpoints) == STEPS_PER_EPOCH
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest"]
    resumed = resume(exported, data_dir, checkpoints, tmp_path / "resumed")
    assert_same_training(run, resumed, baseline)


def test_disk_full_under_the_whole_run_folder_is_one_message_and_exit_4(
    exported, data_dir, baseline, tiny_disk, tmp_path
):
    """Run folder (metrics, config, plots) and checkpoints on the same full disk: still one message, exit 4."""
    run = start(exported, data_dir, tiny_disk / "run", "--epochs", "2")
    code, _ = run.wait()
    stderr = run.stderr
    assert code == 4, stderr
    assert "Traceback" not in stderr and "failed at firing" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], stderr
    checkpoints = run.checkpoints
    if (checkpoints / "latest").exists():  # whatever fitted is complete
        resumed = resume(exported, data_dir, checkpoints, tmp_path / "resumed")
        assert_same_training(run, resumed, baseline)


def test_unwritable_checkpoint_dir_is_a_clear_usage_error_before_training(exported, data_dir, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the checkpoint folder's parent should be", encoding="utf-8")
    target = blocker / "checkpoints"
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", "--checkpoint-dir", str(target))
    code, _ = run.wait()
    stderr = run.stderr
    assert code == 2, stderr
    assert f"cannot create the checkpoint directory {target}" in stderr and "Not a directory" in stderr
    assert "Traceback" not in stderr
    assert not run.metrics("epoch")  # nothing trained, nothing to lose
