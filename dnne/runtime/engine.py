"""The per-node engine: one coroutine per node (event, source and sensor loops), channel waits and sends,
back-pressure, and the detection of a graph where no node can ever fire again.

`Engine` is the half of GraphRunner that runs inside the event loop; GraphRunner (runner.py) builds the graph,
supervises the tasks and ends the run.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from .channels import Channel
from .node import STOP, QueueNode, SensorNode
from .watchdog import describe_states, dump_task_stacks

if TYPE_CHECKING:
    from .context import RunContext
    from .node import NodeError

_YIELD_EVERY = 64  # a node that never had to wait yields to the loop every this many firings

# node states (RuntimeNode.state)
SETUP, TAKING, COMPUTING, WAITING, SENDING, BLOCKED, SLEEPING, DONE = range(8)
STATE_NAMES = ("setup", "taking inputs", "computing", "waiting", "sending", "blocked sending", "sleeping", "done")
_WAIT_ANY = object()  # RuntimeNode.wait_on value while waiting on any ANY input


class RuntimeNode:
    """The runner's bookkeeping for one node: its wiring, its state and O(1) statistics."""

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
        "task",
        "inputs",
    )

    def __init__(self, node: QueueNode):
        self.node = node
        self.inputs: dict[str, Channel] = {}  # connected inputs by name
        self.events: tuple = ()
        self.stickies: tuple = ()
        self.anys: tuple = ()
        self.any_order = None
        self.outs: dict[str, list[Channel]] = {name: [] for name in node.OUTPUTS}
        self.base: dict[str, Any] = dict.fromkeys(node.INPUTS)
        self.state = SETUP
        self.wait_on: Any = None  # what the node waits for now (an empty input, _WAIT_ANY, or a full output)
        self.suspended_on: Any = None  # the input its task awaited (wait_on moves past inputs that filled since)
        self.getter: asyncio.Future | None = None
        self.since_ns = 0
        self.t0 = 0
        self.partial = False
        self.firings = 0
        self.total_ns = 0
        self.max_ns = 0
        self.task: asyncio.Task | None = None

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]


class Engine:
    """Node loops and channel operations (mixed into GraphRunner, which provides _fail/stall/request_stop)."""

    ctx: RunContext
    _rt: dict[str, RuntimeNode]
    _loop: asyncio.AbstractEventLoop | None
    _stop: asyncio.Future | None
    _active: int
    _error: NodeError | None
    last_progress_ns: int

    def _idle(self, rt: RuntimeNode) -> None:
        rt.since_ns = perf_counter_ns()
        self._active -= 1
        if self._active == 0:
            self._loop.call_soon(self._check_quiescent)

    def _wake(self, rt: RuntimeNode, state: int) -> None:
        fut = rt.getter
        rt.getter = None
        rt.wait_on = None
        rt.state = state
        self._active += 1
        if not fut.done():
            fut.set_result(None)

    def _arrived(self, drt: RuntimeNode, ch: Channel) -> None:
        """An item arrived on `ch`, which the waiting `drt` waits for: wake it, unless a later event input of it is
        still empty. Then it waits for that one instead: no task switch for a firing that cannot happen yet (its
        task still takes the inputs in their order once woken)."""
        if drt.state == WAITING and not ch.sticky:
            after = False
            for _name, c in drt.events:
                if after:
                    if not c.items:
                        drt.wait_on = c
                        return
                elif c is ch:
                    after = True
        self._wake(drt, TAKING)

    async def _wait_input(self, rt: RuntimeNode, ch: Any) -> None:
        fut = self._loop.create_future()
        rt.getter = fut
        rt.wait_on = rt.suspended_on = ch
        rt.state = WAITING
        self._idle(rt)
        await fut

    async def _wait_space(self, rt: RuntimeNode, ch: Channel) -> None:
        drt = ch.dst_rt
        if drt.getter is not None and drt.state == WAITING and drt.wait_on is not drt.suspended_on:
            # its consumer was left waiting on a later input (see _arrived) with items it has not taken yet:
            # wake it so that it takes them, as it would have without that shortcut (same queue capacity)
            self._wake(drt, TAKING)
        while len(ch.items) >= ch.maxsize:
            fut = self._loop.create_future()
            ch.putter = fut
            rt.getter = fut
            rt.wait_on = ch
            rt.state = BLOCKED
            self._idle(rt)
            await fut
        rt.state = SENDING

    def _took(self, ch: Channel) -> None:
        """After an item left `ch`: wake its producer if it waits for space."""
        fut = ch.putter
        if fut is not None:
            ch.putter = None
            self._wake(ch.src_rt, SENDING)

    def _send_nowait(self, rt: RuntimeNode, out: dict) -> list | None:
        """Deliver a firing's outputs without waiting. Returns the deliveries left when a 'block' queue is full.

        The per-channel delivery is `_send_nowait_one` inlined: this is the hottest loop of the runtime, and a
        method call per delivery costs ~10 % on the pipelined and fan-out benchmarks (bench/runtime_hops.py)."""
        outs = rt.outs
        it = iter(out.items())
        for key, value in it:
            if value is None:
                continue
            chans = outs.get(key)
            if chans is None:
                self._out_channels(rt, key)
            for ch in chans:
                if ch.sticky:
                    ch.value = value
                    ch.has_value = True
                else:
                    items = ch.items
                    if len(items) >= ch.maxsize:
                        if not ch.latest:
                            rest = [(c, value) for c in chans[chans.index(ch) :]]
                            rest += [(c, v) for k, v in it if v is not None for c in self._out_channels(rt, k)]
                            return rest
                        items.popleft()
                        ch.drops += 1
                        items.append(value)
                        ch.sent += 1
                        continue  # it was full: its consumer is not waiting for it
                    items.append(value)
                    if ch.any_order is not None:
                        ch.any_order.append(ch)
                    if len(items) > ch.high:
                        ch.high = len(items)
                ch.sent += 1
                drt = ch.dst_rt
                if drt.getter is not None:
                    if drt.wait_on is ch:
                        if len(drt.events) > 1:
                            self._arrived(drt, ch)
                        else:
                            self._wake(drt, TAKING)
                    elif drt.wait_on is _WAIT_ANY and ch.any_order:
                        self._wake(drt, TAKING)
        return None

    async def _send_rest(self, rt: RuntimeNode, rest: list) -> None:
        """The slow path of sending: wait for space in full 'block' queues (back-pressure)."""
        for ch, value in rest:
            if not ch.sticky and not ch.latest and len(ch.items) >= ch.maxsize:
                await self._wait_space(rt, ch)
            self._send_nowait_one(rt, ch, value)

    def _send_nowait_one(self, rt: RuntimeNode, ch: Channel, value: Any) -> None:
        if ch.sticky:
            ch.value = value
            ch.has_value = True
        else:
            items = ch.items
            if len(items) >= ch.maxsize:  # only 'latest' queues can still be full here
                items.popleft()
                ch.drops += 1
                items.append(value)
                ch.sent += 1
                return
            items.append(value)
            if ch.any_order is not None:
                ch.any_order.append(ch)
            if len(items) > ch.high:
                ch.high = len(items)
        ch.sent += 1
        drt = ch.dst_rt
        if drt.getter is not None:
            if drt.wait_on is ch:
                if len(drt.events) > 1:
                    self._arrived(drt, ch)
                else:
                    self._wake(drt, TAKING)
            elif drt.wait_on is _WAIT_ANY and ch.any_order:
                self._wake(drt, TAKING)

    async def _node_main(self, rt: RuntimeNode) -> None:
        try:
            if isinstance(rt.node, SensorNode):
                await self._sensor_loop(rt)
            elif rt.events or rt.anys:
                await self._event_loop(rt)
            else:
                await self._source_loop(rt)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure stops the graph, reported with the node's name
            self._fail(rt, exc)
            return
        rt.state = DONE
        self._idle(rt)

    async def _wait_stickies(self, rt: RuntimeNode) -> None:
        for _name, ch in rt.stickies:
            if not ch.has_value:
                await self._wait_input(rt, ch)

    def _timed_end(self, rt: RuntimeNode, t0: int) -> None:
        t1 = perf_counter_ns()
        dt = t1 - t0
        rt.firings += 1
        rt.total_ns += dt
        if dt > rt.max_ns:
            rt.max_ns = dt
        self.last_progress_ns = t1

    async def _event_loop(self, rt: RuntimeNode) -> None:
        ctx = self.ctx
        compute = rt.node.compute
        base = rt.base
        events = rt.events
        stickies = rt.stickies
        order = rt.any_order
        n = 0
        while True:
            kw = base.copy()
            if order is not None:
                while True:
                    if not order:
                        await self._wait_input(rt, _WAIT_ANY)
                        continue
                    ch = order.popleft()
                    if ch.items:  # (empty when a 'latest' drop consumed it)
                        break
                kw[ch.input] = ch.items.popleft()
                if ch.putter is not None:
                    self._took(ch)
                rt.partial = True
            for name, ch in events:
                items = ch.items
                if not items:
                    await self._wait_input(rt, ch)
                kw[name] = items.popleft()
                if ch.putter is not None:
                    self._took(ch)
                rt.partial = True
            for name, ch in stickies:
                if not ch.has_value:
                    await self._wait_input(rt, ch)
                kw[name] = ch.value
            rt.partial = False
            rt.state = COMPUTING
            t0 = rt.t0 = perf_counter_ns()
            out = await compute(**kw)
            t1 = perf_counter_ns()
            dt = t1 - t0
            rt.firings += 1
            rt.total_ns += dt
            if dt > rt.max_ns:
                rt.max_ns = dt
            self.last_progress_ns = t1
            if out:
                rt.state = SENDING
                rest = self._send_nowait(rt, out)
                if rest is not None:
                    await self._send_rest(rt, rest)
            elif out is STOP:
                return
            rt.state = TAKING
            n += 1
            if n == _YIELD_EVERY or ctx.stopping:  # a stop was requested: let the supervisor cancel this task
                n = 0
                await asyncio.sleep(0)

    async def _source_loop(self, rt: RuntimeNode) -> None:
        ctx = self.ctx
        compute = rt.node.compute
        stickies = rt.stickies
        repeat = rt.node.REPEAT
        n = 0
        while True:
            await self._wait_stickies(rt)
            kw = rt.base.copy()
            for name, ch in stickies:
                kw[name] = ch.value
            rt.state = COMPUTING
            t0 = rt.t0 = perf_counter_ns()
            out = await compute(**kw)
            self._timed_end(rt, t0)
            if out is STOP:
                return
            if out:
                rt.state = SENDING
                rest = self._send_nowait(rt, out)
                if rest is not None:
                    await self._send_rest(rt, rest)
            if not repeat:
                return
            rt.state = TAKING
            n += 1
            if n == _YIELD_EVERY or ctx.stopping:  # a stop was requested: let the supervisor cancel this task
                n = 0
                await asyncio.sleep(0)

    async def _sensor_loop(self, rt: RuntimeNode) -> None:
        node = rt.node
        compute = node.compute
        period = round(1e9 / node.rate_hz)
        await self._wait_stickies(rt)
        polled = rt.events + rt.anys
        next_t = perf_counter_ns()
        while True:
            kw = rt.base.copy()
            for name, ch in rt.stickies:
                kw[name] = ch.value
            for name, ch in polled:
                if ch.items:
                    kw[name] = ch.items.popleft()
                    if ch.putter is not None:
                        self._took(ch)
            if rt.any_order is not None:
                rt.any_order.clear()
            rt.state = COMPUTING
            t0 = rt.t0 = perf_counter_ns()
            out = await compute(**kw)
            self._timed_end(rt, t0)
            if out is STOP:
                return
            if out:
                rt.state = SENDING
                rest = self._send_nowait(rt, out)
                if rest is not None:
                    await self._send_rest(rt, rest)
            next_t += period
            now = perf_counter_ns()
            if now >= next_t:
                missed = (now - next_t) // period + 1
                node.missed_ticks += missed
                next_t += missed * period
            rt.state = SLEEPING
            await asyncio.sleep((next_t - now) / 1e9)

    def _check_quiescent(self) -> None:
        """No node can run: end the graph (done when all queues are drained, else a stall naming the culprits)."""
        if self._active != 0 or self._stop is None or self._stop.done():
            return
        rts = list(self._rt.values())
        if all(rt.state == DONE for rt in rts):
            self.request_stop("done")
            return
        stuck = [rt for rt in rts if rt.state == BLOCKED or (rt.state == WAITING and _is_stuck(rt, self._rt))]
        if not stuck:
            if not self.ctx.args.quiet:
                self.ctx.log("all nodes idle and every queue drained: nothing left to do")
            self.request_stop("done")
            return
        head = "deadlock: no node can make progress"
        self.stall(head + "\n" + describe_states(self, perf_counter_ns()) + dump_task_stacks(self, limit=0))


def _is_stuck(rt: RuntimeNode, rts: dict[str, RuntimeNode]) -> bool:
    """A waiting node is stuck unless what it waits on comes (through other waiting nodes) from a finished node.

    Waiting on a finished producer is the normal end of a stream; a chain of waits that loops back is a deadlock
    (e.g. a cycle that was never seeded); a sticky input whose finished producer never sent a value is a bug.
    """
    seen = set()
    cur = rt
    while cur.state == WAITING:
        if cur.node.node_id in seen:
            return True  # the waits form a cycle
        seen.add(cur.node.node_id)
        ch = cur.wait_on
        if isinstance(ch, Channel):
            src = rts[ch.src.node_id]
            if ch.sticky and src.state == DONE:
                return True  # the producer finished without ever sending this value
            cur = src
        else:  # waiting on ANY inputs: stuck only if no ANY producer has finished and they all wait in a cycle
            pending = [rts[c.src.node_id] for _n, c in cur.anys if rts[c.src.node_id].state != DONE]
            if not pending:
                return False
            cur = pending[0]
    return cur.state == BLOCKED
