"""StopController: the one owner of how a run ends — stop requests, signals, the timeout, step boundaries and the
checkpoints taken at them, graceful vs forced stops, and the final checkpoint.

Two kinds of stop:
  * forced (`request`): the run ends now; node tasks are cancelled wherever they are. Nodes ask for it with
    `ctx.request_stop(reason)`; failures, stalls and a second signal use it too.
  * graceful (`request_graceful`): SIGINT/SIGTERM and `--timeout`. The run ends at the next step boundary, after
    the final checkpoint was written there, so that a resume continues exactly; without a boundary within GRACE_S
    (or in a graph that never reports boundaries) it becomes a forced stop. A graph that did report boundaries and
    is stopped mid-step gets no final checkpoint: the last boundary checkpoint stays the latest (`cut_mid_step`).

`step_boundary()` is what `ctx.step_boundary()` calls after each training step: it takes a requested checkpoint
(`request_checkpoint`) and completes a pending graceful stop. The runner binds the controller to a run with `begin`
(its event loop and how to write a checkpoint) and asks `final_checkpoint` at the end.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

GRACE_S = 2.0  # a graceful stop waits this long for the next step boundary


class StopController:
    """Stop state of one run. `requested` is a plain attribute: node loops read it after every firing."""

    def __init__(self) -> None:
        self.requested = False  # a stop was requested (the run is ending)
        self.signal: str | None = None  # the first SIGINT/SIGTERM received ("sigint" | "sigterm")
        self.boundaries = 0  # step boundaries seen
        self.pending: str | None = None  # the reason of a graceful stop waiting for the next step boundary
        self.cut_mid_step = False  # forced while nodes were in the middle of a step (see module docstring)
        self.stall_text: str | None = None  # what each node waited on, for a stall stop
        self._checkpoint_tag: str | None = None
        self._final_written = False  # at a boundary, by a graceful stop
        self._final_at_boundary = -1  # `boundaries` when a node-requested "final" checkpoint was written
        self._future: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._checkpoint: Callable[[str, bool], bool] | None = None
        self._timer: asyncio.TimerHandle | None = None

    # -- the run -------------------------------------------------------------------------------------------------
    def begin(self, loop: asyncio.AbstractEventLoop, checkpoint: Callable[[str, bool], bool]) -> None:
        """Bind to a run: its loop, and `checkpoint(tag, quiet)` that writes a checkpoint (False if none was)."""
        self._loop = loop
        self._future = loop.create_future()
        self._checkpoint = checkpoint
        self.requested = False

    async def wait(self) -> str:
        """The reason the run stops (returns once a stop is requested)."""
        return await self._future

    @property
    def done(self) -> bool:
        """A stop was requested during `begin` … end of the run (False before `begin`)."""
        return self._future is not None and self._future.done()

    def end(self) -> None:
        """The run is over: no more timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- requests ------------------------------------------------------------------------------------------------
    def request(self, reason: str) -> None:
        """Stop now (the first reason wins). reason: done, max_steps, … → exit 0; error, stall, … (see EXIT_CODES)."""
        future = self._future
        if future is not None and not future.done():
            future.set_result(reason)
        self.requested = True

    def stall(self, text: str) -> None:
        """Stop with exit 3, `text` saying what each node waits on (printed at the end)."""
        if self.stall_text is None:
            self.stall_text = text
        self.request("stall")

    def request_graceful(self, reason: str) -> None:
        """Stop at the next step boundary (final checkpoint there), or now if no node reports step boundaries."""
        if self.pending is not None or not self.boundaries:
            self.request(reason if self.pending is None else self.pending)
            return
        self.pending = reason
        self._loop.call_later(GRACE_S, self._force_if_no_boundary, self.boundaries)

    def _force_if_no_boundary(self, seen: int) -> None:
        if self.pending is not None and self.boundaries == seen:
            self.cut_mid_step = True
            self.request(self.pending)

    def arm_timeout(self, seconds: float) -> None:
        """`--timeout`: a graceful stop (reason "timeout", exit 0) after `seconds`."""
        self._timer = self._loop.call_later(seconds, self.request_graceful, "timeout")

    def on_signal(self, name: str, *, quiet: bool = False) -> None:
        """SIGINT/SIGTERM: the first stops gracefully, a second one stops now."""
        if self.signal is not None:
            if self.boundaries and not self.done:
                self.cut_mid_step = True
            self.request(self.signal)
            return
        self.signal = name
        if not quiet:
            print(f"\n{name.upper()} received: stopping at the next step boundary (again to stop now)", file=sys.stderr)
        self.request_graceful(name)

    def install_signal_handlers(self, *, quiet: bool, exits_after_run: bool) -> Callable[[], None]:
        """Route SIGINT/SIGTERM to `on_signal` while the run lasts; returns the function that restores them."""
        loop = self._loop
        installed = []
        for sig, name in ((signal.SIGINT, "sigint"), (signal.SIGTERM, "sigterm")):
            try:
                previous = signal.getsignal(sig)
                loop.add_signal_handler(sig, lambda name=name: self.on_signal(name, quiet=quiet))
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
            ignore = self.signal is not None and exits_after_run
            for sig, previous in installed:
                loop.remove_signal_handler(sig)
                if ignore:
                    signal.signal(sig, signal.SIG_IGN)
                else:
                    signal.signal(sig, previous if previous is not None else signal.SIG_DFL)

        return restore

    # -- step boundaries and checkpoints -------------------------------------------------------------------------
    def request_checkpoint(self, tag: str) -> None:
        """Take a checkpoint tagged `tag` at the next step boundary."""
        self._checkpoint_tag = str(tag)

    def step_boundary(self) -> None:
        """A training step ended (every node at the same step): take a requested checkpoint, complete a pending
        graceful stop (after writing the final checkpoint)."""
        self.boundaries += 1
        checkpoint = self._checkpoint
        if checkpoint is None:  # not running under a runner
            return
        if self.pending is not None:
            self._checkpoint_tag = None
            checkpoint("final", False)
            self._final_written = True
            self.request(self.pending)
            return
        if self._checkpoint_tag is not None:
            tag, self._checkpoint_tag = self._checkpoint_tag, None
            checkpoint(tag, False)
            if tag == "final":  # a stop right after needs no second "final" at this same step
                self._final_at_boundary = self.boundaries

    def final_checkpoint(self, reason: str, *, fired: bool) -> str:
        """At the end of the run, the final checkpoint: 'written' (at the last boundary, or now), 'cut' (stopped
        mid-step: none, it would not resume exactly) or 'none' (a failure, or no node ever fired)."""
        if reason in ("error", "stall", "usage", "write_failed") or not fired:
            return "none"
        if self._final_written or self._final_at_boundary == self.boundaries:
            return "written"
        if self.cut_mid_step:
            return "cut"
        self._checkpoint("final", True)
        return "written"
