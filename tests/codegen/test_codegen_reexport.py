"""Re-exporting never deletes or silently overwrites what the user or a run wrote (security review, item 2).

Only the files dnne generates (listed in .dnne-export.json) are replaced, each atomically; runs/, checkpoints and
user files stay; a hand-edited config.json is kept (W_CONFIG_KEPT, the new one as config.json.new) unless --force.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testpack import chain_graph

from dnne.codegen.export import export_graph, export_workflow
from dnne.codegen.writer import MANIFEST, read_manifest, read_tree

REPO = Path(__file__).resolve().parents[2]
CARTPOLE = REPO / "examples" / "cartpole_ppo.json"


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}


def _runner(export: Path, *args: str) -> list[str]:
    return [sys.executable, "runner.py", "--quiet", "--device", "cpu", *args]


def _dnne_export(out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "dnne", "export", str(CARTPOLE), "-o", str(out), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _files_under(root: Path) -> dict[str, bytes]:
    return read_tree(root) if root.is_dir() else {}


def test_every_example_has_its_own_workflow_id():
    ids = {p.stem: json.loads(p.read_text()).get("id") for p in sorted((REPO / "examples").glob("*.json"))}
    assert all(isinstance(i, str) and i for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids), f"examples share a workflow id: {ids}"


def test_config_json_carries_the_workflow_id(tmp_path):
    result = export_workflow(json.loads(CARTPOLE.read_text()), tmp_path / "out")
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["workflow_id"] == json.loads(CARTPOLE.read_text())["id"] == result.workflow_id


def test_reexport_keeps_user_files_and_removes_only_stale_generated_files(tmp_path):
    out = tmp_path / "out"
    export_graph(chain_graph(count=2), out)
    (out / "notes.md").write_text("mine")
    (out / "dnne_runtime" / "my_helper.py").write_text("# mine too")
    # a generated file the next export no longer makes: removed; the same one edited by the user: kept
    manifest = json.loads((out / MANIFEST).read_text())
    (out / "dnne_runtime" / "gone.py").write_text("old generated\n")
    (out / "dnne_runtime" / "edited.py").write_text("old generated\n")
    manifest["files"]["dnne_runtime/gone.py"] = hashlib.sha256(b"old generated\n").hexdigest()
    manifest["files"]["dnne_runtime/edited.py"] = hashlib.sha256(b"old generated\n").hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / "dnne_runtime" / "edited.py").write_text("changed by the user\n")
    runner_before = (out / "runner.py").stat().st_ino
    result = export_graph(chain_graph(count=5), out)
    assert (out / "notes.md").read_text() == "mine"
    assert (out / "dnne_runtime" / "my_helper.py").read_text() == "# mine too"
    assert not (out / "dnne_runtime" / "gone.py").exists()
    assert (out / "dnne_runtime" / "edited.py").read_text() == "changed by the user\n"
    assert json.loads((out / "config.json").read_text())["nodes"]["1"]["count"] == 5
    assert sorted(read_manifest(out)) == result.files
    assert (out / "runner.py").stat().st_ino == runner_before  # unchanged files are not rewritten
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_hand_edited_config_is_kept_and_said_so_force_replaces_it_keeping_a_copy(tmp_path):
    out = tmp_path / "out"
    export_graph(chain_graph(count=2), out)
    config = out / "config.json"
    edited = config.read_text().replace('"factor": 0.5', '"factor": 0.25')
    config.write_text(edited)
    result = export_graph(chain_graph(count=5), out)
    kept = [d for d in result.diagnostics if d.code == "W_CONFIG_KEPT"]
    assert kept and result.kept_config and "config.json.new" in kept[0].message and "--force" in kept[0].hint
    assert config.read_text() == edited
    assert json.loads((out / "config.json.new").read_text())["nodes"]["1"]["count"] == 5
    # again: still kept (the manifest still knows what dnne generated), still said
    result = export_graph(chain_graph(count=5), out)
    assert config.read_text() == edited and any(d.code == "W_CONFIG_KEPT" for d in result.diagnostics)
    result = export_graph(chain_graph(count=5), out, force=True)
    assert json.loads(config.read_text())["nodes"]["1"]["count"] == 5
    assert (out / "config.json.edited").read_text() == edited
    assert any(d.code == "W_CONFIG_REPLACED" for d in result.diagnostics)
    assert not (out / "config.json.new").exists()  # it was generated and is no longer needed
    # an unedited config.json follows the workflow silently
    result = export_graph(chain_graph(count=7), out)
    assert json.loads(config.read_text())["nodes"]["1"]["count"] == 7 and not result.kept_config


def test_export_made_before_manifests_keeps_a_differing_config(tmp_path):
    out = tmp_path / "out"
    export_graph(chain_graph(count=2), out)
    (out / MANIFEST).unlink()
    (out / "runs").mkdir()
    (out / "runs" / "metrics.jsonl").write_text("{}\n")
    result = export_graph(chain_graph(count=5), out)
    assert result.kept_config  # no record of what was generated: a difference may be a hand edit
    assert (out / "runs" / "metrics.jsonl").read_text() == "{}\n"


def test_cli_export_help_and_force(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, "-m", "dnne", "export", "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert "--force" in proc.stdout and "config.json.new" in proc.stdout and "runs/" in proc.stdout


def _wait_for(predicate, what: str, proc: subprocess.Popen, limit: float = 240.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"runner exited {proc.returncode} before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_reexport_during_and_after_runs_keeps_runs_and_checkpoints_and_resume_works(tmp_path):
    out = tmp_path / "export"
    assert export_workflow(json.loads(CARTPOLE.read_text()), out).out_dir == out
    # a first run, in the export folder with the default run dir (runs/<timestamp>/ inside the export)
    first = subprocess.run(
        _runner(out, "--max-steps", "4096"), cwd=out, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    runs_before = _files_under(out / "runs")
    assert any(p.endswith("checkpoint.json") for p in runs_before), sorted(runs_before)
    # a second run; re-export (from the CLI: runner.py's header changes, so it is rewritten) while it trains
    metrics = tmp_path / "m.jsonl"
    proc = subprocess.Popen(
        _runner(out, "--run-dir", "runs/second", "--metrics", str(metrics)),
        cwd=out,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: metrics.is_file() and metrics.read_text().count("\n") >= 2, "training started", proc)
        runner_text = (out / "runner.py").read_bytes()
        export = _dnne_export(out)
        assert export.returncode == 0, export.stderr
        assert (out / "runner.py").read_bytes() != runner_text  # the generated file really was replaced mid-run
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 143, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    checkpoint = out / "runs" / "second" / "checkpoints"
    assert any(checkpoint.rglob("checkpoint.json"))
    # every file of the first run is still there, byte for byte; then re-export again between runs
    after = _files_under(out / "runs")
    assert {k: after.get(k) for k in runs_before} == runs_before
    assert _dnne_export(out).returncode == 0
    assert {k: _files_under(out / "runs").get(k) for k in after} == after
    resumed = subprocess.run(
        _runner(out, "--resume", "runs/second/checkpoints", "--run-dir", "runs/third", "--max-steps", "8192"),
        cwd=out,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
