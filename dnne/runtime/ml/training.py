"""Checks and helpers of TrainingStep (its step itself is in its class) and EpochTracker's exact per-epoch accounting."""

from __future__ import annotations

import math
from typing import Any

from .loop import Stopwatch, TrainingLoop


def loss_value(loss: Any, step: int, *, training: bool) -> float:
    """The loss of a step as a float; a scalar tensor is required, and while training it must be finite."""
    if getattr(loss, "numel", None) is None or loss.numel() != 1 or not hasattr(loss, "backward"):
        raise TypeError(f"loss must be a scalar tensor, got {type(loss).__name__} {getattr(loss, 'shape', '')}")
    value = loss.item()
    if training and not math.isfinite(value):
        raise FloatingPointError(
            f"the loss is {value} at step {step}: training diverged (lower the learning rate or set grad_clip)"
        )
    return value


def check_step_inputs(loss: Any, optimizer: Any) -> None:
    """Clear errors for an optimizer input that is not an optimizer, and a loss no parameter contributes to."""
    if not hasattr(optimizer, "zero_grad") or not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer input must come from an optimizer node, got {type(optimizer).__name__}")
    if not loss.requires_grad:
        raise RuntimeError(
            "the loss does not depend on any trainable parameter: is the Network between the batch and the loss?"
        )


def clip_grad_norm(model: Any, max_norm: float) -> float:
    """Scale the gradients of `model` so that their total norm is at most `max_norm`; returns the norm before."""
    import torch

    return float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm))


class EpochTracking:
    """Sums of loss/accuracy weighted by batch size over exactly the batches of each epoch; max_epochs stops the run."""

    def __init__(self, node: Any, max_epochs: int):
        self.node = node
        self.node_id = node.node_id
        self.max_epochs_param = int(max_epochs)
        self.seen_step = 0
        self.epochs_done = 0
        self._progress_epoch = -1  # the epoch the progress bar's total/description were set for
        self._reset_sums()
        self.history: list[dict] = []
        self.elapsed_before = 0.0  # time spent in the current epoch before a resume
        self.clock = Stopwatch()
        self.run_clock = Stopwatch()

    def _reset_sums(self) -> None:
        self.loss_sum = 0.0
        self.correct_sum = 0.0
        self.samples = 0
        self.batches = 0

    @property
    def max_epochs(self) -> int:
        override = getattr(self.ctx.args, "epochs", None)
        return int(override) if override else self.max_epochs_param

    def setup(self, ctx: Any) -> None:
        self.ctx = ctx
        self.loop = ctx.pack_state("ml", TrainingLoop)
        self.inference = bool(getattr(ctx.args, "inference", False))
        self.loop.watch(self)
        if not self.inference:
            self.loop.add_epoch_listener(self._on_record)
        self.clock.reset()
        self.run_clock.reset()

    def on_start(self) -> None:
        self.clock.reset()
        self.run_clock.reset()

    def _on_record(self, record: dict) -> None:
        self.history.append(dict(record))

    def partial_summary(self) -> dict | None:
        """Train loss/accuracy of the epoch in progress (a `--max-steps` run may stop before any epoch ends)."""
        if not self.samples or self.inference:
            return None
        return {
            "epoch": self.epochs_done + 1,
            "max_epochs": self.max_epochs,
            "train_loss": self.loss_sum / self.samples,
            "train_accuracy": self.correct_sum / self.samples,
            "train_samples": self.samples,
            "batches": self.batches,
        }

    def observe(self, stats: dict, loss: Any, accuracy: Any) -> dict | None:
        """One batch; returns the epoch summary when this batch ends an epoch."""
        if not isinstance(stats, dict) or "batch_size" not in stats:
            raise TypeError("epoch_stats must be GetBatch.epoch_stats (a dict with epoch, batch, batch_size, …)")
        n = int(stats["batch_size"])
        loss_value = loss.item() if hasattr(loss, "item") else float(loss)  # a tensor, or a plain number
        acc_value = accuracy.item() if hasattr(accuracy, "item") else float(accuracy)
        self.loss_sum += loss_value * n
        self.correct_sum += acc_value * n
        self.samples += n
        self.batches += 1
        self.seen_step = int(stats.get("step", self.seen_step + 1))
        epoch = int(stats.get("epoch", self.epochs_done + 1))
        progress = self.ctx.progress
        if epoch != self._progress_epoch:  # total and description change with the epoch only
            self._progress_epoch = epoch
            total = int(stats.get("batches_per_epoch", 0)) or None
            max_epochs = self.max_epochs
            progress.update(
                0,
                total=total * max_epochs if total and not self.inference else total,
                description=f"{'inference' if self.inference else 'epoch'} {epoch}/{max_epochs}",
            )
        if progress.enabled:  # the running loss/accuracy are only worth passing when the bar is drawn
            progress.update(1, loss=self.loss_sum / self.samples, acc=self.correct_sum / self.samples)
        else:
            progress.update(1)
        if not stats.get("epoch_complete", stats.get("completed", False)):
            return None
        seconds = self.elapsed_before + self.clock.elapsed
        summary = {
            "epoch": epoch,
            "max_epochs": self.max_epochs,
            "train_loss": self.loss_sum / self.samples,
            "train_accuracy": self.correct_sum / self.samples,
            "train_samples": self.samples,
            "batches": self.batches,
            "epoch_time_s": round(seconds, 3),
            "samples_per_s": round(self.samples / seconds, 1) if seconds > 0 else None,
        }
        self.epochs_done = epoch
        self._reset_sums()
        self.elapsed_before = 0.0
        self.clock.reset()
        if self.inference:
            self.ctx.log(
                f"inference on the batches' split: accuracy {100 * summary['train_accuracy']:.2f}% "
                f"loss {summary['train_loss']:.4f} ({summary['train_samples']:,} samples)"
            )
            self.ctx.metrics.write(
                {
                    "event": "inference",
                    "split": "batches",
                    "loss": summary["train_loss"],
                    "accuracy": summary["train_accuracy"],
                    "samples": summary["train_samples"],
                }
            )
            self.loop.stop_after_step("done")
            return summary
        summary["final"] = epoch >= self.max_epochs
        self.loop.epoch_finished(summary)
        return summary

    # -- end of run -----------------------------------------------------------------------------------------------
    def finish(self, reason: str) -> None:
        if self.inference or not self.history:
            return
        last = self.history[-1]
        items: list[tuple[str, Any]] = [("stopped because", reason), ("epochs", f"{last['epoch']}/{self.max_epochs}")]
        for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
            if key in last:
                value = last[key]
                items.append((f"final {key.replace('_', ' ')}", f"{100 * value:.2f}%" if "accuracy" in key else value))
        accs = [r["test_accuracy"] for r in self.history if isinstance(r.get("test_accuracy"), float)]
        if accs:
            best = max(range(len(accs)), key=accs.__getitem__)
            items.append(("best test accuracy", f"{100 * accs[best]:.2f}% (epoch {self.history[best]['epoch']})"))
        items.append(("training time", f"{self.run_clock.elapsed:.1f} s"))
        # a crashed or stalled run must exit at once: no plot (importing matplotlib costs ~1 s)
        plot = self._plot() if reason not in ("error", "stall") else None
        if plot:
            items.append(("curves", str(plot)))
        if not getattr(self.ctx.args, "quiet", False):
            from ..reporting.summary import key_values

            self.ctx.log(key_values(items, title="Training summary"))

    def _plot(self) -> Any:
        if self.ctx.run_dir is None:
            return None
        try:
            from ..reporting import plots
        except ImportError:
            return None
        keys = [
            k for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr") if k in self.history[-1]
        ]
        try:
            return plots.plot_metrics(
                self.history,
                self.ctx.run_dir / "training_curves.png",
                x_key="epoch",
                keys=keys,
                title="Training curves",
            )
        except Exception as exc:  # noqa: BLE001 - a plot must never fail a finished run
            self.ctx.debug(f"training curves not plotted: {exc}")
            return None

    # -- checkpoint -----------------------------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        return {}, {
            "seen_step": self.seen_step,
            "epochs_done": self.epochs_done,
            "loss_sum": self.loss_sum,
            "correct_sum": self.correct_sum,
            "samples": self.samples,
            "batches": self.batches,
            "elapsed": self.elapsed_before + self.clock.elapsed,
            "history": self.history,
        }

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
        self.seen_step = int(meta.get("seen_step", 0))
        self.epochs_done = int(meta.get("epochs_done", 0))
        self.loss_sum = float(meta.get("loss_sum", 0.0))
        self.correct_sum = float(meta.get("correct_sum", 0.0))
        self.samples = int(meta.get("samples", 0))
        self.batches = int(meta.get("batches", 0))
        self.elapsed_before = float(meta.get("elapsed", 0.0))
        self.history = list(meta.get("history", []))
        self.clock.reset()
