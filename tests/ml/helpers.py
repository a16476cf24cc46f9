"""Export a workflow into a temp folder and run its runner.py in a subprocess (1 torch thread)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dnne.codegen.export import export_workflow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def export(source: Any, out_dir: Path) -> Path:
    export_workflow(source, out_dir)
    return out_dir


def run_runner(export_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)  # the export must run on its own (its dnne_runtime copy), not from the repository
    return subprocess.run(
        [sys.executable, "runner.py", "--quiet", "--threads", "1", *args],
        cwd=export_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def records(metrics: Path, event: str) -> list[dict]:
    out = []
    for line in metrics.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec.get("event") == event:
            out.append(rec)
    return out


def strip_timing(record: dict) -> dict:
    """An epoch record without its wall-clock fields (what must be identical between runs)."""
    return {k: v for k, v in record.items() if k not in ("t", "epoch_time_s", "samples_per_s")}
