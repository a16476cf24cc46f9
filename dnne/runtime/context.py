"""RunContext: what nodes may use during a run (flags, device, run dir, metrics, progress, stop, checkpoints)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .flags import default_args
from .metrics import Metrics
from .progress import Progress
from .stopping import StopController

if TYPE_CHECKING:
    import argparse

    from .activity import ActivityLog
    from .checkpoint import Checkpoint
    from .runner import GraphRunner

T = TypeVar("T")


class RunContext:
    """One per run. Built by `run_main`; `RunContext()` gives defaults (cpu, no run dir, silent) for tests."""

    def __init__(
        self,
        args: argparse.Namespace | None = None,
        *,
        config: dict | None = None,
        device: Any = None,
        run_dir: Path | None = None,
        metrics: Metrics | None = None,
        progress: Progress | None = None,
        checkpoint_dir: Path | None = None,
        resume_dir: Path | None = None,
        seed: int = 0,
        graph_id: str | None = None,
    ):
        self.args = args if args is not None else default_args()
        self.config = config if config is not None else {}
        self.config_path: Path | None = None
        self.argv: list[str] = []  # the runner's command-line flags (what the resume command repeats)
        self._device = device
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.metrics = metrics if metrics is not None else Metrics()
        self.events: ActivityLog | None = None  # the --events activity stream, when asked for
        self.progress = progress if progress is not None else Progress(enabled=False)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.resume_dir = Path(resume_dir) if resume_dir is not None else None
        self.resume_state: dict[str, Any] | None = None  # checkpoint.json of the resumed checkpoint
        self.seed = seed
        self.graph_id = graph_id
        self.stop_controller = StopController()  # how the run ends (stop requests, signals, step boundaries)
        self.step = 0  # advanced by step_boundary()
        self.epoch = 0
        self.started = time.monotonic()
        self._runner: GraphRunner | None = None
        self._finished = False
        self.process_exits_after_run = False  # set by run_main: the program ends when the run does
        self._pack_state: dict[str, Any] = {}  # per-run state of runtime packs, see pack_state()
        self.metrics.on_error = self.output_failed

    # -- what nodes use ------------------------------------------------------------------------------------------
    @property
    def device(self):
        """A torch.device (`--device auto` resolved at start)."""
        if self._device is None or isinstance(self._device, str):
            import torch

            self._device = torch.device(self._device or "cpu")
        return self._device

    @property
    def resume(self) -> bool:
        """True when this run resumes from a checkpoint (state already loaded when nodes start firing)."""
        return self.resume_dir is not None

    def log(self, message: str) -> None:
        """A message for the user (above the progress bar); silent with --quiet."""
        if not self.args.quiet:
            self.progress.log(str(message))

    def debug(self, message: str) -> None:
        """A message shown only with --verbose."""
        if self.args.verbose and not self.args.quiet:
            self.progress.log(str(message))

    @property
    def stopping(self) -> bool:
        """True once the run is ending (a stop was requested): a long `compute` may return early."""
        return self.stop_controller.requested

    def request_stop(self, reason: str = "done") -> None:
        """End the run (reason: done, max_steps, … → exit 0; 'error' → 1)."""
        self.stop_controller.request(reason)

    def request_checkpoint(self, tag: str = "requested") -> None:
        """Take a checkpoint at the next step_boundary()."""
        self.stop_controller.request_checkpoint(tag)

    def step_boundary(self, step: int | None = None, epoch: int | None = None) -> None:
        """Called by the node that ends a training step, after each step.

        Records the step/epoch (step defaults to previous + 1), takes a requested checkpoint, and honours a
        pending SIGINT/SIGTERM/timeout stop (after writing the final checkpoint).
        """
        self.step = self.step + 1 if step is None else int(step)
        if epoch is not None:
            self.epoch = int(epoch)
        self.stop_controller.step_boundary()

    def pack_state(self, name: str, factory: Callable[[RunContext], T]) -> T:
        """Per-run state of a runtime pack (e.g. "ml.loops"): made by `factory(ctx)` on first use, then reused.

        The state lives on this context and dies with the run, so packs need no module-level dict keyed by id(ctx).
        """
        try:
            return self._pack_state[name]
        except KeyError:
            state = self._pack_state[name] = factory(self)
            return state

    # -- run bookkeeping -----------------------------------------------------------------------------------------
    def bind_runner(self, runner: GraphRunner) -> None:
        """The runner of this context's run (where output failures are reported)."""
        self._runner = runner

    def load_resume(self) -> Checkpoint:
        """Read the checkpoint to resume from (before any node's setup); sets `resume_state`."""
        from .checkpoint import load_checkpoint

        ckpt = load_checkpoint(self.resume_dir)
        self.resume_state = dict(ckpt.meta)
        self.step = int(ckpt.meta.get("step") or 0)
        self.epoch = int(ckpt.meta.get("epoch") or 0)
        return ckpt

    def finish(self, reason: str, exit_code: int) -> None:
        """Write the final `done` metrics record (once) and close outputs."""
        if self._finished:
            return
        self._finished = True
        self.progress.close()
        wall = round(time.monotonic() - self.started, 3)
        self.metrics.write({"event": "done", "reason": reason, "exit_code": exit_code, "wall_s": wall})
        self.metrics.close()
        if self.events is not None:
            self.events.finish(reason, exit_code)

    def output_failed(self, what: Any, exc: OSError) -> None:
        """An output (metrics file, a node's file) could not be written: the run stops with exit 4 and one message."""
        if self._runner is not None:
            self._runner.output_failed(str(what), exc)
        else:
            self.warn(f"cannot write {what}: {exc.strerror or exc}")

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)
