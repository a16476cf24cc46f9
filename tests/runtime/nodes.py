"""Small QueueNode subclasses used by the runtime tests (real nodes on the real runtime, no mocks)."""

from __future__ import annotations

import asyncio

from dnne.runtime import STOP, Input, QueueNode


class Count(QueueNode):
    """REPEAT source emitting 1..n then STOP (n=None: forever)."""

    OUTPUTS = ("x",)
    REPEAT = True

    def __init__(self, node_id, title="count", *, n=None, delay=0.0):
        super().__init__(node_id, title)
        self.n, self.i, self.delay = n, 0, delay

    async def compute(self):
        if self.n is not None and self.i >= self.n:
            return STOP
        self.i += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return {"x": self.i}


class Const(QueueNode):
    """Fires once, emitting `value`."""

    OUTPUTS = ("value",)

    def __init__(self, node_id, value, title="const"):
        super().__init__(node_id, title)
        self.value = value

    async def compute(self):
        return {"value": self.value}


class Map(QueueNode):
    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("y",)

    def __init__(self, node_id, fn=lambda x: x, title="map"):
        super().__init__(node_id, title)
        self.fn = fn

    async def compute(self, x):
        return {"y": self.fn(x)}


class Collect(QueueNode):
    """Sink recording every firing's keyword arguments (as a dict) in `seen`."""

    INPUTS = {"x": Input.CONSUME}

    def __init__(self, node_id, title="collect", *, stop_after=None, delay=0.0):
        super().__init__(node_id, title)
        self.seen = []
        self.stop_after, self.delay = stop_after, delay

    async def compute(self, **inputs):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.seen.append(inputs["x"] if list(inputs) == ["x"] else inputs)
        if self.stop_after is not None and len(self.seen) >= self.stop_after:
            self.ctx.request_stop("done")


class Faulty(QueueNode):
    """Passes x through; raises ValueError('injected') at firing `raise_at`."""

    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("y",)

    def __init__(self, node_id, title="faulty", *, raise_at=1):
        super().__init__(node_id, title)
        self.raise_at, self.firing = raise_at, 0

    async def compute(self, x):
        self.firing += 1
        if self.firing == self.raise_at:
            raise ValueError("injected")
        return {"y": x}


class FaultySource(Count):
    def __init__(self, node_id, title="faulty source", *, raise_at=1):
        super().__init__(node_id, title)
        self.raise_at = raise_at

    async def compute(self):
        if self.i + 1 == self.raise_at:
            raise ValueError("injected")
        return await super().compute()
