"""Progress bar (silent unless a terminal) and the metrics stream's final record on a node error."""

from __future__ import annotations

import io
import json

import pytest

from dnne.runtime import Input, QueueNode, run_main
from dnne.runtime.metrics import Metrics
from dnne.runtime.progress import Progress

from .nodes import Count, Faulty

pytestmark = pytest.mark.timeout(60)


def test_progress_is_silent_when_not_a_tty():
    out = io.StringIO()
    p = Progress(stream=out)
    assert not p.enabled
    p.update(1, total=10, description="epoch 1", loss=0.5)
    p.close()
    assert out.getvalue() == "" and p.completed == 1


def test_progress_draws_when_enabled():
    out = io.StringIO()
    p = Progress(enabled=True, stream=out)
    for _ in range(10):
        p.update(1, total=10, description="train", loss=0.25)
    p.log("a message")
    p.close()
    text = out.getvalue()
    assert "train" in text and "10/10" in text and "loss=0.25" in text and "a message" in text


def test_metrics_json_lines_are_always_valid(tmp_path):
    torch = pytest.importorskip("torch")
    m = Metrics([tmp_path / "a.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    m.write({"loss": torch.tensor(0.5), "acc": float("nan"), "vec": torch.ones(2), "obj": object()})
    m.close()
    m.write({"ignored": True})  # after close: no error, nothing written
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert len(lines) == 1 and (tmp_path / "b.jsonl").read_text().splitlines() == lines
    rec = json.loads(lines[0])
    assert rec["loss"] == 0.5 and rec["acc"] == "nan" and rec["vec"] == [1.0, 1.0] and "t" in rec


def test_node_error_writes_error_and_done_records(tmp_path, capsys):
    def build(runner, config):
        runner.connect(runner.add(Count("1")), "x", runner.add(Faulty("2", "bad", raise_at=3)), "x")

    config = tmp_path / "config.json"
    config.write_text('{"nodes": {}}')
    argv = ["--run-dir", str(tmp_path / "r"), "--metrics", str(tmp_path / "m.jsonl")]
    assert run_main(build, config_path=config, argv=argv) == 1
    records = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    error = next(r for r in records if r["event"] == "error")
    assert (error["node_id"], error["node_type"], error["firing"]) == ("2", "Faulty", 3)
    assert records[-1]["event"] == "done" and records[-1]["reason"] == "error" and records[-1]["exit_code"] == 1
    err = capsys.readouterr().err
    assert "node 2 (Faulty 'bad') failed at firing 3: ValueError: injected" in err
    assert "run ended: error" in err


class _Report(QueueNode):
    """Writes one metrics record per item: {"step": x, "loss": 1/x}."""

    INPUTS = {"x": Input.CONSUME}

    async def compute(self, x):
        self.ctx.metrics.write({"step": x, "loss": 1.0 / x})


def test_tensorboard_flag_logs_data_records_as_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def build(runner, config):
        runner.connect(runner.add(Count("1", n=5)), "x", runner.add(_Report("2", "report")), "x")

    config = tmp_path / "config.json"
    config.write_text('{"nodes": {}}')
    run_dir = tmp_path / "r"
    assert run_main(build, config_path=config, argv=["--run-dir", str(run_dir), "--tensorboard", "--quiet"]) == 0
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    losses = events.Scalars("loss")
    assert [e.step for e in losses] == [1, 2, 3, 4, 5]
    assert [round(e.value, 6) for e in losses] == [1.0, 0.5, round(1 / 3, 6), 0.25, 0.2]
