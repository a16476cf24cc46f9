"""The runner's command-line flags: the core's groups, plus one group from each runtime pack vendored beside it.

A pack contributes flags through a `flags` module in its folder (`dnne_runtime/<pack>/flags.py`) that defines
`add_arguments(parser)` and, when a flag of its own needs work at start, `start(args, run_dir, metrics, warn)`.
The core never imports a pack by name: it lists the pack folders present, so an MNIST runner (no envs pack) offers
no `--num-envs`, and a Cartpole runner (no ml pack) no `--epochs`.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from types import ModuleType

from .durations import EXAMPLES, parse_duration

__all__ = ["build_parser", "default_args", "duration_arg", "pack_flag_modules", "parse_args", "positive_int"]

EXIT_CODES = "exit codes: 0 done, 1 node error, 2 usage/config error, 3 stall, 4 disk full, 130 SIGINT, 143 SIGTERM"


def duration_arg(text: str) -> float:
    """argparse type: a duration (see `durations.parse_duration`) → seconds."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None


def pack_flag_modules() -> list[ModuleType]:
    """The `flags` modules of the runtime packs present beside this file, in name order (a pack without flags is
    skipped). Only pack folders that exist are imported, so the core runs whichever packs an export vendored."""
    here = Path(__file__).resolve().parent
    names = sorted(p.parent.name for p in here.glob("*/flags.py") if (p.parent / "__init__.py").is_file())
    return [importlib.import_module(f".{name}.flags", __package__) for name in names]


def build_parser(prog: str | None = None, description: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description or "Run an exported dnne graph.", epilog=EXIT_CODES)
    run = p.add_argument_group("run")
    run.add_argument("--max-steps", type=positive_int, help="stop after this many training/env steps")
    run.add_argument("--timeout", type=duration_arg, help=f"stop after a duration: {EXAMPLES}")
    run.add_argument("--test-mode", action="store_const", const=30.0, dest="timeout", help=argparse.SUPPRESS)
    run.add_argument("--inference", action="store_true", help="no training: gradients off, no checkpoints written")
    run.add_argument("--stall-timeout", type=duration_arg, help="exit 3 when no node makes progress this long")
    run.add_argument("--config", metavar="PATH", help="config.json to use instead of the one next to runner.py")
    hw = p.add_argument_group("hardware and reproducibility")
    hw.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: auto (cuda if any)")
    hw.add_argument("--seed", "--fixed-seed", type=_seed, help="random seed (default: the config's seed, else 0)")
    hw.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1)")
    io = p.add_argument_group("files")
    io.add_argument("--run-dir", metavar="DIR", help="output folder (default runs/<UTC timestamp>/)")
    io.add_argument("--checkpoint-dir", "--save-checkpoint-dir", metavar="DIR", help="default <run-dir>/checkpoints")
    io.add_argument(
        "--resume",
        "--load-checkpoint-dir",
        nargs="?",
        const="",
        default=None,
        metavar="RUN",
        help="resume a run: a run folder (runs/<ts>), its checkpoints folder, or 'latest' (the newest run under "
        "./runs with a checkpoint, also what --resume alone means; with --checkpoint-dir DIR: DIR)",
    )
    io.add_argument(
        "--metrics",
        metavar="PATH",
        help="also write metrics as JSON lines to PATH; one run per file: an existing PATH from an earlier run is "
        "moved to PATH.1 (then PATH.2, …) first",
    )
    io.add_argument("--events", metavar="PATH", help="write node activity as JSON lines to PATH (~10 records/s)")
    for module in pack_flag_modules():
        module.add_arguments(p)
    out = p.add_argument_group("output")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    out.add_argument("--verbose", "-v", action="store_true", help="more messages")
    return p


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    """Parse runner flags (argparse exits with code 2 on a usage error)."""
    return build_parser(prog).parse_args(argv)


def default_args() -> argparse.Namespace:
    """The flags of a runner started with no arguments."""
    return build_parser().parse_args([])
