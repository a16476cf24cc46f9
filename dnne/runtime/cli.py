"""`run_main`: the entry point of every exported runner.py (flags, config, seeds, device, run dir, then run)."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from .activity import ActivityLog
from .config_check import ConfigError, NodeParams, explain_build_error
from .context import RunContext
from .flags import pack_flag_modules, parse_args
from .metrics import Metrics
from .node import UsageError
from .progress import Progress
from .run_report import start_lines
from .runner import GraphRunner
from .version import __version__

BuildGraph = Callable[[GraphRunner, dict], None]
RUNS_ROOT = Path("runs")  # relative to the working directory: where runs go by default and `--resume latest` looks


def exit_process(code: int) -> NoReturn:
    """Leave the program with `code`. A failed or interrupted run leaves at once (`os._exit` after flushing the
    standard streams; every output file is already closed by `RunContext.finish`): Python's teardown of torch takes
    seconds, and whoever waits on a crashed run should not wait for that."""
    sys.stdout.flush()
    sys.stderr.flush()
    if code != 0:
        os._exit(code)
    sys.exit(code)


def run_main(build_graph: BuildGraph, *, config_path: str | Path, argv: list[str] | None = None) -> int:
    """Parse the runner flags, load config.json, seed, pick the device, build the graph and run it → exit code."""
    started = time.monotonic()
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), message already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        ctx = _make_context(args, Path(config_path))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ctx.started = started
    ctx.process_exits_after_run = True
    ctx.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        runner = GraphRunner(ctx)
        try:
            build_graph(runner, ctx.config)
        except KeyboardInterrupt:
            ctx.finish("sigint", 130)
            return 130
        except Exception as exc:  # noqa: BLE001 - an edited config or a wiring error: report, don't trace
            namespace = getattr(build_graph, "__globals__", {})
            explained = (
                str(exc) if isinstance(exc, ConfigError) else explain_build_error(exc, ctx.config["nodes"], namespace)
            )
            if explained is not None:
                print(f"error: {ctx.config_path}: {explained}", file=sys.stderr)
            else:
                print(
                    f"error: cannot build the graph from {ctx.config_path}: {type(exc).__name__}: {exc}",
                    file=sys.stderr,
                )
            if args.verbose:
                import traceback

                traceback.print_exc()
            ctx.finish("usage", 2)
            return 2
        if not args.quiet:  # only now: a config error is its one message
            for line in start_lines(ctx):
                print(line, file=sys.stderr)
        return runner.run()
    finally:
        ctx.finish("error", 1)  # no-op when the run already wrote its done record
        if args.inference:
            _restore_grad()


def _make_context(args: Any, default_config: Path) -> RunContext:
    config_path = Path(args.config) if args.config else default_config
    config = load_config(config_path)
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UsageError(f"the seed in {config_path} must be an integer, got {seed!r}")
    device = _setup_torch(args, seed)
    run_dir = Path(args.run_dir) if args.run_dir else _timestamped_dir(RUNS_ROOT)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot create the run directory {run_dir}: {exc.strerror or exc}") from None
    checkpoint_dir = None
    if not args.inference:
        checkpoint_dir = Path(args.checkpoint_dir) if args.checkpoint_dir else run_dir / "checkpoints"
        _check_writable(checkpoint_dir)
    resume_dir = resolve_resume(args.resume, args.checkpoint_dir, RUNS_ROOT, config.get("workflow_id"), run_dir)
    metric_paths: list[Path] = [run_dir / "metrics.jsonl"]
    if args.metrics:
        metric_paths.append(Path(args.metrics))
        try:
            kept = rotate_metrics_file(Path(args.metrics))
        except OSError as exc:
            raise UsageError(f"cannot move the earlier records of --metrics {args.metrics}: {exc}") from None
        if kept is not None and not args.quiet:
            print(f"--metrics {args.metrics}: the earlier run's records were moved to {kept}", file=sys.stderr)
    try:
        metrics = Metrics(metric_paths)
    except OSError as exc:
        raise UsageError(f"cannot open the metrics file: {exc}") from None
    for module in pack_flag_modules():  # what the packs' own flags ask for at start (e.g. --tensorboard)
        start = getattr(module, "start", None)
        if start is not None:
            start(args, run_dir, metrics, lambda msg: print(f"warning: {msg}", file=sys.stderr))
    progress = Progress(enabled=False if args.quiet else None)
    workflow = config.get("workflow")
    ctx = RunContext(
        args,
        config=config,
        device=device,
        run_dir=run_dir,
        metrics=metrics,
        progress=progress,
        checkpoint_dir=checkpoint_dir,
        resume_dir=resume_dir,
        seed=seed,
        graph_id=str(workflow) if workflow is not None else None,
    )
    ctx.config_path = config_path
    if args.events:
        try:
            ctx.events = ActivityLog(args.events)
        except OSError as exc:
            metrics.close()
            raise UsageError(f"cannot open the events file {args.events}: {exc.strerror or exc}") from None
    metrics.write(
        {
            "event": "start",
            "seed": seed,
            "device": str(device),
            "threads": args.threads,
            "run_dir": str(run_dir),
            "resume": str(resume_dir) if resume_dir else None,
            "argv": sys.argv[1:],
            "dnne_runtime": __version__,
            "workflow": workflow,
        }
    )
    return ctx


def resolve_resume(
    value: str | None, checkpoint_dir: str | None, runs_root: Path, workflow_id: Any, this_run: Path
) -> Path | None:
    """The checkpoint folder `--resume` names: a run folder (`runs/<ts>`), a checkpoint folder
    (`runs/<ts>/checkpoints`, or one `latest/` inside it), or `latest` / no value: the newest run under `runs_root`
    with a checkpoint (of this workflow, when both record its id). UsageError saying what to pass instead."""
    from .checkpoint import CheckpointError, resolve_checkpoint

    if value is None:
        return None
    if value == "" and checkpoint_dir:
        value = checkpoint_dir
    if value in ("", "latest"):
        newest = newest_checkpointed_run(runs_root, workflow_id, exclude=this_run)
        if newest is None:
            flag = f"--resume {value}" if value else "--resume"
            raise UsageError(
                f"{flag}: no run under {runs_root}/ has a checkpoint yet; train first (a run writes "
                "runs/<ts>/checkpoints/), or pass --resume runs/<ts>"
            )
        return newest
    path = Path(value)
    if not path.is_dir():
        raise UsageError(
            f"--resume: no folder at {path}; pass a run folder (runs/<ts>), its checkpoints/ folder, or latest"
        )
    for candidate in (path, path / "checkpoints"):
        try:
            resolve_checkpoint(candidate)
        except CheckpointError:
            continue
        return candidate
    raise UsageError(
        f"--resume {path}: no checkpoint in it (looked for checkpoint.json, latest/, previous/ and checkpoints/); "
        "a run stopped before its first checkpoint cannot be resumed: start it again"
    )


def newest_checkpointed_run(runs_root: Path, workflow_id: Any = None, *, exclude: Path | None = None) -> Path | None:
    """`<run>/checkpoints` of the run under `runs_root` whose latest checkpoint was written last."""
    from .checkpoint import CheckpointError, resolve_checkpoint

    best: tuple[float, Path] | None = None
    try:
        runs = [p for p in runs_root.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return None
    for run in runs:
        if exclude is not None and run.resolve() == exclude.resolve():
            continue
        if workflow_id and _run_workflow_id(run) not in (None, workflow_id):
            continue  # another export's run in the same runs/ folder
        try:
            stamp = (resolve_checkpoint(run / "checkpoints") / "checkpoint.json").stat().st_mtime
        except (CheckpointError, OSError):
            continue
        if best is None or stamp > best[0]:
            best = (stamp, run / "checkpoints")
    return best[1] if best else None


def _run_workflow_id(run: Path) -> Any:
    try:
        return json.loads((run / "config.json").read_text(encoding="utf-8")).get("workflow_id")
    except (OSError, ValueError, AttributeError):
        return None


def rotate_metrics_file(path: Path) -> Path | None:
    """`--metrics PATH` holds one run: a non-empty PATH from an earlier run becomes PATH.1 (PATH.2, … the next free
    number, so a higher number is a newer run); returns where it went, None when there was nothing to keep."""
    try:
        if path.stat().st_size == 0:
            return None
    except FileNotFoundError:
        return None
    n = 1
    while path.with_name(f"{path.name}.{n}").exists():
        n += 1
    kept = path.with_name(f"{path.name}.{n}")
    os.replace(path, kept)
    return kept


def load_config(path: Path) -> dict:
    """Read config.json; a missing or malformed file is a UsageError naming the path."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"config file {path} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(config, dict):
        raise UsageError(f"config file {path} must hold a JSON object, got {type(config).__name__}")
    nodes = config.setdefault("nodes", {})
    if not isinstance(nodes, dict):
        raise UsageError(f"config file {path}: 'nodes' must be an object of node id → parameters")
    config["nodes"] = NodeParams(nodes)
    return config


def _setup_torch(args: Any, seed: int):
    """Seed python/numpy/torch, set torch threads and grad mode; returns the resolved device (str without torch)."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass
    try:
        import torch
    except ImportError:
        if args.device == "cuda":
            print("warning: --device cuda requested but torch is not installed; using cpu", file=sys.stderr)
        return "cpu"
    torch.manual_seed(seed)
    torch.set_num_threads(args.threads)
    if args.inference:
        torch.set_grad_enabled(False)
    if args.device == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if args.device == "cuda":
        print("warning: --device cuda requested but CUDA is not available; using cpu", file=sys.stderr)
    return torch.device("cpu")


def _restore_grad() -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_grad_enabled(True)


def _timestamped_dir(parent: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    candidate = parent / stamp
    n = 1
    while candidate.exists():
        candidate = parent / f"{stamp}-{n}"
        n += 1
    return candidate


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the checkpoint directory {directory}: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"the checkpoint directory {directory} is not writable")
