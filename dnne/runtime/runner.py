"""GraphRunner: builds a graph of nodes and bounded channels, runs it, and ends it with an exit code.

A run is made of named parts, each with a public API, composed here (attributes, not mixins):
  * `Channel` (channels.py): one edge; owns put/take and who is woken when an item moves.
  * `Scheduler` (scheduler.py, `runner.scheduler`): one asyncio task per node, the waits, quiescence detection.
  * `StopController` (stopping.py, `runner.stop` = `ctx.stop_controller`): stop requests, signals, the timeout,
    step boundaries, graceful vs forced stops, the final checkpoint.
  * snapshots (snapshot.py, `runner.snapshot()`): frozen copies of node and channel state, what the watchdog, the
    stats table and the activity stream read.

Any node exception stops the whole graph at once (exit 1); a graph where no node can ever fire again ends by itself
(exit 0 when every queue is drained, exit 3 when a node is stuck half-fed or a cycle of full queues deadlocks);
SIGINT/SIGTERM stop at the next step boundary (exit 130/143); `--timeout` stops with exit 0; the stall watchdog
(`--stall-timeout`) exits 3 naming what each node waits on; an output that cannot be written (disk full) exits 4.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import inspect
import json
import sys
import traceback
from typing import Any

from .channels import POLICIES, Channel
from .checkpoint import CheckpointError
from .config_check import ConfigError, check_node_limits, check_node_params
from .context import RunContext
from .node import PRIMED_TOKEN, Input, NodeError, QueueNode, UsageError
from .scheduler import NodeTask, Scheduler
from .snapshot import BLOCKED, SENDING, SETUP, ChannelSnapshot, NodeSnapshot, RunSnapshot
from .stats import format_stats, stats_record
from .stopping import GRACE_S, StopController
from .suggest import did_you_mean
from .watchdog import Watchdog

DEFAULT_MAXSIZE = 16
EXIT_CODES = {"error": 1, "usage": 2, "stall": 3, "write_failed": 4, "sigint": 130, "sigterm": 143}
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})  # a node hitting these gets the one disk-full message, exit 4
__all__ = ["DEFAULT_MAXSIZE", "EXIT_CODES", "GRACE_S", "GraphRunner"]


class GraphRunner:
    """Holds the graph (`add`, `connect`) and runs it (`run` → exit code)."""

    def __init__(self, ctx: RunContext | None = None):
        self.ctx = ctx if ctx is not None else RunContext()
        self.ctx.bind_runner(self)
        self.stop: StopController = self.ctx.stop_controller
        self.scheduler = Scheduler(self.ctx, self.stop, self._node_failed)
        self.nodes: dict[str, QueueNode] = {}
        self.channels: list[Channel] = []
        self.reason: str | None = None
        self.exit_code: int | None = None
        self.write_failure: str | None = None  # the first output (checkpoint, metrics, a node's file) that failed
        self._error: NodeError | None = None
        self._usage_error: tuple[QueueNode, BaseException] | None = None  # a data/config error raised by a node
        self._set_up: set[str] = set()  # nodes whose setup was called: only they get on_stop

    # -- building ------------------------------------------------------------------------------------------------
    def add(self, node: QueueNode) -> QueueNode:
        if not isinstance(node, QueueNode):
            raise TypeError(f"GraphRunner.add expects a QueueNode, got {type(node).__name__}")
        if node.node_id in self.nodes:
            raise ValueError(f"duplicate node id {node.node_id!r}: {self.nodes[node.node_id]!r} and {node!r}")
        for name, mode in node.INPUTS.items():
            if not isinstance(mode, Input):
                raise TypeError(f"node {node.describe()}: INPUTS[{name!r}] must be an Input, got {mode!r}")
        if not inspect.iscoroutinefunction(node.compute):
            raise TypeError(f"node {node.describe()}: compute must be declared `async def compute(self, ...)`")
        for name in node.PRIMED:
            if name not in node.INPUTS:
                raise ValueError(f"node {node.describe()}: PRIMED input {name!r} is not in INPUTS")
        nodes_config = self.ctx.config.get("nodes") if isinstance(self.ctx.config, dict) else None
        if isinstance(nodes_config, dict) and node.node_id in nodes_config:
            params = dict.get(nodes_config, node.node_id)
            check_node_params(node, params)
            limits = self.ctx.config.get("limits")
            if limits is not None and not isinstance(limits, dict):
                raise ConfigError("'limits' must be an object of node id → field → limits")
            check_node_limits(node, params, (limits or {}).get(node.node_id))
        self.nodes[node.node_id] = node
        self.scheduler.add(node)
        node.ctx = self.ctx
        return node

    def connect(
        self,
        src: QueueNode | str,
        output: str,
        dst: QueueNode | str,
        input: str,
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        policy: str = "block",
    ) -> Channel:
        """Connect `src.output` to `dst.input`. An output may feed many inputs (the same object is sent to each)."""
        s, d = self._lookup(src), self._lookup(dst)
        if output not in s.OUTPUTS:
            raise ValueError(f"node {s.describe()} has no output {output!r}{_did_you_mean(output, s.OUTPUTS)}")
        if input not in d.INPUTS:
            raise ValueError(f"node {d.describe()} has no input {input!r}{_did_you_mean(input, d.INPUTS)}")
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be an integer ≥ 1, got {maxsize!r}")
        taken = self.scheduler.tasks[d.node_id].inputs.get(input)
        if taken is not None:
            raise ValueError(f"input {input!r} of node {d.describe()} is already connected ({taken.label()})")
        ch = Channel(s, output, d, input, d.INPUTS[input], maxsize, policy)
        self.scheduler.connect(ch)
        self.channels.append(ch)
        return ch

    def _lookup(self, node: QueueNode | str) -> QueueNode:
        key = node.node_id if isinstance(node, QueueNode) else str(node)
        found = self.nodes.get(key)
        if found is None or (isinstance(node, QueueNode) and found is not node):
            raise ValueError(f"node {key!r} was not added to this runner (call runner.add(node) first)")
        return found

    def graph_hash(self) -> str:
        """A hash of the graph's structure (node ids, classes, edges): a checkpoint only resumes the same graph."""
        shape = {
            "nodes": sorted((n.node_id, type(n).__name__) for n in self.nodes.values()),
            "edges": sorted((c.src.node_id, c.output, c.dst.node_id, c.input) for c in self.channels),
        }
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]

    # -- reading (read-only snapshots) ---------------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        """Every node's and channel's state now, as frozen copies (safe to keep, to read from another thread)."""
        return RunSnapshot(
            tuple(task.snapshot() for task in self.scheduler.tasks.values()),
            tuple(ChannelSnapshot.of(ch) for ch in self.channels),
        )

    def runtime(self, node: QueueNode | str) -> NodeSnapshot:
        """One node's state now (state, firings, compute times)."""
        return self.scheduler.tasks[self._lookup(node).node_id].snapshot()

    @property
    def last_progress_ns(self) -> int:
        """When a node last finished a firing (perf_counter_ns)."""
        return self.scheduler.last_progress_ns

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop of the run in progress."""
        return self.scheduler.loop

    def task_stacks(self, limit: int | None = 8) -> str:
        return self.scheduler.task_stacks(limit)

    # -- running -------------------------------------------------------------------------------------------------
    def run(self) -> int:
        """Run the graph to its end in a new event loop; returns the exit code."""
        return asyncio.run(self.run_async())

    def request_stop(self, reason: str) -> None:
        """Stop the graph now (what `ctx.request_stop` does)."""
        self.stop.request(reason)

    async def run_async(self) -> int:
        loop = asyncio.get_running_loop()
        ctx, stop = self.ctx, self.stop
        stop.begin(loop, self.save_checkpoint)
        restore_signals = stop.install_signal_handlers(
            quiet=bool(ctx.args.quiet), exits_after_run=ctx.process_exits_after_run
        )
        watchdog: Watchdog | None = None
        reason = "error"
        try:
            await self._prepare()
            if not stop.done:
                self.scheduler.start(loop)
                if ctx.args.timeout:
                    stop.arm_timeout(ctx.args.timeout)
                if ctx.args.stall_timeout:
                    watchdog = Watchdog(self, ctx.args.stall_timeout)
                    watchdog.start()
                if ctx.events is not None:
                    ctx.events.start(self, loop)
                if not self.nodes:
                    stop.request("done")
            reason = await stop.wait()
        finally:
            stop.end()
            if watchdog is not None:
                watchdog.stop()
            if ctx.events is not None:
                ctx.events.stop()
            await self.scheduler.cancel()
        try:
            return await self._finish(reason)
        finally:
            restore_signals()  # only now: a signal during the final checkpoint must not kill the process half-way

    async def _prepare(self) -> None:
        """Setup of every node, resume, primed tokens and initial outputs (before any task starts)."""
        ctx, stop = self.ctx, self.stop
        self.scheduler.seal()
        tasks = self.scheduler.tasks.values()
        ckpt = None
        if ctx.resume_dir is not None:
            try:
                ckpt = ctx.load_resume()
                ckpt.check_graph(self.graph_hash(), self.nodes, _workflow_id(ctx.config))
            except Exception as exc:  # noqa: BLE001 - a bad or foreign checkpoint is a usage error
                print(f"error: cannot resume: {exc}", file=sys.stderr)
                stop.request("usage")
                return
        for task in tasks:
            if stop.done:
                return
            node = task.node
            task.state = SETUP
            self._set_up.add(node.node_id)
            try:
                await node.setup()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - reported with the node's name
                self._node_failed(task, exc)
                return
            if ckpt is not None and node.node_id in ckpt.nodes:
                tensors, meta = ckpt.nodes[node.node_id]
                try:
                    upstream = [c.src.node_id for c in self.channels if c.dst is node]
                    ckpt.check_node_state(node, upstream)
                    node.load_state_dict(tensors, meta)
                except Exception as exc:  # noqa: BLE001 - state of other layers/shapes, or tampered: not resumable
                    if isinstance(exc, CheckpointError):  # its message names the checkpoint, node and tensor
                        print(f"error: cannot resume: {exc}", file=sys.stderr)
                    else:
                        print(
                            f"error: cannot resume from {ckpt.path}: node {node.describe()}: "
                            f"{type(exc).__name__}: {exc}",
                            file=sys.stderr,
                        )
                    stop.request("usage")
                    return
        if ckpt is not None:
            try:
                ckpt.restore_rng()
            except Exception as exc:  # noqa: BLE001
                print(f"error: cannot resume: {exc}", file=sys.stderr)
                stop.request("usage")
                return
            fresh = [
                node
                for node in self.nodes.values()
                if node.node_id not in ckpt.nodes and type(node).load_state_dict is not QueueNode.load_state_dict
            ]
            if fresh:  # never claim a resume for state that starts from scratch without saying so
                names = ", ".join(n.describe() for n in fresh)
                print(
                    f"warning: resuming from {ckpt.path}: no saved state for {names}: they start fresh", file=sys.stderr
                )
                ctx.metrics.write({"event": "resume_fresh_nodes", "nodes": [n.node_id for n in fresh]})
            ctx.log(f"resumed from {ckpt.path} (step {ctx.step}, epoch {ctx.epoch})")
        for task in tasks:
            for name in task.node.PRIMED:
                ch = task.inputs.get(name)
                if ch is not None:
                    ch.put_initial(PRIMED_TOKEN)
        for task in tasks:
            try:
                initial = task.node.initial_outputs()
                if initial:
                    for key, value in initial.items():
                        if value is None:
                            continue
                        for ch in self.scheduler.out_channels(task, key):
                            ch.put_initial(value)
            except BaseException as exc:  # noqa: BLE001
                self._node_failed(task, exc)
                return

    async def _finish(self, reason: str) -> int:
        ctx = self.ctx
        self.reason = reason
        code = EXIT_CODES.get(reason, 0)
        if self._error is not None:
            err = self._error
            print(str(err), file=sys.stderr)
            traceback.print_exception(type(err.cause), err.cause, err.cause.__traceback__, file=sys.stderr)
            ctx.metrics.write(
                {
                    "event": "error",
                    "node_id": err.node_id,
                    "node_type": err.node_type,
                    "firing": err.firing,
                    "state": err.state,
                    "message": str(err),
                }  # fmt: skip
            )
        elif self._usage_error is not None:
            node, exc = self._usage_error
            print(f"error: node {node.describe()}: {exc}", file=sys.stderr)
            if ctx.args.verbose:
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            ctx.metrics.write(
                {"event": "error", "node_id": node.node_id, "node_type": type(node).__name__, "message": str(exc)}
            )
        elif reason == "stall" and self.stop.stall_text:
            print(self.stop.stall_text, file=sys.stderr)
        fired = any(task.firings for task in self.scheduler.tasks.values())
        if self.stop.final_checkpoint(reason, fired=fired) == "cut":
            if ctx.checkpoint_dir is not None and not ctx.args.inference:
                print(
                    f"stopped in the middle of a step: no final checkpoint (it would not resume exactly); "
                    f"{_last_checkpoint(ctx.checkpoint_dir)}",
                    file=sys.stderr,
                )
        for node in self.nodes.values():
            if node.node_id not in self._set_up:
                continue
            try:
                await node.on_stop(reason)
            except Exception as exc:  # noqa: BLE001
                if self.write_failure is None and _disk_full(exc):
                    self.output_failed(f"{exc.filename or 'a file'} (node {node.describe()}, on_stop)", exc)
                if self.write_failure is not None and isinstance(exc, OSError):
                    continue  # the same full disk: reported once below
                print(f"node {node.describe()} failed in on_stop: {type(exc).__name__}: {exc}", file=sys.stderr)
                if code == 0:
                    code = 1
        if self.write_failure is not None:
            reason, code = "write_failed", EXIT_CODES["write_failed"]
            self.reason = reason
            last = _last_checkpoint(ctx.checkpoint_dir) if ctx.checkpoint_dir is not None else ""
            print(f"error: {self.write_failure}; the run stopped (exit {code}). {last}".rstrip(), file=sys.stderr)
        ctx.progress.close()
        snap = self.snapshot()
        ctx.metrics.write(stats_record(snap))
        if reason != "usage":  # after a usage error its one message is all the user needs
            self._report_end(snap, reason, code)
        self.exit_code = code
        ctx.finish(reason, code)
        return code

    def _report_end(self, snap: RunSnapshot, reason: str, code: int) -> None:
        from .run_report import INTERRUPTED, end_lines, resume_command

        ctx = self.ctx
        if ctx.args.quiet:
            command = resume_command(ctx) if reason in INTERRUPTED else None
            tail = f"; to resume: {command}" if command else ""
            print(f"run ended: {reason} (exit {code}){tail}", file=sys.stderr)
            return
        print(format_stats(snap, reason, full=bool(ctx.args.verbose)), file=sys.stderr)
        for line in end_lines(ctx, reason):
            print(line, file=sys.stderr)

    # -- failures ------------------------------------------------------------------------------------------------
    def _node_failed(self, task: NodeTask, exc: BaseException) -> None:
        """A node raised (in setup, compute or initial_outputs): decide what that means and stop."""
        if self._error is None and self._usage_error is None and _is_usage_error(exc):
            # missing/unreadable data or a bad config value: the user's to fix, one message with the fix (exit 2)
            self._usage_error = (task.node, exc)
            self.stop.request("usage")
            return
        if self._error is None and _disk_full(exc):  # not the node's fault: the one disk-full report, exit 4
            self.output_failed(f"{exc.filename or 'a file'} (node {task.node.describe()})", exc)
            return
        if self._error is None and self.write_failure is None:
            firing = task.firings if task.state in (SETUP, SENDING, BLOCKED) else task.firings + 1
            self._error = NodeError(task.node, firing, task.state_name, exc)
        self.stop.request("error")

    # -- checkpoints ---------------------------------------------------------------------------------------------
    def save_checkpoint(self, reason: str, quiet: bool = False) -> bool:
        """Snapshot every node with state into ctx.checkpoint_dir/latest. Returns False if nothing was written."""
        from .checkpoint import CheckpointError, save_checkpoint

        ctx = self.ctx
        if ctx.checkpoint_dir is None or ctx.args.inference:
            return False
        try:
            path = save_checkpoint(
                ctx.checkpoint_dir, self.nodes.values(), step=ctx.step, epoch=ctx.epoch, reason=reason,
                graph_hash=self.graph_hash(), graph_id=ctx.graph_id, seed=ctx.seed,
                workflow_id=_workflow_id(ctx.config),
            )  # fmt: skip
        except CheckpointError as exc:
            ctx.metrics.write({"event": "checkpoint_failed", "reason": reason, "error": str(exc)})
            self.output_failed(None, exc)
            return False
        if path is None:
            return False
        ctx.metrics.write({"event": "checkpoint", "reason": reason, "step": ctx.step, "path": str(path)})
        if not quiet and ctx.args.verbose:
            ctx.log(f"checkpoint ({reason}) written to {path}")
        return True

    def output_failed(self, what: str | None, exc: BaseException) -> None:
        """An output of the run could not be written (checkpoint, metrics, a node's file): stop with exit 4 and one
        message, printed by `_finish` with where the last complete checkpoint is."""
        if self.write_failure is None:
            detail = getattr(exc, "strerror", None) or str(exc)
            self.write_failure = str(exc) if what is None else f"cannot write {what}: {detail}"
        self.stop.request("write_failed")


def _workflow_id(config: Any) -> str | None:
    """config.json's `workflow_id` (the workflow's own id; absent in older exports)."""
    value = config.get("workflow_id") if isinstance(config, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _is_usage_error(exc: BaseException) -> bool:
    """A data error (data set missing, unreadable, unusable), config or usage error raised by a node: the user's to fix,
    so exit 2 with its message only (--verbose adds the traceback). The data module is looked up, not imported: it
    needs numpy/torch, and when it was never imported no node can have raised its errors."""
    data_errors = sys.modules.get(f"{__package__}.data.errors")
    kinds: tuple[type, ...] = (ConfigError, UsageError)
    if data_errors is not None:
        kinds += (data_errors.DataError,)
    return isinstance(exc, kinds)


def _disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def _last_checkpoint(checkpoint_dir) -> str:
    """Where the last complete checkpoint is (what --resume will use), for the stop message."""
    from .checkpoint import CheckpointError, resolve_checkpoint

    try:
        folder = resolve_checkpoint(checkpoint_dir)
        step = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8")).get("step")
    except (CheckpointError, OSError, ValueError):
        return f"no complete checkpoint in {checkpoint_dir}"
    return f"the last complete checkpoint is {folder} (step {step}), intact"


def _did_you_mean(name: str, options) -> str:
    hint = did_you_mean(name, options)
    listed = ", ".join(repr(o) for o in options) or "none"
    return f" ({hint})" if hint else f" (it has: {listed})"
