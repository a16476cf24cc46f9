"""The scheduler: one coroutine per node (event, source and sensor loops), the waits on channels (an empty input,
a full output queue), and the detection of a graph where no node can ever fire again.

GraphRunner (runner.py) owns one Scheduler (`runner.scheduler`): the runner builds the graph, prepares the run and
ends it; the scheduler runs the nodes in between. What items do on a channel (put, take, who is woken) is the
Channel's (channels.py); what the scheduler adds is waiting: each node's future, its state, and the count of nodes
that can still run (0 → the graph is quiescent: done, or stalled).

Firing rule: a node fires when every connected CONSUME/TRIGGER input holds an item (one is taken from each, in the
inputs' order) and every connected STICKY input has received a value; ANY inputs fire the node once per item, in
arrival order. TRIGGER is an alias of CONSUME (one item per firing, waited for like any other): it names an input
whose value is only a "go" signal (SYNC sockets), so that the editor and readers of runner.py can tell it apart.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections import deque
from collections.abc import Callable
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from .channels import WAIT_ANY, Channel
from .node import STOP, Input, QueueNode, SensorNode
from .snapshot import (
    BLOCKED,
    COMPUTING,
    DONE,
    SENDING,
    SETUP,
    SLEEPING,
    STATE_NAMES,
    TAKING,
    WAITING,
    ChannelSnapshot,
    NodeSnapshot,
)

if TYPE_CHECKING:
    from .context import RunContext
    from .stopping import StopController

_YIELD_EVERY = 64  # a node that never had to wait yields to the loop every this many firings
EVENT_MODES = (Input.CONSUME, Input.TRIGGER)  # inputs that take one item per firing


class NodeTask:
    """The scheduler's live record of one node: its wiring, its state and O(1) statistics (read via snapshots)."""

    __slots__ = (
        "node",
        "events",
        "stickies",
        "anys",
        "any_order",
        "outs",
        "base",
        "state",
        "wait_on",
        "suspended_on",
        "getter",
        "since_ns",
        "t0",
        "partial",
        "firings",
        "total_ns",
        "max_ns",
        "asyncio_task",
        "inputs",
    )

    def __init__(self, node: QueueNode):
        self.node = node
        self.inputs: dict[str, Channel] = {}  # connected inputs by name
        self.events: tuple = ()  # (name, channel) of connected CONSUME/TRIGGER inputs, in declaration order
        self.stickies: tuple = ()
        self.anys: tuple = ()
        self.any_order: deque[Channel] | None = None
        self.outs: dict[str, list[Channel]] = {name: [] for name in node.OUTPUTS}
        self.base: dict[str, Any] = dict.fromkeys(node.INPUTS)
        self.state = SETUP
        self.wait_on: Any = None  # what the node waits for now (an empty input, WAIT_ANY, or a full output)
        self.suspended_on: Any = None  # the input its task awaited (wait_on moves past inputs that filled since)
        self.getter: asyncio.Future | None = None
        self.since_ns = 0
        self.t0 = 0
        self.partial = False
        self.firings = 0
        self.total_ns = 0
        self.max_ns = 0
        self.asyncio_task: asyncio.Task | None = None  # the task running its loop

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    def snapshot(self) -> NodeSnapshot:
        node = self.node
        waiting_on = self.wait_on if self.state in (WAITING, BLOCKED) and isinstance(self.wait_on, Channel) else None
        waits_any = tuple(n for n, _c in self.anys) if self.state == WAITING and waiting_on is None else ()
        return NodeSnapshot(
            node_id=node.node_id,
            node_class=type(node).__name__,
            title=node.title,
            description=node.describe(),
            state=self.state,
            firings=self.firings,
            total_ns=self.total_ns,
            max_ns=self.max_ns,
            since_ns=self.since_ns,
            started_ns=self.t0,
            partial=self.partial and self.state == WAITING,
            waiting_on=ChannelSnapshot.of(waiting_on) if waiting_on is not None else None,
            waits_on_any=waits_any,
            held=tuple((n, len(c.items)) for n, c in self.events if c.items),
        )


class Scheduler:
    """Runs the node tasks of one graph. `on_failure(task, exc)` is told when a node raises (the runner decides
    what the failure means); stops go through the run's StopController."""

    def __init__(self, ctx: RunContext, stop: StopController, on_failure: Callable[[NodeTask, BaseException], None]):
        self.ctx = ctx
        self.stop = stop
        self.on_failure = on_failure
        self.tasks: dict[str, NodeTask] = {}
        self.active = 0  # nodes that can run now (not waiting, blocked or done)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.last_progress_ns = 0  # when a node last finished a firing (read by the stall watchdog)

    # -- wiring --------------------------------------------------------------------------------------------------
    def add(self, node: QueueNode) -> NodeTask:
        task = self.tasks[node.node_id] = NodeTask(node)
        return task

    def connect(self, ch: Channel) -> None:
        """Bind a channel to its producer and consumer (both added)."""
        producer, consumer = self.tasks[ch.src.node_id], self.tasks[ch.dst.node_id]
        ch.producer, ch.consumer, ch.scheduler = producer, consumer, self
        consumer.inputs[ch.input] = ch
        if ch.mode is Input.ANY:
            if consumer.any_order is None:
                consumer.any_order = deque()
            ch.any_order = consumer.any_order
        producer.outs[ch.output].append(ch)

    def seal(self) -> None:
        """The graph is complete: sort each node's connected inputs by firing mode (declaration order)."""
        for task in self.tasks.values():
            task.events = tuple((n, c) for n, c in task.inputs.items() if c.mode in EVENT_MODES)
            task.stickies = tuple((n, c) for n, c in task.inputs.items() if c.sticky)
            task.anys = tuple((n, c) for n, c in task.inputs.items() if c.any_order is not None)

    def out_channels(self, task: NodeTask, key: str) -> list[Channel]:
        try:
            return task.outs[key]
        except KeyError:
            from .runner import _did_you_mean

            raise ValueError(
                f"returned output {key!r}, which is not one of its OUTPUTS {task.node.OUTPUTS}"
                + _did_you_mean(key, task.node.OUTPUTS)
            ) from None

    # -- running -------------------------------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start one task per node."""
        self.loop = loop
        for task in self.tasks.values():
            task.state = TAKING
        self.active = len(self.tasks)
        self.last_progress_ns = perf_counter_ns()
        for task in self.tasks.values():
            task.asyncio_task = loop.create_task(self._node_main(task), name=f"node {task.node.node_id}")

    async def cancel(self) -> None:
        """Cancel every node task still running (waits up to 5 s; a task that ignores it is reported)."""
        running = [
            t.asyncio_task for t in self.tasks.values() if t.asyncio_task is not None and not t.asyncio_task.done()
        ]
        for task in running:
            task.cancel()
        if running:
            _done, pending = await asyncio.wait(running, timeout=5.0)
            for task in pending:
                node = self.tasks[task.get_name().split(" ", 1)[1]].node
                print(f"warning: node {node.describe()} ignored cancellation", file=sys.stderr)

    def task_stacks(self, limit: int | None = 8) -> str:
        """The stack of every node task still running (limit=0: none)."""
        if limit == 0:
            return ""
        out = io.StringIO()
        for task in self.tasks.values():
            if task.asyncio_task is None or task.asyncio_task.done():
                continue
            out.write(f"\n--- task of node {task.node.describe()} ---\n")
            task.asyncio_task.print_stack(limit=limit, file=out)
        return out.getvalue()

    def compute_of(self, task: NodeTask) -> Callable[..., Any]:
        """The coroutine function a node's loop awaits for each firing (looked up once, when its loop starts).

        Today the node's own `compute`; the seam where an executor can wrap it (e.g. run blocking work in a worker
        thread) without touching the firing rules, the waits or the statistics.
        """
        return task.node.compute

    # -- waking and waiting --------------------------------------------------------------------------------------
    def _idle(self, task: NodeTask) -> None:
        task.since_ns = perf_counter_ns()
        self.active -= 1
        if self.active == 0:
            self.loop.call_soon(self._check_quiescent)

    def wake(self, task: NodeTask, state: int) -> None:
        """Resume a waiting node in `state`."""
        fut = task.getter
        task.getter = None
        task.wait_on = None
        task.state = state
        self.active += 1
        if not fut.done():
            fut.set_result(None)

    def arrived(self, task: NodeTask, ch: Channel) -> None:
        """An item arrived on `ch`, which the waiting `task` waits for: wake it, unless a later event input of it is
        still empty. Then it waits for that one instead: no task switch for a firing that cannot happen yet (its
        task still takes the inputs in their order once woken)."""
        if task.state == WAITING and not ch.sticky:
            after = False
            for _name, c in task.events:
                if after:
                    if not c.items:
                        task.wait_on = c
                        return
                elif c is ch:
                    after = True
        self.wake(task, TAKING)

    async def _wait_input(self, task: NodeTask, ch: Any) -> None:
        fut = self.loop.create_future()
        task.getter = fut
        task.wait_on = task.suspended_on = ch
        task.state = WAITING
        self._idle(task)
        await fut

    async def _wait_space(self, task: NodeTask, ch: Channel) -> None:
        consumer = ch.consumer
        if consumer.getter is not None and consumer.state == WAITING and consumer.wait_on is not consumer.suspended_on:
            # its consumer was left waiting on a later input (see arrived) with items it has not taken yet:
            # wake it so that it takes them, as it would have without that shortcut (same queue capacity)
            self.wake(consumer, TAKING)
        while ch.full:
            fut = self.loop.create_future()
            ch.putter = fut
            task.getter = fut
            task.wait_on = ch
            task.state = BLOCKED
            self._idle(task)
            await fut
        task.state = SENDING

    # -- sending -------------------------------------------------------------------------------------------------
    def send_nowait(self, task: NodeTask, out: dict) -> list | None:
        """Deliver a firing's outputs without waiting. Returns the deliveries left when a 'block' queue is full."""
        outs = task.outs
        it = iter(out.items())
        for key, value in it:
            if value is None:
                continue
            chans = outs.get(key)
            if chans is None:
                chans = self.out_channels(task, key)  # raises: not one of its outputs
            for ch in chans:
                if not ch.put(value):
                    rest = [(c, value) for c in chans[chans.index(ch) :]]
                    rest += [(c, v) for k, v in it if v is not None for c in self.out_channels(task, k)]
                    return rest
        return None

    async def send_rest(self, task: NodeTask, rest: list) -> None:
        """The slow path of sending: wait for space in full 'block' queues (back-pressure), then put."""
        for ch, value in rest:
            if ch.full:
                await self._wait_space(task, ch)
            ch.put(value)

    # -- node loops ----------------------------------------------------------------------------------------------
    async def _node_main(self, task: NodeTask) -> None:
        try:
            if isinstance(task.node, SensorNode):
                await self._sensor_loop(task)
            elif task.events or task.anys:
                await self._event_loop(task)
            else:
                await self._source_loop(task)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure stops the graph, reported with the node's name
            self.on_failure(task, exc)
            return
        task.state = DONE
        self._idle(task)

    async def _wait_stickies(self, task: NodeTask) -> None:
        for _name, ch in task.stickies:
            if not ch.has_value:
                await self._wait_input(task, ch)

    def _timed_end(self, task: NodeTask, t0: int) -> None:
        t1 = perf_counter_ns()
        dt = t1 - t0
        task.firings += 1
        task.total_ns += dt
        if dt > task.max_ns:
            task.max_ns = dt
        self.last_progress_ns = t1

    async def _event_loop(self, task: NodeTask) -> None:
        stop = self.stop
        compute = self.compute_of(task)
        base = task.base
        events = task.events
        stickies = task.stickies
        order = task.any_order
        loop = self.loop
        n = 0
        while True:
            kw = base.copy()
            took = False  # took an input of this firing already (told to readers as `partial` when it waits)
            if order is not None:
                while True:
                    if not order:
                        task.partial = False
                        await self._wait_input(task, WAIT_ANY)
                        continue
                    ch = order.popleft()
                    if ch.items:  # (empty when a 'latest' drop consumed it)
                        break
                kw[ch.input] = ch.take()
                took = True
            for name, ch in events:
                items = ch.items
                if not items:  # (_wait_input inlined: one coroutine less per wait, the lockstep hop's cost)
                    task.partial = took
                    fut = task.getter = loop.create_future()
                    task.wait_on = task.suspended_on = ch
                    task.state = WAITING
                    self._idle(task)
                    await fut
                kw[name] = items.popleft()  # Channel.take inlined: a call per item slows the chain benchmark
                if ch.putter is not None:
                    ch.release_producer()
                took = True
            for name, ch in stickies:
                if not ch.has_value:
                    task.partial = took
                    await self._wait_input(task, ch)
                kw[name] = ch.value
            task.state = COMPUTING
            t0 = task.t0 = perf_counter_ns()
            out = await compute(**kw)
            t1 = perf_counter_ns()  # (_timed_end inlined: this is the hottest loop)
            dt = t1 - t0
            task.firings += 1
            task.total_ns += dt
            if dt > task.max_ns:
                task.max_ns = dt
            self.last_progress_ns = t1
            if out:
                task.state = SENDING
                rest = self.send_nowait(task, out)
                if rest is not None:
                    await self.send_rest(task, rest)
            elif out is STOP:
                return
            task.state = TAKING
            n += 1
            if n == _YIELD_EVERY or stop.requested:  # a stop was requested: let the supervisor cancel this task
                n = 0
                await asyncio.sleep(0)

    async def _source_loop(self, task: NodeTask) -> None:
        stop = self.stop
        compute = self.compute_of(task)
        stickies = task.stickies
        repeat = task.node.REPEAT
        n = 0
        while True:
            if stickies:  # (no coroutine call per firing for a source without sticky inputs)
                await self._wait_stickies(task)
            kw = task.base.copy()
            for name, ch in stickies:
                kw[name] = ch.value
            task.state = COMPUTING
            t0 = task.t0 = perf_counter_ns()
            out = await compute(**kw)
            t1 = perf_counter_ns()  # (_timed_end inlined: sources feed every benchmark)
            dt = t1 - t0
            task.firings += 1
            task.total_ns += dt
            if dt > task.max_ns:
                task.max_ns = dt
            self.last_progress_ns = t1
            if out is STOP:
                return
            if out:
                task.state = SENDING
                rest = self.send_nowait(task, out)
                if rest is not None:
                    await self.send_rest(task, rest)
            if not repeat:
                return
            task.state = TAKING
            n += 1
            if n == _YIELD_EVERY or stop.requested:  # a stop was requested: let the supervisor cancel this task
                n = 0
                await asyncio.sleep(0)

    async def _sensor_loop(self, task: NodeTask) -> None:
        node = task.node
        compute = self.compute_of(task)
        period = round(1e9 / node.rate_hz)
        await self._wait_stickies(task)
        polled = task.events + task.anys
        next_t = perf_counter_ns()
        while True:
            kw = task.base.copy()
            for name, ch in task.stickies:
                kw[name] = ch.value
            for name, ch in polled:
                if ch.items:
                    kw[name] = ch.take()
            if task.any_order is not None:
                task.any_order.clear()
            task.state = COMPUTING
            t0 = task.t0 = perf_counter_ns()
            out = await compute(**kw)
            self._timed_end(task, t0)
            if out is STOP:
                return
            if out:
                task.state = SENDING
                rest = self.send_nowait(task, out)
                if rest is not None:
                    await self.send_rest(task, rest)
            next_t += period
            now = perf_counter_ns()
            if now >= next_t:
                missed = (now - next_t) // period + 1
                node.missed_ticks += missed
                next_t += missed * period
            task.state = SLEEPING
            await asyncio.sleep((next_t - now) / 1e9)

    # -- the end -------------------------------------------------------------------------------------------------
    def _check_quiescent(self) -> None:
        """No node can run: end the graph (done when all queues are drained, else a stall naming the culprits)."""
        if self.active != 0 or self.stop.done:
            return
        tasks = list(self.tasks.values())
        if all(t.state == DONE for t in tasks):
            self.stop.request("done")
            return
        stuck = [t for t in tasks if t.state == BLOCKED or (t.state == WAITING and _is_stuck(t, self.tasks))]
        if not stuck:
            if not self.ctx.args.quiet:
                self.ctx.log("all nodes idle and every queue drained: nothing left to do")
            self.stop.request("done")
            return
        from .watchdog import describe_states

        head = "deadlock: no node can make progress"
        self.stop.stall(head + "\n" + describe_states([t.snapshot() for t in tasks], perf_counter_ns()))


def _is_stuck(task: NodeTask, tasks: dict[str, NodeTask]) -> bool:
    """A waiting node is stuck unless what it waits on comes (through other waiting nodes) from a finished node.

    Waiting on a finished producer is the normal end of a stream; a chain of waits that loops back is a deadlock
    (e.g. a cycle that was never seeded); a sticky input whose finished producer never sent a value is a bug.
    """
    seen = set()
    cur = task
    while cur.state == WAITING:
        if cur.node.node_id in seen:
            return True  # the waits form a cycle
        seen.add(cur.node.node_id)
        ch = cur.wait_on
        if isinstance(ch, Channel):
            src = tasks[ch.src.node_id]
            if ch.sticky and src.state == DONE:
                return True  # the producer finished without ever sending this value
            cur = src
        else:  # waiting on ANY inputs: stuck only if no ANY producer has finished and they all wait in a cycle
            pending = [tasks[c.src.node_id] for _n, c in cur.anys if tasks[c.src.node_id].state != DONE]
            if not pending:
                return False
            cur = pending[0]
    return cur.state == BLOCKED
