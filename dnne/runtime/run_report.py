"""What every run tells its user at start and at the end: where its files are, its final metrics, and, when it was
interrupted with a checkpoint to continue from, the exact command that resumes it."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import RunContext

INTERRUPTED = ("sigint", "sigterm", "stall", "error", "timeout", "write_failed")
# flags that name the run's own folders: a resumed run gets new ones (and --resume is replaced)
_OWN_FOLDER_FLAGS = ("--resume", "--load-checkpoint-dir", "--run-dir", "--checkpoint-dir", "--save-checkpoint-dir")
_NOT_METRICS = frozenset({"event", "t", "step", "epoch", "max_epochs", "final", "split", "mode", "done", "reason"})


def start_lines(ctx: RunContext) -> list[str]:
    lines = []
    if ctx.resume_dir is not None:
        lines.append(f"resuming from: {ctx.resume_dir}")
    lines += _folders(ctx)
    return lines


def end_lines(ctx: RunContext, reason: str) -> list[str]:
    lines = _folders(ctx)
    results = ctx.metrics.results
    # an RL inference's episode statistics are its result, even though the trainer's summary is written after them
    final = final_metrics(results.get("episodes") or (list(results.values())[-1] if results else None))
    if final:
        lines.append(f"final metrics: {final}")
    command = resume_command(ctx) if reason in INTERRUPTED else None
    if command:
        lines.append(f"to resume: {command}")
    return lines


def _folders(ctx: RunContext) -> list[str]:
    lines = []
    if ctx.run_dir is not None:
        lines.append(f"run folder:    {ctx.run_dir}")
    if ctx.metrics.paths:
        lines.append(f"metrics file:  {', '.join(str(p) for p in ctx.metrics.paths)}")
    if ctx.checkpoint_dir is not None:
        lines.append(f"checkpoints:   {ctx.checkpoint_dir}")
    return lines


def final_metrics(record: dict[str, Any] | None) -> str:
    """`epoch 2: train_loss 0.1234  test_accuracy 97.30%` of the last result record (epoch, eval, RL update, …)."""
    if not record:
        return ""
    parts = []
    for key, value in record.items():
        if key in _NOT_METRICS or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if isinstance(value, float) and "accuracy" in key and math.isfinite(value):
            parts.append(f"{key} {100 * value:.2f}%")
        elif isinstance(value, float):
            parts.append(f"{key} {value:.4g}")
        else:
            parts.append(f"{key} {value}")
    where = " ".join(f"{k} {record[k]}" for k in ("epoch", "step") if k in record)
    head = f"{record.get('event', 'record')}" + (f" ({where})" if where else "")
    return f"{head}: " + "  ".join(parts) if parts else ""


def resume_command(ctx: RunContext) -> str | None:
    """`python runner.py --resume runs/<ts> [the other flags of this run]`, or None without a complete checkpoint."""
    from .checkpoint import CheckpointError, resolve_checkpoint

    if ctx.checkpoint_dir is None or getattr(ctx.args, "inference", False):
        return None
    try:
        resolve_checkpoint(ctx.checkpoint_dir)
    except CheckpointError:
        return None
    target: Path = ctx.checkpoint_dir
    if ctx.run_dir is not None and ctx.checkpoint_dir == ctx.run_dir / "checkpoints":
        target = ctx.run_dir
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "runner.py"
    return shlex.join(["python", program, "--resume", str(target), *_other_flags(ctx.argv)])


def _other_flags(argv: list[str]) -> list[str]:
    kept: list[str] = []
    skip_value = False
    for token in argv:
        if skip_value:
            skip_value = False
            if not token.startswith("-"):
                continue
        name = token.split("=", 1)[0]
        if name in _OWN_FOLDER_FLAGS:
            skip_value = "=" not in token
            continue
        kept.append(token)
    return kept
