"""The runtime core's named parts and their public seams: Channel, Scheduler, StopController, snapshots, pack state,
and what TRIGGER means."""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path

import pytest

from dnne.runtime import STOP, GraphRunner, Input, QueueNode, RunContext
from dnne.runtime.scheduler import Scheduler
from dnne.runtime.snapshot import DONE, WAITING
from dnne.runtime.stopping import StopController

RUNTIME = Path(__file__).resolve().parents[2] / "dnne" / "runtime"


class Count(QueueNode):
    OUTPUTS = ("x",)
    REPEAT = True

    def __init__(self, node_id, n):
        super().__init__(node_id, "count")
        self.n, self.i = n, 0

    async def compute(self):
        if self.i >= self.n:
            return STOP
        self.i += 1
        return {"x": self.i}


class Collect(QueueNode):
    INPUTS = {"x": Input.CONSUME}

    def __init__(self, node_id):
        super().__init__(node_id, "collect")
        self.seen = []

    async def compute(self, x):
        self.seen.append(x)


class Gated(QueueNode):
    """Passes `x` on once per `go` token (a TRIGGER input)."""

    INPUTS = {"x": Input.CONSUME, "go": Input.TRIGGER}
    OUTPUTS = ("y",)

    async def compute(self, x, go):
        return {"y": (x, go)}


def _quiet() -> GraphRunner:
    r = GraphRunner()
    r.ctx.args.quiet = True
    return r


def test_the_scheduler_is_a_part_of_the_runner_not_a_base_class():
    r = _quiet()
    assert isinstance(r.scheduler, Scheduler)
    assert GraphRunner.__mro__ == (GraphRunner, object)
    assert r.stop is r.ctx.stop_controller and isinstance(r.stop, StopController)


def test_snapshots_are_frozen_copies_of_node_and_channel_state():
    r = _quiet()
    src, dst = r.add(Count("1", 5)), r.add(Collect("2"))
    r.connect(src, "x", dst, "x", maxsize=2)
    before = r.snapshot()
    assert r.run() == 0
    after = r.snapshot()
    assert [n.firings for n in before.nodes] == [0, 0]  # a snapshot does not follow the run
    assert after.node("1").firings == 6 and after.node("2").firings == 5  # 5 values + the firing returning STOP
    assert after.node("1").state == DONE and after.node("1").state_name == "done"
    assert after.node("2").state == WAITING  # for an item its finished producer will never send
    (edge,) = after.channels
    assert (edge.label, edge.sent, edge.high_water, edge.maxsize, edge.policy) == ("1.x -> 2.x", 5, 2, 2, "block")
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.node("1").firings = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        edge.sent = 0  # type: ignore[misc]
    assert r.runtime("2") == after.node("2")


def test_a_snapshot_says_what_a_waiting_node_waits_on():
    r = _quiet()
    values, tokens = r.add(Count("1", 2)), r.add(Count("2", 0))
    gated = r.add(Gated("3"))
    r.connect(values, "x", gated, "x")
    r.connect(tokens, "x", gated, "go")  # never sends: the gate waits on it with two items held
    assert r.run() == 0
    snap = r.snapshot().node("3")
    assert snap.state == WAITING and snap.firings == 0
    assert snap.waiting_on is not None and snap.waiting_on.label == "2.x -> 3.go"
    assert snap.partial and snap.held == (("x", 1),)  # it took the first x for its firing; one more is queued


def test_trigger_is_consume_one_token_per_firing_and_waited_for():
    # TRIGGER is documented as an alias of CONSUME (scheduler.py): each firing takes one item from x and one go token
    r = _quiet()
    src, go = r.add(Count("1", 5)), r.add(Count("2", 3))
    gated, sink = r.add(Gated("3")), r.add(Collect("4"))
    r.connect(src, "x", gated, "x")
    r.connect(go, "x", gated, "go")
    r.connect(gated, "y", sink, "x")
    assert r.run() == 0
    assert sink.seen == [(1, 1), (2, 2), (3, 3)]  # three tokens: three firings
    gate = r.snapshot().node("3")
    assert gate.state == WAITING and gate.waiting_on.input == "go"  # a trigger is waited for, like a CONSUME input
    assert gate.partial and gate.held == (("x", 1),)  # it took x 4 for the next firing; x 5 stays queued


def test_one_representation_of_an_input_mode():
    r = _quiet()
    src, gated = r.add(Count("1", 1)), r.add(Gated("2"))
    ch = r.connect(src, "x", gated, "go")
    assert ch.mode is Input.TRIGGER
    assert r.snapshot().channels[0].mode == "trigger"


def test_the_stop_controller_public_api_without_a_runner():
    stop = StopController()
    stop.request_checkpoint("best")
    stop.step_boundary()  # not bound to a run: counts the boundary, writes nothing
    assert stop.boundaries == 1 and not stop.requested and not stop.done
    stop.request("done")
    assert stop.requested


def test_a_graceful_stop_waits_for_the_step_boundary_and_writes_the_final_checkpoint_there(tmp_path):
    written: list[tuple[str, int]] = []

    class Stepper(QueueNode):
        OUTPUTS = ()
        REPEAT = True

        async def compute(self):
            if self.ctx.step == 3:
                self.ctx.stop_controller.request_graceful("timeout")  # what --timeout does
            self.ctx.step_boundary()

    r = _quiet()
    r.add(Stepper("1"))
    r.save_checkpoint = lambda tag, quiet=False: written.append((tag, r.ctx.step)) or True  # type: ignore[method-assign]
    assert r.run() == 0
    assert r.reason == "timeout"
    assert written == [("final", 4)]  # at the boundary after the request, and only once


def test_signal_handlers_are_restored_after_a_run():
    before = signal.getsignal(signal.SIGTERM)
    r = _quiet()
    r.add(Count("1", 2))
    assert r.run() == 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_pack_state_lives_on_its_run_context():
    made = []

    def factory(ctx):
        made.append(ctx)
        return {"loops": []}

    a, b = RunContext(), RunContext()
    first = a.pack_state("ml.loops", factory)
    assert a.pack_state("ml.loops", factory) is first
    assert b.pack_state("ml.loops", factory) is not first
    assert made == [a, b]


def test_no_core_module_keeps_a_registry_keyed_by_object_ids():
    for path in sorted(RUNTIME.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        assert "id(ctx)" not in code.replace("dict keyed by id(ctx)", ""), path.name
        assert "[id(" not in code and "get(id(" not in code, path.name


def test_nothing_outside_the_runner_reads_its_private_state():
    for name in ("watchdog.py", "stats.py", "activity.py", "context.py", "stopping.py"):
        text = (RUNTIME / name).read_text(encoding="utf-8")
        for private in ("runner._", "._rt", "._runner._"):
            assert private not in text, (name, private)
