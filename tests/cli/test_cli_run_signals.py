"""`dnne run` forwards SIGINT/SIGTERM to the runner it started and never leaves it running (security review, item 3).

A real `dnne run` of the Cartpole example (set to never stop by itself) is signalled once training has started;
dnne must exit with the runner's own code (130 / 143, from the runner's `done` record) and the runner's PID must be
gone. When dnne is killed outright (SIGKILL: no chance to forward), the kernel stops the runner (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STOP_BOUND_S = 60.0  # a stop guarantee, not a speed claim: the runner stops at its next step boundary

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for an init that does not reap counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _start(tmp_path: Path) -> tuple[subprocess.Popen, int, Path]:
    doc = json.loads((REPO / "examples" / "cartpole_ppo.json").read_text())
    trainer = next(n for n in doc["nodes"] if n["type"] == "PPOTrainerNode")
    trainer["widgets_values"][-2] = "never"  # stop_when: keep training until signalled
    workflow = tmp_path / "forever.json"
    workflow.write_text(json.dumps(doc))
    metrics = tmp_path / "metrics.jsonl"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dnne", "run", str(workflow), "--", "--quiet", "--device", "cpu"]
        + ["--metrics", str(metrics), "--run-dir", str(tmp_path / "run")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not (metrics.is_file() and metrics.read_text().count("\n") >= 2):  # start record + training under way
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"dnne run did not start training (rc {proc.poll()}): {proc.stderr.read()}")
        time.sleep(0.1)
    children = [c for c in _children(proc.pid) if "runner.py" in Path(f"/proc/{c}/cmdline").read_text()]
    assert len(children) == 1, children
    return proc, children[0], metrics


def _done_record(metrics: Path) -> dict:
    return json.loads(metrics.read_text().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "reason"), [(signal.SIGTERM, 143, "sigterm"), (signal.SIGINT, 130, "sigint")])
def test_signal_is_forwarded_and_exit_code_is_the_runners(tmp_path, sig, code, reason):
    proc, child, metrics = _start(tmp_path)
    try:
        sent = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(timeout=STOP_BOUND_S)
        print(f"{sig.name}: dnne exited {rc} after {time.monotonic() - sent:.2f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
    done = _done_record(metrics)
    assert done["event"] == "done" and done["reason"] == reason, done
    assert rc == done["exit_code"] == code
    assert not _alive(child), f"runner {child} still running after dnne exited"


@pytest.mark.slow
def test_runner_stops_when_dnne_is_killed(tmp_path):
    proc, child, metrics = _start(tmp_path)
    proc.kill()  # SIGKILL: dnne cannot forward anything
    proc.wait(timeout=30)
    deadline = time.monotonic() + STOP_BOUND_S
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the runner kept running after dnne was killed"
    done = _done_record(metrics)
    assert done["event"] == "done" and done["reason"] == "sigterm", done  # it stopped cleanly, on PDEATHSIG
