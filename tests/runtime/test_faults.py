"""Runtime faults: a node crash stops everything fast and names the node; stalls and deadlocks exit 3."""

from __future__ import annotations

import asyncio
import time

import pytest

from dnne.runtime import GraphRunner, Input, NodeError, QueueNode

from .nodes import Collect, Count, Faulty, FaultySource, Map


def _run_and_check_tasks(runner: GraphRunner):
    async def main():
        t0 = time.perf_counter()
        code = await runner.run_async()
        elapsed = time.perf_counter() - t0
        leftover = asyncio.all_tasks() - {asyncio.current_task()}
        return code, elapsed, leftover

    return asyncio.run(main())


@pytest.mark.parametrize("where", ["source", "middle", "sink"])
def test_node_crash_stops_graph_within_a_second_and_names_the_node(where, capsys):
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.args.timeout = 30  # a crash must not wait for the timeout (original DNNE defect 15)
    if where == "source":
        src = r.add(FaultySource("1", "feeder", raise_at=5))
    else:
        src = r.add(Count("1"))  # infinite source
    mid = r.add(Faulty("2", "middle", raise_at=5 if where == "middle" else 0))
    sink = r.add(Faulty("3", "sink", raise_at=5 if where == "sink" else 0))
    r.connect(src, "x", mid, "x")
    r.connect(mid, "y", sink, "x")
    code, elapsed, leftover = _run_and_check_tasks(r)
    assert code == 1 and r.reason == "error"
    assert elapsed < 1.0
    assert not leftover
    err = capsys.readouterr().err
    node = {"source": "1 (FaultySource 'feeder')", "middle": "2 (Faulty 'middle')", "sink": "3 (Faulty 'sink')"}[where]
    assert f"node {node} failed at firing 5: ValueError: injected" in err
    assert "Traceback" in err and "raise ValueError" in err


def test_node_error_attributes():
    r = GraphRunner()
    r.ctx.args.quiet = True
    src = r.add(Count("7", n=3))
    bad = r.add(Faulty("8", "the title", raise_at=2))
    r.connect(src, "x", bad, "x")
    assert r.run() == 1
    err = r._error
    assert isinstance(err, NodeError)
    assert (err.node_id, err.node_type, err.title, err.firing, err.state) == (
        "8",
        "Faulty",
        "the title",
        2,
        "computing",
    )
    assert isinstance(err.cause, ValueError)


def test_setup_failure_and_unknown_output_are_reported(capsys):
    class BadSetup(Map):
        async def setup(self):
            raise OSError("no such dataset")

    r = GraphRunner()
    r.ctx.args.quiet = True
    r.connect(r.add(Count("1", n=3)), "x", r.add(BadSetup("2", title="loader")), "x")
    assert r.run() == 1
    assert "node 2 (BadSetup 'loader') failed in setup: OSError: no such dataset" in capsys.readouterr().err

    class Typo(Map):
        async def compute(self, x):
            return {"yy": x}

    r = GraphRunner()
    r.ctx.args.quiet = True
    r.connect(r.add(Count("1", n=3)), "x", r.add(Typo("2")), "x")
    assert r.run() == 1
    assert "returned output 'yy', which is not one of its OUTPUTS ('y',) (did you mean 'y'?)" in capsys.readouterr().err


def test_unseeded_cycle_with_a_full_queue_is_a_deadlock_reported_at_once(capsys):
    class Zip(QueueNode):
        INPUTS = {"a": Input.CONSUME, "b": Input.CONSUME}
        OUTPUTS = ("y",)

        async def compute(self, a, b):
            return {"y": a}

    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.args.timeout = 30
    src = r.add(Count("1", "source"))  # infinite: fills the queue into the zip and blocks
    z = r.add(Zip("2", "zip"))
    back = r.add(Map("3", title="feedback"))
    r.connect(src, "x", z, "a", maxsize=1)
    r.connect(z, "y", back, "x")
    r.connect(back, "y", z, "b")  # a cycle with no seed: z waits on b forever
    t0 = time.perf_counter()
    assert r.run() == 3
    assert time.perf_counter() - t0 < 1.0
    err = capsys.readouterr().err
    assert "deadlock: no node can make progress" in err
    assert "node 1 (Count 'source'): blocked sending 'x' to node 2 input 'a' (queue full 1/1)" in err
    assert "node 2 (Zip 'zip'): waiting on input 'b' for an item from node 3.y (it already took" in err


def test_join_waiting_forever_on_a_sticky_that_never_comes_is_a_stall(capsys):
    class Silent(QueueNode):
        OUTPUTS = ("model",)

        async def compute(self):
            return None  # forgets to send

    class UsesModel(QueueNode):
        INPUTS = {"x": Input.CONSUME, "model": Input.STICKY}

        async def compute(self, x, model):
            return None

    r = GraphRunner()
    r.ctx.args.quiet = True
    r.connect(r.add(Count("1", n=3)), "x", u := r.add(UsesModel("2", "trainer")), "x")
    r.connect(r.add(Silent("3", "network")), "model", u, "model")
    t0 = time.perf_counter()
    assert r.run() == 3
    assert time.perf_counter() - t0 < 1.0
    err = capsys.readouterr().err
    assert "node 2 (UsesModel 'trainer'): waiting on input 'model' for a value from node 3.model" in err


def test_stall_watchdog_names_the_waiting_node(capsys):
    class Hang(QueueNode):
        """Computes forever (awaits an event nobody sets), so the graph never goes idle."""

        INPUTS = {"x": Input.CONSUME}
        OUTPUTS = ("y",)

        async def compute(self, x):
            if x == 3:
                await asyncio.Event().wait()
            return {"y": x}

    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.args.stall_timeout = 0.5
    src = r.add(Count("1", "source"))
    h = r.add(Hang("2", "stuck step"))
    c = r.add(Collect("3", "consumer"))
    r.connect(src, "x", h, "x", maxsize=2)
    r.connect(h, "y", c, "x")
    t0 = time.perf_counter()
    code = r.run()
    elapsed = time.perf_counter() - t0
    assert code == 3 and r.reason == "stall"
    assert 0.5 <= elapsed < 2.5
    err = capsys.readouterr().err
    assert "stall: no node finished a firing" in err
    assert "node 1 (Count 'source'): blocked sending 'x' to node 2 input 'x' (queue full 2/2)" in err
    assert "node 2 (Hang 'stuck step'): computing firing 3" in err
    assert "node 3 (Collect 'consumer'): waiting on input 'x' for an item from node 2.y" in err
    assert "--- task of node 2 (Hang 'stuck step') ---" in err
