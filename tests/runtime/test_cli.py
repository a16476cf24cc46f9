"""run_main: flags, config loading, seeds, device, run dir, metrics records and exit codes (in-process)."""

from __future__ import annotations

import json
import random

import pytest

from dnne.runtime import Input, QueueNode, parse_duration, run_main
from dnne.runtime.flags import parse_args

from .nodes import Collect, Count

pytestmark = pytest.mark.timeout(60)


class Seen(QueueNode):
    """Records what it can see of the run context, then stops the graph."""

    OUTPUTS = ()
    last = None

    def __init__(self, node_id, title="seen", *, tag="x"):
        super().__init__(node_id, title)
        self.tag = tag

    async def compute(self):
        import torch

        Seen.last = {
            "tag": self.tag,
            "seed": self.ctx.seed,
            "device": str(self.ctx.device),
            "threads": torch.get_num_threads(),
            "rand": random.random(),
            "epochs": self.ctx.args.epochs,
            "run_dir": self.ctx.run_dir,
        }
        self.ctx.metrics.write({"event": "custom", "value": torch.tensor(1.5)})


def build(runner, config):
    runner.add(Seen("1", **config["nodes"]["1"]))


def write_config(tmp_path, **extra):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"workflow": "w", "nodes": {"1": {"tag": "hello"}}, **extra}))
    return path


def test_parse_duration():
    assert parse_duration("30s") == 30 and parse_duration("5m") == 300 and parse_duration("1h30m") == 5400
    assert parse_duration("90") == 90 and parse_duration("1.5") == 1.5
    for bad in ("", "abc", "5x", "0", "m"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


def test_all_flags_parse():
    args = parse_args(
        "--epochs 3 --max-steps 100 --device cpu --seed 5 --threads 2 --data-dir d --checkpoint-dir c --resume "
        "--timeout 1h30m --quiet --metrics m.jsonl --run-dir r --inference --num-envs 16 --render --realtime "
        "--stall-timeout 2m --tensorboard --config x.json --verbose".split()
    )
    assert (args.epochs, args.max_steps, args.device, args.seed, args.threads) == (3, 100, "cpu", 5, 2)
    assert (args.timeout, args.stall_timeout, args.resume, args.num_envs) == (5400, 120, "", 16)
    assert args.quiet and args.inference and args.render and args.realtime and args.tensorboard and args.verbose
    legacy = parse_args("--fixed-seed 9 --save-checkpoint-dir s --load-checkpoint-dir l --test-mode".split())
    assert (legacy.seed, legacy.checkpoint_dir, legacy.resume, legacy.timeout) == (9, "s", "l", 30.0)
    defaults = parse_args([])
    assert defaults.device == "auto" and defaults.threads == 1 and defaults.seed is None and defaults.resume is None


def test_run_main_records_seed_device_run_dir_and_metrics(tmp_path, capsys):
    config = write_config(tmp_path, seed=21)
    argv = ["--run-dir", str(tmp_path / "run"), "--metrics", str(tmp_path / "m.jsonl"), "--epochs", "4", "--quiet"]
    assert run_main(build, config_path=config, argv=argv) == 0
    seen = Seen.last
    assert seen["tag"] == "hello" and seen["seed"] == 21 and seen["epochs"] == 4
    assert seen["device"] == "cpu" and seen["threads"] == 1
    random.seed(21)
    assert seen["rand"] == random.random()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["seed"] == 21
    for path in (tmp_path / "m.jsonl", tmp_path / "run" / "metrics.jsonl"):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        assert records[0]["event"] == "start" and records[0]["seed"] == 21
        assert {"event": "custom", "value": 1.5}.items() <= records[1].items()
        assert records[-1]["event"] == "done" and records[-1]["reason"] == "done" and records[-1]["exit_code"] == 0
    assert capsys.readouterr().err == "run ended: done (exit 0)\n"  # --quiet: the one-line summary only


def test_seed_flag_overrides_config_and_defaults_to_zero(tmp_path):
    config = write_config(tmp_path, seed=21)
    assert run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "a"), "--seed", "8", "-q"]) == 0
    assert Seen.last["seed"] == 8
    config = write_config(tmp_path)
    assert run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "b"), "-q"]) == 0
    assert Seen.last["seed"] == 0


def test_default_run_dir_is_timestamped_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path)
    assert run_main(build, config_path=config, argv=["-q"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert Seen.last["run_dir"] == run_dir.relative_to(tmp_path) or Seen.last["run_dir"] == run_dir
    assert (run_dir / "metrics.jsonl").is_file() and (run_dir / "config.json").is_file()


def test_cuda_requested_without_cuda_falls_back_with_a_warning(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    config = write_config(tmp_path)
    assert run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "r"), "--device", "cuda", "-q"]) == 0
    assert Seen.last["device"] == "cpu"
    assert "--device cuda requested but CUDA is not available; using cpu" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "config file not found"),
        ("{bad json", "is not valid JSON: line 1 column 2"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"seed": "x", "nodes": {}}', "seed in"),
    ],
)
def test_config_problems_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    assert run_main(build, config_path=path, argv=["--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err


def test_build_error_and_usage_errors_exit_2(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"nodes": {"1": {"tag": "a", "unknown_param": 1}}}))
    assert run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"error: {config}: node 1 (Seen): unknown parameter 'unknown_param'" in err
    assert json.loads((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()[-1])["exit_code"] == 2
    assert run_main(build, config_path=config, argv=["--threads", "0"]) == 2
    assert "expected an integer ≥ 1" in capsys.readouterr().err
    assert run_main(build, config_path=config, argv=["--help"]) == 0
    assert "exit codes: 0 done, 1 node error" in capsys.readouterr().out


def test_unwritable_checkpoint_dir_is_a_clear_usage_error(tmp_path, capsys):
    config = write_config(tmp_path)
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    argv = ["--run-dir", str(tmp_path / "r"), "--checkpoint-dir", str(blocker / "ck")]
    assert run_main(build, config_path=config, argv=argv) == 2
    assert f"cannot create the checkpoint directory {blocker / 'ck'}" in capsys.readouterr().err


def test_resume_without_a_checkpoint_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `--resume` alone / `latest` look in ./runs
    config = write_config(tmp_path)
    assert run_main(build, config_path=config, argv=["--run-dir", str(tmp_path / "r"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--resume: no run under runs/ has a checkpoint yet" in err and "Traceback" not in err, err
    argv = ["--run-dir", str(tmp_path / "r"), "--resume", str(tmp_path / "nothing")]
    assert run_main(build, config_path=config, argv=argv) == 2
    assert f"--resume: no folder at {tmp_path / 'nothing'}; pass a run folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    argv = ["--run-dir", str(tmp_path / "r"), "--resume", str(tmp_path / "empty")]
    assert run_main(build, config_path=config, argv=argv) == 2
    err = capsys.readouterr().err
    assert f"--resume {tmp_path / 'empty'}: no checkpoint in it" in err and "run ended" not in err, err


def test_timeout_ends_with_exit_0_and_reason_timeout(tmp_path):
    def build_forever(runner, config):
        src = runner.add(Count("1", delay=0.01))
        runner.connect(src, "x", runner.add(Collect("2")), "x")

    config = write_config(tmp_path)
    argv = ["--run-dir", str(tmp_path / "r"), "--timeout", "0.3", "-q"]
    assert run_main(build_forever, config_path=config, argv=argv) == 0
    done = json.loads((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()[-1])
    assert done["reason"] == "timeout" and done["exit_code"] == 0 and 0.3 <= done["wall_s"] < 5


def test_inference_turns_gradients_off_and_writes_no_checkpoint(tmp_path):
    import torch

    class Grad(QueueNode):
        INPUTS = {"x": Input.CONSUME}
        enabled = None

        async def compute(self, x):
            Grad.enabled = torch.is_grad_enabled()

        def state_dict(self):
            return {"w": torch.ones(1)}, {}

    def build_grad(runner, config):
        runner.connect(runner.add(Count("1", n=1)), "x", runner.add(Grad("2")), "x")

    config = write_config(tmp_path)
    try:
        assert (
            run_main(build_grad, config_path=config, argv=["--run-dir", str(tmp_path / "r"), "--inference", "-q"]) == 0
        )
    finally:
        torch.set_grad_enabled(True)
    assert Grad.enabled is False
    assert not (tmp_path / "r" / "checkpoints").exists()
