"""Read-only snapshots of a run: what the watchdog, the stats table, the activity stream (and live telemetry) read.

`GraphRunner.snapshot()` copies the scheduler's counters into frozen dataclasses; readers never see the live
records, so nothing outside the runner and its scheduler can change (or depend on the layout of) their state. A
snapshot costs one small object per node and per channel, taken only when a reader asks (at most 10 times a second
for `--events`, once at the end for the stats), never per firing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .channels import Channel

# node states (NodeSnapshot.state, NodeTask.state)
SETUP, TAKING, COMPUTING, WAITING, SENDING, BLOCKED, SLEEPING, DONE = range(8)
STATE_NAMES = ("setup", "taking inputs", "computing", "waiting", "sending", "blocked sending", "sleeping", "done")


@dataclass(frozen=True)
class ChannelSnapshot:
    """One edge at the time of the snapshot."""

    src: str  # producer node id
    output: str
    dst: str  # consumer node id
    input: str
    mode: str  # the consumer input's Input value: consume, sticky, trigger, any
    policy: str  # block | latest
    maxsize: int
    size: int  # items queued now (sticky: 1 once it holds a value)
    sent: int
    drops: int
    high_water: int

    @property
    def label(self) -> str:
        return f"{self.src}.{self.output} -> {self.dst}.{self.input}"

    @property
    def sticky(self) -> bool:
        return self.mode == "sticky"

    @classmethod
    def of(cls, ch: Channel) -> ChannelSnapshot:
        held = 1 if ch.sticky and ch.has_value else 0
        return cls(
            ch.src.node_id, ch.output, ch.dst.node_id, ch.input, ch.mode.value, ch.policy, ch.maxsize,
            held if ch.sticky else len(ch.items), ch.sent, ch.drops, held if ch.sticky else ch.high,
        )  # fmt: skip


@dataclass(frozen=True)
class NodeSnapshot:
    """One node at the time of the snapshot (times are perf_counter_ns values)."""

    node_id: str
    node_class: str
    title: str
    description: str  # `<id> (<Class> '<title>')`, the way errors name a node
    state: int  # one of SETUP … DONE
    firings: int
    total_ns: int  # compute time of all firings
    max_ns: int
    since_ns: int  # when it last started waiting or blocking
    started_ns: int  # when its current (or last) firing started
    partial: bool  # (while WAITING) it took some inputs of its next firing and waits for the others
    waiting_on: ChannelSnapshot | None  # the input it waits on (WAITING) or the output queue it is blocked on
    waits_on_any: tuple[str, ...]  # WAITING on any of these ANY inputs (waiting_on is None then)
    held: tuple[tuple[str, int], ...]  # its event inputs holding items: (input name, count)

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    @property
    def mean_ms(self) -> float:
        return round(self.total_ns / self.firings / 1e6, 4) if self.firings else 0.0


@dataclass(frozen=True)
class RunSnapshot:
    """Every node and channel, in the order they were added/connected."""

    nodes: tuple[NodeSnapshot, ...]
    channels: tuple[ChannelSnapshot, ...]

    def node(self, node_id: str) -> NodeSnapshot:
        for snap in self.nodes:
            if snap.node_id == node_id:
                return snap
        raise KeyError(node_id)
