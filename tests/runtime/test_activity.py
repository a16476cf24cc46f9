"""`--events PATH`: the activity stream (node_start per node, sampled `active` records, the final `end` record)."""

from __future__ import annotations

import asyncio
import json

import pytest

from dnne.runtime import Input, QueueNode, run_main

from .nodes import Collect, Count, Faulty

pytestmark = pytest.mark.timeout(60)


class SlowStep(QueueNode):
    """Takes 20 ms per item (awaiting, so the sampler sees it computing), ends a step and advances the progress."""

    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("y",)

    def __init__(self, node_id, title="slow", *, total=0):
        super().__init__(node_id, title)
        self.total = total

    async def compute(self, x):
        await asyncio.sleep(0.02)
        self.ctx.progress.update(1, total=self.total, description="epoch 1/1")
        self.ctx.step_boundary()
        return {"y": x}


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _run(tmp_path, build, *flags):
    config = tmp_path / "config.json"
    config.write_text("{}")
    events = tmp_path / "events.jsonl"
    argv = ["--run-dir", str(tmp_path / "run"), "--events", str(events), "-q", *flags]
    return run_main(build, config_path=config, argv=argv), _records(events)


def test_events_name_the_active_node_with_steps_and_progress(tmp_path):
    def build(runner, config):
        runner.add(Count("1", n=40))
        runner.add(SlowStep("7", total=40))
        runner.add(Collect("9"))
        runner.connect("1", "x", "7", "x", maxsize=2)
        runner.connect("7", "y", "9", "x")

    code, records = _run(tmp_path, build)
    assert code == 0
    kinds = [r["event"] for r in records]
    assert kinds[:3] == ["node_start"] * 3 and kinds[-1] == "end" and set(kinds) == {"node_start", "active", "end"}
    assert [(r["node_id"], r["class"]) for r in records[:3]] == [("1", "Count"), ("7", "SlowStep"), ("9", "Collect")]
    active = [r for r in records if r["event"] == "active"]
    assert len(active) >= 3, active
    # sampled, not per firing: ≤ 10 records a second (the stop sample may follow the last tick at once)
    wall = records[-1]["t"] - records[0]["t"]
    assert len(active) <= wall * 10 + 2, (len(active), wall)
    gaps = [b["t"] - a["t"] for a, b in zip(active[:-2], active[1:-1], strict=True)]
    assert all(g >= 0.08 for g in gaps), gaps
    # the slow node is the one seen working; step and progress only move forward
    assert sum(r["node_id"] == "7" for r in active) >= len(active) - 1, active
    steps = [r["step"] for r in active]
    done = [r["progress"]["completed"] for r in active if "progress" in r]
    assert steps == sorted(steps) and steps[-1] == 40 and done == sorted(done) and done[-1] == 40
    assert all(
        r["progress"]["total"] == 40 and r["progress"]["description"] == "epoch 1/1" for r in active if r["step"]
    )
    sevens = [r["firings"] for r in active if r["node_id"] == "7"]
    assert sevens == sorted(sevens) and 0 < sevens[-1] <= 40
    end = records[-1]
    assert end["reason"] == "done" and end["exit_code"] == 0
    assert {n["node_id"]: n["firings"] for n in end["nodes"]} == {"1": 41, "7": 40, "9": 40}


def test_events_end_with_the_error_status(tmp_path):
    def build(runner, config):
        runner.add(Count("1", n=10, delay=0.01))
        runner.add(Faulty("2", raise_at=5))
        runner.add(Collect("3"))
        runner.connect("1", "x", "2", "x")
        runner.connect("2", "y", "3", "x")

    code, records = _run(tmp_path, build)
    assert code == 1
    assert records[-1]["event"] == "end" and records[-1]["reason"] == "error" and records[-1]["exit_code"] == 1
    assert [r["node_id"] for r in records if r["event"] == "node_start"] == ["1", "2", "3"]


def test_no_events_file_without_the_flag(tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{}")

    def build(runner, config):
        runner.add(Count("1", n=3))
        runner.add(Collect("2"))
        runner.connect("1", "x", "2", "x")
        assert runner.ctx.events is None

    assert run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "run"), "-q"]) == 0
    assert sorted(p.name for p in tmp_path.rglob("*.jsonl")) == ["metrics.jsonl"]


def test_unwritable_events_path_is_a_usage_error(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text("{}")
    blocker = tmp_path / "file"
    blocker.write_text("")
    argv = ["--run-dir", str(tmp_path / "run"), "--events", str(blocker / "events.jsonl"), "-q"]
    assert run_main(lambda runner, config: None, config_path=config, argv=argv) == 2
    assert "cannot open the events file" in capsys.readouterr().err
