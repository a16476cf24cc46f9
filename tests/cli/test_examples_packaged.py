"""The example workflows ship inside the package (dnne/examples → ../examples) and `dnne examples DIR` copies them out.

The wheel is built from a copy of the tree as a clone has it (tracked and new, not ignored files; symlinks kept as
symlinks), so building never writes build/ or egg-info into the working tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dnne.cli import app, bundled_examples

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _checkout_copy(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, target = REPO / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_file():
            shutil.copy2(source, target)
    return dest


def _example_names() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.json"))


def test_package_examples_are_the_repository_examples():
    link = REPO / "dnne" / "examples"
    assert link.is_symlink() and os.readlink(link) == "../examples", "dnne/examples must stay a relative symlink"
    assert len(_example_names()) >= 5
    assert sorted(bundled_examples()) == _example_names()
    assert all(bundled_examples()[n] == (EXAMPLES / n).read_bytes() for n in _example_names())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not shutil.which("git") or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to know which files a clone has")
    src = _checkout_copy(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [built] = out.glob("dnne-*.whl")
    return built


def test_wheel_contains_every_example(wheel):
    with zipfile.ZipFile(wheel) as archive:
        inside = {name: archive.read(name) for name in archive.namelist() if name.startswith("dnne/examples/")}
    assert sorted(inside) == [f"dnne/examples/{n}" for n in _example_names()]
    for name in _example_names():
        assert inside[f"dnne/examples/{name}"] == (EXAMPLES / name).read_bytes(), name


def test_installed_wheel_reads_and_copies_its_examples(wheel, tmp_path):
    """A non-editable install: the examples come from the installed package, read through importlib.resources."""
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = (
        "import json, sys, dnne\n"
        "from dnne.cli import bundled_examples, main\n"
        "print(json.dumps({'file': dnne.__file__, 'names': sorted(bundled_examples())}))\n"
        "sys.stdout.flush()\n"
        "main(['examples', sys.argv[1]])\n"
    )
    # PYTHONPATH comes before the editable install's finder, so `import dnne` is the installed copy
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    out = tmp_path / "copied"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = json.loads(proc.stdout.splitlines()[0])
    assert Path(info["file"]).resolve().is_relative_to(site.resolve()), info["file"]
    assert info["names"] == _example_names()
    assert sorted(p.name for p in out.iterdir()) == _example_names()


def test_dnne_examples_copies_every_example_and_refuses_to_overwrite(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["examples"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    default = tmp_path / "dnne-examples"
    assert sorted(p.name for p in default.iterdir()) == _example_names()
    for name in _example_names():
        assert (default / name).read_bytes() == (EXAMPLES / name).read_bytes()
        assert str(Path("dnne-examples") / name) in result.stdout  # it lists what it wrote

    target = tmp_path / "mine"
    assert runner.invoke(app, ["examples", str(target)]).exit_code == 0
    again = runner.invoke(app, ["examples", str(target)])  # identical files: nothing to overwrite
    assert again.exit_code == 0 and "unchanged" in again.stdout

    edited = target / _example_names()[0]
    edited.write_text("my own edits\n")
    (target / _example_names()[1]).unlink()
    refused = runner.invoke(app, ["examples", str(target)])
    assert refused.exit_code == 2 and "--force" in refused.output and _example_names()[0] in refused.output
    assert edited.read_text() == "my own edits\n"
    assert not (target / _example_names()[1]).exists(), "a refused copy writes nothing"

    forced = runner.invoke(app, ["examples", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert edited.read_bytes() == (EXAMPLES / edited.name).read_bytes()
    assert sorted(p.name for p in target.iterdir()) == _example_names()

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert runner.invoke(app, ["examples", str(a_file)]).exit_code == 2
