"""Golden exports: the whole tree (minus the vendored runtime) must match tests/golden/<case>/expected/ byte for byte."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from golden_cases import EXAMPLES_DIR, GOLDEN_DIR, REGEN_COMMAND, build_case, cases, runtime_of

from dnne.codegen.checks import parse_and_compile
from dnne.codegen.format import lint_code
from dnne.codegen.writer import RUNTIME_DIR, read_tree

CASES = cases()
ML_CASES = ("mnist_mlp", "mnist_cnn", "fashion_mnist_cnn")


def _diff(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    parts = []
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            parts.append(f"missing from the new export: {path}")
        elif path not in expected:
            parts.append(f"new file not in expected/: {path}")
        elif expected[path] != actual[path]:
            diff = difflib.unified_diff(
                expected[path].decode("utf-8", "replace").splitlines(),
                actual[path].decode("utf-8", "replace").splitlines(),
                f"expected/{path}",
                f"new/{path}",
                lineterm="",
            )
            parts.append("\n".join(list(diff)[:200]))
    return "\n".join(parts)


@pytest.mark.parametrize("case", CASES)
def test_golden_tree(case):
    actual = build_case(case)
    expected = read_tree(GOLDEN_DIR / case / "expected")
    if actual != expected:
        pytest.fail(
            f"golden export {case!r} changed:\n{_diff(expected, actual)}\n\n"
            f"If the change is intended, regenerate with: {REGEN_COMMAND}",
            pytrace=False,
        )


@pytest.mark.parametrize("case", CASES)
def test_golden_runner_compiles_and_lints(case):
    runner = (GOLDEN_DIR / case / "expected" / "runner.py").read_text(encoding="utf-8")
    parse_and_compile(runner)
    assert lint_code(runner) == []


@pytest.mark.parametrize("case", CASES)
def test_vendored_runtime_is_dnne_runtime(case):
    """The vendored files are byte copies of dnne/runtime, the whole core among them (packs: what the export uses,
    see tests/codegen/test_vendored_closure.py)."""
    runtime = {k.removeprefix("dnne_runtime/"): v for k, v in runtime_of(case).items()}
    source = read_tree(RUNTIME_DIR)
    assert runtime and all(source[rel] == data for rel, data in runtime.items())
    assert {rel for rel in source if "/" not in rel} <= set(runtime)


def test_every_example_has_a_golden_case():
    examples = sorted(p.stem for p in EXAMPLES_DIR.glob("*.json"))
    missing = [name for name in examples if name not in CASES]
    assert not missing, f"examples without a golden case: {missing}; run {REGEN_COMMAND}"
    for name in examples:
        example = (EXAMPLES_DIR / f"{name}.json").read_bytes()
        assert example == (GOLDEN_DIR / name / "workflow.json").read_bytes(), f"run {REGEN_COMMAND}"


def _run_export(case: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    out = tmp_path / "export"
    shutil.copytree(GOLDEN_DIR / case / "expected", out)
    for rel, data in runtime_of(case).items():  # the runtime this export vendors, not the whole dnne/runtime
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "runner.py", "--quiet", "--threads", "1", "--run-dir", str(tmp_path / "run"), *args],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_testpack_golden_runs(tmp_path):
    proc = _run_export("testpack_chain", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("extra=10") == 4


# -- the example workflows run a few steps (they exist once the node packs and examples are in) -----------------------

RUN_ARGS = {
    "mnist_mlp": ["--epochs", "1", "--max-steps", "3"],
    "mnist_cnn": ["--epochs", "1", "--max-steps", "2"],
    "fashion_mnist_cnn": ["--epochs", "1", "--max-steps", "2"],
    "cartpole_ppo": ["--max-steps", "2", "--num-envs", "8"],
    "ant_ppo": ["--max-steps", "1", "--num-envs", "2"],
}


def _tiny_idx_data(root: Path) -> Path:
    """256 training and 64 test images (28×28, random) in IDX files, for MNIST and Fashion-MNIST alike."""
    import numpy as np

    from dnne.runtime.data.idx import write_idx

    rng = np.random.default_rng(0)
    for folder in (root, root / "FashionMNIST" / "raw"):
        folder.mkdir(parents=True, exist_ok=True)
        for prefix, n in (("train", 256), ("t10k", 64)):
            write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
            write_idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, (n,), dtype=np.uint8))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in RUN_ARGS if c in CASES] or [pytest.param("none", marks=pytest.mark.skip)])
def test_example_runs_a_few_steps(case, tmp_path):
    args = list(RUN_ARGS[case]) + ["--timeout", "240s", "--checkpoint-dir", str(tmp_path / "ckpt")]
    if case in ML_CASES:
        args += ["--data-dir", str(_tiny_idx_data(tmp_path / "data"))]
    proc = _run_export(case, tmp_path, *args)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
