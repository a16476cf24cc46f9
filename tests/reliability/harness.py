"""Export mnist_mlp (+ a FaultTap) once, write small MNIST IDX data, start runner.py as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dnne.codegen.export import export_workflow
from dnne.runtime.data.idx import write_idx

from .faultpack import TAP_DEFAULTS, TAP_ID, fault_catalog, with_fault_tap

ROOT = Path(__file__).resolve().parents[2]
MNIST_MLP = ROOT / "examples" / "mnist_mlp.json"
GET_BATCH, NETWORK = 3, 4  # node ids in examples/mnist_mlp.json: the tap goes on GetBatch.images → Network.input
N_TRAIN, N_TEST, BATCH = 640, 200, 64
STEPS_PER_EPOCH = N_TRAIN // BATCH


def export_mlp_with_tap(out_dir: Path) -> Path:
    workflow = json.loads(MNIST_MLP.read_text(encoding="utf-8"))
    export_workflow(with_fault_tap(workflow, GET_BATCH, "images", NETWORK, "input"), out_dir, catalog=fault_catalog())
    return out_dir


def write_small_mnist(folder: Path, seed: int = 0) -> Path:
    """MNIST-named IDX files: noisy class prototypes (learnable, but not to 100 %)."""
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 256, size=(10, 28, 28)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        images = np.clip(protos[labels] + rng.normal(0.0, 300.0, size=(n, 28, 28)), 0, 255).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


def tap_config(export_dir: Path, dest: Path, **tap: Any) -> Path:
    """A copy of the export's config.json with the FaultTap's parameters replaced (unknown names are refused)."""
    unknown = set(tap) - set(TAP_DEFAULTS)
    assert not unknown, f"unknown FaultTap parameters {unknown}"
    config = json.loads((export_dir / "config.json").read_text(encoding="utf-8"))
    config["nodes"][TAP_ID] = {**TAP_DEFAULTS, **tap}
    dest.write_text(json.dumps(config), encoding="utf-8")
    return dest


@dataclass
class Run:
    proc: subprocess.Popen
    run_dir: Path
    started: float
    resumed_from: int | None = None  # the checkpoint step a `resume()` run started from

    def wait(self, timeout: float = 60) -> tuple[int, float]:
        """Exit code and the wall time at exit (time.time())."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        return code, time.time()

    @property
    def stderr(self) -> str:
        return self.run_dir.with_name(self.run_dir.name + ".stderr").read_text(encoding="utf-8", errors="replace")

    def metrics(self, event: str | None = None) -> list[dict]:
        path = self.run_dir / "metrics.jsonl"
        if not path.exists():
            return []
        recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [r for r in recs if event is None or r.get("event") == event]

    @property
    def checkpoints(self) -> Path:
        return self.run_dir / "checkpoints"


def start(export_dir: Path, data_dir: Path, run_dir: Path, *args: str, config: Path | None = None, **popen: Any) -> Run:
    """Start runner.py (CPU, 1 thread, quiet) in its own folder, as a user would; stderr goes to `<run_dir>.stderr`."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)  # the export runs on its own vendored dnne_runtime
    cmd = [sys.executable, "runner.py", "--quiet", "--threads", "1", "--device", "cpu"]
    cmd += ["--data-dir", str(data_dir), "--run-dir", str(run_dir)]
    if config is not None:
        cmd += ["--config", str(config)]
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(run_dir.with_name(run_dir.name + ".stderr"), "wb") as stderr:  # a file: a pipe could fill up and block
        proc = subprocess.Popen(
            [*cmd, *args], cwd=export_dir, env=env, stdout=subprocess.DEVNULL, stderr=stderr, **popen
        )
    return Run(proc, run_dir, time.time())


def wait_for(path: Path, run: Run, timeout: float = 30) -> dict:
    """The JSON content of a marker file the FaultTap writes, once it exists (fails if the runner exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        if run.proc.poll() is not None:
            raise AssertionError(f"runner exited ({run.proc.returncode}) before {path.name}:\n{run.stderr}")
        time.sleep(0.005)
    run.proc.kill()
    raise AssertionError(f"no {path.name} after {timeout}s")


def send(run: Run, sig: signal.Signals) -> float:
    t = time.time()
    os.kill(run.proc.pid, sig)
    return t


def without_timing(record: dict) -> dict:
    """An epoch record minus its wall-clock fields: what must be identical between runs."""
    return {k: v for k, v in record.items() if k not in ("t", "epoch_time_s", "samples_per_s")}


def resume(export_dir: Path, data_dir: Path, checkpoints: Path, run_dir: Path, *args: str) -> Run:
    """Resume (the export's own config: no fault) from `checkpoints` to epoch 2; the run must succeed."""
    from_step = checkpoint_step(checkpoints)
    run = start(export_dir, data_dir, run_dir, "--epochs", "2", "--resume", str(checkpoints), *args)
    code, _ = run.wait()
    assert code == 0, f"resume failed ({code}):\n{run.stderr}"
    run.resumed_from = from_step
    return run


def assert_same_training(interrupted: Run, resumed: Run, baseline: Run) -> None:
    """Interrupted run (up to the checkpoint resumed from) + resumed run = the uninterrupted run, epoch record for
    epoch record (losses, accuracies, lr, step)."""
    before = [r for r in interrupted.metrics("epoch") if r["step"] <= resumed.resumed_from]
    got = [without_timing(r) for r in before + resumed.metrics("epoch")]
    want = [without_timing(r) for r in baseline.metrics("epoch")]
    assert got == want


def checkpoint_step(checkpoints: Path) -> int:
    return json.loads((checkpoints / "latest" / "checkpoint.json").read_text(encoding="utf-8"))["step"]


def fault_record(run: Run) -> dict:
    (record,) = run.metrics("fault_tap")
    return record
