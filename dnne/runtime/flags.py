"""The runner's command-line flags (every exported runner.py accepts the same set) and duration parsing."""

from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """`30s`, `5m`, `1h30m`, `90` (seconds) or `1.5` → seconds. Raises ValueError on anything else."""
    raw = str(text).strip().lower()
    match = _DURATION.match(raw)
    if not raw or match is None or not any(match.groupdict().values()):
        raise ValueError(f"invalid duration {text!r} (expected e.g. 30s, 5m, 1h30m or a number of seconds)")
    hours, minutes, seconds = (float(match.group(k) or 0) for k in ("h", "m", "s"))
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"duration must be > 0, got {text!r}")
    return total


def _duration_arg(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
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


def build_parser(prog: str | None = None, description: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description=description or "Run an exported dnne graph.",
        epilog="exit codes: 0 done, 1 node error, 2 usage/config error, 3 stall, 4 disk full, 130 SIGINT, 143 SIGTERM",
    )
    run = p.add_argument_group("run")
    run.add_argument("--epochs", type=_positive_int, help="number of epochs (overrides the workflow value)")
    run.add_argument("--max-steps", type=_positive_int, help="stop after this many training/env steps")
    run.add_argument("--timeout", type=_duration_arg, help="stop after a duration: 30s, 5m, 1h30m or seconds")
    run.add_argument("--test-mode", action="store_const", const=30.0, dest="timeout", help=argparse.SUPPRESS)
    run.add_argument("--inference", action="store_true", help="no training: gradients off, no checkpoints written")
    run.add_argument(
        "--no-implicit-eval",
        action="store_true",
        help="a workflow without an Evaluate node whose data set has a test split is evaluated on it after each "
        "epoch (records marked implicit_eval); this turns that off",
    )
    run.add_argument("--stall-timeout", type=_duration_arg, help="exit 3 when no node makes progress this long")
    run.add_argument("--config", metavar="PATH", help="config.json to use instead of the one next to runner.py")
    hw = p.add_argument_group("hardware and reproducibility")
    hw.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: auto (cuda if any)")
    hw.add_argument("--seed", "--fixed-seed", type=_seed, help="random seed (default: the config's seed, else 0)")
    hw.add_argument("--threads", type=_positive_int, default=1, help="torch CPU threads (default 1)")
    io = p.add_argument_group("files")
    io.add_argument("--data-dir", metavar="DIR", help="where datasets are read from")
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
    io.add_argument("--tensorboard", action="store_true", help="also log scalars for TensorBoard (if installed)")
    env = p.add_argument_group("environments")
    env.add_argument("--num-envs", type=_positive_int, help="number of parallel environments")
    env.add_argument(
        "--episodes",
        type=_positive_int,
        help="with --inference: run this many episodes, then report the mean and spread of their return (default 10)",
    )
    env.add_argument("--render", "--visual", action="store_true", help="show the environment")
    env.add_argument("--headless", action="store_false", dest="render", help=argparse.SUPPRESS)
    env.add_argument("--realtime", action="store_true", help="step environments at wall-clock speed")
    env.add_argument(
        "--isaacgym-path",
        metavar="DIRS",
        help="folders to import Isaac Gym from (isaacgym/python, IsaacGymEnvs; ':'-separated); "
        "default $DNNE_ISAACGYM_PATH. Never taken from the workflow",
    )
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
