"""Run an exported program as a subprocess and relay its JSON-lines metrics as ComfyUI websocket messages."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Send = Callable[[str, dict[str, Any]], Awaitable[None]]

# runner flags a client may pass (each value is a separate argv item: nothing goes through a shell)
ALLOWED_FLAGS = {
    "epochs": int,
    "max_steps": int,
    "seed": int,
    "threads": int,
    "num_envs": int,
    "device": str,
    "timeout": str,
    "stall_timeout": str,
}
DEVICES = ("auto", "cpu", "cuda")
POLL_SECONDS = 0.2
INTERRUPT_GRACE_SECONDS = 15.0
STOP_GRACE_SECONDS = 5.0  # server shutdown: SIGTERM, then SIGKILL after this long


class RunArgsError(ValueError):
    """Run arguments that are not allowed or malformed."""


def run_flags(args: Any) -> list[str]:
    """Runner flags from a dict (`{"epochs": 1}`) or a string (`"--epochs 1 --max-steps 5"`), checked."""
    if args is None or args == "":
        return []
    if isinstance(args, str):
        tokens = shlex.split(args)
        pairs: dict[str, Any] = {}
        while tokens:
            flag = tokens.pop(0)
            if not flag.startswith("--") or not tokens:
                raise RunArgsError(f"expected '--flag value' pairs, got {flag!r}")
            pairs[flag[2:].replace("-", "_")] = tokens.pop(0)
        args = pairs
    if not isinstance(args, dict):
        raise RunArgsError("run arguments must be an object or a string of flags")
    flags: list[str] = []
    for key, value in sorted(args.items()):
        kind = ALLOWED_FLAGS.get(str(key))
        if kind is None:
            raise RunArgsError(f"run flag {key!r} is not allowed here (allowed: {', '.join(sorted(ALLOWED_FLAGS))})")
        if kind is int:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise RunArgsError(f"run flag {key!r} needs an integer, got {value!r}") from None
            if value < 0:
                raise RunArgsError(f"run flag {key!r} must not be negative")
        else:
            value = str(value)
            if not value or value.startswith("-") or "\x00" in value:
                raise RunArgsError(f"run flag {key!r} has an invalid value {value!r}")
            if key == "device" and value not in DEVICES:
                raise RunArgsError(f"device must be one of {', '.join(DEVICES)}")
        flags += ["--" + str(key).replace("_", "-"), str(value)]
    return flags


COUNTERS = (
    ("value", ("max",)),
    ("epoch", ("max_epochs", "epochs", "total_epochs")),
    ("step", ("max_steps", "total_steps")),
    ("update", ("max_updates", "updates", "total_updates")),
    ("episode", ("max_episodes", "episodes")),
)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def progress_of(record: dict[str, Any]) -> tuple[float, float] | None:
    """`(value, max)` for a metrics record: the first counter with a known total, else the first counter (max 0)."""
    for value_key, max_keys in COUNTERS:
        if _number(record.get(value_key)):
            for max_key in max_keys:
                top = record.get(max_key)
                if _number(top) and top > 0:
                    return float(record[value_key]), float(top)
    for value_key, _ in COUNTERS:
        if _number(record.get(value_key)):
            return float(record[value_key]), 0.0
    return None


BOOKKEEPING_EVENTS = ("start", "done", "stats", "checkpoint", "checkpoint_failed", "error")


class JsonLinesFollower:
    """Reads the complete JSON-object lines appended to a file since the previous read (a partial last line waits)."""

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0
        self._pending = b""

    def read(self, final: bool = False) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        lines = (self._pending + chunk).split(b"\n")
        self._pending = b"" if final else lines.pop()
        records = []
        for raw in lines:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records


class RunProcess:
    """One `python runner.py --metrics FILE [--events FILE] --quiet …` subprocess, watched until it exits.

    Metrics records become `dnne.metrics` messages (and `progress` per epoch/update); the activity stream (`--events`)
    moves `executing` to the node the run is busy with and `progress` along the run's steps.
    """

    def __init__(
        self,
        export_dir: Path,
        prompt_id: str,
        send: Send,
        *,
        metrics_path: Path,
        flags: list[str],
        node: str | None = None,
        events_path: Path | None = None,
        run_dir: Path | None = None,
        on_output: Callable[[str], Awaitable[None]] | None = None,
    ):
        self.export_dir = export_dir
        self.run_dir = run_dir  # passed as --run-dir: the run's outputs stay out of the export folder
        self.prompt_id = prompt_id
        self.send = send
        self.on_output = on_output  # each output line of the run (the editor's Logs panel)
        self.metrics_path = metrics_path
        self.events_path = events_path
        self.flags = flags
        self.proc: asyncio.subprocess.Process | None = None
        self.output_tail: deque[str] = deque(maxlen=60)
        self.records = 0
        self.interrupted = False
        self.returncode: int | None = None
        self.report_node = node  # the node run-level results are shown on
        self.last_node: str | None = node  # the node shown as executing
        self.error_record: dict[str, Any] | None = None  # the runtime's {"event": "error", "node_id", …} record
        self.nodes: dict[str, dict[str, Any]] = {}  # node id → its node_start record, in the run's order
        self.node_stats: dict[str, dict[str, Any]] = {}  # node id → firings/timings (stats or end record)
        self.node_metrics: dict[str, dict[str, Any]] = {}  # node id → the latest metrics record naming it
        self.latest_metrics: dict[str, Any] | None = None  # the latest metrics record naming no node
        self.end_record: dict[str, Any] | None = None  # the activity stream's final record
        self._metrics = JsonLinesFollower(metrics_path)
        self._events = JsonLinesFollower(events_path) if events_path is not None else None
        self._activity = False  # the activity stream has named a node: it alone moves `executing`
        self._last_progress: tuple[float, float] | None = None
        self.progress: tuple[float, float] = (0.0, 1.0)  # the run's latest (value, max), drawn on the running node

    @property
    def argv(self) -> list[str]:
        events = ["--events", str(self.events_path)] if self.events_path is not None else []
        run_dir = ["--run-dir", str(self.run_dir)] if self.run_dir is not None else []
        return [sys.executable, "runner.py", *run_dir, "--metrics", str(self.metrics_path), *events, "--quiet",
                *self.flags]  # fmt: skip

    async def start(self) -> None:
        for path in (self.metrics_path, self.events_path):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.unlink(missing_ok=True)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.export_dir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C in the server's terminal does not reach the run directly
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def _signal_group(self, sig: signal.Signals) -> None:
        """Signal the run's whole process group (its own session: data-loader workers go too)."""
        if not self.running:
            return
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            self.proc.send_signal(sig)

    async def _exited_within(self, seconds: float) -> bool:
        assert self.proc is not None
        try:
            await asyncio.wait_for(asyncio.shield(self.proc.wait()), seconds)
            return True
        except asyncio.TimeoutError:
            return False

    async def watch(self) -> int:
        """Relay metrics, activity and output until the process exits; returns its exit code."""
        assert self.proc is not None and self.proc.stdout is not None
        reader = asyncio.create_task(self._read_output())
        while self.proc.returncode is None:
            await self._relay_new()
            try:
                await asyncio.wait_for(asyncio.shield(self.proc.wait()), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass
        await reader
        await self._relay_new(final=True)
        self.returncode = self.proc.returncode
        return self.returncode

    async def interrupt(self) -> None:
        """SIGINT (the runner stops at the next step boundary, checkpoints, exits 130); escalate if it hangs."""
        if not self.running:
            return
        self.interrupted = True
        self._signal_group(signal.SIGINT)
        if not await self._exited_within(INTERRUPT_GRACE_SECONDS):
            await self.stop()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM (the runner checkpoints and exits 143), SIGKILL after `grace` seconds; returns once it is reaped."""
        if not self.running:
            return
        self.interrupted = True
        self._signal_group(signal.SIGTERM)
        if not await self._exited_within(grace):
            self.kill()
            await self._exited_within(grace)

    def kill(self) -> None:
        """SIGKILL now (used when the watching task itself is cancelled: the child must not outlive the server)."""
        self._signal_group(signal.SIGKILL)

    def node_outputs(self) -> dict[str, dict[str, list]]:
        """What each node did, as `executed` outputs: firings and timings, and its latest metrics record.

        Metrics records that name no node (epoch summaries, evaluations) belong to the node the run reports on.
        """
        ids = list(self.nodes) or list(self.node_stats)
        outputs: dict[str, dict[str, list]] = {}
        for node_id in ids:
            stats = self.node_stats.get(node_id, {})
            output: dict[str, list] = {k: [stats[k]] for k in ("firings", "mean_ms", "max_ms") if k in stats}
            record = self.node_metrics.get(node_id)
            if record is None and node_id == self.report_node and self.latest_metrics is not None:
                record = self.latest_metrics
            if record is not None:
                output["latest_metrics"] = [record]
            outputs[node_id] = output
        return outputs

    async def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            self.output_tail.append(text)
            if self.on_output is not None:
                await self.on_output(text)

    async def _relay_new(self, final: bool = False) -> None:
        # the activity stream first: step progress read in the same poll as an epoch record must win over it
        if self._events is not None:
            for record in self._events.read(final):
                await self._relay_activity(record)
        for record in self._metrics.read(final):
            await self._relay(record)

    async def _show_node(self, node: Any) -> None:
        if isinstance(node, (str, int)) and str(node) != self.last_node:
            self.last_node = str(node)
            await self.send("executing", {"node": self.last_node, "display_node": self.last_node,
                                          "prompt_id": self.prompt_id})  # fmt: skip
            await self._send_progress()

    async def _send_progress(self, value: float | None = None, top: float | None = None) -> None:
        """`progress` (legacy) and `progress_state` (what the frontend draws) for the node shown as running."""
        if value is not None and top is not None:
            self.progress = (value, top)
            await self.send("progress", {"value": value, "max": top, "prompt_id": self.prompt_id,
                                         "node": self.last_node})  # fmt: skip
        value, top = self.progress
        await self.send("progress_state", progress_state(self.prompt_id, self.last_node, value, top,
                                                         also=self.report_node))  # fmt: skip

    async def _relay(self, record: dict[str, Any]) -> None:
        self.records += 1
        pid = self.prompt_id
        event = record.get("event")
        if event == "error":
            self.error_record = record
        elif event == "stats" and isinstance(record.get("nodes"), list):
            for row in record["nodes"]:
                if isinstance(row, dict) and "node_id" in row:
                    self.node_stats[str(row["node_id"])] = row
        node = record.get("node_id", record.get("node"))
        if isinstance(node, (str, int)):
            if event not in BOOKKEEPING_EVENTS:
                self.node_metrics[str(node)] = record
            if not self._activity or event == "error":
                await self._show_node(node)
        elif event not in BOOKKEEPING_EVENTS:
            self.latest_metrics = record
        await self.send("dnne.metrics", {"prompt_id": pid, "record": record})
        progress = progress_of(record)
        # a counter without a known total does not move the bar; step progress from the activity stream, once
        # there, is finer than the per-epoch records (and the two together would make the bar jump back and forth)
        if progress is not None and progress[1] > 0 and self._last_progress is None:
            await self._send_progress(*progress)

    async def _relay_activity(self, record: dict[str, Any]) -> None:
        """One record of the runner's activity stream (see dnne/runtime/activity.py)."""
        event = record.get("event")
        node = record.get("node_id")
        if event == "node_start" and isinstance(node, (str, int)):
            self.nodes[str(node)] = record
        elif event == "active" and isinstance(node, (str, int)):
            self._activity = True
            await self._show_node(node)
            progress = record.get("progress")
            if isinstance(progress, dict):
                value, top = progress.get("completed"), progress.get("total")
                if _number(value) and _number(top) and top > 0 and (value, top) != self._last_progress:
                    self._last_progress = (value, top)
                    await self._send_progress(float(value), float(top))
        elif event == "end":
            self.end_record = record
            for row in record.get("nodes") or []:
                if isinstance(row, dict) and "node_id" in row:
                    self.node_stats.setdefault(str(row["node_id"]), row)


def progress_state(prompt_id: str, node: str | None, value: float = 0.0, top: float = 1.0,
                   state: str = "running", also: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The `progress_state` message the pinned frontend reads the running node (highlight, "Current node") from.

    The frontend ignores the legacy `executing` message for that; both are sent. Schema as its executionStore reads it:
    `{"prompt_id", "nodes": {id: {"value", "max", "state": running|finished|error, "node_id", "display_node_id",
    "prompt_id", "real_node_id", "parent_node_id"}}}`. `also`: a second node drawn with the same progress (the
    node the run reports on, e.g. the PPO trainer, whose env steps towards the target are the run's progress).
    """
    nodes = {}
    for shown in (node, also):  # the first running one is the frontend's "current node"
        if shown is not None and str(shown) not in nodes:
            nodes[str(shown)] = {"value": value, "max": top if top > 0 else 1.0, "state": state,
                                 "node_id": str(shown), "display_node_id": str(shown), "real_node_id": str(shown),
                                 "parent_node_id": None, "prompt_id": prompt_id}  # fmt: skip
    return {"prompt_id": prompt_id, "nodes": nodes}


def started_at() -> int:
    return int(time.time() * 1000)
