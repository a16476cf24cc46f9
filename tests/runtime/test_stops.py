"""Stop paths in-process: second signal forces the stop, the 2 s grace without a boundary, request_checkpoint,
and the watchdog's hard exit when a node blocks the event loop (subprocess)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dnne.runtime import GraphRunner, QueueNode
from dnne.runtime.runner import GRACE_S

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]


class Looper(QueueNode):
    """A REPEAT source that reports one step boundary, then loops (awaiting) without reporting more."""

    OUTPUTS = ()
    REPEAT = True

    def __init__(self, node_id, *, signals=(), boundary_every=0):
        super().__init__(node_id, "looper")
        self.signals, self.boundary_every, self.n = list(signals), boundary_every, 0

    async def setup(self):
        loop = asyncio.get_running_loop()
        for delay, sig in self.signals:
            loop.call_later(delay, os.kill, os.getpid(), sig)

    async def compute(self):
        self.n += 1
        if self.n == 1 or (self.boundary_every and self.n % self.boundary_every == 0):
            self.ctx.step_boundary()
        await asyncio.sleep(0.005)


def run(node: QueueNode) -> tuple[int, float, GraphRunner]:
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.add(node)
    t0 = time.perf_counter()
    code = r.run()
    return code, time.perf_counter() - t0, r


def test_second_signal_forces_an_immediate_stop():
    code, elapsed, r = run(Looper("1", signals=[(0.1, signal.SIGINT), (0.3, signal.SIGINT)]))
    assert code == 130 and r.reason == "sigint"
    assert 0.3 <= elapsed < 0.3 + GRACE_S - 0.5


def test_signal_stops_after_the_grace_period_when_no_boundary_comes():
    code, elapsed, r = run(Looper("1", signals=[(0.1, signal.SIGTERM)]))
    assert code == 143
    assert 0.1 + GRACE_S - 0.1 <= elapsed < 0.1 + GRACE_S + 1.5


def test_signal_waits_for_the_next_boundary_when_one_comes():
    node = Looper("1", signals=[(0.1, signal.SIGTERM)], boundary_every=10)
    code, elapsed, r = run(node)
    assert code == 143 and elapsed < 1.0
    assert node.n % 10 == 0  # stopped exactly at a boundary


def test_request_checkpoint_is_taken_at_the_next_boundary(tmp_path):
    import torch

    from dnne.runtime.checkpoint import load_checkpoint

    class Stepper(QueueNode):
        REPEAT = True

        def __init__(self, node_id):
            super().__init__(node_id, "stepper")
            self.n = 0

        async def compute(self):
            self.n += 1
            if self.n == 3:
                self.ctx.request_checkpoint("best")
                assert not (tmp_path / "latest").exists()
            self.ctx.step_boundary(step=self.n, epoch=7)
            if self.n == 3:
                assert load_checkpoint(tmp_path).meta["reason"] == "best"
            if self.n == 5:
                self.ctx.request_stop("done")

        def state_dict(self):
            return {"n": torch.tensor(self.n)}, {"n": self.n}

    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.checkpoint_dir = tmp_path
    r.add(Stepper("1"))
    assert r.run() == 0
    assert load_checkpoint(tmp_path / "previous").meta["step"] == 3
    final = load_checkpoint(tmp_path)
    assert (final.meta["reason"], final.meta["step"], final.meta["epoch"]) == ("final", 5, 7)


def test_watchdog_hard_exit_when_a_node_blocks_the_event_loop(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from dnne.runtime import QueueNode, run_main

        class Blocker(QueueNode):
            async def compute(self):
                time.sleep(60)  # synchronous: the event loop never gets control back

        def build(runner, config):
            runner.add(Blocker("1", "blocker"))

        sys.exit(run_main(build, config_path={str(tmp_path / "c.json")!r}))
        """
    )
    (tmp_path / "c.json").write_text('{"nodes": {}}')
    argv = [sys.executable, "-c", script, "--stall-timeout", "0.5", "--run-dir", str(tmp_path / "r"), "-q"]
    t0 = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out.stderr
    assert time.monotonic() - t0 < 30
    assert "the event loop is not responding" in out.stderr
    assert "time.sleep(60)" in out.stderr or "in compute" in out.stderr
    done = (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()[-1]
    assert '"reason": "stall"' in done and '"exit_code": 3' in done
