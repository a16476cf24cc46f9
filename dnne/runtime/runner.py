"""GraphRunner: wires nodes with bounded channels and runs one asyncio task per node under a supervisor.

Any node exception stops the whole graph at once (exit 1); a graph where no node can ever fire again ends by itself
(exit 0 when every queue is drained, exit 3 when a node is stuck half-fed or a cycle of full queues deadlocks);
SIGINT/SIGTERM stop at the next step boundary (exit 130/143); `--timeout` stops with exit 0; the stall watchdog
(`--stall-timeout`) exits 3 naming what each node waits on.
"""

from __future__ import annotations

import asyncio
import difflib
import errno
import hashlib
import inspect
import json
import signal
import sys
import traceback
from time import perf_counter_ns
from typing import Any

from .channels import POLICIES, Channel
from .checkpoint import CheckpointError
from .config_check import ConfigError, check_node_limits, check_node_params
from .context import RunContext
from .engine import BLOCKED, SENDING, SETUP, TAKING, Engine, RuntimeNode
from .node import PRIMED_TOKEN, Input, NodeError, QueueNode, UsageError
from .stats import format_stats, stats_record
from .watchdog import Watchdog

DEFAULT_MAXSIZE = 16
EXIT_CODES = {"error": 1, "usage": 2, "stall": 3, "write_failed": 4, "sigint": 130, "sigterm": 143}
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})  # a node hitting these gets the one disk-full message, exit 4
GRACE_S = 2.0  # a signal stop waits this long for the next step boundary


class GraphRunner(Engine):
    """Holds the graph (`add`, `connect`) and runs it (`run` → exit code)."""

    def __init__(self, ctx: RunContext | None = None):
        self.ctx = ctx if ctx is not None else RunContext()
        self.ctx._runner = self
        self.nodes: dict[str, QueueNode] = {}
        self.channels: list[Channel] = []
        self._rt: dict[str, RuntimeNode] = {}
        self._active = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future | None = None
        self._error: NodeError | None = None
        self._stall_text: str | None = None
        self.last_progress_ns = 0
        self.reason: str | None = None
        self.exit_code: int | None = None
        self._final_checkpoint_taken = False
        self._final_at_boundary = -1  # ctx._boundaries when a node-requested "final" checkpoint was written
        # a stop that cut into a step (second signal, no boundary within GRACE_S): the nodes' state is mid-step, so
        # a "final" checkpoint taken now would not resume exactly; the last boundary checkpoint stays the latest
        self._cut_mid_step = False
        self.write_failure: str | None = None  # the first output (checkpoint, metrics, a node's file) that failed
        self._set_up: set[str] = set()  # nodes whose setup was called: only they get on_stop
        self._usage_error: tuple[QueueNode, BaseException] | None = None  # a data/config error raised by a node

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
        self._rt[node.node_id] = RuntimeNode(node)
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
        drt = self._rt[d.node_id]
        if input in drt.inputs:
            raise ValueError(
                f"input {input!r} of node {d.describe()} is already connected ({drt.inputs[input].label()})"
            )
        mode = d.INPUTS[input]
        ch = Channel(s, output, d, input, mode.value, maxsize, policy)
        ch.src_rt, ch.dst_rt = self._rt[s.node_id], drt
        drt.inputs[input] = ch
        if mode is Input.ANY:
            if drt.any_order is None:
                from collections import deque

                drt.any_order = deque()
            ch.any_order = drt.any_order
        self._rt[s.node_id].outs[output].append(ch)
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

    def runtime(self, node: QueueNode | str) -> RuntimeNode:
        """The runner's record of a node (state, firings, compute times)."""
        return self._rt[self._lookup(node).node_id]

    # -- running -------------------------------------------------------------------------------------------------
    def run(self) -> int:
        """Run the graph to its end in a new event loop; returns the exit code."""
        return asyncio.run(self.run_async())

    def request_stop(self, reason: str) -> None:
        """Stop the graph now (what `ctx.request_stop` calls)."""
        stop = self._stop
        if stop is not None and not stop.done():
            stop.set_result(reason)
        self.ctx.stopping = True

    async def run_async(self) -> int:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop = loop.create_future()
        ctx = self.ctx
        ctx.stopping = False
        restore_signals = self._install_signal_handlers(loop)
        watchdog: Watchdog | None = None
        timer = None
        reason = "error"
        try:
            await self._prepare()
            if not self._stop.done():
                for rt in self._rt.values():
                    rt.state = TAKING
                self._active = len(self._rt)
                self.last_progress_ns = perf_counter_ns()
                for rt in self._rt.values():
                    rt.task = loop.create_task(self._node_main(rt), name=f"node {rt.node.node_id}")
                timeout = ctx.args.timeout
                if timeout:
                    timer = loop.call_later(timeout, self._graceful_stop, "timeout")
                if ctx.args.stall_timeout:
                    watchdog = Watchdog(self, ctx.args.stall_timeout)
                    watchdog.start()
                if ctx.events is not None:
                    ctx.events.start(self, loop)
                if not self._rt:
                    self.request_stop("done")
            reason = await self._stop
        finally:
            if timer is not None:
                timer.cancel()
            if watchdog is not None:
                watchdog.stop()
            if ctx.events is not None:
                ctx.events.stop()
            await self._cancel_tasks()
        try:
            return await self._finish(reason)
        finally:
            restore_signals()  # only now: a signal during the final checkpoint must not kill the process half-way

    async def _prepare(self) -> None:
        """Setup of every node, resume, primed tokens and initial outputs (before any task starts)."""
        ctx = self.ctx
        for rt in self._rt.values():
            rt.events = tuple(
                (n, c) for n, c in rt.inputs.items() if c.mode in (Input.CONSUME.value, Input.TRIGGER.value)
            )
            rt.stickies = tuple((n, c) for n, c in rt.inputs.items() if c.sticky)
            rt.anys = tuple((n, c) for n, c in rt.inputs.items() if c.any_order is not None)
        ckpt = None
        if ctx.resume_dir is not None:
            try:
                ckpt = ctx.load_resume()
                ckpt.check_graph(self.graph_hash(), self.nodes, _workflow_id(ctx.config))
            except Exception as exc:  # noqa: BLE001 - a bad or foreign checkpoint is a usage error
                print(f"error: cannot resume: {exc}", file=sys.stderr)
                self.request_stop("usage")
                return
        for rt in self._rt.values():
            if self._stop.done():
                return
            rt.state = SETUP
            self._set_up.add(rt.node.node_id)
            try:
                await rt.node.setup()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - reported with the node's name
                self._fail(rt, exc)
                return
            if ckpt is not None and rt.node.node_id in ckpt.nodes:
                tensors, meta = ckpt.nodes[rt.node.node_id]
                try:
                    upstream = [c.src.node_id for c in self.channels if c.dst is rt.node]
                    ckpt.check_node_state(rt.node, upstream)
                    rt.node.load_state_dict(tensors, meta)
                except Exception as exc:  # noqa: BLE001 - state of other layers/shapes, or tampered: not resumable
                    if isinstance(exc, CheckpointError):  # its message names the checkpoint, node and tensor
                        print(f"error: cannot resume: {exc}", file=sys.stderr)
                    else:
                        print(
                            f"error: cannot resume from {ckpt.path}: node {rt.node.describe()}: "
                            f"{type(exc).__name__}: {exc}",
                            file=sys.stderr,
                        )
                    self.request_stop("usage")
                    return
        if ckpt is not None:
            try:
                ckpt.restore_rng()
            except Exception as exc:  # noqa: BLE001
                print(f"error: cannot resume: {exc}", file=sys.stderr)
                self.request_stop("usage")
                return
            fresh = [
                rt.node
                for rt in self._rt.values()
                if rt.node.node_id not in ckpt.nodes and type(rt.node).load_state_dict is not QueueNode.load_state_dict
            ]
            if fresh:  # never claim a resume for state that starts from scratch without saying so
                names = ", ".join(n.describe() for n in fresh)
                print(
                    f"warning: resuming from {ckpt.path}: no saved state for {names}: they start fresh", file=sys.stderr
                )
                ctx.metrics.write({"event": "resume_fresh_nodes", "nodes": [n.node_id for n in fresh]})
            ctx.log(f"resumed from {ckpt.path} (step {ctx.step}, epoch {ctx.epoch})")
        for rt in self._rt.values():
            for name in rt.node.PRIMED:
                ch = rt.inputs.get(name)
                if ch is not None:
                    self._put_nowait(ch, PRIMED_TOKEN)
        for rt in self._rt.values():
            try:
                initial = rt.node.initial_outputs()
                if initial:
                    for key, value in initial.items():
                        if value is None:
                            continue
                        for ch in self._out_channels(rt, key):
                            self._put_nowait(ch, value)
            except BaseException as exc:  # noqa: BLE001
                self._fail(rt, exc)
                return

    def _put_nowait(self, ch: Channel, value: Any) -> None:
        ch.sent += 1
        if ch.sticky:
            ch.value = value
            ch.has_value = True
            return
        if len(ch.items) >= ch.maxsize:
            if not ch.latest:
                raise RuntimeError(f"initial token does not fit into the queue {ch.label()} (maxsize {ch.maxsize})")
            ch.items.popleft()
            ch.drops += 1
        elif ch.any_order is not None:
            ch.any_order.append(ch)
        ch.items.append(value)
        if len(ch.items) > ch.high:
            ch.high = len(ch.items)

    def _out_channels(self, rt: RuntimeNode, key: str) -> list[Channel]:
        try:
            return rt.outs[key]
        except KeyError:
            raise ValueError(
                f"returned output {key!r}, which is not one of its OUTPUTS {rt.node.OUTPUTS}"
                + _did_you_mean(key, rt.node.OUTPUTS)
            ) from None

    async def _cancel_tasks(self) -> None:
        tasks = [rt.task for rt in self._rt.values() if rt.task is not None and not rt.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=5.0)
            for task in pending:
                rt = self._rt[task.get_name().split(" ", 1)[1]]
                print(f"warning: node {rt.node.describe()} ignored cancellation", file=sys.stderr)

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
        elif reason == "stall" and self._stall_text:
            print(self._stall_text, file=sys.stderr)
        fired = any(rt.firings for rt in self._rt.values())
        final_taken = self._final_checkpoint_taken or self._final_at_boundary == ctx._boundaries
        if reason not in ("error", "stall", "usage", "write_failed") and fired and not final_taken:
            if self._cut_mid_step:
                if ctx.checkpoint_dir is not None and not ctx.args.inference:
                    print(
                        f"stopped in the middle of a step: no final checkpoint (it would not resume exactly); "
                        f"{_last_checkpoint(ctx.checkpoint_dir)}",
                        file=sys.stderr,
                    )
            else:
                self.save_checkpoint("final", quiet=True)
        for rt in self._rt.values():
            if rt.node.node_id not in self._set_up:
                continue
            try:
                await rt.node.on_stop(reason)
            except Exception as exc:  # noqa: BLE001
                if self.write_failure is None and _disk_full(exc):
                    self.output_failed(f"{exc.filename or 'a file'} (node {rt.node.describe()}, on_stop)", exc)
                if self.write_failure is not None and isinstance(exc, OSError):
                    continue  # the same full disk: reported once below
                print(f"node {rt.node.describe()} failed in on_stop: {type(exc).__name__}: {exc}", file=sys.stderr)
                if code == 0:
                    code = 1
        if self.write_failure is not None:
            reason, code = "write_failed", EXIT_CODES["write_failed"]
            self.reason = reason
            last = _last_checkpoint(ctx.checkpoint_dir) if ctx.checkpoint_dir is not None else ""
            print(f"error: {self.write_failure}; the run stopped (exit {code}). {last}".rstrip(), file=sys.stderr)
        ctx.progress.close()
        ctx.metrics.write(stats_record(self))
        if reason != "usage":  # after a usage error its one message is all the user needs
            self._report_end(reason, code)
        self.exit_code = code
        ctx.finish(reason, code)
        return code

    def _report_end(self, reason: str, code: int) -> None:
        from .run_report import INTERRUPTED, end_lines, resume_command

        ctx = self.ctx
        if ctx.args.quiet:
            command = resume_command(ctx) if reason in INTERRUPTED else None
            tail = f"; to resume: {command}" if command else ""
            print(f"run ended: {reason} (exit {code}){tail}", file=sys.stderr)
            return
        print(format_stats(self, reason, full=bool(ctx.args.verbose)), file=sys.stderr)
        for line in end_lines(ctx, reason):
            print(line, file=sys.stderr)

    # -- failures, stops, signals --------------------------------------------------------------------------------
    def _fail(self, rt: RuntimeNode, exc: BaseException) -> None:
        if self._error is None and self._usage_error is None and _is_usage_error(exc):
            # missing/unreadable data or a bad config value: the user's to fix, one message with the fix (exit 2)
            self._usage_error = (rt.node, exc)
            self.request_stop("usage")
            return
        if self._error is None and _disk_full(exc):  # not the node's fault: the one disk-full report, exit 4
            self.output_failed(f"{exc.filename or 'a file'} (node {rt.node.describe()})", exc)
            return
        if self._error is None and self.write_failure is None:
            firing = rt.firings if rt.state in (SETUP, SENDING, BLOCKED) else rt.firings + 1
            self._error = NodeError(rt.node, firing, rt.state_name, exc)
        self.request_stop("error")

    def stall(self, text: str) -> None:
        """Stop with exit 3, printing `text` (what each node waits on)."""
        if self._stall_text is None:
            self._stall_text = text
        self.request_stop("stall")

    def _graceful_stop(self, reason: str) -> None:
        """Stop at the next step boundary (final checkpoint there), or now if no node reports step boundaries."""
        ctx = self.ctx
        if ctx._pending_stop is not None or not ctx._boundaries:
            self.request_stop(reason if ctx._pending_stop is None else ctx._pending_stop)
            return
        ctx._pending_stop = reason
        seen = ctx._boundaries
        self._loop.call_later(GRACE_S, self._force_if_no_boundary, seen)

    def _force_if_no_boundary(self, seen: int) -> None:
        if self.ctx._pending_stop is not None and self.ctx._boundaries == seen:
            self._cut_mid_step = True
            self.request_stop(self.ctx._pending_stop)

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop):
        installed = []
        for sig, name in ((signal.SIGINT, "sigint"), (signal.SIGTERM, "sigterm")):
            try:
                previous = signal.getsignal(sig)
                loop.add_signal_handler(sig, self._on_signal, name)
            except (ValueError, RuntimeError, NotImplementedError):  # not the main thread, or Windows
                continue
            installed.append((sig, previous))
        if installed:
            # a burst of signals while a step runs fills asyncio's wake-up pipe; the signals still count (the loop
            # is woken by the first), so a full pipe is not worth an "Exception ignored" traceback per signal
            wakeup_fd = signal.set_wakeup_fd(-1)
            signal.set_wakeup_fd(wakeup_fd, warn_on_full_buffer=False)

        def restore() -> None:
            # a process that stops because of a signal and exits right after this run ignores further signals:
            # everything is written by now, and a default handler would turn exit 143 into "killed by SIGTERM"
            ignore = self.ctx._signal is not None and self.ctx.process_exits_after_run
            for sig, previous in installed:
                loop.remove_signal_handler(sig)
                if ignore:
                    signal.signal(sig, signal.SIG_IGN)
                else:
                    signal.signal(sig, previous if previous is not None else signal.SIG_DFL)

        return restore

    def _on_signal(self, name: str) -> None:
        if self.ctx._signal is not None:  # a second signal: stop now
            stop = self._stop
            if self.ctx._boundaries and stop is not None and not stop.done():
                self._cut_mid_step = True
            self.request_stop(self.ctx._signal)
            return
        self.ctx._signal = name
        if not self.ctx.args.quiet:
            print(f"\n{name.upper()} received: stopping at the next step boundary (again to stop now)", file=sys.stderr)
        self._graceful_stop(name)

    # -- checkpoints ---------------------------------------------------------------------------------------------
    def save_checkpoint(self, reason: str, *, quiet: bool = False) -> bool:
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
        self.request_stop("write_failed")


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
    close = difflib.get_close_matches(name, list(options), n=1)
    listed = ", ".join(repr(o) for o in options) or "none"
    return f" (did you mean {close[0]!r}?)" if close else f" (it has: {listed})"
