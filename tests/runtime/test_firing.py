"""Firing rules: consume/sticky/trigger/optional/ANY, primed inputs, seeds, fan-out, FIFO, back-pressure, policies."""

from __future__ import annotations

import asyncio
import time

import pytest

from dnne.runtime import STOP, GraphRunner, Input, QueueNode, SensorNode

from .nodes import Collect, Const, Count, Map


def quiet_runner() -> GraphRunner:
    r = GraphRunner()
    r.ctx.args.quiet = True
    return r


class Join(QueueNode):
    INPUTS = {"a": Input.CONSUME, "b": Input.CONSUME, "s": Input.STICKY, "t": Input.TRIGGER, "opt": Input.CONSUME}
    OUTPUTS = ("out",)

    async def compute(self, a, b, s, t, opt):
        return {"out": (a, b, s, t, opt)}


def test_consume_pairs_fifo_and_sticky_reused_and_unconnected_is_none():
    r = quiet_runner()
    a = r.add(Count("a", n=5))
    b = r.add(Count("b", n=5))
    s = r.add(Const("s", "model"))
    j = r.add(Join("j"))
    c = r.add(Collect("c"))
    r.connect(a, "x", j, "a")
    r.connect(b, "x", j, "b", maxsize=1)
    r.connect(s, "value", j, "s")
    r.connect(j, "out", c, "x")
    assert r.run() == 0
    assert r.reason == "done"
    # unconnected TRIGGER and CONSUME inputs are never waited on and are passed as None
    assert c.seen == [(i, i, "model", None, None) for i in range(1, 6)]


def test_sticky_newer_value_replaces_old():
    class Pair(QueueNode):
        INPUTS = {"x": Input.CONSUME, "s": Input.STICKY}
        OUTPUTS = ("y",)

        async def compute(self, x, s):
            return {"y": (x, s)}

    class Settings(QueueNode):
        """Emits a new sticky value whenever it is triggered."""

        INPUTS = {"x": Input.CONSUME}
        OUTPUTS = ("s",)

        async def compute(self, x):
            return {"s": f"v{x}"}

    r = quiet_runner()
    src = r.add(Count("src", n=3))
    st = r.add(Settings("st"))
    p = r.add(Pair("p"))
    c = r.add(Collect("c"))
    r.connect(src, "x", st, "x")
    r.connect(st, "s", p, "s")
    # p's x comes from the settings path too, delayed by one map so the sticky always arrives first
    m = r.add(Map("m"))
    r.connect(src, "x", m, "x")
    r.connect(m, "y", p, "x")
    r.connect(p, "y", c, "x")
    assert r.run() == 0
    assert [x for x, _ in c.seen] == [1, 2, 3]
    assert c.seen[-1] == (3, "v3")
    assert all(s.startswith("v") for _, s in c.seen)


def test_trigger_connected_is_consumed_one_per_firing():
    class Gate(QueueNode):
        INPUTS = {"x": Input.CONSUME, "go": Input.TRIGGER}
        OUTPUTS = ("y",)

        async def compute(self, x, go):
            return {"y": (x, go)}

    r = quiet_runner()
    data = r.add(Count("data", n=10))
    trig = r.add(Count("trig", n=3))
    g = r.add(Gate("g"))
    c = r.add(Collect("c"))
    r.connect(data, "x", g, "x")
    r.connect(trig, "x", g, "go")
    r.connect(g, "y", c, "x")
    assert r.run() == 0
    assert c.seen == [(1, 1), (2, 2), (3, 3)]


def test_any_inputs_fire_once_per_item_in_arrival_order():
    class Or(QueueNode):
        INPUTS = {"left": Input.ANY, "right": Input.ANY}
        OUTPUTS = ("y",)

        async def compute(self, left, right):
            assert (left is None) != (right is None)
            return {"y": ("L", left) if left is not None else ("R", right)}

    class Both(QueueNode):
        """Emits on two outputs in one firing: the OR node must see both, left first (send order)."""

        OUTPUTS = ("l", "r")
        REPEAT = True

        def __init__(self, node_id):
            super().__init__(node_id, "both")
            self.i = 0

        async def compute(self):
            self.i += 1
            if self.i > 4:
                return STOP
            return {"l": self.i, "r": -self.i}

    r = quiet_runner()
    b = r.add(Both("b"))
    o = r.add(Or("o"))
    c = r.add(Collect("c"))
    r.connect(b, "l", o, "left")
    r.connect(b, "r", o, "right")
    r.connect(o, "y", c, "x")
    assert r.run() == 0
    # no value is lost when both inputs are ready in the same wake-up (original DNNE defect 13)
    expected = []
    for i in range(1, 5):
        expected += [("L", i), ("R", -i)]
    assert c.seen == expected


class LoopBody(QueueNode):
    """One side of a 2-node cycle: counts up and stops the graph at `limit`."""

    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("y",)

    def __init__(self, node_id, *, limit=None, seed=None):
        super().__init__(node_id, "loop")
        self.limit, self.seed, self.values = limit, seed, []

    def initial_outputs(self):
        return {"y": self.seed} if self.seed is not None else None

    async def compute(self, x):
        self.values.append(x)
        if self.limit is not None and x >= self.limit:
            self.ctx.request_stop("done")
            return None
        return {"y": x + 1}


def test_loop_starts_from_initial_outputs_seed():
    r = quiet_runner()
    a = r.add(LoopBody("a", seed=0))
    b = r.add(LoopBody("b", limit=9))
    r.connect(a, "y", b, "x", maxsize=1)
    r.connect(b, "y", a, "x", maxsize=1)
    assert r.run() == 0
    assert b.values == [0, 2, 4, 6, 8, 10]  # the seed token reaches b first
    assert a.values == [1, 3, 5, 7, 9]


def test_loop_starts_from_primed_input_and_without_it_deadlocks():
    class Primed(LoopBody):
        PRIMED = ("x",)

    r = quiet_runner()
    a = r.add(Primed("a"))
    b = r.add(LoopBody("b", limit=5))
    r.connect(a, "y", b, "x", maxsize=1)
    r.connect(b, "y", a, "x", maxsize=1)
    assert r.run() == 0
    assert a.values[0] is True  # the primed token
    assert b.values == [2, 4, 6]  # True + 1 == 2

    r = quiet_runner()
    a = r.add(LoopBody("a"))
    b = r.add(LoopBody("b", limit=5))
    r.connect(a, "y", b, "x")
    r.connect(b, "y", a, "x")
    # an unseeded cycle can never start: reported as a deadlock (exit 3) at once, naming the waiting nodes
    t0 = time.perf_counter()
    assert r.run() == 3
    assert time.perf_counter() - t0 < 1.0
    assert r.reason == "stall" and a.values == [] and b.values == []


def test_fan_out_delivers_the_same_object_to_every_consumer():
    r = quiet_runner()
    src = r.add(Count("src", n=20))
    obj = r.add(Map("obj", lambda x: [x]))
    sinks = [r.add(Collect(f"c{i}")) for i in range(4)]
    r.connect(src, "x", obj, "x")
    for s in sinks:
        r.connect(obj, "y", s, "x", maxsize=2)
    assert r.run() == 0
    for s in sinks:
        assert [v[0] for v in s.seen] == list(range(1, 21))
    assert all(sinks[0].seen[i] is sinks[3].seen[i] for i in range(20))


def test_backpressure_keeps_queue_within_maxsize():
    r = quiet_runner()
    src = r.add(Count("src", n=200))
    slow = r.add(Collect("slow", delay=0.0005))
    ch = r.connect(src, "x", slow, "x", maxsize=3)
    assert r.run() == 0
    assert slow.seen == list(range(1, 201))
    assert ch.high == 3 and ch.drops == 0 and ch.sent == 200


def test_latest_policy_drops_oldest_and_counts_drops():
    class Burst(QueueNode):
        OUTPUTS = ("x",)

        async def compute(self):  # fires once and sends nothing itself
            return None

    r = quiet_runner()
    src = r.add(Count("src", n=100))
    sink = r.add(Collect("sink", delay=0.002))
    ch = r.connect(src, "x", sink, "x", maxsize=2, policy="latest")
    assert r.run() == 0
    assert ch.drops > 0
    assert len(sink.seen) + ch.drops == 100
    assert sink.seen == sorted(sink.seen) and sink.seen[-1] == 100  # newest kept
    assert ch.high <= 2


def test_repeat_source_stops_on_STOP_and_non_repeat_fires_once():
    r = quiet_runner()
    rep = r.add(Count("rep", n=7))
    once = r.add(Const("once", 42))
    c1, c2 = r.add(Collect("c1")), r.add(Collect("c2"))
    r.connect(rep, "x", c1, "x")
    r.connect(once, "value", c2, "x")
    assert r.run() == 0
    assert c1.seen == list(range(1, 8)) and c2.seen == [42]
    assert r.runtime(rep).firings == 8  # 7 values + the firing that returned STOP
    assert r.runtime(once).firings == 1


def test_none_value_and_missing_key_are_not_sent():
    class Sparse(QueueNode):
        INPUTS = {"x": Input.CONSUME}
        OUTPUTS = ("even", "odd")

        async def compute(self, x):
            return {"even": x if x % 2 == 0 else None}

    r = quiet_runner()
    src = r.add(Count("src", n=6))
    sp = r.add(Sparse("sp"))
    ev, od = r.add(Collect("ev")), r.add(Collect("od"))
    r.connect(src, "x", sp, "x")
    r.connect(sp, "even", ev, "x")
    r.connect(sp, "odd", od, "x")
    assert r.run() == 0
    assert ev.seen == [2, 4, 6] and od.seen == []


def test_sensor_node_fires_at_its_rate():
    class Tick(SensorNode):
        OUTPUTS = ("t",)

        def __init__(self, node_id):
            super().__init__(node_id, "tick", rate_hz=50)
            self.times = []

        async def compute(self):
            self.times.append(time.perf_counter())
            return {"t": len(self.times)}

    r = quiet_runner()
    r.ctx.args.timeout = 0.6
    t = r.add(Tick("t"))
    c = r.add(Collect("c"))
    r.connect(t, "t", c, "x")
    assert r.run() == 0
    assert r.reason == "timeout"
    fired = len(t.times) + t.missed_ticks
    assert 24 <= fired <= 32, fired  # 0.6 s at 50 Hz = 30 ticks (drift-free: missed ticks are counted, not lost)
    span = t.times[-1] - t.times[0]
    assert abs(span / (len(t.times) - 1 + t.missed_ticks) - 0.02) < 0.004


def test_connect_errors_name_the_node_and_suggest():
    r = quiet_runner()
    a, b = r.add(Count("a")), r.add(Map("b"))
    with pytest.raises(ValueError, match=r"has no output 'xx' \(did you mean 'x'\?\)"):
        r.connect(a, "xx", b, "x")
    with pytest.raises(ValueError, match="no input 'q'"):
        r.connect(a, "x", b, "q")
    r.connect(a, "x", b, "x")
    with pytest.raises(ValueError, match="already connected"):
        r.connect(a, "x", b, "x")
    with pytest.raises(ValueError, match="maxsize"):
        r.connect(a, "x", r.add(Map("c")), "x", maxsize=0)
    with pytest.raises(ValueError, match="duplicate node id"):
        r.add(Map("a"))
    with pytest.raises(ValueError, match="was not added"):
        r.connect(Count("zz"), "x", b, "x")

    class Sync(QueueNode):
        def compute(self):
            return None

    with pytest.raises(TypeError, match=r"node s \(Sync 's'\): compute must be declared `async def"):
        r.add(Sync("s", "s"))


def test_run_async_leaves_no_tasks_behind():
    async def main():
        r = quiet_runner()
        src = r.add(Count("src"))  # infinite
        sink = r.add(Collect("sink", stop_after=50))
        r.connect(src, "x", sink, "x")
        code = await r.run_async()
        others = asyncio.all_tasks() - {asyncio.current_task()}
        return code, others, sink

    code, others, sink = asyncio.run(main())
    assert code == 0 and not others and len(sink.seen) >= 50
