"""README's commands, parsed from its ```bash blocks, run as written in a fresh copy of the repository.

The copy holds what a clone would: the tracked files plus the new, not ignored ones (so uncommitted README edits are
tested too), and no exports/, runs/ or .venv. The quick test dry-runs every `make` line (`make -n`) and really runs
the `dnne` lines that take seconds, through the project's .venv (a symlink; PYTHONPATH points `import dnne` at the
copy). The slow test runs `make mnist` and every command after it for real, in an overlay venv that sees the shared
.venv's packages through a .pth file: torch is not reinstalled, and `pip install -e .` there cannot repoint the shared
venv's dnne at a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_VENV = ROOT / ".venv"

# Too long or never-ending (a server) to run here: these are only dry-run (`make -n`) or checked to exist.
DRY_RUN_ONLY = ("make test", "make serve", "make bench", "make fuzz", "make numbers", "make golden")
QUICK_DNNE_COMMANDS = ("validate", "nodes", "export")


def readme_commands(text: str) -> list[str]:
    """Every command line of README's ```bash blocks, in order, without its trailing comment."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


COMMANDS = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def fresh_copy(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_symlink():  # as git checks it out (dnne/examples -> ../examples)
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(source), dest / name)
        elif source.is_file():  # a tracked file deleted in the working tree is not part of the copy
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def run(command: str, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MAKELEVEL")}
    return {**env, **extra}


def failure(command: str, proc: subprocess.CompletedProcess) -> str:
    return (
        f"README command failed as written (exit {proc.returncode}): {command}\n{(proc.stdout + proc.stderr)[-3000:]}"
    )


def test_readme_has_commands_and_they_need_no_activated_venv():
    assert COMMANDS[:2] == ["make mnist", "make test"], "README opens with exactly the two set-up commands"
    bare = [c for c in COMMANDS if not c.startswith(("make ", ".venv/bin/"))]
    assert not bare, f"in a fresh clone only make targets and .venv/bin/… work as written: {bare}"


@pytest.fixture(scope="module")
def quick_copy(tmp_path_factory):
    copy = fresh_copy(tmp_path_factory.mktemp("readme") / "dnne")
    (copy / ".venv").symlink_to(SHARED_VENV)
    return copy


def test_readme_commands_quick(quick_copy):
    env = clean_env(PYTHONPATH=str(quick_copy))
    checked = []
    for command in COMMANDS:
        words = shlex.split(command)
        if words[0] == "make":
            proc = run("make -n " + shlex.join(words[1:]), quick_copy, env, timeout=60)
            assert proc.returncode == 0, failure(f"make -n {command[5:]}", proc)
        elif words[0] == ".venv/bin/dnne" and words[1] in QUICK_DNNE_COMMANDS:
            proc = run(command, quick_copy, env, timeout=300)
            assert proc.returncode == 0, failure(command, proc)
        elif words[:4] == [".venv/bin/python", "-m", "pytest"] or words[:2] == [".venv/bin/python", "-m"]:
            paths = [w for w in words[3:] if not w.startswith("-")] if words[2] == "pytest" else []
            modules = [] if words[2] == "pytest" else [words[2].replace(".", "/") + ".py"]
            missing = [p for p in paths + modules if not (quick_copy / p).exists()]
            assert not missing, f"README command names files a fresh clone lacks: {command}: {missing}"
        else:
            continue  # runs for real in the slow test
        checked.append(command)
    print(f"\nchecked {len(checked)} of {len(COMMANDS)} README commands quickly")
    assert (quick_copy / "exports" / "mnist_mlp" / "runner.py").is_file()  # `dnne export` really wrote the export


def overlay_venv(path: Path) -> None:
    """A venv of the same Python whose site-packages end with the shared venv's (torch, test extras, …)."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = path / "lib" / version / "site-packages"
    (site / "_shared_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # dnne runs the ruff executable next to its Python; only that one is linked, never a script pip may rewrite
    (path / "bin" / "ruff").symlink_to(Path(sysconfig.get_paths()["scripts"]) / "ruff")


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_make_mnist_and_every_command_after_it_run_in_a_fresh_clone(tmp_path):
    copy = fresh_copy(tmp_path / "dnne")
    overlay_venv(copy / ".venv")
    env = clean_env()
    for command in COMMANDS:
        if command.startswith(DRY_RUN_ONLY) or command.startswith(".venv/bin/python -m"):
            continue  # the quick test dry-runs these
        proc = run(command, copy, env, timeout=1800)
        assert proc.returncode == 0, failure(command, proc)
        print(f"\nok: {command}")
        if command == "make mnist":
            epochs = [json.loads(line) for line in (copy / "runs" / "mnist_mlp.jsonl").read_text().splitlines()]
            final = [r for r in epochs if r.get("event") == "epoch"][-1]
            print(f"make mnist: test accuracy {final['test_accuracy']:.4f} after epoch {final['epoch']}")
            assert final["epoch"] == 2
        if "cartpole_ppo.json" in command:  # the example stops by itself once solved, before any step limit
            assert "training stopped (done)" in proc.stdout + proc.stderr, f"{command} stopped before solving"
