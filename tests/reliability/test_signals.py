"""SIGINT / SIGTERM mid-epoch: stop at the next step boundary, final checkpoint, exit 130 / 143, exact resume."""

from __future__ import annotations

import os
import signal
import time

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

SIGNAL_AT = STEPS_PER_EPOCH + 3  # mid-epoch 2
EXIT = {signal.SIGINT: (130, "sigint"), signal.SIGTERM: (143, "sigterm")}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_from_outside_stops_cleanly_with_a_final_checkpoint(exported, data_dir, baseline, tmp_path, sig):
    marker = tmp_path / "signal.mark"
    # 80 ms per step: the signal lands inside epoch 2 with ~0.5 s of steps still to go
    config = tap_config(
        exported, tmp_path / "config.json", action="marker", at=SIGNAL_AT, delay_ms=80, marker=str(marker)
    )
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", config=config)
    wait_for(marker, run)
    sent = send(run, sig)
    code, exited = run.wait()
    want_code, reason = EXIT[sig]
    assert code == want_code, run.stderr
    assert exited - sent < 10.0  # measured latencies: docs/reliability.md
    done = run.metrics("done")[-1]
    assert (done["reason"], done["exit_code"]) == (reason, want_code)
    final = run.metrics("checkpoint")[-1]
    assert final["reason"] == "final"
    stopped_at = checkpoint_step(run.checkpoints)
    assert final["step"] == stopped_at
    assert SIGNAL_AT <= stopped_at < 2 * STEPS_PER_EPOCH  # mid-epoch, at a step boundary: not the epoch end
    assert [r["epoch"] for r in run.metrics("epoch")] == [1]
    resumed = resume(exported, data_dir, run.checkpoints, tmp_path / "resumed")
    assert_same_training(run, resumed, baseline)


@pytest.mark.parametrize("step", [3, SIGNAL_AT])
def test_sigterm_at_step_k_then_resume_equals_the_uninterrupted_run(exported, data_dir, baseline, tmp_path, step):
    """The runner signals itself during step k: the final checkpoint is exactly step k (deterministic)."""
    config = tap_config(exported, tmp_path / "config.json", action="sigterm", at=step)
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", config=config)
    code, _ = run.wait()
    assert code == 143, run.stderr
    assert checkpoint_step(run.checkpoints) == step
    resumed = resume(exported, data_dir, run.checkpoints, tmp_path / "resumed")
    assert resumed.metrics("start")[0]["resume"]  # really resumed, not restarted
    assert_same_training(run, resumed, baseline)


def _hammer(run, signals=(signal.SIGTERM, signal.SIGINT), pause_s: float = 0.002) -> int:
    """Send signals, alternating, until the runner exits; how many were sent."""
    sent = 0
    while run.proc.poll() is None:
        try:
            os.kill(run.proc.pid, signals[sent % len(signals)])
        except ProcessLookupError:
            break
        sent += 1
        time.sleep(pause_s)
    return sent


def test_signals_hammered_after_the_first_never_leave_an_inexact_checkpoint(exported, data_dir, baseline, tmp_path):
    """SIGTERM, then SIGTERM/SIGINT every 2 ms: the second one stops at once, mid-step. No "final" checkpoint is
    written then (it would hold half a step); the latest checkpoint is a step-boundary one and resumes exactly."""
    marker = tmp_path / "signal.mark"
    config = tap_config(
        exported, tmp_path / "config.json", action="marker", at=SIGNAL_AT, delay_ms=80, marker=str(marker)
    )
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", config=config)
    wait_for(marker, run)
    sent = _hammer(run)
    code, _ = run.wait()
    print(f"{sent} signals sent; exit {code}; stderr tail: {run.stderr[-300:]!r}")
    assert code == 143, run.stderr
    assert "Traceback" not in run.stderr
    final = [r for r in run.metrics("checkpoint") if r["reason"] == "final"]
    stopped_at = checkpoint_step(run.checkpoints)
    if final:  # the second signal came after the step boundary: the final checkpoint is that boundary's
        assert final[-1]["step"] == stopped_at
    else:
        assert stopped_at == STEPS_PER_EPOCH and "no final checkpoint" in run.stderr
    resumed = resume(exported, data_dir, run.checkpoints, tmp_path / "resumed")
    assert_same_training(run, resumed, baseline)


def test_signals_during_the_final_checkpoint_leave_it_complete_and_exact(exported, data_dir, baseline, tmp_path):
    """SIGTERM mid-epoch, then, while the final checkpoint is being written (the FaultTap makes its part of the
    save take 1.5 s), SIGTERM/SIGINT every 2 ms: the save completes, the exit code stays 143, resume is exact."""
    marker = tmp_path / "save.mark"
    config = tap_config(
        exported, tmp_path / "config.json", action="slow_save", at=SIGNAL_AT, save_delay_ms=1500, marker=str(marker)
    )
    run = start(exported, data_dir, tmp_path / "run", "--epochs", "2", config=config)
    wait_for(marker, run)
    send(run, signal.SIGTERM)
    wait_for(marker.with_name(marker.name + ".saving"), run)
    sent = _hammer(run)
    code, _ = run.wait()
    print(f"{sent} signals sent while the final checkpoint was written; exit {code}")
    assert code == 143, run.stderr
    assert "Traceback" not in run.stderr
    final = run.metrics("checkpoint")[-1]
    assert final["reason"] == "final" and final["step"] == checkpoint_step(run.checkpoints) >= SIGNAL_AT
    assert sorted(p.name for p in run.checkpoints.iterdir()) == ["latest", "previous"]
    resumed = resume(exported, data_dir, run.checkpoints, tmp_path / "resumed")
    assert_same_training(run, resumed, baseline)
