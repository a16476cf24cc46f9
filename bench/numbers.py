#!/usr/bin/env python3
"""The numbers in README's "Measured" table, measured now on this machine and printed as a markdown table.

Quick mode (about a minute on 2 cores): the main job (examples/mnist_mlp.json exported and trained 2 epochs on the
real MNIST, as `make mnist` does), the Cartpole PPO example until it stops by itself, and the export of a
1,000-node workflow. `--full` adds examples/mnist_cnn.json for 3 epochs (minutes on a CPU).
`--write-readme` replaces the table between README's two marker comments with the one printed.

Usage: python bench/numbers.py [--full] [--write-readme] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import os
import sys

# This file shares its name with the standard library's `numbers` (which jinja2 and torch import): take this script's
# own folder off the import path before anything imports it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

README = ROOT / "README.md"
BEGIN_MARKER = "<!-- numbers:begin (written by bench/numbers.py --write-readme; do not edit by hand) -->"
END_MARKER = "<!-- numbers:end -->"


def export(workflow: Path, out_dir: Path) -> Path:
    from dnne.codegen.export import export_workflow

    return Path(export_workflow(ROOT / workflow, out_dir).out_dir)


def run_runner(export_dir: Path, run_dir: Path, *args: str) -> tuple[list[dict], float]:
    """Run an exported runner.py in a child process; its metrics records and the process's wall time."""
    metrics = run_dir / "metrics.jsonl"
    cmd = [sys.executable, str(export_dir / "runner.py"), "--run-dir", str(run_dir), "--metrics", str(metrics)]
    start = time.perf_counter()
    proc = subprocess.run([*cmd, "--quiet", *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{export_dir.name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in metrics.read_text().splitlines()], wall


def of_event(records: list[dict], event: str) -> list[dict]:
    return [r for r in records if r.get("event") == event]


def mnist(workflow: str, epochs: int, device: str, tmp: Path) -> dict:
    export_dir = export(Path(workflow), tmp / "export")
    records, wall = run_runner(export_dir, tmp / "run", "--epochs", str(epochs), "--device", device)
    per_epoch = of_event(records, "epoch")
    return {
        "accuracies": [r["test_accuracy"] for r in per_epoch],
        "training_s": sum(r["epoch_time_s"] for r in per_epoch),
        "process_s": wall,
    }


def cartpole(device: str, tmp: Path) -> dict:
    export_dir = export(Path("examples/cartpole_ppo.json"), tmp / "export")
    records, wall = run_runner(export_dir, tmp / "run", "--device", device)
    summary = of_event(records, "summary")[-1]
    return {**summary, "process_s": wall}


def thousand_node_export(tmp: Path) -> dict:
    """250 chains IntConstant → PrintValue → PrintValue → PrintValue of the real catalog: best of 3 in memory (CPU
    time of this process, so ruff, which runs in a child process, is left out), then one real export with ruff."""
    from dnne.catalog.registry import load_catalog
    from dnne.codegen.export import build_workflow, export_workflow
    from dnne.workflow.load import load_workflow
    from tests.workflow.builder import WorkflowBuilder

    catalog = load_catalog()
    builder = WorkflowBuilder(catalog)
    for chain in range(250):
        previous, output = builder.add("IntConstant", value=chain), "INT"
        for _ in range(3):
            printer = builder.add("PrintValue", prefix=f"chain {chain}")
            builder.link(previous, output, printer, "value")
            previous, output = printer, "value"
    doc = builder.to_ui()
    assert len(doc["nodes"]) == 1000
    build_workflow(doc, catalog=catalog, name="big")  # warm up: imports, template compilation

    def best_cpu(fn) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
        return min(times)

    load_s = best_cpu(lambda: load_workflow(doc, catalog, name="big"))
    build_s = best_cpu(lambda: build_workflow(doc, catalog=catalog, name="big"))
    tmp.mkdir(parents=True, exist_ok=True)
    workflow_file = tmp / "big.json"
    workflow_file.write_text(json.dumps(doc))
    start = time.perf_counter()
    export_workflow(workflow_file, tmp / "export", catalog=catalog)
    return {"load_s": load_s, "build_s": build_s, "export_wall_s": time.perf_counter() - start}


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{os.cpu_count()} cores ({cpu}){gpu}, load average {load:.1f}, torch {torch.__version__}"


def commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (proc.stdout.strip() or "unknown") + (" + uncommitted changes" if dirty else "")


def percent(x: float) -> str:
    return f"{100 * x:.2f} %"


def table(args: argparse.Namespace) -> str:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="dnne-numbers-") as tmp_name:
        tmp = Path(tmp_name)
        main = mnist("examples/mnist_mlp.json", 2, args.device, tmp / "mlp")
        rows.append(
            (
                "**main job** (`make mnist`: examples/mnist_mlp.json, 2 epochs, real MNIST 60k/10k)",
                f"**{percent(main['accuracies'][-1])}** test accuracy (epoch 1: {percent(main['accuracies'][0])}); "
                f"training {main['training_s']:.1f} s, runner process {main['process_s']:.1f} s",
            )
        )
        if args.full:
            cnn = mnist("examples/mnist_cnn.json", 3, args.device, tmp / "cnn")
            rows.append(
                (
                    "examples/mnist_cnn.json, 3 epochs, real MNIST",
                    f"**{percent(cnn['accuracies'][-1])}** ("
                    + " → ".join(percent(a) for a in cnn["accuracies"])
                    + f"); training {cnn['training_s']:.1f} s, runner process {cnn['process_s']:.1f} s",
                )
            )
        ppo = cartpole(args.device, tmp / "cartpole")
        rows.append(
            (
                "examples/cartpole_ppo.json (256 envs, torch Cartpole), runs until it stops by itself",
                ("solved, stopped by itself" if ppo["reason"] == "done" else f"stopped early ({ppo['reason']})")
                + f": mean episode length {ppo['mean_episode_length']:.0f} of 500 after "
                f"**{ppo['env_steps']:,} env steps**, {ppo['wall_s']:.1f} s in the graph, "
                f"runner process {ppo['process_s']:.1f} s",
            )
        )
        big = thousand_node_export(tmp / "big")
        rows.append(
            (
                "export of a 1,000-node workflow",
                f"{big['build_s'] * 1000:.0f} ms CPU in memory, ruff excluded (of which loading + validating "
                f"{big['load_s'] * 1000:.0f} ms); written to disk with ruff {big['export_wall_s'] * 1000:.0f} ms wall",
            )
        )
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = (
        "python bench/numbers.py"
        + (" --full" if args.full else "")
        + (f" --device {args.device}" if args.device != "auto" else "")
    )
    lines = [
        f"Printed by `{command}` at commit {commit()} on {date}; machine: {machine()}.",
        "",
        "| what | result |",
        "|---|---|",
        *(f"| {what} | {result} |" for what, result in rows),
    ]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text(encoding="utf-8")
    if readme.count(BEGIN_MARKER) != 1 or readme.count(END_MARKER) != 1:
        sys.exit(f"README.md must hold the marker lines once each:\n{BEGIN_MARKER}\n{END_MARKER}")
    head, rest = readme.split(BEGIN_MARKER)
    _, tail = rest.split(END_MARKER)
    README.write_text(f"{head}{BEGIN_MARKER}\n{text}\n{END_MARKER}{tail}", encoding="utf-8")
    print(f"wrote the table into {README}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also train examples/mnist_cnn.json for 3 epochs")
    parser.add_argument("--write-readme", action="store_true", help="replace the table between README's markers")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="the runners' --device")
    args = parser.parse_args()
    text = table(args)
    print(text)
    if args.write_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
