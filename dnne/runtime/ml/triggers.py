"""When a Network asks for a checkpoint: every N epochs, every T of wall time, or on a new best metric."""

from __future__ import annotations

import math
import re
import time
from typing import Any

TRIGGER_TYPES = ("epoch", "time", "best_metric")
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")


def parse_duration(text: str) -> float:
    """'30s', '5m', '1h30m', '90' → seconds."""
    match = _DURATION.match(str(text))
    if not match or not any(match.groups()) or not str(text).strip():
        raise ValueError(f"checkpoint time {text!r}: use e.g. 30s, 5m, 1h30m or a number of seconds")
    h, m, s = (float(g) if g else 0.0 for g in match.groups())
    seconds = h * 3600 + m * 60 + s
    if seconds <= 0:
        raise ValueError(f"checkpoint time {text!r} must be positive")
    return seconds


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
            self.every_s = parse_duration(value)
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
