"""The run watcher: argument checks, metrics relayed as websocket messages, interrupt by SIGINT."""

import asyncio
import json
import textwrap

import pytest

from dnne.server.runs import RunArgsError, RunProcess, progress_of, run_flags

# a stand-in *program* (not a stand-in for our code): behaves like an exported runner.py towards the watcher
FAKE_RUNNER = textwrap.dedent(
    """
    import argparse, json, signal, sys, time
    p = argparse.ArgumentParser()
    p.add_argument("--metrics"); p.add_argument("--quiet", action="store_true"); p.add_argument("--events")
    p.add_argument("--epochs", type=int, default=3); p.add_argument("--max-steps", type=int, default=0)
    a = p.parse_args()
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ev = open(a.events or "/dev/null", "a", buffering=1)
    def event(**record): ev.write(json.dumps(record) + "\\n")
    for node in ("3", "7"):
        event(event="node_start", node_id=node, **{"class": "Step"}, title="step " + node)
    with open(a.metrics, "a", buffering=1) as f:
        for epoch in range(1, a.epochs + 1):
            if stop:
                f.write(json.dumps({"event": "done", "reason": "sigint", "exit_code": 130}) + "\\n")
                sys.exit(130)
            for node, done in (("3", 10 * epoch - 5), ("7", 10 * epoch)):
                event(event="active", node_id=node, firings=done, step=done, epoch=epoch - 1,
                      progress={"completed": done, "total": 10 * a.epochs})
            f.write(json.dumps({"node_id": "7", "epoch": epoch, "epochs": a.epochs, "loss": 1.0 / epoch}) + "\\n")
            f.write('{"partial": ')  # a line still being written ...
            f.flush(); time.sleep(0.3)
            f.write('true}\\n')       # ... completed later
        if a.max_steps == 99:
            f.write(json.dumps({"event": "error", "node_id": "4", "node_type": "Loss", "message": "boom"}) + "\\n")
            print("Traceback: boom", flush=True)
            sys.exit(1)
        f.write(json.dumps({"event": "stats", "nodes": [{"node_id": "3", "firings": 30, "mean_ms": 1.5}]}) + "\\n")
    event(event="end", reason="done", exit_code=0, nodes=[{"node_id": "3", "firings": 30}, {"node_id": "7", "firings": 30}])
    print("done", flush=True)
    """
)


def test_run_flags_accepts_known_flags_only():
    assert run_flags({"epochs": 2, "max_steps": "5", "device": "cpu"}) == [
        "--device", "cpu", "--epochs", "2", "--max-steps", "5"]  # fmt: skip
    assert run_flags("--epochs 1 --timeout 30s") == ["--epochs", "1", "--timeout", "30s"]
    assert run_flags("") == [] and run_flags(None) == []
    for bad in ({"run_dir": "/tmp"}, {"epochs": "x"}, {"epochs": -1}, {"device": "tpu"}, "--epochs", "epochs 1",
                {"timeout": "--resume"}, ["--epochs", "1"]):  # fmt: skip
        with pytest.raises(RunArgsError):
            run_flags(bad)


def test_progress_of_reads_common_counters():
    assert progress_of({"epoch": 2, "epochs": 5}) == (2.0, 5.0)
    assert progress_of({"step": 10, "max_steps": 100}) == (10.0, 100.0)
    assert progress_of({"update": 3}) == (3.0, 0.0)
    # the runtime's per-epoch record carries both: the epoch counter has the known total
    assert progress_of({"event": "epoch", "epoch": 1, "max_epochs": 2, "step": 938}) == (1.0, 2.0)
    assert progress_of({"loss": 0.1}) is None


def _watch(tmp_path, flags, interrupt_after=None, events=False):
    (tmp_path / "runner.py").write_text(FAKE_RUNNER)
    sent = []

    async def send(kind, data):
        sent.append((kind, data))

    async def go():
        events_path = tmp_path / "events.jsonl" if events else None
        proc = RunProcess(tmp_path, "p1", send, metrics_path=tmp_path / "m.jsonl", flags=flags, events_path=events_path)
        await proc.start()
        watcher = asyncio.create_task(proc.watch())
        if interrupt_after is not None:
            while not any(k == "progress" for k, _ in sent):
                await asyncio.sleep(0.05)
            await proc.interrupt()
        return proc, await asyncio.wait_for(watcher, 60)

    proc, code = asyncio.run(go())
    return proc, code, sent


def test_metrics_become_progress_messages(tmp_path):
    proc, code, sent = _watch(tmp_path, ["--epochs", "3"])
    assert code == 0 and proc.records == 7
    progress = [d for k, d in sent if k == "progress"]
    assert [(p["value"], p["max"]) for p in progress] == [(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)]
    assert all(p["prompt_id"] == "p1" and p["node"] == "7" for p in progress)
    assert [d["node"] for k, d in sent if k == "executing"] == ["7"]
    records = [d["record"] for k, d in sent if k == "dnne.metrics"]
    assert {"partial": True} in records
    assert [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()] == records
    assert "done" in proc.output_tail


def test_interrupt_sends_sigint(tmp_path):
    proc, code, sent = _watch(tmp_path, ["--epochs", "50"], interrupt_after=1)
    assert code == 130 and proc.interrupted
    assert len([k for k, _ in sent if k == "progress"]) < 50


def test_failed_run_keeps_the_runtime_error_record(tmp_path):
    proc, code, _ = _watch(tmp_path, ["--epochs", "1", "--max-steps", "99"])
    assert code == 1
    assert proc.error_record["node_id"] == "4" and proc.error_record["message"] == "boom"
    assert "Traceback: boom" in proc.output_tail


def test_activity_stream_moves_executing_and_progress(tmp_path):
    proc, code, sent = _watch(tmp_path, ["--epochs", "3"], events=True)
    assert code == 0 and "--events" in proc.argv
    assert list(proc.nodes) == ["3", "7"] and proc.end_record["reason"] == "done"
    executing = [d["node"] for k, d in sent if k == "executing"]
    assert set(executing) == {"3", "7"} and len(executing) >= 4, executing
    assert all(a != b for a, b in zip(executing[:-1], executing[1:], strict=True))  # sent on changes only
    steps = [(d["value"], d["max"]) for k, d in sent if k == "progress" and d["max"] == 30.0]
    assert steps == [(5.0, 30.0), (10.0, 30.0), (15.0, 30.0), (20.0, 30.0), (25.0, 30.0), (30.0, 30.0)], steps
    progress = [d["max"] for k, d in sent if k == "progress"]
    assert 3.0 not in progress[progress.index(30.0) :]  # once steps are known, epochs no longer move the bar
    assert len([k for k, d in sent if k == "dnne.metrics" and "epoch" in d["record"]]) == 3
    outputs = proc.node_outputs()
    assert outputs["3"] == {"firings": [30], "mean_ms": [1.5]}  # the stats record wins over the end record
    assert outputs["7"]["firings"] == [30] and outputs["7"]["latest_metrics"][0]["epoch"] == 3
