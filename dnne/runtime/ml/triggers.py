"""When a Network asks for a checkpoint: every N epochs, every T of wall time, or on a new best metric."""

from __future__ import annotations

import math
import re
import time
from typing import Any

from ..durations import parse_duration

TRIGGER_TYPES = ("epoch", "time", "best_metric")


def parse_best_metric(text: str) -> tuple[str | None, str]:
    """'max' / 'min' / 'test_accuracy' / 'test_loss:min' → (metric or None for the default, 'max'|'min')."""
    text = str(text).strip().lower()
    if text in ("max", "min"):
        return None, text
    name, _, mode = text.partition(":")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"best_metric value {text!r}: use max, min, a metric name, or name:min / name:max")
    mode = mode or ("min" if "loss" in name else "max")
    if mode not in ("min", "max"):
        raise ValueError(f"best_metric value {text!r}: the mode after ':' must be min or max")
    return name, mode


class CheckpointTrigger:
    """Decides, from epoch records and the clock, when to call `ctx.request_checkpoint(tag)`."""

    def __init__(self, kind: str, value: str):
        if kind not in TRIGGER_TYPES:
            raise ValueError(f"checkpoint_trigger_type {kind!r}: expected one of {', '.join(TRIGGER_TYPES)}")
        self.kind = kind
        self.every_epochs = 0
        self.every_s = 0.0
        self.metric: str | None = None
        self.mode = "max"
        if kind == "epoch":
            try:
                self.every_epochs = int(str(value).strip())
            except ValueError:
                raise ValueError(f"checkpoint_trigger_value {value!r}: a number of epochs is expected") from None
            if self.every_epochs < 1:
                raise ValueError("checkpoint_trigger_value must be at least 1 epoch")
        elif kind == "time":
            try:
                self.every_s = parse_duration(value)
            except ValueError as exc:
                raise ValueError(f"checkpoint_trigger_value: {exc}") from None
        else:
            self.metric, self.mode = parse_best_metric(value)
        self.best: float | None = None
        self._last_time = time.monotonic()

    def on_step(self, step: int) -> str | None:
        if self.kind == "time" and time.monotonic() - self._last_time >= self.every_s:
            self._last_time = time.monotonic()
            return f"time-step{step}"
        return None

    def on_epoch(self, record: dict[str, Any]) -> str | None:
        epoch = record.get("epoch")
        if self.kind == "epoch" and epoch and int(epoch) % self.every_epochs == 0:
            return f"epoch{epoch}"
        if self.kind == "best_metric":
            name = self.metric or self._default_metric(record)
            value = record.get(name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                return None
            better = self.best is None or (value > self.best if self.mode == "max" else value < self.best)
            if better:
                self.best = float(value)
                return f"best-{name}-epoch{epoch}"
        return None

    def _default_metric(self, record: dict[str, Any]) -> str:
        split = "test" if any(k.startswith("test_") for k in record) else "train"
        return f"{split}_accuracy" if self.mode == "max" else f"{split}_loss"

    def state(self) -> dict[str, Any]:
        return {"best": self.best}

    def load(self, meta: dict[str, Any]) -> None:
        best = meta.get("best")
        self.best = float(best) if isinstance(best, (int, float)) else None
