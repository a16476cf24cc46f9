"""Runner flags of the reporting pack, and the work they ask for at start."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reporting")
    group.add_argument("--tensorboard", action="store_true", help="also log scalars for TensorBoard (if installed)")


def start(args: argparse.Namespace, run_dir: Path, metrics: Any, warn: Callable[[str], None]) -> None:
    """`--tensorboard`: add a TensorBoard sink to the run's metrics (a warning, not an error, without tensorboard)."""
    if not args.tensorboard:
        return
    from .tensorboard import open_logger

    logger = open_logger(run_dir / "tensorboard", log=warn)
    if logger is not None:
        metrics.add_sink(logger)
