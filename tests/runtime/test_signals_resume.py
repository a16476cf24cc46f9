"""SIGINT/SIGTERM in a real subprocess (exit 130/143, final checkpoint), kill -9 mid-save, and exact resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dnne.runtime import GraphRunner
from dnne.runtime.checkpoint import load_checkpoint

from .nodes import Collect, Count

pytestmark = pytest.mark.timeout(120)
TOY = Path(__file__).with_name("toy_graph.py")


def start(tmp_path: Path, nodes: dict, *flags: str, name: str = "run") -> subprocess.Popen:
    config = tmp_path / f"{name}.json"
    config.write_text(json.dumps({"workflow": "toy", "seed": 11, "nodes": nodes}))
    cmd = [sys.executable, str(TOY), "--config", str(config), "--run-dir", str(tmp_path / name), *flags]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 60) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.strip() == text:
            return lines
    proc.kill()
    raise AssertionError(f"never saw {text!r}; got {lines[-5:]}; stderr: {proc.stderr.read()[-2000:]}")


def last_metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])


@pytest.mark.parametrize(("sig", "code", "reason"), [(signal.SIGINT, 130, "sigint"), (signal.SIGTERM, 143, "sigterm")])
def test_signal_stops_at_step_boundary_with_final_checkpoint(tmp_path, sig, code, reason):
    proc = start(tmp_path, {"2": {"sleep": 0.02}}, "--checkpoint-dir", str(tmp_path / "ck"))
    wait_for_line(proc, "step 3")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert len(out.split()) // 2 <= 3  # at most a few more steps ran (wall time is unreliable on a loaded machine)
    ckpt = load_checkpoint(tmp_path / "ck")
    assert ckpt.meta["reason"] == "final" and ckpt.meta["step"] >= 3
    assert ckpt.nodes["2"][1]["step"] == ckpt.meta["step"]
    assert "stopping at the next step boundary" in err and f"run ended: {reason}" in err
    done = last_metrics(tmp_path / "run")
    assert done["event"] == "done" and done["reason"] == reason and done["exit_code"] == code and done["wall_s"] > 0


def test_signal_without_step_boundaries_stops_at_once(tmp_path):
    proc = start(tmp_path, {"2": {"sleep": 0.02, "boundary": False}})
    wait_for_line(proc, "step 2")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert len(out.split()) // 2 <= 2


def test_kill_9_during_a_save_leaves_the_previous_checkpoint_valid(tmp_path):
    ck = tmp_path / "ck"
    proc = start(tmp_path, {"2": {"checkpoint_every": 1}, "3": {"delay": 30}}, "--checkpoint-dir", str(ck))
    wait_for_line(proc, "saving 2")  # the second save is half-way: node 2 written, node 3 sleeping
    assert any(p.name.startswith(".tmp-") for p in ck.iterdir())
    proc.kill()
    proc.communicate(timeout=30)
    ckpt = load_checkpoint(ck)
    assert ckpt.path == ck / "latest" and ckpt.meta["step"] == 1
    assert torch.equal(ckpt.nodes["3"][0]["w"], torch.full((1000,), 1.0))


@pytest.mark.slow
def test_resume_is_bit_identical_to_a_straight_run(tmp_path):
    n = 20
    straight = start(tmp_path, {}, "--max-steps", str(n), "--checkpoint-dir", str(tmp_path / "a"), name="a")
    _, err = straight.communicate(timeout=60)
    assert straight.returncode == 0, err

    first = start(tmp_path, {"2": {"sigterm_at": 7}}, "--max-steps", str(n), "--checkpoint-dir", str(tmp_path / "b"))
    _, err = first.communicate(timeout=60)
    assert first.returncode == 143, err
    k = load_checkpoint(tmp_path / "b").meta["step"]
    assert 7 <= k < n

    resumed = start(
        tmp_path, {}, "--max-steps", str(n), "--checkpoint-dir", str(tmp_path / "b"), "--resume", name="resumed"
    )
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    assert f"resuming at step {k}" in out and out.strip().splitlines()[-1] == f"step {n}"

    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    assert a.meta["step"] == b.meta["step"] == n
    ta, tb = a.nodes["2"][0], b.nodes["2"][0]
    assert sorted(ta) == sorted(tb) and len(ta) >= 4  # weight, bias and their momentum buffers
    for key in ta:
        assert torch.equal(ta[key], tb[key]), key


def test_resume_refuses_a_checkpoint_of_another_graph(tmp_path):
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.checkpoint_dir = tmp_path
    from .test_checkpoint import Holder

    r.add(Holder("1", {"w": torch.ones(1)}))
    assert r.run() == 0
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.resume_dir = tmp_path
    r.add(Holder("1", {"w": torch.ones(1)}))
    r.add(Holder("2"))
    assert r.run() == 2
    assert load_checkpoint(tmp_path).meta["step"] == 0  # untouched


def test_previous_signal_handlers_are_restored():
    seen = []

    def mine(signum, frame):
        seen.append(signum)

    old = signal.signal(signal.SIGTERM, mine)
    try:
        r = GraphRunner()
        r.ctx.args.quiet = True
        r.connect(r.add(Count("1", n=5)), "x", r.add(Collect("2")), "x")
        assert r.run() == 0
        assert signal.getsignal(signal.SIGTERM) is mine
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, old)
