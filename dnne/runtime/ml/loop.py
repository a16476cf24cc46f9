"""Coordination of a supervised training loop inside one run: what happens at the end of each training step.

The loop is lockstep (GetBatch → Network → loss → TrainingStep → `ready` → GetBatch). The node that ends a step
(TrainingStep) awaits `TrainingLoop.end_of_step(step)`, which, in this order:

The loop is per-run state of the ml pack: every node gets the same one with `ctx.pack_state("ml", TrainingLoop)`
(created on first use, it dies with the run). Nodes register with it explicitly, in their `setup`/`compute`:
`watch(observer)` (EpochTracker: must have seen each step before it ends), `add_evaluator(node)` (Evaluate:
`evaluate() -> metrics`, `every_n_steps`), `add_step_listener(fn)` / `add_epoch_listener(fn)` (checkpoint triggers,
early stopping), `add_optimizer(handle)` (its lr goes into the records), `offer_model` / `offer_held_out` (implicit
evaluation).

At the end of each step it, in this order:

1. lets the step's observers (EpochTracker) catch up with this step, so their state is consistent with it;
2. runs step listeners (time-based checkpoint triggers, every-N-steps evaluation);
3. if an epoch ended with this step: evaluates on the held-out split (the weights after this step, before the
   next batch), writes one metrics record, prints the epoch line and tells epoch listeners (checkpoint triggers,
   early stopping, LR schedules);
4. calls `ctx.step_boundary()` (a requested checkpoint is taken here, with every node at the same step);
5. ends the run if a stop was asked for (max_epochs reached, early stop, `--max-steps`).

So the epoch accounting is exact, nothing trains after the last epoch, and a checkpoint never splits a step.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

MAX_CATCH_UP_YIELDS = 200


class TrainingLoop:
    """The end-of-step coordination of one run's supervised training (see the module docstring)."""

    def __init__(self, ctx: Any):
        self.ctx = ctx
        self.observers: list[Any] = []  # objects with `seen_step` (int)
        self.evaluators: list[Any] = []  # objects with `evaluate() -> dict`, `every_n_steps`, `name`
        self.step_listeners: list[Callable[[int], None]] = []
        self.epoch_listeners: list[Callable[[dict], None]] = []
        self.optimizers: list[Any] = []  # TrainingOptimizer handles (lr in the records)
        self.history: list[dict] = []  # epoch records written so far in this process
        self.autocast_dtype: Any = None  # set through use_mixed_precision (TrainingStep on CUDA)
        self.grad_enabled = not bool(getattr(ctx.args, "inference", False))
        self._pending_epoch: dict | None = None
        self._stop_reason: str | None = None
        self._warned_lag = False
        # implicit evaluation: a workflow that trains on a data set with a test split but has no Evaluate node (the
        # original DNNE's MNIST workflows) still gets test metrics each epoch, on the one model it trains
        self.held_out: Any = None  # the test split of the data set being trained on (offered by the sampler)
        self.models: list[Any] = []  # the models being trained (offered by the Network nodes)
        self.implicit_eval = not bool(getattr(ctx.args, "no_implicit_eval", False))

    # -- registration -----------------------------------------------------------------------------------------------
    def watch(self, observer: Any) -> None:
        if observer not in self.observers:
            self.observers.append(observer)

    def add_evaluator(self, evaluator: Any) -> None:
        if evaluator not in self.evaluators:
            self.evaluators.append(evaluator)

    def add_epoch_listener(self, listener: Callable[[dict], None]) -> None:
        self.epoch_listeners.append(listener)

    def add_step_listener(self, listener: Callable[[int], None]) -> None:
        self.step_listeners.append(listener)

    def offer_held_out(self, split: Any) -> None:
        """The test split of the data set the run trains on (for the implicit evaluation)."""
        if split is not None and self.held_out is None:
            self.held_out = split

    def offer_model(self, model: Any) -> None:
        if model not in self.models:
            self.models.append(model)

    def _implicit_metrics(self) -> dict:
        """test_loss/test_accuracy of the trained model on the held-out split, when the workflow has no evaluator of
        its own (and `--no-implicit-eval` was not given); {} otherwise, or when the model is not a classifier."""
        if not self.implicit_eval or self.evaluators or self.held_out is None or len(self.models) != 1:
            return {}
        if not self.grad_enabled:
            return {}  # --inference: the run's own pass over the data is its evaluation
        from .evaluation import evaluate

        try:
            result = evaluate(self.models[0], self.held_out, batch_size=1000, device=self.ctx.device)
        except Exception as exc:  # noqa: BLE001 - not a classifier (e.g. a regression): no implicit evaluation
            self.implicit_eval = False
            self.ctx.debug(f"no implicit test evaluation: {type(exc).__name__}: {exc}")
            return {}
        return {"test_loss": result["loss"], "test_accuracy": result["accuracy"], "implicit_eval": True}

    def add_optimizer(self, handle: Any) -> None:
        if handle not in self.optimizers:
            self.optimizers.append(handle)

    def use_mixed_precision(self, ctx: Any) -> Any:
        """Autocast for the Network's forward on CUDA: bfloat16 where the GPU has it, else float16 with the gradient
        scaler this returns (None for bfloat16, and on the CPU, where training stays float32)."""
        if ctx.device.type != "cuda":
            ctx.debug("mixed precision is only used on CUDA; training in float32")
            return None
        import torch

        if torch.cuda.is_bf16_supported():
            self.autocast_dtype = torch.bfloat16
            return None
        self.autocast_dtype = torch.float16
        return torch.amp.GradScaler("cuda")

    # -- events -----------------------------------------------------------------------------------------------------
    def epoch_finished(self, summary: dict) -> None:
        """An EpochTracker finished an epoch (train metrics); the record is completed at the end of the step."""
        self._pending_epoch = dict(summary)

    def stop_after_step(self, reason: str = "done") -> None:
        """End the run once the current training step is complete (after its checkpoint)."""
        if self._stop_reason is None:
            self._stop_reason = reason

    def mark_start(self) -> None:
        """The loop is about to run its first step (every node is set up): observers start their clocks."""
        for observer in self.observers:
            start = getattr(observer, "on_start", None)
            if start is not None:
                start()

    @property
    def stop_requested(self) -> bool:
        return self._stop_reason is not None

    async def end_of_step(self, step: int) -> None:
        if self.observers:
            await self._catch_up(step)
        if self.step_listeners:
            for listener in list(self.step_listeners):
                listener(step)
        for evaluator in self.evaluators:
            n = int(getattr(evaluator, "every_n_steps", 0) or 0)
            if n > 0 and step % n == 0 and self._pending_epoch is None:
                result = evaluator.evaluate()
                self.ctx.log(f"step {step}: " + format_metrics(result))
                self.ctx.metrics.write({"event": "eval", "step": step, **result})
        epoch = None
        if self._pending_epoch is not None:
            record, self._pending_epoch = self._pending_epoch, None
            record = self._finish_epoch(record, step)
            epoch = record.get("epoch")
        max_steps = getattr(self.ctx.args, "max_steps", None)
        if max_steps and step >= int(max_steps):
            self.stop_after_step("max_steps")
            if epoch is None:  # stopped inside an epoch: its metrics so far, else the run would report nothing
                self._partial_epoch(step)
        self.ctx.step_boundary(step, epoch)
        if self._stop_reason is not None and not self.ctx.stopping:
            self.ctx.request_stop(self._stop_reason)

    # -- internals --------------------------------------------------------------------------------------------------
    async def _catch_up(self, step: int) -> None:
        for _ in range(MAX_CATCH_UP_YIELDS):
            for observer in self.observers:
                if getattr(observer, "seen_step", step) < step:
                    break
            else:
                return
            await asyncio.sleep(0)
        if not self._warned_lag:
            self._warned_lag = True
            late = [getattr(o, "node_id", repr(o)) for o in self.observers if o.seen_step < step]
            self.ctx.warn(
                f"node(s) {', '.join(map(str, late))} did not see training step {step} before its end: "
                "are their inputs fed from the same GetBatch/loss as the TrainingStep?"
            )

    def _partial_epoch(self, step: int) -> None:
        record: dict[str, Any] = {"event": "partial_epoch", "step": step}
        for observer in self.observers:
            partial = getattr(observer, "partial_summary", None)
            summary = partial() if partial is not None else None
            if summary:
                record.update(summary)
                break
        if len(record) == 2:
            return  # no EpochTracker: nothing measured
        for evaluator in self.evaluators:
            record.update(evaluator.evaluate())
        record.update(self._implicit_metrics())
        self.ctx.metrics.write(record)
        self.ctx.log(f"stopped at step {step} (--max-steps), " + epoch_line(record).replace("epoch ", "in epoch ", 1))

    def _finish_epoch(self, record: dict, step: int) -> dict:
        record = {"event": "epoch", **record, "step": step}
        for evaluator in self.evaluators:
            record.update(evaluator.evaluate())
        implicit = self._implicit_metrics()
        if implicit:
            self.ctx.metrics.write({"event": "implicit_eval", "epoch": record.get("epoch"), "step": step, **implicit})
            record.update(implicit)
        if self.optimizers:
            record["lr"] = self.optimizers[0].lr
        self.ctx.metrics.write(record)
        self.history.append(record)
        self.ctx.log(epoch_line(record))
        for listener in list(self.epoch_listeners):
            listener(record)
        if record.get("final"):
            self.stop_after_step("done")
        return record


def _pct(value: Any) -> str:
    return f"{100 * value:.2f}%" if isinstance(value, (int, float)) and math.isfinite(value) else "n/a"


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) and math.isfinite(value) else "n/a"


def format_metrics(metrics: dict) -> str:
    parts = []
    for key, value in metrics.items():
        if key.endswith("accuracy"):
            parts.append(f"{key.replace('_', ' ')} {_pct(value)}")
        elif isinstance(value, float):
            parts.append(f"{key.replace('_', ' ')} {_num(value)}")
    return "  ".join(parts)


def epoch_line(record: dict) -> str:
    """`epoch 2/10  train loss 0.1234 acc 96.10%  test loss 0.0890 acc 97.30%  lr 0.001  4.1 s  14,600 samples/s`"""
    total = record.get("max_epochs")
    head = f"epoch {record.get('epoch')}" + (f"/{total}" if total else "")
    parts = [head, f"train loss {_num(record.get('train_loss'))} acc {_pct(record.get('train_accuracy'))}"]
    if "test_loss" in record or "test_accuracy" in record:
        parts.append(f"test loss {_num(record.get('test_loss'))} acc {_pct(record.get('test_accuracy'))}")
    if "lr" in record:
        parts.append(f"lr {record['lr']:.3g}")
    if "epoch_time_s" in record:
        parts.append(f"{record['epoch_time_s']:.1f} s")
    if "samples_per_s" in record:
        parts.append(f"{record['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)


class Stopwatch:
    """Monotonic seconds since start (or since `reset`)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def reset(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0
