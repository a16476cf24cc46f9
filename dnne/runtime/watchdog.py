"""Stall watchdog: a thread that notices when no node has finished a firing for `--stall-timeout` seconds.

It asks the event loop to stop with exit 3, printing what each node is doing (waiting on input X, blocked sending
to Y, computing since …) and the task stacks. If the loop itself is stuck (a node blocking in synchronous code),
it prints every thread's stack and exits the process with code 3.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
from time import perf_counter_ns
from typing import TYPE_CHECKING

from .snapshot import BLOCKED, COMPUTING, DONE, SLEEPING, WAITING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .runner import GraphRunner
    from .snapshot import NodeSnapshot

HARD_EXIT_AFTER_S = 5.0


def describe_states(nodes: Iterable[NodeSnapshot], now_ns: int) -> str:
    """One line per node: what it is doing and for how long."""
    lines = []
    for snap in nodes:
        label = f"  node {snap.description}"
        if snap.state == WAITING:
            ch = snap.waiting_on
            if ch is not None:
                what = "a value" if ch.sticky else "an item"
                text = f"waiting on input {ch.input!r} for {what} from node {ch.src}.{ch.output}"
            else:
                text = "waiting on its ANY inputs " + ", ".join(repr(n) for n in snap.waits_on_any)
            if snap.partial:
                text += " (it already took its other inputs for this firing)"
            held = [f"{name!r} holds {count}" for name, count in snap.held]
            if held:
                text += "; " + ", ".join(held)
            text += f" for {(now_ns - snap.since_ns) / 1e9:.1f}s"
        elif snap.state == BLOCKED:
            ch = snap.waiting_on
            text = (
                f"blocked sending {ch.output!r} to node {ch.dst} input {ch.input!r} "
                f"(queue full {ch.size}/{ch.maxsize}) for {(now_ns - snap.since_ns) / 1e9:.1f}s"
            )
        elif snap.state == COMPUTING:
            text = f"computing firing {snap.firings + 1} for {(now_ns - snap.started_ns) / 1e9:.1f}s"
        elif snap.state == DONE:
            text = f"finished after {snap.firings} firings"
        elif snap.state == SLEEPING:
            text = "sleeping until its next tick"
        else:
            text = snap.state_name
        lines.append(f"{label}: {text}")
    return "\n".join(lines)


class Watchdog:
    """Checks `runner.last_progress_ns` from a daemon thread every ~timeout/4 seconds."""

    def __init__(self, runner: GraphRunner, timeout_s: float):
        self.runner = runner
        self.timeout_ns = int(timeout_s * 1e9)
        self.interval = max(0.02, min(1.0, timeout_s / 4))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dnne-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        runner = self.runner
        loop = runner.loop
        while not self._stopped.wait(self.interval):
            idle = perf_counter_ns() - runner.last_progress_ns
            if idle < self.timeout_ns:
                continue
            try:
                loop.call_soon_threadsafe(self._report, idle)
            except RuntimeError:  # loop closed
                return
            if self._stopped.wait(HARD_EXIT_AFTER_S):
                return
            # The loop is stuck inside one node's code, so reading the per-node states from here is safe.
            sys.stderr.write(
                f"stall: the event loop is not responding for {HARD_EXIT_AFTER_S:.0f}s\n"
                + describe_states(runner.snapshot().nodes, perf_counter_ns())
                + "\nstacks:\n"
            )
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            sys.stderr.flush()
            runner.ctx.finish("stall", 3)
            os._exit(3)

    def _report(self, idle_ns: int) -> None:
        runner = self.runner
        if self._stopped.is_set() or runner.stop.done:
            return
        now = perf_counter_ns()
        if now - runner.last_progress_ns < self.timeout_ns:
            return
        head = f"stall: no node finished a firing for {idle_ns / 1e9:.1f}s (--stall-timeout {self.timeout_ns / 1e9:g}s)"
        runner.stop.stall(head + "\n" + describe_states(runner.snapshot().nodes, now) + runner.task_stacks())
