"""The activity stream (`--events PATH`): JSON lines saying which node is working, for a live view of a run.

Records (each with `t`, seconds since the file was opened):
  {"event": "node_start", "node_id", "class", "title"}            one per node when the node tasks start
  {"event": "active", "node_id", "state", "firings", "step", "epoch", "progress": {"completed", "total", ...}}
      at most 1 / interval (default 10 per second), only when something changed since the previous one
  {"event": "end", "reason", "exit_code", "nodes": [{"node_id", "firings", "state"}, ...]}   once, at the end

The active node is the one computing right now (the longest-running if several), else the one that spent the most
compute time since the previous sample, else the one whose firing started last. Sampling runs as an event-loop
timer reading snapshots of counters the runner keeps anyway, so a node's firing costs nothing more; without `--events` nothing
is scheduled at all.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .snapshot import COMPUTING

if TYPE_CHECKING:
    import asyncio

    from .runner import GraphRunner

DEFAULT_INTERVAL_S = 0.1


class ActivityLog:
    """Writes the activity stream of one run to `path` (line-buffered so a follower sees each record at once)."""

    def __init__(self, path: Path | str, interval: float = DEFAULT_INTERVAL_S):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.interval = float(interval)
        self._file = open(self.path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed in finish()
        self._t0 = time.monotonic()
        self._runner: GraphRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._last_key: tuple | None = None
        self._last_node: str | None = None
        self._seen_ns: dict[str, int] = {}
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        if self._file.closed:
            return
        record.setdefault("t", round(time.monotonic() - self._t0, 4))
        self._file.write(json.dumps(record, default=str) + "\n")
        self.count += 1

    # -- sampling ------------------------------------------------------------------------------------------------
    def start(self, runner: GraphRunner, loop: asyncio.AbstractEventLoop) -> None:
        """One `node_start` record per node, then sample every `interval` seconds until `stop`."""
        self._runner, self._loop = runner, loop
        for node in runner.snapshot().nodes:
            self._seen_ns[node.node_id] = node.total_ns
            self.write({"event": "node_start", "node_id": node.node_id, "class": node.node_class,
                        "title": node.title})  # fmt: skip
        self._handle = loop.call_later(self.interval, self._tick)

    def _tick(self) -> None:
        self.sample()
        if self._loop is not None:
            self._handle = self._loop.call_later(self.interval, self._tick)

    def stop(self) -> None:
        """Cancel the timer and write a last sample (the state at the end of the run)."""
        if self._loop is None:
            return
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.sample()
        self._loop = None

    def sample(self) -> None:
        """Write an `active` record if the active node, its firings, the step or the progress changed."""
        runner = self._runner
        if runner is None or self._file.closed:
            return
        nodes = {node.node_id: node for node in runner.snapshot().nodes}
        computing = [node for node in nodes.values() if node.state == COMPUTING]
        if computing:
            active = min(computing, key=lambda node: node.started_ns).node_id
        else:
            active = None
            busiest = 0
            for node_id, node in nodes.items():
                spent = node.total_ns - self._seen_ns.get(node_id, 0)
                if spent > busiest:
                    active, busiest = node_id, spent
            if active is None:
                fired = [node for node in nodes.values() if node.firings]
                active = max(fired, key=lambda node: node.started_ns).node_id if fired else self._last_node
        for node_id, node in nodes.items():
            self._seen_ns[node_id] = node.total_ns
        if active is None:
            return
        ctx = runner.ctx
        node = nodes[active]
        progress = _progress(ctx.progress)
        key = (active, node.firings, ctx.step, ctx.epoch, progress.get("completed"))
        if key == self._last_key:
            return
        self._last_key, self._last_node = key, active
        record = {"event": "active", "node_id": active, "state": node.state_name, "firings": node.firings,
                  "step": ctx.step, "epoch": ctx.epoch}  # fmt: skip
        if progress:
            record["progress"] = progress
        self.write(record)

    # -- the end -------------------------------------------------------------------------------------------------
    def finish(self, reason: str, exit_code: int) -> None:
        """The `end` record (with every node's firing count) and close; idempotent."""
        if self._file.closed:
            return
        self.stop()
        nodes = []
        if self._runner is not None:
            nodes = [{"node_id": node.node_id, "firings": node.firings, "state": node.state_name}
                     for node in self._runner.snapshot().nodes]  # fmt: skip
        self.write({"event": "end", "reason": reason, "exit_code": exit_code, "nodes": nodes})
        self._file.close()


def _progress(progress: Any) -> dict[str, Any]:
    """The run's progress counters (`ctx.progress`) when a node reported any."""
    completed = getattr(progress, "completed", 0) or 0
    total = getattr(progress, "total", None)
    if not completed and total is None:
        return {}
    out: dict[str, Any] = {"completed": completed, "total": total}
    description = getattr(progress, "description", "")
    if description:
        out["description"] = description
    return out
