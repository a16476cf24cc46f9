"""Export the RL workflows and run the generated programs (subprocesses, CPU, 1 thread)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dnne.codegen.export import export_workflow

ROOT = Path(__file__).parents[2]
# The original DNNE's Cartpole workflow: our own copy in its saved format (always there), and the original file
# itself where ../shared is present (an extra check; it skips in a plain clone).
ORIGINAL_FIXTURE = ROOT / "tests" / "fixtures" / "original_dnne" / "Cartpole_PPO.json"
ORIGINAL_SHARED = ROOT.parent / "shared" / "workflows" / "original-dnne" / "Cartpole_PPO.json"
ORIGINALS = [
    pytest.param(ORIGINAL_FIXTURE, id="fixture"),
    pytest.param(
        ORIGINAL_SHARED,
        id="shared",
        marks=pytest.mark.skipif(not ORIGINAL_SHARED.is_file(), reason="../shared (the original file) is not here"),
    ),
]


def export_and_run(workflow, tmp_path, *args, catalog, timeout=300):
    out = tmp_path / "export"
    export_workflow(workflow, out, catalog=catalog)
    run_dir = tmp_path / "run"
    cmd = [sys.executable, str(out / "runner.py"), "--run-dir", str(run_dir), "--threads", "1", "--quiet", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return proc, records, wall, out, run_dir


def firings(records):
    stats = next(r for r in records if r.get("event") == "stats")
    return {n["class"]: n["firings"] for n in stats["nodes"]}


def updates(records):
    return [r for r in records if "update" in r]


def final(records):
    return next(r for r in records if r.get("done") is True)


@pytest.mark.parametrize("original", ORIGINALS)
def test_original_cartpole_workflow_runs_unchanged_without_deadlock(tmp_path, rl_catalog, original):
    proc, records, wall, _, _ = export_and_run(original, tmp_path, "--max-steps", "3000", catalog=rl_catalog)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if not torch.cuda.is_available():
        assert "CUDA is not available" in proc.stderr  # the saved device 'cuda' falls back to CPU
    fired = firings(records)
    assert fired["IsaacGymStepNode"] == 3000  # every step reached the simulator
    assert fired["PPOTrainerNode"] == 3000 and fired["PPOAgentNode"] == 3001
    done = final(records)
    assert done["reason"] == "max_steps" and done["env_steps"] == 3000
    curve = [(r["env_steps"], r["last10_episode_length"]) for r in updates(records) if r["episodes"] >= 10]
    print("original Cartpole_PPO (1 env) curve, env_steps → mean length of the last 10 episodes:", curve[::20])
    early = sum(v for _, v in curve[:10]) / 10
    late = sum(v for _, v in curve[-10:]) / 10
    assert late > early  # it learns, even with 1 env and the original settings


def test_ant_example_trains_a_few_updates(tmp_path, rl_catalog):
    pytest.importorskip("mujoco")
    proc, records, wall, _, run_dir = export_and_run(
        ROOT / "examples" / "ant_ppo.json", tmp_path, "--max-steps", "1024", catalog=rl_catalog
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(updates(records)) == 1  # 8 envs × horizon 128 = 1024 transitions per update
    assert final(records)["env_steps"] == 1024
    assert [r["event"] for r in updates(records)] == ["update"] and final(records)["event"] == "summary"
    assert records[-1]["event"] == "done"  # like every runner: records are selected by their `event`
    assert firings(records)["IsaacGymStepNode"] == 128


def test_realtime_paces_to_the_env_dt(tmp_path, rl_catalog):
    args = ("--num-envs", "2", "--max-steps", "60", "--realtime")  # 30 vector steps of 1/60 s
    proc, records, wall, _, _ = export_and_run(
        ROOT / "examples" / "cartpole_ppo.json", tmp_path, *args, catalog=rl_catalog
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert final(records)["wall_s"] >= 30 / 60 * 0.9


def test_render_writes_png_frames(tmp_path, rl_catalog):
    pytest.importorskip("mujoco")
    args = ("--num-envs", "1", "--max-steps", "3", "--render")
    proc, records, wall, _, run_dir = export_and_run(
        ROOT / "examples" / "ant_ppo.json", tmp_path, *args, catalog=rl_catalog
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    frames = sorted((run_dir / "frames").glob("frame_*.png"))
    if not frames:
        pytest.skip("no offscreen OpenGL here: " + proc.stdout[-300:])
    assert len(frames) == 3 and frames[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_cartpole_example_solves_then_runs_inference(tmp_path, rl_catalog):
    proc, records, wall, export_dir, run_dir = export_and_run(
        ROOT / "examples" / "cartpole_ppo.json", tmp_path, "--max-steps", "5000000", catalog=rl_catalog
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    done = final(records)
    print(
        f"cartpole example solved: {done['env_steps']} env steps, {done['wall_s']} s in the graph, {wall:.1f} s total"
    )
    assert done["reason"] == "done" and done["mean_episode_length"] >= 475
    assert (run_dir / "checkpoints" / "latest" / "checkpoint.json").is_file()
    assert (run_dir / "learning_curve.png").is_file()

    inf_dir = tmp_path / "inference"
    cmd = [sys.executable, str(export_dir / "runner.py"), "--inference", "--resume", str(run_dir / "checkpoints"),
           "--max-steps", "300000", "--run-dir", str(inf_dir), "--quiet"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recs = [json.loads(line) for line in (inf_dir / "metrics.jsonl").read_text().splitlines()]
    inference = final(recs)
    print(f"inference: mean return {inference['mean_return']:.1f} over {inference['episodes']} episodes")
    assert inference["mode"] == "inference" and inference["mean_return"] > 400


@pytest.mark.slow  # two runner processes: about 10 s on a quiet machine, 25 s when loaded
def test_same_seed_gives_the_same_run(tmp_path, rl_catalog):
    example = ROOT / "examples" / "cartpole_ppo.json"
    args = ("--num-envs", "16", "--max-steps", "2048", "--seed", "7")
    curves = []
    for i in range(2):
        proc, records, *_ = export_and_run(example, tmp_path / str(i), *args, catalog=rl_catalog)
        assert proc.returncode == 0, proc.stderr[-3000:]
        curves.append([(r["env_steps"], r["loss"], r["mean_return"]) for r in updates(records)])
    assert curves[0] == curves[1] and len(curves[0]) == 8  # 16 envs × horizon 16 per update


def test_sigint_stops_at_a_step_boundary_with_a_checkpoint(tmp_path, rl_catalog):
    import signal

    out, run_dir = tmp_path / "export", tmp_path / "sigint"
    export_workflow(ROOT / "examples" / "cartpole_ppo.json", out, catalog=rl_catalog)
    cmd = [sys.executable, str(out / "runner.py"), "--run-dir", str(run_dir), "--quiet", "--num-envs", "16"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    metrics = run_dir / "metrics.jsonl"
    while time.monotonic() < deadline and not (metrics.is_file() and '"update"' in metrics.read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    latest = run_dir / "checkpoints" / "latest"
    assert (latest / "checkpoint.json").is_file()
    assert {p.name for p in latest.iterdir() if p.name.startswith("node_")} == {"node_3", "node_6"}  # policy, optimizer
