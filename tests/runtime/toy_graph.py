"""A tiny torch training graph run as a real program (`python toy_graph.py --config CONFIG [flags]`).

Node "1" draws batches from the torch, numpy and python RNGs; node "2" trains Linear(4, 1) with SGD+momentum, calls
ctx.step_boundary() after each step and stops at --max-steps; optional node "3" has state that is slow to save.
Behaviour knobs come from config.json (node params), like an exported runner.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dnne.runtime import GraphRunner, Input, QueueNode, run_main  # noqa: E402
from dnne.runtime.checkpoint import pack_state, unpack_state  # noqa: E402


class Batches(QueueNode):
    INPUTS = {"ready": Input.TRIGGER}
    OUTPUTS = ("batch",)

    async def compute(self, ready):
        x = torch.randn(8, 4)
        noise = random.random() + float(np.random.rand())
        y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + noise
        return {"batch": (x, y)}


class Train(QueueNode):
    INPUTS = {"batch": Input.CONSUME}
    OUTPUTS = ("ready",)

    def __init__(self, node_id, title, *, lr=0.05, sigterm_at=None, sleep=0.0, boundary=True, checkpoint_every=0):
        super().__init__(node_id, title)
        self.lr, self.sigterm_at, self.sleep = lr, sigterm_at, sleep
        self.boundary, self.checkpoint_every = boundary, checkpoint_every
        self.step = 0

    async def setup(self):
        self.model = torch.nn.Linear(4, 1)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=0.9)
        if self.ctx.resume_state is not None:
            print(f"resuming at step {self.ctx.resume_state['step']}", flush=True)

    def initial_outputs(self):
        return {"ready": True}

    async def compute(self, batch):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.model(x), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.step += 1
        print(f"step {self.step}", flush=True)
        if self.sleep:
            time.sleep(self.sleep)
        if self.sigterm_at == self.step:
            os.kill(os.getpid(), signal.SIGTERM)
        if self.checkpoint_every and self.step % self.checkpoint_every == 0:
            self.ctx.request_checkpoint("periodic")
        if self.boundary:
            self.ctx.step_boundary(step=self.step)
        max_steps = self.ctx.args.max_steps
        if max_steps and self.step >= max_steps:
            self.ctx.request_stop("max_steps")
        return {"ready": True}

    def state_dict(self):
        tensors, skeleton = pack_state({"model": self.model.state_dict(), "opt": self.opt.state_dict()})
        return tensors, {"step": self.step, "skeleton": skeleton}

    def load_state_dict(self, tensors, meta):
        state = unpack_state(tensors, meta["skeleton"])
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.step = meta["step"]


class SlowState(QueueNode):
    """Fires once; its state_dict() takes `delay` seconds from its second save on (to kill a save half-way)."""

    OUTPUTS = ()

    def __init__(self, node_id, title, *, delay=10.0):
        super().__init__(node_id, title)
        self.delay, self.saves = delay, 0

    async def compute(self):
        return None

    def state_dict(self):
        self.saves += 1
        print(f"saving {self.saves}", flush=True)
        if self.saves >= 2:
            time.sleep(self.delay)
        return {"w": torch.full((1000,), float(self.saves))}, {"saves": self.saves}


def build_graph(runner: GraphRunner, config: dict) -> None:
    params = config["nodes"]
    batches = runner.add(Batches("1", "batches", **params.get("1", {})))
    train = runner.add(Train("2", "train", **params.get("2", {})))
    runner.connect(batches, "batch", train, "batch", maxsize=1)
    runner.connect(train, "ready", batches, "ready", maxsize=1)
    if "3" in params:
        runner.add(SlowState("3", "slow", **params["3"]))


if __name__ == "__main__":
    sys.exit(run_main(build_graph, config_path=Path(__file__).with_name("config.json")))
