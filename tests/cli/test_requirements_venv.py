"""The exported runner runs in a fresh venv that has only the export's requirements.txt installed (no dnne).

torch is installed first, from the local CPU wheel named by pip's find-links (never resolved from an index: an
unpinned torch in a fresh venv would download a multi-GB CUDA build); the test skips when that wheel is missing or
cannot be installed offline. The venv is built once per session (about a minute).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from dnne.runtime.data.idx import write_idx

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = "examples/mnist_mlp.json"
PIP_TIMEOUT = 900


def _env(bin_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    if bin_dir is not None:
        env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = str(bin_dir.parent)
    return env


def _run(argv: list, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _tail(proc: subprocess.CompletedProcess, size: int = 3000) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout[-size:]}\nstderr:\n{proc.stderr[-size:]}"


def _find_links() -> list[Path]:
    """The local wheel folders pip is configured with (PIP_FIND_LINKS and `pip config` find-links)."""
    values = os.environ.get("PIP_FIND_LINKS", "").split()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, env=_env()
    )
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith("find-links"):
            values += shlex.split(value.strip().strip("'\""))
    folders = []
    for value in values:
        path = Path(value.removeprefix("file://"))
        if path.is_dir() and path not in folders:
            folders.append(path)
    return folders


def _local_torch_wheel(version: str) -> Path | None:
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    for folder in _find_links():
        for wheel in sorted(folder.glob(f"torch-{version}*-{tag}-*.whl")):
            name = wheel.name.split("-")[1]
            if name == version or name.startswith(version + "+"):
                return wheel
    return None


@pytest.fixture(scope="session")
def clean_venv(tmp_path_factory) -> Path:
    """A fresh venv (with pip) holding only the local torch CPU wheel and its dependencies; returns its python."""
    torch_version = metadata.version("torch").split("+")[0]
    wheel = _local_torch_wheel(torch_version)
    if wheel is None:
        pytest.skip(f"no local torch-{torch_version} wheel in pip's find-links; this test never downloads torch")
    root = tmp_path_factory.mktemp("clean-venv") / "venv"
    venv.EnvBuilder(with_pip=True, clear=True, symlinks=True).create(root)
    python = root / "bin" / "python"
    proc = _run(
        [python, "-m", "pip", "install", "--no-input", "--no-compile", "--quiet", wheel],
        root,
        _env(python.parent),
        PIP_TIMEOUT,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot install the local torch wheel {wheel.name} offline:\n{_tail(proc, 1500)}")
    return python


@pytest.fixture(scope="session")
def mnist_export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("venv-export") / "mnist_mlp"
    proc = _run([sys.executable, "-m", "dnne", "export", WORKFLOW, "-o", out], REPO, _env(), 300)
    assert proc.returncode == 0, _tail(proc)
    return out


def _tiny_mnist(folder: Path, n_train: int = 2048, n_test: int = 256) -> Path:
    """MNIST-shaped IDX files (random 28×28 uint8 images, labels 0..9); enough for 30 steps of 64."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,), dtype=np.uint8))
    return folder


def test_runner_runs_with_only_its_requirements(clean_venv, mnist_export, tmp_path):
    env = _env(clean_venv.parent)
    torch_version = metadata.version("torch")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f"torch=={torch_version}\n", encoding="utf-8")  # never let pip swap torch
    proc = _run(
        [
            clean_venv,
            "-m",
            "pip",
            "install",
            "--no-input",
            "--no-compile",
            "--quiet",
            "-c",
            constraints,
            "-r",
            mnist_export / "requirements.txt",
        ],
        tmp_path,
        env,
        PIP_TIMEOUT,
    )
    assert proc.returncode == 0, f"pip install -r requirements.txt failed:\n{_tail(proc)}"

    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('dnne') is None else 1)"
    for cwd in (tmp_path, mnist_export):
        proc = _run([clean_venv, "-c", probe], cwd, env, 60)
        assert proc.returncode == 0, f"dnne is importable in the clean venv (cwd {cwd}); the test proves nothing"
    proc = _run([clean_venv, "-c", "import torch; print(torch.__version__)"], tmp_path, env, 120)
    assert proc.returncode == 0 and proc.stdout.strip() == torch_version, _tail(proc)

    data = _tiny_mnist(tmp_path / "data")
    metrics = tmp_path / "metrics.jsonl"
    args = ["--epochs", "1", "--max-steps", "30", "--data-dir", data, "--metrics", metrics]
    args += ["--run-dir", tmp_path / "run", "--quiet", "--threads", "1", "--timeout", "300s"]
    proc = _run([clean_venv, mnist_export / "runner.py", *args], tmp_path, env, 420)
    assert proc.returncode == 0, _tail(proc)
    records = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    done = [r for r in records if r.get("event") == "done"]
    assert len(done) == 1 and done[0]["exit_code"] == 0, records[-5:]
    assert done[0]["reason"] in ("done", "max_steps"), done[0]
