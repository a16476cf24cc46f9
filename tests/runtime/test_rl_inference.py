"""RL `--inference`: without a trained checkpoint it is exit 2 with the fix (it used to run forever); with one it runs
`--episodes N` episodes (default 10), reports the mean and spread of their return and exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dnne.codegen.export import export_workflow

pytestmark = pytest.mark.timeout(300)
CARTPOLE = Path(__file__).resolve().parents[2] / "examples" / "cartpole_ppo.json"


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory):
    from dnne.catalog import Catalog, rl, robotics

    out = tmp_path_factory.mktemp("rl_inference") / "export"
    export_workflow(CARTPOLE, out, catalog=Catalog(robotics.NODE_TYPES + rl.NODE_TYPES))
    return out


def _run(export_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(export_dir / "runner.py"), "--threads", "1", "--device", "cpu", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=240)


def _records(run_dir: Path, event: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r.get("event") == event]


def test_inference_without_a_trained_checkpoint_is_exit_2_with_the_fix(cartpole, tmp_path):
    proc = _run(cartpole, tmp_path, "--inference", "--run-dir", "r", "--timeout", "60")
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--inference runs a trained policy" in errors[0] and "--resume" in errors[0], errors
    assert "Traceback" not in proc.stderr and "run ended" not in proc.stderr


def test_inference_from_a_trained_run_reports_the_return_over_a_bounded_number_of_episodes(cartpole, tmp_path):
    train = _run(cartpole, tmp_path, "--max-steps", "4096", "--run-dir", "runs/train", "-q")
    assert train.returncode == 0, train.stderr[-2000:]
    proc = _run(cartpole, tmp_path, "--inference", "--resume", "--episodes", "7", "--run-dir", "infer")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (episodes,) = _records(tmp_path / "infer", "episodes")
    assert episodes["episodes"] == 7 and episodes["std_return"] >= 0, episodes
    assert episodes["min_return"] <= episodes["mean_return"] <= episodes["max_return"]
    assert "inference: 7 episodes, return" in proc.stderr and " ± " in proc.stderr, proc.stderr[-2000:]
    assert "final metrics: episodes" in proc.stderr
    default = _run(cartpole, tmp_path, "--inference", "--resume", "runs/train", "--run-dir", "infer10", "-q")
    assert default.returncode == 0 and _records(tmp_path / "infer10", "episodes")[0]["episodes"] == 10
