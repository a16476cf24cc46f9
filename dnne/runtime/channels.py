"""The connection between one output and one input: a bounded FIFO (block or latest policy) or a sticky slot.

Channels are plain objects driven by the runner (no asyncio.Queue): at most one task waits to take (the consumer)
and producers waiting for space wait on one shared future. Counters are O(1): items sent, drops, high-water mark.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from .node import QueueNode

POLICIES = ("block", "latest")


class Channel:
    """One edge `src.output -> dst.input`. `mode` is the destination's Input value ('consume', 'sticky', …)."""

    __slots__ = (
        "src",
        "output",
        "dst",
        "input",
        "mode",
        "maxsize",
        "latest",
        "items",
        "getter",
        "putter",
        "value",
        "has_value",
        "sent",
        "drops",
        "high",
        "sticky",
        "any_order",
        "src_rt",
        "dst_rt",
    )

    def __init__(self, src: QueueNode, output: str, dst: QueueNode, input: str, mode: str, maxsize: int, policy: str):
        self.src = src
        self.output = output
        self.dst = dst
        self.input = input
        self.mode = mode
        self.sticky = mode == "sticky"
        self.maxsize = maxsize
        self.latest = policy == "latest"
        self.items: deque[Any] = deque()
        self.getter: asyncio.Future | None = None  # the consumer waiting for an item (or a sticky value)
        self.putter: asyncio.Future | None = None  # producers waiting for space
        self.value: Any = None  # sticky value
        self.has_value = False
        self.sent = 0
        self.drops = 0
        self.high = 0
        self.any_order: deque[Channel] | None = None  # for ANY inputs: the destination's shared arrival order
        self.src_rt: Any = None  # the runner's RuntimeNode of src / dst (set by GraphRunner.connect)
        self.dst_rt: Any = None

    def label(self) -> str:
        return f"{self.src.node_id}.{self.output} -> {self.dst.node_id}.{self.input}"

    def __repr__(self) -> str:
        return f"<Channel {self.label()} {len(self.items)}/{self.maxsize}>"
