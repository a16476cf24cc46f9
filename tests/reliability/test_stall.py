"""A node that stops making progress: the --stall-timeout watchdog names who waits on what, exit 3."""

from __future__ import annotations

import json
import re

import pytest

from .harness import (
    STEPS_PER_EPOCH,
    assert_same_training,
    checkpoint_step,
    fault_record,
    resume,
    start,
    tap_config,
)

STALL_AT = STEPS_PER_EPOCH + 5
STALL_TIMEOUT = 1.0


def test_stall_watchdog_names_the_stuck_node_and_what_waits_on_it(exported, data_dir, baseline, tmp_path):
    marker = tmp_path / "stall.mark"
    config = tap_config(exported, tmp_path / "config.json", action="stall", at=STALL_AT, marker=str(marker))
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", "--stall-timeout", "1", config=config)
    code, exited = run.wait()
    stderr = run.stderr
    assert code == 3, stderr
    assert "stall: no node finished a firing for" in stderr and "(--stall-timeout 1s)" in stderr
    assert f"node 17 (FaultTap 'Fault Tap'): computing firing {STALL_AT} for" in stderr
    assert "node 4 (Network 'Neural Network'): waiting on input 'input' for an item from node 17.y" in stderr
    assert "node 14 (TrainingStep 'Training Step'): waiting on input 'loss' for an item from node 12.loss" in stderr
    done = run.metrics("done")[-1]
    assert (done["reason"], done["exit_code"]) == ("stall", 3)
    # reported after the timeout, not before, and not much later (the watchdog checks every timeout/4)
    idle = float(re.search(r"no node finished a firing for ([0-9.]+)s", stderr).group(1))
    assert STALL_TIMEOUT <= idle < STALL_TIMEOUT + 1.0
    assert done["t"] - fault_record(run)["t"] >= STALL_TIMEOUT
    assert exited - json.loads(marker.read_text())["t"] < STALL_TIMEOUT + 10.0
    # no checkpoint after a stall: the epoch-1 checkpoint stays latest, and resuming from it reproduces the run
    assert checkpoint_step(run.checkpoints) == STEPS_PER_EPOCH
    resumed = resume(exported, data_dir, run.checkpoints, tmp_path / "resumed")
    assert_same_training(run, resumed, baseline)


@pytest.fixture(scope="module")
def hang_run(exported, data_dir, tmp_path_factory):
    """One run whose FaultTap blocks the event loop (synchronous sleep) at STALL_AT, with --stall-timeout 1."""
    folder = tmp_path_factory.mktemp("hang")
    marker = folder / "hang.mark"
    config = tap_config(exported, folder / "config.json", action="hang", at=STALL_AT, marker=str(marker))
    run = start(exported, data_dir, folder / "run", "--epochs", "2", "--stall-timeout", "1", config=config)
    code, exited = run.wait()
    return run, code, exited - json.loads(marker.read_text())["t"]


def test_node_blocking_the_event_loop_is_killed_by_the_watchdog_with_stacks(hang_run):
    """A node stuck in synchronous code: the loop cannot answer, so the watchdog thread dumps stacks and exits 3."""
    run, code, latency = hang_run
    stderr = run.stderr
    assert code == 3, stderr
    assert "stall: the event loop is not responding" in stderr
    assert re.search(r'export/runner\.py", line \d+ in compute', stderr)  # the stack shows the stuck node's code
    assert run.metrics("done")[-1]["reason"] == "stall"
    # stall timeout + the watchdog's grace period for an unresponsive loop (5 s) + start-up slack
    assert latency < STALL_TIMEOUT + 5.0 + 5.0
    assert checkpoint_step(run.checkpoints) == STEPS_PER_EPOCH


def test_blocked_event_loop_report_names_the_stuck_node(hang_run):
    run, code, _ = hang_run
    assert code == 3
    stderr = run.stderr
    assert f"node 17 (FaultTap 'Fault Tap'): computing firing {STALL_AT}" in stderr
    assert "node 4 (Network 'Neural Network'): waiting on input 'input' for an item from node 17.y" in stderr
