"""on_stop runs only for nodes whose setup ran: a run refused before setup (bad --resume) reports one clear error."""

from __future__ import annotations

import json

import pytest

from dnne.runtime import Input, QueueNode, run_main

pytestmark = pytest.mark.timeout(60)


class NeedsSetup(QueueNode):
    OUTPUTS = ()
    stopped: list[str] = []

    async def setup(self):
        self.ready = True

    async def compute(self):
        self.ctx.request_stop("done")

    async def on_stop(self, reason):
        assert self.ready  # AttributeError if on_stop came without setup
        NeedsSetup.stopped.append(reason)


def build(runner, config):
    runner.add(NeedsSetup("1", "needs setup"))


def test_resume_from_an_unreadable_checkpoint_skips_on_stop(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"nodes": {"1": {}}}))
    (tmp_path / "broken" / "latest").mkdir(parents=True)
    (tmp_path / "broken" / "latest" / "checkpoint.json").write_text("{not json")
    NeedsSetup.stopped = []
    argv = ["--run-dir", str(tmp_path / "r"), "--resume", str(tmp_path / "broken"), "-q"]
    assert run_main(build, config_path=config, argv=argv) == 2
    err = capsys.readouterr().err
    assert "cannot resume: cannot read" in err and "on_stop" not in err, err
    assert NeedsSetup.stopped == []
    assert run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "r2"), "-q"]) == 0
    assert NeedsSetup.stopped == ["done"]


class FinalAfterThree(QueueNode):
    """A self-triggering stepper with state that, like the PPO trainer, asks for a "final" checkpoint and stops."""

    INPUTS = {"tick": Input.TRIGGER}
    OUTPUTS = ("tick",)
    PRIMED = ("tick",)

    def __init__(self, node_id, title="stepper", *, final_at: int = 3):
        super().__init__(node_id, title)
        self.final_at = final_at
        self.n = 0

    async def compute(self, tick):
        self.n += 1
        if self.n == self.final_at:
            self.ctx.request_checkpoint("final")
            self.ctx.request_stop("done")
        self.ctx.step_boundary()
        return None if self.n >= self.final_at else {"tick": True}

    def state_dict(self):
        return {}, {"n": self.n}

    def load_state_dict(self, tensors, meta):
        self.n = meta["n"]


def test_a_node_requested_final_checkpoint_is_not_written_twice(tmp_path):
    def build_stepper(runner, config):
        node = runner.add(FinalAfterThree("1", **config["nodes"]["1"]))
        runner.connect(node, "tick", node, "tick")

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"nodes": {"1": {}}}))
    assert run_main(build_stepper, config_path=config, argv=["--run-dir", str(tmp_path / "r"), "-q"]) == 0
    records = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    checkpoints = [r for r in records if r.get("event") == "checkpoint"]
    assert [(r["reason"], r["step"]) for r in checkpoints] == [("final", 3)]
