"""Optional TensorBoard output (`--tensorboard`): metric records become scalars, when `tensorboard` is installed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .summary import X_KEYS

STEP_KEYS = ("step", "global_step", "env_steps", "iteration", "epoch")
INSTALL_HINT = "TensorBoard output needs the tensorboard package: pip install tensorboard"


def unavailable_reason() -> str | None:
    """None when TensorBoard logs can be written, else what to install."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        return INSTALL_HINT
    return None


class TensorBoardLogger:
    """Writes the numeric fields of metric records as scalars under `log_dir` (one event file per run)."""

    def __init__(self, log_dir: str | Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise RuntimeError(INSTALL_HINT) from exc
        self.log_dir = Path(log_dir)
        self._writer = SummaryWriter(log_dir=str(self.log_dir))
        self._count = 0

    def write(self, record: Mapping[str, Any], step: int | None = None) -> int:
        """Log every finite number of `record` (prefix `group/` kept); returns how many scalars were written."""
        if step is None:
            step = next((int(record[k]) for k in STEP_KEYS if isinstance(record.get(k), (int, float))), self._count)
        self._count += 1
        written = 0
        for key, value in record.items():
            if (
                key in X_KEYS
                or isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                continue
            self._writer.add_scalar(key, float(value), global_step=step)
            written += 1
        return written

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def open_logger(log_dir: str | Path, log: Any = print) -> TensorBoardLogger | None:
    """A logger, or None after telling `log` why TensorBoard output is off (never fails a run)."""
    reason = unavailable_reason()
    if reason:
        log(f"--tensorboard ignored: {reason}")
        return None
    return TensorBoardLogger(log_dir)
