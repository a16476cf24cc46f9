"""A node with several event inputs is woken once per firing (when its last missing input arrives), not once per
input, without changing what it receives or how much its queues hold (back-pressure)."""

from __future__ import annotations

import asyncio

from dnne.runtime import STOP, GraphRunner, Input, QueueNode


class Split(QueueNode):
    """Emits `plan` one output per firing: [("a", 1), ("a", 2), ("b", 1), …], then stops."""

    OUTPUTS = ("a", "b")
    REPEAT = True

    def __init__(self, node_id, plan):
        super().__init__(node_id, "split")
        self.plan = list(plan)

    async def compute(self):
        if not self.plan:
            return STOP
        await asyncio.sleep(0.002)  # the consumer is waiting on its (empty) first input when each item comes
        key, value = self.plan.pop(0)
        return {key: value}


class Tee(QueueNode):
    """Sends its item on 'a' and on 'y' (one firing)."""

    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("a", "y")

    async def compute(self, x):
        return {"a": x, "y": x}


class Times10(QueueNode):
    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("b",)

    async def compute(self, x):
        return {"b": 10 * x}


class Gate(QueueNode):
    """Emits 1..n, one per trigger (primed): with Join's `done` fed back, one item in flight (lockstep)."""

    INPUTS = {"trigger": Input.TRIGGER}
    OUTPUTS = ("x",)
    PRIMED = ("trigger",)

    def __init__(self, node_id, n):
        super().__init__(node_id, "gate")
        self.n, self.i = n, 0

    async def compute(self, trigger):
        if self.i >= self.n:
            return STOP
        self.i += 1
        return {"x": self.i}


class Join(QueueNode):
    INPUTS = {"a": Input.CONSUME, "b": Input.CONSUME}
    OUTPUTS = ("done",)

    def __init__(self, node_id):
        super().__init__(node_id, "join")
        self.seen = []

    async def compute(self, a, b):
        self.seen.append((a, b))
        return {"done": True}


def _count_wakes(runner: GraphRunner, node_id: str) -> list[int]:
    wakes = [0]
    scheduler = runner.scheduler
    wake = scheduler.wake  # every wake-up of a waiting node goes through Scheduler.wake

    def counting(task, state):
        if task.node.node_id == node_id:
            wakes[0] += 1
        wake(task, state)

    scheduler.wake = counting
    return wakes


def test_a_join_is_woken_once_per_firing_when_its_inputs_come_from_different_nodes():
    # zip.a arrives one hop before zip.b (the EpochTracker pattern: epoch_stats from GetBatch, loss later)
    r = GraphRunner()
    r.ctx.args.quiet = True
    src = r.add(Gate("1", 50))
    tee = r.add(Tee("2", "tee"))
    times10 = r.add(Times10("3", "times10"))
    z = r.add(Join("4"))
    r.connect(z, "done", src, "trigger")
    r.connect(src, "x", tee, "x", maxsize=1)
    r.connect(tee, "a", z, "a", maxsize=1)
    r.connect(tee, "y", times10, "x", maxsize=1)
    r.connect(times10, "b", z, "b", maxsize=1)
    wakes = _count_wakes(r, "4")
    assert r.run() == 0
    assert z.seen == [(i, 10 * i) for i in range(1, 51)]
    assert wakes[0] <= 51  # one per firing (+ the end), not one per input (100)


def test_items_left_in_a_full_queue_of_a_waiting_join_do_not_block_its_producer():
    # 'a' holds one item; without taking a1 early the producer would block on a2 and never send b1 (deadlock)
    r = GraphRunner()
    r.ctx.args.quiet = True
    r.ctx.args.timeout = 10
    plan = [("a", 1), ("a", 2), ("b", 1), ("b", 2), ("a", 3), ("a", 4), ("b", 3), ("b", 4)]
    src = r.add(Split("1", plan))
    z = r.add(Zip2("2"))
    r.connect(src, "a", z, "a", maxsize=1)
    r.connect(src, "b", z, "b", maxsize=1)
    assert r.run() == 0
    assert z.seen == [(1, 1), (2, 2), (3, 3), (4, 4)]


class Zip2(QueueNode):
    INPUTS = {"a": Input.CONSUME, "b": Input.CONSUME}
    OUTPUTS = ()

    def __init__(self, node_id):
        super().__init__(node_id, "zip2")
        self.seen = []

    async def compute(self, a, b):
        self.seen.append((a, b))
