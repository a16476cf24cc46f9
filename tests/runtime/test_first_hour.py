"""What a first-hour user sees: where the run's files are (at start and end), the exact command that resumes an
interrupted run, `--resume` taking a run folder, a checkpoint folder, `latest` or nothing, and `--metrics PATH`
starting a new file per run."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)
TOY = Path(__file__).with_name("toy_graph.py")


def _run(cwd: Path, *args: str, **train) -> subprocess.CompletedProcess:
    config = cwd / "config.json"
    if not config.exists() or train:
        config.write_text(json.dumps({"nodes": {"1": {}, "2": train}}))
    return subprocess.run(
        [sys.executable, str(TOY), "--config", "config.json", *args],
        cwd=cwd, capture_output=True, text=True, timeout=100,
    )  # fmt: skip


def _resumed_at(proc: subprocess.CompletedProcess) -> int:
    found = re.search(r"resuming at step (\d+)", proc.stdout)
    assert found, f"did not resume:\n{proc.stdout[-500:]}\n{proc.stderr[-1500:]}"
    return int(found.group(1))


def _checkpoint_step(run_dir: Path) -> int:
    return json.loads((run_dir / "checkpoints" / "latest" / "checkpoint.json").read_text())["step"]


def test_an_interrupted_run_prints_its_files_and_the_exact_command_that_resumes_it(tmp_path):
    interrupted = _run(tmp_path, "--max-steps", "40", sigterm_at=5)
    assert interrupted.returncode == 143, interrupted.stderr
    err = interrupted.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    folder = Path("runs") / run_dir.name
    for line in (f"run folder:    {folder}", f"metrics file:  {folder / 'metrics.jsonl'}", "checkpoints:   "):
        assert err.count(line) == 2, f"{line!r} not printed at start and end:\n{err}"  # start and end
    command = re.search(r"^to resume: (.+)$", err, re.M)
    assert command, err
    argv = shlex.split(command.group(1))
    assert argv[:4] == ["python", TOY.name, "--resume", str(folder)] and "--max-steps" in argv, argv
    resumed = subprocess.run(
        [sys.executable, str(TOY), *argv[2:]], cwd=tmp_path, capture_output=True, text=True, timeout=100
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _resumed_at(resumed) == _checkpoint_step(run_dir) >= 5
    assert "to resume:" not in resumed.stderr  # a finished run has nothing to resume


def test_a_run_that_finishes_prints_no_resume_command_and_quiet_is_one_line(tmp_path):
    done = _run(tmp_path, "--max-steps", "3", "--quiet")
    assert done.returncode == 0 and done.stderr == "run ended: max_steps (exit 0)\n", done.stderr
    stopped = _run(tmp_path, "--max-steps", "40", "--quiet", sigterm_at=2)
    assert stopped.returncode == 143
    (line,) = stopped.stderr.strip().splitlines()[-1:]
    assert line.startswith("run ended: sigterm (exit 143); to resume: python toy_graph.py --resume runs/"), line


@pytest.mark.parametrize("how", ["run folder", "checkpoint folder", "latest", "bare"])
def test_resume_takes_a_run_folder_a_checkpoint_folder_latest_or_nothing(tmp_path, how):
    first = _run(tmp_path, "--max-steps", "40", "-q", sigterm_at=4)
    assert first.returncode == 143, first.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    value = {
        "run folder": [str(run_dir.relative_to(tmp_path))],
        "checkpoint folder": [str(run_dir / "checkpoints")],
        "latest": ["latest"],
        "bare": [],
    }[how]
    resumed = _run(tmp_path, "--max-steps", "6", "--resume", *value, sigterm_at=0)
    assert resumed.returncode == 0, resumed.stderr
    assert _resumed_at(resumed) == _checkpoint_step(run_dir) >= 4


def test_resume_latest_picks_the_newest_run_with_a_checkpoint(tmp_path):
    assert _run(tmp_path, "--max-steps", "40", "-q", sigterm_at=3).returncode == 143
    older = set((tmp_path / "runs").iterdir())
    assert _run(tmp_path, "--max-steps", "40", "-q", sigterm_at=9).returncode == 143
    (newest,) = set((tmp_path / "runs").iterdir()) - older
    (tmp_path / "runs" / "zzz-empty-run").mkdir()  # newest by name, but no checkpoint: skipped
    resumed = _run(tmp_path, "--max-steps", "12", "--resume", "latest", sigterm_at=0)
    assert _resumed_at(resumed) == _checkpoint_step(newest) >= 9


def test_resume_of_a_run_folder_without_checkpoints_says_so(tmp_path):
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    proc = _run(tmp_path, "--resume", "runs/r1")
    assert proc.returncode == 2 and "--resume runs/r1: no checkpoint in it" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "run ended" not in proc.stderr


def test_metrics_path_holds_one_run_and_earlier_runs_are_moved_aside(tmp_path):
    for steps in ("2", "3", "4"):
        proc = _run(tmp_path, "--max-steps", steps, "--metrics", "m.jsonl", "-q")
        assert proc.returncode == 0, proc.stderr

    def steps_of(name):
        records = [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        assert [r["event"] for r in records if r.get("event") == "start"] == ["start"], f"{name} mixes runs"
        return [r for r in records if r.get("event") == "done"][0]["exit_code"], len(records)

    assert sorted(p.name for p in tmp_path.glob("m.jsonl*")) == ["m.jsonl", "m.jsonl.1", "m.jsonl.2"]
    for name in ("m.jsonl", "m.jsonl.1", "m.jsonl.2"):
        assert steps_of(name)[0] == 0
    help_text = subprocess.run([sys.executable, str(TOY), "--help"], capture_output=True, text=True).stdout
    flat = " ".join(help_text.split())
    assert "one run per file" in flat and "moved to PATH.1" in flat, help_text
